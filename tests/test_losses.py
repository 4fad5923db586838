"""bplib.losses: MSELoss, CrossEntropyLoss, BCEWithLogitsLoss."""

from __future__ import annotations

import numpy as np
import pytest

import bplib
from bplib.gradcheck import numerical_gradient


def test_mse_refuses_a_target_that_would_broadcast():
    pred = np.zeros((5, 1))
    with pytest.raises(
        ValueError,
        match=r"same shape as the predictions \(5, 1\), got \(5,\).*"
        r"would broadcast.*reshape\(5, 1\)",
    ):
        bplib.MSELoss()(pred, np.zeros(5))


def test_mse_refuses_a_batch_size_mismatch():
    with pytest.raises(ValueError, match=r"predictions \(5, 2\), got \(4, 2\)"):
        bplib.MSELoss()(np.zeros((5, 2)), np.zeros((4, 2)))


def test_mse_refuses_an_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum', got 'avg'"):
        bplib.MSELoss("avg")


def test_cross_entropy_refuses_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels in 0\.\.2 for 3 classes, got values from 0 to 3"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="got values from -1 to 1"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([-1, 1]))


def test_cross_entropy_refuses_float_labels():
    with pytest.raises(TypeError, match=r"expected integer class labels.*got dtype float64"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_cross_entropy_refuses_one_hot_or_mismatched_labels():
    with pytest.raises(ValueError, match=r"labels of shape \(2,\).*got \(2, 3\)"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.eye(3, dtype=int)[:2])
    with pytest.raises(ValueError, match=r"labels of shape \(2,\).*got \(3,\)"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_bce_refuses_targets_outside_zero_one():
    with pytest.raises(ValueError, match=r"targets in \[0, 1\], got values from 0.0 to 2.0"):
        bplib.BCEWithLogitsLoss()(np.zeros((2, 1)), np.array([[0.0], [2.0]]))


def test_losses_refuse_non_finite_predictions_and_targets():
    bad = np.array([[np.nan, 0.0]])
    with pytest.raises(FloatingPointError, match=r"NaN or infinity.*smaller learning rate"):
        bplib.MSELoss()(bad, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="target containing NaN or infinity"):
        bplib.MSELoss()(np.zeros((1, 2)), bad)


def test_losses_refuse_empty_batches():
    with pytest.raises(ValueError, match="empty batch"):
        bplib.CrossEntropyLoss()(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_loss_backward_before_the_loss_is_refused():
    with pytest.raises(RuntimeError, match=r"backward\(\) called before the loss was computed"):
        bplib.MSELoss().backward()


@pytest.mark.parametrize("loss", [bplib.MSELoss(), bplib.BCEWithLogitsLoss()], ids=repr)
def test_a_target_holding_both_infinities_is_refused_without_a_warning(loss):
    # inf + -inf is NaN: the check that finds the cause must not warn on the way
    target = np.array([[np.inf], [-np.inf], [0.0]])
    with pytest.raises(ValueError, match="target containing NaN or infinity"):
        loss(np.zeros((3, 1)), target)


def test_cross_entropy_is_finite_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 1e3]])
    loss_fn = bplib.CrossEntropyLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = loss_fn(logits, np.array([1, 1]))
    # the first row is wrong by a margin of 2e4: its loss is that margin, exactly
    assert loss == pytest.approx((2e4 + 0.0) / 2)
    np.testing.assert_allclose(loss_fn.backward(), [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-300)


def test_bce_with_logits_is_finite_for_huge_logits():
    loss_fn = bplib.BCEWithLogitsLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = loss_fn(np.array([[1e4], [-1e4]]), np.array([[0.0], [0.0]]))
    assert loss == pytest.approx(1e4 / 2)


def test_a_perfect_cross_entropy_fit_is_zero_not_minus_zero():
    loss = bplib.CrossEntropyLoss()(np.array([[1000.0, 0.0]]), np.array([0]))
    assert loss == 0.0 and np.copysign(1.0, loss) == 1.0


def test_float_labels_that_are_whole_numbers_get_the_astype_hint():
    with pytest.raises(
        TypeError,
        match=r"got dtype float64, shape \(2,\); its values are whole numbers: convert them with y\.astype\(int\)",
    ):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 2.0]))
    with pytest.raises(TypeError, match=r"got dtype float64, shape \(2,\)$"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.5, 2.0]))


# --- CrossEntropyLoss(weight=, label_smoothing=, reduction=): PyTorch's definitions, checked
# against torch.nn.functional.cross_entropy and by finite differences
CE_OPTION_CASES = [
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


@pytest.mark.parametrize("kwargs", CE_OPTION_CASES, ids=str)
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


@pytest.mark.parametrize("kwargs", CE_OPTION_CASES, ids=str)
def test_gradient_agrees_with_finite_differences(kwargs):
    z, y = _batch(seed=1)
    loss_fn = bplib.CrossEntropyLoss(**kwargs)
    loss_fn(z, y)
    nudged = z.copy()
    fd = numerical_gradient(lambda: bplib.CrossEntropyLoss(**kwargs)(nudged, y), nudged)
    np.testing.assert_allclose(loss_fn.backward(), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kwargs", CE_OPTION_CASES, ids=str)
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
