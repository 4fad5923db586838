"""The student edition of the chapters (``student/*.ipynb``) and the exercises' checks.

For every chapter with exercises, one kernel runs the committed student notebook from top
to bottom (no cell may fail) and every check must print exactly
``bplib.exercises.NOT_YET``. Then, in the same kernel, each exercise's answer cell is run
again with each plausible wrong answer of ``WRONG`` in place of its solution (every check
must say "Not yet", and not the stub's message), then with its solution (the check must
say "Correct", as for the other correct answers of ``ALSO_RIGHT``); last, every solution is run once more in reverse order, so each exercise
is shown to work on its own, in any order, any number of times.

``WRONG`` has at least one wrong answer for every exercise of every chapter; an exercise
without one fails ``test_every_exercise_has_a_wrong_answer``. The cases live in
``tests/exercise_cases/<name>.py``, one file per chapter, named by the chapter's name without
its number (so a renumbered chapter keeps its entries), keyed by the exercise's first answer
name (a function's name when the answer is a function body).
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import make_editions  # noqa: E402
import make_student  # noqa: E402

from bplib.exercises import NOT_YET  # noqa: E402
from chapters import CHAPTERS, chapter_sources  # noqa: E402


def _cases(name: str) -> dict[tuple[str, str], list[str | tuple[str, ...]]]:
    """``WRONG`` or ``ALSO_RIGHT`` of every chapter, from ``tests/exercise_cases/<slug>.py``."""
    merged: dict[tuple[str, str], list[str | tuple[str, ...]]] = {}
    for path in sorted((ROOT / "tests" / "exercise_cases").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"exercise_cases_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for key, cases in getattr(module, name).items():
            merged[(path.stem, key)] = cases
    return merged


# A wrong answer is the text that replaces the solution region (a tuple of texts, one per
# region, when an answer cell has several regions); one file per chapter, so each chapter's
# cases sit in one place: tests/exercise_cases/<chapter name without its number>.py.
WRONG = _cases("WRONG")
# Other correct answers that a check must accept (regressions of checks that rejected them).
ALSO_RIGHT = _cases("ALSO_RIGHT")


def slug(md: Path) -> str:
    """A chapter's name without its number: ``03_chain_rule`` -> ``chain_rule``."""
    return re.sub(r"^\d+_", "", md.stem)


def regions(source: str) -> list[tuple[int, int]]:
    """``(begin, end)`` line indices of each solution region's markers in ``source``."""
    lines = [line.strip() for line in source.splitlines()]
    begins = [i for i, line in enumerate(lines) if line == make_student.BEGIN]
    ends = [i for i, line in enumerate(lines) if line == make_student.END]
    return list(zip(begins, ends, strict=True))


def exercise_key(source: str, check: str) -> str:
    """The first answer name of an answer cell: a stub's name, or the function's name."""
    lines = source.splitlines()
    begin, end = regions(source)[0]
    stub = make_student.stub(lines[begin + 1 : end], check)
    if stub[0].strip() == "return ...":
        defs = [re.match(r"\s*def (\w+)", line) for line in lines[:begin]]
        return [m.group(1) for m in defs if m][-1]
    return stub[0].split("=")[0].strip()


def with_answers(source: str, answers: tuple[str, ...]) -> str:
    """``source`` with its solution regions replaced by ``answers``, at their indentation."""
    lines = source.splitlines()
    out: list[str] = []
    previous = 0
    for (begin, end), text in zip(regions(source), answers, strict=True):
        pad = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        out += lines[previous:begin]
        out += textwrap.indent(textwrap.dedent(text), pad).splitlines()
        previous = end + 1
    return "\n".join(out + lines[previous:])


def exercises(md: Path) -> list[dict[str, Any]]:
    """Each exercise of chapter ``md``: its key, answer and check cells (full edition)."""
    full = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    found = []
    for answer, check in make_student.exercise_cells(full):
        source, check_source = full.cells[answer].source, full.cells[check].source
        key = (slug(md), exercise_key(source, check_source))
        found.append(
            {"key": key, "answer": source, "check": check_source, "n": len(regions(source))}
        )
    return found


WITH_EXERCISES = [md for md in chapter_sources() if exercises(md)]


def test_every_exercise_has_a_wrong_answer() -> None:
    keys = {ex["key"] for md in WITH_EXERCISES for ex in exercises(md)}
    missing = sorted(keys - set(WRONG))
    assert not missing, f"add plausible wrong answers to WRONG for {missing}"
    unknown = sorted((set(WRONG) | set(ALSO_RIGHT)) - keys)
    assert not unknown, f"WRONG has entries for exercises that do not exist: {unknown}"


