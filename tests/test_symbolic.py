"""bplib.symbolic: SymPy's exact gradients of small networks against bplib's backward pass."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest
import sympy

import bplib
from bplib.symbolic import SymbolicMLP, check_model, compare_model, layer_jacobians

TOL = 1e-10  # float64 backprop and SymPy's compiled derivatives agree to ~1e-15


def activation_layers() -> dict[str, Callable[[], bplib.layers.Activation]]:
    """Every registered activation as it is now, by its name (symbolic's and the registry's);
    leaky ReLU with slope 0.1, not the default."""
    return {
        name: partial(bplib.LeakyReLU, 0.1) if cls is bplib.LeakyReLU else cls
        for name, cls in bplib.layers.ACTIVATIONS.items()
    }


ACTIVATION_LAYERS = activation_layers()  # the registry when collected: the parametrisation
LOSS_FUNCTIONS = {
    "mse": bplib.MSELoss,
    "sse": lambda: bplib.MSELoss(reduction="sum"),
    "cross_entropy": bplib.CrossEntropyLoss,
    "bce_with_logits": bplib.BCEWithLogitsLoss,
}


def random_network(activation: str, seed: int, depth: int = 2) -> bplib.Sequential:
    """Widths 1-3 (output 2-3), random weights and biases (a zero bias would hide a bias bug).

    Kept small: the symbolic expression of a network grows like width ** depth."""
    rng = np.random.default_rng(seed)
    sizes = [int(n) for n in rng.integers(1, 4, size=depth)] + [int(rng.integers(2, 4))]
    layers: list[bplib.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        linear = bplib.Linear(n_in, n_out, rng=rng)
        assert linear.bias is not None
        linear.bias.data[:] = rng.standard_normal(n_out)
        layers.append(linear)
        if i < depth - 1:
            layers.append(activation_layers()[activation]())
    return bplib.Sequential(*layers)


def random_batch(model: bplib.Sequential, loss: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1000)
    first, last = model[0], [m for m in model if isinstance(m, bplib.Linear)][-1]
    assert isinstance(first, bplib.Linear) and isinstance(last, bplib.Linear)
    n = int(rng.integers(1, 6))
    X = rng.standard_normal((n, first.in_features))
    if loss == "cross_entropy":
        return X, rng.integers(0, last.out_features, size=n)
    return X, rng.uniform(0, 1, size=(n, last.out_features))


# ---------------------------------------------------------------- agreement with backward
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", sorted(LOSS_FUNCTIONS))
@pytest.mark.parametrize("activation", sorted(ACTIVATION_LAYERS))
def test_symbolic_gradient_matches_backward(activation, loss, seed):
    model = random_network(activation, seed)
    X, y = random_batch(model, loss, seed)
    assert check_model(model, X, y, LOSS_FUNCTIONS[loss]()) < TOL


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_deeper_network_with_every_activation_matches_backward(loss, seed):
    rng = np.random.default_rng(seed)
    table = activation_layers()
    sizes, layers = [2] * (len(table) + 1), []
    for name, n_in, n_out in zip(sorted(table), sizes, sizes[1:], strict=False):
        linear = bplib.Linear(n_in, n_out, rng=rng)
        assert linear.bias is not None
        linear.bias.data[:] = rng.standard_normal(n_out)
        layers += [linear, table[name]()]
    model = bplib.Sequential(*layers)
    X, y = random_batch(model, loss, seed)
    assert check_model(model, X, y, LOSS_FUNCTIONS[loss]()) < TOL


def test_network_without_biases_matches_backward():
    rng = np.random.default_rng(0)
    model = bplib.Sequential(
        bplib.Linear(3, 4, bias=False, rng=rng), bplib.Tanh(), bplib.Linear(4, 2, rng=rng)
    )
    X, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    errors = compare_model(model, X, y, bplib.MSELoss())
    assert list(errors) == ["0.weight", "2.weight", "2.bias"]
    assert max(errors.values()) < TOL


@pytest.mark.parametrize(
    "activation", [n for n, cls in bplib.layers.ACTIVATIONS.items() if cls.sign_gated]
)
def test_relu_derivative_at_exactly_zero_follows_bplib(activation):
    # zero input and zero biases put every hidden pre-activation exactly at the kink
    model = bplib.Sequential(
        bplib.Linear(2, 3, rng=0), activation_layers()[activation](), bplib.Linear(3, 2, rng=1)
    )
    X, y = np.zeros((2, 2)), np.array([[1.0, -1.0], [0.5, 2.0]])
    assert np.all(model[0](X) == 0)
    assert check_model(model, X, y, bplib.MSELoss()) < TOL


def test_symbolic_loss_matches_bplib_loss():
    for loss, make in LOSS_FUNCTIONS.items():
        model = random_network("tanh", 7)
        X, y = random_batch(model, loss, 7)
        net = SymbolicMLP.from_model(model, make())
        assert net.loss_at(model, X, y) == pytest.approx(make()(model(X), y), rel=1e-12)


# ---------------------------------------------------------------- it catches bugs
class SigmoidWithoutOneMinus(bplib.Sigmoid):
    """A classic slip: sigma' written as sigma instead of sigma (1 - sigma)."""

    def derivative(self, z, a):
        return a


