"""What the notebooks cost: the nbval suite against its floor, each notebook's own compute, explorer updates.

    .venv/bin/python benchmarks/bench_notebooks.py [--repeats 3]

The floor of a notebook is what no notebook can go under: starting a kernel and importing what
that notebook imports (every `import` of its code cells, run as one cell). Measured here, each the
median of REPEATS runs, one notebook at a time with nbclient:
  suite_vs_floor          wall time of the nbval suite as `make test-notebooks` runs it (2 workers)
                          divided by the sum of the notebooks' floors;
  slowest_notebook_own_s  the largest (whole notebook - its floor);
  widget_update_ms_max    the slowest explorer update: every control of every `interact` moved as a
                          learner moves it (its function runs and its figure is drawn), in the kernel;
                          each control's median over MOVES_PER_CONTROL moves (and, beside it, the
                          median CPU time of the kernel per move, which a busy machine changes less);
  notebook_run_log_lines  lines written to stderr by all those runs, each in a Python process of its own
                          with its kernel (benchmarks/run_apart.py): a clean run and shutdown write none.
Prints one JSON object (figures and per-notebook details) on stdout.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from run_apart import execute_apart

REPO = Path(__file__).resolve().parent.parent
MOVES_PER_CONTROL = 20  # there and back 10 times; with 6, 02's `cols` read 63.7 ms in one run and 104.2 ms in the next
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

# Run in the notebook's kernel after its last cell: move every control of every interact widget
# to another value and back, timing each move (the function runs and its figure is drawn).
MOVE_EVERY_CONTROL = r'''
_MOVES = __MOVES__
import json as _json, math as _math, statistics as _statistics, time as _time
import ipywidgets as _widgets
from ipywidgets.widgets.widget import _instances as _all_widgets

def _other_values(control):
    """Two values a learner could move this control to, away from where it is."""
    if isinstance(control, _widgets.Checkbox):
        return [not control.value, control.value]
    if hasattr(control, "options"):
        values = [v[1] if isinstance(v, tuple) else v for v in control.options]
        return [values[(values.index(control.value) + 1) % len(values)], control.value]
    if isinstance(control, _widgets.FloatLogSlider):  # its min, max and step are exponents of its base
        exponent = _math.log(control.value, control.base)
        near = exponent + control.step if exponent + control.step <= control.max else exponent - control.step
        return [control.base ** near, control.value]
    if hasattr(control, "min") and hasattr(control, "max"):
        step = getattr(control, "step", None) or (control.max - control.min) / 10
        near = control.value + step if control.value + step <= control.max else control.value - step
        return [near, control.value]
    return []

_timings = []
for _widget in list(_all_widgets.values()):
    if not isinstance(_widget, _widgets.interactive):
        continue
    for _control in _widget.kwargs_widgets:
        _spent, _cpu = [], []
        _values = _other_values(_control)
        for _move in range(_MOVES if _values else 0):
            _started, _cpu_started = _time.perf_counter(), _time.process_time()
            _control.value = _values[_move % len(_values)]
            _spent.append((_time.perf_counter() - _started) * 1000)
            _cpu.append((_time.process_time() - _cpu_started) * 1000)
        if _spent:
            _timings.append({"control": _control.description or type(_control).__name__, "moves": len(_spent),
                             "median_ms": round(_statistics.median(_spent), 1), "max_ms": round(max(_spent), 1),
                             "cpu_median_ms": round(_statistics.median(_cpu), 1)})
print("BENCH-WIDGETS " + _json.dumps(_timings))
'''


def imports_of(nb: nbformat.NotebookNode) -> str:
    """Every import statement of the notebook's code cells, as one cell's source."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(lines))


def run_cells(sources: list[str], folder: Path, logged: list[str]) -> tuple[float, list[str]]:
    """Seconds to start a kernel in `folder`, run the cells and stop it (in a process of its own); and the
    cells' printed text. What that process wrote to stderr is added to `logged`."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    seconds, nb, lines = execute_apart(nb, folder)
    logged += lines
    printed = [out.get("text", "") for cell in nb.cells for out in cell.outputs if out.output_type == "stream"]
    return seconds, printed


def widget_timings(printed: list[str]) -> list[dict]:
    for text in printed:
        for line in text.splitlines():
            if line.startswith("BENCH-WIDGETS "):
                return json.loads(line.removeprefix("BENCH-WIDGETS "))
    return []


def measure_notebook(path: Path, repeats: int) -> dict:
    """Median floor and whole-notebook time, the explorer timings of one notebook, and the lines its runs logged."""
    nb = nbformat.read(path, as_version=4)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    logged: list[str] = []
    floors = [run_cells([imports_of(nb)], path.parent, logged)[0] for _ in range(repeats)]
    wholes = [run_cells(code, path.parent, logged)[0] for _ in range(repeats)]
    _, printed = run_cells([*code, MOVE_EVERY_CONTROL.replace("__MOVES__", str(MOVES_PER_CONTROL))], path.parent, logged)
    floor, whole = statistics.median(floors), statistics.median(wholes)
    return {"floor_s": round(floor, 2), "whole_s": round(whole, 2), "own_s": round(whole - floor, 2),
            "widgets": widget_timings(printed), "log_lines": len(logged), "log": logged[:10]}


def suite_seconds() -> float:
    """Wall time of the nbval suite exactly as `make test-notebooks` runs it."""
    command = [sys.executable, "-m", "pytest", "-q", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
               "tests/nbval_sanitize.cfg", "notebooks", "-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider"]
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(repeats: int) -> dict:
    notebooks = {path.name: measure_notebook(path, repeats) for path in NOTEBOOKS}
    suite = statistics.median(suite_seconds() for _ in range(repeats))
    floor = sum(n["floor_s"] for n in notebooks.values())
    slowest = max(notebooks, key=lambda name: notebooks[name]["own_s"])
    updates = [(t["median_ms"], name, t["control"]) for name, n in notebooks.items() for t in n["widgets"]]
    worst = max(updates) if updates else (0.0, "", "")
    return {
        "suite_vs_floor": round(suite / floor, 2),
        "slowest_notebook_own_s": notebooks[slowest]["own_s"],
        "widget_update_ms_max": worst[0],
        "notebook_run_log_lines": sum(n["log_lines"] for n in notebooks.values()),
        "details": {"suite_s": round(suite, 1), "floor_sum_s": round(floor, 1), "slowest_notebook": slowest,
                    "slowest_widget": f"{worst[1]}: {worst[2]}", "notebooks": notebooks},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    print(json.dumps(measure(parser.parse_args().repeats)))


if __name__ == "__main__":
    main()
