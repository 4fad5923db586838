"""Unit tests of chapter 9's answer keys (bplib.exercises.ch09), through verdict()."""

from __future__ import annotations

import numpy as np
import pytest

import bplib
from bplib.exercises import NOT_YET, verdict
from bplib.exercises.ch09 import _constant, _network, _xor


def start_gradient() -> np.ndarray:
    X, Y = _xor()
    net = _network(4, _constant)
    loss = bplib.BCEWithLogitsLoss()
    loss(net(X), Y)
    net.backward(loss.backward())
    return net[0].weight.grad.copy()


def permute(theta, perm, hidden):
    W1, b1, W2, b2 = np.split(theta, [2 * hidden, 3 * hidden, 4 * hidden])
    return np.concatenate([W1.reshape(2, hidden)[:, perm].ravel(), b1[perm], W2[perm], b2])


def test_right_answers_are_correct() -> None:
    assert verdict("9.1", start_gradient(), 1).startswith("Correct")
    assert verdict("9.2", lambda n, alpha: 2 / ((1 + alpha**2) * n)).startswith("Correct")
    assert verdict("9.3", permute).startswith("Correct")


@pytest.mark.parametrize(
    ("exercise", "answers", "diagnosis"),
    [
        ("9.1", (np.zeros((2, 4)), 1), "is zero"),
        ("9.1", (np.zeros((4, 2)), 1), "transposed"),
        ("9.1", ("gradient", 1), "array of numbers"),
        ("9.1", ("start", 1.5), "whole number"),
        ("9.2", (lambda n, alpha: 2 / n,), "ReLU"),
        ("9.2", (lambda n, alpha: 2 / ((1 + alpha) * n),), "alpha^2"),
        ("9.2", (lambda n, alpha: (1 + alpha**2) * n / 2,), "inverse"),
        ("9.2", (lambda n, alpha: 1 / ((1 + alpha**2) * n),), "factor 2"),
        ("9.2", (0.0048,), "function"),
        ("9.3", (lambda theta, perm, hidden: theta,), "did not change"),
        ("9.3", (lambda theta, perm, hidden: permute(theta, np.argsort(perm), hidden),), "inverse"),
        ("9.3", (lambda theta, perm, hidden: theta[:-1],), "numbers"),
    ],
)
def test_wrong_answers_get_a_diagnosis(exercise: str, answers: tuple, diagnosis: str) -> None:
    if isinstance(answers[0], str) and answers[0] == "start":
        answers = (start_gradient(), *answers[1:])
    said = verdict(exercise, *answers)
    assert said.startswith("Not yet") and said != NOT_YET and diagnosis in said, said


@pytest.mark.parametrize("wrong", [2, 3, 4])
def test_a_wrong_count_never_reveals_the_right_one(wrong: int) -> None:
    said = verdict("9.1", start_gradient(), wrong)
    assert said.startswith("Not yet") and " 1 " not in said and "(s)" not in said


def test_a_wrong_variance_never_reveals_the_right_one() -> None:
    said = verdict("9.2", lambda n, alpha: 1.0)
    assert "4.8" not in said and "0.0048" not in said


def test_stubs_get_the_stub_message() -> None:
    assert verdict("9.1", ..., ...) == NOT_YET
    assert verdict("9.2", lambda n, alpha: ...) == NOT_YET
    assert verdict("9.3", lambda theta, perm, hidden: ...) == NOT_YET
