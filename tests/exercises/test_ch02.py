"""Unit tests of chapter 2's answer keys (bplib.exercises.ch02), through verdict()."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bplib
from bplib.exercises import NOT_YET, verdict


def logsumexp_rows(z):
    m = z.max(axis=1)
    return m + np.log(np.exp(z - m[:, None]).sum(axis=1))


def jacobian(z):
    p = bplib.functional.softmax(z)
    return np.diag(p) - np.outer(p, p)


@pytest.mark.parametrize(
    ("exercise", "answer"),
    [
        ("2.1", lambda y_hat, y: 2 * (y_hat - y) / y_hat.size),
        ("2.2", logsumexp_rows),
        ("2.3", jacobian),
        ("2.4", -math.log(2)),
        ("2.4", np.float64(math.log(0.5))),
    ],
)
def test_right_answers_are_correct(exercise: str, answer: object) -> None:
    assert verdict(exercise, answer).startswith("Correct")


@pytest.mark.parametrize(
    ("exercise", "answer", "diagnosis"),
    [
        ("2.1", lambda y_hat, y: (y_hat - y) / y_hat.size, "factor 2"),
        ("2.1", lambda y_hat, y: 2 * (y_hat - y), "1/N"),
        ("2.1", lambda y_hat, y: 2 * (y - y_hat) / y_hat.size, "sign"),
        ("2.1", lambda y_hat, y: 2 * (y_hat - y) / len(y_hat), "rows"),
        ("2.1", "2 (y_hat - y) / N", "should be a function"),
        ("2.2", lambda z: np.log(np.exp(z).sum(axis=1)), "inf or nan"),
        ("2.2", lambda z: (lambda m: m + np.log(np.exp(z - m).sum(axis=1)))(z.max(axis=1)), "axis"),
        ("2.2", lambda z: z.max(axis=1), "not log-sum-exp"),
        ("2.3", lambda z: -jacobian(z), "sign"),
        ("2.3", lambda z: np.diag(bplib.functional.softmax(z)) - bplib.functional.softmax(z) ** 2, "elementwise"),
        ("2.4", math.log(2), "sign"),
        ("2.4", 1 / 3, "s = sigma(z*)"),
        ("2.4", -0.6931, "not exact"),
        ("2.4", "-log 2", "should be a number"),
    ],
)  # fmt: skip
def test_wrong_answers_get_a_diagnosis(exercise: str, answer: object, diagnosis: str) -> None:
    said = verdict(exercise, answer)
    assert said.startswith("Not yet") and said != NOT_YET, said
    assert diagnosis in said, said


@pytest.mark.parametrize("wrong", [0.0, 1.0, -0.6931, math.log(2), -2.0])
def test_no_verdict_reveals_z_star(wrong: float) -> None:
    """Issue 25: the old check printed 'at z = -0.6931' and then accepted it."""
    said = verdict("2.4", wrong)
    assert "0.693" not in said.replace(f"{wrong}", "") and "log(2)" not in said, said
