"""Small input checks shared by bplib's modules and losses.

Every check raises an exception whose message says what was expected and what was given,
so a reader never has to decode a numpy broadcasting error (or, worse, no error at all).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """Return ``dtype`` as a numpy dtype, insisting on float32 or float64."""
    dt: np.dtype[Any] = np.dtype(dtype)
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is an integer >= 1, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def as_batch(x: object, dtype: np.dtype[Any], where: object) -> NDArray[Any]:
    """Return ``x`` as a 2-D array of ``dtype``: shape (batch, features), batch >= 1.

    Integers and booleans are converted to ``dtype`` (they carry no precision to lose);
    a floating array of the other precision is refused rather than silently converted,
    so a float32 model never runs in float64 by accident (and vice versa).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{where!r} expected a numpy array, got {type(x).__name__}")
    if x.ndim != 2:
        hint = " (use x.reshape(1, -1) for a single example)" if x.ndim == 1 else ""
        raise ValueError(
            f"{where!r} expected a 2-D array of shape (batch, features), "
            f"got {x.ndim}-D array of shape {x.shape}{hint}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{where!r} got an empty batch: shape {x.shape}")
    if x.dtype == dtype:
        return x
    if x.dtype.kind in "biu":
        return x.astype(dtype)
    if x.dtype.kind == "f":
        raise TypeError(
            f"{where!r} has dtype {dtype} but the input has dtype {x.dtype}; "
            f"convert it with x.astype(np.{dtype})"
        )
    raise TypeError(f"{where!r} expected a real numeric array, got dtype {x.dtype}")


def same_shape(grad: object, shape: tuple[int, ...], where: object) -> NDArray[Any]:
    """Check that a gradient passed to ``backward`` has the shape of the forward output."""
    if not isinstance(grad, np.ndarray):
        raise TypeError(f"{where!r}.backward expected a numpy array, got {type(grad).__name__}")
    if grad.shape != shape:
        raise ValueError(
            f"{where!r}.backward expected a gradient of shape {shape} (the shape of the "
            f"forward output), got {grad.shape}"
        )
    return grad


# --------------------------------------------------------------------------------------
# Checks of hyperparameters and arrays (issue 17). One helper per kind of check; every
# message names the argument, says what was expected and shows what was given.


def describe(x: object) -> str:
    """What was given, for an error message: a number's repr, an array's dtype and shape.

    Never the whole array: a message must stay one line even for a million entries.
    """
    if isinstance(x, np.ndarray):
        kind = "np.matrix" if isinstance(x, np.matrix) else "array"
        return f"{kind} of dtype {x.dtype} and shape {x.shape}"
    if x is None or isinstance(x, bool | int | float | complex | str | np.generic):
        text = repr(x)
        text = text if len(text) <= 60 else text[:57] + "..."
        return f"str {text}" if isinstance(x, str) else text
    return type(x).__name__


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"lie in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"be a finite number {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"be a finite number {'<' if high_open else '<='} {high:g}"
    return "be a finite number"


def real(
    value: object,
    name: str,
    where: str = "",
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number in the given interval.

    A bool, a string, ``None`` or an array is a TypeError; NaN, infinity or a value outside
    ``[low, high]`` (open ends with ``low_open`` / ``high_open``) a ValueError.
    """
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{prefix}{name} must be a real number, got {describe(value)}")
    try:
        v = float(value)
    except OverflowError:  # an int too large for a float
        v = math.inf
    bad = not math.isfinite(v)
    bad = bad or (low is not None and (v <= low if low_open else v < low))
    bad = bad or (high is not None and (v >= high if high_open else v > high))
    if bad:
        raise ValueError(
            f"{prefix}{name} must {_interval(low, high, low_open, high_open)}, got {value!r}"
        )
    return v


def integer(value: object, name: str, where: str = "", *, low: int = 1) -> int:
    """Return ``value`` as an int if it is an integer (Python or numpy) >= ``low``.

    A float such as 2.0 or 2.7 is refused rather than truncated, and so is a bool.
    """
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        wanted = {1: "a positive integer", 0: "a non-negative integer"}.get(
            low, f"an integer >= {low}"
        )
        raise ValueError(f"{prefix}{name} must be {wanted}, got {describe(value)}")
    return int(value)


def finite_array(x: NDArray[Any], name: str, where: str = "") -> NDArray[Any]:
    """Return ``x`` if every entry is finite; else say how many are NaN or infinite."""
    if not np.isfinite(x).all():
        n_nan = int(np.isnan(x).sum())
        n_inf = int(np.isinf(x).sum())
        prefix = f"{where}: " if where else ""
        raise ValueError(
            f"{prefix}{name} must be finite, got {n_nan} NaN and {n_inf} infinite "
            f"entries in {describe(x)}"
        )
    return x


def plain_array(x: object, name: str, where: str = "") -> NDArray[Any]:
    """Return ``x`` if it is a numpy array but not an ``np.matrix``.

    ``np.matrix`` redefines ``*`` and keeps every result 2-D, so formulas written for arrays
    give silently wrong numbers on it: convert it with ``np.asarray``.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{prefix}{name} must be a numpy array, got {describe(x)}")
    if isinstance(x, np.matrix):
        raise TypeError(
            f"{prefix}{name} must be a plain numpy array, got an np.matrix (its * is a matrix "
            "product, so elementwise formulas go wrong): convert it with np.asarray(x)"
        )
    return x


def all_finite(x: NDArray[Any]) -> bool:
    """Whether every entry of ``x`` is finite, cheaply: one summation, no temporary array.

    A sum is finite only if every term is (NaN and infinities propagate), so a finite sum
    settles it; an infinite sum of finite terms (an overflow) falls back to the exact test.
    This keeps the check off the profile of a training step. Call it under
    ``np.errstate(over="ignore")`` where the terms may be huge.
    """
    return math.isfinite(x.sum()) or bool(np.isfinite(x).all())
