"""Answer keys of chapter 14, bits and bytes (``check("14.M", ...)``).

The keys compute their references here from the formulas of the chapter (eq-bits-float,
the checkpointing memory model) and, for exercise 1, compare them with ``numpy.finfo``
(and ``ml_dtypes.finfo`` when ``ml_dtypes`` is installed). They never show an expected
value: a wrong answer gets the name of the quantity and the format or case that is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer

__all__ = ["ex1", "ex2", "ex3"]

F16_SUBNORMAL = 2.0**-24
F16_MAX = 65504.0

# (name, exponent bits, fraction bits, dtype name in numpy or ml_dtypes)
_FORMATS = [
    ("float16", 5, 10, "float16"),
    ("float32", 8, 23, "float32"),
    ("float64", 11, 52, "float64"),
    ("bfloat16", 8, 7, "bfloat16"),
    ("float8_e5m2", 5, 2, "float8_e5m2"),
    ("a made-up 12-bit format", 6, 5, ""),
]
_QUANTITIES = [
    "the largest finite number",
    "the smallest normal number",
    "the smallest subnormal number",
    "the machine epsilon",
]


def _pow2(k: int) -> float:
    """2.0**k, infinite beyond float64's range (a wrong answer's candidate may be)."""
    try:
        return math.ldexp(1.0, k)
    except OverflowError:
        return math.inf


def _limits(e: int, m: int) -> tuple[float, float, float, float]:
    bias = 2 ** (e - 1) - 1
    return (2 - 2.0**-m) * 2.0**bias, 2.0 ** (1 - bias), 2.0 ** (1 - bias - m), 2.0**-m


def _finfo(name: str) -> tuple[float, float, float, float] | None:
    """finfo's four numbers for the named dtype, or None when it is not available."""
    if not name:
        return None
    if name in ("float16", "float32", "float64"):
        info: Any = np.finfo(np.dtype(name))
    else:
        try:
            import ml_dtypes
        except ImportError:
            return None
        finfo: Any = ml_dtypes.finfo  # numpy's finfo, extended to ml_dtypes' formats
        info = finfo(getattr(ml_dtypes, name))
    return (
        float(info.max),
        float(info.smallest_normal),
        float(info.smallest_subnormal),
        float(info.eps),
    )


def _numbers(value: object, n: int, what: str) -> list[float]:
    value = answer(value)
    if not isinstance(value, tuple | list) or len(value) != n:
        raise NotYet(
            f"{what} should return a tuple of {n} numbers, got {type(value).__name__}"
            + (f" of length {len(value)}" if isinstance(value, tuple | list) else "")
        )
    out = []
    for v in value:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            raise NotYet(f"{what} should return numbers, got {type(v).__name__}") from None
    return out


def ex1(format_limits: Callable[..., object]) -> str:
    """Exercise 14.1: ``format_limits(e, m)``, the four limits of a binary format.

    Compares with eq-bits-float on float16, float32, float64, bfloat16, float8_e5m2 and a
    made-up format, and checks the reference against ``finfo`` where one exists. Diagnoses,
    for the first format and quantity that are wrong: the bias off by one; the largest
    number without its fraction bits (or with the infinity exponent); epsilon taken as the
    unit roundoff (half of it); any other mismatch, naming the quantity and the format.
    """
    if not callable(format_limits):
        raise NotYet(f"format_limits should be a function, not {type(format_limits).__name__}")
    for name, e, m, dtype in _FORMATS:
        expected = _limits(e, m)
        info = _finfo(dtype)
        assert info is None or info == expected, name  # the key's own check
        got = _numbers(format_limits(e, m), 4, "format_limits")
        wrong = [
            i
            for i, (g, x) in enumerate(zip(got, expected, strict=True))
            if not math.isclose(g, x, rel_tol=1e-12)
        ]
        if not wrong:
            continue
        if any(math.isclose(got[1], expected[1] * f, rel_tol=1e-12) for f in (2.0, 0.5)):
            raise NotYet(
                f"the smallest normal number of {name} is off by a factor of 2: "
                "check the bias, 2^(e-1) - 1, and the exponent of the smallest "
                "normal number"
            )
        i = wrong[0]
        g, x, quantity = got[i], expected[i], _QUANTITIES[i]
        bias = 2 ** (e - 1) - 1
        if i == 0 and math.isclose(g, _pow2(bias), rel_tol=1e-12):
            raise NotYet(f"{quantity} of {name}: the fraction bits are all set too")
        if i == 0 and math.isclose(g, 2 * x, rel_tol=1e-12):
            raise NotYet(
                f"{quantity} of {name}: the largest exponent field is kept for infinity and NaN"
            )
        if i == 2 and any(math.isclose(g, x * f, rel_tol=1e-12) for f in (2.0, 0.5)):
            raise NotYet(
                f"{quantity} of {name} is off by a factor of 2: which fraction bit "
                "does the smallest subnormal have set?"
            )
        if i == 3 and math.isclose(g, x / 2, rel_tol=1e-12):
            raise NotYet(
                f"{quantity} of {name} is the spacing of the numbers just above "
                "1, not half of it (the unit roundoff)"
            )
        raise NotYet(f"{quantity} of {name} (e = {e}, m = {m}) is wrong")
    return "Correct: every limit follows from the bits, and agrees with finfo"


