"""The notebook editions (``reader/`` and ``student/``): plain Jupyter Markdown that reads
right wherever a notebook is opened (JupyterLab, Colab, VS Code, GitHub).

``tools/make_editions.py`` makes them from the executed chapters. These tests hold it to
what a reader sees: no MyST left in the Markdown as a plain CommonMark renderer shows it,
every glued value present as text, the numbers of figures and equations those of the HTML
book, no cell that exists only for the build, a pinned install cell, every edition running
from a fresh kernel, and no ``.md`` twin made by saving an edition.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import make_editions  # noqa: E402

from chapters import CHAPTERS, chapter_sources  # noqa: E402

SOURCES = chapter_sources()
EDITIONS = [(md, student) for md in SOURCES for student in (False, True)]
HTML = ROOT / "_build" / "html" / "chapters"


def edition(md: Path, student: bool) -> Any:
    return nbformat.read(make_editions.edition_path(md, student), as_version=4)


def _id(param: tuple[Path, bool]) -> str:
    md, student = param
    return f"{'student' if student else 'reader'}-{md.stem}"


# ------------------------------------------------------------------ the MyST detector
_RENDERER = MarkdownIt("commonmark").use(dollarmath_plugin)
LEFTOVERS = [
    (re.compile(r"\{[a-z]+(?::[a-z]+)?\}`"), "a MyST role"),
    (re.compile(r"^\([\w-]+\)=\s*$", re.M), "a (label)= target"),
    (re.compile(r"^:{3,}\{?[\w-]*\}?", re.M), "a colon fence"),
    (re.compile(r"\{[\w:.-]+\}"), "a {...} placeholder"),
]


def myst_leftovers(markdown: str) -> list[str]:
    """What a plain CommonMark renderer (dollar math only) would show of MyST syntax.

    The text a reader sees (outside code and math) is searched for roles, ``(label)=``
    targets, colon fences and ``{...}`` placeholders; a fenced block whose info string is a
    directive (```` ```{figure} ````) is reported too.
    """
    found = []
    for token in _RENDERER.parse(markdown):
        if token.type == "fence" and token.info.strip().startswith("{"):
            found.append(f"a directive fence: ```{token.info.strip()}")
        for child in token.children or []:
            if child.type in ("text", "html_inline"):
                for pattern, what in LEFTOVERS:
                    match = pattern.search(child.content)
                    if match:
                        found.append(f"{what}: {match.group(0)!r} in {child.content[:80]!r}")
        if token.type in ("inline",) and not token.children:
            continue
    # a line of its own such as (label)= is a paragraph's text; so is a colon fence
    return found


def test_the_detector_fires_on_the_chapter_sources() -> None:
    """Self-test: the MyST that the old student edition showed is found."""
    sample = "\n\n".join(
        [
            "(fig-x)=",
            "See {numref}`fig-chain-network` and {glue:text}`E_after`.",
            ":::{dropdown} Solution\ntext\n:::",
            "```{literalinclude} ../bplib/autodiff.py\n:pyobject: unbroadcast\n```",
        ]
    )
    found = myst_leftovers(sample)
    assert len(found) >= 4, found
    # and on every chapter source with roles in it (what student/ used to hold)
    md = CHAPTERS / "03_chain_rule.md"
    assert len(myst_leftovers(md.read_text())) > 20
    # while plain Markdown with math and code passes
    plain = "A $\\{x\\}$ set, `{glue:text}` in code, and\n\n```python\nf'{x}'\n```\n"
    assert myst_leftovers(plain) == []


@pytest.mark.parametrize("param", EDITIONS, ids=_id)
def test_an_edition_has_no_myst_left(param: tuple[Path, bool]) -> None:
    nb = edition(*param)
    found = [f for c in nb.cells if c.cell_type == "markdown" for f in myst_leftovers(c.source)]
    assert not found, "\n".join(found[:10])


def test_the_editions_are_current() -> None:
    """reader/ and student/ are what ``make editions`` makes of the executed chapters."""
    assert make_editions.main(["--check"]) == 0


# ------------------------------------------------------------------ glue, numbers, cells
def _glue_roles(md: Path) -> list[str]:
    return re.findall(r"\{glue:text\}`([^`]+)`", md.read_text())


@pytest.mark.parametrize("md", SOURCES, ids=lambda md: md.stem)
def test_every_glued_value_is_in_the_reader_edition(md: Path) -> None:
    full = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    values = make_editions.glue_values(full)
    text = "\n".join(c.source for c in edition(md, False).cells if c.cell_type == "markdown")
    for role in _glue_roles(md):
        shown = make_editions.glued_text(values, role)
        assert shown in text, f"{md.stem}: {role} = {shown!r} is not in the reader edition"


def _html_text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


@pytest.mark.skipif(not HTML.is_dir(), reason="the HTML book is not built (make book)")
@pytest.mark.parametrize("md", SOURCES, ids=lambda md: md.stem)
def test_the_reader_edition_shows_what_the_html_book_shows(md: Path) -> None:
    """Glued values, figure numbers and equation numbers, as the built HTML book has them."""
    page = (HTML / md.stem).with_suffix(".html").read_text()
    text = "\n".join(c.source for c in edition(md, False).cells if c.cell_type == "markdown")
    full = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    timed = {  # glued from a cell whose output is a timing: the build's own measurement
        out["metadata"]["scrapbook"]["name"]
        for cell in full.cells
        if "nbval-ignore-output" in cell.metadata.get("tags", [])
        for out in cell.get("outputs", [])
        if "scrapbook" in out.get("metadata", {})
    }
    pasted = re.findall(r'<span class="pasted-text">([^<]*)</span>', page)
    roles = _glue_roles(md)
    assert len(pasted) == len(roles), f"{md.stem}: {len(roles)} glue roles, {len(pasted)} in HTML"
    for role, shown in zip(roles, pasted, strict=True):
        if role.split(":")[0] not in timed:
            assert html.unescape(shown) in text, f"{md.stem}: glued {role} = {shown!r} missing"
    figures = [f.strip() for f in re.findall(r'<span class="caption-number">([^<]*)</span>', page)]
    assert [f"**{f}.**" in text for f in figures] == [True] * len(figures), figures
    equations = re.findall(r'<span class="eqno">\(([^)]*)\)', page)
    tags = re.findall(r"\\tag\{([^}]*)\}", text)
    assert tags == equations, f"{md.stem}: equations {equations}, edition {tags}"
    for ref in re.findall(r'<span class="std std-numref">([^<]*)</span>', page):
        assert f"[{html.unescape(ref)}]" in text, f"{md.stem}: reference {ref!r} missing"


@pytest.mark.parametrize("param", EDITIONS, ids=_id)
def test_no_cell_exists_only_for_the_build(param: tuple[Path, bool]) -> None:
    """No glue in the editions, and every cell the book hides is collapsed, not in view."""
    nb = edition(*param)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not re.search(r"^\s*glue\w*\(|myst_nb", cell.source, re.M), cell.source
        tags = cell.metadata.get("tags", [])
        if "remove-cell" in tags or "remove-input" in tags:
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), cell.source[:200]
        assert "raises-exception" not in tags, "a raising cell stops Colab's Run all"


