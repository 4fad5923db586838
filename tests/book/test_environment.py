"""environment.yml (conda) and pyproject.toml describe the same environment; binder/ pins
constraints.txt's exact versions."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
# conda-forge spells a few packages differently from PyPI
CONDA_NAMES = {"pyyaml": "pyyaml", "build": "python-build"}
NOT_IN_CONDA = {"tomli"}  # a back-port only Python 3.10 needs, and only for this test


def _split(spec: str) -> tuple[str, str]:
    spec = spec.split(";")[0].strip()
    name, bound = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", spec).groups()
    return name.lower().replace("_", "-"), bound.replace(" ", "")


def pyproject_packages() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    specs = project["dependencies"] + [
        s for extra, listed in extras.items() if extra != "torch" for s in listed
    ]
    # an extra that names other extras of this package ("bplib-book[plot,symbolic]")
    specs = [s for s in specs if not s.startswith(project["name"] + "[")]
    packages = dict(_split(s) for s in specs)
    return {CONDA_NAMES.get(n, n): b for n, b in packages.items() if n not in NOT_IN_CONDA}


def conda_packages() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = [d for d in env["dependencies"] if isinstance(d, str)]
    return {n: b for n, b in map(_split, specs) if n not in ("python", "pip")}


def test_environment_yml_and_pyproject_list_the_same_packages_and_versions():
    assert conda_packages() == pyproject_packages()


def test_both_require_the_same_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]


def test_binder_environment_is_generated_from_constraints_txt():
    check = [sys.executable, str(ROOT / "tools" / "make_binder.py"), "--check"]
    done = subprocess.run(check, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_binder_pins_every_version_of_constraints_txt_but_torch():
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    constraints = [
        line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith(("#", "torch=="))
    ]
    assert pip == constraints
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[^=<>~ ]+", p) for p in pip)
