"""The catalogue of mistake ids (helpers.checks.catalogue): every recognised mistake has one id, every id one mistake.

Run with `-s` to see the catalogue: each id with the exercise (or notebook) it belongs to, where it
is named, and its hint. The exercise contract (tests/exercise_contract.py) proves that each planted
mistake of each notebook yields an id from this catalogue, the one whose hint it gets.
"""

import ast
import collections
from pathlib import Path

import torch

from helpers.checks import EXERCISES, check
from helpers.checks.catalogue import CHECKS, all_entries, hint_of, template
from helpers.checks.hints import UNNAMED_ID, Hint, mistake, mistake_of


def test_the_catalogue_lists_every_id_with_its_exercise_and_hint(capsys):
    entries = all_entries()
    with capsys.disabled():
        print(f"\n{len({e.id for e in entries})} mistake ids")
        for entry in entries:
            print(f"  {entry.id:60} {entry.owner or 'course-wide':12} {entry.where:14} {entry.hint[:90]}")
    assert len({e.id for e in entries}) > 300
    for entry in entries:
        assert entry.id and " " not in entry.id and entry.id == entry.id.lower(), entry
        assert entry.hint.strip(" …"), entry
        if entry.owner:  # an exercise's own id names an exercise (or a notebook) that exists
            assert any(key == entry.owner or key.startswith(entry.owner + ".") for key in EXERCISES), entry


def test_no_id_names_two_different_mistakes():
    hints = collections.defaultdict(set)
    for entry in all_entries():
        hints[entry.id].add(entry.hint)
    shared = {key: sorted(texts) for key, texts in hints.items() if len(texts) > 1}
    assert not shared, shared


def test_an_exercise_id_is_named_only_in_its_own_notebook_module():
    for entry in all_entries():
        if entry.owner:
            assert entry.where.startswith(f"nb{entry.owner[:2]}.py:"), entry


def hint_like(node) -> bool:
    """A returned str literal, f-string or a sum of them: a hint a judge gives."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and (hint_like(node.left) or hint_like(node.right))


# Functions that return text that is a piece of a hint, not a hint.
PIECES = {"ordinal", "where", "type_name", "with_article", "account", "call_repr", "describe", "shown", "public_text", "hidden_text",
          "format_number"}


def test_every_hint_a_judge_returns_carries_an_id():
    """A recognised mistake without an id: a judge returning bare text (wrap it: mistake("NN.K/slug", text))."""
    bare = []
    for path in [CHECKS / "judges.py", CHECKS / "rules.py", *sorted(CHECKS.glob("nb*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name not in PIECES]:
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None and hint_like(node.value):
                    bare.append(f"{path.name}:{node.lineno} {function.name}: {template(node.value)[:60]}")
    assert not bare, "\n".join(bare)


def test_a_hint_keeps_its_id_when_text_is_added_after_it():
    hint = mistake("01.3/example", "a roll of 0 came up.")
    assert mistake_of(hint + " More.") == "01.3/example"
    assert mistake_of(Hint(hint)) == "01.3/example"
    assert mistake_of("bare text") == UNNAMED_ID and mistake_of(None) == ""


def test_the_check_result_carries_the_id_and_the_learner_sees_only_the_hint():
    result = check("01.3", lambda n: torch.randint(0, 7, (n,)))
    assert result.mistake == "01.3/low-bound-included"
    assert "01.3/" not in repr(result) and "01.3/" not in result._repr_html_()


def test_raw_errors_are_named_by_their_kind():
    assert check("01.1", lambda t: undefined_name).mistake == "error/NameError"  # noqa: F821 - the learner's slip
    assert check("01.1").mistake == "not-attempted"
    assert check("01.1", 3).mistake == "not-a-function"
    assert check("02.4", lambda t: t.t().view(-1)).mistake == "view-non-contiguous"


def test_every_named_id_has_a_hint_for_the_report():
    for entry in all_entries():
        assert hint_of(entry.id) == next(e.hint for e in all_entries() if e.id == entry.id)
    assert "NameError" in hint_of("error/NameError")
    assert hint_of("timeout") and hint_of("not-attempted")


def test_every_notebook_module_is_read():
    modules = {path.name for path in Path(CHECKS).glob("nb*.py")}
    named = {entry.where.split(":")[0] for entry in all_entries()}
    assert modules <= named, modules - named
