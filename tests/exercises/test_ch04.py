"""The keys of chapter 4's exercises (bplib.exercises.ch04), called through verdict()."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from bplib.exercises import NOT_YET, ch04, verdict
from bplib.gradcheck import numerical_gradient, relative_error

NET = ch04._network()
SHAPES = ch04._shapes_exercise()


def test_the_references_are_right() -> None:
    """dX by finite differences, the deep ratio counted another way."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    W1, b1 = rng.normal(scale=0.5, size=(3, 4)), rng.normal(scale=0.1, size=4)
    W2, b2 = rng.normal(scale=0.5, size=(4, 2)), rng.normal(scale=0.1, size=2)

    def loss() -> float:
        return float(np.mean((np.tanh(X @ W1 + b1) @ W2 + b2 - Y) ** 2))

    fd = numerical_gradient(loss, X)
    assert relative_error(NET["delta1"] @ NET["W1"].T, fd) < 1e-7
    widths = [784, 512, 512, 512, 10]
    macs = [a * b for a, b in pairwise(widths)]
    assert ch04.deep_ratio_reference() == pytest.approx((macs[0] + 2 * sum(macs[1:])) / sum(macs))


D1, W1, W2, D2, X = NET["delta1"], NET["W1"], NET["W2"], NET["delta2"], NET["X"]
A1, A2, V3, d3 = SHAPES["A1"], SHAPES["A2"], SHAPES["V3"], SHAPES["d3"]
RIGHT_D2 = (d3 @ V3.T) * A2 * (1 - A2)
RATIO = ch04.deep_ratio_reference()


@pytest.mark.parametrize(
    ("exercise", "answers", "says"),
    [
        ("4.1", (-(D1 @ W1.T),), "opposite sign"),
        ("4.1", ((D1 @ W1.T) * (1 - X**2),), "no activation below"),
        ("4.1", ((D2 @ W2.T) @ W1.T,), "tanh's derivative is missing"),
        ("4.1", (W1 @ D1.T,), "transposed"),
        ("4.1", (3 * (D1 @ W1.T),), "constant factor"),
        ("4.1", ("dX",), "array of numbers"),
        ("4.2", (5 * NET["dW1"],), "you summed"),
        ("4.2", (NET["dW1"] / 5,), "1/N twice"),
        ("4.2", (-NET["dW1"],), "opposite sign"),
        ("4.2", (NET["dW1"] + 1,), "check (BP1)"),
        ("4.3", (d3.T @ A2, RIGHT_D2), "transposed"),
        ("4.3", (A2.T @ d3, d3 @ V3.T), "lacks the sigmoid's derivative"),
        ("4.3", (A2.T @ d3, (d3 @ V3.T) * (1 - A2**2)), "tanh's derivative"),
        ("4.3", ((A2 * (1 - A2)).T @ d3, RIGHT_D2), "takes the activation entering"),
        ("4.3", (A1.T @ d3, RIGHT_D2), "(5, 3)"),
        ("4.3", (-(A2.T @ d3), -RIGHT_D2), "opposite sign"),
        ("4.4", (2.0,), "one product backwards, not two"),
        ("4.4", (1 / RATIO,), "forward / backward"),
        ("4.4", (ch04._ratio(0, 2),), "still forms its weight gradient"),
        ("4.4", (ch04._ratio(1, 2, skip_last=True),), "is the first"),
        ("4.4", (ch04._ratio(1, 2, elementwise=True),), "elementwise"),
        ("4.4", (round(RATIO, 2),), "rather than rounding"),
        ("4.4", (3.0,), "cost section's table"),
        ("4.4", ("about 1.6",), "should be a number"),
        ("4.4", (None,), "should be a number"),
    ],
)
def test_wrong_answers_get_a_diagnosis(exercise: str, answers: tuple, says: str) -> None:
    said = verdict(exercise, *answers)
    assert said.startswith("Not yet: ") and says in said, said
    assert "1.56" not in said and "1.57" not in said  # never the ratio


def test_right_answers_and_stubs() -> None:
    assert verdict("4.1", D1 @ W1.T).startswith("Correct")
    assert verdict("4.2", NET["dW1"]).startswith("Correct")
    assert verdict("4.3", A2.T @ d3, RIGHT_D2).startswith("Correct")
    assert verdict("4.3", np.einsum("nj,nk->jk", A2, d3), RIGHT_D2).startswith("Correct")
    assert verdict("4.4", RATIO).startswith("Correct")
    assert verdict("4.4", np.float32(RATIO)).startswith("Correct")  # to float32's precision
    assert verdict("4.3", ..., RIGHT_D2) == NOT_YET
    assert verdict("4.4", ...) == NOT_YET
