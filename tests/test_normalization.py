"""bplib.normalization: BatchNorm1d and LayerNorm (chapter 10)."""

from __future__ import annotations

import numpy as np
import pytest

import bplib


def test_batchnorm_refuses_an_overflowing_variance_before_updating_its_buffers():
    bn = bplib.BatchNorm1d(2)
    x = np.array([[1e155, 0.0], [-1e155, 1.0], [0.0, 2.0]])
    with pytest.raises(FloatingPointError, match="variance"):
        bn(x)
    np.testing.assert_array_equal(bn.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])


def test_batchnorm_passes_a_nan_on_but_keeps_it_out_of_its_buffers():
    bn = bplib.BatchNorm1d(2)
    x = np.array([[np.nan, 0.0], [1.0, 1.0], [0.0, 2.0]])
    assert np.isnan(bn(x)).any()
    np.testing.assert_array_equal(bn.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])
