"""Drive a notebook in JupyterLab as a learner would, and report everything that went wrong.

`check_notebook` opens a notebook and looks at it as handed out (no widget's text repr in place
of its view, no figure shrunk below 90% of the width it was drawn at), clears its outputs, runs all
cells, saves it, and then looks at the page: every non-empty code cell executed, no error or stderr output, every image and widget
rendered (the saved file says which outputs each cell produced, so a widget that fell back to its
text repr is caught too), and every interactive widget's output follows its controls. It returns a
`NotebookReport` instead of asserting, so the same function serves the tests of the course's
notebooks and the tests that prove it catches a broken one.

The learner's flow (`type_into_cell`, `run_cell_and_next`) types with the real keyboard into
CodeMirror, as a learner does.

Selectors were read off JupyterLab 4.6 and ipywidgets 8.1 (see
shared/notes/jupyterlab-in-a-real-browser.md).
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

IDLE = '.jp-Notebook-ExecutionIndicator[data-status="idle"]'
# The status bar's kernel item reads "Python 3 (ipykernel) | Idle" only once a kernel is connected;
# the execution indicator above can already say idle while the kernel is still starting.
KERNEL_CONNECTED = ".jp-StatusBar-TextItem"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MIN_IMAGE_WIDTH = 100  # a rendered plot is hundreds of pixels wide; a broken image is 0
MIN_SHOWN_FRACTION = 0.9  # a figure is drawn at the size it is shown: JupyterLab may shrink it by 10% at most

# One pass over the page: for each cell, what a learner sees. Nested outputs (inside an Output
# widget) count for errors and images; only a cell's own outputs count against the saved file.
READ_CELLS = """
() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')].map(cell => {
  const code = cell.classList.contains('jp-CodeCell');
  const own = [...cell.querySelectorAll(':scope .jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output')];
  const text = el => (el.innerText || '').trim().slice(0, 400);
  return {
    code,
    source: code ? (cell.querySelector('.cm-content')?.innerText ?? '') : '',
    prompt: code ? (cell.querySelector('.jp-InputPrompt')?.textContent ?? '').trim() : '',
    own: own.map(o => ({
      mime: o.getAttribute('data-mime-type'),
      widget: !!o.querySelector('.jupyter-widgets'),
      text: text(o),
    })),
    errors: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"],'
                                    + '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')].map(text),
    images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(i => i.complete ? i.naturalWidth : -1),
    shownWidths: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(i => [i.naturalWidth, i.getBoundingClientRect().width]),
    widgets: [...cell.querySelectorAll('.jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output > .jupyter-widgets')].map(w => {
      const box = w.getBoundingClientRect();
      return {
        error: !!w.querySelector('.jupyter-widgets-error-widget') || /Error displaying widget/.test(w.innerText),
        width: box.width, height: box.height,
      };
    }),
  };
})
"""


@dataclass(frozen=True)
class Problem:
    """One thing a learner would see go wrong, in cell `cell` (counted from 0, markdown included)."""

    cell: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.kind}: {self.detail}"


@dataclass
class NotebookReport:
    """What `check_notebook` saw: the problems, and counts that show the checks had work to do."""

    name: str
    problems: list[Problem] = field(default_factory=list)
    code_cells: int = 0
    executed: int = 0
    images: int = 0
    widgets: int = 0
    controls_moved: int = 0
    run_all_attempts: int = 0
    screenshots: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    move_to_image_ms: list[float] = field(default_factory=list)  # each move's key press (or click) to its new image

    def add(self, problem: Problem) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def summary(self) -> str:
        lines = [f"{self.name}: {len(self.problems)} problem(s) in {self.seconds:.1f} s "
                 f"({self.executed}/{self.code_cells} code cells run, {self.images} images, "
                 f"{self.widgets} widgets, {self.controls_moved} controls moved"
                 + (f", Run All given {self.run_all_attempts} times" if self.run_all_attempts > 1 else "") + ")"
                 + (f"; key press to new image: median {statistics.median(self.move_to_image_ms):.0f} ms over"
                    f" {len(self.move_to_image_ms)} moves" if self.move_to_image_ms else "")]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


# --- opening and running --------------------------------------------------------------------

def open_notebook(page: Page, url: str, timeout_ms: float) -> None:
    """Open a notebook (with `?reset`, so no saved workspace interferes) and wait for an idle kernel."""
    page.goto(url)
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=timeout_ms)
    page.locator(IDLE).first.wait_for(timeout=timeout_ms)
    page.locator(KERNEL_CONNECTED, has_text=re.compile(r"\| Idle$")).first.wait_for(timeout=timeout_ms)


def menu_command(page: Page, menu: str, command: str, timeout_ms: float = 60_000) -> None:
    """Click `menu` in the menu bar, then its item that runs JupyterLab command `command`.

    By command id, because an item's accessible name carries its shortcut ("Save Notebook Ctrl+S").
    Notebook commands are disabled unless the notebook is JupyterLab's current widget (and, for
    running, has a kernel); once, on a loaded machine, a click waited 60 s on a disabled item. So
    the notebook's tab is clicked first (which makes it current), and a disabled item is retried
    with the menu closed and reopened.
    """
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel").first.click()
    title = page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$"))
    item = page.locator(f'.lm-Menu-item[data-command="{command}"]')
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        title.click()
        item.wait_for(timeout=timeout_ms)
        if "lm-mod-disabled" not in (item.get_attribute("class") or ""):
            item.click()
            return
        page.keyboard.press("Escape")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{menu} > {command} stayed disabled for {timeout_ms / 1000:.0f} s")
        page.wait_for_timeout(500)


def code_prompts(page: Page) -> list[str]:
    return [c["prompt"] for c in page.evaluate(READ_CELLS) if c["code"] and c["source"].strip()]


def clear_outputs(page: Page, timeout_ms: float) -> None:
    """Edit > Clear Outputs of All Cells, until every prompt is blank: a saved `[n]:` is not a run."""
    menu_command(page, "Edit", "editmenu:clear-all", timeout_ms)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
                 .every(p => p.textContent.trim() === '[ ]:')""",
        timeout=timeout_ms,
    )


