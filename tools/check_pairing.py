"""Check that every chapter's ``.md`` (the source) and its ``.ipynb`` agree, and that the
``.ipynb`` has been executed. Exit status 1, with a message per problem, if not."""

from __future__ import annotations

import sys

import nbformat

from chapters import ROOT, cell_summary, chapter_sources, read


def problems() -> list[str]:
    found = []
    for md in chapter_sources():
        nb_path = md.with_suffix(".ipynb")
        name = md.relative_to(ROOT)
        if not nb_path.exists():
            found.append(f"{name}: no paired .ipynb (run: make notebooks)")
            continue
        nb = nbformat.read(nb_path, as_version=4)
        if cell_summary(read(md)) != cell_summary(nb):
            found.append(
                f"{name} and its .ipynb disagree: the .md is the source; run make notebooks"
            )
        unexecuted = [
            i
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.source.strip() and c.execution_count is None
        ]
        if unexecuted:
            found.append(f"{nb_path.relative_to(ROOT)}: cells {unexecuted} were never executed")
    return found


if __name__ == "__main__":
    found = problems()
    for p in found:
        print(p)
    print(f"pairing: {len(chapter_sources())} chapters checked, {len(found)} problems")
    sys.exit(1 if found else 0)
