"""Small input checks shared by bplib's modules and losses.

Every check raises an exception whose message says what was expected and what was given,
so a reader never has to decode a numpy broadcasting error (or, worse, no error at all).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
LOW_PRECISION_DTYPES = (np.dtype(np.float16),)
"""Accepted too, for the low-precision training of :mod:`bplib.amp` (half precision); and
``ml_dtypes.bfloat16`` when the optional package ``ml_dtypes`` is installed."""


def is_bfloat16(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` is ``ml_dtypes.bfloat16`` (which numpy files under kind ``"V"``)."""
    return dtype.kind == "V" and dtype.itemsize == 2 and dtype.name == "bfloat16"


def is_floating(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` is a floating type bplib computes in: numpy's (kind ``"f"``) or
    bfloat16."""
    return dtype.kind == "f" or is_bfloat16(dtype)


def as_float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """Return ``dtype`` as a numpy dtype, insisting on float32 or float64 (or float16 or
    bfloat16, for low-precision training: :mod:`bplib.amp`)."""
    try:
        dt: np.dtype[Any] = np.dtype(dtype)
    except TypeError:  # not a dtype at all: 'junk', a list...
        raise TypeError(f"dtype must be float32 or float64, got {describe(dtype)}") from None
    if dt not in FLOAT_DTYPES and dt not in LOW_PRECISION_DTYPES and not is_bfloat16(dt):
        raise TypeError(
            f"dtype must be float32 or float64, got {dt} (float16 and ml_dtypes.bfloat16 are "
            "accepted too, for low-precision training: see bplib.amp)"
        )
    return dt


def keep_bfloat16(out: Any, like: Any) -> Any:
    """``out`` rounded to bfloat16 when it is float32 computed from the bfloat16 ``like``.

    numpy's matrix product of bfloat16 arrays returns float32 (the sums accumulated in
    float32, as bfloat16 hardware accumulates them); the layers' boundary rounds it, once,
    so that a bfloat16 layer's outputs and gradients stay bfloat16. Anything else as is.
    """
    if (
        isinstance(like, np.ndarray)
        and like.dtype.kind == "V"  # cheap first: bfloat16 is numpy's kind "V"
        and is_bfloat16(like.dtype)
        and type(out) is np.ndarray
        and out.dtype == np.float32
    ):
        return out.astype(like.dtype)
    return out


def as_batch(
    x: object,
    dtype: np.dtype[Any],
    where: object,
    *,
    leading_dims: bool = False,
    width: int | None = None,
) -> NDArray[Any]:
    """Return ``x`` as a 2-D array of ``dtype``: shape (batch, features), batch >= 1; with
    ``leading_dims``, also ``(batch, ..., features)`` (no axis of length 0). ``width``, the
    number of features the caller expects, only makes the hint for a 1-D ``x`` precise.

    Integers and booleans are converted to ``dtype`` (they carry no precision to lose);
    a floating array of the other precision is refused rather than silently converted,
    so a float32 model never runs in float64 by accident (and vice versa).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{where!r} expected a numpy array, got {describe(x)}")
    if isinstance(x, np.matrix):
        plain_array(x, "the input", repr(where))
    if x.ndim != 2 and not (leading_dims and x.ndim > 2):
        hint = " (use x.reshape(1, -1) for a single example)" if x.ndim == 1 else ""
        if x.ndim == 1 and width == 1 and x.size != 1:  # many examples of one feature
            hint = " (use x.reshape(-1, 1) for examples of a single feature)"
        raise ValueError(
            f"{where!r} expected a 2-D array of shape (batch, features), "
            f"got {x.ndim}-D array of shape {x.shape}{hint}"
        )
    if 0 in x.shape[:-1]:
        raise ValueError(f"{where!r} got an empty batch: shape {x.shape}")
    if x.dtype == dtype:
        return x
    if x.dtype.kind in "biu":
        return x.astype(dtype)
    if is_floating(x.dtype):
        raise TypeError(
            f"{where!r} has dtype {dtype} but the input has dtype {x.dtype}; "
            f"convert it with x.astype(np.{dtype})"
        )
    raise TypeError(f"{where!r} expected a real numeric array, got dtype {x.dtype}")


def same_shape(
    grad: object, shape: tuple[int, ...], where: object, dtype: np.dtype[Any] | None = None
) -> NDArray[Any]:
    """Check that a gradient passed to ``backward`` has the shape of the forward output.

    With ``dtype`` (the layer's), integers and booleans are converted to it, as ``forward``
    converts its input, and the other float precision or a complex gradient is refused: a
    float32 layer never hands back a float64 gradient (nor an integer one).
    """
    if type(grad) is not np.ndarray:
        grad = plain_array(grad, "the gradient", f"{where!r}.backward")
    if grad.shape != shape:
        raise ValueError(
            f"{where!r}.backward expected a gradient of shape {shape} (the shape of the "
            f"forward output), got {grad.shape}"
        )
    if dtype is not None and grad.dtype != dtype:
        if grad.dtype.kind in "biu":
            return grad.astype(dtype)
        raise TypeError(
            f"{where!r}.backward expected a gradient of dtype {dtype} (the layer's), got "
            f"{describe(grad)}; convert it with grad.astype(np.{dtype})"
        )
    return grad


# ---------------------------------------------------------------------------------------
# Arguments: one helper per kind of check, one message idiom
# ---------------------------------------------------------------------------------------


def describe(x: object) -> str:
    """What an error message says it was given: an array's dtype and shape, a number's or a
    short string's value, else the type. Never a whole array: a message stays one line."""
    if isinstance(x, np.ndarray):
        kind = "np.matrix of " if isinstance(x, np.matrix) else ""
        return f"{kind}dtype {x.dtype}, shape {x.shape}"
    if x is None or isinstance(x, bool | int | float | complex | str | np.generic):
        text = repr(x)
        text = text if len(text) <= 60 else text[:57] + "..."
        return f"str {text}" if isinstance(x, str) else text
    return type(x).__name__


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def instance(
    value: object, kind: type | tuple[type, ...], name: str, where: str, what: str
) -> None:
    """Raise ``TypeError("<where>: <name> must be <what>, got ...")`` unless ``value`` is a ``kind``.

    The one check of a model, a loss or an optimiser passed to a function, e.g.
    ``instance(model, Module, "model", "fit", "a bplib Module")``.
    """
    if not isinstance(value, kind):
        raise TypeError(f"{_prefix(where)}{name} must be {what}, got {describe(value)}")


def positive_int(value: object, name: str, where: str = "") -> int:
    """Return ``value`` if it is an integer >= 1, else raise naming ``name`` (and ``where``)."""
    return integer(value, name, where, low=1)


def non_negative(value: object, name: str, where: str = "") -> float:
    """Return ``value`` as a float if it is a finite real number >= 0, else raise."""
    return real(value, name, where, low=0.0)


def rows(a: object, name: str, where: str, *, finite: bool = True) -> NDArray[Any]:
    """A real numeric array with at least one row (one per example), finite if asked."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy array, got {type(a).__name__}")
    if a.dtype.kind not in "biuf" and not is_floating(a.dtype):
        raise TypeError(f"{where}: {name} must be a real numeric array, got dtype {a.dtype}")
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(f"{where}: {name} must have at least one row, got shape {a.shape}")
    if finite and is_floating(a.dtype) and not np.isfinite(a).all():
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


def whole_number_hint(y: object) -> str:
    """For a float array of whole numbers (labels as ``np.loadtxt`` reads them), the hint
    to convert them; else the empty string."""
    if (
        isinstance(y, np.ndarray)
        and y.dtype.kind == "f"
        and y.size
        and np.isfinite(y).all()
        and (y == np.round(y)).all()
    ):
        return "; its values are whole numbers: convert them with y.astype(int)"
    return ""


def class_labels(target: object, n: int, n_classes: int, where: object) -> NDArray[Any]:
    """``n`` integer class labels in ``0 .. n_classes - 1``, one per row of the logits."""
    if not isinstance(target, np.ndarray) or target.dtype.kind not in "iu":
        raise TypeError(
            f"{where!r} expected integer class labels (e.g. int64), got {describe(target)}"
            + whole_number_hint(target)
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


def real_numbers(x: object, name: str, where: str = "") -> NDArray[Any]:
    """Return ``x`` if it is a plain numpy array (see :func:`plain_array`) of real numbers:
    bool, integer or float; a complex or object array is refused, naming ``name``."""
    x = plain_array(x, name, where)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{_prefix(where)}{name} must be a real numeric array, got {describe(x)}")
    return x


def floating_input(x: object, where: object) -> NDArray[Any]:
    """A layer's input that must be a plain numpy array of floats (activations, dropout):
    an integer array is refused rather than converted, an ``np.matrix`` as everywhere."""
    if not isinstance(x, np.ndarray) or not is_floating(x.dtype):
        raise TypeError(f"{where!r} expected a floating numpy array, got {describe(x)}")
    if isinstance(x, np.matrix):
        plain_array(x, "the input", repr(where))
    return x


def all_finite(x: NDArray[Any]) -> bool:
    """Whether every entry of ``x`` is finite, cheaply: one summation, no temporary array.

    A sum is finite only if every term is (NaN and infinities propagate), so a finite sum
    settles it; an infinite sum of finite terms (an overflow) falls back to the exact test.
    This keeps the check off the profile of a training step. Call it under
    ``np.errstate(over="ignore")`` where the terms may be huge.
    """
    return math.isfinite(x.sum()) or bool(np.isfinite(x).all())


def axis_of(axis: object, ndim: int, where: str) -> int:
    """Return ``axis`` as an int if it names one of the ``ndim`` axes (negative counts back)."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{where}: axis must be an int, got {describe(axis)}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{where}: axis must lie in {-ndim}..{ndim - 1} for a {ndim}-D array, got {axis}"
        )
    return int(axis)


def interval(value: object, name: str, where: str) -> tuple[float, float]:
    """Return ``value`` as ``(lo, hi)``: a pair of finite numbers with ``lo < hi``."""
    if not isinstance(value, tuple | list | np.ndarray) or len(value) != 2:
        raise ValueError(f"{where}: {name} must be a pair (lo, hi), got {value!r:.60}")
    lo = real(value[0], f"{name}[0]", where)
    hi = real(value[1], f"{name}[1]", where)
    if not lo < hi:
        raise ValueError(f"{where}: {name} must have lo < hi, got {value!r:.60}")
    return lo, hi


def contour_levels(levels: object, where: str) -> int | NDArray[np.float64]:
    """Matplotlib ``contour``'s ``levels``: a count >= 1, or increasing finite numbers."""
    if isinstance(levels, int | np.integer) and not isinstance(levels, bool):
        return integer(levels, "levels", where, low=1)
    if isinstance(levels, str) or not isinstance(levels, Sequence | np.ndarray):
        raise TypeError(
            f"{where}: levels must be a number of levels or a sequence of increasing values, "
            f"got {describe(levels)}"
        )
    values = real_array(levels, "levels", where)
    if values.ndim != 1 or values.size == 0 or (np.diff(values) <= 0).any():
        raise ValueError(
            f"{where}: levels must be a non-empty sequence of increasing values, got "
            f"{np.array2string(values, threshold=8)}"
        )
    return values


def real_matrix(
    x: object, name: str, where: str = "", columns: int | None = None
) -> NDArray[np.float64]:
    """Return ``x`` as float64 of shape (batch >= 1, ``columns``): a plain numpy array of
    real numbers, every one finite. Integers and booleans are converted; a complex or
    object array, an ``np.matrix``, NaN or infinity are refused, naming ``name``."""
    x = real_numbers(x, name, where)
    if x.ndim != 2 or x.shape[0] == 0 or (columns is not None and x.shape[1] != columns):
        cols = "features" if columns is None else columns
        raise ValueError(
            f"{_prefix(where)}{name} must have shape (batch >= 1, {cols}), got {x.shape}"
        )
    finite_array(x, name, where)
    return x.astype(np.float64, copy=False)


def real_array(x: object, name: str, where: str = "") -> NDArray[np.float64]:
    """Return ``x`` (an array, an ``np.matrix`` or a nested list of real numbers) as a
    finite float64 array; a complex, object or ragged input, NaN or infinity are refused."""
    try:
        arr = np.asarray(x)
    except ValueError:  # a ragged nested list
        raise ValueError(
            f"{_prefix(where)}{name} must be a rectangular array, got a ragged {type(x).__name__}"
        ) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{_prefix(where)}{name} must hold real numbers, got {describe(arr)}")
    arr = arr.astype(np.float64)
    finite_array(arr, name, where)
    return arr


# ---------------------------------------------------------------------------------------
# The boundary of the layers: what their forward and backward are handed (see Module)
# ---------------------------------------------------------------------------------------


def gradient_for(param: Any, value: object) -> NDArray[Any]:
    """An array assigned to ``param.grad``: a numpy array of the parameter's shape and dtype,
    not the parameter's own memory. A read-only array (a broadcast view, say) is returned as
    a private copy: ``backward`` adds into the gradient and ``zero_grad`` clears it in place."""
    if (
        not isinstance(value, np.ndarray)
        or isinstance(value, np.matrix)
        or value.shape != param.data.shape
        or value.dtype != param.data.dtype
    ):
        raise TypeError(
            f"Parameter {param.name!r}: grad must be a numpy array of the parameter's shape "
            f"{param.data.shape} and dtype {param.data.dtype}, got {describe(value)} (to "
            "clear it, call zero_grad())"
        )
    if np.shares_memory(value, param.data):  # zero_grad() would zero the weights
        raise ValueError(
            f"Parameter {param.name!r}: grad must not share memory with the parameter's data "
            "(zero_grad() would clear the weights and backward would add into them), got an "
            f"array that does ({describe(value)}): assign a copy, e.g. np.array(g)"
        )
    if not value.flags.writeable:  # a broadcast view: zero_grad and += need their own array
        return value.copy()
    return value


def batch_of_width(layer: Any, x: object, width: int) -> NDArray[Any]:
    """A (batch, ``width``) array of the layer's dtype (integers converted; see as_batch);
    ``(batch, ..., width)`` too for a layer that takes leading dimensions (see Module)."""
    checked = as_batch(x, layer.dtype, layer, leading_dims=layer.leading_dims, width=width)
    if checked.shape[-1] != width:
        lead = "batch" if checked.ndim == 2 else "..."
        raise ValueError(
            f"{layer!r} expected input of shape ({lead}, {width}), got {checked.shape}"
        )
    return checked


def linear_input(layer: Any, x: object) -> NDArray[Any]:
    """``Linear``'s input: a (..., in_features) array that the caller cannot change before
    ``backward`` (a private copy), and a weight still of the shape the layer was built with."""
    checked = batch_of_width(layer, x, layer.in_features)
    w = layer.weight.data
    if w.shape != (layer.in_features, layer.out_features):
        hint = ""
        if w.shape == (layer.out_features, layer.in_features):
            hint = (
                "; that is PyTorch's (out_features, in_features) layout: bplib computes "
                "Z = X W and stores W as (in_features, out_features), so assign its transpose"
            )
        raise ValueError(
            f"{layer!r}: weight must have shape ({layer.in_features}, {layer.out_features}), got "
            f"{describe(w)}{hint}"
        )
    return checked.copy() if checked is x else checked


def batchnorm_input(layer: Any, x: object) -> NDArray[Any]:
    """``BatchNorm1d``'s input: (batch, num_features), and in training more than one row."""
    checked = batch_of_width(layer, x, layer.num_features)
    if layer.training and checked.shape[0] < 2:
        raise ValueError(
            f"{layer!r} in training mode needs more than 1 example per batch to "
            f"estimate a variance, got input of shape {checked.shape} (as PyTorch, it "
            "refuses); use a larger batch, or eval() to use the running statistics"
        )
    return checked


def layernorm_input(layer: Any, x: object) -> NDArray[Any]:
    """``LayerNorm``'s input: (..., normalized_shape[0])."""
    return batch_of_width(layer, x, layer.normalized_shape[0])


def sequence_input(layer: Any, x: object) -> NDArray[Any]:
    """A transformer layer's input: (batch, time, ``layer.embed_dim``) of the layer's dtype
    (integers converted, the other float precision refused, as ``Linear``'s)."""
    shape = f"(batch, time, {layer.embed_dim})"
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{layer!r} expected a numpy array of shape {shape}, got {describe(x)}")
    if x.ndim != 3 or x.shape[-1] != layer.embed_dim:
        raise ValueError(f"{layer!r} expected input of shape {shape}, got {x.shape}")
    return as_batch(x, layer.dtype, layer, leading_dims=True)


def index_input(layer: Any, x: object) -> NDArray[Any]:
    """``Embedding``'s input: integer indices of any shape, each in 0..num_embeddings - 1,
    as a private copy (the caller cannot change them before ``backward``)."""
    return _indices(x, layer.num_embeddings, layer)


def token_input(layer: Any, x: object) -> NDArray[Any]:
    """A language model's input: integer tokens of shape (batch, time), 1 <= time <=
    ``layer.block_size``, each in 0..vocab_size - 1 (a private copy)."""
    if isinstance(x, np.ndarray) and (x.ndim != 2 or 0 in x.shape or x.shape[1] > layer.block_size):
        raise ValueError(
            f"{layer!r} expected tokens of shape (batch, time) with 1 <= time <= "
            f"{layer.block_size} (block_size), got shape {x.shape}"
        )
    return _indices(x, layer.vocab_size, layer)


def _indices(x: object, n: int, layer: Any) -> NDArray[Any]:
    """Integer indices, each in 0..n - 1, as a private copy (see ``index_input``)."""
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iu":
        raise TypeError(
            f"{layer!r} expected integer indices (a numpy array of ints, any shape), got "
            f"{describe(x)}" + whole_number_hint(x).replace("y.astype", "idx.astype")
        )
    plain_array(x, "the indices", repr(layer))
    if x.size and (x.min() < 0 or x.max() >= n):
        raise ValueError(
            f"{layer!r} expected indices in 0..{n - 1}, got values from {x.min()} to {x.max()}"
        )
    return x.copy()


def floating_layer_input(layer: Any, x: object) -> NDArray[Any]:
    """An activation's or ``Dropout``'s input: a floating array, never converted."""
    return floating_input(x, layer)


def flatten_input(layer: Any, x: object) -> NDArray[Any]:
    """``Flatten``'s input: an array of shape (batch, ...), at least 2-D."""
    if not isinstance(x, np.ndarray) or x.ndim < 2:
        raise ValueError(f"Flatten expected an array of shape (batch, ...), got {describe(x)}")
    return x


def any_array(layer: Any, x: object) -> NDArray[Any]:
    """A numpy array of any shape (``Residual``, whose branch checks the rest)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{layer!r} expected a numpy array, got {type(x).__name__}")
    return x


def plain_number(value: object) -> object:
    """A 0-d array (as :func:`bplib.load` gives) as its Python number; anything else as is."""
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "biuf":
        return value.item()
    return value