def run_all(page: Page, timeout_ms: float, start_timeout_ms: float = 20_000, attempts: int = 3) -> int:
    """Run > Run All Cells, then wait until nothing is queued or running and the kernel is idle.

    Run All stops at a cell that raises: the cells after it keep a blank prompt, and the checks
    report them as not executed. Run All given before the kernel is connected silently runs
    nothing (seen once on a loaded machine, every prompt left blank): when no cell has started
    after `start_timeout_ms`, it is given again, up to `attempts` times in all. Returns how many
    times it was given (the report shows it, so a workaround in use does not go unseen).
    """
    if not code_prompts(page):
        return 0  # nothing to run (a notebook of prose only)
    started = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
                 .some(p => p.textContent.trim() !== '[ ]:')"""
    for attempt in range(1, attempts + 1):
        menu_command(page, "Run", "runmenu:run-all")
        try:
            page.wait_for_function(started, timeout=start_timeout_ms)
            break
        except PlaywrightTimeoutError:
            if attempt == attempts:
                raise TimeoutError(f"Run All started no cell in {attempts} attempts of {start_timeout_ms / 1000:.0f} s") from None
    wait_until_settled(page, timeout_ms)
    return attempt


def wait_until_settled(page: Page, timeout_ms: float) -> None:
    """Wait until no cell shows `[*]:` and the kernel is idle, twice in a row 0.5 s apart.

    A JupyterLab dialog (the kernel died, say) ends the wait at once with its text.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    calm = 0
    while calm < 2:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the notebook was still running after {timeout_ms / 1000:.0f} s: {code_prompts(page)}")
        dialog = page.locator(".jp-Dialog")
        if dialog.count():  # e.g. "Kernel Restarting": the kernel died; waiting longer will not help
            raise RuntimeError(f"JupyterLab shows a dialog: {dialog.first.inner_text()!r}")
        busy = any(p == "[*]:" for p in code_prompts(page)) or page.locator(IDLE).count() == 0
        calm = 0 if busy else calm + 1
        page.wait_for_timeout(500)


