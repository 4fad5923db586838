"""The keys of chapter 11's exercises (bplib.exercises.ch11), called through verdict()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bplib.autodiff import Tensor
from bplib.exercises import NOT_YET, ch11, verdict

CHAPTER = Path(__file__).resolve().parents[2] / "chapters" / "11_autodiff.md"
J_EXACT = ch11._jacobian_exact((0.5, -1.0, 2.0))
FWD = 128 * (784 * 512 + 512 * 512 + 512 * 10)


def sine(vjp):
    return lambda t: Tensor.from_op(np.sin(t.data), (t,), lambda g: vjp(g, t.data), "sin")


def test_the_keys_constants_are_the_chapters() -> None:
    text = CHAPTER.read_text()
    assert "x_point = np.array([0.5, -1.0, 2.0])" in text
    assert "sizes_big, batch_big = [784, 512, 512, 10], 128" in text
    assert r"f(x_1, x_2) = \ln x_1 + x_1 x_2 - \sin x_2" in text


def test_sin() -> None:
    assert verdict("11.1", sine(lambda g, x: (g * np.cos(x),))).startswith("Correct")
    assert verdict("11.1", sine(lambda g, x: [np.cos(x) * g])).startswith("Correct")
    said = {
        "bare": verdict("11.1", sine(lambda g, x: g * np.cos(x))),
        "sin": verdict("11.1", sine(lambda g, x: (g * np.sin(x),))),
        "no g": verdict("11.1", sine(lambda g, x: (np.cos(x),))),
        "sign": verdict("11.1", sine(lambda g, x: (-g * np.cos(x),))),
        "two": verdict("11.1", sine(lambda g, x: (g * np.cos(x), g))),
        "array": verdict("11.1", lambda t: np.sin(t.data)),
        "leaf": verdict("11.1", lambda t: Tensor(np.sin(t.data))),
        "not a function": verdict("11.1", 3.0),
    }
    assert "must return a tuple" in said["bare"]  # not a TypeError from Tensor.backward
    assert "derivative" in said["sin"] and "ignores" in said["no g"]
    assert "sign" in said["sign"] and "1 parent" in said["two"]
    assert "Tensor" in said["array"] and "parents" in said["leaf"]
    for message in said.values():
        assert message.startswith("Not yet") and message != NOT_YET
        assert "cos" not in message  # never the derivative itself
    assert verdict("11.1", ...) == NOT_YET


def test_jacobian() -> None:
    assert verdict("11.2", J_EXACT).startswith("Correct")
    assert verdict("11.2", J_EXACT.tolist()).startswith("Correct")
    cases = {
        "accumulate": np.array([J_EXACT[0], J_EXACT[0] + J_EXACT[1]]),
        "transposed": J_EXACT.T,
        "swapped": J_EXACT[::-1],
        "row 2": J_EXACT + np.array([[0, 0, 0], [0, 0, 1e-3]]),
        "array of numbers": "jacobian",
    }
    for hint, wrong in cases.items():
        message = verdict("11.2", wrong)
        assert message.startswith("Not yet") and message != NOT_YET, hint
        assert hint in message, (hint, message)
        for value in J_EXACT.ravel():  # the expected entries never appear
            if value not in (0.0, 1.0, -1.0, 0.5):
                assert f"{value:.4f}"[:-1] not in message


@pytest.mark.parametrize(
    ("answers", "hint"),
    [
        ((FWD, 2 * FWD - 128 * 784 * 512, 1.4), "leaves out dL/dX"),
        ((FWD // 128, 2 * FWD // 128, 2.0), "batch"),
        ((FWD - 128 * 512 * 10, 2 * FWD, 2.0), "one layer"),
        ((FWD, FWD, 1.0), "one product per layer"),
        ((FWD, 2 * FWD + 128 * 784 * 512, 2.3), "once too often"),
        ((FWD, 2 * FWD, 1.4), "not backward_madds / forward_madds"),
        (("many", 2, 2.0), "should be a number"),
        ((1, 2, 2.0), "is off"),
    ],
)
def test_input_gradient_counts(answers: tuple[object, ...], hint: str) -> None:
    message = verdict("11.3", *answers)
    assert message.startswith("Not yet") and hint in message, message
    for count in (FWD, 2 * FWD, 2 * FWD - 128 * 784 * 512):  # never the expected counts
        assert str(count) not in message.replace(",", "")


def test_input_gradient_right() -> None:
    assert verdict("11.3", FWD, 2 * FWD, 2.0).startswith("Correct")
    assert verdict("11.3", float(FWD), np.int64(2 * FWD), np.float64(2)).startswith("Correct")
