"""Unit tests of chapter 3's answer keys (bplib.exercises.ch03), through verdict()."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bplib
from bplib.exercises import NOT_YET, verdict

X, T = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])
W1 = np.array([[0.15, 0.25], [0.20, 0.30]])
W2 = np.array([[0.40, 0.50], [0.45, 0.55]])
w, x, b, y = sp.symbols("w x b y", real=True)
z = w * x + b
a_t = sp.tanh(z)


def right_dE_dw4(delta_o1, delta_o2, w5, w6, w7, w8, out_h1, out_h2, i1, i2):
    return (delta_o1 * w6 + delta_o2 * w8) * out_h2 * (1 - out_h2) * i2


def one_path(delta_o1, delta_o2, w5, w6, w7, w8, out_h1, out_h2, i1, i2):
    return delta_o1 * w6 * out_h2 * (1 - out_h2) * i2


def second_step(zero_grad: bool = True, grad_halved: bool = True, error_halved: bool = True):
    """E after two steps as a student would compute it with bplib, with or without mistakes."""
    sse = bplib.MSELoss(reduction="sum")
    m = bplib.Sequential(bplib.Linear(2, 2, rng=3), bplib.Sigmoid(),
                         bplib.Linear(2, 2, rng=3), bplib.Sigmoid())  # fmt: skip
    m[0].weight.data[:], m[0].bias.data[:] = W1, 0.35
    m[2].weight.data[:], m[2].bias.data[:] = W2, 0.60
    optimizer = bplib.optim.SGD([m[0].weight, m[2].weight], lr=0.5)
    m.zero_grad()
    sse(m(X), T)
    m.backward(sse.backward() / 2)
    optimizer.step()  # the first step: its gradient stays in .grad
    if zero_grad:
        m.zero_grad()
    sse(m(X), T)
    m.backward(sse.backward() / (2 if grad_halved else 1))
    optimizer.step()
    return float(sse(m(X), T)) / (2 if error_halved else 1)


def dE_dbeta() -> float:
    h = 1 / (1 + np.exp(-(X @ W1 + 0.35)))
    o = 1 / (1 + np.exp(-(h @ W2 + 0.60)))
    d2 = (o - T) * o * (1 - o)
    return float(((d2 @ W2.T) * h * (1 - h)).sum())


@pytest.mark.parametrize(
    ("exercise", "answer"),
    [
        ("3.1", right_dE_dw4),
        ("3.2", dE_dbeta()),
        ("3.3", second_step()),
        ("3.4", (a_t - y) * (1 - a_t**2) * x),
        ("3.4", (a_t - y) / sp.cosh(z) ** 2 * x),  # issue 25: rejected before
        ("3.4", (a_t - y) * sp.sech(z) ** 2 * x),
    ],
)
def test_right_answers_are_correct(exercise: str, answer: object) -> None:
    assert verdict(exercise, answer).startswith("Correct")


@pytest.mark.parametrize(
    ("exercise", "answer", "diagnosis"),
    [
        ("3.1", one_path, "one path"),
        ("3.1", lambda delta_o1, delta_o2, w5, w6, w7, w8, out_h1, out_h2, i1, i2: 4.3856e-4,
         "precomputed"),
        ("3.1", 4.3856e-4, "should be a function"),
        ("3.2", -dE_dbeta(), "sign"),
        ("3.3", second_step(zero_grad=False), "zero_grad"),
        ("3.3", second_step(grad_halved=False), "halve what you pass to backward"),
        ("3.3", second_step(error_halved=False), "divide bplib's sum by 2"),
        ("3.4", (a_t - y) * (1 - a_t**2), "dE/dz"),
        ("3.4", (a_t - y) * a_t * (1 - a_t) * x, "sigmoid"),
        ("3.4", "tanh", "Not yet"),
    ],
)  # fmt: skip
def test_wrong_answers_get_a_diagnosis(exercise: str, answer: object, diagnosis: str) -> None:
    said = verdict(exercise, answer)
    assert said.startswith("Not yet") and said != NOT_YET, said
    assert diagnosis in said, said


def test_a_missing_zero_grad_is_not_called_a_missing_half() -> None:
    """Issue 25: a missing /2 was diagnosed as 'did you call zero_grad()?'."""
    assert "zero_grad" not in verdict("3.3", second_step(grad_halved=False))
    assert "halve" not in verdict("3.3", second_step(zero_grad=False))


def test_no_verdict_reveals_a_value() -> None:
    """Issue 25: the old checks printed 9-digit expected values."""
    for exercise, answer in [("3.2", 0.01), ("3.3", 0.2), ("3.4", a_t * x)]:
        said = verdict(exercise, answer)
        assert not any(ch.isdigit() for ch in said), said
    assert "tanh(" not in verdict("3.4", a_t * x)
