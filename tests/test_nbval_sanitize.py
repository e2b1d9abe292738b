"""The nbval sanitiser file: nbval silently drops a malformed rule, so every rule is checked here."""

import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

SANITIZER = Path(__file__).parent / "nbval_sanitize.cfg"
TEXT = SANITIZER.read_text(encoding="utf-8")
RULES = get_sanitize_patterns(TEXT)

# What each rule must turn into what, in the order the rules appear in the file.
EXAMPLES = [
    ("<SumBackward0 object at 0x7f3a2c1b9e80>", "<SumBackward0 object at 0xADDRESS>"),
    ("one step took 12.5 ms per step", "one step took TIME per step"),
]


def test_nbval_reads_every_regex_line_as_a_rule():
    regex_lines = [line for line in TEXT.splitlines() if line.startswith("regex")]
    replace_lines = [line for line in TEXT.splitlines() if line.startswith("replace")]
    assert len(RULES) == len(regex_lines) == len(replace_lines) == len(EXAMPLES)


def test_no_line_looks_like_a_rule_but_is_malformed():
    for line in TEXT.splitlines():
        if re.match(r"\s*(regex|replace)\b", line):
            assert re.match(r"(regex|replace): \S", line), f"malformed rule line: {line!r}"


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_each_rule_replaces_its_example(index):
    regex, replace = RULES[index]
    before, after = EXAMPLES[index]
    assert re.sub(regex, replace, before) == after


def test_rules_leave_ordinary_tensor_output_alone():
    text = "tensor([[0.4963, 0.7682, 0.0885]]) loss 0.074812 step 10"
    for regex, replace in RULES:
        assert re.sub(regex, replace, text) == text
