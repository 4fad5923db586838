"""Small input checks shared by bplib's modules and losses.

Every check raises an exception whose message says what was expected and what was given,
so a reader never has to decode a numpy broadcasting error (or, worse, no error at all).
"""

from __future__ import annotations

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
