"""What the grader knows before it runs anything: the keys, the check cells, the injected cell.

The exercises of a chapter are the functions ``exM`` of its key module, read from the
source with :mod:`ast` (nothing is imported in the grader's own process). The cell the
grader runs in the student's kernel is built from :func:`kernel_verdict`'s source.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The installed answer keys (``bplib/exercises``): the default of ``--keys``.
KEYS = Path(__file__).resolve().parent.parent / "exercises"

#: ``check("3.1", ...)`` anywhere in a cell: the cell that checks exercise 3.1.
CHECK_CALL = re.compile(r"""\bcheck\s*\(\s*(["'])(?P<id>(?:\d{1,2}|A)\.\d{1,2})\1""")
_CHAPTER_FILE = re.compile(r"^(?:(?P<number>\d{1,2})_|(?P<appendix>appendix))")


@dataclass(frozen=True)
class Key:
    """One exercise's key: its name (``"1.2"``), answers and given names, in order."""

    exercise: str
    answers: tuple[str, ...]
    given: tuple[str, ...]


def chapter_of_exercise(exercise: str) -> str:
    """``"3.1"`` -> ``"3"``; ``"A.2"`` -> ``"A"``."""
    return exercise.split(".", 1)[0]


def chapter_of_file(name: str) -> str | None:
    """The chapter a file name names: ``01_neurons.ipynb`` -> ``"1"``, ``appendix_fast`` -> ``"A"``."""
    match = _CHAPTER_FILE.match(name)
    if match is None:
        return None
    return "A" if match["appendix"] else str(int(match["number"]))


def sort_key(exercise: str) -> tuple[int, int]:
    """Exercises in the book's order: chapter (the appendix last), then number."""
    chapter, number = exercise.split(".", 1)
    return (10**6 if chapter == "A" else int(chapter), int(number))


def _module_chapter(path: Path) -> str | None:
    if path.stem == "appendix":
        return "A"
    match = re.fullmatch(r"ch(\d{2})", path.stem)
    return str(int(match.group(1))) if match else None


def read_keys(keys: Path) -> dict[str, list[Key]]:
    """Chapter -> its keys in order, from the ``chNN.py`` and ``appendix.py`` files of ``keys``."""
    found: dict[str, list[Key]] = {}
    for path in sorted(keys.glob("*.py")):
        chapter = _module_chapter(path)
        if chapter is None:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        entries = []
        for node in tree.body:
            match = re.fullmatch(r"ex(\d{1,2})", getattr(node, "name", ""))
            if match and isinstance(node, ast.FunctionDef):
                args = node.args
                answers = tuple(a.arg for a in [*args.posonlyargs, *args.args])
                given = tuple(a.arg for a in args.kwonlyargs)
                entries.append(Key(f"{chapter}.{int(match.group(1))}", answers, given))
        if entries:
            found[chapter] = sorted(entries, key=lambda k: sort_key(k.exercise))
    return found


def checked_exercises(source: str) -> list[str]:
    """The exercises a cell's source checks (``check("1.2", ...)``), in order."""
    return [m["id"] for m in CHECK_CALL.finditer(source)]


def kernel_verdict(exercise: str, keys: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run in the student's kernel: the verdict of the trusted key on the notebook's answers.

    Takes every ``bplib.exercises`` module out of ``sys.modules``, loads the package
    again from the files in ``keys`` (not through ``sys.path``), looks up the exercise's
    key and passes it the variables of ``namespace`` (the notebook's globals) that its
    parameters name; then puts the notebook's modules back, so its later cells run as they
    would have. Returns ``{"status": "verdict", "verdict": ...}``, ``{"status": "missing",
    "names": [...]}`` or ``{"status": "error", "error": ...}`` (the key could not be
    loaded). Self-contained: the grader sends its source to the kernel.
    """
    import importlib.util
    import inspect
    import os
    import sys

    def ours(name: str) -> bool:
        return name == "bplib.exercises" or name.startswith("bplib.exercises.")

    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if ours(name)}
    try:
        spec = importlib.util.spec_from_file_location(
            "bplib.exercises", os.path.join(keys, "__init__.py"), submodule_search_locations=[keys]
        )
        if spec is None or spec.loader is None:
            return {"status": "error", "error": f"no answer keys in {keys}"}
        module = importlib.util.module_from_spec(spec)
        sys.modules["bplib.exercises"] = module
        try:
            spec.loader.exec_module(module)
            key = module._key(exercise)
            parameters = list(inspect.signature(key).parameters.values())
        except Exception as err:
            return {"status": "error", "error": f"{type(err).__name__}: {err}"}
        answers, given, missing = [], {}, []
        for p in parameters:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.name not in namespace:
                if p.default is p.empty:
                    missing.append(p.name)
                continue
            if p.kind is p.KEYWORD_ONLY:
                given[p.name] = namespace[p.name]
            else:
                answers.append(namespace[p.name])
        if missing:
            return {"status": "missing", "names": missing}
        return {"status": "verdict", "verdict": str(module.verdict(exercise, *answers, **given))}
    finally:  # the notebook's own modules back, as it left them: its later cells are its own
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


_KERNEL_CODE = inspect.getsource(kernel_verdict)


def injected_cell(exercise: str, keys: Path, marker: str) -> str:
    """The source of the cell that prints ``marker`` and the verdict on ``exercise`` as JSON.

    The code runs through ``exec`` in a namespace of its own, so a notebook that rebinds
    ``print``, ``len`` or ``json`` does not change what it does; the only name it leaves
    behind is deleted at its end.
    """
    program = "\n".join(
        [
            "from __future__ import annotations",
            _KERNEL_CODE,
            "import json as _json",
            "try:",
            f"    _result = kernel_verdict({exercise!r}, {str(keys)!r}, _namespace)",
            "except Exception as _err:",
            "    _result = {'status': 'error', 'error': type(_err).__name__ + ': ' + str(_err)}",
            f"print({marker!r} + _json.dumps(_result), flush=True)",
        ]
    )
    return (
        "import builtins as _bplib_grade_builtins\n"
        f"_bplib_grade_builtins.exec({program!r}, "
        "{'__builtins__': _bplib_grade_builtins, '_namespace': _bplib_grade_builtins.globals()})\n"
        "del _bplib_grade_builtins"
    )


def parse_injected_output(text: str, marker: str) -> dict[str, Any] | None:
    """The result the injected cell printed after ``marker`` (the last one), or None."""
    import json

    found = None
    for line in text.splitlines():
        if line.startswith(marker):
            try:
                value = json.loads(line[len(marker) :])
            except ValueError:
                continue
            if isinstance(value, dict):
                found = value
    return found
