"""bplib.gradcheck: numerical_gradient, relative_error and gradcheck."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import bplib

from .helpers import as_matrix


def test_gradcheck_refuses_a_float32_model():
    net = bplib.Linear(2, 1, dtype=np.float32, rng=0)
    with pytest.raises(TypeError, match=r"needs a float64 model.*float32"):
        bplib.gradcheck(net, bplib.MSELoss(), np.ones((1, 2), np.float32), np.ones((1, 1)))


# ------------------------------------------- what the generated probe found (issue 17)
gradcheck_module = importlib.import_module("bplib.gradcheck")


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
        gradcheck_module.numerical_gradient(lambda: 0.0, as_matrix([[1.0, 2.0]]))


def test_relative_error_refuses_nan_complex_and_matrix():
    a = np.ones(3)
    with pytest.raises(ValueError, match="b must be finite, got 1 NaN"):
        gradcheck_module.relative_error(a, np.array([1.0, np.nan, 1.0]))
    with pytest.raises(TypeError, match="a must be a real numeric array, got dtype complex128"):
        gradcheck_module.relative_error(a.astype(complex), a)
    with pytest.raises(TypeError, match="a must be a plain numpy array"):
        gradcheck_module.relative_error(as_matrix(a), as_matrix(a))


def test_gradcheck_checks_the_batch_before_touching_the_model():
    model = bplib.Sequential(bplib.Linear(3, 2, rng=0))
    model.parameters()[0].grad[...] = 7.0
    X, y = np.ones((4, 3)), np.zeros(5, dtype=np.int64)
    with pytest.raises(ValueError, match=r"X and y must have the same number of examples"):
        bplib.gradcheck(model, bplib.CrossEntropyLoss(), X, y)
    with pytest.raises(ValueError, match=r"gradcheck: X contains 1 NaN"):
        bplib.gradcheck(model, bplib.CrossEntropyLoss(), np.array([[1.0, np.nan, 1.0]]), y[:1])
    assert (model.parameters()[0].grad == 7.0).all()  # not zeroed by a refused call


TOL = 1e-7


def test_gradcheck_passes_a_correct_network():
    rng = np.random.default_rng(0)
    net = bplib.Sequential(bplib.Linear(3, 5, rng=rng), bplib.Tanh(), bplib.Linear(5, 4, rng=rng))
    report = bplib.gradcheck(
        net, bplib.CrossEntropyLoss(), rng.standard_normal((6, 3)), rng.integers(0, 4, 6)
    )
    assert report.ok
    assert set(report.errors) == {"0.weight", "0.bias", "2.weight", "2.bias", "input"}


def test_gradcheck_catches_a_wrong_backward():
    class WrongTanh(bplib.Tanh):
        def derivative(self, z, a):  # forgets the square: 1 - a instead of 1 - a**2
            return 1 - a

    rng = np.random.default_rng(1)
    net = bplib.Sequential(bplib.Linear(3, 4, rng=rng), WrongTanh(), bplib.Linear(4, 1, rng=rng))
    report = bplib.gradcheck(
        net, bplib.MSELoss(), rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    )
    assert not report.ok
    assert report.errors["0.weight"] > 1e-2
    assert report.errors["2.weight"] < TOL  # the layer above the bug is still right
    assert "FAILED" in repr(report)


# ------------------------------------------- f at numerical_gradient's boundary (issue 27)
@pytest.mark.parametrize(
    ("f", "match"),
    [
        (None, r"numerical_gradient: f must be a function of no arguments.*got None"),
        (
            lambda: "x",
            r"numerical_gradient: f\(\) must return a number \(the scalar loss\), got str 'x'",
        ),
        (lambda: None, r"f\(\) must return a number \(the scalar loss\), got None"),
        (lambda: np.ones(2), r"f\(\) must return a number.*got dtype float64, shape \(2,\)"),
        (lambda: True, r"f\(\) must return a number \(the scalar loss\), got True"),
    ],
)
def test_numerical_gradient_refuses_an_f_that_is_not_a_scalar_function(f, match):
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=match):
        gradcheck_module.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])  # restored


def test_numerical_gradient_takes_a_one_element_array_and_numpy_scalars():
    x = np.array([1.0, 2.0])
    grad = gradcheck_module.numerical_gradient(lambda: np.array([(x**2).sum()]), x)
    np.testing.assert_allclose(grad, 2 * x, atol=1e-6)
    grad = gradcheck_module.numerical_gradient(lambda: np.float32((x**2).sum()), x, eps=1e-3)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-3)


def test_the_printed_numerical_gradient_is_the_plain_function_behind_the_boundary():
    """Chapter 5 prints numerical_gradient (show_source unwraps the boundary): the listing
    has no check in it, and the plain function computes what the guarded one returns."""
    import inspect

    listing = inspect.getsource(gradcheck_module.numerical_gradient)
    assert listing.startswith("def numerical_gradient(")
    code = [line.split("#")[0] for line in listing.split('"""')[2].splitlines()]  # no docstring
    assert not any(w in line for line in code for w in ("_check", "raise ", "finite", "assert"))
    plain = gradcheck_module.numerical_gradient.__wrapped__
    x = np.array([0.3, -1.2, 2.0])
    f = lambda: float(np.sum(np.sin(x)))  # noqa: E731
    np.testing.assert_array_equal(plain(f, x, 1e-6), gradcheck_module.numerical_gradient(f, x))
