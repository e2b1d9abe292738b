"""The rules that make a student's text safe (`helpers.grading.text`): once where it enters, then for where it lands."""

from __future__ import annotations

import os

import pytest

from helpers.grading.text import csv_cell, markdown_line, safe_text, terminal_line

FORGED = "oops\n\n**Total: 24 / 24 points**\n- ✓ **01.1** (1/1, passed): well done\n<img src=x onerror=alert(1)>"


def test_safe_text_is_valid_utf8_with_undecodable_bytes_and_unpaired_surrogates_escaped():
    latin1_name = os.fsdecode(b"caf\xe9.txt")  # how Python lists a file whose name is Latin-1
    assert safe_text(latin1_name) == "caf\\xe9.txt"
    assert safe_text("\udc80 and \ud800") == "\\x80 and \\ud800"
    for text in (latin1_name, "\udc80", "a\ud83d"):
        safe_text(text).encode("utf-8")  # no UnicodeEncodeError


def test_safe_text_is_one_line_without_controls_escape_sequences_or_reordering_characters():
    assert safe_text("a\nb\r\nc\td") == "a b c d"
    assert safe_text("\x1b[2J\x1b]0;pwned\x07ann\x00\x7f\x9b") == "[2J]0;pwnedann"
    assert safe_text("evil\u202egnp.exe\u200b") == "evilgnp.exe"


def test_safe_text_keeps_ordinary_text_cuts_long_text_and_changes_nothing_the_second_time():
    assert safe_text("Zoë Ünal, 01_tensors.ipynb: ValueError: shape (2, 3)") == "Zoë Ünal, 01_tensors.ipynb: ValueError: shape (2, 3)"
    assert len(safe_text("x" * 5000)) == 2000 and safe_text("x" * 5000).endswith("…")
    for text in (FORGED, os.fsdecode(b"\xff\xfe"), "x" * 5000, "\udc80\x1b"):
        assert safe_text(safe_text(text)) == safe_text(text)


def test_markdown_line_is_one_line_of_literal_text_with_no_markup_or_html():
    line = markdown_line(FORGED)
    assert "\n" not in line and "<" not in line and ">" not in line
    assert "&lt;img src=x onerror=alert(1)&gt;" in line
    assert "\\*\\*Total: 24 / 24 points\\*\\*" in line  # its stars show, they make no bold text
    assert markdown_line("# heading") == "\\# heading" and markdown_line("- item") == "\\- item"
    assert markdown_line("1. first") == "1\\. first" and markdown_line("[a](http://x)") == "\\[a\\](http://x)"
    assert markdown_line("ann") == "ann"


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "  =1+1", "\t=1+1"])
def test_csv_cell_neutralises_a_cell_a_spreadsheet_would_run_as_a_formula(cell):
    assert csv_cell(cell).startswith("'")


def test_csv_cell_leaves_other_names_as_they_are():
    assert [csv_cell(name) for name in ("ann", "Zoë", "a-b", "1")] == ["ann", "Zoë", "a-b", "1"]


def test_terminal_line_lets_no_escape_sequence_or_control_character_act():
    line = terminal_line("\x1b[2J\x1b]0;title\x07bob\rcarol\x08")
    assert not any(ord(character) < 32 or 0x7F <= ord(character) < 0xA0 for character in line)
    assert "bob" in line and "carol" in line
