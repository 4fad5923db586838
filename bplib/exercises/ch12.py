"""Answer keys of chapter 12, BPTT and convolutions (``check("12.M", ...)``).

The keys build their own recurrent networks and sequences from seeds of their own (the
shapes of the chapter's), call the student's function on them and compare with a
reference computed here: BPTT by the autodiff engine or by the backward recursion of
eq-bptt-delta. Exercise 2's inputs come from the seed the chapter's cell uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bplib.autodiff import Tensor
from bplib.exercises import NotYet, answer, array, close
from bplib.gradcheck import relative_error

__all__ = ["EX2_SEED", "ex1", "ex2", "ex2_inputs", "ex3"]

Array = NDArray[Any]
Network = tuple[Array, Array, Array, Array]

EX2_SEED = 1202
"""The seed of exercise 2's inputs ``x_ex, w_ex, delta_ex`` (the chapter's cell uses it)."""


def _rnn(rng: np.random.Generator, N: int, T: int, n_in: int, n_h: int, scale: float) -> Network:
    X = rng.standard_normal((N, T, n_in))
    W_x = rng.standard_normal((n_in, n_h)) * 0.5
    W_h = rng.standard_normal((n_h, n_h)) * scale
    b = rng.standard_normal(n_h) * 0.1
    return X, W_x, W_h, b


def _forward(X: np.ndarray, W_x: np.ndarray, W_h: np.ndarray, b: np.ndarray) -> list[Array]:
    N, T, _ = X.shape
    H = [np.zeros((N, W_h.shape[0]))]
    for t in range(1, T + 1):
        H.append(np.tanh(X[:, t - 1] @ W_x + H[t - 1] @ W_h + b))
    return H


def _dW_h(
    H: list[Array],
    W_h: np.ndarray,
    G: np.ndarray | None,
    dL_dH_T: np.ndarray | None,
    steps: int | None = None,
    recurse: bool = True,
    g_after: bool = False,
) -> np.ndarray:
    """dL/dW_h by the backward recursion over the last ``steps`` steps; G adds a gradient
    G[:, t - 1] at every step (the variants ``recurse=False``, ``g_after=True`` are the
    mistakes the keys diagnose)."""
    T = len(H) - 1
    steps = T if steps is None else steps
    dW_h = np.zeros_like(W_h)
    dL_dH = np.zeros_like(H[-1]) if dL_dH_T is None else dL_dH_T
    for t in range(T, max(T - steps, 0), -1):
        if G is not None and not g_after:
            dL_dH = dL_dH + G[:, t - 1]
        delta = dL_dH * (1 - H[t] ** 2)
        if G is not None and g_after:
            delta = delta + G[:, t - 1]
        dW_h += H[t - 1].T @ delta
        dL_dH = delta @ W_h.T if recurse else np.zeros_like(dL_dH)
    return dW_h


def _call(
    function: Callable[..., object], name: str, shape: tuple[int, ...], *args: object
) -> np.ndarray:
    if not callable(function):
        raise NotYet(f"{name} should be a function, not {type(function).__name__}")
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    copies = [[h.copy() for h in a] if isinstance(a, list) else a for a in copies]
    return array(answer(function(*copies)), f"what {name} returns", shape)


def ex1(bptt_every_step: Callable[..., object]) -> str:
    """Exercise 12.1: ``bptt_every_step(X, W_x, W_h, H, G)``, dL/dW_h with a loss at every step.

    Runs the answer on two random networks of the key's own (different sizes) and compares
    with the autodiff engine on L = sum_t sum(H_t * G_t). Diagnoses: the gradient of the
    last step's loss only; no gradient passed back from step t + 1 (each G_t alone); G_t
    added after the tanh derivative; any other mismatch.
    """
    rng = np.random.default_rng(1201)
    for N, T, n_in, n_h in [(4, 6, 3, 5), (3, 9, 2, 4)]:
        X, W_x, W_h, b = _rnn(rng, N, T, n_in, n_h, 0.5)
        G = rng.standard_normal((N, T, n_h))
        t_W_h = Tensor(W_h)
        h = Tensor(np.zeros((N, n_h)), requires_grad=False)  # H_0: a constant
        L_every = Tensor(0.0, requires_grad=False)
        for t in range(T):  # the engine: L = sum_t sum(H_t * G_t), so dL_t/dH_t = G_t
            h = (X[:, t] @ W_x + h @ t_W_h + b).tanh()
            L_every = L_every + (h * G[:, t]).sum()
        L_every.backward()
        H = _forward(X, W_x, W_h, b)
        got = _call(bptt_every_step, "bptt_every_step", W_h.shape, X, W_x, W_h, H, G)
        if close(got, t_W_h.grad, rtol=1e-10, atol=1e-13):
            continue
        if close(got, _dW_h(H, W_h, None, G[:, -1]), rtol=1e-10, atol=1e-13):
            raise NotYet(
                "this is the gradient of the last step's loss only: every step's "
                "H_t receives a G_t of its own"
            )
        if close(got, _dW_h(H, W_h, G, None, recurse=False), rtol=1e-10, atol=1e-13):
            raise NotYet(
                "each step uses its own G_t only: H_t also receives the gradient "
                "that comes back from step t + 1"
            )
        if close(got, _dW_h(H, W_h, G, None, g_after=True), rtol=1e-10, atol=1e-13):
            raise NotYet(
                "G_t is added after the tanh derivative: it is a gradient with "
                "respect to H_t, so it goes through tanh' like the other term"
            )
        raise NotYet("your dW_h differs from the engine's gradient of L = sum of the L_t")
    return "Correct: your BPTT with a loss at every step matches the autodiff engine"


def ex2_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exercise 2's ``x_ex, w_ex, delta_ex``, drawn as the chapter's cell draws them."""
    rng_ex = np.random.default_rng(EX2_SEED)
    x_ex, w_ex = rng_ex.standard_normal(9), rng_ex.standard_normal(4)
    delta_ex = rng_ex.standard_normal(9 - 4 + 1)
    return x_ex, w_ex, delta_ex


