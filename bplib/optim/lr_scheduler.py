r"""Learning-rate schedules (chapter 6), as ``torch.optim.lr_scheduler``: call ``step()`` once
per epoch and the schedule sets the optimiser's ``lr``.

Closed forms in the epoch: :class:`StepLR`, :class:`CosineAnnealingLR`, :class:`LinearLR`
(warm-up), :class:`LambdaLR` (any factor) and :class:`OneCycleLR`; :class:`SequentialLR`
runs several one after another (warm-up, then cosine). :class:`ReduceLROnPlateau` follows
a monitored value instead: ``scheduler.step(val_loss)``, the usual partner of early
stopping. Each gives the learning rates of its PyTorch namesake (the tests compare them).
"""

from __future__ import annotations

import bisect
import itertools
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._checks import (
    describe,
    integer,
    non_negative,
    plain_number,
    positive_int,
    real,
)
from .optimizer import Optimizer

# PyTorch remembers an optimiser's learning rate from before its first schedule
# (param_group["initial_lr"]), so a schedule that changes the rate when it is made (LinearLR
# starts at start_factor * lr) does not become the base of the next one (warm-up, then
# cosine from lr). Here: optimiser -> (rate before, rate the schedule set), used while the
# optimiser's rate is still the one that schedule set.
_INITIAL_LR: weakref.WeakKeyDictionary[Optimizer, tuple[float, float]] = weakref.WeakKeyDictionary()


class LRScheduler:
    """Base class of the learning-rate schedules: call :meth:`step` once per epoch.

    A schedule remembers the optimiser's learning rate at construction as ``base_lr`` and
    sets ``optimizer.lr`` from a closed form in the epoch count ``last_epoch`` (0 at
    construction, +1 per :meth:`step`), as PyTorch's schedulers do for a single schedule.
    If another schedule set the rate when it was made (``LinearLR`` starts below it) and
    the rate is still that, ``base_lr`` is the rate from before (PyTorch's ``initial_lr``).
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} expected a bplib.optim optimiser, "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        before, set_by_a_schedule = _INITIAL_LR.get(optimizer, (optimizer.lr, optimizer.lr))
        self.base_lr = before if optimizer.lr == set_by_a_schedule else optimizer.lr
        self.last_epoch = 0

    def _begin(self) -> None:
        """Set the optimiser's rate to ``lr_at(0)``, as PyTorch's schedules do when made.

        Called last by the constructor of a schedule whose epoch-0 rate is not ``base_lr``
        (after every argument is checked, so a refused schedule changes nothing).
        """
        lr = real(self.lr_at(0), "the learning rate at epoch 0", type(self).__name__, low=0.0)
        _INITIAL_LR[self.optimizer] = (self.base_lr, lr)
        self.optimizer.lr = lr

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
        values = {k: plain_number(v) for k, v in state_dict.items()}
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
        except Exception:  # e.g. OneCycleLR past its total_steps: put everything back
            for k, v in saved.items():
                setattr(self, k, v)
            raise
        if not math.isfinite(lr):
            for k, v in saved.items():
                setattr(self, k, v)
            raise ValueError(f"{where}: the state gives a learning rate of {lr} at its epoch")


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


def _factor(value: object, name: str, where: str, *, low_open: bool = False) -> float:
    """A multiplicative factor in [0, 1] ((0, 1] with ``low_open``), as LinearLR takes."""
    return real(value, name, where, low=0.0, high=1.0, low_open=low_open)


class LinearLR(LRScheduler):
    r"""Linear warm-up (or decay): the factor on the rate moves in a straight line from
    ``start_factor`` to ``end_factor`` over ``total_iters`` epochs, then stays.

    .. math::

        \eta_e = \eta_0 \left(f_s + (f_e - f_s)\,\frac{\min(e, T)}{T}\right)

    with :math:`f_s` = ``start_factor`` (in (0, 1]), :math:`f_e` = ``end_factor`` (in
    [0, 1]) and :math:`T` = ``total_iters``. Made, it sets the rate to :math:`\eta_0 f_s`
    (so the first epoch runs with it), as PyTorch does. PyTorch computes the line as a
    product of one factor per epoch; :meth:`lr_at` takes the same product in the same
    order, so the two give the same floating-point numbers.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        super().__init__(optimizer)
        self.start_factor = _factor(start_factor, "start_factor", "LinearLR", low_open=True)
        self.end_factor = _factor(end_factor, "end_factor", "LinearLR")
        self.total_iters = positive_int(total_iters, "total_iters", "LinearLR")
        self._begin()

    def lr_at(self, epoch: int) -> float:
        e = min(self._epoch(epoch), self.total_iters)
        start, end, total = self.start_factor, self.end_factor, self.total_iters
        lr = self.base_lr * start
        for t in range(1, e + 1):  # PyTorch's chainable form: this epoch's rate from the last
            lr = lr * (1.0 + (end - start) / (total * start + (t - 1) * (end - start)))
        return lr

    def _hyperparameters(self) -> dict[str, Any]:
        return {
            "start_factor": self.start_factor,
            "end_factor": self.end_factor,
            "total_iters": self.total_iters,
        }

    def _check_hyperparameters(self, values: dict[str, Any]) -> dict[str, Any]:
        where = "LinearLR.load_state_dict"
        return {
            "start_factor": _factor(values["start_factor"], "start_factor", where, low_open=True),
            "end_factor": _factor(values["end_factor"], "end_factor", where),
            "total_iters": positive_int(values["total_iters"], "total_iters", where),
        }

    def __repr__(self) -> str:
        return (
            f"LinearLR(start_factor={self.start_factor}, end_factor={self.end_factor}, "
            f"total_iters={self.total_iters}, last_epoch={self.last_epoch})"
        )


