r"""The training loop (chapter 6): ``fit``, ``evaluate`` and ``predict``.

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

What counts as a correct class is :mod:`bplib.metrics`' business; what ``fit`` records and
how it is stopped early (``History``, ``Callback``, ``EarlyStopping``) lives in
:mod:`bplib.callbacks`, and those names are re-exported here.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import instance, positive_int, real, rows, xy
from .callbacks import Callback, EarlyStopping, History, ModelCheckpoint
from .data.batching import iterate_batches
from .init import RngLike, as_rng
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss
from .metrics import METRICS, Metric, _labels_from_outputs, accuracy
from .module import Module, _submodules
from .optim import LRScheduler, Optimizer, deferred_interrupts

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "evaluate",
    "fit",
    "predict",
    "predict_classes",
]


def _check_model(model: object, where: str) -> None:
    instance(model, Module, "model", where, "a bplib Module")


def _switch_mode(model: Module, training: bool) -> list[tuple[Module, bool]]:
    """``model.train(training)``; returns every module's flag as it was, for :func:`_restore`."""
    found = [(m, m.training) for m in _submodules(model)]
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
    _check_model(model, "predict")
    rows(X, "X", "predict")
    with _mode(model, False):
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
    Returns a dict such as ``{"loss": 0.12, "accuracy": 0.97}``. The model runs in
    evaluation mode and is then put back in the mode it was in (as :func:`predict`).
    """
    _check_model(model, "evaluate")
    instance(loss_fn, Loss, "loss_fn", "evaluate", "a bplib loss")
    xy(X, y, "evaluate")
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
        self.shown: dict[str, str] = {}

    def set_postfix(self, shown: dict[str, str], refresh: bool = True) -> None:
        self.shown = shown
        if "stopped" in shown:  # the last call: why training stopped
            print(f"fit: stopped after epoch {self.epoch}: {shown['stopped']}", file=sys.stderr)

    def update(self, n: int = 1) -> None:
        self.epoch += n
        values = ", ".join(f"{k}={v}" for k, v in self.shown.items())
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
    # updated by hand (not iterated), so that it is still open to show why training stopped
    bar = tqdm(total=epochs, desc="fit", unit="epoch", dynamic_ncols=True)
    return iter(range(epochs)), bar


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
    callbacks: Sequence[Callback] | None = None,
    tol: float | None = None,
) -> History:
    r"""Train ``model`` on ``(X, y)`` with mini-batch gradient descent (chapter 6).

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
        Passes over the data, >= 1: the most that will run, if nothing stops training
        earlier (``tol``, ``callbacks``).
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
    callbacks : sequence of Callback or None
        Objects called before training, after every epoch (any may stop training) and
        at the end; see :class:`Callback`, and :class:`EarlyStopping`.
    tol : float or None
        The convergence test of full-batch gradient descent (chapter 6): stop as soon as
        the gradient norm :math:`\lVert\nabla L(\theta)\rVert` measured at the start
        of an epoch is below ``tol``. That epoch takes no step, so the returned parameters
        are the point whose gradient passed the test (its loss is the epoch's recorded
        loss). Needs full batches: a mini-batch gradient is noisy and does not vanish at
        a minimum, so ``tol`` with ``batch_size < n`` is an error (use
        :class:`EarlyStopping` instead).

    The model trains in training mode (``model.train()``) and the validation set is
    evaluated in evaluation mode (chapter 10: batch normalisation and dropout behave
    differently in the two); afterwards every module is back in the mode it was in.

    Returns
    -------
    History
        Per-epoch training loss, metrics, validation loss and metrics, learning rate and
        gradient norm, and ``stopped_epoch`` and ``stop_reason``.

    Raises
    ------
    FloatingPointError
        When the loss or a gradient becomes NaN or infinite; the message names the epoch
        and batch and suggests a smaller learning rate. The parameters are left as they
        were before the step that would have used the bad gradient, and the exception's
        ``history`` attribute holds the :class:`History` of the epochs that completed.
    KeyboardInterrupt
        When training is interrupted (Ctrl-C, a notebook's stop button): no optimiser step
        is left half applied, every module is put back in its mode, and the exception's
        ``history`` attribute holds the :class:`History` of the completed epochs, with a
        ``stop_reason`` that says training was interrupted. The parameters are those after
        the last step taken (maybe part-way through an epoch); ``on_train_end`` is not
        called.
    ValueError, TypeError
        On inputs with NaN or infinity, X and y of different lengths, labels or targets
        that do not suit the model's outputs and the loss (for the validation set too),
        bad arguments, or an optimiser that holds parameters which are not the model's:
        all checked before the first step, so nothing has been trained when they are raised.
    """
    where = "fit"
    _check_model(model, where)
    instance(loss_fn, Loss, "loss_fn", where, "a bplib loss (e.g. bplib.CrossEntropyLoss())")
    instance(optimizer, Optimizer, "optimizer", where, "a bplib.optim optimiser")
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
    if X.ndim == 1:  # a layer's own hint (x.reshape(1, -1), one example) would mislead here
        raise ValueError(
            f"{where}: X must be 2-D, (examples, features), got shape {X.shape}; for "
            "examples with a single feature use X.reshape(-1, 1)"
        )
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
    if tol is not None:
        tol = real(tol, "tol", where, low=0.0, low_open=True)
        if size < n:
            raise ValueError(
                f"{where}: tol (a gradient-norm test) needs full-batch gradient descent, but "
                f"batch_size={batch_size} < {n} examples: a mini-batch gradient is noisy and "
                "does not vanish at a minimum; use batch_size=None, or EarlyStopping"
            )
    callbacks = _check_callbacks(callbacks, where)
    gen = as_rng(rng)
    history = History(
        metrics={k: [] for k in chosen},
        val_metrics={k: [] for k in chosen} if validation is not None else {},
        validation=validation is not None,
    )
    for cb in callbacks:  # they check their arguments against what will be recorded
        if hasattr(cb, "on_train_begin"):
            cb.on_train_begin(model, history)
    params = model.parameters()
    stop_reason = ""
    epoch_iter, bar = _epoch_iterator(int(epochs), _progress_enabled(progress))
    modes = _switch_mode(model, True)  # validation switches to eval() and back by itself
    guard = deferred_interrupts()  # Ctrl-C during a step waits for its writes (cheaply)
    guard.__enter__()
    try:
        for epoch in epoch_iter:
            history.lr.append(optimizer.lr)
            total_loss, totals = 0.0, dict.fromkeys(chosen, 0.0)
            order = gen.permutation(n) if size < n else None  # a fresh order every epoch
            grad_sq = 0.0
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
                    sq = sum(float(np.vdot(p.grad, p.grad)) for p in params)
                if tol is not None and math.sqrt(sq) < tol:  # converged: no step (full batch)
                    stop_reason = f"gradient norm {math.sqrt(sq):.3g} below tol {tol:g}"
                else:
                    try:  # step() refuses a NaN or infinite gradient before it updates anything
                        optimizer.step()
                    except FloatingPointError as err:
                        raise diverged(f"a gradient is not finite ({err})") from err
                grad_sq = sq if n_batches == 1 else grad_sq + sq * len(Xb)
                total_loss += loss * len(Xb)
                for k, m in chosen.items():
                    totals[k] += m(out, yb) * len(Xb)
            history.loss.append(total_loss / n)
            history.grad_norm.append(math.sqrt(grad_sq if n_batches == 1 else grad_sq / n))
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
            history.stopped_epoch = epoch + 1
            history.stop_reason = ""
            asked = [cb for cb in callbacks if cb.on_epoch_end(epoch + 1, history, model)]
            if asked and not stop_reason:
                stop_reason = history.stop_reason or f"{type(asked[0]).__name__} stopped training"
            shown = {"loss": f"{history.loss[-1]:.4f}"}
            if history.val_loss:
                shown["val_loss"] = f"{history.val_loss[-1]:.4f}"
            if bar is not None:
                bar.set_postfix(shown, refresh=False)
                bar.update(1)
            if stop_reason:
                break
        history.stop_reason = stop_reason or f"reached epochs={epochs}"
        for cb in callbacks:
            if hasattr(cb, "on_train_end"):
                cb.on_train_end(model, history)
        if bar is not None:  # the bar ends with why training stopped
            bar.set_postfix({**shown, "stopped": history.stop_reason})
    except FloatingPointError as err:
        err.history = history  # type: ignore[attr-defined]  # the epochs that completed
        raise
    except KeyboardInterrupt as err:  # Ctrl-C: keep what the completed epochs recorded
        _keep_completed_epochs(history)
        history.stop_reason = (
            f"interrupted (KeyboardInterrupt) during epoch {history.stopped_epoch + 1}; "
            f"{_plural(history.stopped_epoch, 'epoch')} completed"
        )
        err.history = history  # type: ignore[attr-defined]
        raise
    finally:
        guard.__exit__(None, None, None)
        _restore(modes)
        if bar is not None:
            bar.close()
    return history


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _keep_completed_epochs(history: History) -> None:
    """Cut every series of ``history`` to the epochs that completed (``stopped_epoch``): an
    interrupt may land after an epoch's loss is recorded but before its validation is."""
    n = history.stopped_epoch
    for series in (history.loss, history.val_loss, history.lr, history.grad_norm):
        del series[n:]
    for group in (history.metrics, history.val_metrics):
        for values in group.values():
            del values[n:]


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
    after an epoch of training. The same for the validation set. The example runs in
    evaluation mode (a batch of one is too small for batch statistics), so no parameter,
    running statistic or random stream changes.
    """
    sets = [("X", "y", X, y)]
    if validation is not None:
        sets.append(("X_val", "y_val", validation[0], validation[1]))
    for x_name, y_name, Xs, ys in sets:
        try:
            with _mode(model, False):  # eval: no dropout draw, no running-statistics update
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


def _check_callbacks(callbacks: object, where: str) -> list[Callback]:
    """``callbacks`` as a list, each with an ``on_epoch_end`` method."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or not isinstance(callbacks, Sequence):
        raise TypeError(
            f"{where}: callbacks must be a list of callbacks (e.g. [EarlyStopping(...)]), "
            f"got {type(callbacks).__name__}"
        )
    for i, cb in enumerate(callbacks):
        if isinstance(cb, type) or not callable(getattr(cb, "on_epoch_end", None)):
            raise TypeError(
                f"{where}: callbacks[{i}] must be a callback object with an on_epoch_end("
                f"epoch, history, model) method (an instance, not a class), got {cb!r:.60}"
            )
    return list(callbacks)
