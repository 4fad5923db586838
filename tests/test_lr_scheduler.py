"""bplib.optim's schedules beyond StepLR and cosine: PyTorch parity, state and errors.

Each schedule runs beside its torch.optim.lr_scheduler namesake on a one-parameter SGD
(the gradient is zero: only the learning rate matters) and the rates are compared epoch by
epoch. The torch tests skip, with the reason shown, where torch is not installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import bplib
from bplib import optim
from bplib.optim import (
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

from .helpers import tiny_mlp

DTYPES = [np.float32, np.float64]


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")


def sgd(lr=0.3, dtype=np.float64):
    return optim.SGD([bplib.Parameter(np.zeros(1, dtype=dtype))], lr=lr)


def ours(make, epochs, lr=0.3, dtype=np.float64, values=None):
    """The rate right after construction, then after each of ``epochs`` steps."""
    opt = sgd(lr, dtype)
    sched = make(opt)
    lrs = [opt.lr]
    for e in range(epochs):
        opt.step()
        sched.step(values[e]) if values is not None else sched.step()
        lrs.append(opt.lr)
    return lrs


def theirs(torch, make, epochs, lr=0.3, values=None):
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    p.grad = torch.zeros(1, dtype=torch.float64)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for e in range(epochs):
        opt.step()  # before sched.step(), or torch warns
        sched.step(values[e]) if values is not None else sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


# ----------------------------------------------------------------------------- PyTorch parity
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("start", "end", "total"), [(1 / 3, 1.0, 5), (0.1, 1.0, 10), (1.0, 0.2, 7), (0.5, 0.0, 4)]
)
def test_linear_lr_gives_torchs_rates_exactly(torch, dtype, start, end, total):
    got = ours(lambda o: LinearLR(o, start, end, total), 15, dtype=dtype)
    want = theirs(torch, lambda o: torch.optim.lr_scheduler.LinearLR(o, start, end, total), 15)
    assert got == want


def test_lambda_lr_gives_torchs_rates_exactly(torch):
    def f(e):
        return 0.95**e if e % 3 else 1.0 / (e + 1)

    got = ours(lambda o: LambdaLR(o, f), 20)
    assert got == theirs(torch, lambda o: torch.optim.lr_scheduler.LambdaLR(o, f), 20)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"total_steps": 20},
        {"total_steps": 20, "anneal_strategy": "linear"},
        {"epochs": 5, "steps_per_epoch": 7, "pct_start": 0.25},
        {"total_steps": 30, "three_phase": True, "div_factor": 10.0, "final_div_factor": 100.0},
        {"total_steps": 30, "three_phase": True, "anneal_strategy": "linear"},
    ],
)
def test_one_cycle_lr_gives_torchs_rates_exactly(torch, dtype, kwargs):
    steps = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    got = ours(lambda o: OneCycleLR(o, max_lr=0.8, **kwargs), steps, dtype=dtype)
    want = theirs(
        torch,
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.8, cycle_momentum=False, **kwargs
        ),
        steps,
    )
    assert got[:steps] == want[:steps]  # the rates of steps 0 .. total_steps - 1
    # after the last step no batch uses the rate: bplib's is the minimum, torch extrapolates
    assert got[steps] == 0.8 / kwargs.get("div_factor", 25.0) / kwargs.get("final_div_factor", 1e4)


def test_one_cycle_learning_rates_do_not_depend_on_torchs_momentum_cycling(torch):
    # bplib refuses cycle_momentum=True; torch's default cycles momentum, not the rates
    make = torch.optim.lr_scheduler.OneCycleLR
    with_momentum = theirs(torch, lambda o: make(o, max_lr=0.8, total_steps=20), 19)
    assert ours(lambda o: OneCycleLR(o, max_lr=0.8, total_steps=20), 19) == with_momentum


@pytest.mark.parametrize(
    ("ours_make", "torch_make", "tolerance"),
    [
        (  # warm-up, then cosine: the cosine starts from the rate before the warm-up
            lambda o: SequentialLR(
                o,
                [LinearLR(o, 0.1, total_iters=5), CosineAnnealingLR(o, T_max=15, eta_min=0.01)],
                milestones=[5],
            ),
            lambda t, o: t.optim.lr_scheduler.SequentialLR(
                o,
                [
                    t.optim.lr_scheduler.LinearLR(o, 0.1, total_iters=5),
                    t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=15, eta_min=0.01),
                ],
                milestones=[5],
            ),
            1e-12,  # torch's cosine is a recursion, bplib's its closed form
        ),
        (
            lambda o: SequentialLR(
                o,
                [LinearLR(o, 0.25, total_iters=3), StepLR(o, 4, 0.5), LinearLR(o, 1.0, 0.1, 6)],
                milestones=[3, 11],
            ),
            lambda t, o: t.optim.lr_scheduler.SequentialLR(
                o,
                [
                    t.optim.lr_scheduler.LinearLR(o, 0.25, total_iters=3),
                    t.optim.lr_scheduler.StepLR(o, 4, 0.5),
                    t.optim.lr_scheduler.LinearLR(o, 1.0, 0.1, 6),
                ],
                milestones=[3, 11],
            ),
            0.0,
        ),
    ],
)
def test_sequential_lr_gives_torchs_rates(torch, ours_make, torch_make, tolerance):
    got = ours(ours_make, 25)
    want = theirs(torch, lambda o: torch_make(torch, o), 25)
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=0)


def plateau_values():
    """A loss that improves, stalls, improves a little (less than the threshold), rises."""
    rng = np.random.default_rng(0)
    base = np.concatenate([np.linspace(1.0, 0.5, 8), np.full(12, 0.5), np.linspace(0.5, 0.49, 10)])
    return list(base + rng.normal(0, 1e-6, base.size)) + list(np.linspace(0.6, 0.9, 10))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 2, "factor": 0.5},
        {"patience": 1, "cooldown": 3, "min_lr": 0.01, "factor": 0.3},
        {"patience": 2, "threshold": 0.01, "threshold_mode": "abs"},
        {"mode": "max", "patience": 2},
        {"mode": "max", "patience": 0, "threshold_mode": "abs", "threshold": 0.0},
    ],
)
def test_reduce_lr_on_plateau_gives_torchs_rates_exactly(torch, dtype, kwargs):
    values = plateau_values()
    got = ours(lambda o: ReduceLROnPlateau(o, **kwargs), len(values), dtype=dtype, values=values)
    want = theirs(
        torch,
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs),
        len(values),
        values=values,
    )
    assert got == want
    assert len(set(got)) > 1  # the rate did change: the comparison means something


# ---------------------------------------------------------------------------- from definitions
def test_linear_warm_up_reaches_the_full_rate_after_total_iters_and_stays():
    lrs = ours(lambda o: LinearLR(o, start_factor=0.25, total_iters=3), 6, lr=0.8)
    # the factor goes 1/4, 1/2, 3/4, 1 in equal steps of (1 - 1/4) / 3
    expected = [0.8 * (0.25 + (1 - 0.25) * min(e, 3) / 3) for e in range(7)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-15)


def test_warm_up_then_cosine_starts_the_cosine_at_the_rate_before_the_warm_up():
    opt = sgd(0.5)
    warm = LinearLR(opt, 0.1, total_iters=2)
    assert opt.lr == pytest.approx(0.05)
    cosine = CosineAnnealingLR(opt, T_max=4)
    assert cosine.base_lr == 0.5  # not the warm-up's 0.05
    sched = SequentialLR(opt, [warm, cosine], milestones=[2])
    lrs = []
    for _ in range(6):
        sched.step()
        lrs.append(opt.lr)
    cosine_lrs = [0.5 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    np.testing.assert_allclose(lrs, [0.5 * (0.1 + 0.9 / 2), *cosine_lrs], rtol=1e-12, atol=1e-17)
    assert (warm.last_epoch, cosine.last_epoch) == (1, 4)  # each counts its own epochs


def test_a_scheduler_made_after_the_rate_was_set_by_hand_starts_from_that_rate():
    opt = sgd(0.5)
    LinearLR(opt, 0.1, total_iters=2)
    opt.lr = 0.2
    assert StepLR(opt, 2).base_lr == 0.2


def test_one_cycle_rises_to_max_lr_then_falls_to_its_minimum():
    lrs = ours(lambda o: OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=0.5), 9)
    assert lrs[0] == pytest.approx(1.0 / 25)
    assert max(lrs) == pytest.approx(1.0) and lrs.index(max(lrs)) == 4  # end of phase 1
    assert lrs[9] == pytest.approx(1.0 / 25 / 1e4)


def test_plateau_with_patience_two_reduces_on_the_third_bad_epoch():
    opt = sgd(1.0)
    sched = ReduceLROnPlateau(opt, patience=2, factor=0.5)
    seen = []
    for v in [1.0, 0.9, 0.9, 0.9, 0.9, 0.8]:
        sched.step(v)
        seen.append(opt.lr)
    assert seen == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]


# ------------------------------------------------------------------------------------- state
def run(sched, opt, epochs, value=1.0):
    for _ in range(epochs):
        sched.step(value) if isinstance(sched, ReduceLROnPlateau) else sched.step()
    return opt.lr


MAKERS = {
    "LinearLR": lambda o: LinearLR(o, 0.2, 0.9, 6),
    "LambdaLR": lambda o: LambdaLR(o, lambda e: 1 / (1 + e)),
    "OneCycleLR": lambda o: OneCycleLR(o, max_lr=0.9, total_steps=12, three_phase=True),
    "SequentialLR": lambda o: SequentialLR(
        o, [LinearLR(o, 0.5, total_iters=3), StepLR(o, 2, 0.5)], milestones=[3]
    ),
    "ReduceLROnPlateau": lambda o: ReduceLROnPlateau(o, patience=1, factor=0.5),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_state_dict_through_a_file_resumes_the_same_rates(tmp_path, name):
    make = MAKERS[name]
    opt_a = sgd(0.3)
    a = make(opt_a)
    run(a, opt_a, 4)
    bplib.save({"optimizer": opt_a.state_dict(), "scheduler": a.state_dict()}, tmp_path / "s.npz")
    loaded = bplib.load(tmp_path / "s.npz")
    opt_b = sgd(0.3)
    b = make(opt_b)
    opt_b.load_state_dict(loaded["optimizer"])
    b.load_state_dict(loaded["scheduler"])
    assert b.last_epoch == a.last_epoch == 4
    for _ in range(5):
        assert run(a, opt_a, 1, 2.0) == run(b, opt_b, 1, 2.0)


@pytest.mark.parametrize(
    ("make", "change", "message"),
    [
        (MAKERS["LinearLR"], {"start_factor": 0.0}, r"start_factor must lie in \(0, 1\]"),
        (MAKERS["OneCycleLR"], {"last_epoch": 13}, "past the schedule's total_steps=12"),
        (MAKERS["OneCycleLR"], {"pct_start": 0.01}, "leaves a phase with no steps"),
        (MAKERS["ReduceLROnPlateau"], {"patience": -1}, "patience must be a non-negative"),
        (MAKERS["ReduceLROnPlateau"], {"best": math.nan}, "best must be a number"),
        (MAKERS["SequentialLR"], {"milestones": [0]}, r"milestones\[0\] must be a positive"),
        (MAKERS["SequentialLR"], {"schedulers": []}, "expected the states of this SequentialLR"),
    ],
)
def test_load_state_dict_checks_everything_before_changing_anything(make, change, message):
    opt = sgd(0.3)
    sched = make(opt)
    run(sched, opt, 2)
    state = {**sched.state_dict(), **change}
    before = sched.state_dict()
    with pytest.raises((ValueError, TypeError), match=message):
        sched.load_state_dict(state)
    assert repr(sched.state_dict()) == repr(before)


def test_lambda_lr_state_does_not_hold_the_function():
    sched = LambdaLR(sgd(), lambda e: 1.0)
    assert set(sched.state_dict()) == {"base_lr", "last_epoch"}


# ------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda o: LinearLR(o, start_factor=0.0), ValueError, r"LinearLR: start_factor must lie in \(0, 1\], got 0.0"),
        (lambda o: LinearLR(o, end_factor=1.5), ValueError, r"LinearLR: end_factor must lie in \[0, 1\], got 1.5"),
        (lambda o: LinearLR(o, total_iters=0), ValueError, "LinearLR: total_iters must be a positive integer, got 0"),
        (lambda o: LambdaLR(o, 0.5), TypeError, "LambdaLR: lr_lambda must be a function of the epoch.*got 0.5"),
        (lambda o: LambdaLR(o, lambda e: -1.0), ValueError, r"lr_lambda\(0\) must be a finite number >= 0, got -1.0"),
        (lambda o: OneCycleLR(o, max_lr=0.1), ValueError, "give total_steps, or epochs and steps_per_epoch"),
        (lambda o: OneCycleLR(o, max_lr=-1.0, total_steps=10), ValueError, "max_lr must be a finite number > 0"),
        (lambda o: OneCycleLR(o, 0.1, 10, anneal_strategy="cosine"), ValueError, "anneal_strategy must be 'cos' or 'linear', got str 'cosine'"),
        (lambda o: OneCycleLR(o, 0.1, 10, cycle_momentum=True), ValueError, "cycle_momentum must be False, got True"),
        (lambda o: OneCycleLR(o, 0.1, 10, pct_start=0.05), ValueError, "leaves a phase with no steps"),
        (lambda o: ReduceLROnPlateau(o, mode="minimum"), ValueError, "mode must be 'min' or 'max', got str 'minimum'"),
        (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor must lie in \[0, 1\), got 1.0"),
        (lambda o: ReduceLROnPlateau(o, patience=1.5), ValueError, "patience must be a non-negative integer, got 1.5"),
        (lambda o: SequentialLR(o, [], []), ValueError, "schedulers must be a non-empty list"),
        (lambda o: SequentialLR(o, [StepLR(o, 2), StepLR(o, 3)], [2, 3]), ValueError, "milestones must be a list of 1 epoch"),
        (lambda o: SequentialLR(o, [ReduceLROnPlateau(o)], []), TypeError, r"schedulers\[0\] must be a bplib.optim schedule other than ReduceLROnPlateau"),
        (lambda o: SequentialLR(o, [StepLR(sgd(), 2)], []), ValueError, r"schedulers\[0\] \(StepLR\) belongs to another optimiser"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_before_the_rate_changes(make, error, message):
    opt = sgd(0.3)
    with pytest.raises(error, match=message):
        make(opt)
    assert opt.lr == 0.3


def test_plateau_step_needs_a_finite_value_and_changes_nothing_without_one():
    opt = sgd(0.3)
    sched = ReduceLROnPlateau(opt, patience=0)
    with pytest.raises(
        TypeError, match=r"needs the value it watches, e.g. scheduler.step\(val_loss\)"
    ):
        sched.step()
    with pytest.raises(
        ValueError, match=r"metrics \(the monitored value\) must be a finite number"
    ):
        sched.step(math.nan)
    assert (sched.last_epoch, sched.num_bad_epochs, opt.lr) == (0, 0, 0.3)


def test_one_cycle_refuses_a_step_past_total_steps_and_keeps_its_rate():
    opt = sgd()
    sched = OneCycleLR(opt, max_lr=1.0, total_steps=4)
    for _ in range(4):
        sched.step()
    lr = opt.lr
    with pytest.raises(ValueError, match="step 5 is past the schedule's total_steps=4"):
        sched.step()
    assert (opt.lr, sched.last_epoch) == (lr, 4)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"base_lr": 0.1, "last_epoch": -5}, "last_epoch must be a non-negative integer"),
        ({"base_lr": 0.1, "last_epoch": 2.5}, "last_epoch must be a non-negative integer"),
        ({"base_lr": -0.1, "last_epoch": 2}, "base_lr must be a finite number >= 0"),
        ({"base_lr": np.nan, "last_epoch": 2}, "base_lr must be a finite number >= 0"),
        (
            {"base_lr": 0.1, "last_epoch": 2, "step_size": 0, "gamma": 0.5},
            "step_size must be a positive integer",
        ),
        (
            {"base_lr": 0.1, "last_epoch": 2, "step_size": 2, "gamma": -1.0},
            "gamma must be a finite number >= 0",
        ),
        ({"base_lr": 0.1}, "expected keys"),
    ],
)
def test_crafted_scheduler_states_are_refused_with_nothing_changed(state, message):
    opt = optim.SGD(tiny_mlp().parameters(), lr=0.1)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    sched.step()
    before = dict(vars(sched))
    with pytest.raises(ValueError, match=message):
        sched.load_state_dict(state)
    assert vars(sched) == before and opt.lr == 0.1


def test_a_scheduler_state_round_trips_through_a_file_with_its_hyperparameters(tmp_path):
    opt = optim.SGD(tiny_mlp().parameters(), lr=0.1)
    sched = optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for _ in range(3):
        sched.step()
    bplib.save(sched.state_dict(), tmp_path / "s.npz")
    other = optim.CosineAnnealingLR(
        optim.SGD(tiny_mlp().parameters(), lr=0.1), T_max=10, eta_min=0.01
    )
    other.load_state_dict(bplib.load(tmp_path / "s.npz"))
    assert (other.last_epoch, other.base_lr, other.get_last_lr()) == (3, 0.1, 0.1)
    # a StepLR state does not load into a cosine schedule
    step = optim.StepLR(optim.SGD(tiny_mlp().parameters(), lr=0.1), step_size=2)
    with pytest.raises(ValueError, match="saved from another schedule"):
        other.load_state_dict(step.state_dict())