class LinearWithUntransposedBackward(bplib.Linear):
    """dX = delta @ W.T, written (for a square W) as delta @ W: shapes pass, values do not."""

    def backward(self, grad_out):
        super().backward(grad_out)
        return grad_out @ self.weight.data


@pytest.mark.parametrize(
    "model",
    [
        bplib.Sequential(
            bplib.Linear(2, 3, rng=0), SigmoidWithoutOneMinus(), bplib.Linear(3, 2, rng=1)
        ),
        bplib.Sequential(
            bplib.Linear(2, 3, rng=0),
            bplib.Tanh(),
            LinearWithUntransposedBackward(3, 3, rng=1),
            bplib.Tanh(),
            bplib.Linear(3, 2, rng=2),
        ),
    ],
    ids=["sigmoid-derivative", "untransposed-weights"],
)
def test_check_model_catches_a_wrong_backward(model):
    X = np.random.default_rng(3).standard_normal((4, 2))
    assert check_model(model, X, np.array([0, 1, 1, 0]), bplib.CrossEntropyLoss()) > 1e-2


# ---------------------------------------------------------------- the symbolic network
def test_symbols_follow_the_book_notation():
    net = SymbolicMLP([2, 3, 2], "sigmoid")
    assert net.weights[0].shape == (2, 3) and net.biases[1].shape == (1, 2)
    assert str(net.weights[0][0, 1]) == "w^{(1)}_{12}"  # from input 1 to unit 2 of layer 1
    assert str(net.biases[1][0, 1]) == "b^{(2)}_{2}"
    assert [str(s) for s in net.inputs] == ["x_{1}", "x_{2}"]
    assert [str(s) for s in net.targets] == ["y_{1}", "y_{2}"]
    assert net.output.shape == (1, 2)


def test_wide_layers_separate_two_digit_indices():
    net = SymbolicMLP([12, 1], "identity")
    assert str(net.weights[0][10, 0]) == "w^{(1)}_{11,1}"


def test_a_single_activation_name_also_applies_to_the_output_unless_overridden():
    assert SymbolicMLP([2, 2, 2, 1], "tanh").activation_names == ["tanh"] * 3
    net = SymbolicMLP([2, 2, 2, 1], "tanh", output_activation="identity")
    assert net.activation_names == ["tanh", "tanh", "identity"]


def test_the_output_is_the_composed_expression():
    net = SymbolicMLP([1, 1], "sigmoid", loss="half_sse")
    w, b = net.weights[0][0, 0], net.biases[0][0, 0]
    x, y = net.inputs[0], net.targets[0]
    assert sympy.simplify(net.output[0] - 1 / (1 + sympy.exp(-(x * w + b)))) == 0
    assert sympy.simplify(net.loss - (net.output[0] - y) ** 2 / 2) == 0


def test_gradient_has_one_derivative_per_parameter_and_is_cached():
    net = SymbolicMLP([2, 3, 2], "tanh")
    g = net.gradient()
    assert list(g) == net.parameter_symbols and len(g) == 2 * 3 + 3 + 3 * 2 + 2
    assert net.gradient() is g


