"""The grader, ``python -m bplib.grade`` (issue 25): honest rows for a class of submissions.

Two generated classes. A tiny one, against answer keys of a made-up chapter 98 (a copy of
``bplib/exercises/__init__.py`` beside a ``ch98.py``), covers each way a run can go wrong
in a few seconds: tampering, a loop that ignores interrupts, a flood of output, a cell
that raises, a missing answer, a damaged file. The other is made from chapter 1's student
edition, generated from the executed full edition as ``tools/make_student.py`` does: right
answers, wrong ones, stubs, an endless loop, a cell that raises, tampered checks, deleted
cells. To keep it fast every chapter-1 submission drops the chapter's plots and its
PyTorch cross-check (cells a student may delete: no exercise reads them).
"""

from __future__ import annotations

import copy
import csv
import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from bplib.exercises import NOT_YET
from bplib.grade import _cli, _keys, _run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import make_student  # noqa: E402

KEYS_98 = '''
def ex1(x):
    """x must be 42."""
    return "Correct" if x == 42 else "Not yet: not 42"


def ex2(y, *, scale):
    """y must be twice the notebook's scale."""
    return "Correct" if y == 2 * scale else "Not yet: not twice the scale"
'''


def notebook(*sources: str) -> Any:
    """A notebook of code cells; the first defines a ``check`` (bplib's has no chapter 98)."""
    sources = ("def check(*args, **kwargs):\n    pass", *sources)
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def rows(out: Path) -> dict[str, dict[str, str]]:
    with out.open() as f:
        return {r["student"]: r for r in csv.DictReader(f)}


# ------------------------------------------------------------------------ the parts


def test_keys_are_read_from_the_source(tmp_path: Path) -> None:
    (tmp_path / "ch98.py").write_text(KEYS_98)
    (tmp_path / "appendix.py").write_text("def ex1(a, b, *, model): ...\ndef helper(): ...")
    keys = _keys.read_keys(tmp_path)
    assert keys["98"] == [_keys.Key("98.1", ("x",), ()), _keys.Key("98.2", ("y",), ("scale",))]
    assert keys["A"] == [_keys.Key("A.1", ("a", "b"), ("model",))]
    real = _keys.read_keys(_keys.KEYS)
    assert [k.exercise for k in real["1"]] == ["1.1", "1.2", "1.3", "1.4"]


def test_check_cells_are_recognised() -> None:
    assert _keys.checked_exercises("check(\"3.1\", a)\ncheck( 'A.2', b)") == ["3.1", "A.2"]
    assert _keys.chapter_of_file("03_chain_rule.ipynb") == "3"
    assert _keys.chapter_of_file("appendix_fast.ipynb") == "A"
    assert _keys.chapter_of_file("alice.ipynb") is None
    assert sorted(["A.1", "10.2", "2.10", "2.9"], key=_keys.sort_key) == [
        "2.9",
        "2.10",
        "10.2",
        "A.1",
    ]


def test_a_deleted_check_cell_is_graded_where_it_was() -> None:
    nb = notebook("import x", "a = 1", 'check("5.1", a)', "b = 2", "c = 3", "d = 4")
    del nb.cells[0]
    for cell, cid in zip(nb.cells, ["i", "a1", "c1", "a2", "c2", "z"], strict=True):
        cell.id = cid
    reference = _run.Reference(("i", "a1", "c1", "a2", "c2", "z"), {"5.1": "c1", "5.2": "c2"})
    keys = [_keys.Key("5.1", ("a",), ()), _keys.Key("5.2", ("b",), ()), _keys.Key("5.3", (), ())]
    nb.cells[4].source = "print('my own check')"  # rewritten: found by its id
    assert _run.anchors(nb, keys, reference) == {"5.1": 2, "5.2": 4, "5.3": None}
    del nb.cells[4]  # deleted: after the nearest earlier cell that is left
    assert _run.anchors(nb, keys, reference) == {"5.1": 2, "5.2": 3, "5.3": None}
    assert _run.anchors(nb, keys, None) == {"5.1": 2, "5.2": None, "5.3": None}


