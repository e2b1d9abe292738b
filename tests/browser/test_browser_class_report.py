"""The class report (OUT/report.html) opened in the real Chromium: it renders, every image loads, and no
request leaves the page (it is one self-contained file: no script, no font, no image from elsewhere).

The class is the benchmark's synthetic one (benchmarks/bench_class_report.py), 40 learners, with a
roster and a learner whose folder name is HTML. The screenshot goes to artifacts/browser/class-report.png
(the README's picture of a report is one of these).
"""

from __future__ import annotations

import dataclasses
import importlib.util

from browser_session import REPO
from helpers.grading.report import RosterEntry, write_outputs

spec = importlib.util.spec_from_file_location("bench_class_report", REPO / "benchmarks" / "bench_class_report.py")
bench_class_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_class_report)

HOSTILE = '<img src="https://example.invalid/x.png" onerror="document.title=1">'


def test_the_class_report_renders_loads_every_image_and_requests_nothing_outside(browser, tmp_path, artifacts):
    records = bench_class_report.synthetic_records(40)
    records[0] = dataclasses.replace(records[0], student=HOSTILE, total=0)  # the lowest total: listed, and linked, among learners who need help
    roster = {r.student: RosterEntry(r.student, f"u{i}", f"Learner {i}" if i else HOSTILE) for i, r in enumerate(records)}
    write_outputs(records, tmp_path / "out", roster)
    report = tmp_path / "out" / "report.html"

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(report.as_uri(), wait_until="load")
        assert page.title() == "Class report"
        assert page.locator("h1").inner_text() == "Class report"
        assert page.locator("table").count() >= 5 and page.locator("th[scope=col]").count() > 20
        images = page.evaluate("Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.alt.length])")
        assert len(images) >= 14 and all(loaded and alt for loaded, alt in images), images
        assert page.evaluate("document.scripts.length") == 0
        assert HOSTILE in page.locator("#help").inner_text() and HOSTILE in page.locator("#progress").inner_text()  # shown as text
        outside = [url for url in requests if url != report.as_uri() and not url.startswith("data:")]
        assert not outside and not errors, (outside, errors)
        page.screenshot(path=str(artifacts / "class-report.png"), full_page=False)
    finally:
        context.close()
