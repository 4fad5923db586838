"""The keys of chapter 12's exercises (bplib.exercises.ch12), called through verdict()."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bplib.exercises import NOT_YET, ch12, verdict

CHAPTER = Path(__file__).resolve().parents[2] / "chapters" / "12_bptt_conv.md"


def test_exercise_2_inputs_come_from_the_chapters_seed() -> None:
    text = CHAPTER.read_text()
    seed = re.search(r"^rng_ex = np\.random\.default_rng\((\d+)\)", text, re.M)
    assert seed and int(seed.group(1)) == ch12.EX2_SEED
    assert "x_ex, w_ex = rng_ex.standard_normal(9), rng_ex.standard_normal(4)" in text
    assert "delta_ex = rng_ex.standard_normal(9 - 4 + 1)" in text


def bptt(g_after: bool = False, recurse: bool = True, last_only: bool = False):
    def bptt_every_step(X, W_x, W_h, H, G):
        dW_h = np.zeros_like(W_h)
        dL_dH = G[:, -1] if last_only else np.zeros_like(H[-1])
        for t in range(len(H) - 1, 0, -1):
            incoming = dL_dH if (last_only or g_after) else dL_dH + G[:, t - 1]
            delta = incoming * (1 - H[t] ** 2) + (G[:, t - 1] if g_after else 0)
            dW_h += H[t - 1].T @ delta
            dL_dH = delta @ W_h.T if recurse else np.zeros_like(dL_dH)
        return dW_h

    return bptt_every_step


def test_bptt_every_step() -> None:
    assert verdict("12.1", bptt()).startswith("Correct")
    assert "last step's loss only" in verdict("12.1", bptt(last_only=True))
    assert "step t + 1" in verdict("12.1", bptt(recurse=False))
    assert "after the tanh derivative" in verdict("12.1", bptt(g_after=True))
    assert "shape" in verdict("12.1", lambda *args: np.zeros(3))
    assert "function" in verdict("12.1", np.zeros((5, 5)))
    assert verdict("12.1", lambda *args: ...) == NOT_YET


def test_full_convolution_never_shows_the_expected_vector() -> None:
    x_ex, w_ex, delta_ex = ch12.ex2_inputs()
    expected = np.convolve(delta_ex, w_ex, mode="full")
    assert verdict("12.2", expected).startswith("Correct")
    assert verdict("12.2", np.convolve(w_ex, delta_ex)).startswith("Correct")
    wrong = {
        "flipped twice": np.convolve(delta_ex, w_ex[::-1], mode="full"),
        "mode": np.convolve(delta_ex, w_ex, mode="same"),
        "reversed": expected[::-1],
        "input x": np.convolve(x_ex, w_ex, mode="same"),
        "which two arrays": np.zeros(9),
        "array of numbers": "full",
    }
    for hint, answer in wrong.items():
        message = verdict("12.2", answer)
        assert message.startswith("Not yet") and hint in message, (hint, message)
        for value in expected:
            assert f"{value:.3f}" not in message and f"{value:.2f}" not in message


def truncated(extra: int = 0, ignore_tau: bool = False):
    def dW_h_truncated(X, W_x, W_h, H, dL_dH_T, tau):
        dW_h, dL_dH, T = np.zeros_like(W_h), dL_dH_T, len(H) - 1
        stop = 0 if ignore_tau else max(T - tau - extra, 0)
        for t in range(T, stop, -1):
            delta = dL_dH * (1 - H[t] ** 2)
            dW_h += H[t - 1].T @ delta
            dL_dH = delta @ W_h.T
        return dW_h

    return dW_h_truncated


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (truncated(extra=1), "one step too many"),
        (truncated(extra=-1), "zero"),
        (truncated(ignore_tau=True), "full gradient"),
        (lambda *args: np.ones((16, 16)), "differs"),
        (lambda *args: "dW", "array of numbers"),
    ],
)
def test_truncated_wrong(answer, hint) -> None:
    message = verdict("12.3", answer)
    assert message.startswith("Not yet") and hint in message, message


def test_truncated_right() -> None:
    message = verdict("12.3", truncated())
    assert message.startswith("Correct")
    errors = [float(e) for e in re.findall(r"(\d\.\de[-+]\d\d)", message)]
    s08_tau5, s08_tau20, _, s10_tau20 = errors
    assert s08_tau20 < s08_tau5 / 10  # vanishing: the steps left out matter little
    assert s10_tau20 > 0.3  # s = 1: the error stays large (the solution's claim)