class LambdaLR(LRScheduler):
    r"""Any schedule: the rate is the initial rate times ``lr_lambda(epoch)``.

    .. math:: \eta_e = \eta_0 \cdot \text{lr\_lambda}(e)

    ``lr_lambda`` takes the epoch count (an int >= 0) and returns a number >= 0; it is
    called at once for epoch 0, and the rate is set to :math:`\eta_0\,
    \text{lr\_lambda}(0)`, as PyTorch does. ``state_dict()`` holds the epoch and
    ``base_lr`` but not the function (a file holds numbers): load the state into a
    ``LambdaLR`` made with the same function.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        super().__init__(optimizer)
        if not callable(lr_lambda) or isinstance(lr_lambda, list | tuple):
            raise TypeError(
                f"LambdaLR: lr_lambda must be a function of the epoch (one optimiser has one "
                f"learning rate, so one function), got {describe(lr_lambda)}"
            )
        self.lr_lambda = lr_lambda
        self._begin()

    def lr_at(self, epoch: int) -> float:
        e = self._epoch(epoch)
        factor = self.lr_lambda(e)
        return self.base_lr * real(factor, f"lr_lambda({e})", "LambdaLR", low=0.0)

    def __repr__(self) -> str:
        name = getattr(self.lr_lambda, "__name__", type(self.lr_lambda).__name__)
        return f"LambdaLR(lr_lambda={name}, last_epoch={self.last_epoch})"


class OneCycleLR(LRScheduler):
    r"""The one-cycle policy (Smith & Topin, 2019): up from ``max_lr / div_factor`` to
    ``max_lr`` over the first ``pct_start`` of the steps, then down to
    ``max_lr / (div_factor * final_div_factor)``.

    Each phase anneals from its start rate :math:`a` to its end rate :math:`b` as the
    fraction :math:`p` of the phase goes from 0 to 1, by a cosine,
    :math:`b + \tfrac12 (a - b)(1 + \cos \pi p)`, or (``anneal_strategy="linear"``) by a
    straight line, :math:`a + (b - a) p`. The first phase ends at step
    ``pct_start * total_steps - 1`` and the last at ``total_steps - 1``; with
    ``three_phase=True`` the rate comes back down to its start over a second phase as
    long as the first, and the last phase anneals from there to the minimum (PyTorch's
    phases, step for step). The schedule ignores the optimiser's rate: made, it sets the
    rate to ``max_lr / div_factor``. The rates of steps 0 to ``total_steps - 1`` are
    PyTorch's; after the last step (``total_steps``, a rate no batch uses) the rate is the
    minimum, where PyTorch extrapolates the last phase one step past its end (below zero
    with ``anneal_strategy="linear"``). Stepping further is refused.

    PyTorch steps it once per *batch*; :func:`bplib.train.fit` steps a schedule once per
    epoch, so there give ``total_steps=epochs``. PyTorch's ``cycle_momentum=True`` (its
    default) also cycles the momentum; bplib's schedules set the learning rate only, so
    ``cycle_momentum`` must be ``False`` (the learning rates are the same either way).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = False,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        super().__init__(optimizer)
        where = "OneCycleLR"
        self.max_lr = real(max_lr, "max_lr", where, low=0.0, low_open=True)
        if total_steps is not None:
            self.total_steps = positive_int(total_steps, "total_steps", where)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = positive_int(epochs, "epochs", where) * positive_int(
                steps_per_epoch, "steps_per_epoch", where
            )
        else:
            raise ValueError(
                f"{where}: give total_steps, or epochs and steps_per_epoch, got "
                f"total_steps={total_steps!r}, epochs={epochs!r}, "
                f"steps_per_epoch={steps_per_epoch!r}"
            )
        self.pct_start = real(pct_start, "pct_start", where, low=0.0, high=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"{where}: anneal_strategy must be 'cos' or 'linear', got "
                f"{describe(anneal_strategy)}"
            )
        self.anneal_strategy = anneal_strategy
        if cycle_momentum is not False:
            raise ValueError(
                f"{where}: bplib's schedules set the learning rate only, so cycle_momentum "
                f"must be False, got {describe(cycle_momentum)} (PyTorch's default True also "
                "cycles the momentum; its learning rates are the same)"
            )
        self.div_factor = real(div_factor, "div_factor", where, low=0.0, low_open=True)
        self.final_div_factor = real(
            final_div_factor, "final_div_factor", where, low=0.0, low_open=True
        )
        if not isinstance(three_phase, bool):
            raise TypeError(
                f"{where}: three_phase must be True or False, got {describe(three_phase)}"
            )
        self.three_phase = three_phase
        self._phase_ends(where)  # refuses a phase of no steps
        self.base_lr = self.max_lr / self.div_factor
        self._begin()

    def _phase_ends(self, where: str) -> list[float]:
        """The step at which each phase ends (PyTorch's ``end_step``), each after the last."""
        rise = float(self.pct_start * self.total_steps) - 1
        ends = (
            [rise, float(2 * self.pct_start * self.total_steps) - 2] if self.three_phase else [rise]
        )
        ends.append(self.total_steps - 1)
        starts = [0.0, *ends[:-1]]
        if any(end <= start for start, end in zip(starts, ends, strict=True)):
            raise ValueError(
                f"{where}: pct_start={self.pct_start} of total_steps={self.total_steps} leaves "
                f"a phase with no steps (phases end at steps {ends}); every phase needs "
                "pct_start * total_steps > 1 and room after it"
            )
        return ends

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def lr_at(self, epoch: int) -> float:
        step = self._epoch(epoch)
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: step {step} is past the schedule's total_steps="
                f"{self.total_steps}; make it with more steps"
            )
        initial = self.max_lr / self.div_factor
        low = initial / self.final_div_factor
        if step == self.total_steps:  # after the last step: the minimum (see the docstring)
            return low
        rates = (
            [initial, self.max_lr, initial, low]
            if self.three_phase
            else [initial, self.max_lr, low]
        )
        ends = self._phase_ends("OneCycleLR")
        start_step = 0.0
        for i, end_step in enumerate(ends):
            if step <= end_step or i == len(ends) - 1:
                pct = (step - start_step) / (end_step - start_step)
                return self._anneal(rates[i], rates[i + 1], pct)
            start_step = end_step
        raise AssertionError("unreachable: the last phase always answers")

    def _hyperparameters(self) -> dict[str, Any]:
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "three_phase": self.three_phase,
        }

    def _check_hyperparameters(self, values: dict[str, Any]) -> dict[str, Any]:
        where = "OneCycleLR.load_state_dict"
        three = values["three_phase"]
        if isinstance(three, np.bool_):
            three = bool(three)
        if not isinstance(three, bool):
            raise TypeError(f"{where}: three_phase must be True or False, got {describe(three)}")
        return {
            "max_lr": real(values["max_lr"], "max_lr", where, low=0.0, low_open=True),
            "total_steps": positive_int(values["total_steps"], "total_steps", where),
            "pct_start": real(values["pct_start"], "pct_start", where, low=0.0, high=1.0),
            "div_factor": real(values["div_factor"], "div_factor", where, low=0.0, low_open=True),
            "final_div_factor": real(
                values["final_div_factor"], "final_div_factor", where, low=0.0, low_open=True
            ),
            "three_phase": three,
        }

    def __repr__(self) -> str:
        return (
            f"OneCycleLR(max_lr={self.max_lr}, total_steps={self.total_steps}, "
            f"pct_start={self.pct_start}, anneal_strategy={self.anneal_strategy!r}, "
            f"three_phase={self.three_phase}, last_epoch={self.last_epoch})"
        )


