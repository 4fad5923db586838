"""The exercise protocol across chapters (issue 25): what ``python -m bplib.grade`` relies on.

In every chapter, each check cell is one line ``check("N.M", name, ..., kw=name)``: N is
the chapter's number (A in the appendix), the arguments are plain names of notebook
variables, the key ``bplib.exercises.chNN.exM`` exists and its parameters are those names
(answers positional, what it needs from the notebook keyword-only, with the same name), and
the full edition's stored output of the cell is the key's "Correct". Each key of a chapter
has its check cell and a docstring, and each answer cell is followed by a check cell.

A chapter still in the old form (``check(check_function)``) is xfailed, named in the reason.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from bplib.exercises import _key

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import make_student  # noqa: E402

from chapters import chapter_sources, read  # noqa: E402

CHECK = re.compile(r"^\s*check\s*\(", re.M)


def chapter_id(md: Path) -> str:
    """``01_neurons`` -> ``"1"``; ``appendix_fast`` -> ``"A"``."""
    match = re.match(r"(\d+)_", md.name)
    return str(int(match.group(1))) if match else "A"


def check_cells(md: Path) -> list[str]:
    """The source of every code cell of the chapter source ``md`` that calls ``check``."""
    return [c.source for c in read(md).cells if c.cell_type == "code" and CHECK.search(c.source)]


def old_form(source: str) -> bool:
    """A check cell of the form before issue 25: ``check(function)`` or ``check(lambda: ...)``."""
    try:
        call = ast.parse(source.strip()).body[-1]
    except (SyntaxError, IndexError):
        return False
    return (
        isinstance(call, ast.Expr)
        and isinstance(call.value, ast.Call)
        and isinstance(call.value.func, ast.Name)
        and call.value.func.id == "check"
        and len(call.value.args) == 1
        and not (isinstance(call.value.args[0], ast.Constant))
    )


WITH_CHECKS = [md for md in chapter_sources() if check_cells(md)]
NOT_MIGRATED = [md.stem for md in WITH_CHECKS if any(map(old_form, check_cells(md)))]


def _skip_old(md: Path) -> None:
    if md.stem in NOT_MIGRATED:
        pytest.xfail(
            f"{md.stem} still uses check(check_function); not yet migrated to the issue-25 "
            f"protocol: {', '.join(NOT_MIGRATED)}"
        )


def parse(source: str) -> tuple[str, list[str], dict[str, str]]:
    """``check("N.M", a, b, kw=c)`` -> ``("N.M", ["a", "b"], {"kw": "c"})``; AssertionError
    naming the rule a cell breaks."""
    assert "\n" not in source.strip(), f"a check cell is one line:\n{source}"
    (statement,) = ast.parse(source.strip()).body
    assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call), source
    call = statement.value
    assert isinstance(call.func, ast.Name) and call.func.id == "check", source
    first, *rest = call.args
    assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
        f"the first argument names the exercise, as a string: {source}"
    )
    assert all(isinstance(a, ast.Name) for a in rest), f"answers are plain names: {source}"
    names = [a.id for a in rest if isinstance(a, ast.Name)]
    given: dict[str, str] = {}
    for k in call.keywords:
        assert k.arg is not None and isinstance(k.value, ast.Name), f"kw=name only: {source}"
        given[k.arg] = k.value.id
    return first.value, names, given


def printed(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


@pytest.mark.parametrize("md", WITH_CHECKS, ids=lambda md: md.stem)
def test_check_cells_name_their_key_and_its_parameters(md: Path) -> None:
    _skip_old(md)
    problems = []
    for source in check_cells(md):
        exercise, names, given = parse(source)
        chapter = exercise.partition(".")[0]
        if chapter != chapter_id(md):
            problems.append(
                f"{source}: chapter {chapter_id(md)}'s exercises are {chapter_id(md)}.M"
            )
            continue
        try:
            key = _key(exercise)
        except ValueError as err:
            problems.append(f"{source}: {err}")
            continue
        parameters = inspect.signature(key).parameters.values()
        positional = [
            p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        keyword = {p.name for p in parameters if p.kind is p.KEYWORD_ONLY}
        required = {p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty}
        if names != positional:
            problems.append(
                f"{source}: the key's answers are {positional}, the cell passes {names}"
            )
        if not required <= set(given) <= keyword:
            problems.append(
                f"{source}: the key takes {sorted(keyword)} by keyword, the cell {sorted(given)}"
            )
        renamed = {k: v for k, v in given.items() if k != v}
        if renamed:
            problems.append(f"{source}: a keyword's name is the variable's: {renamed}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("md", WITH_CHECKS, ids=lambda md: md.stem)
def test_every_key_has_its_check_cell_and_a_docstring(md: Path) -> None:
    _skip_old(md)
    chapter = chapter_id(md)
    module_name = "appendix" if chapter == "A" else f"ch{int(chapter):02d}"
    module = importlib.import_module(f"bplib.exercises.{module_name}")
    keys = sorted(
        (int(m.group(1)) for name in vars(module) if (m := re.fullmatch(r"ex(\d+)", name))),
    )
    assert keys == list(range(1, len(keys) + 1)), f"{module_name}'s keys are numbered 1..n: {keys}"
    checked = sorted(int(parse(s)[0].split(".")[1]) for s in check_cells(md))
    assert checked == keys, f"{md.name} checks exercises {checked}, {module_name} has keys {keys}"
    undocumented = [f"ex{n}" for n in keys if not inspect.getdoc(getattr(module, f"ex{n}"))]
    assert not undocumented, f"{module_name}: keys without a docstring: {undocumented}"


@pytest.mark.parametrize("md", WITH_CHECKS, ids=lambda md: md.stem)
def test_the_full_edition_says_correct_after_each_answer(md: Path) -> None:
    _skip_old(md)
    full = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    pairs = make_student.exercise_cells(full)
    stored = {c.source.strip(): printed(c) for c in full.cells if c.cell_type == "code"}
    sources = check_cells(md)
    assert len(pairs) == len(sources), (
        f"{md.name}: {len(pairs)} answer cells, {len(sources)} checks"
    )
    for (_, check), source in zip(pairs, sources, strict=True):
        assert full.cells[check].source.strip() == source.strip(), (
            f"the check cell after an answer cell is {full.cells[check].source!r}, "
            f"not {source!r} (is {md.with_suffix('.ipynb').name} stale?)"
        )
        assert stored.get(source.strip(), "").startswith("Correct"), (
            f"{md.with_suffix('.ipynb').name}: {source} printed {stored.get(source.strip())!r}"
        )
