"""Grading one notebook: which chapter it is, where each exercise is graded, the kernel run."""

# nbformat has no type hints
# mypy: disallow-untyped-calls=False

from __future__ import annotations

import copy
import os
import secrets
import subprocess
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic
from typing import Any

from ._keys import (
    Key,
    chapter_of_exercise,
    checked_exercises,
    injected_cell,
    parse_injected_output,
    sort_key,
)

#: Characters of output a cell may send before the grader stops recording them (a cell
#: that prints in an endless loop must not fill the grader's memory).
MAX_OUTPUT = 200_000


@dataclass(frozen=True)
class Reference:
    """A chapter's full edition, as the grader needs it: its cells' ids in order, and the
    id of each exercise's check cell (to find where a deleted check cell was)."""

    cell_ids: tuple[str, ...]
    checks: dict[str, str]


def read_reference(path: Path) -> Reference:
    """The :class:`Reference` of the full-edition notebook at ``path``."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    checks: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            for exercise in checked_exercises(cell.source):
                checks.setdefault(exercise, cell.get("id", ""))
    return Reference(tuple(str(c.get("id", "")) for c in nb.cells), checks)


@dataclass(frozen=True)
class Options:
    """What every notebook of a class is graded with (see ``python -m bplib.grade --help``)."""

    keys: Path
    keys_by_chapter: dict[str, list[Key]]
    references: dict[str, Reference]
    timeout: int = 60
    notebook_timeout: int = 600
    kernel: str = "python3"
    chapter: str | None = None
    cwd: Path | None = None
    threads: int | None = None
    grace: int = 10


@dataclass(frozen=True)
class Task:
    """One submitted notebook: who handed it in, and where to keep it once run (or None)."""

    path: Path
    student: str
    chapter_hint: str | None = None
    keep_as: Path | None = None


@dataclass
class Row:
    """The grades of one notebook: a verdict per exercise, and how the run went."""

    student: str
    notebook: str
    chapter: str = ""
    verdicts: dict[str, str] = field(default_factory=dict)
    status: str = "ok"
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(v.startswith("Correct") for v in self.verdicts.values())


def which_chapter(nb: Any, task: Task, options: Options) -> str | None:
    """The chapter of a submission: ``--chapter``; else the exercises its check cells name;
    else the chapter whose full edition shares the most cell ids with it; else its file
    name (``01_neurons.ipynb``); else None."""
    known = options.keys_by_chapter
    if options.chapter is not None:
        return options.chapter
    named = Counter(
        chapter_of_exercise(e)
        for cell in nb.cells
        if cell.cell_type == "code"
        for e in checked_exercises(cell.source)
        if chapter_of_exercise(e) in known
    )
    if named:
        return named.most_common(1)[0][0]
    ids = {str(c.get("id", "")) for c in nb.cells} - {""}
    overlap = {ch: len(ids & set(ref.cell_ids)) for ch, ref in options.references.items()}
    best = max(overlap, key=lambda ch: overlap[ch], default=None)
    if best is not None and overlap[best] > 0 and best in known:
        return best
    return task.chapter_hint if task.chapter_hint in known else None


def anchors(nb: Any, keys: list[Key], reference: Reference | None) -> dict[str, int | None]:
    """Exercise -> the index of the cell after which it is graded (None: at the end).

    The first cell that calls ``check("N.M", ...)``; else the cell that has the full
    edition's check cell id (the student rewrote it); else the nearest earlier cell of the
    full edition still in the notebook (the check cell was deleted); else None.
    """
    position = {str(c.get("id", "")): i for i, c in enumerate(nb.cells) if c.get("id")}
    found: dict[str, int | None] = {}
    for key in keys:
        where = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and key.exercise in checked_exercises(c.source)
            ),
            None,
        )
        if where is None and reference is not None and key.exercise in reference.checks:
            ids = reference.cell_ids
            upto = ids.index(reference.checks[key.exercise])
            where = next((position[i] for i in reversed(ids[: upto + 1]) if i in position), None)
        found[key.exercise] = where
    return found


def _check_cells(nb: Any, reference: Reference | None) -> set[int]:
    """Indices of the cells that are check cells (by what they call, or by their id)."""
    ids = set(reference.checks.values()) if reference is not None else set()
    return {
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (checked_exercises(c.source) or c.get("id") in ids)
    }


def _client_class() -> Any:
    """NotebookClient that stops recording a cell's output past :data:`MAX_OUTPUT` characters."""
    import nbformat
    from nbclient import NotebookClient

    class Client(NotebookClient):
        sizes: dict[int, int] = {}  # noqa: RUF012 (replaced per instance)
        capped = True  # False while the grader's own cell runs (its verdict must not be cut)

        def output(self, outs: Any, msg: Any, display_id: Any, cell_index: int) -> Any:
            content = msg.get("content", {})
            if self.capped and msg.get("msg_type") in ("stream", "display_data", "execute_result"):
                size = len(str(content.get("text", ""))) + len(str(content.get("data", "")))
                total = self.sizes.get(cell_index, 0) + size
                self.sizes[cell_index] = total
                if total > MAX_OUTPUT:
                    if total - size <= MAX_OUTPUT:
                        outs.append(
                            nbformat.v4.new_output(
                                "stream", name="stderr", text="[bplib.grade: output cut]\n"
                            )
                        )
                    return None
            return super().output(outs, msg, display_id, cell_index)

    return Client


