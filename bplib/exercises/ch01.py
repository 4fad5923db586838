"""Answer keys of chapter 1, "Neurons and activations" (``check("1.M", ...)``).

Each key recomputes its reference from the chapter's constants; none reads the notebook's
variables besides the answers, so a student who changed them still gets a fair verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, array, close, expression, number, same_function

__all__ = ["ex1", "ex2", "ex3", "ex4"]

# The points at which symbolic answers are compared: both sides of ReLU's kink, the kink
# itself, and a large |z| (alpha is the chapter's leaky ReLU slope, a positive symbol).
_Z_VALUES = (-3.7, -0.9, 0.0, 0.45, 1.3, 6.2)
_ALPHA_VALUE = 0.1


def _symbols() -> tuple[Any, Any]:
    import sympy as sp

    return sp.symbols("z", real=True), sp.symbols("alpha", positive=True)


def by_name(expr: Any, symbols: dict[str, Any]) -> Any:
    """``expr`` with each free symbol replaced by the symbol of ``symbols`` of the same name.

    A student who made their own ``sp.Symbol("z")`` (without the chapter's ``real=True``)
    wrote the same function; SymPy would call its ``z`` a different symbol.
    """
    expr = expression(expr)
    swap = {s: symbols[s.name] for s in expr.free_symbols if s.name in symbols}
    return expr.xreplace(swap)


def _same(expr: Any, truth: Any, points: list[dict[Any, float]]) -> bool:
    try:
        return same_function(expr, truth, points)
    except NotYet:
        raise
    except (TypeError, ValueError, ArithmeticError):
        return False  # not a number at some point (a Piecewise without a branch, say)


def ex1(dsoftplus: Any, derivative_is: Any) -> str:
    """Exercise 1.1: the derivative of softplus, and which chapter function it equals.

    ``dsoftplus`` is compared with d/dz log(1 + e^z) numerically at several points
    (``same_function``), so every equivalent form is accepted, whatever SymPy prints;
    ``derivative_is`` likewise with each of the chapter's four functions. Diagnoses:
    not a SymPy expression; softplus itself instead of its derivative; the derivative of
    the inner function only (the chain rule's outer factor missing); a right derivative
    named as the wrong function (or as no function of the chapter).
    """
    import sympy as sp

    z, alpha = _symbols()
    names = {"z": z, "alpha": alpha}
    points = [{z: v, alpha: _ALPHA_VALUE} for v in _Z_VALUES]
    softplus = sp.log(1 + sp.exp(z))
    truth = sp.diff(softplus, z)
    yours = by_name(dsoftplus, names)
    if not _same(yours, truth, points):
        if _same(yours, softplus, points):
            return "Not yet: dsoftplus is softplus itself; differentiate it with respect to z"
        if _same(yours, sp.exp(z), points):
            return (
                "Not yet: dsoftplus is the derivative of the inside, e^z, only; the chain "
                "rule also multiplies by the derivative of the log"
            )
        return "Not yet: dsoftplus is not the derivative of softplus with respect to z"
    functions = {
        "sigma": 1 / (1 + sp.exp(-z)),
        "tanh_def": sp.tanh(z),
        "relu": sp.Piecewise((z, z > 0), (0, True)),
        "leaky_relu": sp.Piecewise((z, z > 0), (alpha * z, True)),
    }
    if isinstance(derivative_is, str):
        raise NotYet(
            "derivative_is should be the chapter's SymPy expression itself (sigma, say), "
            "not its name in quotes"
        )
    try:
        which = by_name(derivative_is, names)
    except NotYet:
        raise NotYet(
            "derivative_is should be a SymPy expression: one of the chapter's "
            + ", ".join(functions)
        ) from None
    named = [name for name, f in functions.items() if _same(which, f, points)]
    if not named:
        return (
            "Not yet: dsoftplus is right, but derivative_is is none of the chapter's "
            "functions (" + ", ".join(functions) + "); compare dsoftplus with each"
        )
    if named[0] != "sigma":
        return f"Not yet: dsoftplus is right, but it is not {named[0]}: compare their values"
    return "Correct: the derivative of softplus is the sigmoid, sigma"


def ex2(z_hand: Any, a_hand: Any) -> str:
    """Exercise 1.2: one sigmoid neuron's weighted input and activation, by hand.

    Accepts each value to within 1e-6 (six decimals). Diagnoses: not a number; z without
    the bias; a wrong weighted sum (generic); a = sigma(-z) (the sign in the exponent);
    a = e^{-z} / (1 + e^{-z}) (which is the same mistake); a that is not the sigmoid of
    the student's own z; a right function of a wrong z. The expected values never appear.
    """
    z_yours, a_yours = number(z_hand, "z_hand"), number(a_hand, "a_hand")
    w, b, x = np.array([0.5, 1.0, -2.0]), 0.5, np.array([2.0, -1.0, 0.5])
    z_true = float(w @ x + b)
    a_true = float(1 / (1 + np.exp(-z_true)))
    if not close(z_yours, z_true, rtol=0, atol=1e-6):
        if close(z_yours, z_true - b, rtol=0, atol=1e-6):
            return "Not yet: z_hand is the weighted sum without the bias b"
        if close(a_yours, 1 / (1 + np.exp(-z_yours)), rtol=0, atol=1e-6):
            return (
                "Not yet: a_hand is the sigmoid of your z_hand, but z_hand is not w . x + b: "
                "recompute the three products and the sum"
            )
        return "Not yet: z_hand is not w . x + b: recompute the three products and the sum"
    if close(a_yours, a_true, rtol=0, atol=1e-6):
        return f"Correct: z = {z_yours:.6f}, a = {a_yours:.6f}"
    if close(a_yours, 1 / (1 + np.exp(z_true)), rtol=0, atol=1e-6):
        return "Not yet: z_hand is right; a_hand has the sign of the exponent flipped"
    return "Not yet: z_hand is right, but a_hand is not sigmoid(z_hand)"


def ex3(leaky_relu_grad: Any) -> str:
    """Exercise 1.3: ``leaky_relu_grad(z, alpha)``, leaky ReLU's derivative elementwise.

    Calls it on a 5 x 4 array (random values, large ones, and exact zeros, the kink) with
    alpha = 0.2, and on a 1-D array with alpha = 0.05, comparing with
    ``bplib.LeakyReLU(alpha).backward``. Diagnoses: not a function; an answer that only
    works on scalars (``if z > 0``); the wrong shape; wrong only at z = 0 (the
    convention); ignores ``alpha``; ReLU's slope on the negative side; wrong on the
    positive side.
    """
    import bplib

    if not callable(leaky_relu_grad):
        raise NotYet(f"leaky_relu_grad should be a function, not {type(leaky_relu_grad).__name__}")
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(5, 4))
    Z[0, :2] = 0.0  # the kink
    Z[4, :2] = (-40.0, 40.0)
    for z_values, alpha in ((Z, 0.2), (np.array([-2.0, 0.0, 3.0, -0.5]), 0.05)):
        leaky = bplib.LeakyReLU(negative_slope=alpha)
        leaky.forward(z_values)
        expected = leaky.backward(np.ones_like(z_values))
        try:
            got: Any = answer(leaky_relu_grad(z_values.copy(), alpha))
        except ValueError as err:
            if "truth value" in str(err):
                raise NotYet(
                    "leaky_relu_grad must work on a whole array at once: an `if` on an array "
                    "is ambiguous (use np.where)"
                ) from None
            raise
        got = array(np.broadcast_to(got, z_values.shape) if np.ndim(got) == 0 else got,
                    "leaky_relu_grad(z, alpha)", z_values.shape)  # fmt: skip
        wrong = ~np.isclose(got, expected, rtol=1e-12, atol=0)
        if not wrong.any():
            continue
        kink = z_values == 0
        if not wrong[~kink].any():
            return (
                "Not yet: right everywhere except at z = 0: follow the chapter's convention "
                "for the kink"
            )
        negative, positive = z_values < 0, z_values > 0
        if wrong[positive].any():
            return "Not yet: wrong for z > 0, where leaky ReLU is the identity"
        if np.allclose(got[negative], 0):
            return "Not yet: for z < 0 your slope is 0: that is ReLU's derivative, not leaky ReLU's"
        if np.allclose(got[negative], got[negative].flat[0]):
            return "Not yet: for z < 0 your slope does not follow the alpha you are given"
        return "Not yet: wrong for some z < 0"
    return "Correct: leaky_relu_grad agrees with bplib.LeakyReLU, including at z = 0"


# The chapter's layer in PyTorch's layout (out, in), and its bias
_W_TORCH = np.array([[0.5, -1.0], [0.25, 2.0], [-1.5, 0.75]])
_B_TORCH = np.array([0.1, -0.2, 0.3])


def ex4(weight: Any, bias: Any) -> str:
    """Exercise 1.4: the ``weight`` and ``bias`` of ``bplib.Linear(2, 3)`` from PyTorch's layout.

    Loads them into a ``bplib.Linear(2, 3)`` and compares its output with PyTorch's rule
    z_j = sum_i W_torch[j, i] x_i + b_j on several inputs. Diagnoses: shape (3, 2) (not
    transposed); another shape; the right shape with the numbers in the wrong places
    (a reshape is not a transpose); a bias of the wrong shape or values.
    """
    import bplib

    W = array(weight, "weight")
    if W.shape == _W_TORCH.shape:
        raise NotYet("weight has PyTorch's shape (out, in) = (3, 2); bplib stores W as (in, out)")
    W = array(weight, "weight", (2, 3))
    b = array(bias, "bias")
    if b.shape != (3,):
        raise NotYet(f"bias has shape {b.shape}: a layer has one bias per output unit")
    X = np.random.default_rng(1).normal(size=(6, 2))
    expected = np.array([[_W_TORCH[j] @ x_n + _B_TORCH[j] for j in range(3)] for x_n in X])
    dense = bplib.Linear(2, 3, rng=1)
    dense.weight.data[...] = W
    assert dense.bias is not None
    dense.bias.data[...] = b
    if close(dense(X), expected, rtol=1e-12, atol=1e-12):
        return "Correct: your bplib layer computes the same Z as the PyTorch-layout weights"
    weight_ok = close(X @ W, expected - _B_TORCH, rtol=1e-12, atol=1e-12)
    if weight_ok:
        return "Not yet: the weight is right; the bias is not the same as PyTorch's"
    if np.array_equal(np.sort(W, axis=None), np.sort(_W_TORCH, axis=None)):
        return (
            "Not yet: weight has the right shape and the right numbers, in the wrong places: "
            "a reshape is not a transpose"
        )
    return "Not yet: the layer does not compute what PyTorch's does; check the weight"
