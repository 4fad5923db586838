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


# ---------------------------------------------------------------------------------------
# Arguments: one helper per kind of check, one message idiom
# ---------------------------------------------------------------------------------------


def describe(x: object) -> str:
    """What an error message says it was given: an array's dtype and shape, else the type."""
    if isinstance(x, np.ndarray):
        return f"dtype {x.dtype}, shape {x.shape}"
    return type(x).__name__


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def positive_int(value: object, name: str, where: str = "") -> int:
    """Return ``value`` if it is an integer >= 1, else raise naming ``name`` (and ``where``)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{_prefix(where)}{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative(value: object, name: str, where: str = "") -> float:
    """Return ``value`` as a float if it is a finite real number >= 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{_prefix(where)}{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{_prefix(where)}{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def rows(a: object, name: str, where: str, *, finite: bool = True) -> NDArray[Any]:
    """A real numeric array with at least one row (one per example), finite if asked."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy array, got {type(a).__name__}")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must be a real numeric array, got dtype {a.dtype}")
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(f"{where}: {name} must have at least one row, got shape {a.shape}")
    if finite and a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(
            f"{where}: {name} contains {bad} NaN or infinite value(s); clean or impute the "
            "data first (a single NaN makes every gradient NaN)"
        )
    return a


def xy(
    X: object,
    y: object,
    where: str,
    names: tuple[str, str] = ("X", "y"),
    *,
    finite: bool = True,
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Inputs and targets: numeric arrays with the same number of rows (at least one)."""
    X = rows(X, names[0], where, finite=finite)
    y = rows(y, names[1], where, finite=finite)
    if len(X) != len(y):
        raise ValueError(
            f"{where}: {names[0]} and {names[1]} must have the same number of examples (rows), "
            f"got {names[0]} with {len(X)} (shape {X.shape}) and {names[1]} with {len(y)} "
            f"(shape {y.shape})"
        )
    return X, y


def class_labels(target: object, n: int, n_classes: int, where: object) -> NDArray[Any]:
    """``n`` integer class labels in ``0 .. n_classes - 1``, one per row of the logits."""
    if not isinstance(target, np.ndarray) or target.dtype.kind not in "iu":
        raise TypeError(
            f"{where!r} expected integer class labels (e.g. int64), got {describe(target)}"
        )
    if target.shape != (n,):
        raise ValueError(
            f"{where!r} expected integer labels of shape ({n},), one per row of the logits, "
            f"got {target.shape}"
        )
    if target.min() < 0 or target.max() >= n_classes:
        raise ValueError(
            f"{where!r} expected labels in 0..{n_classes - 1} for {n_classes} classes, "
            f"got values from {target.min()} to {target.max()}"
        )
    return target