def ex2(dx_ex: object) -> str:
    """Exercise 12.2: ``dx_ex``, dL/dx of a one-channel convolution by one ``np.convolve``.

    The key draws ``x_ex, w_ex, delta_ex`` from :data:`EX2_SEED` as the chapter does and
    compares with eq-conv-backward summed term by term. Diagnoses: the wrong number of
    entries (the wrong mode); the kernel flipped by hand (a correlation); the result
    reversed; any other mismatch. It never shows the expected vector.
    """
    x_ex, w_ex, delta_ex = ex2_inputs()
    got = np.asarray(answer(dx_ex))
    if got.shape != x_ex.shape:
        try:
            got_shape = np.asarray(got, dtype=float).shape
        except (TypeError, ValueError):
            raise NotYet(
                f"dx_ex should be an array of numbers, not {type(dx_ex).__name__}"
            ) from None
        raise NotYet(
            f"dL/dx needs one entry per input, {x_ex.shape}, got shape {got_shape}; "
            "which mode of np.convolve gives that many?"
        )
    got = array(dx_ex, "dx_ex", x_ex.shape)
    expected = np.zeros_like(x_ex)
    for j in range(len(x_ex)):  # eq-conv-backward: sum_k delta_(j-k) w_k, delta 0 outside
        for k in range(len(w_ex)):
            if 0 <= j - k < len(delta_ex):
                expected[j] += delta_ex[j - k] * w_ex[k]
    if close(got, expected, rtol=1e-12, atol=1e-14):
        return "Correct: dL/dx is a full convolution of delta with the kernel"
    if close(got, np.correlate(delta_ex, w_ex, mode="full"), rtol=1e-12):
        raise NotYet(
            "the kernel is flipped twice: np.convolve already flips its second "
            "argument as it slides, which is the delta_(j-k) of the formula"
        )
    if close(got, expected[::-1], rtol=1e-12):
        raise NotYet("the result is reversed: entry j should be dL/dx_j")
    if close(got, np.convolve(x_ex, w_ex, mode="full")[: len(x_ex)], rtol=1e-12) or close(
        got, np.convolve(x_ex, w_ex, mode="same"), rtol=1e-12
    ):
        raise NotYet(
            "that convolves the input x with the kernel: dL/dx is built from the "
            "incoming gradients delta, not from x"
        )
    raise NotYet(
        "dx_ex differs from dL/dx_j = sum_k delta_(j-k) w_k: which two arrays "
        "does the formula slide along each other?"
    )


