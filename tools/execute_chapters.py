"""Re-create each chapter's ``.ipynb`` from its ``.md`` source and execute it in place.

Usage: ``python tools/execute_chapters.py [chapters/NN_name.md ...]`` (default: every chapter).
The stored outputs are what strict nbval compares against, so run this after changing a
chapter or bplib, and commit the ``.ipynb`` files. Prints each chapter's execution time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from chapters import CHAPTERS, chapter_sources


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
