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

What counts as a correct class is :mod:`bplib.metrics`' business.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import describe, positive_int, rows, xy
from .data.batching import iterate_batches
from .init import RngLike, as_rng
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss
from .metrics import METRICS, Metric, _labels_from_outputs, accuracy
from .module import Module
from .optim import LRScheduler, Optimizer

__all__ = [
    "History",
    "evaluate",
    "fit",
    "predict",
    "predict_classes",
]


def _check_model(model: object, where: str) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{where}: model must be a bplib Module, got {describe(model)}")


def predict(model: Module, X: NDArray[Any]) -> NDArray[Any]:
    """The model's outputs on ``X`` (logits for a classifier), after checking ``X`` is finite."""
    _check_model(model, "predict")
    rows(X, "X", "predict")
    return model(X)


def predict_classes(model: Module, X: NDArray[Any]) -> NDArray[np.int64]:
    """Predicted class labels: the arg-max logit, or ``logit > 0`` for a one-output model."""
    return _labels_from_outputs(predict(model, X))


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
    Returns a dict such as ``{"loss": 0.12, "accuracy": 0.97}``.
    """
    _check_model(model, "evaluate")
    if not isinstance(loss_fn, Loss):
        raise TypeError(f"evaluate: loss_fn must be a bplib loss, got {describe(loss_fn)}")
    xy(X, y, "evaluate")
    return _evaluate(model, loss_fn, X, y, _resolve_metrics(metrics, loss_fn))


def _evaluate(
    model: Module, loss_fn: Loss, X: NDArray[Any], y: NDArray[Any], chosen: dict[str, Metric]
) -> dict[str, float]:
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


class _PlainProgress:
    """What ``fit`` shows when tqdm is not installed: one plain line per epoch on stderr."""

    def __init__(self, epochs: int) -> None:
        self.epochs, self.epoch = epochs, 0

    def set_postfix(self, shown: dict[str, str]) -> None:
        self.epoch += 1
        values = ", ".join(f"{k}={v}" for k, v in shown.items())
        print(f"fit: epoch {self.epoch}/{self.epochs}, {values}", file=sys.stderr)

    def close(self) -> None:
        pass


def _epoch_iterator(epochs: int, show: bool) -> tuple[Iterator[int], Any]:
    if not show:
        return iter(range(epochs)), None
    try:  # imported only when a bar is shown: `import bplib` stays numpy-only
        from tqdm import tqdm
    except ModuleNotFoundError:  # tqdm is optional (pip install "bplib-book[progress]")
        return iter(range(epochs)), _PlainProgress(epochs)
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
        Show a tqdm progress bar over the epochs (on stderr; a plain line per epoch when
        tqdm is not installed). Off when ``False`` or when
        the environment variable ``BPLIB_PROGRESS=0``; the book's chapters pass
        ``progress=False`` so their stored outputs never contain a bar.
    scheduler : bplib.optim.LRScheduler or None
        A learning-rate schedule on ``optimizer``, stepped once at the end of every epoch.

    Returns
    -------
    History
        Per-epoch training loss, metrics, validation loss and metrics, learning rate.

    Raises
    ------
    FloatingPointError
        When the loss or a gradient becomes NaN or infinite; the message names the epoch
        and batch and suggests a smaller learning rate. The parameters are left as they
        were before the step that would have used the bad gradient, and the exception's
        ``history`` attribute holds the :class:`History` of the epochs that completed.
    ValueError, TypeError
        On inputs with NaN or infinity, X and y of different lengths, labels or targets
        that do not suit the model's outputs and the loss (for the validation set too),
        bad arguments, or an optimiser that holds parameters which are not the model's:
        all checked before the first step, so nothing has been trained when they are raised.
    """
    where = "fit"
    _check_model(model, where)
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
    epochs = positive_int(epochs, "epochs", where)
    if batch_size is not None:
        batch_size = positive_int(batch_size, "batch_size (or None for full batch)", where)
    if scheduler is not None and (
        not isinstance(scheduler, LRScheduler) or scheduler.optimizer is not optimizer
    ):
        raise ValueError(f"{where}: scheduler must be a bplib.optim schedule of this optimizer")
    xy(X, y, where)
    if validation is not None:
        if not isinstance(validation, tuple | list) or len(validation) != 2:
            raise TypeError(
                f"{where}: validation must be a pair (X_val, y_val), got {validation!r:.60}"
            )
        xy(validation[0], validation[1], where, ("X_val", "y_val"))
    chosen = _resolve_metrics(metrics, loss_fn)
    _check_before_training(model, loss_fn, X, y, validation, chosen)

    n = len(X)
    size = n if batch_size is None else min(int(batch_size), n)
    n_batches = math.ceil(n / size)
    gen = as_rng(rng)
    history = History(
        metrics={k: [] for k in chosen},
        val_metrics={k: [] for k in chosen} if validation is not None else {},
    )
    epoch_iter, bar = _epoch_iterator(int(epochs), _progress_enabled(progress))
    try:
        for epoch in epoch_iter:
            history.lr.append(optimizer.lr)
            total_loss, totals = 0.0, dict.fromkeys(chosen, 0.0)
            order = gen.permutation(n) if size < n else None  # a fresh order every epoch
            for b, (Xb, yb) in enumerate(iterate_batches(X, y, size, order)):  # checked above

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
    except FloatingPointError as err:
        err.history = history  # type: ignore[attr-defined]  # the epochs that completed
        raise
    finally:
        if bar is not None:
            bar.close()
    return history


def _check_before_training(
    model: Module,
    loss_fn: Loss,
    X: NDArray[Any],
    y: NDArray[Any],
    validation: tuple[NDArray[Any], NDArray[Any]] | None,
    chosen: dict[str, Metric],
) -> None:
    """Everything that could fail part-way through training, checked before the first step.

    One example goes through the model (its input dtype and width, the output width); the
    loss and the metrics then see every target against predictions of that width (all
    zeros), so a label out of range or a target of the wrong shape is refused now, not
    after an epoch of training. The same for the validation set. No parameter changes.
    """
    sets = [("X", "y", X, y)]
    if validation is not None:
        sets.append(("X_val", "y_val", validation[0], validation[1]))
    for x_name, y_name, Xs, ys in sets:
        try:
            out = model(Xs[:1])
            zeros = np.zeros((len(Xs), *out.shape[1:]), out.dtype)
            loss_fn(zeros, ys)
            for m in chosen.values():
                m(zeros, ys)
        except (TypeError, ValueError) as err:
            raise type(err)(
                f"fit: {x_name} and {y_name} do not suit this model and loss (checked before "
                f"training, nothing was changed): {err}"
            ) from err
