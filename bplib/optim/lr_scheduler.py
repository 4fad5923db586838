"""Learning-rate schedules (chapter 6), as ``torch.optim.lr_scheduler``: call ``step()`` once
per epoch and the schedule sets the optimiser's ``lr``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._checks import (
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

    def state_dict(self) -> dict[str, Any]:
        """``{"base_lr": ..., "last_epoch": ...}``: where the schedule is, to resume training."""
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (scalars may be 0-d arrays, as :func:`bplib.load` gives)."""
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"base_lr", "last_epoch"}:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict expected keys 'base_lr' and "
                f"'last_epoch', got {state_dict!r:.80}"
            )
        base_lr = non_negative(float(np.asarray(state_dict["base_lr"])), "base_lr", "load")
        self.base_lr, self.last_epoch = base_lr, int(np.asarray(state_dict["last_epoch"]))


class StepLR(LRScheduler):
    r"""Step decay: multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \eta_e = \eta_0\, \gamma^{\lfloor e / \text{step\_size} \rfloor}
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = positive_int(step_size, "step_size", "StepLR")
        self.gamma = non_negative(gamma, "gamma", "StepLR")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)

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
        cosine = 1 + math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2

    def __repr__(self) -> str:
        return (
            f"CosineAnnealingLR(T_max={self.T_max}, eta_min={self.eta_min}, "
            f"last_epoch={self.last_epoch})"
        )