class _Kernel:
    """A fresh kernel that runs cells one at a time, records each outcome and never raises."""

    def __init__(self, metadata: Any, options: Options, cwd: str) -> None:
        import nbformat

        self.options = options
        self.nb = nbformat.v4.new_notebook(metadata=copy.deepcopy(metadata))
        self.client = _client_class()(
            self.nb,
            timeout=options.timeout,
            kernel_name=options.kernel,
            allow_errors=True,
            shutdown_kernel="immediate",
            coalesce_streams=True,
            record_timing=False,
            resources={"metadata": {"path": cwd}},
        )
        self.client.sizes = {}
        self.deadline = monotonic() + options.notebook_timeout
        self.state = "ok"  # or "stuck" (did not come back from an interrupt), "dead", "budget"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.options.threads is not None:
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env.setdefault(name, str(self.options.threads))
        return env

    def run(self, cell: Any, *, keep: bool = True) -> tuple[str, str]:
        """Run ``cell`` (appended to ``self.nb`` if ``keep``): ``(outcome, detail)``.

        ``outcome`` is "ok", "error" (``detail``: "Type: message"), "timeout", or, when
        the kernel can run nothing more, "stuck", "dead" or "budget".
        """
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if self.state != "ok":
            return self.state, ""
        remaining = self.deadline - monotonic()
        if remaining < 1:
            self.state = "budget"
            return self.state, ""
        self.client.timeout = max(1, int(min(self.options.timeout, remaining)))
        self.nb.cells.append(cell)
        index = len(self.nb.cells) - 1
        self.client.sizes.pop(index, None)
        self.client.capped = keep  # the grader's cells (not kept) are not cut
        try:
            self.client.execute_cell(cell, index)
        except CellTimeoutError:
            self._interrupt()
            return "timeout", ""
        except DeadKernelError:
            self.state = "dead"
            return self.state, ""
        finally:
            if not keep:
                self.nb.cells.pop()
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return "error", f"{out.get('ename', '')}: {out.get('evalue', '')}"
        return "ok", ""

    def _interrupt(self) -> None:
        """Interrupt the kernel and wait up to ``grace`` seconds for it to answer again.

        The client's channels are opened afresh (nbclient's timeout cancels a read of the
        output channel, after which outputs can go missing), then a probe cell must print
        a token. A kernel that does not, in time, is "stuck" (or "dead").
        """
        import nbformat
        from jupyter_core.utils import run_sync
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        grace = max(2, min(self.options.grace, self.options.timeout))
        client = self.client
        token = secrets.token_hex(8)
        probe = nbformat.v4.new_code_cell(f"print({token!r})")
        self.nb.cells.append(probe)
        try:
            run_sync(client.km.interrupt_kernel)()
            client.kc.stop_channels()
            client.kc = client.km.client()
            client.kc.allow_stdin = False
            client.kc.start_channels()
            run_sync(client.kc.wait_for_ready)(timeout=grace)
            client.timeout = grace
            client.execute_cell(probe, len(self.nb.cells) - 1)
            printed = "".join(str(o.get("text", "")) for o in probe.get("outputs", []))
            if token not in printed:
                self.state = "stuck"
        except (CellTimeoutError, RuntimeError, TimeoutError):
            self.state = "stuck"
        except DeadKernelError:
            self.state = "dead"
        finally:
            self.nb.cells.pop()


