"""The book's local Sphinx extension: three small fixes to how the HTML book comes out.

1. Author-year citations in round brackets. sphinxcontrib-bibtex's ``author_year`` style writes ``{cite:t}`kingma2015adam``` as
"Kingma and Ba [2015]" and ``{cite:p}`` as "[Kingma and Ba, 2015]". Textbooks write
"Kingma and Ba (2015)" and "(Kingma and Ba, 2015)", as this book's prose does. This module
registers the same style with round brackets under the name ``author_year_round``, the way
sphinxcontrib-bibtex's documentation describes ("Custom Citation Reference Styles");
``_config.yml`` selects it with ``bibtex_reference_style``.

2. No script twice in a page. Sphinx 7.4 adds the inline scripts that extensions register
after the builder starts (sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's
selector) a second time when it prepares writing (``StandaloneHTMLBuilder.prepare_writing``
re-adds ``app.registry.js_files`` with the file name ``''`` where ``app.add_js_file`` had
stored ``None``, so its de-duplication misses them). In the browser the second
``const THEBE_JS_URL`` is a SyntaxError on every page; tests/test_browser.py catches it.
``_drop_duplicate_scripts`` removes the repeats from each page's list of scripts.

3. Accessibility (the axe-core audit of tests/test_browser.py). The findings on every page
come from the theme, myst-nb and docutils, and ``_accessible`` rewrites each written page:

- the search button's ``aria-label="Search"`` hides its visible text "Search Ctrl+K" from
  speech input (WCAG 2.5.3, label in name: axe ``label-content-name-mismatch``). Without
  the label, the button's name is its visible text. (The icon-only search button, which has
  no visible text, keeps its label.)
- the colour-mode button is named "Color mode" while its icons carry the titles "Light",
  "Dark" and "System Settings", which Font Awesome turns into SVG ``<title>`` text inside
  the button, so its name does not contain its text. The icons lose their titles (the
  button's tooltip still says "Color mode").
- myst-nb's "Show code cell source" toggles (cells tagged ``hide-input``) are ``<summary
  aria-label="Toggle hidden content">``: the label hides the visible "Show code cell
  source", so it is dropped.
- a figure made by a code cell gets the image's file name as its ``alt`` text
  (``../_images/<hash>.png``), which names nothing. Each such image gets the first sentence
  of its caption instead ("The four activations (solid) and their derivatives as derived
  by SymPy (dashed)."), which says what the figure shows.
- docutils marks each bibliography entry ``role="doc-biblioentry"`` inside a ``role="list"``.
  DPUB-ARIA 1.1 deprecated that role, and a list must contain list items (axe
  ``aria-required-children``, critical; ``aria-deprecated-role``), so entries become
  ``role="listitem"``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import sphinxcontrib.bibtex.plugin
from sphinx.application import Sphinx
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")", sep="; ")


@dataclasses.dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """``author_year`` with ``(`` ``)`` instead of ``[`` ``]``."""

    bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_textual: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_author: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_label: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_year: BracketStyle = dataclasses.field(default_factory=_round)


sphinxcontrib.bibtex.plugin.register_plugin(
    "sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYearReferenceStyle
)


def _drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for js in scripts:
        attributes = getattr(js, "attributes", {})
        key = (getattr(js, "filename", js) or "", getattr(js, "priority", None))
        key += tuple(sorted((k, str(v)) for k, v in attributes.items()))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique  # the builder's own list: it restores it after each page


_BUTTON = re.compile(r"<button\b[^>]*>.*?</button>", re.S)
_ARIA_LABEL = re.compile(r'\s+aria-label="[^"]*"')


def _visible_text(element: str) -> str:
    return re.sub(r"<[^>]+>|\s+", "", element)


_THEME_ICON = re.compile(r'<i class="theme-switch [^>]*>')
_TITLE = re.compile(r'\s+title="[^"]*"')
_FIGURE = re.compile(r"<figure\b[^>]*>.*?</figure>", re.S)
_PATH_ALT = re.compile(r'(<img\b[^>]*?\balt=")([^"]*\.(?:png|svg|jpe?g|gif))(")', re.S)
_CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)


def _caption_alt(figure: re.Match[str]) -> str:
    """A figure whose image's alt is a file name: alt becomes its caption's first sentence."""
    html = figure.group(0)
    caption = _CAPTION.search(html)
    if caption is None or not _PATH_ALT.search(html):
        return html
    text = re.sub(
        r'<span class="caption-number">.*?</span>|<a class="headerlink".*?</a>',
        "",
        caption.group(1),
        flags=re.S,
    )
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"\\[()]", "", text)  # MathJax's \( \) around inline math
    text = " ".join(text.split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].replace('"', "&quot;")
    return _PATH_ALT.sub(lambda m: m.group(1) + first + m.group(3), html, count=1)


def _accessible(html: str) -> str:
    """The page with the fixes of point 3 in the module's docstring."""

    def search_button(match: re.Match[str]) -> str:
        button = match.group(0)
        start = button[: button.index(">") + 1]
        if "search-button" not in start or not _visible_text(button):
            return button
        return _ARIA_LABEL.sub("", start, count=1) + button[len(start) :]

    html = _BUTTON.sub(search_button, html)
    html = _THEME_ICON.sub(lambda m: _TITLE.sub("", m.group(0)), html)
    html = html.replace('<summary aria-label="Toggle hidden content">', "<summary>")
    html = _FIGURE.sub(_caption_alt, html)
    return html.replace('role="doc-biblioentry"', 'role="listitem"')


def _make_pages_accessible(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        fixed = _accessible(html)
        if fixed != html:
            page.write_text(fixed, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _drop_duplicate_scripts)
    app.connect("build-finished", _make_pages_accessible)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
