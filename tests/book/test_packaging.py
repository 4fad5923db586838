"""The distribution a user installs: build the wheel and sdist, check them, install the wheel.

`python -m build` makes both (without build isolation: the test extra brings setuptools,
so no network is needed); `twine check --strict` checks their metadata as PyPI would; then
the wheel goes into a fresh virtual environment that has nothing but numpy (the pinned
version, from the package index or pip's cache), where the README's example must run and
the optional parts must name the extra that installs them.

Marked ``packaging`` (about 30 s): ``pytest -m "not packaging"`` leaves it out.
"""

from __future__ import annotations

import email
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

import bplib

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def run(*cmd: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    built = {p.suffix: p for p in out.iterdir()}
    assert sorted(built) == [".gz", ".whl"], sorted(out.iterdir())
    return {"wheel": built[".whl"], "sdist": built[".gz"]}


@pytest.fixture(scope="module")
def clean_python(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with numpy and the wheel (--no-deps), nothing else.

    numpy is the version this test session runs with: constraints.txt's pin where the pins
    apply (Python >= 3.11), the newest that supports the interpreter in CI's unpinned
    Python 3.10 job.
    """
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, with_pip=True, clear=True)
    python = env / "bin" / "python"
    numpy = f"numpy=={np.__version__}"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", numpy)
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", dist["wheel"])
    return python


def test_the_wheel_and_sdist_pass_twine_check_strict(dist):
    out = run(sys.executable, "-m", "twine", "check", "--strict", dist["wheel"], dist["sdist"])
    assert out.count("PASSED") == 2, out


def test_the_wheel_is_bplib_book_at_bplibs_version(dist):
    assert dist["wheel"].name.startswith(f"bplib_book-{bplib.__version__}-py3-none-any")


def test_the_wheel_carries_the_digits_the_type_marker_and_the_licences(dist):
    names = zipfile.ZipFile(dist["wheel"]).namelist()
    for needed in (
        "bplib/data/digits.npz",
        "bplib/data/genesis.txt.gz",
        "bplib/py.typed",
        "bplib/_optional.py",
    ):
        assert needed in names
    licences = {Path(n).name for n in names if ".dist-info/licenses/" in n}
    assert licences == {"LICENSE", "digits-CC-BY-4.0.txt"}
    assert not [n for n in names if n.startswith(("tests/", "tools/", "chapters/"))]


def test_the_wheel_metadata_names_the_licence_urls_and_extras(dist):
    wheel = zipfile.ZipFile(dist["wheel"])
    (meta_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    meta = email.message_from_bytes(wheel.read(meta_name))
    assert meta["Name"] == "bplib-book"
    assert meta["License-Expression"] == "MIT AND CC-BY-4.0"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls["Repository"] == "https://github.com/bplib-book/backprop-book"
    assert meta.get_all("Requires-Dist")[0] == "numpy>=1.24"
    assert not [r for r in meta.get_all("Requires-Dist") if "extra ==" not in r][1:]
    assert {"plot", "symbolic", "progress", "chapters"} <= set(meta.get_all("Provides-Extra"))


def test_the_sdist_carries_the_sources_the_licences_and_the_data(dist):
    import tarfile

    with tarfile.open(dist["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"LICENSE", "LICENSES/digits-CC-BY-4.0.txt", "pyproject.toml", "README.md"} <= names
    assert {"bplib/data/digits.npz", "bplib/data/genesis.txt.gz", "bplib/py.typed"} <= names


def test_the_readme_example_runs_with_numpy_alone(clean_python, tmp_path):
    (snippet,) = re.findall(r"## Using bplib\n\n```python\n(.*?)```", README, re.S)
    out = run(clean_python, "-c", snippet, cwd=tmp_path)  # not ROOT: the wheel, not the tree
    assert out.startswith("gradcheck OK: worst relative error"), out
    where = run(clean_python, "-c", "import bplib; print(bplib.__file__)", cwd=tmp_path)
    assert "site-packages" in where


def test_the_installed_wheel_loads_its_digits(clean_python, tmp_path):
    code = "import bplib; X, y = bplib.data.load_digits(); print(X.shape, y.shape, y.max())"
    assert run(clean_python, "-c", code, cwd=tmp_path).split() == ["(1797,", "64)", "(1797,)", "9"]


def test_the_plot_module_without_matplotlib_says_which_extra_to_install(clean_python, tmp_path):
    code = (
        "import bplib, bplib.plot\n"
        "try:\n    bplib.plot.loss_curves(bplib.train.History(loss=[1.0]))\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = run(clean_python, "-c", code, cwd=tmp_path)
    assert 'pip install "bplib-book[plot]"' in out, out
