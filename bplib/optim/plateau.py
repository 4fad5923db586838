r"""``ReduceLROnPlateau``: the learning-rate schedule that follows a monitored value.

The other schedules (:mod:`bplib.optim.lr_scheduler`) give the rate as a function of the
epoch; this one divides it when the validation loss (or any monitored value) stops
improving, the usual partner of early stopping. It is ``torch.optim.lr_scheduler``'s
class of the same name, importable from there too: ``bplib.optim.lr_scheduler.ReduceLROnPlateau``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .._checks import describe, integer, non_negative, plain_number, real
from .lr_scheduler import LRScheduler
from .optimizer import Optimizer

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    r"""Divide the rate when a monitored value (the validation loss) stops improving.

    Measured beside early stopping in chapter 7.

    Call ``scheduler.step(value)`` once per epoch. A value is an improvement on the best
    so far, :math:`b`, if it is below :math:`b(1 - \text{threshold})` (``mode="min"``,
    ``threshold_mode="rel"``), below :math:`b - \text{threshold}` (``"abs"``), or above
    :math:`b(1 + \text{threshold})` / :math:`b + \text{threshold}` in ``mode="max"``. After
    more than ``patience`` epochs in a row without one, the rate becomes
    :math:`\max(\eta\cdot\text{factor}, \text{min\_lr})` (a change smaller than ``eps`` is
    skipped), and the next ``cooldown`` epochs do not count. PyTorch's rules, in its order.

    Its :meth:`state_dict` holds the counters (``best``, ``num_bad_epochs``,
    ``cooldown_counter``, ``last_epoch``) and the numeric settings; ``mode`` and
    ``threshold_mode`` are words, which a file does not hold: load the state into a
    schedule made with the same ones.
    """

    follows_a_value = True
    """Stepped with a value, not once per epoch, so :class:`~bplib.optim.SequentialLR` refuses
    it, as PyTorch does."""

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(optimizer)
        where = "ReduceLROnPlateau"
        for name, value, allowed in (
            ("mode", mode, ("min", "max")),
            ("threshold_mode", threshold_mode, ("rel", "abs")),
        ):
            if value not in allowed:
                raise ValueError(
                    f"{where}: {name} must be {allowed[0]!r} or {allowed[1]!r}, got {describe(value)}"
                )
        self.mode, self.threshold_mode = mode, threshold_mode
        settings = self._check_hyperparameters(
            {
                "factor": factor,
                "patience": patience,
                "threshold": threshold,
                "cooldown": cooldown,
                "min_lr": min_lr,
                "eps": eps,
            },
            where,
        )
        self.factor: float = settings["factor"]
        self.patience: int = settings["patience"]
        self.threshold: float = settings["threshold"]
        self.cooldown: int = settings["cooldown"]
        self.min_lr: float = settings["min_lr"]
        self.eps: float = settings["eps"]
        self.base_lr = optimizer.lr
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _check_hyperparameters(
        self, values: dict[str, Any], where: str = "ReduceLROnPlateau.load_state_dict"
    ) -> dict[str, Any]:
        return {
            "factor": real(values["factor"], "factor", where, low=0.0, high=1.0, high_open=True),
            "patience": integer(values["patience"], "patience", where, low=0),
            "threshold": non_negative(values["threshold"], "threshold", where),
            "cooldown": integer(values["cooldown"], "cooldown", where, low=0),
            "min_lr": non_negative(values["min_lr"], "min_lr", where),
            "eps": non_negative(values["eps"], "eps", where),
        }

    def _hyperparameters(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in ("factor", "patience", "threshold", "cooldown", "min_lr", "eps")
        }

    def _is_better(self, value: float) -> bool:
        best, t = self.best, self.threshold
        if self.mode == "min":
            return value < (best * (1.0 - t) if self.threshold_mode == "rel" else best - t)
        return value > (best * (t + 1.0) if self.threshold_mode == "rel" else best + t)

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError(
            "ReduceLROnPlateau has no rate as a function of the epoch: it follows the "
            "monitored value given to step(value)"
        )

    def step(self, metrics: object = None) -> None:
        """Take this epoch's monitored value (a finite number, e.g. the validation loss)."""
        where = "ReduceLROnPlateau.step"
        if metrics is None:
            raise TypeError(
                f"{where} needs the value it watches, e.g. scheduler.step(val_loss), once "
                "per epoch; got no value"
            )
        value = real(plain_number(metrics), "metrics (the monitored value)", where)
        self.last_epoch += 1
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            old = self.optimizer.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def state_dict(self) -> dict[str, Any]:
        """The counters and the numeric settings (see the class docstring)."""
        return {
            "base_lr": self.base_lr,
            "last_epoch": self.last_epoch,
            "best": self.best,
            "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter,
            **self._hyperparameters(),
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; everything is checked before anything changes."""
        where = "ReduceLROnPlateau.load_state_dict"
        keys = set(self.state_dict())
        if not isinstance(state_dict, Mapping) or set(state_dict) != keys:
            given = sorted(map(str, state_dict)) if isinstance(state_dict, Mapping) else None
            raise ValueError(
                f"{where} expected keys {sorted(keys)}, got "
                f"{given if given is not None else describe(state_dict)}"
            )
        values = {k: plain_number(v) for k, v in state_dict.items()}
        settings = self._check_hyperparameters(values)
        best = values["best"]
        if isinstance(best, bool) or not isinstance(best, int | float) or math.isnan(best):
            raise ValueError(f"{where}: best must be a number (or ±inf), got {describe(best)}")
        counters = {
            "base_lr": non_negative(values["base_lr"], "base_lr", where),
            "last_epoch": integer(values["last_epoch"], "last_epoch", where, low=0),
            "best": float(best),
            "num_bad_epochs": integer(values["num_bad_epochs"], "num_bad_epochs", where, low=0),
            "cooldown_counter": integer(
                values["cooldown_counter"], "cooldown_counter", where, low=0
            ),
        }
        for k, v in {**settings, **counters}.items():
            setattr(self, k, v)

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, "
            f"patience={self.patience}, best={self.best}, lr={self.optimizer.lr})"
        )
