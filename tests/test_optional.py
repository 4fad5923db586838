"""`pip install bplib-book` installs numpy alone; the parts that need more say which extra.

Each test hides one optional package (``sys.modules[name] = None`` makes its import fail
the way a missing package does) and checks what the reader sees. tests/book/test_packaging.py
does the same for real, in a virtual environment that has nothing but numpy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bplib
from bplib import _optional, optim

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_numpy_is_the_only_required_dependency():
    assert [d.split(">")[0] for d in PROJECT["dependencies"]] == ["numpy"]


@pytest.mark.parametrize("module", sorted(_optional.EXTRAS))
def test_each_optional_package_is_in_the_extra_its_error_names(module):
    distribution, extra = _optional.EXTRAS[module]
    listed = [s.split(">")[0] for s in PROJECT["optional-dependencies"][extra]]
    assert listed == [distribution]
    # ... and the chapters' extra brings it too
    assert extra in PROJECT["optional-dependencies"]["chapters"][0]


def test_import_bplib_imports_none_of_the_optional_packages():
    code = "import sys, bplib; print(sorted(m for m in ('matplotlib', 'sympy', 'tqdm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plot_without_matplotlib_names_the_plot_extra(monkeypatch):
    hide(monkeypatch, "matplotlib")
    monkeypatch.delitem(sys.modules, "matplotlib.pyplot", raising=False)
    history = bplib.train.History(loss=[1.0, 0.5])
    with pytest.raises(ImportError, match=r"bplib\.plot needs matplotlib.*bplib-book\[plot\]"):
        bplib.plot.loss_curves(history)


def test_symbolic_without_sympy_names_the_symbolic_extra(monkeypatch):
    hide(monkeypatch, "sympy")
    monkeypatch.delitem(sys.modules, "bplib.symbolic", raising=False)
    with pytest.raises(ImportError, match=r"bplib\.symbolic needs sympy.*bplib-book\[symbolic\]"):
        import bplib.symbolic  # noqa: F401


def test_a_missing_dependency_of_an_installed_package_is_not_blamed_on_the_extra(monkeypatch):
    hide(monkeypatch, "matplotlib.pyplot")  # matplotlib is there; something below it is not
    with pytest.raises(ModuleNotFoundError) as error:
        _optional.require("matplotlib.pyplot", "bplib.plot")
    assert "bplib-book" not in str(error.value)


def test_fit_without_tqdm_prints_plain_lines_to_stdout(monkeypatch, capsys):
    hide(monkeypatch, "tqdm", "tqdm.auto")
    monkeypatch.delenv("BPLIB_PROGRESS", raising=False)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 2)), rng.integers(0, 2, size=12)
    net = bplib.Sequential(bplib.Linear(2, 3, rng=0), bplib.Tanh(), bplib.Linear(3, 2, rng=1))
    history = bplib.fit(
        net, bplib.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1), X, y, epochs=3
    )
    out, err = capsys.readouterr()
    assert err == ""
    *lines, last = out.splitlines()  # 3 epochs: every epoch has its line (tests/test_train.py)
    assert [line.split(",")[0] for line in lines] == [f"fit: epoch {k}/3" for k in (1, 2, 3)]
    assert lines[-1].endswith(f"loss={history.loss[-1]:.4f}")
    assert last == "fit: finished all 3 epochs"  # nothing stopped it early