def save(page: Page, path: Path, executed: int, timeout_ms: float) -> nbformat.NotebookNode:
    """Save (File > Save Notebook) and read the file back once it holds the run (`executed` numbered cells)."""
    before = path.stat().st_mtime_ns
    menu_command(page, "File", "docmanager:save", timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # caught mid-write: read again
                nb = None
            if nb is not None and sum(1 for c in nb.cells if c.cell_type == "code" and c.get("execution_count")) >= executed:
                return nb
        time.sleep(0.2)
    raise TimeoutError(f"{path.name} was not saved with its outputs within {timeout_ms / 1000:.0f} s")


# --- looking at the page ----------------------------------------------------------------------

def inspect_cells(cells: list[dict], saved: nbformat.NotebookNode | None, report: NotebookReport) -> None:
    """Turn one reading of the page (READ_CELLS) into problems; `saved` is the notebook as saved."""
    saved_cells = saved.cells if saved is not None else [None] * len(cells)
    if saved is not None and len(saved_cells) != len(cells):
        report.add(Problem(-1, "cells missing from the page", f"the file has {len(saved_cells)} cells, the page shows {len(cells)}"))
        saved_cells = [None] * len(cells)
    report.code_cells = sum(1 for c in cells if c["code"] and c["source"].strip())
    report.executed = sum(1 for c in cells if c["code"] and re.fullmatch(r"\[\d+\]:", c["prompt"]))
    report.images = sum(len(c["images"]) for c in cells)
    report.widgets = sum(len(c["widgets"]) for c in cells)
    for index, (cell, saved_cell) in enumerate(zip(cells, saved_cells, strict=True)):
        if not cell["code"]:
            continue
        if cell["source"].strip() and not re.fullmatch(r"\[\d+\]:", cell["prompt"]):
            report.add(Problem(index, "not executed", f"its prompt is {cell['prompt']!r}"))
        for text in cell["errors"]:
            report.add(Problem(index, "error or stderr output", text))
        for width in cell["images"]:
            if width <= MIN_IMAGE_WIDTH:
                report.add(Problem(index, "image not rendered", f"naturalWidth {width} (a plot is wider than {MIN_IMAGE_WIDTH})"))
        inspect_figure_widths(index, cell, report)
        for widget in cell["widgets"]:
            if widget["error"] or widget["width"] < 1 or widget["height"] < 1:
                report.add(Problem(index, "widget not rendered", "the widget shows an error or has no size"))
        if saved_cell is not None:
            compare_with_saved(index, cell, saved_cell, report)


def inspect_figure_widths(index: int, cell: dict, report: NotebookReport) -> None:
    """A figure shown below MIN_SHOWN_FRACTION of the width it was drawn at has text too small to read."""
    for natural, shown in cell.get("shownWidths", []):
        if natural > MIN_IMAGE_WIDTH and 0 < shown < MIN_SHOWN_FRACTION * natural:
            report.add(Problem(index, "figure shrunk", f"drawn {natural} px wide, shown at {shown:.0f} px ({shown / natural:.0%}): "
                                                       "draw it at the size it is shown, or in rows"))


def inspect_handed_out(cells: list[dict], handed_out: nbformat.NotebookNode, report: NotebookReport) -> None:
    """The notebook as handed out, before anything runs: no widget's text repr on the page, no shrunk figure.

    A stored widget view is only drawn once its cell runs (JupyterLab does not render a widget from an
    untrusted file); until then JupyterLab shows the output's text/plain, if it has one.
    """
    if len(handed_out.cells) != len(cells):
        report.add(Problem(-1, "cells missing from the page", f"the file has {len(handed_out.cells)} cells, the page shows {len(cells)}"))
        return
    for index, (cell, saved_cell) in enumerate(zip(cells, handed_out.cells, strict=True)):
        if not cell["code"]:
            continue
        inspect_figure_widths(index, cell, report)
        reprs = [o["data"]["text/plain"] for o in saved_cell.get("outputs", [])
                 if WIDGET_VIEW in o.get("data", {}) and o["data"].get("text/plain")]
        shown = "\n".join(o["text"] for o in cell["own"])
        for text in reprs:
            if text[:40] in shown:
                report.add(Problem(index, "widget shown as its text repr", f"before the cell runs the page shows {text[:80]!r}"))


def compare_with_saved(index: int, cell: dict, saved_cell, report: NotebookReport) -> None:
    """Each saved widget or image output must be on the page as one (not as a text fallback)."""
    outputs = saved_cell.get("outputs", [])
    expected_widgets = sum(1 for o in outputs if WIDGET_VIEW in o.get("data", {}))
    expected_images = sum(1 for o in outputs if WIDGET_VIEW not in o.get("data", {})
                          and any(m.startswith("image/") for m in o.get("data", {})))
    shown_widgets = sum(1 for o in cell["own"] if o["widget"])
    shown_images = sum(1 for o in cell["own"] if (o["mime"] or "").startswith("image/"))
    if shown_widgets < expected_widgets:
        fallback = "; ".join(o["text"][:100] for o in cell["own"] if not o["widget"]) or "nothing"
        report.add(Problem(index, "widget not rendered",
                           f"{expected_widgets} widget output(s) saved, {shown_widgets} shown as widgets (shown instead: {fallback})"))
    if shown_images < expected_images:
        report.add(Problem(index, "image not rendered", f"{expected_images} image output(s) saved, {shown_images} shown as images"))


# --- widgets ------------------------------------------------------------------------------------

CONTROLS = ".noUi-handle, .widget-dropdown select, .widget-checkbox input[type=checkbox]"


def widget_outputs_state(cell: Locator) -> str:
    """What a cell's Output widgets show now: their text, and the data of their images."""
    return cell.evaluate(
        "c => [...c.querySelectorAll('.widget-output')].filter(o => !o.parentElement.closest('.widget-output'))"
        ".map(o => o.innerText + [...o.querySelectorAll('img')].map(i => i.src).join(' ')).join('\\n----\\n')"
    )


# Installed in the page before a move: the time from the move's first input event (key press, change or
# click) to the first frame after the cell's Output widgets show an image they did not show before, in
# window.moveToImageMs (null until then). An Output widget is cleared before it is redrawn: the empty
# state in between is not a new image.
TIME_MOVE_TO_IMAGE = """cell => {
    const images = () => [...cell.querySelectorAll('.widget-output img')].map(i => i.src).join(' ');
    const before = images();
    const move = {started: null};
    window.moveToImageMs = null;
    for (const type of ['keydown', 'change', 'click'])
        document.addEventListener(type, () => { move.started ??= performance.now(); }, {capture: true, once: true});
    const observer = new MutationObserver(() => {
        const now = images();
        if (move.started === null || !now || now === before) return;
        observer.disconnect();
        requestAnimationFrame(() => { window.moveToImageMs = performance.now() - move.started; });
    });
    observer.observe(cell, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}"""


def move_control(control: Locator) -> str:
    """Change one control as a learner would; returns a short description of what was done."""
    kind = control.evaluate("e => e.matches('.noUi-handle') ? 'slider' : e.tagName === 'SELECT' ? 'dropdown' : 'checkbox'")
    label = control.evaluate(
        "e => (e.closest('.jupyter-widgets')?.querySelector('.widget-label')?.textContent || '').trim()"
    )
    if kind == "slider":
        at_max = control.evaluate("e => Number(e.getAttribute('aria-valuenow')) >= Number(e.getAttribute('aria-valuemax'))")
        control.focus()
        control.press("ArrowLeft" if at_max else "ArrowRight")
    elif kind == "dropdown":
        count = control.evaluate("e => e.options.length")
        current = control.evaluate("e => e.selectedIndex")
        control.select_option(index=(current + 1) % max(count, 1))
    else:
        control.click()
    return f"{kind} {label!r}"


def exercise_widgets(page: Page, report: NotebookReport, shots: Path | None, change_timeout_ms: float) -> None:
    """Move every control of every widget; the Output widgets of its cell must then show something new."""
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    for index in range(cells.count()):
        cell = cells.nth(index)
        controls = cell.locator(f".jp-Cell-outputArea :is({CONTROLS})")
        if controls.count() == 0:
            continue
        if cell.locator(".widget-output").count() == 0:
            report.add(Problem(index, "widget output unchanged", "the cell has controls but no Output widget to watch"))
            continue
        for number in range(controls.count()):
            control = controls.nth(number)
            control.scroll_into_view_if_needed()
            before = widget_outputs_state(cell)
            cell.evaluate(TIME_MOVE_TO_IMAGE)
            what = move_control(control)
            report.controls_moved += 1
            if not wait_for_new_state(page, cell, before, change_timeout_ms):
                report.add(Problem(index, "widget output unchanged", f"moving {what} did not change the output within {change_timeout_ms / 1000:.0f} s"))
            elif (took := page.evaluate("window.moveToImageMs")) is not None:
                report.move_to_image_ms.append(took)
            if shots is not None:
                report.screenshots.append(screenshot(cell, shots / f"cell-{index:02d}-after-control-{number}.png"))


def wait_for_new_state(page: Page, cell: Locator, before: str, timeout_ms: float) -> bool:
    """True once the cell's Output widgets differ from `before` and hold still with the kernel idle.

    An Output widget is cleared before it is redrawn: a passing empty state is not a change.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    previous = None
    while time.monotonic() < deadline:
        now = widget_outputs_state(cell)
        if now != before and now == previous and page.locator(IDLE).count():
            return True
        previous = now
        page.wait_for_timeout(250)
    return False


# --- screenshots -------------------------------------------------------------------------------

def screenshot(element: Locator, path: Path) -> Path:
    """An element screenshot (JupyterLab scrolls inside its own panel, so a full page would not do)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    element.scroll_into_view_if_needed()
    element.screenshot(path=str(path))
    return path


def screenshot_cells_with_output(page: Page, shots: Path, report: NotebookReport) -> None:
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    for index in range(cells.count()):
        cell = cells.nth(index)
        if cell.locator(".jp-OutputArea-output").count():
            report.screenshots.append(screenshot(cell, shots / f"cell-{index:02d}.png"))


# --- the whole check -------------------------------------------------------------------------

def check_notebook(page: Page, url: str, path: Path, shots: Path | None, *, run_timeout_s: float = 600,
                   change_timeout_s: float = 20, ui_timeout_s: float = 60) -> NotebookReport:
    """Open, inspect as handed out, clear, run all, save, inspect, move every widget control, inspect again.

    `url` opens the file `path` (the served copy) in JupyterLab; screenshots go under `shots`.
    A check that cannot be carried out (the page never loads, the run never ends) raises.
    """
    started = time.monotonic()
    report = NotebookReport(f"{path.parent.name}/{path.name}")
    try:
        run_and_inspect(page, url, path, shots, report, run_timeout_s, change_timeout_s, ui_timeout_s)
    except Exception:
        if shots is not None:  # what the page looked like when the check could not go on
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "failure.png"))
            (shots / "failure.html").write_text(page.content())
        raise
    report.seconds = time.monotonic() - started
    return report


