"""The book's local Sphinx extension: two small fixes to how the HTML book comes out.

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

3. Sharp figures. The inline backend draws PNG at 100 dpi, soft on a high-density screen.
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
    _svg_figures_in_the_build()
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
