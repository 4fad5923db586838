"""The probe's rows for bplib.optim: the optimisers and the schedulers.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import bplib
from bplib import optim

from .common import (
    BPLIB_ERRORS,
    SAME_VALUES,
    ArrayArg,
    Case,
    NaN,
    P,
    ScalarArg,
    Spec,
    _declared_step,
    _grad_spec,
    _optimizer_rows,
    bad,
    is_int,
    is_real,
    net,
    ok,
    refused_step_changes_nothing,
    same,
)


def _huge_grad(ps: list[Any]) -> None:
    for p in ps:
        p.grad[...] = 1e300


def rmsprop_centered_constant_gradient() -> object:
    p = bplib.Parameter(np.zeros(2), "w")
    opt = optim.RMSprop([p], lr=1e-3, alpha=0.5, centered=True)
    for _ in range(200):
        p.grad[...] = [0.3, -0.7]
        opt.step()
    return p.data


def steplr_overflow() -> object:
    opt = optim.SGD([bplib.Parameter(np.ones(1))], lr=1.0)
    sched = optim.StepLR(opt, step_size=1, gamma=1e10)
    for _ in range(40):
        try:
            sched.step()
        except BPLIB_ERRORS:
            assert opt.lr == 1e10**sched.last_epoch  # the refused epoch was not counted
            raise
    raise AssertionError("the schedule never overflowed")


def scheduler_step(sched_cls: type, **kwargs: Any) -> Callable[[], object]:
    def run() -> object:
        opt = optim.SGD([bplib.Parameter(np.ones(1))], lr=1.0)
        s = sched_cls(opt, **kwargs)
        s.step()
        return opt.lr

    return run


def _sgd_overflow() -> object:
    p = P(np.ones(3))
    p.grad[...] = 1e300
    opt = optim.SGD([p], lr=1e10)
    try:
        opt.step()
    finally:
        np.testing.assert_array_equal(p.data, 1.0)
    return p.data


def _base_step() -> object:
    p = P(np.ones(2))
    opt = optim.Optimizer([p], lr=0.1)
    try:
        opt.step()
    finally:
        assert opt.state == {} and (p.data == 1.0).all()
    return None


def _warm_then_step() -> float:
    opt = optim.SGD([bplib.Parameter(np.ones(1))], lr=1.0)
    s = optim.SequentialLR(
        opt, [optim.LinearLR(opt, 0.5, total_iters=2), optim.StepLR(opt, 1)], [2]
    )
    for _ in range(3):
        s.step()
    return opt.lr


def _plateau(*values: Any, **kwargs: Any) -> Callable[[], object]:
    def run() -> object:
        opt = optim.SGD([bplib.Parameter(np.ones(1))], lr=1.0)
        s = optim.ReduceLROnPlateau(opt, patience=0, **kwargs)
        for v in values:
            s.step(v)
        return opt.lr

    return run


def _deferred_block() -> bool:
    import signal

    before = signal.getsignal(signal.SIGINT)
    with bplib.optim.deferred_interrupts():
        pass
    return signal.getsignal(signal.SIGINT) is before


# ----------------------------------------------- schedulers, constructors, saving, plots
def _lrs(make: Callable[..., Any], **kw: Any) -> Any:
    opt = optim.SGD([P(np.ones(2))], lr=1.0)
    sched = make(opt, **kw)
    lrs = []
    for _ in range(4):
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs


# ------------------------------------------ resuming, planes, paths and the symbolic layer
def _adam_setup() -> Any:
    p = P(np.linspace(-1.0, 1.0, 6).reshape(2, 3), "w")
    p.grad[...] = 0.5
    saved = optim.Adam([p], lr=0.1)
    saved.step()
    fresh = P(np.linspace(-1.0, 1.0, 6).reshape(2, 3), "w")
    fresh.grad[...] = 0.5
    return fresh, optim.Adam([fresh], lr=0.1), saved.state_dict()


def _adam_resume(obj: Any, exp_avg: Any) -> Any:
    p, opt, state = obj
    state["state"][0]["exp_avg"] = exp_avg
    opt.load_state_dict(state)
    opt.step()
    return p.data


ROWS: dict[str, list[Case]] = {
    # ------------------------------------------------------------------------------ optim
    **{  # every optimiser of the registry, so a new one cannot be left out
        f"bplib.optim.{name}": _optimizer_rows(cls, {})
        for name, cls in optim.OPTIMIZERS.items()
        if name != "SGD"
    },
    "bplib.optim.SGD": [
        *_optimizer_rows(optim.SGD, {"lr": 0.1}),
        bad(
            "lr=1e10 with a 1e300 gradient overflows: refused, nothing written",
            _sgd_overflow,
            FloatingPointError,
            r"would become NaN or infinite although its gradient is finite",
        ),
        bad(
            "a huge momentum buffer: all or nothing",
            refused_step_changes_nothing(
                lambda ps: optim.SGD(ps, lr=10000000000.0, momentum=0.9), _huge_grad
            ),
            FloatingPointError,
            r"would become NaN or infinite",
        ),
        bad(
            "nesterov without momentum",
            lambda: optim.SGD([P(np.ones(2))], lr=0.1, nesterov=True),
            ValueError,
            r"Nesterov momentum needs momentum > 0 and dampening = 0, got momentum=0.0",
        ),
        bad(
            "momentum=-0.5",
            lambda: optim.SGD([P(np.ones(2))], lr=0.1, momentum=-0.5),
            ValueError,
            r"momentum must be a finite number >= 0, got -0.5",
        ),
    ],
    "bplib.optim.Optimizer": [
        bad(
            "the base class cannot step",
            lambda: _base_step(),
            NotImplementedError,
            r"Optimizer has no update rule",
        ),
    ],
    "bplib.optim.LRScheduler": [
        bad(
            "the base class has no schedule",
            lambda: optim.LRScheduler(optim.SGD([P(np.ones(1))], lr=1.0)).step(),
            NotImplementedError,
            r"LRScheduler does not implement lr_at\(epoch\)",
        ),
        bad(
            "not an optimiser",
            lambda: optim.LRScheduler("sgd"),
            TypeError,
            r"expected a bplib.optim optimiser, got str",
        ),  # type: ignore[arg-type]
    ],
    "bplib.optim.StepLR": [
        bad(
            "lr_at(1.5)",
            lambda: optim.StepLR(optim.SGD(net().parameters()), 2).lr_at(1.5),
            ValueError,
            r"StepLR.lr_at: epoch must be a non-negative integer, got 1.5",
        ),
        ok("step_size=np.int64(2)", scheduler_step(optim.StepLR, step_size=np.int64(2)), same(1.0)),
        bad(
            "step_size=0",
            scheduler_step(optim.StepLR, step_size=0),
            ValueError,
            r"StepLR: step_size must be a positive integer, got 0",
        ),
        bad(
            "step_size=2.0",
            scheduler_step(optim.StepLR, step_size=2.0),
            ValueError,
            r"step_size must be a positive integer, got 2.0",
        ),
        bad(
            "gamma=NaN",
            scheduler_step(optim.StepLR, step_size=1, gamma=NaN),
            ValueError,
            r"gamma must be a finite number >= 0, got nan",
        ),
        bad(
            "overflow: refused before last_epoch advances",
            steplr_overflow,
            ValueError,
            r"StepLR: the learning rate at epoch \d+ must be a finite number >= 0, got inf",
        ),
    ],
    "bplib.optim.CosineAnnealingLR": [
        bad(
            "lr_at('3')",
            lambda: optim.CosineAnnealingLR(optim.SGD(net().parameters()), 4).lr_at("3"),
            ValueError,
            r"CosineAnnealingLR.lr_at: epoch must be a non-negative integer",
        ),
        ok(
            "T_max=np.int64(4)",
            scheduler_step(optim.CosineAnnealingLR, T_max=np.int64(4)),
            lambda v: abs(v - (1 + np.cos(np.pi / 4)) / 2) < 1e-15,
        ),
        bad(
            "T_max=0",
            scheduler_step(optim.CosineAnnealingLR, T_max=0),
            ValueError,
            r"CosineAnnealingLR: T_max must be a positive integer, got 0",
        ),
        bad(
            "eta_min=-1",
            scheduler_step(optim.CosineAnnealingLR, T_max=3, eta_min=-1.0),
            ValueError,
            r"eta_min must be a finite number >= 0, got -1.0",
        ),
    ],
    "bplib.optim.LinearLR": [
        ok(
            "start_factor=0.5 over 2",
            scheduler_step(optim.LinearLR, start_factor=0.5, total_iters=2),
            same(0.75),
        ),
        bad(
            "start_factor=0",
            scheduler_step(optim.LinearLR, start_factor=0),
            ValueError,
            r"LinearLR: start_factor must lie in \(0, 1\], got 0",
        ),
        bad(
            "total_iters=2.0",
            scheduler_step(optim.LinearLR, total_iters=2.0),
            ValueError,
            r"total_iters must be a positive integer, got 2.0",
        ),
    ],
    "bplib.optim.LambdaLR": [
        ok(
            "lambda e: 0.5 ** e",
            scheduler_step(optim.LambdaLR, lr_lambda=lambda e: 0.5**e),
            same(0.5),
        ),
        bad(
            "lr_lambda a number",
            scheduler_step(optim.LambdaLR, lr_lambda=0.5),
            TypeError,
            r"lr_lambda must be a function of the epoch",
        ),
        bad(
            "lr_lambda gives NaN",
            scheduler_step(optim.LambdaLR, lr_lambda=lambda e: NaN),
            ValueError,
            r"lr_lambda\(0\) must be a finite number >= 0, got nan",
        ),
    ],
    "bplib.optim.OneCycleLR": [
        ok(
            "linear, one step",
            scheduler_step(optim.OneCycleLR, max_lr=1.0, total_steps=10, anneal_strategy="linear"),
            same(0.04 + (1.0 - 0.04) / 2),
        ),
        bad(
            "no length",
            scheduler_step(optim.OneCycleLR, max_lr=1.0),
            ValueError,
            r"give total_steps, or epochs and steps_per_epoch",
        ),
        bad(
            "cycle_momentum=True",
            scheduler_step(optim.OneCycleLR, max_lr=1.0, total_steps=10, cycle_momentum=True),
            ValueError,
            r"cycle_momentum must be False",
        ),
        bad(
            "pct_start=NaN",
            scheduler_step(optim.OneCycleLR, max_lr=1.0, total_steps=10, pct_start=NaN),
            ValueError,
            r"pct_start must lie in \[0, 1\], got nan",
        ),
    ],
    "bplib.optim.SequentialLR": [
        ok("warm-up, then StepLR", _warm_then_step, same(0.1)),
        bad(
            "milestones a number",
            lambda: optim.SequentialLR(optim.SGD(net().parameters()), [], 3),
            ValueError,
            r"schedulers must be a non-empty list",
        ),
        bad(
            "a model as a schedule",
            lambda: optim.SequentialLR(optim.SGD(net().parameters()), [net()], []),
            TypeError,
            r"schedulers\[0\] must be a bplib.optim schedule .*got Sequential",
        ),
    ],
    "bplib.optim.ReduceLROnPlateau": [
        ok("a worse value halves the rate", _plateau(1.0, 2.0, factor=0.5), same(0.5)),
        ok("a 0-d array as the value", _plateau(np.array(1.0), np.array(2.0)), same(0.1)),
        bad(
            "step(NaN)",
            _plateau(NaN),
            ValueError,
            r"metrics \(the monitored value\) must be a finite number, got nan",
        ),
        bad(
            "step('1.0')",
            _plateau("1.0"),
            TypeError,
            r"metrics \(the monitored value\) must be a real number, got str '1.0'",
        ),
        bad(
            "mode='minimise'",
            _plateau(mode="minimise"),
            ValueError,
            r"mode must be 'min' or 'max', got str 'minimise'",
        ),
    ],
    "bplib.optim.deferred_interrupts": [
        ok(
            "a block that puts the handler back",
            _deferred_block,
            lambda v: v,
        ),
    ],
}

ROWS["bplib.optim.SGD"].append(
    ok(
        "centered RMSprop with alpha=0.5 stays finite under a constant gradient",
        rmsprop_centered_constant_gradient,
        lambda v: np.isfinite(v).all(),
    )
)

SPECS: list[Spec] = [
    *(_declared_step(cls) for cls in optim.OPTIMIZERS.values()),
    *(_grad_spec(cls, lr=0.1) for cls in optim.OPTIMIZERS.values()),
    Spec(
        "bplib.optim.StepLR",
        "StepLR",
        lambda _, **kw: _lrs(optim.StepLR, **kw),
        [ScalarArg("step_size", 2, is_int(1)), ScalarArg("gamma", 0.5, is_real(0.0))],
    ),
    Spec(
        "bplib.optim.CosineAnnealingLR",
        "CosineAnnealingLR",
        lambda _, **kw: _lrs(optim.CosineAnnealingLR, **kw),
        [ScalarArg("T_max", 3, is_int(1)), ScalarArg("eta_min", 0.1, is_real(0.0))],
    ),
    Spec(
        "bplib.optim.Adam",
        "Adam.load_state_dict",
        _adam_resume,
        [
            ArrayArg(
                "exp_avg",
                lambda: np.full((2, 3), 0.05),
                r"exp_avg",
                valid=SAME_VALUES,
                fixed_axes=(0, 1),
            )
        ],
        setup=_adam_setup,
        state=lambda obj: [obj[0].data, {k: dict(v) for k, v in obj[1].state.items()}],
    ),
]
