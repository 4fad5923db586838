"""bplib.layers' activation cards, and a new activation added the documented way.

CONTRIBUTING's "Adding an activation": one ``Activation`` subclass carrying its card
(``name``, ``sympy``, ``derivative_mean_square``, ``sign_gated``, ``torch_name``), which
registers it in ``bplib.layers.ACTIVATIONS``. The tests below define such a class here
(softplus), register it for the length of one test, and run the table-driven tests of the
other files on it. Each of those reads its table when it runs, through one function
(``helpers.activation_factories``, ``test_torch_crosscheck.torch_activations``,
``test_symbolic.activation_layers``, ``probe.common.activation_cases``, the registry itself
for ``test_experiments``), and its parametrisation reads the same function when collected;
so calling a table-driven test with the new name runs it on the new class. The class is
unregistered when the test ends, so every other test sees the book's six activations.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import sympy

import bplib
from bplib import experiments as ex
from bplib import symbolic
from bplib.functional import sigmoid
from bplib.layers import ACTIVATIONS, Activation

from . import test_experiments, test_gradients, test_numerics, test_symbolic
from .helpers import activation_factories
from .probe.common import activation_cases, run_case
from .probe.table import TABLE

try:
    from . import test_torch_crosscheck
except pytest.skip.Exception:  # torch is not installed
    test_torch_crosscheck = None  # type: ignore[assignment]

BOOK_ORDER = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "gelu"]


@contextmanager
def registered(*classes: Any) -> Iterator[None]:
    """Unregister ``classes`` (registered when they were defined) on the way out."""
    try:
        yield
    finally:
        for cls in classes:
            del ACTIVATIONS[cls.name]


def define_softplus(f64_constant: bool = False) -> type[Activation]:
    r"""Softplus, :math:`\log(1 + e^z)`, with :math:`f' = \sigma`: the documented path.

    With ``f64_constant`` its derivative carries the float32 trap of issue 29's GELU
    (``np.sqrt(2 / np.pi)``): a numpy float64 scalar, which turns float32 into float64."""

    class Softplus(Activation):
        r""":math:`\log(1 + e^z)`, derivative :math:`\sigma(z)`."""

        name = "softplus_f64" if f64_constant else "softplus"
        derivative_mean_square = 0.25  # sigma(0)^2: E[f'(z)^2] -> 1/4 as z -> 0
        torch_name = "Softplus"

        @staticmethod
        def sympy(z: Any) -> Any:
            return sympy.log(1 + sympy.exp(z))

        def function(self, z: Any) -> Any:
            return np.logaddexp(0, z)

        def derivative(self, z: Any, a: Any) -> Any:
            if f64_constant:
                return np.sqrt(0.25) * 2 * sigmoid(z)  # np.sqrt(0.25) is a float64 scalar
            return sigmoid(z)

    return Softplus


@pytest.fixture
def softplus() -> Iterator[type[Activation]]:
    cls = define_softplus()
    with registered(cls):
        yield cls


# ------------------------------------------------------------------------ the registry
def test_the_registry_is_built_from_the_cards_in_the_book_order():
    assert list(ACTIVATIONS) == BOOK_ORDER  # chapters 8 and 9 print tables in this order
    assert list(symbolic.ACTIVATIONS) == BOOK_ORDER
    z = sympy.Symbol("z", real=True)
    for name, cls in ACTIVATIONS.items():
        assert cls.name == name and cls.__module__ == "bplib.layers"
        assert cls.derivative_mean_square is not None and cls.torch_name is not None
        assert cls.sympy is not Activation.sympy
        # the SymPy form is the numpy function, at a few points
        f = sympy.lambdify(z, cls.sympy(z), "numpy")
        points = np.array([-2.0, -0.3, 0.5, 1.7])
        np.testing.assert_allclose(f(points), cls()(points), rtol=1e-15)


def test_a_subclass_inherits_the_name_without_registering_again():
    class Steeper(bplib.Sigmoid):
        pass

    assert ACTIVATIONS["sigmoid"] is bplib.Sigmoid and list(ACTIVATIONS) == BOOK_ORDER


def test_a_taken_or_malformed_name_is_refused_with_both_classes_named():
    with pytest.raises(ValueError, match=r"'tanh' of .*Twin is already registered, by Tanh"):

        class Twin(Activation):
            name = "tanh"

    with pytest.raises(TypeError, match=r"Bad.name must be an identifier string, got 'a b'"):

        class Bad(Activation):
            name = "a b"

    assert list(ACTIVATIONS) == BOOK_ORDER


def test_a_card_without_a_theory_value_or_sympy_form_says_so():
    class Bare(Activation):
        name = "bare"

        def function(self, z):
            return z

        def derivative(self, z, a):
            return np.ones_like(z)

    with registered(Bare):
        with pytest.raises(ValueError, match=r"'bare' has no theory value: its class .*Bare "):
            ex.predicted_ratio("bare", "he_normal", 8)
        with pytest.raises(ValueError, match=r"'bare' has no SymPy form: its class .*Bare "):
            symbolic.activation("bare", sympy.Symbol("z"))
        with pytest.raises(ValueError, match=r"'bare' has no SymPy form"):
            symbolic.SymbolicMLP([2, 1], "bare")


def test_unknown_names_are_refused_listing_the_registered_ones(softplus):
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; expected one of .*softplus"):
        symbolic.activation("swish", sympy.Symbol("z"))
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; expected one of .*softplus"):
        ex.derivative_mean_square("swish")


# ------------------------------------------------- a new activation in every table-driven test
def test_registering_puts_it_in_every_table_and_leaving_takes_it_out():
    def tables() -> list[Any]:
        torch_table = test_torch_crosscheck.torch_activations() if test_torch_crosscheck else {}
        return [
            "softplus" in ACTIVATIONS,
            "softplus" in symbolic.ACTIVATIONS,
            "Softplus" in activation_factories(),
            "softplus" in test_symbolic.activation_layers(),
            "Softplus" in torch_table or test_torch_crosscheck is None,
        ]

    assert not any(tables()[:4])
    cls = define_softplus()
    with registered(cls):
        assert all(tables())
    assert not any(tables()[:4]) and list(ACTIVATIONS) == BOOK_ORDER


def test_torch_parity_picks_it_up(softplus):
    if test_torch_crosscheck is None:
        pytest.skip("PyTorch not installed: pip install torch==2.13.0")
    for seed in test_torch_crosscheck.SEEDS:
        test_torch_crosscheck.test_activation_matches_torch("Softplus", seed)


def test_float32_tables_pick_it_up(softplus):
    test_numerics.test_dtype_is_preserved_end_to_end(np.float32)
    for loss, optimizer in itertools.product(
        ["cross_entropy", "mse", "bce"], sorted(test_numerics.OPTIMISERS)
    ):
        test_numerics.test_a_float32_training_step_makes_no_float64_temporaries(loss, optimizer)


def test_float32_tables_catch_the_float64_constant_trap():
    cls = define_softplus(f64_constant=True)
    trap = r"Linear.*\.backward expected a gradient of dtype float32 .*, got dtype float64"
    with registered(cls):  # its float64 gradient reaches the Linear below it, which refuses it
        with pytest.raises(TypeError, match=trap):
            test_numerics.test_dtype_is_preserved_end_to_end(np.float32)
        with pytest.raises(TypeError, match=trap):
            test_numerics.test_a_float32_training_step_makes_no_float64_temporaries("mse", "sgd")


def test_gradient_checks_pick_it_up(softplus):
    test_gradients.test_activation_gradients_match_finite_differences("Softplus")
    test_gradients.test_sequential_gradients_match_finite_differences("Softplus")


def test_experiments_pick_it_up(softplus):
    test_experiments.test_derivative_mean_square_is_what_the_activation_backward_gives_near_zero(
        "softplus"
    )
    test_experiments.test_measure_agrees_with_layer_statistics_on_each_seeds_bplib_network(
        "softplus"
    )
    # n Var[W] E[f'^2] = 64 * (2/64) * (1/4) with He weights
    assert ex.predicted_ratio("softplus", "he_normal", 64) == 0.5
    # smooth: no random on/off pattern, so the tolerance of a non-gated activation
    assert ex.ratio_tolerance(16, 4, 3, activation="softplus") == ex.ratio_tolerance(16, 4, 3)


def test_symbolic_checks_pick_it_up(softplus):
    z = sympy.Symbol("z")
    assert symbolic.activation("softplus", z) == sympy.log(1 + sympy.exp(z))
    for loss, seed in itertools.product(sorted(test_symbolic.LOSS_FUNCTIONS), range(2)):
        test_symbolic.test_symbolic_gradient_matches_backward("softplus", loss, seed)
    for loss, seed in itertools.product(["mse", "cross_entropy"], range(2)):
        test_symbolic.test_deeper_network_with_every_activation_matches_backward(loss, seed)


def test_the_probe_picks_it_up(softplus):
    cases = activation_cases(softplus, lambda v: np.log1p(np.exp(v)))
    # as many as the probe's TABLE holds for each of the book's activations
    assert len(cases) == len(TABLE["bplib.Tanh"]) == len(TABLE["bplib.ReLU"])
    for case in cases:
        run_case("Softplus", case)


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


def test_activation_refuses_integer_input():
    with pytest.raises(TypeError, match="expected a floating numpy array, got dtype int64"):
        bplib.Sigmoid()(np.array([[1, 2]]))


def test_sigmoid_is_exact_and_silent_at_plus_minus_1000():
    z = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is exact
        a = bplib.Sigmoid()(z)
    # sigma(-1000) = e^-1000 is below float64's smallest number, so 0 is the correct result;
    # sigma(-40) = e^-40 / (1 + e^-40) must keep its full relative precision
    expected = [0.0, np.exp(-40) / (1 + np.exp(-40)), 0.5, 1 / (1 + np.exp(-40)), 1.0]
    np.testing.assert_allclose(a[0], expected, rtol=1e-15, atol=0)


def test_linear_accepts_an_init_function():
    def ones(fan_in, fan_out, *, rng=None, dtype=np.float64):
        return np.ones((fan_in, fan_out), dtype)

    layer = bplib.Linear(2, 3, init=ones)
    assert (layer.weight.data == 1).all()


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


# ---------------------------------------------------------------------------- Flatten
def test_flatten_feeds_images_to_linear_and_reshapes_the_gradient_back():
    X = np.random.default_rng(0).normal(size=(5, 8, 8))
    flat = bplib.Flatten()
    out = flat(X)
    assert out.shape == (5, 64)
    np.testing.assert_array_equal(out, X.reshape(5, 64))
    grad = np.arange(5 * 64, dtype=float).reshape(5, 64)
    np.testing.assert_array_equal(flat.backward(grad), grad.reshape(5, 8, 8))


def test_a_network_with_flatten_passes_gradcheck():
    X = np.random.default_rng(1).normal(size=(4, 2, 3))
    net = bplib.Sequential(bplib.Flatten(), bplib.Linear(6, 3, rng=0), bplib.Tanh())
    report = bplib.gradcheck(net, bplib.MSELoss(), X, np.zeros((4, 3)))
    assert report.ok, report


@pytest.mark.parametrize("bad", [np.zeros(3), [[1.0, 2.0]]])
def test_flatten_rejects_what_has_no_batch_axis(bad):
    with pytest.raises(ValueError, match=r"Flatten expected an array of shape \(batch, \.\.\.\)"):
        bplib.Flatten()(bad)


def test_flatten_backward_before_forward_and_a_wrong_gradient_shape_are_errors():
    flat = bplib.Flatten()
    with pytest.raises(RuntimeError):
        flat.backward(np.zeros((2, 4)))
    flat(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(2, 4\)"):
        flat.backward(np.zeros((2, 5)))
