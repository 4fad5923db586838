r"""The training loop (chapter 6): ``fit``, ``evaluate``, ``predict`` and the ``History``.

:func:`fit` is the loop every chapter would otherwise write by hand, for each mini-batch
:math:`B`:

.. math::

    \hat Y_B = f(X_B;\theta), \qquad L_B = \ell(\hat Y_B, Y_B), \qquad
    g = \nabla_\theta L_B \ (\text{backpropagation}), \qquad
    \theta \leftarrow \text{optimizer.step}(\theta, g),

with three guards a hand-written loop usually lacks: inputs are checked up front (shapes,
NaN or infinity), a loss or gradient that stops being finite halts training with a
:class:`FloatingPointError` naming the epoch and the batch, and the optimiser must hold the
model's own parameters.

Classifier outputs follow the losses: :class:`~bplib.CrossEntropyLoss` models output one
logit per class (the predicted class is the arg-max), :class:`~bplib.BCEWithLogitsLoss`
models output one logit (the predicted class is 1 where the logit is > 0, i.e.
:math:`\sigma(z) > 1/2`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .data import batches as _batches
from .init import RngLike, as_rng
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss
from .module import Module
from .optim import LRScheduler, Optimizer

__all__ = [
    "History",
    "accuracy",
    "confusion_matrix",
    "evaluate",
    "fit",
    "predict",
    "predict_classes",
]

Metric = Callable[[NDArray[Any], NDArray[Any]], float]


# ---------------------------------------------------------------------------------------
# predictions and metrics
# ---------------------------------------------------------------------------------------


def _labels_from_outputs(out: NDArray[Any]) -> NDArray[np.int64]:
    """Class labels from logits: arg-max of several columns, ``logit > 0`` for one column."""
    if out.ndim != 2:
        raise ValueError(f"expected model outputs of shape (batch, outputs), got {out.shape}")
    if out.shape[1] == 1:
        return (out[:, 0] > 0).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


def _labels_from_targets(y: NDArray[Any]) -> NDArray[np.int64]:
    """Class labels from targets: integer labels (n,), 0/1 targets (n, 1) or one-hot (n, k)."""
    if y.ndim == 1 and y.dtype.kind in "iu":
        return y.astype(np.int64, copy=False)
    if y.ndim == 2 and y.shape[1] == 1:
        return (y[:, 0] >= 0.5).astype(np.int64)
    if y.ndim == 2:
        return y.argmax(axis=1).astype(np.int64)
    raise ValueError(
        "accuracy expected integer labels of shape (n,), 0/1 targets of shape (n, 1) or "
        f"one-hot targets of shape (n, classes), got dtype {y.dtype} and shape {y.shape}"
    )


def accuracy(outputs: NDArray[Any], y: NDArray[Any]) -> float:
    r"""Fraction of examples whose predicted class is the true class (chapter 6).

    .. math:: \text{accuracy} = \frac1N \sum_n [\hat c_n = c_n]

    ``outputs`` are the model's logits (see the module docstring for how a class is
    read off them); ``y`` holds integer labels, 0/1 targets of shape (n, 1) or one-hot rows.
    """
    predicted, true = _labels_from_outputs(outputs), _labels_from_targets(y)
    if predicted.shape != true.shape:
        raise ValueError(
            f"accuracy got {predicted.shape[0]} predictions and {true.shape[0]} labels"
        )
    return float(np.mean(predicted == true))


METRICS: dict[str, Metric] = {"accuracy": accuracy}
"""The metrics :func:`fit` and :func:`evaluate` know by name."""


def _check_finite_array(a: object, name: str, where: str) -> NDArray[Any]:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy array, got {type(a).__name__}")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must be a real numeric array, got dtype {a.dtype}")
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(f"{where}: {name} must have at least one row, got shape {a.shape}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(
            f"{where}: {name} contains {bad} NaN or infinite value(s); clean or impute the "
            "data first (a single NaN makes every gradient NaN)"
        )
    return a


def _check_xy(X: object, y: object, where: str, names: tuple[str, str] = ("X", "y")) -> None:
    X = _check_finite_array(X, names[0], where)
    y = _check_finite_array(y, names[1], where)
    if len(X) != len(y):
        raise ValueError(
            f"{where}: {names[0]} and {names[1]} must have the same number of examples (rows), "
            f"got {len(X)} (shape {X.shape}) and {len(y)} (shape {y.shape})"
        )


def _every_module(model: Module) -> Iterator[Module]:
    yield model
    for child in model.children():
        yield from _every_module(child)


def _switch_mode(model: Module, training: bool) -> list[tuple[Module, bool]]:
    """``model.train(training)``; returns every module's flag as it was, for :func:`_restore`."""
    found = [(m, m.training) for m in _every_module(model)]
    model.train(training)
    return found


