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
``const THEBE_JS_URL`` is a SyntaxError on every page; tests/book/test_browser.py catches it.
``_drop_duplicate_scripts`` removes the repeats from each page's list of scripts.

3. Accessibility (the axe-core audit of tests/book/test_browser.py). The findings on every page
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

4. The launch and download buttons open the notebook editions. sphinx-book-theme's launch
buttons (Colab, Binder) link the ``.ipynb`` beside a page's source,
``chapters/NN_name.ipynb``: the authoring format, whose MyST (glued values, references,
directives) neither Colab nor JupyterLab renders. For every page with notebook editions
(``tools/make_editions.py`` writes them), ``_editions`` points the launch links at the
reader edition ``reader/NN_name.ipynb`` in the repository, and the download menu offers
both the reader and the student edition (``student/NN_name.ipynb``, solutions left out),
each copied into the site as committed in git (``git show HEAD:...``), never a copy that
someone solved or edited in the working tree.

5. Sharp figures. The inline backend draws PNG at 100 dpi, soft on a high-density screen.
The book's kernels (started by the build to execute each chapter) get a private IPython
directory whose kernel configuration asks for SVG instead: figures stay vector graphics
in the HTML book, while the notebooks committed beside the chapters, executed by
``tools/execute_chapters.py`` in an ordinary kernel, keep their compact PNG figures. The
private directory also keeps a reader's own IPython profile (startup files, extensions)
out of the build.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import tempfile
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


def _committed(path: Path) -> bytes:
    """``path`` as committed (``git show HEAD:path``), so a notebook solved or edited in the
    working tree never ships as an edition; the file itself outside a git checkout."""
    root = path.parent.parent
    rel = path.relative_to(root).as_posix()
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "show", f"HEAD:{rel}"], capture_output=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return path.read_bytes()
    return done.stdout


def _editions(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    name = Path(pagename).name
    src = Path(app.srcdir)
    reader, student = (src / folder / f"{name}.ipynb" for folder in ("reader", "student"))
    if not reader.is_file():
        return
    full = f"{pagename}.ipynb"  # the path in the repository the theme's links end with
    sources = context["pathto"]("_sources", 1)
    for edition in (reader, student):
        copy = Path(app.outdir) / "_sources" / edition.parent.name / edition.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(_committed(edition))
    for group in context.get("header_buttons", []):
        buttons = group.get("buttons", [])
        for button in list(buttons):
            url = button.get("url", "")
            if group.get("label") == "launch-buttons" and full in url:
                button["url"] = url.replace(full, f"reader/{name}.ipynb")
            elif button.get("label") == "download-notebook-button":
                button["url"] = f"{sources}/reader/{name}.ipynb"
                button["text"] = ".ipynb (reader edition)"
                button["tooltip"] = "Download the notebook: every solution, folded"
                if student.is_file():
                    extra = dict(button)
                    extra["label"] = "download-student-notebook-button"
                    extra["url"] = f"{sources}/student/{name}.ipynb"
                    extra["text"] = ".ipynb (student edition)"
                    extra["tooltip"] = "Download the notebook with the solutions left out"
                    buttons.insert(buttons.index(button) + 1, extra)


KERNEL_CONFIG = """\
# Written by _ext/book_ext.py for the book's build: vector figures in the HTML book.
c.InlineBackend.figure_formats = {"svg"}
"""


def _svg_figures_in_the_build() -> None:
    """Point the kernels the build starts at a private IPython directory asking for SVG."""
    ipython_dir = Path(tempfile.mkdtemp(prefix="book-ipython-"))
    profile = ipython_dir / "profile_default"
    profile.mkdir()
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG)
    os.environ["IPYTHONDIR"] = str(ipython_dir)  # inherited by every kernel started later


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _drop_duplicate_scripts)
    app.connect("build-finished", _make_pages_accessible)
    # after sphinx-book-theme has made its buttons (priority 501)
    app.connect("html-page-context", _editions, priority=600)
    _svg_figures_in_the_build()
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
