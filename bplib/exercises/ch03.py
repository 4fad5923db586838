"""Answer keys of chapter 3, "The chain rule, by hand and by SymPy" (``check("3.M", ...)``).

The keys recompute the chapter's worked example (Mazur's 2-2-2 sigmoid network: inputs
0.05 and 0.10, targets 0.01 and 0.99, weights 0.15 to 0.55, biases 0.35 and 0.60 held
fixed, learning rate 0.5) from its constants in float64, which the chapter shows agrees
with SymPy's exact values to 12 digits. None reads the notebook's variables besides the
answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, close, number, same_function
from bplib.exercises.ch01 import by_name

__all__ = ["ex1", "ex2", "ex3", "ex4"]

_X = np.array([[0.05, 0.10]])
_T = np.array([[0.01, 0.99]])
_W1 = np.array([[0.15, 0.25], [0.20, 0.30]])  # (inputs, hidden units): W1[i, j] = w_{ij}
_W2 = np.array([[0.40, 0.50], [0.45, 0.55]])
_B1, _B2, _LR = 0.35, 0.60, 0.5


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _forward(W1: np.ndarray, W2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = _sigmoid(_X @ W1 + _B1)
    return h, _sigmoid(h @ W2 + _B2)


def _gradients(W1: np.ndarray, W2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dE/dW1, dE/dW2 and the hidden deltas, for E = sum((a - t)^2) / 2."""
    h, o = _forward(W1, W2)
    d2 = (o - _T) * o * (1 - o)
    d1 = (d2 @ W2.T) * h * (1 - h)
    return _X.T @ d1, h.T @ d2, d1[0]


def _error(W1: np.ndarray, W2: np.ndarray) -> float:
    return float(((_forward(W1, W2)[1] - _T) ** 2).sum() / 2)


def _dE_dw4(d_o1: float, d_o2: float, w6: float, w8: float, h2: float, i2: float) -> float:
    return (d_o1 * w6 + d_o2 * w8) * h2 * (1 - h2) * i2


