"""Answer keys of chapter 2, "Measuring error" (``check("2.M", ...)``).

Each key recomputes its reference from its own inputs (seeded) and exact arithmetic where
the chapter uses it; none reads the notebook's variables besides the answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, array, close, number

__all__ = ["ex1", "ex2", "ex3", "ex4"]


def _call(function: Any, name: str, *args: Any) -> Any:
    """``function(*args)``'s result, or :class:`NotYet` if ``function`` is not a function."""
    if not callable(function):
        raise NotYet(f"{name} should be a function, not {type(function).__name__}")
    with np.errstate(all="ignore"):
        return answer(function(*(a.copy() for a in args)))


def ex1(mse_grad: Callable[..., Any]) -> str:
    """Exercise 2.1: ``mse_grad(y_hat, y)``, the gradient of the mean squared error.

    Compares with ``bplib.MSELoss().backward()`` on a 5 x 3 batch and on a vector of 7
    entries (N is the number of entries, whatever the shape). Diagnoses: not a function;
    the wrong shape; the factor 2 missing; the 1/N missing; 1/(rows) instead of 1/N; the
    sign (y - y_hat). It never prints the expected gradient.
    """
    import bplib

    rng = np.random.default_rng(2)
    for shape in ((5, 3), (7,)):
        y_hat, y = rng.normal(size=shape), rng.normal(size=shape)
        loss = bplib.MSELoss()
        loss(y_hat, y)
        expected = loss.backward()
        yours = array(_call(mse_grad, "mse_grad", y_hat, y), "mse_grad(y_hat, y)", shape)
        if close(yours, expected, rtol=1e-10):
            continue
        mistakes = {
            "the factor 2 from differentiating the square is missing": 0.5,
            "the 1/N of the mean is missing": y_hat.size,
            "the sign: differentiate with respect to y_hat, not y": -1.0,
            "the 1/N divides by the number of rows; N counts every entry": shape[-1],
        }
        for hint, factor in mistakes.items():
            if len(shape) == 1 and factor == shape[-1] and "rows" in hint:
                continue
            if close(yours, factor * expected, rtol=1e-9):
                return f"Not yet: {hint}"
        if close(yours, -2 * expected, rtol=1e-9) or close(yours, -expected / 2, rtol=1e-9):
            return "Not yet: check the sign and the factor 2"
        return f"Not yet: mse_grad differs from bplib.MSELoss's gradient for y_hat of shape {shape}"
    return "Correct: mse_grad matches bplib.MSELoss for a matrix and a vector"


def _exact_logsumexp(z: np.ndarray) -> np.ndarray:
    import sympy as sp

    return np.array(
        [float(sp.log(sum(sp.exp(sp.Float(float(v), 40)) for v in row)).evalf(40)) for row in z]
    )


def ex2(my_logsumexp: Callable[..., Any]) -> str:
    """Exercise 2.2: ``my_logsumexp(z)``, log-sum-exp of each row, finite for any logits.

    Compares with 40-digit values (SymPy) on rows of large, very negative and ordinary
    logits (a 3 x 3 and a 2 x 5 array). Diagnoses: not a function; the wrong shape (one
    value per row); inf or nan (the naive formula overflows); the row maximum broadcast
    along the wrong axis; which kind of row is wrong. It never prints the expected values.
    """
    kinds = ("large logits", "very negative logits", "ordinary logits")
    tests = [
        np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0], [0.1, 0.2, 0.3]]),
        np.array([[710.0, -3.0, 705.5, 0.0, 709.9], [-0.5, 1.5, 0.25, -2.0, 3.0]]),
    ]
    for z in tests:
        exact = _exact_logsumexp(z)
        try:
            result = _call(my_logsumexp, "my_logsumexp", z)
        except ValueError as err:
            if "broadcast" in str(err):
                raise NotYet(
                    f"for z of shape {z.shape} your function fails to broadcast: keep the "
                    "axis of each row's maximum (m[:, None] or keepdims=True)"
                ) from None
            raise
        yours = np.asarray(result, dtype=float)
        if yours.shape != exact.shape:
            raise NotYet(
                f"for z of shape {z.shape} the answer should have one value per row, shape "
                f"{exact.shape}, not {yours.shape}"
            )
        if close(yours, exact, rtol=1e-13, atol=1e-13):
            continue
        m = z.max(axis=1)
        if z.shape[0] == z.shape[1]:
            with np.errstate(all="ignore"):
                columnwise = m + np.log(np.exp(z - m).sum(axis=1))
            if np.allclose(yours, columnwise, rtol=1e-12, atol=1e-12, equal_nan=True):
                return (
                    "Not yet: the row maxima broadcast along the wrong axis (z - m subtracts "
                    "m[k] from column k); keep the row axis: m[:, None] or keepdims=True"
                )
        if not np.isfinite(yours).all():
            return (
                "Not yet: some rows give inf or nan: e^z overflows for large logits (and "
                "underflows for very negative ones); take each row's maximum out first"
            )
        wrong = ~np.isclose(yours, exact, rtol=1e-13, atol=1e-13)
        which = [kinds[i] for i in np.flatnonzero(wrong)] if z.shape[0] == 3 else []
        rows = ", ".join(which) if which else f"some rows of a {z.shape} array"
        return f"Not yet: finite, but not log-sum-exp for: {rows}"
    return "Correct: finite and exact for large, very negative and ordinary logits"