def test_the_kernel_side_reads_the_keys_from_disk(tmp_path: Path) -> None:
    """kernel_verdict, run here: fresh keys even when sys.modules holds patched ones."""
    keys = tmp_path / "keys"
    keys.mkdir()
    shutil.copy(_keys.KEYS / "__init__.py", keys)
    (keys / "ch98.py").write_text(KEYS_98)
    before = {k: v for k, v in sys.modules.items() if k.startswith("bplib.exercises")}
    exercises = sys.modules["bplib.exercises"]
    verdict = exercises.verdict  # type: ignore[attr-defined]
    try:
        exercises.verdict = lambda *a, **k: "Correct"  # type: ignore[attr-defined]
        said = _keys.kernel_verdict("98.2", str(keys), {"y": 6, "scale": 3})
        assert said == {"status": "verdict", "verdict": "Correct"}
        said = _keys.kernel_verdict("98.2", str(keys), {"y": 5, "scale": 3})
        assert said == {"status": "verdict", "verdict": "Not yet: not twice the scale"}
        assert _keys.kernel_verdict("98.2", str(keys), {"y": 6}) == {
            "status": "missing", "names": ["scale"]}  # fmt: skip
        assert _keys.kernel_verdict("98.1", str(keys), {"x": ...})["verdict"] == NOT_YET
        assert _keys.kernel_verdict("98.7", str(keys), {})["status"] == "error"
        # the modules the process had are back, patched as it left them
        after = {k: v for k, v in sys.modules.items() if k.startswith("bplib.exercises")}
        assert after == before and exercises.verdict(0) == "Correct"  # type: ignore[attr-defined]
    finally:
        exercises.verdict = verdict  # type: ignore[attr-defined]