def test_build_only_cells_are_found() -> None:
    """The rule: remove-cell cells of glue calls and checks go, unless a kept cell reads
    a name they bind; other hidden cells stay."""
    nb = nbformat.v4.new_notebook()
    cells = [
        ("x = 2", []),
        ("glue('x', x, display=False)\nassert x == 2", ["remove-cell"]),
        ("helper = 3", ["remove-cell"]),  # read below: kept
        ("unused = 4\nassert unused", ["remove-cell"]),  # read by nobody: dropped
        ("print('side effect')", ["remove-cell"]),  # a call: kept
        ("draw = rng.normal()", ["remove-cell"]),  # the chapter's generator: kept
        ("print(helper)", []),
    ]
    nb.cells = [nbformat.v4.new_code_cell(s, metadata={"tags": t}) for s, t in cells]
    make_editions.strip_glue(nb)
    assert make_editions.build_only_cells(nb) == {1, 3}


def test_glue_and_its_imports_are_stripped() -> None:
    """bplib.book's glue helpers go, with their imports; the other plumbing stays."""
    nb = nbformat.v4.new_notebook()
    sources = [
        "from bplib.book import glue, glue_number",
        "import numpy as np\nfrom bplib.book import glue, show\n\nx = np.pi\nglue_number('x', x)",
        "from myst_nb import glue\nfor k in range(2):\n    glue(f'k{k}', k)\nprint(x)",
    ]
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    make_editions.strip_glue(nb)
    assert [c.source for c in nb.cells] == [
        "",
        "import numpy as np\nfrom bplib.book import show\n\nx = np.pi",
        "print(x)",
    ]


def test_the_install_cell_installs_the_release_the_edition_was_made_from() -> None:
    """One install cell, the first code cell, pinned; the chapter sources carry none
    (tests/book/test_chapter_sources.py)."""
    pinned = f"git+{make_editions.REPOSITORY}@v{make_editions.VERSION}"
    for md, student in EDITIONS:
        sources = [c.source for c in edition(md, student).cells if c.cell_type == "code"]
        installs = [s for s in sources if "pip" in s and "bplib-book" in s]
        assert len(installs) == 1, f"{md.stem}: {len(installs)} install cells"
        assert sources[0] == installs[0], f"{md.stem}: the install cell is not the first"
        assert pinned in installs[0], installs[0]
        assert "google.colab" in installs[0]


def test_saving_an_edition_writes_no_md_but_saving_a_chapter_does(tmp_path: Path) -> None:
    """Jupytext pairs the chapter sources only (chapters/jupytext.toml), so a student who
    saves an edition in JupyterLab does not get a .md beside it."""
    jupytext = pytest.importorskip("jupytext")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "chapters").mkdir()
    shutil.copy(CHAPTERS / "jupytext.toml", tmp_path / "chapters")
    name = "01_neurons.ipynb"
    shutil.copy(CHAPTERS / name, tmp_path / "chapters")
    for folder in ("reader", "student"):
        (tmp_path / folder).mkdir()
        shutil.copy(ROOT / folder / name, tmp_path / folder)
    manager = jupytext.TextFileContentsManager(root_dir=str(tmp_path))
    for folder in ("reader", "student", "chapters"):
        manager.save(manager.get(f"{folder}/{name}"), f"{folder}/{name}")
    assert not list((tmp_path / "reader").glob("*.md"))
    assert not list((tmp_path / "student").glob("*.md"))
    assert (tmp_path / "chapters" / "01_neurons.md").exists()


# ------------------------------------------------------------------ each edition runs
@pytest.mark.parametrize("md", SOURCES, ids=lambda md: md.stem)
def test_the_reader_edition_runs_top_to_bottom(md: Path, tmp_path: Path) -> None:
    """From a fresh kernel, with no error (the student edition: tests/book/test_student.py)."""
    nb = edition(md, False)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first error
