"""The command line: find the submissions, grade them in parallel, write the table and summary."""

from __future__ import annotations

import argparse
import csv
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from time import monotonic

from ._keys import KEYS, chapter_of_file, read_keys, sort_key
from ._run import Options, Row, Task, grade_notebook, read_reference, stop_now

#: The repository's full edition (``chapters/``), when bplib runs from a clone of the book.
CHAPTERS = Path(__file__).resolve().parent.parent.parent / "chapters"

CATEGORIES = ("correct", "not yet", "unanswered", "missing", "error", "timeout")

EPILOG = """\
SUBMISSIONS holds one notebook per student (alice.ipynb: the student id is the file's
name), or one folder per student holding their notebooks (alice/01_neurons.ipynb: one
row per student and chapter). Each notebook runs in a fresh kernel; each exercise is
graded by bplib's answer keys, whatever the notebook's own check cells say. The grader is
NOT a sandbox: it runs the students' code with your rights (run it in a container or as a
user who can read and write nothing else, if that matters to you).
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bplib.grade",
        description="Grade the book's exercises in a class's returned notebooks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "submissions",
        nargs="+",
        type=Path,
        metavar="SUBMISSIONS",
        help="a folder of submissions (or notebook files)",
    )
    add("--out", type=Path, default=Path("grades.csv"), help="the table (default: grades.csv)")
    add(
        "--timeout",
        type=int,
        default=60,
        metavar="S",
        help="seconds a cell may run before it is interrupted (default: 60)",
    )
    add(
        "--notebook-timeout",
        type=int,
        default=600,
        metavar="S",
        help="seconds a whole notebook may run (default: 600)",
    )
    add(
        "--jobs",
        "-j",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="notebooks run at the same time (default: the number of cores)",
    )
    add("--kernel", default="python3", help="the Jupyter kernel to run them in (default: python3)")
    add(
        "--chapter",
        help="grade every notebook as this chapter (1, 2, ..., A): "
        "by default each notebook's chapter is read from its check cells",
    )
    add(
        "--keep-notebooks",
        type=Path,
        metavar="DIR",
        help="also write each executed notebook, with the grader's verdicts, under DIR",
    )
    add("--summary", type=Path, metavar="FILE", help="also write the summary to FILE")
    add(
        "--cwd",
        type=Path,
        metavar="DIR",
        help="the kernels' working folder (default: a fresh empty temporary folder per notebook)",
    )
    add(
        "--keys",
        type=Path,
        default=KEYS,
        metavar="DIR",
        help="the answer keys: a copy of bplib/exercises (default: the installed ones)",
    )
    add(
        "--reference",
        type=Path,
        default=CHAPTERS,
        metavar="DIR",
        help="the full edition's notebooks, to place the grading of deleted check cells "
        "(default: the book's chapters/, if bplib runs from a clone)",
    )
    add("--quiet", "-q", action="store_true", help="no line per notebook while grading")
    args = parser.parse_args(argv)
    for name in ("timeout", "notebook_timeout", "jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def _notebooks(folder: Path) -> list[Path]:
    """The ``.ipynb`` files under ``folder``, without hidden ones and Jupyter's checkpoints."""
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def find_submissions(paths: Iterable[Path], keep: Path | None) -> list[Task]:
    """One :class:`Task` per notebook: ``alice.ipynb`` or ``alice/01_neurons.ipynb``."""
    tasks = []
    for root in paths:
        entries: list[tuple[str, Path, Path | None]]
        if root.is_file():
            entries = [(root.stem, root, None)]
        else:
            entries = [(p.stem, p, None) for p in sorted(root.glob("*.ipynb"))]
            for sub in sorted(d for d in root.iterdir() if d.is_dir()):
                if not sub.name.startswith("."):
                    entries += [(sub.name, p, sub) for p in _notebooks(sub)]
        for student, path, folder in entries:
            keep_as = None
            if keep is not None:
                keep_as = keep / (f"{student}/{path.name}" if folder else path.name)
            hint = chapter_of_file(path.name) if folder else None
            tasks.append(Task(path, student, hint, keep_as))
    return tasks


def _category(value: str) -> str:
    from bplib.exercises import NOT_YET

    if value.startswith("Correct"):
        return "correct"
    if value == NOT_YET:
        return "unanswered"
    for category in ("missing", "error", "timeout"):
        if value.startswith(category):
            return category
    return "not yet"


def exercise_columns(rows: list[Row], options: Options) -> list[str]:
    """Every exercise of every chapter some notebook is, in the book's order."""
    chapters = {row.chapter for row in rows if row.chapter}
    columns = {k.exercise for ch in chapters for k in options.keys_by_chapter[ch]}
    return sorted(columns, key=sort_key)


