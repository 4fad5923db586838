"""The keys of chapter 14's exercises (bplib.exercises.ch14), called through verdict()."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bplib.exercises import NOT_YET, ch14, verdict


def limits(bias_shift=0, largest="right", eps_half=False, subnormal_shift=0):
    def format_limits(e, m):
        bias = 2 ** (e - 1) - 1 + bias_shift
        if largest == "right":
            big = (2 - 2.0**-m) * 2.0**bias
        elif largest == "no fraction":
            big = 2.0**bias
        else:  # the exponent of infinity: 2.0 ** (bias + 1), infinite for float64
            big = (2 - 2.0**-m) * math.ldexp(1.0, bias) * 2
        eps = 2.0**-m / (2 if eps_half else 1)
        return big, 2.0 ** (1 - bias), 2.0 ** (1 - bias - m + subnormal_shift), eps

    return format_limits


def test_format_limits_right() -> None:
    assert verdict("14.1", limits()).startswith("Correct")
    assert verdict("14.1", lambda e, m: list(limits()(e, m))).startswith("Correct")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (limits(bias_shift=1), "check the bias"),
        (limits(bias_shift=-1), "check the bias"),
        (limits(largest="no fraction"), "fraction bits are all set"),
        (limits(largest="infinity exponent"), "infinity and NaN"),
        (limits(eps_half=True), "unit roundoff"),
        (limits(subnormal_shift=-1), "which fraction bit"),
        (limits(subnormal_shift=3), "smallest subnormal number of float16"),
        (lambda e, m: (1.0, 2.0), "tuple of 4 numbers"),
        (lambda e, m: ("max", 1, 2, 3), "numbers"),
        (3.0, "function"),
    ],
)
def test_format_limits_wrong(answer, hint) -> None:
    message = verdict("14.1", answer)
    assert message.startswith("Not yet") and hint in message, message


def test_format_limits_stub_and_no_values_shown() -> None:
    assert verdict("14.1", lambda e, m: ...) == NOT_YET
    message = verdict("14.1", limits(largest="no fraction"))
    assert "65504" not in message and "6.55" not in message


def safe(normal=False, keep_zeros=False, round_max=np.floor, swap=False, round_min=np.ceil):
    def scale_exponents(g):
        values = np.abs(g) if keep_zeros else np.abs(g[g != 0])
        low = 2.0**-14 if normal else 2.0**-24
        with np.errstate(divide="ignore"):
            k_min = float(round_min(np.log2(low / values.min())))  # inf with the zeros
        k_max = float(round_max(np.log2(65504 / values.max())))
        return (k_max, k_min) if swap else (k_min, k_max)

    return scale_exponents


def test_scale_exponents_right() -> None:
    assert verdict("14.2", safe()).startswith("Correct")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (safe(normal=True), "smallest subnormal"),
        (safe(keep_zeros=True), "zero entries"),
        (safe(round_max=np.ceil), "round down"),
        (safe(swap=True), "swapped"),
        (safe(round_min=np.floor), "off by one"),
        (lambda g: (0, 0), "is wrong"),
        (lambda g: 3, "tuple of 2 numbers"),
        ("k", "function"),
    ],
)
def test_scale_exponents_wrong(answer, hint) -> None:
    message = verdict("14.2", answer)
    assert message.startswith("Not yet") and hint in message, message


def test_scale_exponents_never_shows_the_pair() -> None:
    g = ch14._gradients(1400, -30, -10)
    k_min, k_max = ch14._safe(g)
    message = verdict("14.2", lambda g: (0, 0))
    assert str(k_min) not in message.replace("case 1", "") and str(k_max) not in message


def best(rounded=False, larger_tie=False):
    def best_segment_length(n, a, c):
        if rounded:
            return round(math.sqrt(n * c / a))
        divisors = [k for k in range(1, n + 1) if n % k == 0]
        key = (
            (lambda k: (n / k * c + k * a, -k))
            if larger_tie
            else (lambda k: (n / k * c + k * a, k))
        )
        return min(divisors, key=key)

    return best_segment_length


def test_best_segment_length_right() -> None:
    assert verdict("14.3", best()).startswith("Correct")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (best(rounded=True), "does not divide"),
        (best(larger_tie=True), "tie"),
        (lambda n, a, c: 1, "smaller M(k)"),
        (lambda n, a, c: 2.5, "integer"),
        (lambda n, a, c: "four", "integer"),
        (4, "function"),
    ],
)
def test_best_segment_length_wrong(answer, hint) -> None:
    message = verdict("14.3", answer)
    assert message.startswith("Not yet") and hint in message, message


def test_the_keys_reference_agrees_with_finfo() -> None:
    for _, e, m, dtype in ch14._FORMATS:
        info = ch14._finfo(dtype)
        assert info is None or info == ch14._limits(e, m)
    assert ch14._finfo("float16") == (65504.0, 2.0**-14, 2.0**-24, 2.0**-10)
