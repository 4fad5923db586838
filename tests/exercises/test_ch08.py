"""The keys of chapter 8's exercises (bplib.exercises.ch08), called through verdict()."""

from __future__ import annotations

import numpy as np

from bplib.exercises import NOT_YET, verdict


def clip(grads, max_norm):
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads]


def test_exercise_1_right_and_wrong() -> None:
    assert verdict("8.1", 1.0, 1 / 16).startswith("Correct")
    assert verdict("8.1", np.float64(1.0), np.array(0.0625)).startswith("Correct")
    assert "squared" in verdict("8.1", 1.0, 0.25)
    assert "swapped" in verdict("8.1", 1 / 16, 1.0)
    assert "standard deviation" in verdict("8.1", 50 * np.sqrt(1 / 50), 1 / 16)
    assert "uniform" in verdict("8.1", 1 / 3, 1 / 16)
    assert verdict("8.1", "1", 1 / 16).startswith("Not yet: r_lecun_tanh should be a number")
    assert verdict("8.1", ..., 1 / 16) == NOT_YET


def test_exercise_2_right_and_wrong() -> None:
    assert verdict("8.2", lambda n: np.sqrt(2 / n)).startswith("Correct")
    assert "variance" in verdict("8.2", lambda n: 2 / n)
    assert "explodes" in verdict("8.2", lambda n: np.sqrt(2.15 / n))
    assert "vanishes" in verdict("8.2", lambda n: np.sqrt(1 / n))
    assert "every width" in verdict("8.2", lambda n: np.sqrt(2 / (n - 3)))
    assert verdict("8.2", lambda n: ...) == NOT_YET
    assert verdict("8.2", 0.2).startswith("Not yet: relu_std should be a function")


def test_exercise_3_right_and_wrong() -> None:
    k = np.log(1e-6) / np.log(1 / 16)
    assert verdict("8.3", k, 5).startswith("Correct")
    assert verdict("8.3", 6 * np.log(10) / np.log(16), 5.0).startswith("Correct")
    assert "round" in verdict("8.3", k, 4)
    assert "fewer" in verdict("8.3", k, 6)
    assert "whole" in verdict("8.3", k, 4.98)
    assert "negative" in verdict("8.3", -k, 5)
    assert "rounded" in verdict("8.3", 4.98, 5)
    assert verdict("8.3", k, ...) == NOT_YET


def test_exercise_4_right_and_wrong() -> None:
    assert verdict("8.4", clip).startswith("Correct")
    per_array = verdict(
        "8.4", lambda gs, c: [g * min(1.0, c / (np.linalg.norm(g) + 1e-6)) for g in gs]
    )
    assert "one norm per array" in per_array

    def no_min(grads, max_norm):
        total = np.sqrt(sum(np.sum(g**2) for g in grads))
        return [g * max_norm / (total + 1e-6) for g in grads]

    def no_eps(grads, max_norm):
        total = np.sqrt(sum(np.sum(g**2) for g in grads))
        return [g * min(1.0, max_norm / total) for g in grads]

    assert "scales up" in verdict("8.4", no_min)
    assert "1e-6" in verdict("8.4", no_eps)
    assert verdict("8.4", lambda gs, c: np.concatenate([g.ravel() for g in gs])).startswith(
        "Not yet: clip should return a list"
    )
    assert verdict("8.4", lambda gs, c: gs[:2]).startswith("Not yet: clip returned 2 arrays")
    assert verdict("8.4", lambda gs, c: ...) == NOT_YET
