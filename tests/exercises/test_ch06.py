"""The keys of chapter 6's exercises (bplib.exercises.ch06), called through verdict()."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import bplib
from bplib import optim, train
from bplib.exercises import NOT_YET, ch06, verdict

CHAPTER = Path(__file__).resolve().parents[2] / "chapters" / "06_gradient_descent.md"
LAM = np.linalg.eigvalsh(np.array([[5.0, 2.0], [2.0, 2.0]]))


def test_the_keys_constants_are_the_chapters() -> None:
    """The keys recompute from their own constants: they must be the chapter's."""
    text = CHAPTER.read_text()
    assert "A_ex = np.array([[5.0, 2.0], [2.0, 2.0]])" in text
    np.testing.assert_array_equal(ch06.A_EX, [[5.0, 2.0], [2.0, 2.0]])
    assert re.search(r"^DELTA_EX = 1e-4$", text, re.M) and ch06.DELTA_EX == 1e-4
    assert re.search(r"^SEED = 6$", text, re.M) and ch06.SEED == 6
    assert re.search(r"^N = 200$", text, re.M) and ch06.N_REG == 200
    assert "rng = np.random.default_rng(SEED)" in text
    assert "X_reg = rng.standard_normal((N, 3))" in text  # the first draws of the seed


def test_every_key_has_a_docstring() -> None:
    for number in range(1, 6):
        assert getattr(ch06, f"ex{number}").__doc__


@pytest.mark.parametrize("exercise", ["6.1", "6.2", "6.3", "6.4", "6.5"])
def test_a_stub_is_not_yet(exercise: str) -> None:
    n = {"6.1": 2, "6.3": 2}.get(exercise, 1)
    assert verdict(exercise, *([...] * n)) == NOT_YET


def test_ex1() -> None:
    right = (2 / LAM[1], 2 / LAM.sum())
    assert verdict("6.1", *right).startswith("Correct")
    assert verdict("6.1", np.float32(right[0]), np.float32(right[1])).startswith("Correct")
    assert verdict("6.1", 1 / 3, 2 / 7).startswith("Correct")
    for wrong, says in [
        ((1 / LAM[1], right[1]), "exact along the steepest"),
        ((2 / 5, right[1]), "diagonal"),
        ((0.3, right[1]), "too small"),
        ((0.4 - 1e-3, right[1]), "too large"),
        ((right[0], 1 / LAM.sum()), "flattest direction shrinks"),
        ((right[0], 0.32), "steepest direction shrinks"),
        ((right[0], 0.5), "not even a rate"),
        (("a third", right[1]), "should be a number"),
        ((-1.0, right[1]), "positive"),
    ]:
        said = verdict("6.1", *wrong)
        assert said.startswith("Not yet") and says in said, (wrong, said)
        assert "0.333" not in said and "0.2857" not in said and "1/3" not in said


def _adam(theta, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _no_bias(theta, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def _eps_inside(theta, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / np.sqrt(v_hat + eps), m, v


def _defaults(theta, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(theta, g, m, v, t)


def _t_from_zero(theta, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(theta, g, m, v, t - 1, lr, beta1, beta2, eps)


def _raises(theta, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    raise ValueError("oops")


def test_ex2() -> None:
    assert verdict("6.2", _adam).startswith("Correct")
    for wrong, says in [
        (_no_bias, "no bias correction"),
        (_eps_inside, "outside the square root"),
        (_defaults, "ignores its arguments"),
        (_t_from_zero, "NaN or infinite"),
        (_raises, "raised ValueError at step 1"),
        (lambda *a, **k: a[0], "three arrays"),
        (lambda *a, **k: (a[0][:2], a[2], a[3]), "shapes"),
        (3, "should be a function"),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the key calls the student's code quietly
            said = verdict("6.2", wrong)
        assert said.startswith("Not yet") and says in said, (wrong, said)
        assert "[" not in said  # never an array of Adam's values


@pytest.fixture(scope="module")
def regression():
    X, y = (np.array(a) for a in ch06._regression())
    return X, y


def _fit(X, y, T_max=None, rng=0):
    model = bplib.Linear(3, 1, rng=6)
    opt = optim.SGD(model.parameters(), lr=0.05)
    schedule = optim.CosineAnnealingLR(opt, T_max=T_max) if T_max else None
    history = train.fit(model, bplib.MSELoss(), opt, X, y, epochs=30, batch_size=1, rng=rng,
                        progress=False, scheduler=schedule)  # fmt: skip
    return model, history


def test_ex3(regression) -> None:
    X, y = regression
    model, history = _fit(X, y, T_max=30, rng=2)
    assert verdict("6.3", model, history).startswith("Correct")
    for (m, h), says in [
        (_fit(X, y), "never changed"),
        (_fit(X, y, T_max=29), "already zero in the last epoch"),
        (_fit(X, y, T_max=60), "half a cosine"),
        ((history, model), "History"),
        ((bplib.Linear(3, 1, rng=6), history), "not below the constant-rate"),
        ((bplib.Linear(4, 1, rng=6), history), "bplib.Linear(3, 1)"),
    ]:
        said = verdict("6.3", m, h)
        assert said.startswith("Not yet") and says in said, said


def test_ex4() -> None:
    for right in (10, np.int64(10), 10.0, np.array([10]), sp.Integer(10)):
        assert verdict("6.4", right).startswith("Correct")
    for wrong, says in [
        (9, "more than a tenth"),
        (20, "a tenth of the data set"),
        (11, "find the smallest"),
        (10 * 200 / 209, "whole number"),
        (0, "whole number"),
        ("ten", "should be a number"),
    ]:
        said = verdict("6.4", wrong)
        assert said.startswith("Not yet") and says in said, said
        assert not re.search(r"(?<![\d.])10(?![\d.])", said)  # never names the answer


def test_ex5() -> None:
    for right in (1e-4, np.float64(1e-4), np.float32(1e-4), np.array(1e-4), np.array([1e-4]),
                  sp.Rational(1, 10_000), LAM[0] * 1e-4):  # fmt: skip
        assert verdict("6.5", right).startswith("Correct"), right
    for wrong, says in [
        (6e-4, "lower bound"),
        (np.sqrt(2e-4), "bounds the loss"),
        (5e-5, "safe"),
        (2e-4, "too large"),
        (0, "positive"),
        ("a ten-thousandth", "should be a number"),
        (np.zeros(2), "single number"),
    ]:
        said = verdict("6.5", wrong)
        assert said.startswith("Not yet") and says in said, said
        assert not re.search(r"1(\.0*)?e-0?4|0\.0001", said)


def test_b_tenth_bound_is_the_solutions() -> None:
    assert ch06.b_tenth_bound(200) == pytest.approx(2000 / 209)
    assert int(np.ceil(ch06.b_tenth_bound())) == 10