class SequentialLR(LRScheduler):
    r"""Several schedules one after another: ``schedulers[i]`` runs from epoch
    ``milestones[i - 1]`` (0 for the first) and counts its epochs from 0 there.

    The usual warm-up::

        warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        cosine = CosineAnnealingLR(opt, T_max=95)
        scheduler = SequentialLR(opt, [warmup, cosine], milestones=[5])

    Every schedule must belong to ``optimizer`` and start from its rate before the first
    of them (PyTorch's ``initial_lr``); :class:`ReduceLROnPlateau` is refused (it needs a
    monitored value), as in PyTorch. Call only this schedule's :meth:`step`. Its
    :meth:`state_dict` holds the milestones and each schedule's state under
    ``"schedulers"``.
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int]
    ) -> None:
        super().__init__(optimizer)
        where = "SequentialLR"
        if not isinstance(schedulers, list | tuple) or not schedulers:
            raise ValueError(
                f"{where}: schedulers must be a non-empty list of schedules, got "
                f"{describe(schedulers)}"
            )
        for i, s in enumerate(schedulers):
            # a schedule with a rate per epoch: not ReduceLROnPlateau, which has none
            if (
                not isinstance(s, LRScheduler)
                or isinstance(s, SequentialLR)
                or getattr(type(s), "follows_a_value", False)
            ):
                raise TypeError(
                    f"{where}: schedulers[{i}] must be a bplib.optim schedule other than "
                    f"ReduceLROnPlateau and SequentialLR, got {type(s).__name__}"
                )
            if s.optimizer is not optimizer:
                raise ValueError(
                    f"{where}: schedulers[{i}] ({type(s).__name__}) belongs to another optimiser; "
                    "every schedule must be made with the same one"
                )
        self.milestones = self._check_milestones(milestones, len(schedulers), where)
        self.schedulers = list(schedulers)
        self.base_lr = schedulers[0].base_lr
        for s in self.schedulers:
            s.last_epoch = 0
        self._begin()

    @staticmethod
    def _check_milestones(milestones: object, n: int, where: str) -> list[int]:
        values = milestones.tolist() if isinstance(milestones, np.ndarray) else milestones
        if not isinstance(values, list | tuple) or len(values) != n - 1:
            raise ValueError(
                f"{where}: milestones must be a list of {n - 1} epoch(s), one fewer than the "
                f"{n} schedule(s), got {describe(milestones)}"
            )
        checked = [integer(m, f"milestones[{i}]", where, low=1) for i, m in enumerate(values)]
        if any(a >= b for a, b in itertools.pairwise(checked)):
            raise ValueError(f"{where}: milestones must increase, got {checked}")
        return checked

    def _current(self, epoch: int) -> tuple[LRScheduler, int]:
        """The schedule that runs at ``epoch`` and its own epoch count there."""
        i = bisect.bisect_right(self.milestones, epoch)
        return self.schedulers[i], epoch - (self.milestones[i - 1] if i else 0)

    def lr_at(self, epoch: int) -> float:
        schedule, local = self._current(self._epoch(epoch))
        return schedule.lr_at(local)

    def step(self) -> None:
        """Advance one epoch: the schedule that runs now sets the rate (and counts the epoch)."""
        super().step()
        schedule, local = self._current(self.last_epoch)
        schedule.last_epoch = local

    def state_dict(self) -> dict[str, Any]:
        """``{"base_lr", "last_epoch", "milestones", "schedulers": [each one's state]}``."""
        return {
            "base_lr": self.base_lr,
            "last_epoch": self.last_epoch,
            "milestones": list(self.milestones),
            "schedulers": [s.state_dict() for s in self.schedulers],
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` into a ``SequentialLR`` of the same kinds of schedule
        (as :func:`bplib.load` gives it too: the list of states as a dict keyed 0, 1, ...).
        Everything is checked before anything changes."""
        where = "SequentialLR.load_state_dict"
        keys = {"base_lr", "last_epoch", "milestones", "schedulers"}
        if not isinstance(state_dict, Mapping) or set(state_dict) != keys:
            given = sorted(map(str, state_dict)) if isinstance(state_dict, Mapping) else None
            raise ValueError(
                f"{where} expected keys {sorted(keys)}, got "
                f"{given if given is not None else describe(state_dict)}"
            )
        states = state_dict["schedulers"]
        if isinstance(states, Mapping):  # as bplib.load gives a saved list
            states = (
                [states[k] for k in sorted(states)]
                if set(states) == set(range(len(states)))
                else None
            )
        if not isinstance(states, list | tuple) or len(states) != len(self.schedulers):
            raise ValueError(
                f"{where}: the state holds {describe(state_dict['schedulers'])} under "
                f"'schedulers', expected the states of this SequentialLR's "
                f"{len(self.schedulers)} schedules"
            )
        milestones = self._check_milestones(state_dict["milestones"], len(self.schedulers), where)
        base_lr = non_negative(plain_number(state_dict["base_lr"]), "base_lr", where)
        last_epoch = integer(plain_number(state_dict["last_epoch"]), "last_epoch", where, low=0)
        saved = [s.state_dict() for s in self.schedulers]
        mine = (self.base_lr, self.last_epoch, self.milestones)
        try:
            for s, state in zip(self.schedulers, states, strict=True):
                s.load_state_dict(state)
            self.base_lr, self.last_epoch, self.milestones = base_lr, last_epoch, milestones
            lr = self.lr_at(last_epoch)
            if not math.isfinite(lr):
                raise ValueError(f"{where}: the state gives a learning rate of {lr} at its epoch")
        except Exception:
            for s, state in zip(self.schedulers, saved, strict=True):
                s.load_state_dict(state)
            self.base_lr, self.last_epoch, self.milestones = mine
            raise

    def __repr__(self) -> str:
        inner = ", ".join(type(s).__name__ for s in self.schedulers)
        return (
            f"SequentialLR([{inner}], milestones={self.milestones}, last_epoch={self.last_epoch})"
        )


# torch.optim.lr_scheduler defines ReduceLROnPlateau too; here it has a module of its own
from .plateau import ReduceLROnPlateau  # noqa: E402  (it subclasses LRScheduler, above)

__all__ = [
    "CosineAnnealingLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
