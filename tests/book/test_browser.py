"""The HTML book, checked as a reader sees it: in a real (headless) Chromium.

These tests build nothing: they read the book that ``make book`` (``jupyter-book build``)
left in ``_build/html``, serve it on 127.0.0.1 from a thread, and drive Debian's
``chromium`` over the DevTools protocol (websocket-client, which Jupyter already installs).
They skip with the reason when the built book or the browser is missing
(``apt-get install chromium``); ``BOOK_HTML=path`` points them at another build. Chromium runs with every host name but 127.0.0.1
unresolvable, so a page that needs the network fails here instead of on a reader's train.

Checked on every page: no JavaScript error, no request that fails or leaves the machine,
every image loaded and (where shown) of non-zero size, every equation typeset by MathJax
without a TeX error, every internal link and anchor resolves, no cell output is a traceback
(outside cells tagged ``raises-exception``) or stderr, and no glued value is empty. Then: the search finds
"backpropagation", each chapter's Colab, Binder and download buttons open that chapter's
reader edition ``reader/NN_name.ipynb`` (the download menu offers ``student/NN_name.ipynb`` too), the API reference documents every public name of ``bplib``, and a
screenshot of a chapter goes to ``test-artifacts/`` for a person to look at.

Other screens: at 1280 and at 400 px wide, no page scrolls sideways, no line of a code cell
wraps (a long one scrolls inside its cell, which shows a scroll shadow, as a display equation
wider than the screen does), and a figure on the phone stays at least 80 % of its width on
the wide screen.

Accessibility: axe-core (vendored in ``tests/vendor/axe-core``, MPL-2.0) audits every page
once it has loaded and typeset; no page may have a serious or critical violation. The full
report, minor and moderate findings included, goes to ``test-artifacts/axe.json``.
"""

from __future__ import annotations

import base64
import functools
import importlib
import json
import os
import pkgutil
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The built book; BOOK_HTML points the tests at another build (e.g. a trial build elsewhere)
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
PAGE_TIMEOUT = 20.0  # seconds for one page to load and typeset its math
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"  # tools/vendor_axe.sh
AXE_TIMEOUT = 180.0  # seconds for the audit of one page (the API reference is long)

pytestmark = pytest.mark.skipif(
    not (HTML / "index.html").is_file(),
    reason="the HTML book is not built: run `make book` (jupyter-book build) first",
)