def run_and_inspect(page: Page, url: str, path: Path, shots: Path | None, report: NotebookReport,
                    run_timeout_s: float, change_timeout_s: float, ui_timeout_s: float) -> None:
    """The steps of `check_notebook`, filling in `report`."""
    ui_ms = ui_timeout_s * 1000
    handed_out = nbformat.read(path, as_version=4)
    open_notebook(page, url, ui_ms)
    inspect_handed_out(page.evaluate(READ_CELLS), handed_out, report)
    clear_outputs(page, ui_ms)
    report.run_all_attempts = run_all(page, run_timeout_s * 1000)
    cells = page.evaluate(READ_CELLS)
    executed = sum(1 for c in cells if c["code"] and re.fullmatch(r"\[\d+\]:", c["prompt"]))
    saved = save(page, path, executed, ui_ms)
    inspect_cells(cells, saved, report)
    if shots is not None:
        screenshot_cells_with_output(page, shots, report)
    exercise_widgets(page, report, shots, change_timeout_s * 1000)
    wait_until_settled(page, run_timeout_s * 1000)
    moved, counts = report.controls_moved, (report.code_cells, report.executed, report.images, report.widgets)
    inspect_cells(page.evaluate(READ_CELLS), None, report)  # errors a moved control brought up
    report.code_cells, report.executed, report.images, report.widgets = counts
    report.controls_moved = moved
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        (shots / "page.html").write_text(page.content())


