"""The library's layout: one concept per module, each short enough to read in one sitting,
and the README's map of it complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "bplib").rglob("*.py"))
MAX_LINES = 650  # the module-structure issue's bound


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_is_under_the_line_bound(path):
    n = len(path.read_text().splitlines())
    assert n < MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines: split it by concept"


def test_the_readme_layout_names_every_module():
    readme = (ROOT / "README.md").read_text()
    (layout,) = re.findall(
        r"bplib/ +the library, one concept per module:\n(.*?)\ntests/", readme, re.S
    )
    missing = []
    for path in MODULES:
        if path.name == "__init__.py":
            continue
        rel = path.relative_to(ROOT / "bplib")
        if len(rel.parts) == 1:  # a module: listed by its file name at the start of a line
            found = re.search(rf"^  {re.escape(path.name)} ", layout, re.M)
        else:  # in a package: the package's line names the file
            found = f"{rel.parts[0]}/" in layout and path.name in layout
        if not found:
            missing.append(str(rel))
    assert not missing, f"README's layout does not name {missing}"
