"""bplib.init: the initialisers and manual_seed."""

from __future__ import annotations

import numpy as np

import bplib


def test_he_init_with_a_huge_slope_gives_finite_tiny_weights():
    for fn in (bplib.init.he_uniform, bplib.init.he_normal):
        w = fn(4, 3, rng=0, negative_slope=1e300)  # before: OverflowError from a**2
        assert np.isfinite(w).all() and 0 < np.abs(w).max() < 1e-299
