"""What the reader of the book sees in a chapter's code cells.

A code cell the book shows holds only what teaches. The book's plumbing, ``glue(...)``
and ``glue_number(...)`` (``bplib.book``) that hand computed numbers to the prose, lives in
cells tagged ``remove-cell`` (run, but not shown in the book). A cell tagged
``remove-input`` shows its output only, so it may glue too.

The plumbing is defined once, in ``bplib.book``: no chapter defines its own glue helper,
``show`` or ``show_source``, shows library code other than with ``show_source``, or carries
a Colab install cell (``tools/make_editions.py`` writes the editions' one).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from chapters import chapter_sources, read  # noqa: E402

HIDDEN = {"remove-cell", "remove-input"}


def _is_glue(name: str) -> bool:
    return name == "glue" or name.startswith("glue_")


def glue_lines(source: str) -> list[int]:
    """The lines (1-based) of ``source`` that call, define or import ``glue`` or a ``glue_*``
    helper."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics): fall back to reading the text
        return [
            i
            for i, line in enumerate(source.splitlines(), start=1)
            if re.search(r"\bglue(_\w+)?\s*\(", line)
        ]
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if _is_glue(name):
                lines.add(node.lineno)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_glue(node.name):
            lines.add(node.lineno)
        elif isinstance(node, ast.ImportFrom) and any(_is_glue(a.name) for a in node.names):
            lines.add(node.lineno)
    return sorted(lines)


def test_glue_lines_finds_calls_helpers_and_imports_but_not_mentions():
    source = (
        "from myst_nb import glue\n"
        "x = 1\n"
        'glue("x", x, display=False)\n'
        "def glue_number(name, value):\n"
        "    pass\n"
        'glue_number("y", 2)\n'
        'myst_nb.glue("z", 3)\n'
        '# glue("comment", 0) is not a call\n'
        'print("glue(")\n'
        "from bplib.book import show, glue_number\n"
        "from bplib.book import show_source\n"
    )
    assert glue_lines(source) == [1, 3, 4, 6, 7, 10]
    assert glue_lines("%timeit f()\nglue('t', 1)\n") == [2]  # not Python: read as text


@pytest.mark.parametrize("md", chapter_sources(), ids=lambda p: p.stem)
def test_no_visible_code_cell_glues(md: Path) -> None:
    offenders = []
    for index, cell in enumerate(read(md).cells):
        if cell.cell_type != "code" or HIDDEN & set(cell.metadata.get("tags", [])):
            continue
        source_lines = cell.source.splitlines()
        for line in glue_lines(cell.source):
            offenders.append(f"cell {index}: {source_lines[line - 1].strip()}")
    assert not offenders, (
        f"{md.name}: visible code cells call, define or import glue; move these lines into a cell "
        "tagged remove-cell:\n" + "\n".join(offenders)
    )


PLUMBING = {"glue", "glue_number", "show", "show_source"}


def own_plumbing(source: str) -> list[str]:
    """What in ``source`` (a chapter's Markdown) belongs in ``bplib.book`` or the editions'
    generator: a definition of a plumbing helper, a literalinclude, a Colab install."""
    found = [
        f"def {name}" for name in re.findall(r"^\s*def (\w+)\(", source, re.M) if name in PLUMBING
    ]
    found += [
        f"{{literalinclude}} {arg}" for arg in re.findall(r"\{literalinclude\}\s*(\S+)", source)
    ]
    if "google.colab" in source:
        found.append("a Colab install cell")
    return found


def test_own_plumbing_finds_definitions_includes_and_install_cells():
    source = (
        "```{code-cell} ipython3\ndef show(lhs, expr):\n    pass\n```\n"
        "```{literalinclude} ../bplib/autodiff.py\n:pyobject: unbroadcast\n```\n"
        'if "google.colab" in sys.modules:\n'
        "def showcase():\n"  # not a plumbing name
    )
    assert own_plumbing(source) == [
        "def show",
        "{literalinclude} ../bplib/autodiff.py",
        "a Colab install cell",
    ]


@pytest.mark.parametrize("md", chapter_sources(), ids=lambda p: p.stem)
def test_the_plumbing_is_bplib_book(md: Path) -> None:
    found = own_plumbing(md.read_text())
    assert not found, (
        f"{md.name}: import these from bplib.book (show library code with show_source; the editions write the install cell): {found}"
    )


# --------------------------------------- the listings chapters 5 and 6 print (issue 29)
CHECK_WORDS = ("assert", "raise ", "_check", "check_", "finite", "errstate", "same_shape")


@pytest.mark.parametrize("chapter", ["05_building_bplib.md", "06_gradient_descent.md"])
def test_the_library_code_chapters_5_and_6_print_is_mathematics_without_checks(chapter):
    """Every ``show_source(...)`` of chapters 5 and 6 prints code with no check, assertion,
    raise or finiteness test in it (comments and docstrings aside): checks live at the
    boundary (``Module``'s wrapped methods, ``numerical_gradient``'s wrapper)."""
    import inspect

    import bplib
    from bplib.gradcheck import numerical_gradient

    namespace = {"bplib": bplib, "optim": bplib.optim, "numerical_gradient": numerical_gradient}
    targets = re.findall(r"^show_source\((.+)\)$", (ROOT / "chapters" / chapter).read_text(), re.M)
    assert targets, f"{chapter} prints no library code"
    for target in targets:
        listing = inspect.getsource(eval(target, namespace))
        body = listing.split('"""')[-1] if '"""' in listing else listing
        for line in body.splitlines():
            code = line.split("#")[0]
            assert not any(w in code for w in CHECK_WORDS), f"{chapter}: {target}: {line!r}"
