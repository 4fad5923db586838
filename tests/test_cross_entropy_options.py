"""CrossEntropyLoss(weight=, label_smoothing=, reduction=): PyTorch's definitions, checked
against torch.nn.functional.cross_entropy and by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import bplib
from bplib.gradcheck import numerical_gradient

CASES = [
    {"weight": [1.0, 2.0, 0.5, 3.0]},
    {"label_smoothing": 0.1},
    {"reduction": "sum"},
    {"weight": [0.2, 1.0, 4.0, 1.5], "label_smoothing": 0.3},
    {"weight": [0.2, 1.0, 4.0, 1.5], "label_smoothing": 0.3, "reduction": "sum"},
    {"label_smoothing": 1.0},
]


def _batch(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((7, 4)) * 2).astype(dtype)
    y = np.array([0, 1, 2, 3, 1, 1, 0])
    return z, y


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_loss_and_gradient_agree_with_torch(kwargs):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no torch cross-check")
    z, y = _batch()
    loss_fn = bplib.CrossEntropyLoss(
        **{k: np.array(v) if k == "weight" else v for k, v in kwargs.items()}
    )
    ours = loss_fn(z, y)
    grad = loss_fn.backward()
    tz = torch.tensor(z, requires_grad=True)
    tkw = {
        k: torch.tensor(v, dtype=torch.float64) if k == "weight" else v for k, v in kwargs.items()
    }
    theirs = torch.nn.functional.cross_entropy(tz, torch.tensor(y), **tkw)
    theirs.backward()
    assert ours == pytest.approx(theirs.item(), rel=1e-13)
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_gradient_agrees_with_finite_differences(kwargs):
    z, y = _batch(seed=1)
    loss_fn = bplib.CrossEntropyLoss(**kwargs)
    loss_fn(z, y)
    nudged = z.copy()
    fd = numerical_gradient(lambda: bplib.CrossEntropyLoss(**kwargs)(nudged, y), nudged)
    np.testing.assert_allclose(loss_fn.backward(), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_float32_stays_float32(kwargs):
    z, y = _batch(np.float32)
    loss_fn = bplib.CrossEntropyLoss(**kwargs)
    loss_fn(z, y)
    assert loss_fn.backward().dtype == np.float32


def test_the_options_at_their_defaults_are_the_plain_loss_bit_for_bit():
    z, y = _batch(seed=3)
    plain, options = bplib.CrossEntropyLoss(), bplib.CrossEntropyLoss(weight=np.ones(4))
    assert plain(z, y) == pytest.approx(options(z, y), rel=1e-15)
    np.testing.assert_allclose(plain.backward(), options.backward(), rtol=1e-15, atol=1e-18)
    assert repr(plain) == "CrossEntropyLoss()"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"reduction": "none"}, ValueError, "reduction must be 'mean' or 'sum'"),
        ({"label_smoothing": 1.5}, ValueError, "label_smoothing"),
        ({"label_smoothing": "0.1"}, TypeError, "label_smoothing"),
        ({"weight": [1.0, -1.0]}, ValueError, "weight must be a 1-D array of finite weights >= 0"),
        ({"weight": [[1.0, 2.0]]}, ValueError, "weight must be a 1-D array"),
        ({"weight": [1.0, np.nan]}, ValueError, "weight"),
    ],
)
def test_bad_options_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        bplib.CrossEntropyLoss(**kwargs)


def test_a_weight_of_the_wrong_length_is_refused_before_anything_changes():
    z, y = _batch()
    loss_fn = bplib.CrossEntropyLoss(weight=np.ones(3))
    with pytest.raises(ValueError, match="weight has 3 entries but the logits have 4 classes"):
        loss_fn(z, y)
    with pytest.raises(RuntimeError, match="backward\\(\\) called before"):
        loss_fn.backward()
