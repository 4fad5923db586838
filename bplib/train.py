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
how it is stopped early or logged (``History``, ``Callback``, ``EarlyStopping``,
``ModelCheckpoint``, ``CSVLogger``) lives in
:mod:`bplib.callbacks`, and those names are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._checks import instance, positive_int, real, rows, xy
from ._progress import Progress, progress_enabled
from .amp import GradScaler
from .callbacks import Callback, CSVLogger, EarlyStopping, History, ModelCheckpoint
from .data.batching import iterate_batches
from .init import RngLike, as_rng
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss
from .metrics import METRICS, Metric, accuracy, labels_from_outputs
from .module import Module, submodules
from .optim import LRScheduler, Optimizer, ReduceLROnPlateau, deferred_interrupts

__all__ = [
    "CSVLogger",
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
    found = [(m, m.training) for m in submodules(model)]
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
    return labels_from_outputs(predict(model, X))


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
# fit: the loop first, then the helpers it calls
# ---------------------------------------------------------------------------------------


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
    validation_split: float | None = None,
    metrics: Sequence[str | Metric] | None = None,
    progress: bool = True,
    scheduler: LRScheduler | None = None,
    callbacks: Sequence[Callback] | None = None,
    tol: float | None = None,
    grad_scaler: GradScaler | None = None,
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
    validation_split : float or None
        Keras's ``validation_split``: a fraction strictly between 0 and 1 of the examples,
        the *last* ones of ``X`` and ``y`` (taken before any shuffling, so sort or shuffle
        the data first if its order means something), held out and used as ``validation``;
        the first :math:`\lfloor n(1 - \text{validation\_split})\rfloor` train. Not together
        with ``validation``.
    metrics : sequence of names or functions ``f(outputs, y) -> float``, or None
        ``None`` means ``("accuracy",)`` for ``CrossEntropyLoss`` and ``BCEWithLogitsLoss``
        and no metric otherwise; pass ``()`` for none.
    progress : bool
        Show the progress over the epochs on stdout: a tqdm bar (``tqdm.auto``: a widget in
        JupyterLab and Jupyter Notebook when ipywidgets is installed, text elsewhere).
        Without tqdm, a plain line every :math:`N = \lceil \text{epochs}/10\rceil` epochs
        and for the last epoch run (so at most 11 lines), then one line that says whether
        training stopped early and why. Off when ``False`` or when the environment
        variable ``BPLIB_PROGRESS=0``; the book's chapters pass ``progress=False`` so their
        stored outputs never contain a bar.
    scheduler : bplib.optim.LRScheduler or None
        A learning-rate schedule on ``optimizer``, stepped once at the end of every epoch;
        a :class:`~bplib.optim.ReduceLROnPlateau` is handed the epoch's validation loss
        (the training loss without validation data).
    callbacks : sequence of Callback or None
        Objects called before training, after every epoch (any may stop training) and
        at the end; see :class:`Callback`, :class:`EarlyStopping`,
        :class:`ModelCheckpoint` and :class:`CSVLogger`.
    tol : float or None
        The convergence test of full-batch gradient descent (chapter 6): stop as soon as
        the gradient norm :math:`\lVert\nabla L(\theta)\rVert` measured at the start
        of an epoch is below ``tol``. That epoch takes no step, so the returned parameters
        are the point whose gradient passed the test (its loss is the epoch's recorded
        loss). Needs full batches: a mini-batch gradient is noisy and does not vanish at
        a minimum, so ``tol`` with ``batch_size < n`` is an error (use
        :class:`EarlyStopping` instead).
    grad_scaler : bplib.amp.GradScaler or None
        Loss scaling for low-precision training (:mod:`bplib.amp`): the loss
        gradient is scaled before the backward pass and the gradients unscaled before the
        step, which is skipped (not an error) when a gradient overflowed; the scale is
        updated after every batch. A skipped batch adds nothing to the recorded gradient
        norm (an epoch whose every step was skipped records NaN).

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
    X, y, validation, chosen, size, tol, callbacks = _checked_fit_arguments(
        model, loss_fn, optimizer, X, y, epochs, batch_size, validation, validation_split,
        metrics, scheduler, callbacks, tol,
    )  # fmt: skip
    if grad_scaler is not None:
        instance(grad_scaler, GradScaler, "grad_scaler", "fit", "a bplib.amp.GradScaler")
    scaler = grad_scaler or GradScaler(enabled=False)  # disabled: each call does nothing
    history = _begin(callbacks, chosen, validation, model)  # callbacks' on_train_begin
    n, params, shuffle = len(X), model.parameters(), as_rng(rng)
    diverged = _Divergence(optimizer, epochs, n_batches=math.ceil(n / size))
    stop_reason = ""
    with (
        _history_kept(history),  # a FloatingPointError or Ctrl-C carries the history so far
        Progress(epochs, progress_enabled(progress)) as shown,
        deferred_interrupts(),  # Ctrl-C during a step waits for its writes (cheaply)
        _mode(model, True),  # validation switches to eval() and back by itself
    ):
        for epoch in range(1, epochs + 1):
            history.lr.append(optimizer.lr)
            sums = _EpochSums(chosen, diverged.n_batches)
            order = shuffle.permutation(n) if size < n else None  # a fresh order every epoch
            for b, (Xb, yb) in enumerate(iterate_batches(X, y, size, order), start=1):
                model.zero_grad()
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    with diverged.unless_finite(epoch, b, "the loss got non-finite predictions"):
                        out = model(Xb)
                        loss = loss_fn(out, yb)
                    if not math.isfinite(loss):
                        raise diverged.error(epoch, b, f"the loss is {loss}")
                    model.backward_to_parameters(scaler.scale(loss_fn.backward()))  # no dL/dX
                    scaler.unscale_(optimizer)  # the true gradients, for their norm and the step
                    grad_sq = sum(float(np.vdot(p.grad, p.grad)) for p in params)
                if tol is not None and math.sqrt(grad_sq) < tol:  # converged: take no step
                    stop_reason = f"gradient norm {math.sqrt(grad_sq):.3g} below tol {tol:g}"
                else:  # step() refuses a NaN or infinite gradient before it updates anything
                    with diverged.unless_finite(epoch, b, "a gradient is not finite"):
                        scaler.step(optimizer)  # optimizer.step(), or skipped on an overflow
                        scaler.update()
                sums.add(loss, out, yb, grad_sq)
            sums.record(history, n)
            if validation is not None:
                _validate(model, loss_fn, validation, chosen, history, epoch, optimizer)
            if scheduler is not None:
                _step_schedule(scheduler, history)
            asked = _epoch_end(callbacks, epoch, history, model)  # every callback, every epoch
            stop_reason = stop_reason or asked
            shown.epoch_end(epoch, history, last=bool(stop_reason))
            if stop_reason:
                break
        history.stop_reason = stop_reason or f"reached epochs={epochs}"
        for cb in callbacks:
            if hasattr(cb, "on_train_end"):
                cb.on_train_end(model, history)
        shown.end(history)  # the last line: finished, or stopped early and why
    return history


class _Checked(NamedTuple):
    """``fit``'s arguments once checked: the training and validation sets (``validation_split``
    applied), the metrics by name, the batch size in examples, ``tol`` and the callbacks."""

    X: NDArray[Any]
    y: NDArray[Any]
    validation: tuple[NDArray[Any], NDArray[Any]] | None
    chosen: dict[str, Metric]
    size: int
    tol: float | None
    callbacks: list[Callback]


def _step_schedule(scheduler: LRScheduler, history: History) -> None:
    """Step the schedule at an epoch's end; a plateau schedule watches the (validation) loss."""
    if isinstance(scheduler, ReduceLROnPlateau):
        watched = history.val_loss if history.val_loss else history.loss
        scheduler.step(watched[-1])
    else:
        scheduler.step()


def _checked_fit_arguments(
    model: Module,
    loss_fn: Loss,
    optimizer: Optimizer,
    X: NDArray[Any],
    y: NDArray[Any],
    epochs: int,
    batch_size: int | None,
    validation: tuple[NDArray[Any], NDArray[Any]] | None,
    validation_split: float | None,
    metrics: Sequence[str | Metric] | None,
    scheduler: LRScheduler | None,
    callbacks: Sequence[Callback] | None,
    tol: float | None,
) -> _Checked:
    """Every argument of :func:`fit` checked, before anything changes."""
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
    if validation_split is not None:
        X, y, validation = _split_validation(X, y, validation_split, validation)
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
    if tol is not None:
        tol = real(tol, "tol", where, low=0.0, low_open=True)
        if size < n:
            raise ValueError(
                f"{where}: tol (a gradient-norm test) needs full-batch gradient descent, but "
                f"batch_size={batch_size} < {n} examples: a mini-batch gradient is noisy and "
                "does not vanish at a minimum; use batch_size=None, or EarlyStopping"
            )
    return _Checked(X, y, validation, chosen, size, tol, _check_callbacks(callbacks, where))


def _split_validation(
    X: NDArray[Any], y: NDArray[Any], fraction: object, validation: object
) -> tuple[NDArray[Any], NDArray[Any], tuple[NDArray[Any], NDArray[Any]]]:
    r"""Keras's ``validation_split``: the last ``fraction`` of the rows (before any shuffling)
    become the validation set, the first :math:`\lfloor n(1 - \text{fraction})\rfloor` the
    training set; both must keep at least one example."""
    where = "fit"
    if validation is not None:
        raise ValueError(f"{where}: pass validation=(X_val, y_val) or validation_split, not both")
    fraction = real(
        fraction, "validation_split", where, low=0, high=1, low_open=True, high_open=True
    )
    n = len(X)
    split_at = math.floor(n * (1.0 - fraction))  # as Keras: the first split_at rows train
    if split_at in (0, n):
        raise ValueError(
            f"{where}: validation_split={fraction:g} of {_plural(n, 'example')} leaves "
            f"{split_at} for training and {n - split_at} for validation; both need at least "
            "one: pass more data or another fraction"
        )
    return X[:split_at], y[:split_at], (X[split_at:], y[split_at:])


def _begin(
    callbacks: list[Callback],
    chosen: dict[str, Metric],
    validation: tuple[NDArray[Any], NDArray[Any]] | None,
    model: Module,
) -> History:
    """The empty :class:`History` ``fit`` will fill, after every callback's
    ``on_train_begin`` (where they check their arguments against what will be recorded)."""
    history = History(
        metrics={k: [] for k in chosen},
        val_metrics={k: [] for k in chosen} if validation is not None else {},
        validation=validation is not None,
    )
    for cb in callbacks:
        if hasattr(cb, "on_train_begin"):
            cb.on_train_begin(model, history)
    return history


class _Divergence:
    """The ``FloatingPointError`` of a loss or gradient that stopped being finite, naming the
    epoch and the batch (both counted from 1) and suggesting a smaller learning rate."""

    def __init__(self, optimizer: Optimizer, epochs: int, n_batches: int) -> None:
        self.optimizer, self.epochs, self.n_batches = optimizer, epochs, n_batches

    def error(self, epoch: int, batch: int, what: str) -> FloatingPointError:
        return FloatingPointError(
            f"fit: training diverged in epoch {epoch} of {self.epochs}, batch {batch} of "
            f"{self.n_batches}: {what}. Try a smaller learning rate (lr is "
            f"{self.optimizer.lr:g})."
        )

    @contextmanager
    def unless_finite(self, epoch: int, batch: int, what: str) -> Iterator[None]:
        """Run a block; a ``FloatingPointError`` in it becomes :meth:`error` ("what (why)")."""
        try:
            yield
        except FloatingPointError as err:
            raise self.error(epoch, batch, f"{what} ({err})") from err


class _EpochSums:
    """An epoch's running sums: the loss and the metrics, each batch's weighted by its size,
    and the squared gradient norms; :meth:`record` appends their means to the history."""

    def __init__(self, chosen: dict[str, Metric], n_batches: int) -> None:
        self.chosen, self.n_batches = chosen, n_batches
        self.loss, self.grad_sq, self.metrics = 0.0, 0.0, dict.fromkeys(chosen, 0.0)
        self.grad_n = 0  # the examples whose gradient counted (a loss scaler skips overflows)

    def add(self, loss: float, out: NDArray[Any], yb: NDArray[Any], grad_sq: float) -> None:
        m = len(yb)
        if math.isfinite(grad_sq):  # not a step a loss scaler skipped
            self.grad_sq = grad_sq if self.n_batches == 1 else self.grad_sq + grad_sq * m
            self.grad_n += m
        self.loss += loss * m
        for k, metric in self.chosen.items():
            self.metrics[k] += metric(out, yb) * m

    def record(self, history: History, n: int) -> None:
        history.loss.append(self.loss / n)
        if self.grad_n == 0:
            mean_sq = math.nan
        else:
            mean_sq = self.grad_sq if self.n_batches == 1 else self.grad_sq / self.grad_n
        history.grad_norm.append(math.sqrt(mean_sq))
        for k, total in self.metrics.items():
            history.metrics[k].append(total / n)


def _validate(
    model: Module,
    loss_fn: Loss,
    validation: tuple[NDArray[Any], NDArray[Any]],
    chosen: dict[str, Metric],
    history: History,
    epoch: int,
    optimizer: Optimizer,
) -> None:
    """Append the validation loss and metrics after ``epoch`` (in evaluation mode)."""
    try:
        result = _evaluate(model, loss_fn, *validation, chosen)
    except FloatingPointError as err:
        raise FloatingPointError(
            f"fit: the validation loss is not finite after epoch {epoch}: {err}. Try a "
            f"smaller learning rate (lr is {optimizer.lr:g})."
        ) from err
    history.val_loss.append(result["loss"])
    for k in chosen:
        history.val_metrics[k].append(result[k])


def _epoch_end(callbacks: list[Callback], epoch: int, history: History, model: Module) -> str:
    """Call every callback's ``on_epoch_end``; why one of them stopped training, or ``""``."""
    history.stopped_epoch = epoch
    history.stop_reason = ""
    asked = [cb for cb in callbacks if cb.on_epoch_end(epoch, history, model)]
    if not asked:
        return ""
    return history.stop_reason or f"{type(asked[0]).__name__} stopped training"


@contextmanager
def _history_kept(history: History) -> Iterator[None]:
    """Give a ``FloatingPointError`` or ``KeyboardInterrupt`` raised in training the
    ``history`` of the epochs that completed, as its ``history`` attribute."""
    try:
        yield
    except FloatingPointError as err:
        err.history = history  # type: ignore[attr-defined]
        raise
    except KeyboardInterrupt as err:  # Ctrl-C: keep what the completed epochs recorded
        _keep_completed_epochs(history)
        history.stop_reason = (
            f"interrupted (KeyboardInterrupt) during epoch {history.stopped_epoch + 1}; "
            f"{_plural(history.stopped_epoch, 'epoch')} completed"
        )
        err.history = history  # type: ignore[attr-defined]
        raise


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


# ---------------------------------------------------------------------------------------
# fit's checks before training
# ---------------------------------------------------------------------------------------


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
    running statistic or random stream changes. When the model refuses the one example,
    the whole set goes through it (still in evaluation mode), so that the message reports
    the user's array, ``(178, 13)``, not the one-row probe, ``(1, 13)``.
    """
    sets = [("X", "y", X, y)]
    if validation is not None:
        sets.append(("X_val", "y_val", validation[0], validation[1]))
    for x_name, y_name, Xs, ys in sets:
        try:
            out = _probe(model, Xs)
            zeros = np.zeros((len(Xs), *out.shape[1:]), out.dtype)
            loss_fn(zeros, ys)
            for m in chosen.values():
                m(zeros, ys)
        except (TypeError, ValueError) as err:
            raise type(err)(
                f"fit: {x_name} and {y_name} do not suit this model and loss (checked before "
                f"training, nothing was changed): {err}"
            ) from err


def _probe(model: Module, X: NDArray[Any]) -> NDArray[Any]:
    """The model's output on ``X[:1]`` in evaluation mode (no dropout draw, no running
    statistics update); if it refuses that row, the same error for the whole of ``X``."""
    with _mode(model, False):
        try:
            return model(X[:1])
        except (TypeError, ValueError) as err:
            if len(X) == 1:
                raise
            try:
                model(X)
            except type(err) as whole:
                raise whole from None
            raise  # the whole set went through: keep the first error


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
