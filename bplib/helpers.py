"""What a PyTorch or Keras user reaches for in their first minutes with bplib.

:func:`count_parameters` and :func:`summary` (Keras' ``model.summary()``) say how big a
model is, layer by layer. Predicting, as ``bplib.predict``, ``bplib.predict_classes`` and
``bplib.predict_proba``: :func:`~bplib.train.predict` gives the model's raw outputs (logits
for a classifier, the values for a regression, as Keras's ``model.predict``),
:func:`~bplib.train.predict_classes` the class labels (as scikit-learn's ``predict``) and
:func:`predict_proba` the class probabilities (as scikit-learn's ``predict_proba``). (Seeding: :func:`bplib.manual_seed <bplib.init.manual_seed>`; images into a dense layer:
:class:`bplib.Flatten`.) Chapter 5 builds the modules these describe.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import instance
from .functional import sigmoid, softmax
from .module import Module, Sequential
from .train import predict

__all__ = ["Summary", "count_parameters", "predict_proba", "summary"]


def count_parameters(model: Module) -> int:
    """The number of trainable numbers in ``model``: the sum of its parameters' sizes.

    ``Linear(in, out)`` has ``in * out + out``.
    """
    instance(model, Module, "model", "count_parameters", "a bplib Module")
    return sum(int(p.data.size) for p in model.parameters())


class Summary(str):
    r"""The text of :func:`summary`: a ``str`` that shows as the table, not as a quoted
    string with ``\n`` in it, when a notebook or the interactive prompt displays it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def summary(model: Module, input_shape: tuple[int, ...] | None = None) -> Summary:
    """A table of ``model``'s layers: each one, its output shape and its parameter count.

    Parameters
    ----------
    model : Module
        A :class:`~bplib.Sequential` lists its layers; any other module is one row.
    input_shape : tuple of int, optional
        The shape of one batch, e.g. ``(32, 64)``. With it, the table shows each layer's
        output shape, found by running a copy of the model on zeros (the model itself and
        its cached forward values are not touched).

    Returns
    -------
    Summary
        The table, then the total, as a string. Keras's ``model.summary()`` prints the
        table; here ``bplib.summary(net, (1, 2))`` as the last line of a notebook cell (or
        at the interactive prompt) shows it, as does ``print(bplib.summary(net, (1, 2)))``
        in a script, and the text can be kept, searched or written to a file.
    """
    instance(model, Module, "model", "summary", "a bplib Module")
    layers = list(model) if isinstance(model, Sequential) else [model]
    shapes: list[str] = ["" for _ in layers]
    if input_shape is not None:
        if not (
            isinstance(input_shape, tuple)
            and input_shape
            and all(isinstance(d, int) and d > 0 for d in input_shape)
        ):
            raise ValueError(
                f"summary: input_shape must be a tuple of positive ints, got {input_shape!r}"
            )
        dtype = next((p.data.dtype for p in model.parameters()), np.dtype(np.float64))
        x: NDArray[Any] = np.zeros(input_shape, dtype=dtype)
        for i, layer in enumerate(copy.deepcopy(layers)):
            x = layer(x)
            shapes[i] = str(tuple(x.shape))
    header = ["#", "layer", "output shape", "parameters"]
    rows = [header] + [
        [str(i), repr(layer), shapes[i], f"{count_parameters(layer):,}"]
        for i, layer in enumerate(layers)
    ]
    if input_shape is None:  # no output shapes: leave their column out
        rows = [[r[0], r[1], r[3]] for r in rows]
    right = {0, len(rows[0]) - 1}  # numbers right-aligned
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.rjust(widths[c]) if c in right else cell.ljust(widths[c])
            for c, cell in enumerate(r)
        ).rstrip()
        for r in rows
    ]
    rule = "-" * max(len(line) for line in lines)
    total = f"total: {count_parameters(model):,} parameters"
    return Summary("\n".join([lines[0], rule, *lines[1:], rule, total]))


def predict_proba(model: Module, X: NDArray[Any]) -> NDArray[Any]:
    """Class probabilities of a classifier, shape ``(batch, classes)``; each row sums to 1.

    The softmax of the logits (as ``CrossEntropyLoss`` reads them); for a one-output model (trained with
    ``BCEWithLogitsLoss``) the two columns ``[1 - p, p]`` with ``p = sigmoid(logit)``. The
    column with the largest probability is the class :func:`bplib.train.predict_classes`
    returns.
    """
    logits = predict(model, X)
    if logits.ndim != 2:
        raise ValueError(
            f"predict_proba expected outputs of shape (batch, classes), got {logits.shape}"
        )
    if logits.shape[1] == 1:
        p = sigmoid(logits)
        return np.concatenate([1 - p, p], axis=1)
    return softmax(logits, axis=1)
