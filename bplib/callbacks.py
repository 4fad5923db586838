"""What :func:`bplib.fit` records and how it can be stopped (chapters 6 and 7): the
:class:`History` of a run, the :class:`Callback` protocol, and :class:`EarlyStopping`,
:class:`ModelCheckpoint` and :class:`CSVLogger`, with Keras's semantics."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import describe, integer, real
from .metrics import MAXIMISED, METRICS
from .module import Module
from .serialization import save

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "History", "ModelCheckpoint"]


# ---------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------


@dataclass
class History:
    r"""What :func:`fit` recorded, one entry per epoch.

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
    grad_norm : list of float
        The Euclidean norm of the gradient of the loss with respect to all parameters,
        measured on each batch before its step (as the loss is): for full-batch gradient
        descent :math:`\lVert\nabla L(\theta_{e-1})\rVert`, for mini-batches the
        root-mean-square over the epoch's batches (each weighted by its size).
    stopped_epoch : int
        The last epoch run, counting from 1 (``epochs`` unless a criterion stopped early).
    stop_reason : str
        Why training stopped, as a sentence: ``"reached epochs=200"``, ``"gradient norm
        8.13e-07 below tol 1e-06"``, ``"no improvement in val_loss for 5 epochs; restored
        epoch 23"``.
    validation : bool
        Whether ``fit`` had validation data, so that the ``val_`` series are recorded.

    ``history["val_accuracy"]`` and ``history["loss"]`` also work, Keras-style.
    """

    loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    val_loss: list[float] = field(default_factory=list)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    stopped_epoch: int = 0
    stop_reason: str = ""
    validation: bool = False

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return len(self.loss)

    def as_dict(self) -> dict[str, list[float]]:
        """Every series by its Keras-style name: ``loss``, ``accuracy``, ``val_loss``, ...,
        ``lr`` and ``grad_norm`` (when it is recorded for every epoch, as ``fit`` does)."""
        series = {"loss": self.loss, **self.metrics}
        if self.val_loss or self.validation:
            series["val_loss"] = self.val_loss
            series.update({f"val_{k}": v for k, v in self.val_metrics.items()})
        series["lr"] = self.lr
        if len(self.grad_norm) == len(self.loss):
            series["grad_norm"] = self.grad_norm
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
            if name not in ("lr", "grad_norm"):
                parts.append(f"{name}: {values[0]:.4f} -> {values[-1]:.4f}")
        return "History(" + ", ".join(parts) + ")"

    def plot(self, metric: str = "loss", *, ax: Any = None, log: bool = False) -> Any:
        """Draw one recorded series against the epoch: training solid, validation dashed.

        The Keras user's ``pd.DataFrame(history.history).plot()``, one series at a time;
        :func:`bplib.plot.loss_curves` draws several panels or several runs. matplotlib is
        imported only now (``pip install "bplib-book[plot]"``).

        Parameters
        ----------
        metric : str
            A training series: ``"loss"`` (default) or a recorded metric such as
            ``"accuracy"``; its ``val_`` twin is drawn too when it was recorded.
        ax : matplotlib Axes, optional
            Where to draw; by default a new figure.
        log : bool
            Logarithmic y axis for the loss.

        Returns
        -------
        matplotlib Axes
        """
        where = "History.plot"
        if not self.loss:
            raise ValueError(f"{where}: the History is empty: no epoch has been recorded")
        training = ["loss", *self.metrics]
        if not isinstance(metric, str) or metric not in training:
            raise ValueError(
                f"{where}: metric must be one of the training series {training} (their "
                f"val_ twins are drawn with them), got {describe(metric)}"
            )
        if not isinstance(log, bool | np.bool_):
            raise TypeError(f"{where}: log must be True or False, got {describe(log)}")
        from .plot import loss_curves  # bplib.plot imports this module: import it late

        return loss_curves(self, metrics=metric, ax=ax, log=bool(log))


# ---------------------------------------------------------------------------------------
# callbacks: when to stop
# ---------------------------------------------------------------------------------------


class Callback:
    """Base class of the objects ``fit(..., callbacks=[...])`` calls during training (chapter 6).

    The protocol is three methods, all optional (this base class does nothing in each):

    - ``on_train_begin(model, history)``: before the first epoch. ``history`` is the empty
      :class:`History` that ``fit`` will fill; ``history.as_dict()`` already lists every
      series it will record. Check your arguments here and raise, so that a mistake costs
      no training.
    - ``on_epoch_end(epoch, history, model) -> bool``: after every epoch (``epoch``
      counts from 1, the epoch's values are the last entries of ``history``). Return
      ``True`` to stop training; write the reason to ``history.stop_reason`` first (``fit``
      writes a generic one otherwise). Every callback is called every epoch, even when an
      earlier one asked to stop.
    - ``on_train_end(model, history)``: after the last epoch, whatever stopped training
      (but not when ``fit`` raises). Restoring weights belongs here.

    Anything with these methods works; subclassing is not required.
    """

    def on_train_begin(self, model: Module, history: History) -> None:
        """Called once before training; raise here on a bad argument."""

    def on_epoch_end(self, epoch: int, history: History, model: Module) -> bool:
        """Called after every epoch; return ``True`` to stop."""
        return False

    def on_train_end(self, model: Module, history: History) -> None:
        """Called once after the last epoch."""


def _resolve_mode(mode: object, monitor: str, where: str) -> str:
    """``"min"`` or ``"max"``: ``mode`` as given, or for ``"auto"`` from the series' name."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{where}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return str(mode)
    base = monitor.removeprefix("val_")
    if base in MAXIMISED:
        return "max"
    if base in ("loss", "grad_norm") or base in METRICS:  # the other metrics: errors
        return "min"
    raise ValueError(
        f"{where}: mode='auto' cannot tell whether {monitor!r} should go up or down; "
        "pass mode='max' (higher is better) or mode='min'"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class EarlyStopping(Callback):
    r"""Stop when a monitored quantity has stopped improving (chapter 7), with Keras's semantics.

    After every epoch the monitored value :math:`v_e` (e.g. ``history["val_loss"][-1]``)
    is compared with the best so far, :math:`v^\ast`. In ``"min"`` mode it is an
    improvement when :math:`v_e < v^\ast - \delta` (``"max"``: :math:`v_e > v^\ast + \delta`),
    where :math:`\delta` is ``min_delta``; an improvement makes :math:`v_e` the new best and
    resets the count of epochs without one. Training stops when that count reaches
    ``patience``: with ``patience=5`` it stops after the 5th epoch in a row without
    improvement (with ``patience=0``, after the first). The first epoch always improves on the start,
    :math:`v^\ast = \pm\infty`, if its value is finite: a NaN or infinite value is never an
    improvement, and, as in Keras 3, the first monitored epoch never stops training.
    With a ``baseline``, an improvement resets the count only if it also beats the
    baseline; epochs up to ``start_from_epoch`` are not monitored at all (a warm-up).

    Parameters
    ----------
    monitor : str
        A series of the :class:`History`: ``"val_loss"`` (default), ``"loss"``,
        ``"val_accuracy"``, ``"grad_norm"``, ...
    min_delta : float
        :math:`\delta \ge 0`: a smaller change does not count as an improvement (its sign is
        ignored, as in Keras).
    patience : int
        Epochs without improvement to tolerate, >= 0.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better. ``"auto"`` means max for accuracy (``accuracy``,
        ``val_accuracy``) and min for ``loss``, ``val_loss`` and ``grad_norm``; any other
        series needs an explicit mode.
    restore_best_weights : bool
        At the end of training, load the weights of the best epoch, bit for bit
        (via :meth:`~bplib.Module.state_dict`), whatever ended training (as Keras 3 does;
        if no epoch improved, those of the first monitored epoch).
    baseline : float or None
        A value to beat (Keras 3): until the monitored value beats it, improvements are
        recorded but do not reset the count, so training stops after ``patience`` epochs.
    start_from_epoch : int
        Epochs to let pass before monitoring, >= 0 (Keras 3): epochs 1 to
        ``start_from_epoch`` neither improve nor count.

    Attributes
    ----------
    best : float
        The best value seen. ``best_epoch`` (from 1), ``wait`` (epochs since it) and
        ``stopped_epoch`` (0 unless this callback stopped training) as in Keras.

    Examples
    --------
    >>> from bplib.train import EarlyStopping
    >>> stop = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)

    then ``fit(..., validation=(X_val, y_val), callbacks=[stop])``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        baseline: float | None = None,
        start_from_epoch: int = 0,
    ) -> None:
        where = "EarlyStopping"
        if baseline is not None:
            baseline = real(baseline, "baseline", where)
        start_from_epoch = integer(start_from_epoch, "start_from_epoch", where, low=0)
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(
                f"{where}: monitor must be a series name such as 'val_loss', got {monitor!r}"
            )
        min_delta = real(min_delta, "min_delta", where)
        patience = integer(patience, "patience", where, low=0)
        mode = _resolve_mode(mode, monitor, where)
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = baseline
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: dict[str, NDArray[Any]] | None = None

    def _is_improvement(self, value: float, reference: float | None = None) -> bool:
        """Whether ``value`` beats ``reference`` (the best so far) by more than ``min_delta``;
        NaN and infinities never do."""
        reference = self.best if reference is None else reference
        if not math.isfinite(value):
            return False
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, model: Module, history: History) -> None:
        series = history.as_dict()
        if self.monitor not in series:
            hint = (
                "; pass validation=(X_val, y_val) to fit to record it"
                if self.monitor.startswith("val_") and not history.validation
                else ""
            )
            raise ValueError(
                f"EarlyStopping: monitor={self.monitor!r} is not recorded by this fit; "
                f"it records {sorted(series)}{hint}"
            )
        self._reset()

    def on_epoch_end(self, epoch: int, history: History, model: Module) -> bool:
        if epoch <= self.start_from_epoch:  # the warm-up: not monitored
            return False
        value = float(history[self.monitor][-1])
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = model.state_dict(), epoch  # as Keras 3
        self.wait += 1
        if self._is_improvement(value):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = model.state_dict()
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return False
        if self.wait >= self.patience and epoch > self.start_from_epoch + 1:
            self.stopped_epoch = epoch
            history.stop_reason = (
                f"no improvement in {self.monitor} for {_plural(self.wait, 'epoch')}"
            )
            return True
        return False

    def on_train_end(self, model: Module, history: History) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            model.load_state_dict(self.best_weights)
            history.stop_reason += f"; restored epoch {self.best_epoch}"

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, min_delta={self.min_delta}, "
            f"patience={self.patience}, mode={self.mode!r}, "
            f"restore_best_weights={self.restore_best_weights}"
            + (f", baseline={self.baseline}" if self.baseline is not None else "")
            + (f", start_from_epoch={self.start_from_epoch}" if self.start_from_epoch else "")
            + ")"
        )


class ModelCheckpoint(Callback):
    r"""Save the model during training through the atomic :func:`bplib.save`, as Keras's
    ``ModelCheckpoint``.

    Every ``save_freq`` epochs the model's :meth:`~bplib.Module.state_dict` is written to
    ``filepath`` (with ``optimizer``, ``{"model": ..., "optimizer": ..., "epoch": ...}``, enough
    to resume training). With ``save_best_only=True`` a save happens only when the
    monitored value improves on the best so far (as :class:`EarlyStopping` judges it: NaN
    and infinity never improve), so the file always holds the best epoch's weights. A
    save replaces the file atomically: training interrupted in the middle of one leaves the
    previous checkpoint.

    Parameters
    ----------
    filepath : str or os.PathLike
        Where to save. It may hold ``str.format`` fields, filled with ``epoch`` (from 1) and
        the epoch's recorded values: ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``. Its folder
        must exist.
    monitor : str
        The series compared with ``save_best_only``: ``"val_loss"`` (default), ``"loss"``,
        ``"val_accuracy"``, ...
    save_best_only : bool
        Save only improvements of ``monitor`` (default ``False``: every ``save_freq``-th epoch).
    mode : {"auto", "min", "max"}
        Whether lower or higher ``monitor`` is better, as for :class:`EarlyStopping`.
    save_freq : int
        Consider saving every ``save_freq`` epochs (>= 1; Keras's ``"epoch"`` is 1).
    optimizer : bplib.optim.Optimizer or None
        Saved beside the model when given, so training can resume from the file.

    Attributes
    ----------
    best : float
        The best monitored value seen (``save_best_only``); ``best_epoch`` its epoch.
    saved : list of str
        The paths written, one per save, in order.

    Examples
    --------
    >>> from bplib.train import ModelCheckpoint
    >>> keep = ModelCheckpoint("best.npz", monitor="val_loss", save_best_only=True)

    then ``fit(..., validation=(X_val, y_val), callbacks=[keep])`` and later
    ``model.load_state_dict(bplib.load("best.npz"))``.
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        save_freq: int = 1,
        optimizer: Any = None,
    ) -> None:
        where = "ModelCheckpoint"
        if not isinstance(filepath, str | os.PathLike):
            raise TypeError(f"{where}: filepath must be a path (str), got {describe(filepath)}")
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(
                f"{where}: monitor must be a series name such as 'val_loss', got {monitor!r}"
            )
        if not isinstance(save_best_only, bool | np.bool_):
            raise TypeError(
                f"{where}: save_best_only must be True or False, got {describe(save_best_only)}"
            )
        if optimizer is not None and not callable(getattr(optimizer, "state_dict", None)):
            raise TypeError(
                f"{where}: optimizer must be a bplib.optim optimiser or None, got "
                f"{describe(optimizer)}"
            )
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _resolve_mode(mode, monitor, where) if save_best_only else str(mode)
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{where}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.save_freq = integer(save_freq, "save_freq", where, low=1)
        self.optimizer = optimizer
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode != "max" else -math.inf
        self.best_epoch = 0
        self.saved: list[str] = []

    def _path(self, epoch: int, history: History) -> str:
        values = {k: v[-1] for k, v in history.as_dict().items() if v}
        return self.filepath.format(epoch=epoch, **values)

    def on_train_begin(self, model: Module, history: History) -> None:
        series = history.as_dict()
        if self.save_best_only and self.monitor not in series:
            raise ValueError(
                f"ModelCheckpoint: monitor={self.monitor!r} is not recorded by this fit; it "
                f"records {sorted(series)}"
            )
        try:  # a field that will not be recorded fails now, not after an epoch
            self.filepath.format(epoch=1, **dict.fromkeys(series, 0.0))
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                f"ModelCheckpoint: filepath {self.filepath!r} cannot be filled in ({err!r}); "
                f"its fields may be epoch and {sorted(series)}"
            ) from None
        folder = os.path.dirname(os.path.abspath(self.filepath))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"ModelCheckpoint: the folder {folder!r} does not exist")
        self._reset()

    def on_epoch_end(self, epoch: int, history: History, model: Module) -> bool:
        if epoch % self.save_freq:
            return False
        if self.save_best_only:
            value = float(history[self.monitor][-1])
            better = value < self.best if self.mode == "min" else value > self.best
            if not (math.isfinite(value) and better):
                return False
            self.best, self.best_epoch = value, epoch
        state: dict[str, Any] = dict(model.state_dict())
        if self.optimizer is not None:
            state = {"model": state, "optimizer": self.optimizer.state_dict(), "epoch": epoch}
        path = self._path(epoch, history)
        save(state, path)
        self.saved.append(path)
        return False

    def __repr__(self) -> str:
        return (
            f"ModelCheckpoint({self.filepath!r}, monitor={self.monitor!r}, "
            f"save_best_only={self.save_best_only}, mode={self.mode!r}, "
            f"save_freq={self.save_freq})"
        )


