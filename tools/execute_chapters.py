"""Re-create each chapter's ``.ipynb`` from its ``.md`` source and execute it in place.

Usage: ``python tools/execute_chapters.py [chapters/NN_name.md ...]`` (default: every chapter).
The stored outputs are what strict nbval compares against, so run this after changing a
chapter or bplib, and commit the ``.ipynb`` files. Prints each chapter's execution time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from nbclient import NotebookClient

from chapters import CHAPTERS, chapter_sources


def coalesce_streams(nb: Any) -> None:
    """Merge each cell's consecutive stdout (or stderr) outputs into one, as Jupyter shows them.

    How a cell's prints are split into messages depends on when the kernel flushes, that is,
    on the machine's load; merged, the stored notebook is the same on a busy machine.
    """
    for cell in nb.cells:
        merged: list[Any] = []
        for out in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (
                out.output_type == "stream"
                and last is not None
                and last.output_type == "stream"
                and last.name == out.name
            ):
                last.text += out.text
            else:
                merged.append(out)
        if "outputs" in cell:
            cell.outputs = merged


def execute(md: Path) -> float:
    nb = jupytext.read(md)
    for i, cell in enumerate(nb.cells):  # stable ids keep the .ipynb diffs small
        cell["id"] = f"cell-{i:03d}"
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(CHAPTERS)}},
        record_timing=False,
    ).execute()
    elapsed = time.perf_counter() - start
    coalesce_streams(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata["jupytext"] = {"formats": "ipynb,md:myst"}
    nbformat.write(nb, md.with_suffix(".ipynb"))
    return elapsed


def main(argv: list[str]) -> int:
    sources = [Path(a).resolve() for a in argv] or chapter_sources()
    total = 0.0
    for md in sources:
        seconds = execute(md)
        total += seconds
        print(f"{md.name:<40} {seconds:6.1f} s", flush=True)
    print(f"{'total':<40} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