# --- a learner's keyboard ----------------------------------------------------------------------

def cell_index(page: Page, pattern: str) -> int:
    """The index of the one cell whose source matches the regular expression `pattern`."""
    sources = [c["source"] for c in page.evaluate(READ_CELLS)]
    found = [i for i, s in enumerate(sources) if re.search(pattern, s, re.M)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} cells match {pattern!r}; expected exactly one")
    return found[0]


def cell_source(page: Page, index: int) -> str:
    return page.evaluate(READ_CELLS)[index]["source"]


def type_into_cell(page: Page, index: int, line_pattern: str, new_text: str) -> None:
    """Click the line of cell `index` matching `line_pattern`, select its text, and type `new_text`.

    Home/End in CodeMirror keep the line's indentation, so only the code after it is replaced.
    """
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)
    line = cell.locator(".cm-line").filter(has_text=re.compile(line_pattern))
    line.first.scroll_into_view_if_needed()
    line.first.click()
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")
    page.keyboard.type(new_text)
    source = cell_source(page, index)
    if new_text not in source:
        raise AssertionError(f"typing did not produce the expected line; the cell now reads:\n{source}")


def run_cell_and_next(page: Page, index: int, timeout_ms: float) -> str:
    """Shift+Enter in cell `index` (its editor has focus), then Shift+Enter on the next cell.

    Returns the next cell's output text once both have run and the kernel is idle.
    """
    prompt_before = page.evaluate(READ_CELLS)[index + 1]["prompt"]
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "i => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[i]"
        ".classList.contains('jp-mod-active')",
        arg=index + 1, timeout=timeout_ms,
    )
    page.keyboard.press("Shift+Enter")
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        cells_now = page.evaluate(READ_CELLS)
        prompt = cells_now[index + 1]["prompt"]
        if re.fullmatch(r"\[\d+\]:", prompt) and prompt != prompt_before and page.locator(IDLE).count():
            return "\n".join(o["text"] for o in cells_now[index + 1]["own"])
        page.wait_for_timeout(200)
    raise TimeoutError(f"cell {index + 1} did not run again within {timeout_ms / 1000:.0f} s")
