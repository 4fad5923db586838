"""The student edition's solution stubs: what ``tools/make_editions.py`` does to exercises.

Usage: ``python tools/make_student.py [--check]`` is ``python tools/make_editions.py
[--check]``: both notebook editions (``reader/`` and ``student/``) of every chapter; that
tool also turns the chapters' MyST into plain Jupyter Markdown. This module holds the part
that concerns exercises.

The full edition is ``chapters/NN_name.ipynb``, executed, with every solution. In an
exercise's answer cell the solution sits between two marker lines, nbgrader's and
otter-grader's convention::

    # Your answer: dL/dX, from delta1 and W1.
    ### BEGIN SOLUTION
    dX = delta1 @ W1.T
    ### END SOLUTION

The student edition is the same notebook with three changes:

1. each solution region is replaced by its stub, at the region's indentation:

   - ``return ...`` if the region returns (a region inside a function's body);
   - otherwise ``name = ...`` for each name that the region binds at its top level (by
     assignment, ``def`` or ``class``) and that the exercise's check cell reads: the
     answers, not the intermediate steps. ``dX = delta1 @ W1.T`` becomes ``dX = ...``.

   ``...`` is Python's ``Ellipsis``; the check cells read the answers through
   ``bplib.exercises.answer``, which turns a stub into "Not yet: write your answer in the
   cell above". A region with nothing to stub is an error;
2. the outputs of each answer cell and of the check cell after it (the next code cell)
   are cleared, so no "Correct" gives the answer away;
3. every ``:::{dropdown} Solution`` block is removed from the text.

Every other cell, with its stored output, is as in the full edition, and the Jupytext
pairing metadata is dropped (a student notebook has no ``.md`` twin). The chapters'
file names decide the student files' names; a chapter without exercises gets a student
edition too, identical but for that metadata, so every page's launch button has one.
"""

from __future__ import annotations

import ast
import copy
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from chapters import ROOT

STUDENT = ROOT / "student"
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
DROPDOWN = re.compile(r"^(:{3,})\{dropdown\}\s*Solution\b")


class MarkerError(ValueError):
    """A malformed solution region (unbalanced markers, nothing to stub)."""


def _bound(code: str) -> list[str]:
    """The names ``code`` binds at its top level (assignment, ``def``, ``class``), in order."""
    names: list[str] = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                elements = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
                names += [e.id for e in elements if isinstance(e, ast.Name)]
    return list(dict.fromkeys(names))


def _read(code: str) -> set[str]:
    """The names ``code`` reads anywhere."""
    return {
        n.id
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def stub(region: list[str], check: str) -> list[str]:
    """The student edition's lines for the solution ``region`` (the lines between markers).

    ``check`` is the source of the exercise's check cell: the stub binds the names it reads.
    """
    code = textwrap.dedent("\n".join(region))
    indent = min((len(line) - len(line.lstrip()) for line in region if line.strip()), default=0)
    pad = " " * indent
    if any(isinstance(node, ast.Return) for node in ast.parse(code).body):
        return [f"{pad}return ..."]
    read = _read(check)
    names = [name for name in _bound(code) if name in read]
    if not names:
        raise MarkerError(f"nothing to stub: the check reads no name this region binds:\n{code}")
    return [f"{pad}{name} = ..." for name in names]


def strip_solutions(source: str, check: str) -> str:
    """``source`` with every solution region replaced by its stub (``check``: see stub)."""
    out: list[str] = []
    region: list[str] | None = None
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN:
            if region is not None:
                raise MarkerError(f"{BEGIN} inside a solution region:\n{source}")
            region = []
        elif marker == END:
            if region is None:
                raise MarkerError(f"{END} without {BEGIN}:\n{source}")
            out += stub(region, check)
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise MarkerError(f"{BEGIN} without {END}:\n{source}")
    return "\n".join(out)


def drop_dropdown_solutions(text: str) -> str:
    """Markdown ``text`` without its ``:::{dropdown} Solution`` blocks."""
    out: list[str] = []
    closing: str | None = None
    for line in text.splitlines():
        if closing is None:
            match = DROPDOWN.match(line)
            if match:
                closing = match.group(1)
            else:
                out.append(line)
        elif line.strip() == closing:
            closing = None
    if closing is not None:
        raise MarkerError(f"a dropdown solution block is not closed:\n{text}")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def is_answer_cell(cell: Any) -> bool:
    return cell.cell_type == "code" and any(
        line.strip() == BEGIN for line in cell.source.splitlines()
    )


def exercise_cells(nb: Any) -> list[tuple[int, int]]:
    """``(answer, check)`` cell indices: each answer cell and the next code cell."""
    pairs = []
    for i, cell in enumerate(nb.cells):
        if is_answer_cell(cell):
            check = next(
                (j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"),
                None,
            )
            if check is None or is_answer_cell(nb.cells[check]):
                raise MarkerError(f"the answer cell {cell.get('id')} has no check cell after it")
            pairs.append((i, check))
    return pairs


def student_notebook(full: Any) -> Any:
    """The student edition of the executed full-edition notebook ``full``."""
    nb = copy.deepcopy(full)
    for answer, check in exercise_cells(nb):
        nb.cells[answer].source = strip_solutions(nb.cells[answer].source, nb.cells[check].source)
        for i in (answer, check):
            nb.cells[i].outputs = []
            nb.cells[i].execution_count = None
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = drop_dropdown_solutions(cell.source)
            if not cell.source.strip():
                continue
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("jupytext", None)
    return nb


def student_path(md: Path) -> Path:
    return STUDENT / md.with_suffix(".ipynb").name


def main(argv: list[str]) -> int:
    import make_editions

    return make_editions.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
