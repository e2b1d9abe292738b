"""Reading a submitted notebook: every broken file becomes a reason, never a crash."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from helpers.grading.notebook import SubmissionError, code_sources, notebook_number, reaches_for_references, read_submission


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "empty"), (b"{not json", "not valid JSON"), (b"[1, 2]", "not a Jupyter notebook"), (b'{"nbformat": 4, "cells": 7}', "cannot be read")],
)
def test_broken_files_are_refused_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "01_x.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=reason):
        read_submission(path)


def test_a_symlink_is_not_followed(tmp_path):
    (tmp_path / "01_x.ipynb").symlink_to("/etc/hostname")
    with pytest.raises(SubmissionError, match="regular file"):
        read_submission(tmp_path / "01_x.ipynb")


def test_an_old_nbformat_is_upgraded_with_a_note(tmp_path):
    path = tmp_path / "01_x.ipynb"
    path.write_text(nbformat.writes(nbformat.convert(new_notebook(cells=[new_code_cell("x = 1")]), 3)))
    nb, notes = read_submission(path)
    assert code_sources(nb) == ["x = 1"] and "nbformat 3" in notes[0]


def test_notebook_numbers_come_from_the_file_name(tmp_path):
    assert notebook_number(tmp_path / "01_tensors.ipynb") == "01"
    assert notebook_number(tmp_path / "index.ipynb") is None and notebook_number(tmp_path / "01_x.txt") is None


def test_code_that_reaches_for_the_reference_solutions_is_named():
    assert reaches_for_references(["x = 1", "from helpers.checks.nb01 import rank_of"]).startswith("from helpers")
    assert reaches_for_references(["from helpers import check, setup\ncheck('01.1', f)"]) is None