def test_generator_stubs_and_markers() -> None:
    """The stub rules of tools/make_student.py, and its refusal of bad markers."""
    check = "print(answer(a), answer(f), answer(C))"
    region = ["    x = 1", "    a = x + 1", "    def f():", "        return a", "    class C: ..."]
    assert make_student.stub(region, check) == ["    a = ...", "    f = ...", "    C = ..."]
    assert make_student.stub(["    y = 2", "    return y"], check) == ["    return ..."]
    with pytest.raises(make_student.MarkerError, match="nothing to stub"):
        make_student.stub(["x = 1"], check)
    source = "s = 1\n### BEGIN SOLUTION\na = s\n### END SOLUTION\nprint(a)"
    assert make_student.strip_solutions(source, check) == "s = 1\na = ...\nprint(a)"
    with pytest.raises(make_student.MarkerError, match="without"):
        make_student.strip_solutions("### BEGIN SOLUTION\na = 1", check)
    text = "Text.\n\n:::{dropdown} Solution\n```python\na = 1\n```\n:::\n\n### Next"
    assert make_student.drop_dropdown_solutions(text) == "Text.\n\n### Next"
    kept = ":::{dropdown} A hint\nLook at the shapes.\n:::"
    assert make_student.drop_dropdown_solutions(kept) == kept


def printed(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.parametrize("md", WITH_EXERCISES, ids=lambda md: md.stem)
def test_student_notebook(md: Path) -> None:
    student = nbformat.read(make_student.student_path(md), as_version=4)
    full = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    assert not [c for c in student.cells if make_student.BEGIN in c.source]
    assert not [c for c in student.cells if "{dropdown} Solution" in c.source]
    pairs = make_student.exercise_cells(full)
    for _, check in pairs:  # the full edition's stored verdicts: every solution is correct
        assert printed(full.cells[check]).startswith("Correct"), full.cells[check].source
    client = NotebookClient(
        student, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(CHAPTERS)}},
    )  # fmt: skip
    # the student notebook has the Colab install cell, then the full one's code cells minus
    # those that exist only for the book's build (tools/make_editions.py drops them)
    dropped = make_editions.dropped_cell_ids(full)
    code_ids = [c.id for c in student.cells if c.cell_type == "code"]
    kept = [c.id for c in full.cells if c.cell_type == "code" and c.id not in dropped]
    assert code_ids == [make_editions.install_cell().id, *kept]
    by_id = {c.id: c for c in student.cells}
    with client.setup_kernel():
        for i, cell in enumerate(student.cells):
            client.execute_cell(cell, i)  # raises on an error
        for _, check in pairs:
            assert printed(by_id[full.cells[check].id]).strip() == NOT_YET

        def verdict(answer_source: str, check_source: str) -> str:
            answer_cell = nbformat.v4.new_code_cell(answer_source)
            check_cell = nbformat.v4.new_code_cell(check_source)
            client.execute_cell(answer_cell, 0)
            client.execute_cell(check_cell, 0)
            return printed(check_cell).strip()

        for ex in exercises(md):
            for wrong in WRONG.get(ex["key"], []):
                answers = (wrong,) if isinstance(wrong, str) else wrong
                assert len(answers) == ex["n"], ex["key"]
                said = verdict(with_answers(ex["answer"], answers), ex["check"])
                assert said.startswith("Not yet") and said != NOT_YET, (ex["key"], wrong, said)
            for right in ALSO_RIGHT.get(ex["key"], []):
                answers = (right,) if isinstance(right, str) else right
                said = verdict(with_answers(ex["answer"], answers), ex["check"])
                assert said.startswith("Correct"), (ex["key"], right, said)
            said = verdict(ex["answer"], ex["check"])
            assert said.startswith("Correct"), (ex["key"], said)
        for ex in reversed(exercises(md)):  # again, in the other order
            said = verdict(ex["answer"], ex["check"])
            assert said.startswith("Correct"), (ex["key"], said)


def test_answer_and_check(capsys: pytest.CaptureFixture[str]) -> None:
    """bplib.exercises: a stub (...) gets NOT_YET; anything else, the check's own verdict."""
    from bplib.exercises import Unanswered, answer, check

    assert answer(0) == 0 and answer(None) is None
    with pytest.raises(Unanswered):
        answer(...)
    check(lambda: f"Correct: {answer(2) * 2}")
    check(lambda: f"Correct: {answer(...)}")
    assert capsys.readouterr().out.splitlines() == ["Correct: 4", NOT_YET]