def test_gradient_matrices_have_the_parameter_shapes():
    net = SymbolicMLP([2, 3, 2], "relu")
    for (dW, db), W, b in zip(net.gradient_matrices(), net.weights, net.biases, strict=True):
        assert dW.shape == W.shape and db.shape == b.shape


def test_half_sse_is_half_the_sum_of_squares_loss():
    model = random_network("sigmoid", 4)
    X, y = random_batch(model, "sse", 4)
    half = SymbolicMLP.from_model(model, "half_sse").gradient_at(model, X, y)
    full = SymbolicMLP.from_model(model, "sse").gradient_at(model, X, y)
    for name in full:
        np.testing.assert_allclose(2 * half[name], full[name], rtol=1e-14)


def test_mean_losses_average_the_per_example_gradients():
    model = random_network("tanh", 5)
    X, y = random_batch(model, "mse", 5)
    X, y = np.vstack([X, X[:1] + 1]), np.vstack([y, y[:1]])  # at least two examples
    net = SymbolicMLP.from_model(model, "mse")
    batch = net.gradient_at(model, X, y)
    singles = [net.gradient_at(model, X[i : i + 1], y[i : i + 1]) for i in range(len(X))]
    for name in batch:
        np.testing.assert_allclose(batch[name], np.mean([s[name] for s in singles], axis=0))


def test_evaluate_is_keyed_and_shaped_like_the_model_parameters():
    model = bplib.Sequential(bplib.Linear(2, 3, rng=0), bplib.Linear(3, 2, rng=1))
    grads = SymbolicMLP.from_model(model).gradient_at(model, np.ones((2, 2)), np.zeros((2, 2)))
    assert {k: v.shape for k, v in grads.items()} == {
        name: p.shape for name, p in model.named_parameters()
    }


def test_from_model_reads_activations_slopes_and_layer_names():
    model = bplib.Sequential(
        bplib.Linear(2, 3, rng=0), bplib.LeakyReLU(0.2), bplib.Linear(3, 2, rng=1), bplib.Sigmoid()
    )
    net = SymbolicMLP.from_model(model, bplib.MSELoss(reduction="sum"))
    assert net.sizes == [2, 3, 2] and net.activation_names == ["leaky_relu", "sigmoid"]
    assert net.negative_slopes[0] == 0.2 and net.loss_name == "sse" and net.reduction == "sum"
    assert net.names == ["0.weight", "0.bias", "2.weight", "2.bias"]


# ---------------------------------------------------------------- layer Jacobians
def test_layer_jacobian_with_respect_to_the_input_is_w_transposed():
    J = layer_jacobians(3, 2)
    assert J.dZ_dX == J.W.T
    assert J.dZ_db == sympy.eye(2)


def test_layer_jacobians_give_the_four_equations_for_a_batch():
    J = layer_jacobians(3, 2, "tanh", batch=2)
    delta = sympy.Matrix(2, 2, sympy.symbols("d:4"))  # dL/dZ
    vec = sympy.Matrix(list(delta)).T
    assert sympy.Matrix(1, 6, list(vec * J.dZ_dW)) == sympy.Matrix(1, 6, list(J.X.T * delta))
    assert sympy.Matrix(1, 2, list(vec * J.dZ_db)) == sympy.ones(1, 2) * delta
    assert sympy.Matrix(1, 6, list(vec * J.dZ_dX)) == sympy.Matrix(1, 6, list(delta * J.W.T))


def test_activation_jacobian_is_diagonal_with_the_derivative():
    J = layer_jacobians(2, 3, "sigmoid")
    assert J.dA_dZ.is_diagonal()
    for k, z in enumerate(sorted(J.A.free_symbols, key=str)):  # z_{1}, z_{2}, z_{3}
        s = 1 / (1 + sympy.exp(-z))
        assert sympy.simplify(J.dA_dZ[k, k] - s * (1 - s)) == 0


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [2], "activations": "tanh"}, "at least two layer widths"),
        ({"sizes": [2, 0], "activations": "tanh"}, "positive integer"),
        ({"sizes": [2, 2], "activations": "softsign"}, "unknown activation 'softsign'"),
        ({"sizes": [2, 2, 2], "activations": ["tanh"]}, "expected 2 activation names"),
        ({"sizes": [2, 2], "activations": "tanh", "loss": "hinge"}, "unknown loss 'hinge'"),
        ({"sizes": [2, 1], "activations": "tanh", "loss": "cross_entropy"}, "at least 2 outputs"),
        ({"sizes": [2, 2], "activations": "leaky_relu", "negative_slope": -1}, "negative_slope"),
        (
            {"sizes": [2, 2], "activations": ["tanh"], "output_activation": "identity"},
            "only used with a single activation name",
        ),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SymbolicMLP(**kwargs)


