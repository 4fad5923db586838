"""bplib/__init__.py: what `import bplib` loads, and when."""

from __future__ import annotations

import subprocess
import sys

import pytest

import bplib


def test_import_bplib_needs_neither_sympy_nor_matplotlib():
    code = "import sys, bplib; print(sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'matplotlib')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_bplib_loads_the_core_and_the_rest_on_first_use():
    code = (
        "import sys, bplib; core = sorted(m for m in sys.modules if m.startswith('bplib.')); "
        "bplib.optim, bplib.fit, bplib.data.spirals; "
        "print(core, 'bplib.optim' in sys.modules, 'bplib.train' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    core = (
        "['bplib._checks', 'bplib.dropout', 'bplib.fast', 'bplib.functional', 'bplib.gradcheck', "
        "'bplib.init', 'bplib.layers', 'bplib.losses', 'bplib.module', 'bplib.normalization', "
        "'bplib.residual', 'bplib.serialization']"
    )
    assert out.stdout.strip() == f"{core} True True"


def test_an_unknown_attribute_of_bplib_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'optimizers'"):
        bplib.optimizers  # noqa: B018
