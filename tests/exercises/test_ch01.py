"""Unit tests of chapter 1's answer keys (bplib.exercises.ch01), through verdict()."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from bplib.exercises import NOT_YET, verdict

z = sp.symbols("z", real=True)
alpha = sp.symbols("alpha", positive=True)
SIGMA = 1 / (1 + sp.exp(-z))
DSOFTPLUS = sp.diff(sp.log(1 + sp.exp(z)), z)
W_TORCH = np.array([[0.5, -1.0], [0.25, 2.0], [-1.5, 0.75]])
B_TORCH = np.array([0.1, -0.2, 0.3])


def right_leaky(z_values, a):
    return np.where(z_values > 0, 1.0, a)


@pytest.mark.parametrize(
    ("exercise", "answers"),
    [
        ("1.1", (DSOFTPLUS, SIGMA)),
        ("1.1", (sp.exp(z) / (sp.exp(z) + 1), sp.exp(z) / (1 + sp.exp(z)))),  # as SymPy prints
        ("1.1", (sp.diff(sp.log(1 + sp.exp(sp.Symbol("z"))), sp.Symbol("z")), SIGMA)),
        ("1.2", (-0.5, 1 / (1 + np.exp(0.5)))),
        ("1.2", (np.float32(-0.5), 0.377541)),
        ("1.3", (right_leaky,)),
        ("1.4", (W_TORCH.T, B_TORCH)),
    ],
)
def test_right_answers_are_correct(exercise: str, answers: tuple[object, ...]) -> None:
    assert verdict(exercise, *answers).startswith("Correct")


@pytest.mark.parametrize(
    ("exercise", "answers", "diagnosis"),
    [
        ("1.1", (sp.exp(z), SIGMA), "chain rule"),
        ("1.1", (DSOFTPLUS, sp.tanh(z)), "not tanh_def"),
        ("1.1", (DSOFTPLUS, "sigma"), "not its name"),
        ("1.1", ("not sympy", SIGMA), "Not yet"),
        ("1.2", (-1.0, 1 / (1 + np.exp(1.0))), "without the bias"),
        ("1.2", (-0.5, 1 / (1 + np.exp(-0.5))), "sign"),
        ("1.2", (0.0, 0.5), "recompute"),
        ("1.2", (None, 0.5), "should be a number"),
        ("1.3", (lambda z_values, a: np.where(z_values >= 0, 1.0, a),), "z = 0"),
        ("1.3", (lambda z_values, a: np.where(z_values > 0, 1.0, 0.0),), "ReLU"),
        ("1.3", (lambda z_values, a: 1.0 if z_values > 0 else a,), "whole array"),
        ("1.3", (3,), "should be a function"),
        ("1.4", (W_TORCH, B_TORCH), "(in, out)"),
        ("1.4", (W_TORCH.reshape(2, 3), B_TORCH), "reshape is not a transpose"),
        ("1.4", (W_TORCH.T, -B_TORCH), "bias"),
    ],
)
def test_wrong_answers_get_a_diagnosis(
    exercise: str, answers: tuple[object, ...], diagnosis: str
) -> None:
    said = verdict(exercise, *answers)
    assert said.startswith("Not yet") and said != NOT_YET, said
    assert diagnosis in said, said
    assert "could not be checked" not in said, said


def test_no_verdict_reveals_the_neuron() -> None:
    """Issue 25: the old check printed 'expected z = -0.500000' and then accepted it."""
    for answers in [(0.0, 0.5), (-1.0, 0.3), (-0.5, 0.6), (1.0, 0.62)]:
        said = verdict("1.2", *answers)
        assert "-0.5" not in said and "0.3775" not in said, said
