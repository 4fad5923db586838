"""Learning-rate schedules (chapter 6), as ``torch.optim.lr_scheduler``: call ``step()`` once
per epoch and the schedule sets the optimiser's ``lr``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._checks import (
    describe,
    integer,
    non_negative,
    positive_int,
    real,
)
from .optimizer import Optimizer


class LRScheduler:
    """Base class of the learning-rate schedules: call :meth:`step` once per epoch.

    A schedule remembers the optimiser's learning rate at construction as ``base_lr`` and
    sets ``optimizer.lr`` from a closed form in the epoch count ``last_epoch`` (0 at
    construction, +1 per :meth:`step`), as PyTorch's schedulers do for a single schedule.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} expected a bplib.optim optimiser, "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        """The learning rate this schedule gives after ``epoch`` calls of :meth:`~bplib.optim.LRScheduler.step`."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement lr_at(epoch); use StepLR or "
            "CosineAnnealingLR, or subclass LRScheduler and write the schedule there"
        )

    def _epoch(self, epoch: object) -> int:
        """``epoch`` if it is an integer >= 0 (``lr_at``'s argument), else a clear error."""
        return integer(epoch, "epoch", f"{type(self).__name__}.lr_at", low=0)

    def step(self) -> None:
        """Advance one epoch and set the optimiser's learning rate.

        The new rate is computed and checked first: a schedule that overflows (``gamma > 1``
        for many epochs) raises and leaves ``last_epoch`` and the rate as they were.
        """
        epoch = self.last_epoch + 1
        try:
            lr = self.lr_at(epoch)
        except OverflowError:
            lr = math.inf
        self.optimizer.lr = real(
            lr, f"the learning rate at epoch {epoch}", type(self).__name__, low=0.0
        )
        self.last_epoch = epoch

    def get_last_lr(self) -> float:
        """The learning rate set by the last :meth:`~bplib.optim.LRScheduler.step` (PyTorch returns a list per group)."""
        return self.optimizer.lr

    def _hyperparameters(self) -> dict[str, Any]:
        """The schedule's own settings, saved by :meth:`state_dict` (as PyTorch saves them)."""
        return {}

    def _check_hyperparameters(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` checked as the constructor checks them (overridden by each schedule)."""
        return values

    def state_dict(self) -> dict[str, Any]:
        """``{"base_lr": ..., "last_epoch": ..., <the schedule's settings>}``: where the
        schedule is and what it is, to resume training."""
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch, **self._hyperparameters()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (scalars may be 0-d arrays, as :func:`bplib.load` gives).

        Everything is checked before anything changes: ``last_epoch`` an integer >= 0,
        ``base_lr`` a finite number >= 0, the schedule's settings (``step_size``,
        ``gamma``, ...) with the constructor's checks and belonging to this kind of
        schedule, and the learning rate they give at ``last_epoch`` finite. A state saved
        without the settings (bplib 0.1.0) keeps this schedule's own.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        mine = self._hyperparameters()
        if not isinstance(state_dict, Mapping) or not (
            {"base_lr", "last_epoch"} <= set(state_dict) <= {"base_lr", "last_epoch", *mine}
        ):
            given = sorted(map(str, state_dict)) if isinstance(state_dict, Mapping) else None
            if given is not None and set(given) - {"base_lr", "last_epoch", *mine}:
                raise ValueError(
                    f"{where}: the state was saved from another schedule: it holds {given}, "
                    f"a {name} saves {sorted(['base_lr', 'last_epoch', *mine])}"
                )
            raise ValueError(
                f"{where} expected keys 'base_lr' and 'last_epoch', got "
                f"{given if given is not None else describe(state_dict)}"
            )
        values = {k: _plain(v) for k, v in state_dict.items()}
        base_lr = non_negative(values["base_lr"], "base_lr", where)
        last_epoch = integer(values["last_epoch"], "last_epoch", where, low=0)
        settings = {k: values[k] for k in mine if k in values}
        if settings and set(settings) != set(mine):
            raise ValueError(
                f"{where}: the state holds only {sorted(settings)} of {name}'s settings "
                f"{sorted(mine)}"
            )
        settings = self._check_hyperparameters({**mine, **settings})
        saved = {k: getattr(self, k) for k in ("base_lr", "last_epoch", *mine)}
        self.base_lr, self.last_epoch = base_lr, last_epoch
        for k, v in settings.items():
            setattr(self, k, v)
        try:
            lr = self.lr_at(last_epoch)
        except OverflowError:
            lr = math.inf
        if not math.isfinite(lr):
            for k, v in saved.items():
                setattr(self, k, v)
            raise ValueError(f"{where}: the state gives a learning rate of {lr} at its epoch")


def _plain(value: object) -> object:
    """A 0-d array (as :func:`bplib.load` gives) as its Python number; anything else as is."""
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "biuf":
        return value.item()
    return value


class StepLR(LRScheduler):
    r"""Step decay: multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \eta_e = \eta_0\, \gamma^{\lfloor e / \text{step\_size} \rfloor}
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = positive_int(step_size, "step_size", "StepLR")
        self.gamma = non_negative(gamma, "gamma", "StepLR")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (self._epoch(epoch) // self.step_size)

    def _hyperparameters(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma}

    def _check_hyperparameters(self, values: dict[str, Any]) -> dict[str, Any]:
        where = "StepLR.load_state_dict"
        return {
            "step_size": positive_int(values["step_size"], "step_size", where),
            "gamma": non_negative(values["gamma"], "gamma", where),
        }

    def __repr__(self) -> str:
        return (
            f"StepLR(step_size={self.step_size}, gamma={self.gamma}, last_epoch={self.last_epoch})"
        )


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing (Loshchilov & Hutter, 2017) from the initial rate down to ``eta_min``.

    .. math::

        \eta_e = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi e}{T_{\max}}\right)

    It reaches :math:`\eta_{\min}` at :math:`e = T_{\max}`; past it the cosine rises again,
    as in PyTorch (no restart is implied: choose ``T_max`` = the number of epochs).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max = positive_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = non_negative(eta_min, "eta_min", "CosineAnnealingLR")

    def lr_at(self, epoch: int) -> float:
        cosine = 1 + math.cos(math.pi * self._epoch(epoch) / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2

    def _hyperparameters(self) -> dict[str, Any]:
        return {"T_max": self.T_max, "eta_min": self.eta_min}

    def _check_hyperparameters(self, values: dict[str, Any]) -> dict[str, Any]:
        where = "CosineAnnealingLR.load_state_dict"
        return {
            "T_max": positive_int(values["T_max"], "T_max", where),
            "eta_min": non_negative(values["eta_min"], "eta_min", where),
        }

    def __repr__(self) -> str:
        return (
            f"CosineAnnealingLR(T_max={self.T_max}, eta_min={self.eta_min}, "
            f"last_epoch={self.last_epoch})"
        )