def _restore(found: list[tuple[Module, bool]]) -> None:
    for m, flag in found:
        m.training = flag


@contextmanager
def _mode(model: Module, training: bool) -> Iterator[None]:
    """Run a block with ``model.train(training)``, then put back every module's own flag."""
    found = _switch_mode(model, training)
    try:
        yield
    finally:
        _restore(found)


def predict(model: Module, X: NDArray[Any]) -> NDArray[Any]:
    """The model's outputs on ``X`` (logits for a classifier), after checking ``X`` is finite.

    The model runs in evaluation mode (``model.eval()``: running statistics in batch
    normalisation, no dropout; chapter 10) and is then put back in the mode it was in.
    """
    _check_finite_array(X, "X", "predict")
    with _mode(model, False):
        return model(X)


def predict_classes(model: Module, X: NDArray[Any]) -> NDArray[np.int64]:
    """Predicted class labels: the arg-max logit, or ``logit > 0`` for a one-output model."""
    return _labels_from_outputs(predict(model, X))


def confusion_matrix(
    y_true: NDArray[Any], y_pred: NDArray[Any], n_classes: int | None = None
) -> NDArray[np.int64]:
    r"""Counts :math:`C_{ij}` of examples of true class :math:`i` predicted as class :math:`j`.

    Chapter 7. Rows are true classes, columns predictions, so the diagonal holds the correct
    predictions and ``C.sum(axis=1)`` the class sizes. ``n_classes`` defaults to one more
    than the largest label seen.
    """
    for name, a in (("y_true", y_true), ("y_pred", y_pred)):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "iu" or a.ndim != 1:
            given = f"dtype {a.dtype}, shape {a.shape}" if isinstance(a, np.ndarray) else type(a)
            raise TypeError(
                f"confusion_matrix: {name} must be a 1-D array of integer labels, got {given}"
            )
        if a.size and a.min() < 0:
            raise ValueError(f"confusion_matrix: {name} has a negative label {a.min()}")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"confusion_matrix: y_true has {y_true.size} labels but y_pred has {y_pred.size}"
        )
    seen = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    k = seen if n_classes is None else int(n_classes)
    if k < seen:
        raise ValueError(f"confusion_matrix: n_classes={n_classes} but a label {seen - 1} occurs")
    C = np.zeros((k, k), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C


def _resolve_metrics(metrics: Iterable[str | Metric] | None, loss_fn: object) -> dict[str, Metric]:
    if metrics is None:
        classifier = isinstance(loss_fn, CrossEntropyLoss | BCEWithLogitsLoss)
        return {"accuracy": accuracy} if classifier else {}
    if isinstance(metrics, str):
        metrics = (metrics,)
    resolved: dict[str, Metric] = {}
    for m in metrics:
        if isinstance(m, str):
            if m not in METRICS:
                raise ValueError(f"unknown metric {m!r}; known: {sorted(METRICS)} or a function")
            resolved[m] = METRICS[m]
        elif callable(m):
            resolved[getattr(m, "__name__", repr(m))] = m
        else:
            raise TypeError(f"a metric must be a name or a function, got {type(m).__name__}")
    if "loss" in resolved:
        raise ValueError("'loss' is always recorded; it cannot also be a metric name")
    return resolved


def evaluate(
    model: Module,
    loss_fn: Loss,
    X: NDArray[Any],
    y: NDArray[Any],
    *,
    metrics: Iterable[str | Metric] | None = None,
) -> dict[str, float]:
    """The loss and metrics of ``model`` on the whole of ``(X, y)``, with no parameter update.

    ``metrics`` as in :func:`fit` (accuracy by default for the classification losses).
    Returns a dict such as ``{"loss": 0.12, "accuracy": 0.97}``. The model runs in
    evaluation mode and is then put back in the mode it was in (as :func:`predict`).
    """
    _check_xy(X, y, "evaluate")
    return _evaluate(model, loss_fn, X, y, _resolve_metrics(metrics, loss_fn))


def _evaluate(
    model: Module, loss_fn: Loss, X: NDArray[Any], y: NDArray[Any], chosen: dict[str, Metric]
) -> dict[str, float]:
    with _mode(model, False):
        out = model(X)
    result = {"loss": float(loss_fn(out, y))}
    result.update({name: float(m(out, y)) for name, m in chosen.items()})
    return result


# ---------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------


@dataclass
class History:
    """What :func:`fit` recorded, one entry per epoch.

    Attributes
    ----------
    loss : list of float
        Mean training loss over the epoch's mini-batches (each weighted by its size),
        measured on each batch just before the step it caused.
    metrics : dict of str to list of float
        The training metrics, measured the same way (e.g. ``metrics["accuracy"]``).
    val_loss, val_metrics
        The same on the validation set, measured after the epoch's last step (empty lists
        without ``validation``).
    lr : list of float
        The learning rate used in each epoch.

    ``history["val_accuracy"]`` and ``history["loss"]`` also work, Keras-style.
    """

    loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    val_loss: list[float] = field(default_factory=list)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return len(self.loss)

    def as_dict(self) -> dict[str, list[float]]:
        """Every series by its Keras-style name: ``loss``, ``accuracy``, ``val_loss``, ..."""
        series = {"loss": self.loss, **self.metrics}
        if self.val_loss:
            series["val_loss"] = self.val_loss
            series.update({f"val_{k}": v for k, v in self.val_metrics.items()})
        series["lr"] = self.lr
        return series

    def __getitem__(self, key: str) -> list[float]:
        series = self.as_dict()
        if key not in series:
            raise KeyError(f"History has no series {key!r}; it has {sorted(series)}")
        return series[key]

    @property
    def best(self) -> dict[str, float]:
        """The epoch with the lowest validation loss (training loss without validation), with
        every series' value at that epoch; ``best["epoch"]`` counts from 1."""
        if not self.loss:
            raise ValueError("History is empty: no epoch has been recorded")
        key = self.val_loss if self.val_loss else self.loss
        i = int(np.argmin(key))
        return {"epoch": i + 1, **{k: v[i] for k, v in self.as_dict().items()}}

    def __repr__(self) -> str:
        if not self.loss:
            return "History(epochs=0)"
        parts = [f"epochs={self.epochs}"]
        for name, values in self.as_dict().items():
            if name != "lr":
                parts.append(f"{name}: {values[0]:.4f} -> {values[-1]:.4f}")
        return "History(" + ", ".join(parts) + ")"


# ---------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------


def _progress_enabled(progress: bool) -> bool:
    """``progress``, unless the environment variable ``BPLIB_PROGRESS`` is 0/false/no/off."""
    env = os.environ.get("BPLIB_PROGRESS", "").strip().lower()
    return bool(progress) and env not in {"0", "false", "no", "off"}


def _epoch_iterator(epochs: int, show: bool) -> tuple[Iterator[int], Any]:
    if not show:
        return iter(range(epochs)), None
    from tqdm import tqdm  # imported only when a bar is shown: `import bplib` stays numpy-only

    bar = tqdm(range(epochs), desc="fit", unit="epoch", dynamic_ncols=True)
    return iter(bar), bar


def fit(
    model: Module,
    loss_fn: Loss,
    optimizer: Optimizer,
    X: NDArray[Any],
    y: NDArray[Any],
    *,
    epochs: int,
    batch_size: int | None = None,
    rng: RngLike = None,
    validation: tuple[NDArray[Any], NDArray[Any]] | None = None,
    metrics: Sequence[str | Metric] | None = None,
    progress: bool = True,
    scheduler: LRScheduler | None = None,
) -> History:
    """Train ``model`` on ``(X, y)`` with mini-batch gradient descent (chapter 6).

    Parameters
    ----------
    model : Module
    loss_fn : Loss
        E.g. ``CrossEntropyLoss()`` (then ``y`` holds integer labels) or ``MSELoss()``.
    optimizer : bplib.optim.Optimizer
        Built on ``model.parameters()``.
    X, y : ndarray
        Inputs, shape (n, features), and targets with the same number of rows n; both
        finite.
    epochs : int
        Passes over the data, >= 1.
    batch_size : int or None
        Examples per gradient step. ``None`` (default) uses all n: full-batch gradient
        descent, one step per epoch. ``1`` is "pure" stochastic gradient descent.
    rng : int, numpy.random.Generator or None
        Seeds the shuffling of the mini-batches (a fresh order every epoch, reproducible
        from the seed); unused for full batches.
    validation : (X_val, y_val) or None
        Evaluated after every epoch, recorded as ``val_loss`` and ``val_<metric>``.
    metrics : sequence of names or functions ``f(outputs, y) -> float``, or None
        ``None`` means ``("accuracy",)`` for ``CrossEntropyLoss`` and ``BCEWithLogitsLoss``
        and no metric otherwise; pass ``()`` for none.
    progress : bool
        Show a tqdm progress bar over the epochs (on stderr). Off when ``False`` or when
        the environment variable ``BPLIB_PROGRESS=0``; the book's chapters pass
        ``progress=False`` so their stored outputs never contain a bar.
    scheduler : bplib.optim.LRScheduler or None
        A learning-rate schedule on ``optimizer``, stepped once at the end of every epoch.

    The model trains in training mode (``model.train()``) and the validation set is
    evaluated in evaluation mode (chapter 10: batch normalisation and dropout behave
    differently in the two); afterwards every module is back in the mode it was in.

    Returns
    -------
    History
        Per-epoch training loss, metrics, validation loss and metrics, learning rate.

    Raises
    ------
    FloatingPointError
        When the loss or a gradient becomes NaN or infinite; the message names the epoch
        and batch and suggests a smaller learning rate. The parameters are left as they
        were before the step that would have used the bad gradient.
    ValueError, TypeError
        On inputs with NaN or infinity, X and y of different lengths, bad arguments, or an
        optimiser that holds parameters which are not the model's.
    """
    where = "fit"
    if not isinstance(model, Module):
        raise TypeError(f"{where}: model must be a bplib Module, got {type(model).__name__}")
    if not isinstance(loss_fn, Loss):
        raise TypeError(
            f"{where}: loss_fn must be a bplib loss (e.g. bplib.CrossEntropyLoss()), "
            f"got {type(loss_fn).__name__}"
        )
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{where}: optimizer must be a bplib.optim optimiser, got {type(optimizer).__name__}"
        )
    own = {id(p) for p in model.parameters()}
    foreign = [i for i, p in enumerate(optimizer.params) if id(p) not in own]
    if foreign:
        raise ValueError(
            f"{where}: the optimiser holds {len(foreign)} parameter(s) that are not this "
            "model's, so training would not change the model; build it with "
            "optimizer = ...(model.parameters(), ...)"
        )
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"{where}: epochs must be a positive integer, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or batch_size < 1
    ):
        raise ValueError(
            f"{where}: batch_size must be a positive integer or None (full batch), "
            f"got {batch_size!r}"
        )
    if scheduler is not None and (
        not isinstance(scheduler, LRScheduler) or scheduler.optimizer is not optimizer
    ):
        raise ValueError(f"{where}: scheduler must be a bplib.optim schedule of this optimizer")
    _check_xy(X, y, where)
    if validation is not None:
        if not isinstance(validation, tuple | list) or len(validation) != 2:
            raise TypeError(
                f"{where}: validation must be a pair (X_val, y_val), got {validation!r:.60}"
            )
        _check_xy(validation[0], validation[1], where, ("X_val", "y_val"))
    chosen = _resolve_metrics(metrics, loss_fn)

    n = len(X)
    size = n if batch_size is None else min(int(batch_size), n)
    n_batches = math.ceil(n / size)
    gen = as_rng(rng)
    history = History(
        metrics={k: [] for k in chosen},
        val_metrics={k: [] for k in chosen} if validation is not None else {},
    )
    epoch_iter, bar = _epoch_iterator(int(epochs), _progress_enabled(progress))
    modes = _switch_mode(model, True)  # validation switches to eval() and back by itself
    try:
        for epoch in epoch_iter:
            history.lr.append(optimizer.lr)
            total_loss, totals = 0.0, dict.fromkeys(chosen, 0.0)
            for b, (Xb, yb) in enumerate(_batches(X, y, size, shuffle=size < n, rng=gen)):

                def diverged(what: str, epoch: int = epoch, b: int = b) -> FloatingPointError:
                    return FloatingPointError(
                        f"{where}: training diverged in epoch {epoch + 1} of {epochs}, batch "
                        f"{b + 1} of {n_batches}: {what}. Try a smaller learning rate (lr is "
                        f"{optimizer.lr:g})."
                    )

                model.zero_grad()
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    try:
                        out = model(Xb)
                        loss = loss_fn(out, yb)
                    except FloatingPointError as err:
                        raise diverged(f"the loss got non-finite predictions ({err})") from err
                    if not math.isfinite(loss):
                        raise diverged(f"the loss is {loss}")
                    model.backward_to_parameters(loss_fn.backward())  # no dL/dX needed
                try:  # step() refuses a NaN or infinite gradient before it updates anything
                    optimizer.step()
                except FloatingPointError as err:
                    raise diverged(f"a gradient is not finite ({err})") from err
                total_loss += loss * len(Xb)
                for k, m in chosen.items():
                    totals[k] += m(out, yb) * len(Xb)
            history.loss.append(total_loss / n)
            for k in chosen:
                history.metrics[k].append(totals[k] / n)
            if validation is not None:
                try:
                    result = _evaluate(model, loss_fn, *validation, chosen)
                except FloatingPointError as err:
                    raise FloatingPointError(
                        f"{where}: the validation loss is not finite after epoch {epoch + 1}: "
                        f"{err}. Try a smaller learning rate (lr is {optimizer.lr:g})."
                    ) from err
                history.val_loss.append(result["loss"])
                for k in chosen:
                    history.val_metrics[k].append(result[k])
            if scheduler is not None:
                scheduler.step()
            if bar is not None:
                shown = {"loss": f"{history.loss[-1]:.4f}"}
                if history.val_loss:
                    shown["val_loss"] = f"{history.val_loss[-1]:.4f}"
                bar.set_postfix(shown)
    finally:
        _restore(modes)
        if bar is not None:
            bar.close()
    return history