#: The kernel client and scratch folder of the notebook this process is grading (for stop_now).
_ACTIVE: dict[str, Any] = {}


def stop_now(signum: int, frame: object) -> None:
    """A worker's SIGTERM handler: kill the kernel it runs, remove its scratch folder, exit."""
    import shutil

    try:
        _ACTIVE["client"].km.provisioner.process.kill()
    except Exception:  # no kernel running, or it is gone already
        pass
    shutil.rmtree(_ACTIVE.get("scratch", ""), ignore_errors=True)
    os._exit(1)


_GONE = {"stuck": "timeout", "budget": "timeout", "dead": "error: kernel died"}


def _verdict(result: dict[str, Any] | None) -> tuple[str, str]:
    """The table's value for the injected cell's ``result``, and a note (or "")."""
    if result is None:
        return "error: no verdict", "the grader's cell printed no verdict (stdout redirected?)"
    if result.get("status") == "missing":
        return "missing: " + ", ".join(map(str, result.get("names", []))), ""
    if result.get("status") == "verdict":
        return " ".join(str(result.get("verdict", "")).split()), ""
    error = str(result.get("error", ""))
    return "error: no key", f"the key could not be loaded: {error}"


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def grade_notebook(task: Task, options: Options) -> Row:
    """Run ``task``'s notebook in a fresh kernel and grade each exercise of its chapter."""
    import nbformat

    start = monotonic()
    row = Row(student=task.student, notebook=str(task.path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.read(task.path, as_version=4)
    except Exception as err:  # a damaged file is one student's problem, not the class's
        row.status = f"unreadable notebook ({type(err).__name__})"
        row.notes.append(_short(str(err)))
        return row
    chapter = which_chapter(nb, task, options)
    if chapter is None:
        row.status = "no exercises found (which chapter is it?)"
        return row
    row.chapter = chapter
    keys = options.keys_by_chapter[chapter]
    reference = options.references.get(chapter)
    where = anchors(nb, keys, reference)
    checks = _check_cells(nb, reference)
    at: dict[int | None, list[str]] = {}
    for exercise, index in where.items():
        at.setdefault(index, []).append(exercise)
    marker = f"bplib-grade-{secrets.token_hex(8)}:"
    with tempfile.TemporaryDirectory(prefix="bplib-grade-") as scratch:
        cwd = str(options.cwd) if options.cwd is not None else scratch
        kernel = _Kernel(nb.metadata, options, cwd)
        _ACTIVE.update(client=kernel.client, scratch=scratch)
        try:
            # the kernel's own stderr (ipykernel's warnings) is not the students' output
            with kernel.client.setup_kernel(env=kernel.env(), stderr=subprocess.DEVNULL):
                _run_all(nb, kernel, at, checks, marker, row, options, task.keep_as is not None)
        except Exception as err:  # the kernel did not start, or nbclient failed
            row.status = f"kernel failed ({type(err).__name__})"
            row.notes.append(_short(f"{type(err).__name__}: {err}"))
            for key in keys:
                row.verdicts.setdefault(key.exercise, "error: kernel failed")
    if kernel.state != "ok" and row.status == "ok":
        row.status = {"stuck": "stopped: a cell did not stop when interrupted",
                      "budget": f"stopped: over the notebook budget ({options.notebook_timeout} s)",
                      "dead": "stopped: the kernel died"}[kernel.state]  # fmt: skip
    elif row.status == "ok" and row.notes:
        row.status = "cells failed"
    if task.keep_as is not None:
        task.keep_as.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(kernel.nb, task.keep_as)
    row.verdicts = dict(sorted(row.verdicts.items(), key=lambda kv: sort_key(kv[0])))
    row.seconds = monotonic() - start
    return row


def _run_all(
    nb: Any,
    kernel: _Kernel,
    at: dict[int | None, list[str]],
    checks: set[int],
    marker: str,
    row: Row,
    options: Options,
    keep: bool,
) -> None:
    """Run the notebook's cells and grade each exercise at its anchor (see :func:`anchors`)."""
    import nbformat

    trouble: list[tuple[str, str]] = []  # ("timeout" | "error", exception type) since last grade
    steps = [(i, at.get(i, [])) for i in range(len(nb.cells))] + [(None, at.get(None, []))]
    for index, exercises in steps:
        if index is not None:
            cell = copy.deepcopy(nb.cells[index])
            if cell.cell_type != "code":
                kernel.nb.cells.append(cell)
            elif kernel.state != "ok":
                cell.outputs, cell.execution_count = [], None  # not run
                kernel.nb.cells.append(cell)
            else:
                outcome, detail = kernel.run(cell)
                expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
                if outcome == "timeout" or (outcome == "error" and not expected):
                    what = "timed out" if outcome == "timeout" else f"raised {_short(detail)}"
                    row.notes.append(f"cell {index + 1} {what}")
                    if index not in checks:
                        trouble.append((outcome, detail.split(":", 1)[0]))
                if not keep:  # only the errors: a class's outputs would fill the memory
                    cell.outputs = [o for o in cell.outputs if o.get("output_type") == "error"]
        for exercise in sorted(exercises, key=sort_key):
            if kernel.state != "ok":
                row.verdicts[exercise] = _GONE[kernel.state]
                continue
            probe = nbformat.v4.new_code_cell(injected_cell(exercise, options.keys, marker))
            outcome, _ = kernel.run(probe, keep=False)
            text = "".join(
                str(o.get("text", "")) for o in probe.get("outputs", [])
                if o.get("output_type") == "stream"
            )  # fmt: skip
            if outcome in ("timeout", "stuck", "dead", "budget"):
                value = _GONE.get(outcome, "timeout")
                row.notes.append(
                    f"{exercise}: the check itself {'timed out' if value == 'timeout' else 'failed'}"
                )
            else:
                value, note = _verdict(parse_injected_output(text, marker))
                if note:
                    row.notes.append(f"{exercise}: {note}")
            if not value.startswith("Correct"):
                if any(kind == "timeout" for kind, _ in trouble):
                    value = "timeout"
                elif trouble and not value.startswith("error"):
                    value = f"error: {trouble[0][1]}"
            row.verdicts[exercise] = value
            _show(kernel, exercise, value)
        if exercises:
            trouble = []


def _show(kernel: _Kernel, exercise: str, value: str) -> None:
    """Put the grader's verdict in the kept notebook: after the output of the exercise's
    check cell, or in a markdown cell of its own (the check cell was deleted)."""
    import nbformat

    last = kernel.nb.cells[-1] if kernel.nb.cells else None
    text = f"[bplib.grade {exercise}] {value}\n"
    if last is not None and last.cell_type == "code" and exercise in checked_exercises(last.source):
        last.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))
    else:
        kernel.nb.cells.append(
            nbformat.v4.new_markdown_cell(f"**bplib.grade {exercise}**: {value}")
        )