def test_from_model_rejects_what_it_cannot_express():
    with pytest.raises(TypeError, match="understands Linear"):
        SymbolicMLP.from_model(bplib.Sequential(bplib.Linear(2, 2), bplib.Sequential()))
    with pytest.raises(ValueError, match="before any Linear"):
        SymbolicMLP.from_model(bplib.Sequential(bplib.Tanh(), bplib.Linear(2, 2)))
    with pytest.raises(ValueError, match="at most one activation"):
        SymbolicMLP.from_model(bplib.Sequential(bplib.Linear(2, 2), bplib.Tanh(), bplib.Tanh()))
    with pytest.raises(TypeError, match=r"bplib\.Sequential"):
        SymbolicMLP.from_model(bplib.Linear(2, 2))  # type: ignore[arg-type]


def test_gradient_at_rejects_a_model_of_another_shape_or_activation():
    net = SymbolicMLP([2, 3, 2], "tanh", output_activation="identity")
    with pytest.raises(ValueError, match="does not match"):
        net.gradient_at(
            bplib.Sequential(bplib.Linear(2, 3), bplib.Sigmoid(), bplib.Linear(3, 2)),
            np.ones((1, 2)),
            np.ones((1, 2)),
        )
    with pytest.raises(ValueError, match="does not match"):
        net.gradient_at(bplib.Sequential(bplib.Linear(2, 2)), np.ones((1, 2)), np.ones((1, 2)))


def test_gradient_at_rejects_badly_shaped_batches_and_labels():
    model = bplib.Sequential(bplib.Linear(2, 3, rng=0))
    mse, ce = SymbolicMLP.from_model(model, "mse"), SymbolicMLP.from_model(model, "cross_entropy")
    with pytest.raises(ValueError, match=r"X must have shape \(batch >= 1, 2\), got \(3,\)"):
        mse.gradient_at(model, np.ones(3), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"real targets of shape \(1, 3\)"):
        mse.gradient_at(model, np.ones((1, 2)), np.ones(3))
    with pytest.raises(TypeError, match=r"integer class labels \(e.g. int64\), got dtype float64"):
        ce.gradient_at(model, np.ones((2, 2)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"integer labels of shape \(2,\)"):
        ce.gradient_at(model, np.ones((2, 2)), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"labels in 0..2 for 3 classes, got values from 0 to 3"):
        ce.gradient_at(model, np.ones((2, 2)), np.array([0, 3]))


def test_check_model_rejects_a_loss_without_a_symbolic_form():
    class Hinge(bplib.Loss):
        pass

    model = bplib.Sequential(bplib.Linear(2, 2))
    with pytest.raises(TypeError, match="no symbolic form"):
        check_model(model, np.ones((1, 2)), np.ones((1, 2)), Hinge())


def test_layer_jacobians_rejects_bad_sizes_and_activations():
    with pytest.raises(ValueError, match="batch must be a positive integer"):
        layer_jacobians(2, 2, batch=0)
    with pytest.raises(ValueError, match="unknown activation"):
        layer_jacobians(2, 2, "swish")


def test_symbolic_gradient_refuses_a_nan_batch():
    pytest.importorskip("sympy")
    from bplib.symbolic import SymbolicMLP

    model = bplib.Sequential(bplib.Linear(2, 2, rng=0))
    net = SymbolicMLP.from_model(model, "mse")
    with pytest.raises(ValueError, match="X must be finite, got 1 NaN"):
        net.gradient_at(model, np.array([[np.nan, 1.0]]), np.ones((1, 2)))