def test_submissions_are_one_notebook_or_one_folder_per_student(tmp_path: Path) -> None:
    for name in ("bob.ipynb", "alice/01_neurons.ipynb", "alice/work/02_error.ipynb",
                 "alice/.ipynb_checkpoints/01_neurons-checkpoint.ipynb", "notes.txt"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    tasks = _cli.find_submissions([tmp_path], tmp_path / "kept")
    found = {(t.student, t.path.name, t.chapter_hint, t.keep_as) for t in tasks}
    kept = tmp_path / "kept"
    assert found == {
        ("bob", "bob.ipynb", None, kept / "bob.ipynb"),
        ("alice", "01_neurons.ipynb", "1", kept / "alice/01_neurons.ipynb"),
        ("alice", "02_error.ipynb", "2", kept / "alice/02_error.ipynb"),
    }


def test_the_injected_output_is_found_by_its_marker() -> None:
    text = 'noise\nM:{"status": "verdict", "verdict": "Correct"}\nM:not json\n'
    assert _keys.parse_injected_output(text, "M:") == {"status": "verdict", "verdict": "Correct"}
    assert _keys.parse_injected_output("Correct", "M:") is None


# ------------------------------------------------------------ a class of chapter 98

CHAPTER_98 = {
    "right": notebook(
        "print = len = json = sys = exec = None  # the grader's cell must not need them",
        "x = 42", 'check("98.1", x)', "scale = 3\ny = 6", 'check("98.2", y, scale=scale)',
    ),
    "tampered": notebook(
        'def check(*args, **kwargs):\n    print("Correct")',
        "import sys, types\nfake = types.ModuleType('bplib.exercises')\n"
        "fake.verdict = lambda *a, **k: 'Correct'\nsys.modules['bplib.exercises'] = fake",
        "x = 0", 'check("98.1", 42)', "scale = 3\ny = 5", 'check("98.2", 6, scale=3)',
    ),
    "stuck": notebook(
        "x = 42", 'check("98.1", x)',
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        "scale = 3\ny = 6", 'check("98.2", y, scale=scale)',
    ),
    "loop": notebook(
        "x = 0\nwhile True:\n    pass", 'check("98.1", x)', "scale = 3\ny = 6",
        'check("98.2", y, scale=scale)',
    ),
    "flood": notebook(
        "x = 0\nwhile True:\n    print('spam ' * 100)", 'check("98.1", x)',
        "scale = 3\ny = 6", 'check("98.2", y, scale=scale)',
    ),
    "raises": notebook(
        "x = 1 / 0", 'check("98.1", x)', "scale = 3\ny = 6", 'check("98.2", y, scale=scale)',
    ),
    "missing": notebook("y = 6", 'check("98.2", y, scale=scale)'),
}  # fmt: skip


def test_a_class_of_tiny_notebooks(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    shutil.copy(_keys.KEYS / "__init__.py", keys)
    (keys / "ch98.py").write_text(KEYS_98)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, nb in CHAPTER_98.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    (subs / "damaged.ipynb").write_text("{not a notebook")
    out, kept = tmp_path / "grades.csv", tmp_path / "kept"
    argv = [str(subs), "--out", str(out), "--keys", str(keys), "--timeout", "3", "--jobs", "2",
            "--keep-notebooks", str(kept), "--quiet", "--summary", str(tmp_path / "summary.txt")]  # fmt: skip
    assert _cli.main(argv) == 0
    got = rows(out)
    verdicts = {s: (r["98.1"], r["98.2"], r["score"]) for s, r in got.items()}
    assert verdicts == {
        "right": ("Correct", "Correct", "2"),
        "tampered": ("Not yet: not 42", "Not yet: not twice the scale", "0"),
        "stuck": ("Correct", "timeout", "1"),
        "loop": ("timeout", "Correct", "1"),
        "flood": ("timeout", "Correct", "1"),
        "raises": ("error: ZeroDivisionError", "Correct", "1"),
        "missing": ("missing: x", "missing: scale", "0"),
        "damaged": ("", "", "0"),
    }
    assert got["right"]["status"] == "ok" and got["right"]["chapter"] == "98"
    assert got["stuck"]["status"].startswith("stopped: a cell did not stop")
    assert got["damaged"]["status"].startswith("unreadable notebook")
    assert "cell 2 raised ZeroDivisionError" in got["raises"]["notes"]
    flood = nbformat.read(kept / "flood.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in flood.cells[1].outputs)
    assert "[bplib.grade: output cut]" in printed and len(printed) < 2 * _run.MAX_OUTPUT
    right = nbformat.read(kept / "right.ipynb", as_version=4)
    assert right.cells[3].outputs[-1]["text"] == "[bplib.grade 98.1] Correct\n"
    summary = (tmp_path / "summary.txt").read_text()
    assert "98.1" in summary and "need a look" in summary and "stuck" in summary


def test_usage_errors_name_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main([str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert _cli.main([str(tmp_path), "--kernel", "no-such-kernel"]) == 2
    assert "no Jupyter kernel named 'no-such-kernel'" in capsys.readouterr().err
    assert _cli.main([str(tmp_path)]) == 1  # no notebooks
    with pytest.raises(SystemExit):
        _cli.main([str(tmp_path), "--timeout", "0"])


# ------------------------------------------------------------- a class of chapter 1

FULL = ROOT / "chapters" / "01_neurons.ipynb"
SLOW_CELLS = ("import torch", "fig, axes = plt.subplots", "x1, x2 = np.meshgrid")


def _cases() -> Any:
    spec = importlib.util.spec_from_file_location(
        "neurons_cases", ROOT / "tests/exercise_cases/neurons.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with(source: str, text: str) -> str:
    """``source`` (a full-edition answer cell) with its solution region replaced by ``text``."""
    lines = source.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.strip() == make_student.BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == make_student.END)
    pad = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    return "\n".join([*lines[:begin], *(pad + t for t in text.splitlines()), *lines[end + 1 :]])


def chapter_1_class() -> dict[str, Any]:
    """Submissions made from chapter 1's student edition, by name."""
    full = nbformat.read(FULL, as_version=4)
    stub = make_student.student_notebook(full)
    stub.cells = [c for c in stub.cells if not any(s in c.source for s in SLOW_CELLS)]
    pairs = make_student.exercise_cells(full)
    answer = {f"1.{n}": full.cells[a] for n, (a, _) in enumerate(pairs, 1)}
    check = {f"1.{n}": full.cells[c].id for n, (_, c) in enumerate(pairs, 1)}
    cases = _cases().WRONG
    wrong = dict(zip(answer, [cases[k][0] for k in ("dsoftplus", "z_hand", "leaky_relu_grad", "weight")], strict=True))  # fmt: skip

    def edition(**answers: str | None) -> Any:
        """The student edition with the named exercises' answer cells set (None: deleted)."""
        nb = copy.deepcopy(stub)
        by_id = {c.id: c for c in nb.cells}
        for exercise, source in answers.items():
            cell = by_id[answer[exercise.replace("_", ".")].id]
            if source is None:
                nb.cells.remove(cell)
            else:
                cell.source = source
        return nb

    right = {f"_{n}": answer[f"1.{n}"].source for n in range(1, 5)}
    mistaken = {f"_{n}": _with(answer[f"1.{n}"].source, wrong[f"1.{n}"]) for n in range(1, 5)}
    submissions = {
        "right": edition(**{k.replace("_", "1_"): v for k, v in right.items()}),
        "empty": edition(),
        "wrong": edition(**{k.replace("_", "1_"): v for k, v in mistaken.items()}),
        "loop_raise": edition(
            **{"1_1": right["_1"], "1_2": "z_hand = 0.0\nwhile True:\n    pass",
               "1_3": "1 / 0", "1_4": right["_4"]}),
        "missing": edition(**{"1_1": right["_1"], "1_2": right["_2"], "1_3": right["_3"],
                              "1_4": None}),
    }  # fmt: skip
    tampered = edition(**{k.replace("_", "1_"): v for k, v in mistaken.items()})
    by_id = {c.id: c for c in tampered.cells}
    by_id[answer["1.1"].id].source += '\ndef check(*args, **kwargs):\n    print("Correct")'
    by_id[check["1.2"]].source = 'check("1.2", -0.5, 0.377541)'
    by_id[answer["1.3"].id].source += (
        "\nimport bplib.exercises, bplib.exercises.ch01"
        "\nbplib.exercises.ch01.ex3 = lambda *a: 'Correct'"
        "\nbplib.exercises.verdict = lambda *a, **k: 'Correct'"
    )
    submissions["tampered"] = tampered
    deleted = submissions["missing"]  # and two check cells deleted: graded where they were
    deleted.cells = [c for c in deleted.cells if c.id not in (check["1.2"], check["1.3"])]
    return submissions


def test_a_class_of_chapter_1(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, nb in chapter_1_class().items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    out = tmp_path / "grades.csv"
    argv = [str(subs), "--out", str(out), "--timeout", "20", "--jobs", "2", "--quiet"]
    assert _cli.main(argv) == 0
    got = rows(out)
    exercises = ["1.1", "1.2", "1.3", "1.4"]
    table = {s: [r[e] for e in exercises] for s, r in got.items()}
    assert all(v.startswith("Correct") for v in table["right"]), table["right"]
    assert table["empty"] == [NOT_YET] * 4
    for name in ("wrong", "tampered"):
        assert all(v.startswith("Not yet: ") and v != NOT_YET for v in table[name]), table[name]
    assert table["loop_raise"][0].startswith("Correct") and table["loop_raise"][3].startswith(
        "Correct"
    )
    assert table["loop_raise"][1:3] == ["timeout", "error: ZeroDivisionError"]
    assert [v.split(":")[0] for v in table["missing"]] == ["Correct"] * 3 + ["missing"]
    assert table["missing"][3] == "missing: weight, bias"
    assert {s: r["score"] for s, r in got.items()} == {
        "right": "4", "empty": "0", "wrong": "0", "tampered": "0", "loop_raise": "2", "missing": "3"
    }  # fmt: skip
    assert {r["chapter"] for r in got.values()} == {"1"}