def _gradients(seed: int, low: float, high: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = 2.0 ** rng.uniform(low, high, 200) * rng.choice([-1.0, 1.0], 200)
    g[rng.integers(0, 200, 5)] = 0.0  # exact zeros: nothing to protect
    return g


def _safe(g: np.ndarray) -> tuple[int, int]:
    nonzero = np.abs(g[g != 0])
    k_min = math.ceil(math.log2(F16_SUBNORMAL / float(nonzero.min())))
    k_max = math.floor(math.log2(F16_MAX / float(nonzero.max())))
    return k_min, k_max


def ex2(scale_exponents: Callable[..., object]) -> str:
    """Exercise 14.2: ``scale_exponents(g)``, the smallest and largest safe k of a loss scale 2^k.

    Runs the answer on gradient arrays of the key's own (log-uniform magnitudes, signs
    and exact zeros, four ranges). Diagnoses: the smallest normal number used instead of
    the smallest subnormal; the zeros not left out; 2^16 used for the largest number; k_min
    and k_max swapped; rounding the wrong way; any other mismatch. Never shows the pair.
    """
    if not callable(scale_exponents):
        raise NotYet(f"scale_exponents should be a function, not {type(scale_exponents).__name__}")
    for seed, (low, high) in enumerate([(-30, -10), (-40, -5), (-12, 3), (-26.5, -8.3)]):
        g = _gradients(1400 + seed, low, high)
        got = _numbers(scale_exponents(g.copy()), 2, "scale_exponents")
        k_min, k_max = _safe(g)
        if got == [k_min, k_max]:
            continue
        if got == [k_max, k_min]:
            raise NotYet("the pair is swapped: (k_min, k_max)")
        if got[0] == k_min + 10:
            raise NotYet(
                "k_min: an entry may become subnormal, just not zero: the "
                "threshold is the smallest subnormal number"
            )
        if got[0] != k_min and not np.isfinite(got[0]):
            raise NotYet("k_min is not finite: leave the zero entries out, no scale helps them")
        if got[1] in (k_max + 1, k_max - 1) and got[0] == k_min:
            raise NotYet(
                "k_max: the largest entry times 2^k must stay at most 65504 "
                "(round down, and 65504 is not 2^16)"
            )
        if got[0] in (k_min + 1, k_min - 1):
            raise NotYet(
                "k_min is off by one: is 2^k times the smallest entry at least "
                "2^-24 for it, and not for k - 1?"
            )
        raise NotYet(f"case {seed + 1}: (k_min, k_max) is wrong")
    return "Correct: those are the loss scales at which nothing underflows or overflows"


def _best(n: int, a: float, c: float) -> int:
    divisors = [k for k in range(1, n + 1) if n % k == 0]
    return min(divisors, key=lambda k: (n / k * c + k * a, k))


def ex3(best_segment_length: Callable[..., object]) -> str:
    """Exercise 14.3: ``best_segment_length(n, a, c)``, the divisor k of n minimising (n/k) c + k a.

    Runs the answer on cases of the key's own, some where the rounded continuous optimum
    is not a divisor or not the best one. Diagnoses: not an integer; a k that does not
    divide n; a tie broken the wrong way; another divisor that is better.
    """
    if not callable(best_segment_length):
        raise NotYet(
            f"best_segment_length should be a function, not {type(best_segment_length).__name__}"
        )
    cases = [
        (16, 1.0, 1.0),
        (16, 3.0, 1.0),
        (100, 1.0, 1.0),
        (48, 1.0, 1.0),
        (30, 1.0, 1.0),
        (12, 1.0, 3.0),
        (64, 2.0, 1.0),
        (36, 1.0, 2.0),
        (2, 1.0, 2.0),
        (7, 1.0, 1.0),
    ]
    for n, a, c in cases:
        raw = answer(best_segment_length(n, a, c))
        try:
            got = int(raw)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise NotYet(
                f"best_segment_length should return an integer, got {type(raw).__name__}"
            ) from None
        if got != raw:
            raise NotYet(f"best_segment_length should return an integer, got {raw!r}")
        best = _best(n, a, c)
        if got == best:
            continue
        if not 1 <= got <= n or n % got:
            raise NotYet(f"for n = {n} your k does not divide n: every segment has k layers")
        cost = n / got * c + got * a
        if math.isclose(cost, n / best * c + best * a):
            raise NotYet(f"n = {n}, a = {a}, c = {c}: two k tie; return the smaller")
        raise NotYet(f"n = {n}, a = {a}, c = {c}: another divisor of n gives a smaller M(k)")
    return "Correct: the best segment lengths, divisor by divisor"