def ex3(softmax_jacobian: Callable[..., Any]) -> str:
    """Exercise 2.3: ``softmax_jacobian(z)``, the K x K matrix dp_i/dz_j for one vector.

    Compares with diag(p) - p p^T (p computed in 40-digit arithmetic) for K = 3 and K = 5.
    Diagnoses: not a function; the wrong shape; the sign; diag(p) - p * p (an elementwise
    product instead of the outer one); columns that do not sum to zero; only the diagonal
    right. It never prints the expected matrix.
    """
    import sympy as sp

    rng = np.random.default_rng(2)
    for K in (3, 5):
        z = rng.normal(size=K) * 2
        e = [sp.exp(sp.Float(float(v), 40)) for v in z]
        p = np.array([float((v / sum(e)).evalf(40)) for v in e])
        exact = np.diag(p) - np.outer(p, p)
        yours = array(_call(softmax_jacobian, "softmax_jacobian", z), "softmax_jacobian(z)", (K, K))
        if close(yours, exact, rtol=1e-12, atol=1e-14):
            continue
        if close(yours, -exact, rtol=1e-12, atol=1e-14):
            return "Not yet: the sign is flipped: raising z_i raises p_i"
        if close(yours, np.diag(p) - p * p, rtol=1e-12, atol=1e-14):
            return (
                "Not yet: p * p is an elementwise product (a vector, broadcast along rows); "
                "the off-diagonal entries need p_i p_j for every pair"
            )
        if not np.allclose(yours.sum(axis=0), 0, atol=1e-12):
            return (
                "Not yet: each column should sum to 0 (the probabilities always sum to 1, "
                "so nudging any logit leaves their sum unchanged)"
            )
        if close(np.diag(yours), np.diag(exact), rtol=1e-12, atol=1e-14):
            return "Not yet: the diagonal is right; the off-diagonal entries are not"
        return f"Not yet: your Jacobian differs from the softmax's for K = {K}"
    return "Correct: your Jacobian equals diag(p) - p p^T for K = 3 and K = 5"


def ex4(z_star: Any) -> str:
    """Exercise 2.4: the logit z* where |2(sigma(z) - 1) sigma(z)(1 - sigma(z))| is largest.

    Accepts a float within 1e-9 of the exact value. Diagnoses: not a number; the opposite
    sign (the sigmoid inverted the wrong way up); the s of the maximum given instead of z;
    z = 0 (the sigmoid's own steepest point); near but not exact (a grid search, say);
    a point where the gradient is not largest. It never reveals z* or the gradient there.
    """
    z_yours = number(z_star, "z_star")
    truth = -math.log(2)
    if close(z_yours, truth, rtol=1e-9):
        return f"Correct: the squared-error gradient is largest at z* = {z_yours:.6f}"
    if close(z_yours, -truth, rtol=1e-9):
        return (
            "Not yet: the sign is flipped: check how you inverted the sigmoid, z = log(s / (1 - s))"
        )
    if close(z_yours, 1 / 3, rtol=1e-9):
        return "Not yet: that looks like s = sigma(z*); invert the sigmoid to get z*"
    if z_yours == 0:
        return (
            "Not yet: z = 0 is where sigma' is largest, but the factor (sigma(z) - 1) "
            "changes the maximum"
        )
    if abs(z_yours - truth) < 1e-3:
        return "Not yet: close, but not exact: solve for the maximum with SymPy"
    return "Not yet: the gradient is larger elsewhere; differentiate it with respect to s"
