"""Unit tests of chapter 10's answer keys (bplib.exercises.ch10), through verdict()."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bplib import train
from bplib.exercises import NOT_YET, verdict
from bplib.exercises.ch10 import settling

K = math.log(0.01) / math.log(0.9)


def layernorm_backward(G, X_hat, inv_std):
    n = G.shape[1]
    sum_g = G.sum(axis=1, keepdims=True)
    return inv_std / n * (n * G - sum_g - X_hat * (G * X_hat).sum(axis=1, keepdims=True))


def batchnorm_sums(G, X_hat, inv_std):
    m = G.shape[0]
    sum_g = G.sum(axis=0, keepdims=True)
    return inv_std / m * (m * G - sum_g - X_hat * (G * X_hat).sum(axis=0, keepdims=True))


def eval_accuracy(model, X, y):
    was = model.training
    model.eval()
    try:
        return train.accuracy(model(X), y)
    finally:
        model.train(was)


def in_training_mode(model, X, y):
    return train.accuracy(model(X), y)


def left_in_eval(model, X, y):
    model.eval()
    return train.accuracy(model(X), y)


def test_right_answers_are_correct() -> None:
    assert verdict("10.1", layernorm_backward).startswith("Correct")
    assert verdict("10.2", K, 44).startswith("Correct")
    assert verdict("10.2", np.float64(K), 44.0).startswith("Correct")
    assert verdict("10.3", eval_accuracy).startswith("Correct")


def test_settling_is_what_batchnorm_does() -> None:
    k_real, n = settling()
    assert math.isclose(k_real, K) and n == math.ceil(K)


@pytest.mark.parametrize(
    ("exercise", "answers", "diagnosis"),
    [
        ("10.1", (lambda G, X_hat, inv_std: inv_std * G,), "sum to zero"),
        ("10.1", (lambda G, X_hat, inv_std: inv_std * (G - G.mean(1, keepdims=True)),), "X_hat"),
        ("10.1", (batchnorm_sums,), "batch"),
        ("10.1", (lambda G, X_hat, inv_std: G.T,), "transposed"),
        ("10.2", (math.log(0.01) / math.log(0.1), 44), "1 - rho"),
        ("10.2", (40.0, 44), "logarithms"),
        ("10.2", (K, 43), "more than 1%"),
        ("10.2", (K, 45), "first time"),
        ("10.2", (K, K), "whole number"),
        ("10.2", ("44", 44), "number"),
        ("10.3", (in_training_mode,), "evaluation mode"),
        ("10.3", (left_in_eval,), "left it in"),
        ("10.3", (lambda model, X, y: 2 / 3,), "evaluation mode"),
    ],
)
def test_wrong_answers_get_a_diagnosis(exercise: str, answers: tuple, diagnosis: str) -> None:
    said = verdict(exercise, *answers)
    assert said.startswith("Not yet") and said != NOT_YET and diagnosis in said, said


def test_no_verdict_on_a_wrong_answer_holds_the_expected_values() -> None:
    for answers in [(40.0, 44), (K, 43), (K, 45), (K, K)]:
        said = verdict("10.2", *answers)
        assert "43.7" not in said and "44" not in said, said


def test_stubs_get_the_stub_message() -> None:
    assert verdict("10.1", lambda G, X_hat, inv_std: ...) == NOT_YET
    assert verdict("10.2", ..., ...) == NOT_YET
    assert verdict("10.3", lambda model, X, y: ...) == NOT_YET
