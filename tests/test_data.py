"""The data files are the ones data/README.md documents: same bytes, same shape, every file listed."""

import csv
import hashlib
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
README = DATA / "README.md"

# name: (sha256, rows without the header, header). data/README.md must say the same.
FILES = {
    "engel.csv": ("796c3da0406291dd324c51901b51386be12b5f52e330afaf69584f57c06ad45c", 235, ["income", "foodexp"]),
    "penguins.csv": ("f204db2c753b0937caac3cb35258562c14f073e4bbc76be24b4c51ce22767a93", 344,
                     ["species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"]),
    "stackloss.csv": ("7395953d62eec7abab783ae9603ff82f091d04a4689780e455c239f0f5509f64", 21,
                      ["STACKLOSS", "AIRFLOW", "WATERTEMP", "ACIDCONC"]),
}
# name: (the package it ships in, the licence, a phrase of the licence statement quoted in its section).
SOURCES = {
    "engel.csv": ("statsmodels 0.14.4", "public domain", "COPYRIGHT"),
    "penguins.csv": ("palmerpenguins 0.1.6", "CC0", "Data are available by"),
    "stackloss.csv": ("statsmodels 0.14.4", "public domain", "COPYRIGHT"),
}
# Columns that hold words, not numbers; every other column holds numbers.
TEXT_COLUMNS = {"penguins.csv": {"species", "island", "sex"}}
# name: {column: how many of its values are missing, written `NA`}; a file not listed has none missing.
MISSING = {"penguins.csv": {"bill_length_mm": 2, "bill_depth_mm": 2, "flipper_length_mm": 2, "body_mass_g": 2, "sex": 11}}
files = pytest.mark.parametrize("name", sorted(FILES))


def readme_table() -> dict[str, list[str]]:
    """The rows of README's file table, by file name: the cells of each row, stripped."""
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([^`]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_readme_lists_every_file_in_data_and_nothing_else():
    present = sorted(p.name for p in DATA.iterdir() if p.name != "README.md")
    assert sorted(readme_table()) == present, "list every file of data/ in data/README.md's table"
    assert sorted(FILES) == present, "add the file's hash and shape to FILES in this test"


@files
def test_file_has_the_documented_hash(name):
    expected = FILES[name][0]
    assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == expected
    assert f"`{expected}`" in readme_table()[name], "data/README.md gives another hash"


@files
def test_file_has_the_documented_rows_and_columns(name):
    _, rows, header = FILES[name]
    with open(DATA / name, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == header
    body = lines[1:]
    assert len(body) == rows
    assert all(len(line) == len(header) for line in body)
    for index, column in enumerate(header):
        values = [line[index] for line in body]
        present = [value for value in values if value != "NA"]
        assert len(values) - len(present) == MISSING.get(name, {}).get(column, 0), f"{column}: missing values"
        if column not in TEXT_COLUMNS.get(name, set()):
            assert all(float(value) == float(value) for value in present), f"{column}: not all numbers"
    assert f"{rows} × {len(header)}" in readme_table()[name], "data/README.md gives another shape"


@files
def test_readme_gives_source_licence_and_units(name):
    row = readme_table()[name]
    package, licence, statement = SOURCES[name]
    assert package in row[1] and licence in row[2]
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
    for part in ("**Columns and units", "**Original publication:**", "**Licence:**", statement, "**Where it came from:**"):
        assert part in section, f"{name}: data/README.md lacks {part}"
