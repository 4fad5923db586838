"""Answer keys of chapter 13, attention (``check("13.M", ...)``).

The keys draw inputs of their own (sequences with repeated tokens, random queries, keys
and values), call the student's function on them and compare with a reference computed
here: the embedding's gradient by the autodiff rule of summing the uses, the derivative
with respect to the attention's scale by central finite differences and by the softmax's
backward pass. No key prints the expected value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bplib.exercises import NotYet, answer, array, close, number

__all__ = ["ex1", "ex2", "ex3"]

Array = NDArray[Any]


def _call(function: Callable[..., object], name: str, *args: object) -> object:
    if not callable(function):
        raise NotYet(f"{name} should be a function, not {type(function).__name__}")
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    return answer(function(*copies))


def ex1(embedding_backward: Callable[..., object]) -> str:
    """Exercise 13.1: ``embedding_backward(idx, grad_out, num_embeddings)``, the scatter-add.

    Runs the answer on three cases of the key's own: a sequence with a token three times,
    a batch of two sequences (2-D indices), and a table with rows no token uses. Diagnoses:
    one write kept per repeated token (``dW[idx] += g``); each repeated token counted once; rows of
    ``grad_out`` and table confused (a transposed or wrongly shaped result).
    """
    rng = np.random.default_rng(1301)
    cases = [
        (np.array([1, 3, 1, 1]), 5, 3),
        (np.array([[0, 2, 2], [4, 2, 0]]), 6, 4),
        (np.array([[7, 7], [7, 1]]), 9, 2),
    ]
    for idx, n, c in cases:
        g = rng.standard_normal((*idx.shape, c))
        expected = np.zeros((n, c))
        for p in np.ndindex(idx.shape):  # each use of a row adds its gradient
            expected[idx[p]] += g[p]
        got = array(
            _call(embedding_backward, "embedding_backward", idx, g, n),
            "what embedding_backward returns",
            (n, c),
        )
        if close(got, expected, rtol=1e-12, atol=1e-14):
            continue
        last_wins = np.zeros((n, c))
        last_wins[idx] += g
        if close(got, last_wins, rtol=1e-12, atol=1e-14):
            raise NotYet(
                "a repeated token keeps only one of its gradients: with repeated indices, "
                "dW[idx] += g assigns the same row several times, and only one of those "
                "assignments is kept"
            )
        once = np.zeros((n, c))
        for k in np.unique(idx):
            once[k] = g[idx == k][0]
        if close(got, once, rtol=1e-12, atol=1e-14):
            raise NotYet("each token's row gets the gradient of one of its positions only")
        raise NotYet(
            "your gradient differs from the sum, for each row, of the gradients of the "
            "positions that use it"
        )
    return "Correct: every use of a row adds its gradient (a scatter-add)"


def _forward(Q: Array, K: Array, V: Array, scale: float, causal: bool = True) -> Array:
    """P of eq-attn-forward with S = scale Q K^T."""
    T = Q.shape[0]
    S = Q @ K.T * scale
    if causal:
        S[np.triu(np.ones((T, T), dtype=bool), k=1)] = -np.inf
    E = np.exp(S - S.max(axis=1, keepdims=True))
    P: Array = E / E.sum(axis=1, keepdims=True)
    return P


def _dS(P: Array, V: Array, dY: Array) -> Array:
    dP = dY @ V.T
    dS: Array = P * (dP - (dP * P).sum(axis=1, keepdims=True))
    return dS


def ex2(dL_dscale: Callable[..., object]) -> str:
    """Exercise 13.2: ``dL_dscale(Q, K, V, dY, scale)``, dL/d(alpha) for S = alpha Q K^T.

    Compares with the sum of dS times Q K^T (checked against central finite differences of
    L = sum(Y * dY) here) on sequences of the key's own, T = 4 and 6, d = 3 and 5, at two
    scales. Diagnoses: dP in place of dS (the softmax's Jacobian skipped); the attention
    without its mask; a 1/sqrt(d) too many; the sign; any other mismatch.
    """
    rng = np.random.default_rng(1302)
    for T, d, scale in [(4, 3, 0.7), (6, 5, 1 / np.sqrt(5))]:
        Q, K, V, dY = (rng.standard_normal((T, d)) for _ in range(4))
        P = _forward(Q, K, V, scale)
        A = Q @ K.T
        expected = float(np.sum(_dS(P, V, dY) * A))
        eps = 1e-6
        fd = (
            np.sum(_forward(Q, K, V, scale + eps) @ V * dY)
            - np.sum(_forward(Q, K, V, scale - eps) @ V * dY)
        ) / (2 * eps)
        assert abs(fd - expected) < 1e-6 * max(1.0, abs(expected))  # the key checks itself
        got = number(_call(dL_dscale, "dL_dscale", Q, K, V, dY, scale), "dL_dscale's result")
        if close(got, expected, rtol=1e-8, atol=1e-12):
            continue
        dP = dY @ V.T
        if close(got, np.sum(P * dP * A), rtol=1e-8) or close(got, np.sum(dP * A), rtol=1e-8):
            raise NotYet(
                "the gradient skips the softmax's Jacobian: scale multiplies the scores "
                "S, so you need dS, not dP"
            )
        P_open = _forward(Q, K, V, scale, causal=False)
        if close(got, np.sum(_dS(P_open, V, dY) * A), rtol=1e-8):
            raise NotYet("that is the attention without its causal mask")
        if close(got, expected / np.sqrt(d), rtol=1e-8):
            raise NotYet("there is a 1/sqrt(d) too many: S = scale * Q K^T has no other factor")
        if close(got, -expected, rtol=1e-8):
            raise NotYet("the sign is wrong")
        raise NotYet(
            "your derivative differs from dL/d(alpha): alpha is one number used in every "
            "score, so reread how the chapter collects the gradient of a value used at many "
            "places (the embedding's backward pass), and how it gets dL/dS (eq-attn-backward)"
        )
    return "Correct: the scale collects the gradient of every score it multiplies"


def ex3(T_cross: object) -> str:
    """Exercise 13.3: ``T_cross``, the length at which the scores' multiply-adds (2 T^2 C)
    equal those of the block's four dense layers (12 T C^2), for C = 48.

    Accepts the value within 0.5. Diagnoses the usual miscounts by the ratio to C: one of
    the two products of the scores (12 C), the MLP alone (4 C), the attention's two dense
    layers alone (2 C); any other number.
    """
    C = 48
    got = number(T_cross, "T_cross")
    if abs(got - 6 * C) <= 0.5:
        return "Correct: 2 T^2 C = 12 T C^2 at T = 6 C"
    hints = {
        12: "counts one of the two products of the scores: Q K^T and P V cost T^2 C each",
        4: "compares with the MLP alone: the question asks for all four dense layers",
        2: "compares with c_attn and c_proj alone: the MLP's two layers count too",
    }
    for ratio, hint in hints.items():
        if abs(got - ratio * C) <= 0.5:
            raise NotYet(f"that {hint}")
    raise NotYet(
        "T_cross should solve (multiply-adds of the scores) = (those of the four dense "
        "layers), from eq-attn-flops"
    )
