"""The course's website (make book) in Chromium, served as `python -m http.server` in dist/book serves it.

Every page loads with no console error, no failed request and no request off this machine; math is
typeset by the MathJax served from the site; the search finds a term of notebook 08; at a phone's
390 px no page scrolls sideways (screenshots: artifacts/browser/book/).
"""

from __future__ import annotations

import functools
import http.server
import threading
from urllib.parse import urlsplit

import pytest

from helpers import book

PHONE = {"width": 390, "height": 844}
MATH_TYPESET = """() => window.MathJax && MathJax.Hub && MathJax.isReady
    && new Promise(done => MathJax.Hub.Queue(() => done(true)))"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        """No line per request in the test's output."""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return book.build(tmp_path_factory.mktemp("book") / "book")


@pytest.fixture(scope="module")
def served(site):
    """The site's address on 127.0.0.1, served from its folder by the standard library's server."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def open_page(browser, viewport=None):
    """A fresh context whose page records console errors, page errors and failed requests, and aborts
    (and records) any request that leaves this machine."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 1000})
    context.set_default_timeout(60_000)
    problems: list[str] = []

    def local_only(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            problems.append(f"request off this machine: {route.request.url}")
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} {request.failure}"))
    page.on("response", lambda response: response.status >= 400 and problems.append(f"HTTP {response.status}: {response.url}"))
    return context, page, problems


def test_every_page_loads_with_no_console_error_no_failed_request_and_its_math_typeset(browser, site, served):
    context, page, problems = open_page(browser)
    try:
        for path in sorted(site.glob("*.html")):
            page.goto(f"{served}/{path.name}", wait_until="networkidle")
            if page.locator("span.math.notranslate, div.math.notranslate").count():
                page.wait_for_function(MATH_TYPESET)
                untypeset = page.evaluate("""() => [...document.querySelectorAll('span.math.notranslate, div.math.notranslate')]
                    .filter(m => !m.querySelector('.MathJax, .MathJax_Display')).map(m => m.textContent)""")
                assert not untypeset, f"{path.name}: math left as TeX: {untypeset[:3]}"
                assert page.locator(".MathJax_Error, merror").count() == 0, f"{path.name}: a MathJax error"
            assert not problems, f"{path.name}: {problems}"
    finally:
        context.close()


def test_the_math_of_notebook_08_is_typeset(browser, site, served):
    context, page, problems = open_page(browser)
    try:
        page.goto(f"{served}/08_backpropagation.html", wait_until="networkidle")
        page.wait_for_function(MATH_TYPESET)
        assert page.locator("span.math .MathJax").count() >= 10
        assert not problems, problems
    finally:
        context.close()


def test_the_search_finds_a_term_of_notebook_08(browser, site, served):
    context, page, problems = open_page(browser)
    try:
        page.goto(f"{served}/search.html?q=recurrence", wait_until="networkidle")
        page.locator("#search-results a[href*='08_backpropagation']").first.wait_for()
        assert not problems, problems
    finally:
        context.close()


def test_at_phone_width_no_page_scrolls_sideways(browser, site, served, artifacts):
    shots = artifacts / "book"
    shots.mkdir(exist_ok=True)
    context, page, problems = open_page(browser, PHONE)
    try:
        for path in sorted(site.glob("*.html")):
            page.goto(f"{served}/{path.name}", wait_until="networkidle")
            if page.locator("span.math.notranslate, div.math.notranslate").count():
                page.wait_for_function(MATH_TYPESET)
            page.screenshot(path=str(shots / f"{path.stem}.png"))
            widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{path.name} scrolls sideways at 390 px: {widths[0]} px wide"
        assert not problems, problems
    finally:
        context.close()