def _long_sequences(s: float) -> tuple[Array, Array, Array, list[Array], Array]:
    """60-step sequences like those of fig-bptt-norms, W_h = s Q, with the key's own seed."""
    rng = np.random.default_rng(1203)
    n_h = 16
    Q, _ = np.linalg.qr(rng.standard_normal((n_h, n_h)))
    X = rng.standard_normal((8, 60, 3))
    W_x = rng.standard_normal((3, n_h)) * 0.02
    b = np.zeros(n_h)
    dL_dH_T = np.full((8, n_h), 1 / np.sqrt(8 * n_h))
    W_h = s * Q
    return X, W_x, W_h, _forward(X, W_x, W_h, b), dL_dH_T


def ex3(dW_h_truncated: Callable[..., object]) -> str:
    """Exercise 12.3: ``dW_h_truncated(X, W_x, W_h, H, dL_dH_T, tau)``, truncated BPTT.

    Compares with the backward recursion of eq-bptt-delta stopped after ``tau`` steps, on
    60-step sequences like the figure's (the key's own seed) for s = 0.8 and 1.0 and
    tau = 1, 5 and 60. Diagnoses: ``tau`` ignored (the full gradient), one step too many or
    too few, any other mismatch. If correct, reports how much truncation at tau = 5 and
    20 loses, from the student's own function.
    """
    for s in (0.8, 1.0):
        X, W_x, W_h, H, dL_dH_T = _long_sequences(s)
        T = len(H) - 1
        for tau in (1, 5, T):
            got = _call(dW_h_truncated, "dW_h_truncated", W_h.shape, X, W_x, W_h, H, dL_dH_T, tau)
            if close(got, _dW_h(H, W_h, None, dL_dH_T, tau), rtol=1e-10, atol=1e-14):
                continue
            if tau < T and close(got, _dW_h(H, W_h, None, dL_dH_T), rtol=1e-10, atol=1e-14):
                raise NotYet(
                    f"with tau = {tau} you return the full gradient: the sum should "
                    "stop after tau steps"
                )
            if close(got, _dW_h(H, W_h, None, dL_dH_T, tau + 1), rtol=1e-10, atol=1e-14):
                raise NotYet(f"with tau = {tau} your sum has one step too many")
            if not np.any(got):
                raise NotYet(
                    f"with tau = {tau} your gradient is zero: the last tau steps each add a term"
                )
            if close(got, _dW_h(H, W_h, None, dL_dH_T, tau - 1), rtol=1e-10, atol=1e-14):
                raise NotYet(f"with tau = {tau} your sum has one step too few")
            raise NotYet(
                f"s = {s}, tau = {tau}: your gradient differs from the sum of the "
                "last tau terms of eq-bptt-weights"
            )
    lines = ["Correct. Relative error of the truncated gradient of W_h:"]
    for s in (0.8, 1.0):
        X, W_x, W_h, H, dL_dH_T = _long_sequences(s)
        full = _dW_h(H, W_h, None, dL_dH_T)
        errs = [
            relative_error(
                _call(dW_h_truncated, "dW_h_truncated", W_h.shape, X, W_x, W_h, H, dL_dH_T, tau),
                full,
            )
            for tau in (5, 20)
        ]
        lines.append(f"  s = {s}: tau = 5: {errs[0]:.1e}, tau = 20: {errs[1]:.1e}")
    return "\n".join(lines)