def ex1(my_dE_dw4: Callable[..., Any]) -> str:
    """Exercise 3.1: ``my_dE_dw4(delta_o1, delta_o2, w5, w6, w7, w8, out_h1, out_h2, i1, i2)``.

    The answer is a function of the by-hand numbers, so the check can call it with other
    numbers than the example's: an answer that reads a precomputed value (``dE_dw4``,
    ``delta_h2``, ``sympy_values``) returns the same number for every input, and is told
    so. Called at the example (compared with the exact derivative) and at three random
    points (compared with the chain-rule product). Diagnoses: not a function; not a
    number; ignores its arguments; one path of the two; the input i1 instead of i2; the
    weights of the other hidden unit (w5, w7); the sigmoid's derivative missing.
    """
    if not callable(my_dE_dw4):
        raise NotYet(f"my_dE_dw4 should be a function, not {type(my_dE_dw4).__name__}")
    h, o = _forward(_W1, _W2)
    d = (o - _T) * o * (1 - o)
    example = {
        "delta_o1": d[0, 0], "delta_o2": d[0, 1], "w5": 0.40, "w6": 0.45, "w7": 0.50,
        "w8": 0.55, "out_h1": h[0, 0], "out_h2": h[0, 1], "i1": 0.05, "i2": 0.10,
    }  # fmt: skip
    rng = np.random.default_rng(3)
    points = [example] + [
        dict(zip(example, rng.uniform(0.1, 0.9, size=len(example)), strict=True)) for _ in range(3)
    ]
    values = []
    for p in points:
        try:
            values.append(number(answer(my_dE_dw4(**{k: float(v) for k, v in p.items()})),
                                 "my_dE_dw4(...)"))  # fmt: skip
        except TypeError as err:
            if "argument" in str(err):
                raise NotYet(
                    "my_dE_dw4 should take the ten arguments of the answer cell, by name"
                ) from None
            raise
    first = values[0]
    if all(close(v, first, rtol=1e-12) for v in values[1:]):
        return (
            "Not yet: your function returns the same number whatever its arguments: it reads "
            "a precomputed value; write the chain-rule product of its arguments"
        )
    mistakes: dict[str, tuple[Callable[[dict[str, Any]], float], ...]] = {
        "you followed only one path; out_h2 reaches E through both outputs": (
            lambda p: p["delta_o1"] * p["w6"] * p["out_h2"] * (1 - p["out_h2"]) * p["i2"],
            lambda p: p["delta_o2"] * p["w8"] * p["out_h2"] * (1 - p["out_h2"]) * p["i2"],
        ),
        "w4 multiplies the second input, i2, not i1": (
            lambda p: (
                (p["delta_o1"] * p["w6"] + p["delta_o2"] * p["w8"])
                * p["out_h2"]
                * (1 - p["out_h2"])
                * p["i1"]
            ),
        ),
        "w4 feeds the second hidden unit: its outgoing weights are w6 and w8": (
            lambda p: (
                (p["delta_o1"] * p["w5"] + p["delta_o2"] * p["w7"])
                * p["out_h2"]
                * (1 - p["out_h2"])
                * p["i2"]
            ),
            lambda p: (
                (p["delta_o1"] * p["w5"] + p["delta_o2"] * p["w7"])
                * p["out_h1"]
                * (1 - p["out_h1"])
                * p["i2"]
            ),
        ),
        "the derivative of the hidden unit's sigmoid is missing": (
            lambda p: (p["delta_o1"] * p["w6"] + p["delta_o2"] * p["w8"]) * p["i2"],
        ),
    }
    truths = [
        _dE_dw4(p["delta_o1"], p["delta_o2"], p["w6"], p["w8"], p["out_h2"], p["i2"])
        for p in points
    ]
    if all(close(v, t, rtol=1e-10) for v, t in zip(values, truths, strict=True)):
        return "Correct: your product gives dE/dw4 at the example and at other numbers"
    for hint, wrongs in mistakes.items():
        for wrong in wrongs:
            if all(close(v, wrong(p), rtol=1e-10) for v, p in zip(values, points, strict=True)):
                return f"Not yet: {hint}"
    return "Not yet: your function is not the chain-rule product for dE/dw4"


def ex2(dE_dbeta: Any) -> str:
    """Exercise 3.2: dE/dbeta for one bias beta shared by both hidden units, at the example.

    Compared (to 1e-10) with the sum of the two hidden units' bias derivatives, computed
    from the chapter's constants. Diagnoses: not a number; one unit's derivative only;
    the shared output bias's derivative instead; the sign. It never prints the value.
    """
    yours = number(dE_dbeta, "dE_dbeta")
    o = _forward(_W1, _W2)[1]
    d_out = ((o - _T) * o * (1 - o))[0]
    d_hidden = _gradients(_W1, _W2)[2]
    expected = float(d_hidden.sum())
    if close(yours, expected, rtol=1e-10):
        return "Correct: dE/dbeta is the sum of the two hidden units' bias derivatives"
    if any(close(yours, d, rtol=1e-10) for d in d_hidden):
        return "Not yet: that is one unit's bias derivative; beta is used by both units"
    if close(yours, -expected, rtol=1e-10):
        return "Not yet: the sign is flipped"
    if close(yours, float(d_out.sum()), rtol=1e-10) or any(
        close(yours, d, rtol=1e-10) for d in d_out
    ):
        return "Not yet: that is the output layer's bias; beta is the hidden layer's"
    return "Not yet: dE_dbeta is not the derivative of the loss with respect to the shared beta"