# ----------------------------------------------------------------------------- serving
class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The built book served over HTTP on a free port of 127.0.0.1, from a thread."""
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------- browser
class DevTools:
    """A minimal Chrome DevTools Protocol client for one page (one websocket)."""

    def __init__(self, ws_url: str) -> None:
        websocket = pytest.importorskip(
            "websocket", reason="websocket-client is needed to drive Chromium"
        )
        self._ws = websocket.create_connection(ws_url, timeout=PAGE_TIMEOUT, suppress_origin=True)
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        msg_id = self._next_id
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method} failed: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str, timeout: float = PAGE_TIMEOUT) -> dict[str, Any]:
        """Wait for the next event called ``method`` (events seen earlier are kept)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self._ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(f"no {method} within {timeout} s")

    def evaluate(self, expression: str, timeout: float = PAGE_TIMEOUT) -> Any:
        """Evaluate JavaScript in the page (awaiting a promise) and return its JSON value."""
        self._ws.settimeout(timeout)
        try:
            reply = self.call(
                "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
            )
        finally:
            self._ws.settimeout(PAGE_TIMEOUT)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"JavaScript failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def close(self) -> None:
        self._ws.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process the tests started: politely, then by force after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[DevTools]:
    """Headless Chromium with a fresh profile, no network but 127.0.0.1, one open page."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="bplib-chromium-")
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--mute-audio",
            "--window-size=1280,900",
            # the book must work offline: every host but the local server is unresolvable
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chromium did not start (exit code {proc.poll()})")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        page = next(t for t in targets if t["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Network", "Log"):
            tools.call(f"{domain}.enable")
        yield tools
        tools.close()
    finally:
        _stop(proc)
        shutil.rmtree(profile, ignore_errors=True)


# ----------------------------------------------------------------------------- visiting
# Runs in the page once it has loaded: waits for MathJax's first typeset and the fonts, makes
# lazy images load, then reports what the checks need.
_INSPECT = r"""
(async () => {
  const mj = window.MathJax;
  const mathjaxLoaded = !!(mj && mj.version);
  if (mathjaxLoaded && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  const images = Array.from(document.images);
  for (const img of images) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  await document.fonts.ready;
  const shown = el => el.checkVisibility({checkOpacity: false, checkVisibilityCSS: true});
  return {
    mathjaxLoaded,
    math: document.querySelectorAll('.math').length,
    mathTypeset: Array.from(document.querySelectorAll('.math'))
                   .filter(m => m.querySelector('mjx-container')).length,
    mathErrors: Array.from(document.querySelectorAll('mjx-merror'))
                  .map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
    fontErrors: Array.from(document.fonts).filter(f => f.status === 'error')
                  .map(f => f.family),
    images: images.map(img => {
      const r = img.getBoundingClientRect();
      return {src: img.currentSrc || img.src, alt: img.alt, natural: img.naturalWidth,
              complete: img.complete, shown: shown(img), width: r.width, height: r.height};
    }),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id)
           .concat(Array.from(document.querySelectorAll('a[name]')).map(a => a.name)),
    launch: Array.from(document.querySelectorAll('a[href]')).map(a => a.href)
              .filter(h => h.includes('colab.research.google.com') || h.includes('mybinder.org')),
    // A cell that raised (unless tagged raises-exception: chapter 5 shows bplib's errors on
    // purpose), printed to stderr (a warning), or a glued value that came out empty: the
    // signs of a chapter that failed while the book was built.
    errorOutputs: Array.from(document.querySelectorAll(
        '.cell:not(.tag_raises-exception) .cell_output .traceback,' +
        '.cell .cell_output .stderr'))
        .map(e => e.textContent.trim().split('\n').slice(-1)[0].slice(0, 200)),
    emptyGlue: Array.from(document.querySelectorAll('.pasted-text, .pasted-inline'))
                 .filter(e => !e.textContent.trim())
                 .map(e => (e.parentElement ? e.parentElement.textContent : '').trim().slice(0, 120)),
    // A Markdown table that a cell printed (bplib.plot.Table) but that came out as a
    // paragraph of pipes, not as a table.
    pipeParagraphs: Array.from(document.querySelectorAll('div.cell_output p'))
                      .map(e => e.textContent.trim())
                      .filter(s => /^\|.*\|\s*\n?\s*\|/.test(s)).map(s => s.slice(0, 80)),
    outputTables: document.querySelectorAll('div.cell_output table').length,
  };
})()
"""


# Runs axe-core's default rules (WCAG 2.x A and AA, and its best practices) on the page.
_AXE_RUN = r"""
(async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                              summary: n.failureSummary}))}));
})()
"""


@dataclass
class Page:
    url: str
    info: dict[str, Any]
    js_errors: list[str] = field(default_factory=list)
    bad_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    axe: list[dict[str, Any]] = field(default_factory=list)


def _visit(browser: DevTools, site: str, url: str) -> Page:
    browser.events.clear()
    navigation = browser.call("Page.navigate", url=url)
    if "loaderId" in navigation:  # a new document (not a jump within the same page)
        browser.wait_for("Page.loadEventFired")
    info = browser.evaluate(_INSPECT)
    browser.call("Runtime.evaluate", expression="0")  # drain events that came meanwhile
    page = Page(url, info)
    browser.call("Runtime.evaluate", expression=AXE.read_text(encoding="utf-8"))
    page.axe = browser.evaluate(_AXE_RUN, timeout=AXE_TIMEOUT)
    for ev in browser.events:
        method, p = ev["method"], ev["params"]
        if method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text", "")
            page.js_errors.append(f"{text} ({d.get('url', '')}:{d.get('lineNumber', '')})")
        elif method == "Runtime.consoleAPICalled" and p["type"] == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            page.js_errors.append(f"console.error: {args}")
        elif method == "Network.requestWillBeSent":
            req_url = p["request"]["url"]
            if not req_url.startswith((site, "data:", "blob:", "about:")):
                page.external_requests.append(req_url)
        elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
            page.bad_requests.append(f"{p['response']['status']} {p['response']['url']}")
        elif method == "Network.loadingFailed" and not p.get("canceled"):
            page.bad_requests.append(f"{p.get('errorText')} (request {p['requestId']})")
    return page


_REFRESH = re.compile(r'<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"', re.I)


def _redirects() -> dict[str, str]:
    """Pages that only redirect (index.html -> the first chapter): page -> target URL."""
    found = {}
    for path in HTML.glob("*.html"):
        head = path.read_text(encoding="utf-8", errors="replace")[:500]
        if match := _REFRESH.search(head):
            found[path.relative_to(HTML).as_posix()] = match.group(1)
    return found


def _html_pages() -> list[str]:
    """Every page of the site that shows content, as paths relative to _build/html."""
    skip = ("_static/", "_sources/", "_images/", "mathjax/", "_downloads/")
    redirects = _redirects()
    return sorted(
        rel
        for rel in (p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html"))
        if not rel.startswith(skip) and rel not in redirects
    )


@pytest.fixture(scope="module")
def pages(browser: DevTools, site: str) -> dict[str, Page]:
    """Every page, visited once; the checks below read what was recorded."""
    return {rel: _visit(browser, site, site + rel) for rel in _html_pages()}


def _notebook_chapters() -> list[str]:
    """Built chapter pages (chapters/NN_name.html) whose source has a paired .ipynb."""
    return sorted(
        p.relative_to(HTML).as_posix()
        for p in (HTML / "chapters").glob("*.html")
        if (ROOT / "chapters" / f"{p.stem}.ipynb").is_file()
    )


# ----------------------------------------------------------------------------- checks
def test_every_page_loads_without_javascript_errors(pages: dict[str, Page]) -> None:
    errors = {rel: p.js_errors for rel, p in pages.items() if p.js_errors}
    assert not errors, f"JavaScript errors: {json.dumps(errors, indent=1)}"


def test_no_page_shows_an_error_output_or_an_empty_glued_value(pages: dict[str, Page]) -> None:
    # The build executes every chapter; a chapter that fails part-way still yields a page,
    # with a traceback where a result belongs and blanks where glued numbers belong.
    broken = {
        rel: {"error outputs": p.info["errorOutputs"], "empty glued values": p.info["emptyGlue"]}
        for rel, p in pages.items()
        if p.info["errorOutputs"] or p.info["emptyGlue"]
    }
    assert not broken, f"pages of a chapter that failed: {json.dumps(broken, indent=1)}"


def test_no_page_has_a_serious_or_critical_accessibility_violation(
    pages: dict[str, Page],
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    report = {rel: p.axe for rel, p in pages.items() if p.axe}
    (ARTIFACTS / "axe.json").write_text(json.dumps(report, indent=1))
    grave = {
        rel: [
            f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. "
            f"{v['nodes'][0]['target']})"
            for v in found
            if v["impact"] in ("serious", "critical")
        ]
        for rel, found in report.items()
    }
    grave = {rel: found for rel, found in grave.items() if found}
    assert not grave, f"axe-core (test-artifacts/axe.json): {json.dumps(grave, indent=1)}"


def test_printed_tables_are_tables(pages: dict[str, Page]) -> None:
    # bplib.plot.Table shows as a Markdown table; read as CommonMark (which has no tables)
    # it would be a paragraph of pipes.
    as_text = {
        rel: p.info["pipeParagraphs"] for rel, p in pages.items() if p.info["pipeParagraphs"]
    }
    assert not as_text, f"tables shown as text: {json.dumps(as_text, indent=1)}"
    assert sum(p.info["outputTables"] for p in pages.values()) >= 10  # the chapters print many


def test_every_figure_has_alt_text_that_says_what_it_shows(pages: dict[str, Page]) -> None:
    # A chapter's figures are images in _images/; their alt text is the first sentence of
    # the caption (_ext/book_ext.py), never empty and never the image's file name.
    bad = {
        rel: [
            img["alt"] or "(empty)"
            for img in p.info["images"]
            if "/_images/" in img["src"]
            and (len(img["alt"]) < 15 or img["alt"].endswith((".png", ".svg", ".jpg")))
        ]
        for rel, p in pages.items()
    }
    bad = {rel: alts for rel, alts in bad.items() if alts}
    assert not bad, f"figures without a meaningful alt text: {json.dumps(bad, indent=1)}"


def test_every_resource_of_every_page_loads(pages: dict[str, Page]) -> None:
    bad = {rel: p.bad_requests for rel, p in pages.items() if p.bad_requests}
    assert not bad, f"requests that failed: {json.dumps(bad, indent=1)}"


def test_no_page_needs_the_network(pages: dict[str, Page]) -> None:
    external = {rel: p.external_requests for rel, p in pages.items() if p.external_requests}
    assert not external, (
        f"pages that load resources from outside the book (they break offline): "
        f"{json.dumps(external, indent=1)}"
    )


def test_every_image_loads_and_has_a_size(pages: dict[str, Page]) -> None:
    broken = []
    for rel, page in pages.items():
        for img in page.info["images"]:
            if not img["complete"] or img["natural"] == 0:
                broken.append(f"{rel}: {img['src']} did not load")
            elif img["shown"] and (img["width"] == 0 or img["height"] == 0):
                broken.append(f"{rel}: {img['src']} is shown at {img['width']}x{img['height']}")
    assert not broken, "\n".join(broken)


def test_every_equation_is_typeset_offline(pages: dict[str, Page]) -> None:
    with_math = {rel: p.info for rel, p in pages.items() if p.info["math"]}
    assert with_math, "no page has any math: the chapters should"
    problems = []
    for rel, info in with_math.items():
        if not info["mathjaxLoaded"]:
            problems.append(f"{rel}: MathJax did not load")
        elif info["mathTypeset"] != info["math"]:
            problems.append(f"{rel}: {info['math'] - info['mathTypeset']} equations not typeset")
        if info["mathErrors"]:
            problems.append(f"{rel}: TeX errors {info['mathErrors']}")
        if info["fontErrors"]:
            problems.append(f"{rel}: fonts that failed to load {sorted(set(info['fontErrors']))}")
    assert not problems, "\n".join(problems)


def _target_file(path: str) -> Path:
    target = HTML / urllib.parse.unquote(path).lstrip("/")
    return target / "index.html" if target.is_dir() else target


def test_every_internal_link_and_anchor_resolves(pages: dict[str, Page], site: str) -> None:
    broken = []
    checked = 0
    for rel, page in pages.items():
        for href in page.info["links"]:
            if not href.startswith(site):
                continue  # external, mailto:, javascript: ...
            parts = urllib.parse.urlsplit(href)
            target = _target_file(parts.path)
            checked += 1
            if not target.is_file():
                broken.append(f"{rel}: {href} -> no file {target.relative_to(HTML)}")
                continue
            if parts.fragment and target.suffix == ".html":
                target_rel = target.relative_to(HTML).as_posix()
                fragment = urllib.parse.unquote(parts.fragment)
                if target_rel in pages and fragment not in pages[target_rel].info["ids"]:
                    broken.append(f"{rel}: {href} -> no anchor #{fragment} in {target_rel}")
    assert checked > 0
    assert not broken, "\n".join(sorted(set(broken)))


def test_redirect_pages_lead_to_a_page() -> None:
    redirects = _redirects()
    assert "index.html" in redirects or (HTML / "index.html").stat().st_size > 1000
    missing = {page: url for page, url in redirects.items() if not _target_file(url).is_file()}
    assert not missing, f"redirects to pages that do not exist: {missing}"


def test_search_finds_backpropagation(browser: DevTools, site: str) -> None:
    _visit(browser, site, site + "search.html?q=backpropagation")
    found: list[str] = []
    deadline = time.monotonic() + PAGE_TIMEOUT
    while not found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = browser.evaluate(
            "Array.from(document.querySelectorAll('#search-results li a'))"
            ".map(a => a.getAttribute('href'))"
        )
    assert found, "the search page found nothing for 'backpropagation'"
    assert any(href.startswith("chapters/") for href in found), found


# The search controls a reader can see: the header's search button (an icon) and any search
# field; with their place in the window.
_SEARCH_CONTROLS = r"""
(() => {
  const sel = 'input[type=search], .search-button-field, .search-button__button, .bd-search';
  return Array.from(document.querySelectorAll(sel))
    .filter(e => e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
                 && e.getBoundingClientRect().width > 0)
    .map(e => {
      const r = e.getBoundingClientRect();
      return {what: e.tagName + '.' + e.className, top: r.top, bottom: r.bottom,
              inView: r.top >= 0 && r.bottom <= window.innerHeight};
    });
})()
"""


@pytest.mark.parametrize("width", [1280, 900, 400])
def test_one_search_control_stays_in_reach(browser: DevTools, site: str, width: int) -> None:
    """At a wide, a medium and a phone's width, a chapter shows exactly one search control,
    still in the window after scrolling far down, and it opens the search field."""
    chapter = next(c for c in _notebook_chapters() if not c.startswith("chapters/00_"))
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=800,
        deviceScaleFactor=1,
        mobile=width < 600,
    )
    try:
        browser.call("Page.navigate", url=site + chapter)
        browser.wait_for("Page.loadEventFired")
        for where in ("top", "scrolled"):
            if where == "scrolled":
                browser.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
                time.sleep(0.3)
            controls = browser.evaluate(_SEARCH_CONTROLS)
            assert len(controls) == 1, f"{width} px, {where}: search controls {controls}"
            assert controls[0]["inView"], f"{width} px, {where}: out of the window {controls}"
        focused = browser.evaluate(
            "(async () => { document.querySelector('.bd-header-article .search-button__button')"
            ".click(); await new Promise(r => setTimeout(r, 300));"
            " const a = document.activeElement; return a.name === 'q' && a.type === 'search'"
            " && a.checkVisibility(); })()"
        )
        assert focused, f"{width} px: the search button did not open a search field"
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")


# Runs in the page at the width the test set: how the page fits the screen.
# - pageWidth: the document's width, wider than the viewport if the page scrolls sideways,
#   and sticking: the outermost elements that make it so (those inside a box that scrolls
#   by itself do not count).
# - codeLines / wrapped: each line of each code cell's source, and the lines drawn on more
#   than one row: the rows of a line are the distinct tops of the boxes of its text (a
#   Range over the line's characters), whatever the CSS.
# - uncued: boxes of code, output or a display equation wider than they are, that do not
#   scroll sideways by themselves or show no scroll shadow (a gradient background,
#   _static/book.css), so that the reader cannot tell that the line goes on.
# - figures: each figure image's width as drawn and as made.
_FIT = r"""
(async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  const images = Array.from(document.images);
  for (const img of images) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  await document.fonts.ready;
  const shown = e => e.checkVisibility({checkOpacity: false, checkVisibilityCSS: true});
  const root = document.documentElement, viewport = root.clientWidth;
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className.trim()
       ? '.' + e.className.trim().split(/\s+/).slice(0, 2).join('.') : '');
  const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const contained = e => {  // inside a box that scrolls or clips sideways by itself
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const sticking = Array.from(document.body.querySelectorAll('*'))
    .filter(e => e.getBoundingClientRect().right > viewport + 1 && shown(e) && !contained(e)
                 && getComputedStyle(e).position !== 'fixed')
    .filter((e, _, all) => !all.includes(e.parentElement))
    .map(e => `${name(e)} to ${Math.round(e.getBoundingClientRect().right)} px: `
              + e.textContent.trim().slice(0, 60));
  const lines = pre => {
    const texts = [], walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    for (let t; (t = walker.nextNode());) texts.push(t);
    const found = [];
    let range = null;
    for (const t of texts) {
      for (let i = 0; i <= t.data.length; i++) {
        if (range === null) { range = document.createRange(); range.setStart(t, i); }
        if (i < t.data.length && t.data[i] !== '\n') continue;
        range.setEnd(t, i);
        if (i < t.data.length) { found.push(range); range = null; }
      }
    }
    if (range !== null) found.push(range);
    return found.filter(r => r.toString().trim());
  };
  const code = Array.from(document.querySelectorAll('div.cell_input pre')).filter(shown);
  const codeLines = code.flatMap(lines);
  const wrapped = codeLines.filter(r => new Set(Array.from(r.getClientRects())
    .filter(b => b.width > 0).map(b => Math.round(b.top))).size > 1);
  const uncued = Array.from(document.querySelectorAll(
      'div.cell_input pre, div.cell_output pre, div.math mjx-container'))
    .filter(e => shown(e) && e.scrollWidth > e.clientWidth + 1)
    .filter(e => !scrolls(e) || !getComputedStyle(e).backgroundImage.includes('gradient'))
    .map(e => `${name(e)} ${e.scrollWidth} > ${e.clientWidth} px: `
              + e.textContent.trim().slice(0, 60));
  const figures = Array.from(document.querySelectorAll('figure img')).filter(shown)
    .map(img => ({src: img.getAttribute('src'), width: img.getBoundingClientRect().width,
                  natural: img.naturalWidth}));
  return {viewport, pageWidth: root.scrollWidth, sticking: sticking.slice(0, 5),
          codeLines: codeLines.length,
          wrapped: wrapped.map(r => r.toString().trim().slice(0, 60)).slice(0, 5),
          wrappedCount: wrapped.length, uncued: uncued.slice(0, 5), figures};
})()
"""

FIT_WIDTHS = (1280, 400)  # a laptop's window, a phone's (CSS pixels)


def test_pages_fit_wide_and_phone_screens(browser: DevTools, site: str) -> None:
    """At 1280 and at 400 px, on every page (the index's target, each chapter, the API
    reference): the page never scrolls sideways; no line of a code cell wraps (each is
    one row; a long one scrolls inside its cell); every code, output or display-equation
    box that holds more than it shows scrolls by itself and shows a scroll shadow; and a
    figure on the phone is drawn at least 80 % as wide as on the wide screen (or at the
    size it was made), so that its labels stay readable."""
    redirects = _redirects()
    first = urllib.parse.urljoin("index.html", redirects.get("index.html", "index.html"))
    pages = [first] + [rel for rel in _html_pages() if rel.startswith("chapters/")]
    pages = list(dict.fromkeys(pages))
    assert "chapters/api.html" in pages and len(pages) > 3, pages
    problems: list[str] = []
    wide_figures: dict[tuple[str, str], float] = {}
    lines_checked = 0
    for width in FIT_WIDTHS:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        try:
            for rel in pages:
                browser.call("Page.navigate", url=site + rel)
                browser.wait_for("Page.loadEventFired")
                fit = browser.evaluate(_FIT, timeout=60)
                where = f"{width} px, {rel}"
                assert fit["viewport"] == width, f"{where}: the viewport is {fit['viewport']} px"
                lines_checked += fit["codeLines"]
                if fit["pageWidth"] > width:
                    problems.append(
                        f"{where}: the page is {fit['pageWidth']} px wide: {fit['sticking']}"
                    )
                if fit["wrappedCount"]:
                    problems.append(
                        f"{where}: {fit['wrappedCount']} of {fit['codeLines']} code lines "
                        f"wrap, e.g. {fit['wrapped']}"
                    )
                if fit["uncued"]:
                    problems.append(f"{where}: wider than shown, no scroll cue: {fit['uncued']}")
                for figure in fit["figures"]:
                    key = (rel, figure["src"])
                    if width == FIT_WIDTHS[0]:
                        wide_figures[key] = figure["width"]
                    elif key in wide_figures:
                        least = min(0.8 * wide_figures[key], figure["natural"])
                        if figure["width"] < least - 1:
                            problems.append(
                                f"{where}: figure {figure['src']} drawn {figure['width']:.0f} "
                                f"px wide, {wide_figures[key]:.0f} px on the wide screen"
                            )
        finally:
            browser.call("Emulation.clearDeviceMetricsOverride")
    assert lines_checked > 100, "the chapters' code cells were not found"
    assert wide_figures, "no figure was found on a wide screen"
    assert not problems, "\n".join(problems)


def _repository() -> tuple[str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/").removesuffix(".git")
    return url.removeprefix("https://github.com/"), config["repository"].get("branch", "main")


def test_launch_buttons_open_the_reader_edition_and_downloads_offer_both(
    pages: dict[str, Page],
) -> None:
    """Colab and Binder open reader/NN_name.ipynb; the download menu offers it and
    student/NN_name.ipynb (no solutions), each as committed."""
    chapters = _notebook_chapters()
    assert chapters, "no built chapter has a paired .ipynb"
    repo, branch = _repository()
    for rel in chapters:
        stem = Path(rel).stem
        notebook = f"reader/{stem}.ipynb"
        assert (ROOT / notebook).is_file()
        colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{notebook}"
        binder = f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/{notebook}"
        launch = pages[rel].info["launch"]
        assert colab in launch, f"{rel}: Colab links {launch}, expected {colab}"
        assert binder in launch, f"{rel}: Binder links {launch}, expected {binder}"
        site_root = pages[rel].url.rsplit("/chapters/", 1)[0]
        links = pages[rel].info["links"]
        download = [h for h in links if h.startswith(site_root) and h.endswith(".ipynb")]
        expected = [
            f"{site_root}/_sources/{folder}/{stem}.ipynb" for folder in ("reader", "student")
        ]
        assert download == expected, f"{rel}: downloads {download}"
        for folder in ("reader", "student"):
            served = HTML / "_sources" / folder / f"{stem}.ipynb"
            assert served.read_bytes() == (ROOT / folder / f"{stem}.ipynb").read_bytes()
        assert (
            "### BEGIN SOLUTION"
            not in (HTML / "_sources" / "student" / f"{stem}.ipynb").read_text()
        )


def test_pages_that_are_not_notebooks_have_no_launch_buttons(pages: dict[str, Page]) -> None:
    notebooks = set(_notebook_chapters())
    wrong = {rel: p.info["launch"] for rel, p in pages.items() if rel not in notebooks}
    assert not {rel: links for rel, links in wrong.items() if links}


def _screenshot(browser: DevTools, name: str) -> None:
    png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
    assert png.startswith(b"\x89PNG")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(png)


def test_screenshot_of_a_chapter(browser: DevTools, site: str) -> None:
    """Saves test-artifacts/chapter.png (the top of the first chapter after the preface) and
    chapter-math.png (its first displayed equation and what follows) for a person to look at."""
    chapters = [c for c in _notebook_chapters() if not c.startswith("chapters/00_")]
    chapter = chapters[0] if chapters else _notebook_chapters()[0]
    page = _visit(browser, site, site + chapter)
    assert not page.js_errors
    _screenshot(browser, "chapter.png")
    found = browser.evaluate(
        "(() => { const m = document.querySelector('div.math mjx-container');"
        " if (m) { m.scrollIntoView({block: 'start'}); window.scrollBy(0, -120); }"
        " return !!m; })()"
    )
    if found:
        _screenshot(browser, "chapter-math.png")


# ----------------------------------------------------------------------------- API reference
def _inventory_names() -> set[str]:
    """The Python objects the built book documents, read from its objects.inv."""
    header = b"# Sphinx inventory version 2\n"
    data = (HTML / "objects.inv").read_bytes()
    assert data.startswith(header), "objects.inv is not a Sphinx inventory version 2"
    compressed = data.split(b"\n", 4)[4]  # after four comment lines
    entries = (line.split(" ", 2) for line in zlib.decompress(compressed).decode().splitlines())
    return {e[0] for e in entries if len(e) == 3 and e[1].startswith("py:")}


def _public_names() -> dict[str, list[str]]:
    """Module -> its public names: ``__all__``, or what the module itself defines."""
    import bplib

    modules = {"bplib": bplib}
    for info in pkgutil.iter_modules(bplib.__path__, "bplib."):
        if not info.name.rsplit(".", 1)[1].startswith("_"):
            modules[info.name] = importlib.import_module(info.name)
    public = {}
    for name, module in modules.items():
        names = getattr(module, "__all__", None)
        if names is None:
            names = [
                n
                for n, obj in vars(module).items()
                if not n.startswith("_")
                and callable(obj)
                and getattr(obj, "__module__", None) == name
            ]
        public[name] = [n for n in names if not n.startswith("_")]
    return public


def test_api_reference_documents_every_public_name() -> None:
    import bplib

    documented = _inventory_names()
    missing = []
    for module, names in _public_names().items():
        for name in names:
            obj = getattr(importlib.import_module(module), name)
            # documented where it is defined, where it is exported, or (a name that bplib
            # re-exports, such as bplib.Linear) at the top level
            places = {f"{module}.{name}", f"{getattr(obj, '__module__', module)}.{name}"}
            if getattr(bplib, name, None) is obj:
                places.add(f"bplib.{name}")
            if not places & documented:
                missing.append(f"{module}.{name}")
    assert not missing, f"public names missing from chapters/api.md: {missing}"


# ----------------------------------------------------------------------------- JupyterLab
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab from this environment (its settings: jupyterlab/overrides.json, as make
    venv installs it), serving the repository, on a free port of 127.0.0.1."""
    pytest.importorskip("jupyterlab")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path_factory.mktemp("lab-home")
    env = {**os.environ, "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={ROOT}",
            "--allow-root",  # CI runs as root in a container
            f"--LabApp.user_settings_dir={home / 'settings'}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}api", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start (exit code {proc.poll()})")
                time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


_LAB_TEXT = r"""
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + %d;
  // the notebook in view (a notebook opened earlier may still be open, in a hidden tab)
  const shown = () => Array.from(document.querySelectorAll('.jp-Notebook'))
    .find(n => n.offsetHeight > 0 && n.querySelectorAll('.jp-MarkdownCell').length >= 5);
  while (Date.now() < deadline && !shown()) await sleep(250);
  const notebook = shown();
  if (!notebook) return '';
  // JupyterLab renders a long notebook's cells as they scroll into view: scroll through
  // it, collecting each rendered Markdown cell's text (without the hidden editor that
  // holds its source); a number printed by a code cell does not count
  const seen = new Map();
  const collect = () => notebook.querySelectorAll('.jp-MarkdownCell').forEach(c => {
    const copy = c.cloneNode(true);
    copy.querySelectorAll('.jp-InputArea-editor, .cm-editor').forEach(e => e.remove());
    const text = copy.textContent;
    const key = c.getAttribute('data-windowed-list-index') || text.slice(0, 80);
    if (text.trim()) seen.set(key, text);
  });
  const scroller = notebook.closest('.jp-WindowedPanel-outer')
    || notebook.querySelector('.jp-WindowedPanel-outer') || notebook;
  let last = -1, still = 0;
  // the end: four tries at the bottom that do not move (on a loaded machine the layout
  // may lag, so a scroll that did not move before the bottom is tried again)
  while (Date.now() < deadline && still < 4) {
    await sleep(400);
    collect();
    const bottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 2;
    still = scroller.scrollTop === last && bottom ? still + 1 : 0;
    last = scroller.scrollTop;
    scroller.scrollTop = last + scroller.clientHeight * 0.8;
  }
  collect();
  return Array.from(seen.values()).join('\n');
})()
"""


@pytest.mark.parametrize("folder", ["reader", "student"])
def test_jupyterlab_shows_an_editions_numbers_and_no_myst(
    browser: DevTools, lab: str, folder: str
) -> None:
    """Chapter 3 opened in JupyterLab shows the error after the step as a number (not the
    glued name), figure numbers, and no MyST label shown as a warning."""
    sys.path.insert(0, str(ROOT / "tools"))
    import make_editions
    import nbformat

    full = nbformat.read(ROOT / "chapters" / "03_chain_rule.ipynb", as_version=4)
    e_after = make_editions.glued_text(make_editions.glue_values(full), "E_after")
    browser.events.clear()
    browser.call("Page.navigate", url=f"{lab}lab/tree/{folder}/03_chain_rule.ipynb")
    browser.wait_for("Page.loadEventFired", timeout=60)
    text = browser.evaluate(_LAB_TEXT % 150_000, timeout=180)
    assert f"{folder} edition" in text, f"JupyterLab did not show the {folder} edition"
    assert "Fig. 3." in text, f"{folder}: no figure number in JupyterLab's page"
    assert e_after in text, f"{folder}: the error after the step, {e_after}, is not shown"
    for label in ("E_after_first_diff", "fig-chain-network", "mazur2015step", "{glue", "{numref"):
        assert label not in text, f"{folder}: JupyterLab shows {label!r}"
