"""bplib.residual: the Residual block (chapter 10)."""

from __future__ import annotations

import numpy as np
import pytest

import bplib


def test_residual_refused_forward_leaves_no_cache():
    block = bplib.Residual(bplib.Linear(3, 3, rng=0))
    block(np.ones((2, 3)))
    with pytest.raises(ValueError):
        block(np.ones((2, 4)))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        block.backward(np.ones((2, 3)))
