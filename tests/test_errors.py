"""Bad input raises an exception that names what was expected and what was given."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import bplib

rng = np.random.default_rng(0)


def test_linear_rejects_wrong_feature_count():
    layer = bplib.Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\), got \(4, 5\)"):
        layer(np.ones((4, 5)))


def test_linear_rejects_a_1d_input_with_a_hint():
    with pytest.raises(ValueError, match=r"2-D array.*got 1-D array of shape \(3,\).*reshape"):
        bplib.Linear(3, 2, rng=0)(np.ones(3))


def test_linear_rejects_an_empty_batch():
    with pytest.raises(ValueError, match=r"empty batch: shape \(0, 3\)"):
        bplib.Linear(3, 2, rng=0)(np.ones((0, 3)))


def test_linear_rejects_the_other_float_precision():
    layer = bplib.Linear(3, 2, rng=0, dtype=np.float32)
    with pytest.raises(TypeError, match="dtype float32 but the input has dtype float64"):
        layer(np.ones((2, 3)))


def test_linear_rejects_a_non_array():
    with pytest.raises(TypeError, match="expected a numpy array, got list"):
        bplib.Linear(3, 2, rng=0)([[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_linear_rejects_sizes_below_one_or_not_integers(bad):
    with pytest.raises(ValueError, match=rf"in_features must be a positive integer, got {bad!r}"):
        bplib.Linear(bad, 2)
    with pytest.raises(ValueError, match=rf"out_features must be a positive integer, got {bad!r}"):
        bplib.Linear(2, bad)


def test_linear_rejects_an_unknown_init_and_dtype():
    with pytest.raises(ValueError, match=r"unknown init 'glorot'; expected one of"):
        bplib.Linear(2, 2, init="glorot")
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        bplib.Linear(2, 2, dtype=np.int64)
    with pytest.raises(TypeError, match=r"rng must be an int seed, a numpy.random.Generator"):
        bplib.Linear(2, 2, rng="seed")


def test_backward_before_forward_is_refused():
    for module in [bplib.Linear(2, 2, rng=0), bplib.Sigmoid(), bplib.ReLU()]:
        with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
            module.backward(np.ones((1, 2)))


def test_backward_with_a_gradient_of_the_wrong_shape_is_refused():
    layer = bplib.Linear(3, 2, rng=0)
    layer(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(4, 2\).*got \(2, 4\)"):
        layer.backward(np.ones((2, 4)))
    act = bplib.Tanh()
    act(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(4, 3\).*got \(4,\)"):
        act.backward(np.ones(4))


def test_sequential_refuses_a_non_module():
    with pytest.raises(TypeError, match="argument 1 is ufunc: <ufunc 'tanh'>"):
        bplib.Sequential(bplib.Linear(2, 2), np.tanh)
    with pytest.raises(TypeError, match="argument 0 is a class, not an instance"):
        bplib.Sequential(bplib.ReLU)


def test_activation_refuses_integer_input():
    with pytest.raises(TypeError, match="expected a floating numpy array, got dtype int64"):
        bplib.Sigmoid()(np.array([[1, 2]]))


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


def test_gradcheck_refuses_a_float32_model():
    net = bplib.Linear(2, 1, dtype=np.float32, rng=0)
    with pytest.raises(TypeError, match=r"needs a float64 model.*float32"):
        bplib.gradcheck(net, bplib.MSELoss(), np.ones((1, 2), np.float32), np.ones((1, 1)))


# ------------------------------------------- what the generated probe found (issue 17)
gradcheck_module = importlib.import_module("bplib.gradcheck")


def _matrix(a: object) -> np.matrix:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asmatrix(a)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f() -> float:
        if x[0] != 1.0:
            raise ArithmeticError("f fails away from x")
        return float(x.sum())

    with pytest.raises(ArithmeticError):
        gradcheck_module.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])  # before: x[0] was left at 1 + eps


def test_numerical_gradient_refuses_a_non_finite_difference_and_bad_x():
    x = np.array([1.0, 2.0])
    with np.errstate(over="ignore"), pytest.raises(FloatingPointError, match=r"eps=1e\+300"):
        gradcheck_module.numerical_gradient(lambda: float(np.sum(x**2)), x, eps=1e300)
    with pytest.raises(ValueError, match="x must be finite, got 1 NaN"):
        gradcheck_module.numerical_gradient(lambda: 0.0, np.array([1.0, np.nan]))
    with pytest.raises(TypeError, match="x must be a plain numpy array"):
        gradcheck_module.numerical_gradient(lambda: 0.0, _matrix([[1.0, 2.0]]))


def test_relative_error_refuses_nan_complex_and_matrix():
    a = np.ones(3)
    with pytest.raises(ValueError, match="b must be finite, got 1 NaN"):
        gradcheck_module.relative_error(a, np.array([1.0, np.nan, 1.0]))
    with pytest.raises(TypeError, match="a must be a real numeric array, got dtype complex128"):
        gradcheck_module.relative_error(a.astype(complex), a)
    with pytest.raises(TypeError, match="a must be a plain numpy array"):
        gradcheck_module.relative_error(_matrix(a), _matrix(a))


def test_gradcheck_checks_the_batch_before_touching_the_model():
    model = bplib.Sequential(bplib.Linear(3, 2, rng=0))
    model.parameters()[0].grad[...] = 7.0
    X, y = np.ones((4, 3)), np.zeros(5, dtype=np.int64)
    with pytest.raises(ValueError, match=r"X and y must have the same number of examples"):
        bplib.gradcheck(model, bplib.CrossEntropyLoss(), X, y)
    with pytest.raises(ValueError, match=r"gradcheck: X contains 1 NaN"):
        bplib.gradcheck(model, bplib.CrossEntropyLoss(), np.array([[1.0, np.nan, 1.0]]), y[:1])
    assert (model.parameters()[0].grad == 7.0).all()  # not zeroed by a refused call


@pytest.mark.parametrize(
    "layer", [bplib.Dropout(0.5, rng=0), bplib.BatchNorm1d(3), bplib.LayerNorm(3)], ids=repr
)
def test_a_refused_forward_leaves_no_cache_and_backward_checks_the_dtype(layer):
    x = rng.standard_normal((4, 3))
    layer(x)
    with pytest.raises(TypeError, match=r"dtype float64.*got dtype (float32|complex128)"):
        layer.backward(np.ones((4, 3), np.float32))
    with pytest.raises(TypeError, match=r"dtype float64.*got dtype complex128"):
        layer.backward(np.ones((4, 3), complex))
    with pytest.raises(TypeError):
        layer(x.astype(complex))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(np.ones((4, 3)))  # before: the previous call's cache was used


def test_residual_refused_forward_leaves_no_cache():
    block = bplib.Residual(bplib.Linear(3, 3, rng=0))
    block(np.ones((2, 3)))
    with pytest.raises(ValueError):
        block(np.ones((2, 4)))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        block.backward(np.ones((2, 3)))


def test_dropout_refuses_a_matrix_in_its_own_words():
    with pytest.raises(TypeError, match=r"Dropout\(p=0.5\): the input must be a plain numpy array"):
        bplib.Dropout(0.5, rng=0)(_matrix(np.ones((2, 2))))


def test_he_init_with_a_huge_slope_gives_finite_tiny_weights():
    for fn in (bplib.init.he_uniform, bplib.init.he_normal):
        w = fn(4, 3, rng=0, negative_slope=1e300)  # before: OverflowError from a**2
        assert np.isfinite(w).all() and 0 < np.abs(w).max() < 1e-299


def test_layer_statistics_checks_x_and_grad_out_before_zeroing_the_gradients():
    model = bplib.Sequential(bplib.Linear(3, 2, rng=0), bplib.Tanh())
    model.parameters()[0].grad[...] = 5.0
    x = np.ones((4, 3))
    with pytest.raises(TypeError, match="layer_statistics: x must be a numpy array, got list"):
        bplib.experiments.layer_statistics(model, x.tolist(), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 3\).*got shape \(4, 2\)"):
        bplib.experiments.layer_statistics(model, x[:, :2], np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"grad_out must have the shape .* \(4, 2\), got \(4, 3\)"):
        bplib.experiments.layer_statistics(model, x, np.ones((4, 3)))
    assert (model.parameters()[0].grad == 5.0).all()


def test_landscape_names_the_argument_that_is_wrong():
    model = bplib.Sequential(bplib.Linear(3, 2, rng=0))
    loss, X, y = bplib.CrossEntropyLoss(), np.ones((4, 3)), np.zeros(4, dtype=np.int64)
    theta = bplib.utils.parameters_to_vector(model.parameters())
    bad = theta.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="end must be finite, got 1 NaN"):
        bplib.landscape.loss_along_line(model, loss, X, y, theta, bad, [0.0, 1.0])
    with pytest.raises(TypeError, match="start must be a real numeric array, got dtype complex128"):
        bplib.landscape.loss_along_line(model, loss, X, y, theta + 0j, theta, [0.0])
    with pytest.raises(ValueError, match="loss_along_line: X contains 1 NaN"):
        bplib.landscape.loss_along_line(
            model, loss, np.array([[1.0, np.nan, 1.0]]), y[:1], theta, theta, [0.0]
        )


def test_utils_refuse_what_numpy_would_have_refused_in_its_own_words():
    p = bplib.Parameter(np.ones(3), "w")
    with pytest.raises(TypeError, match=r"norm_type must be a number .*got str '2'"):
        bplib.utils.clip_grad_norm([p], 1.0, norm_type="2")
    with pytest.raises(TypeError, match="clip_grad_norm: max_norm must be a real number, got True"):
        bplib.utils.clip_grad_norm([p], True)
    with pytest.raises(TypeError, match="vector must be a real numeric array, got dtype complex"):
        bplib.utils.vector_to_parameters(np.ones(3, complex), [p])
    np.testing.assert_array_equal(p.data, 1.0)


def test_data_helpers_refuse_a_matrix_and_name_x():
    X, y = np.ones((4, 2)), np.arange(4) % 2
    with pytest.raises(TypeError, match="batches: X must be a plain numpy array"):
        bplib.data.batches(_matrix(X), y, 2)
    with pytest.raises(TypeError, match="train_test_split: X must be a plain numpy array"):
        bplib.data.train_test_split(_matrix(X), y, 0.5)
    with pytest.raises(TypeError, match=r"Standardizer\.fit: X must be a numpy array, got list"):
        bplib.data.Standardizer().fit(X.tolist())
    s = bplib.data.Standardizer().fit(X)
    with pytest.raises(ValueError, match=r"inverse_transform: Z must have 2 features"):
        s.inverse_transform(np.ones((2, 3)))


def test_random_network_refuses_a_non_number_input_std():
    with pytest.raises(TypeError, match="input_std must be a real number, got True"):
        bplib.experiments.random_network(2, 3, "tanh", "xavier_normal", input_std=True)


def test_plots_refuse_nan_complex_and_name_the_argument():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    model = bplib.Sequential(bplib.Linear(2, 2, rng=0), bplib.Sigmoid())
    with pytest.raises(ValueError, match="network_diagram: x must be finite, got 1 NaN"):
        bplib.plot.network_diagram(model, np.array([[np.nan, 1.0]]), np.ones((1, 2)))
    with pytest.raises(TypeError, match="grad_out must hold real numbers, got dtype complex"):
        bplib.plot.network_diagram(model, np.ones((1, 2)), np.ones((1, 2), complex))
    with pytest.raises(TypeError, match="decision_boundary: X must be a plain numpy array"):
        bplib.plot.decision_boundary(model, _matrix(np.ones((3, 2))), np.zeros(3, int))
    with pytest.raises(ValueError, match="decision_boundary: y must be integer labels"):
        bplib.plot.decision_boundary(model, np.ones((3, 2)), np.zeros(3))


def test_symbolic_gradient_refuses_a_nan_batch():
    pytest.importorskip("sympy")
    from bplib.symbolic import SymbolicMLP

    model = bplib.Sequential(bplib.Linear(2, 2, rng=0))
    net = SymbolicMLP.from_model(model, "mse")
    with pytest.raises(ValueError, match="X must be finite, got 1 NaN"):
        net.gradient_at(model, np.array([[np.nan, 1.0]]), np.ones((1, 2)))


def test_unbroadcast_refuses_a_matrix_and_complex():
    with pytest.raises(TypeError, match=r"grad must be a numpy array, got np\.matrix"):
        bplib.autodiff.unbroadcast(_matrix(np.ones((2, 3))), (1, 3))
    with pytest.raises(TypeError, match="grad must hold real numbers, got dtype complex128"):
        bplib.autodiff.unbroadcast(np.ones((2, 3), complex), (1, 3))


def test_optimizer_paths_refuses_a_nan_path():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    with pytest.raises(ValueError, match=r"optimizer_paths: path 'sgd' must be finite, got 1 NaN"):
        bplib.plot.optimizer_paths(
            lambda x, y: x**2 + y**2,
            {"sgd": np.array([[1.0, 1.0], [np.nan, 0.5]])},
            xlim=(-2.0, 2.0),
            ylim=(-2.0, 2.0),
        )


@pytest.mark.parametrize("loss", [bplib.MSELoss(), bplib.BCEWithLogitsLoss()], ids=repr)
def test_a_target_holding_both_infinities_is_refused_without_a_warning(loss):
    # inf + -inf is NaN: the check that finds the cause must not warn on the way
    target = np.array([[np.inf], [-np.inf], [0.0]])
    with pytest.raises(ValueError, match="target containing NaN or infinity"):
        loss(np.zeros((3, 1)), target)
