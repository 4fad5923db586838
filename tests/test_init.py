"""bplib.init: the initialisers and manual_seed."""

from __future__ import annotations

import numpy as np
import pytest

import bplib
from bplib import init


@pytest.fixture(autouse=True)
def unseeded():
    """Each test starts and ends with rng=None meaning fresh entropy (manual_seed's tests)."""
    bplib.manual_seed(None)
    yield
    bplib.manual_seed(None)


def test_he_init_with_a_huge_slope_gives_finite_tiny_weights():
    for fn in (bplib.init.he_uniform, bplib.init.he_normal):
        w = fn(4, 3, rng=0, negative_slope=1e300)  # before: OverflowError from a**2
        assert np.isfinite(w).all() and 0 < np.abs(w).max() < 1e-299


@pytest.mark.parametrize(
    ("name", "variance"),
    [
        ("normal", lambda fi, fo: 1e-4),
        ("uniform", lambda fi, fo: 1 / (3 * fi)),
        ("xavier_uniform", lambda fi, fo: 2 / (fi + fo)),
        ("xavier_normal", lambda fi, fo: 2 / (fi + fo)),
        ("he_uniform", lambda fi, fo: 2 / fi),
        ("he_normal", lambda fi, fo: 2 / fi),
        ("lecun_normal", lambda fi, fo: 1 / fi),
    ],
)
def test_initialisers_have_the_variance_their_formula_gives(name, variance):
    fan_in, fan_out = 300, 200
    w = init.get(name)(fan_in, fan_out, rng=0)
    assert w.shape == (fan_in, fan_out)
    # the sample variance of n = 60000 draws has relative standard error sqrt(2/n) ~ 0.006
    # (normal) or less (uniform); 5% is eight standard errors
    assert w.var() == pytest.approx(variance(fan_in, fan_out), rel=0.05)
    assert abs(w.mean()) < 5 * np.sqrt(variance(fan_in, fan_out) / w.size)


def test_initialisers_are_reproducible_from_a_seed_and_respect_dtype():
    a = bplib.Linear(4, 3, init="he_normal", rng=7, dtype=np.float32)
    b = bplib.Linear(4, 3, init="kaiming_normal", rng=np.random.default_rng(7), dtype=np.float32)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.data.dtype == np.float32
    assert not bplib.Linear(4, 3, init="zeros").weight.data.any()


def test_uniform_init_bounds_are_one_over_sqrt_fan_in():
    w = bplib.Linear(16, 50, rng=0).weight.data
    assert np.abs(w).max() <= 0.25 and np.abs(w).max() > 0.24


# ---------------------------------------------------------------------------- seeding
def test_manual_seed_makes_unseeded_layers_repeatable():
    bplib.manual_seed(0)
    first = bplib.Linear(4, 3).weight.data.copy()
    bplib.manual_seed(0)
    np.testing.assert_array_equal(bplib.Linear(4, 3).weight.data, first)


def test_without_manual_seed_unseeded_layers_differ():
    assert not np.array_equal(bplib.Linear(4, 3).weight.data, bplib.Linear(4, 3).weight.data)


def test_an_explicit_rng_ignores_and_leaves_alone_the_global_seed():
    bplib.manual_seed(0)
    a = bplib.Linear(4, 3, rng=5).weight.data
    np.testing.assert_array_equal(a, bplib.Linear(4, 3, rng=5).weight.data)
    after_explicit = bplib.Linear(4, 3).weight.data
    bplib.manual_seed(0)
    np.testing.assert_array_equal(bplib.Linear(4, 3).weight.data, after_explicit)


@pytest.mark.parametrize("seed", [1.5, "0", True])
def test_manual_seed_rejects_what_is_not_an_int(seed):
    with pytest.raises(TypeError, match="manual_seed expected an int seed or None"):
        bplib.manual_seed(seed)
    assert init._global_rng is None