def ex3(E_two_steps: Any) -> str:
    """Exercise 3.3: the error after a second step of gradient descent (biases fixed).

    The exercise's ``after_first_step()`` returns the model after the first step with the
    first step's gradient still in ``.grad`` (as the chapter's ``model`` has it), so a
    second step without ``zero_grad()`` steps with the sum of both gradients and ends
    elsewhere. The key recomputes both steps from the chapter's constants and every
    combination of the usual mistakes, and names each one the answer made: no second
    step (or two more), no ``zero_grad()`` (gradients accumulate), the gradient not
    halved (``backward(sse.backward())``), the error not halved. It never prints the
    expected error.
    """
    yours = number(E_two_steps, "E_two_steps")
    g1_W1, g1_W2, _ = _gradients(_W1, _W2)
    W1, W2 = _W1 - _LR * g1_W1, _W2 - _LR * g1_W2  # after the first step
    outcomes: dict[tuple[int, bool, bool, bool], float] = {}
    for steps in (0, 1, 2):
        for zeroed in (True, False):
            for grad_halved in (True, False):
                A, B = W1.copy(), W2.copy()
                stale_A, stale_B = g1_W1.copy(), g1_W2.copy()
                for _ in range(steps):
                    gA, gB, _ = _gradients(A, B)
                    factor = 1 if grad_halved else 2
                    gA, gB = factor * gA, factor * gB
                    if not zeroed:
                        gA, gB = gA + stale_A, gB + stale_B
                        stale_A, stale_B = gA, gB
                    A, B = A - _LR * gA, B - _LR * gB
                for error_halved in (True, False):
                    E = _error(A, B) * (1 if error_halved else 2)
                    outcomes[(steps, zeroed, grad_halved, error_halved)] = E
    matches = [k for k, E in outcomes.items() if close(yours, E, rtol=1e-10)]
    if (1, True, True, True) in matches:
        return "Correct: the error after the second step"
    if not matches:
        return (
            "Not yet: E_two_steps is not the error after one more step; zero the gradients, "
            "run forward and backward as the chapter does, step, then evaluate E"
        )
    steps, zeroed, grad_halved, error_halved = min(matches, key=lambda k: sum(not v for v in k[1:]))
    said = []
    if steps == 0:
        said.append("that is the error after the first step: take one more")
    elif steps == 2:
        said.append("that is the error after two more steps: take only one")
    if not zeroed:
        said.append(
            "the step used the first step's gradient too: gradients accumulate in .grad, "
            "so call model_2.zero_grad() before backward"
        )
    if not grad_halved:
        said.append(
            "the gradient you stepped with is twice dE/dW: E is half bplib's sum of squares, "
            "so halve what you pass to backward too"
        )
    if not error_halved:
        said.append("E is half the sum of squares: divide bplib's sum by 2")
    return "Not yet: " + "; ".join(said)


def ex4(tanh_chain: Any) -> str:
    """Exercise 3.4: dE/dw for E = (tanh(wx + b) - y)^2 / 2, as a SymPy chain-rule product.

    Compared with SymPy's derivative numerically at several points (``same_function``), so
    every equivalent form is accepted: ``1 - tanh**2``, ``1/cosh**2``, ``sech**2``. The
    check cannot see whether ``sp.diff`` was called. Diagnoses: not a SymPy expression;
    stopped at dE/dz (the factor x missing); the sigmoid's derivative a(1 - a) instead of
    tanh's; the sign; the factor (a - y) missing. It never prints the derivative.
    """
    import sympy as sp

    w, x, b, y = sp.symbols("w x b y", real=True)
    a = sp.tanh(w * x + b)
    truth = sp.diff((a - y) ** 2 / 2, w)
    yours = by_name(tanh_chain, {"w": w, "x": x, "b": b, "y": y})
    rng = np.random.default_rng(3)
    points = [
        dict(zip((w, x, b, y), rng.uniform(-1.5, 1.5, size=4), strict=True)) for _ in range(5)
    ]
    if same_function(yours, truth, points):
        return "Correct: your chain-rule product equals dE/dw"
    wrong = {
        "you stopped at dE/dz: multiply by dz/dw": truth / x,
        "that is the sigmoid's derivative, a(1 - a); the unit is tanh now": (a - y)
        * a
        * (1 - a)
        * x,
        "the sign is flipped: E grows when a moves away from y": -truth,
        "the factor dE/da is missing": (1 - a**2) * x,
    }
    for hint, expr in wrong.items():
        if same_function(yours, expr, points):
            return f"Not yet: {hint}"
    return "Not yet: tanh_chain is not dE/dw for the tanh unit"