def write_table(rows: list[Row], columns: list[str], out: Path) -> None:
    """``out``: one row per notebook, one column per exercise, then score, status and notes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        head = ["student", "chapter", *columns, "score", "out_of", "status", "seconds", "notes"]
        writer.writerow(head)
        for row in rows:
            out_of = sum(1 for c in columns if c.split(".")[0] == row.chapter)
            cells: list[str | int] = [row.student, row.chapter]
            cells += [row.verdicts.get(c, "") for c in columns]
            cells += [row.score, out_of, row.status, f"{row.seconds:.1f}", "; ".join(row.notes)]
            writer.writerow(cells)


def summary(rows: list[Row], columns: list[str], seconds: float, jobs: int) -> str:
    """What a teacher reads first: how each exercise went, and who needs a look."""
    lines = []
    n = len(rows)
    total = sum(r.seconds for r in rows)
    lines.append(
        f"Graded {n} notebook{'s' * (n != 1)} of {len({r.student for r in rows})} students in "
        f"{seconds:.1f} s with {jobs} job{'s' * (jobs != 1)} "
        f"({total / max(n, 1):.1f} s per notebook in its kernel)."
    )
    width = max([len("exercise"), *map(len, columns)])
    lines.append("")
    lines.append("  ".join([f"{'exercise':<{width}}", *(f"{c:>10}" for c in CATEGORIES)]))
    for column in columns:
        counts = Counter(_category(r.verdicts[column]) for r in rows if column in r.verdicts)
        graded = sum(counts.values())
        cells = [f"{counts[c]:>10}" for c in CATEGORIES]
        cells[0] = f"{f'{counts[CATEGORIES[0]]}/{graded}':>10}"
        lines.append("  ".join([f"{column:<{width}}", *cells]))
    trouble = [r for r in rows if r.status != "ok"]
    if trouble:
        lines.append("")
        lines.append(f"{len(trouble)} notebook{'s' * (len(trouble) != 1)} need a look:")
        for r in trouble:
            who = f"{r.student} (chapter {r.chapter})" if r.chapter else r.student
            detail = f": {'; '.join(r.notes[:3])}" if r.notes else ""
            lines.append(f"  {who}: {r.status}{detail}")
    return "\n".join(lines)


def _kernel_exists(name: str) -> str | None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return f"no Jupyter kernel named {name!r} (jupyter kernelspec list shows the names)"
    return None


def grade_all(tasks: list[Task], options: Options, jobs: int, quiet: bool) -> list[Row]:
    """Grade every task, ``jobs`` notebooks at a time (each in a process of its own)."""
    rows: list[Row] = []

    def done(row: Row) -> None:
        rows.append(row)
        if not quiet:
            what = f"chapter {row.chapter}: {row.score}/{len(row.verdicts)}" if row.chapter else "-"
            print(f"[{len(rows)}/{len(tasks)}] {row.student} ({row.notebook}) {what}, "
                  f"{row.status} ({row.seconds:.1f} s)", file=sys.stderr, flush=True)  # fmt: skip

    # the biggest notebooks first, so no long one starts last
    ordered = sorted(tasks, key=lambda t: -t.path.stat().st_size)
    try:
        if jobs == 1:
            for task in ordered:
                done(grade_notebook(task, options))
        else:
            _in_pool(ordered, options, jobs, done)
    except KeyboardInterrupt:  # Ctrl-C: the rows graded so far still make a table
        print(f"\nInterrupted: {len(rows)} of {len(tasks)} notebooks graded", file=sys.stderr)
    return sorted(rows, key=lambda r: (r.student, sort_key(f"{r.chapter or 0}.0"), r.notebook))


def _worker_signals() -> None:
    """A worker leaves Ctrl-C to the main process, and kills its kernel when terminated."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop_now)


def _in_pool(tasks: list[Task], options: Options, jobs: int, done: Callable[[Row], None]) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import active_children, get_context

    pool = ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_worker_signals)
    try:
        futures = [pool.submit(grade_notebook, task, options) for task in tasks]
        for future in as_completed(futures):
            done(future.result())
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in active_children():
            worker.terminate()
        raise
    pool.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bplib.grade``: the exit status (0: every notebook graded; 1: none found;
    2: a usage error; 130: interrupted, the table holds the notebooks graded so far)."""
    args = parse_args(argv)
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as err:
        print(f"bplib.grade needs nbclient, nbformat and ipykernel ({err}): "
              "pip install nbclient nbformat ipykernel", file=sys.stderr)  # fmt: skip
        return 2
    problem = _kernel_exists(args.kernel)
    keys = read_keys(args.keys) if (args.keys / "__init__.py").is_file() else {}
    if not keys:
        problem = f"no answer keys (chNN.py with exM functions) in {args.keys}"
    if args.chapter is not None and args.chapter not in keys:
        problem = f"--chapter {args.chapter}: no exercises for it in {args.keys}"
    missing = [str(p) for p in args.submissions if not p.exists()]
    if missing:
        problem = f"no such file or folder: {', '.join(missing)}"
    if problem:
        print(f"bplib.grade: {problem}", file=sys.stderr)
        return 2
    references = {}
    if args.reference.is_dir():
        for path in sorted(args.reference.glob("*.ipynb")):
            chapter = chapter_of_file(path.name)
            if chapter in keys:
                references[chapter] = read_reference(path)
    tasks = find_submissions(args.submissions, args.keep_notebooks)
    if not tasks:
        print(f"bplib.grade: no notebooks in {', '.join(map(str, args.submissions))}",
              file=sys.stderr)  # fmt: skip
        return 1
    jobs = min(args.jobs, len(tasks))
    options = Options(
        keys=args.keys.resolve(), keys_by_chapter=keys, references=references,
        timeout=args.timeout, notebook_timeout=args.notebook_timeout, kernel=args.kernel,
        chapter=args.chapter, cwd=args.cwd.resolve() if args.cwd else None,
        threads=max(1, (os.cpu_count() or 1) // jobs),
    )  # fmt: skip
    start = monotonic()
    rows = grade_all(tasks, options, jobs, args.quiet)
    columns = exercise_columns(rows, options)
    write_table(rows, columns, args.out)
    text = summary(rows, columns, monotonic() - start, jobs)
    print(text)
    print(f"\nWrote {args.out}" + (f" and the notebooks under {args.keep_notebooks}"
                                  if args.keep_notebooks else ""))  # fmt: skip
    if args.summary is not None:
        args.summary.write_text(text + "\n")
    return 0 if len(rows) == len(tasks) else 130  # 130: interrupted (Ctrl-C)
