"""Shared helpers of the chapter tools: which files are chapters, and how to read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jupytext

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"


def chapter_sources() -> list[Path]:
    """Every ``chapters/*.md`` that is a notebook (has a kernelspec), in order."""
    return [md for md in sorted(CHAPTERS.glob("*.md")) if "kernelspec:" in md.read_text()]


def cell_summary(nb: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    """What must agree between a ``.md`` and its ``.ipynb``: type, source and tags of each cell."""
    return [
        (c.cell_type, c.source.strip(), tuple(c.get("metadata", {}).get("tags", [])))
        for c in nb.cells
    ]


def read(path: Path) -> Any:
    return jupytext.read(path)