class CSVLogger(Callback):
    """Write every epoch's values to a CSV file as training goes, as Keras's ``CSVLogger``.

    The first row is the header: ``epoch`` and then every series of the :class:`History`
    (``history.as_dict()``: ``loss``, the metrics, ``val_loss``, ..., ``lr``, ``grad_norm``)
    in alphabetical order, as Keras orders them. After every epoch one row follows: the
    epoch, counted from 1 as everywhere in bplib (Keras's file counts from 0), and the
    epoch's values, written with ``repr`` so that reading them back with ``float`` gives the
    recorded numbers bit for bit. The file is opened, appended to and closed at every
    epoch, so it is complete up to the last finished epoch even when training is
    interrupted or diverges.

    Parameters
    ----------
    filename : str or os.PathLike
        The CSV file. Its folder must exist.
    separator : str
        One character between the values (default ``","``).
    append : bool
        ``False`` (default): start a new file, replacing any old one. ``True``: add the
        rows of this run after those already in the file (for resumed training); the
        header is written only when the file is new or empty, and an existing header must
        list the same columns.

    Examples
    --------
    >>> from bplib.train import CSVLogger
    >>> log = CSVLogger("training.csv")

    then ``fit(..., callbacks=[log])`` and, for instance, ``pandas.read_csv("training.csv")``.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        where = "CSVLogger"
        if not isinstance(filename, str | os.PathLike):
            raise TypeError(f"{where}: filename must be a path (str), got {describe(filename)}")
        if not isinstance(separator, str) or len(separator) != 1 or separator in '\r\n"':
            raise ValueError(
                f"{where}: separator must be one character other than a quote or a line "
                f"break, such as ',' or ';', got {describe(separator)}"
            )
        if not isinstance(append, bool | np.bool_):
            raise TypeError(f"{where}: append must be True or False, got {describe(append)}")
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self.keys: list[str] = []

    def _read_header(self) -> list[str] | None:
        """The existing file's first row, or ``None`` when there is no file or it is empty."""
        if not os.path.isfile(self.filename) or os.path.getsize(self.filename) == 0:
            return None
        with open(self.filename, newline="", encoding="utf-8") as f:
            return next(csv.reader(f, delimiter=self.separator), None)

    def _write(self, row: list[Any], mode: str) -> None:
        with open(self.filename, mode, newline="", encoding="utf-8") as f:
            csv.writer(f, delimiter=self.separator, lineterminator="\n").writerow(row)

    def on_train_begin(self, model: Module, history: History) -> None:
        folder = os.path.dirname(os.path.abspath(self.filename))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"CSVLogger: the folder {folder!r} does not exist")
        self.keys = sorted(history.as_dict())
        header = ["epoch", *self.keys]
        old = self._read_header() if self.append else None
        if old is not None and old != header:
            raise ValueError(
                f"CSVLogger: {self.filename!r} has the columns {old}, but this fit records "
                f"{header}; use another file or append=False"
            )
        if old is None:
            self._write(header, "w")

    def on_epoch_end(self, epoch: int, history: History, model: Module) -> bool:
        series = history.as_dict()
        self._write([epoch, *(repr(float(series[k][-1])) for k in self.keys)], "a")
        return False

    def __repr__(self) -> str:
        return f"CSVLogger({self.filename!r}, separator={self.separator!r}, append={self.append})"
