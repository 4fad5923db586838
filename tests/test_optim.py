"""bplib.optim: the update rules, PyTorch parity, the schedules and the error messages.

The PyTorch cross-checks run each optimiser, with each option, for tens of steps on random
quadratics in float64: both sides get the same gradient (computed in numpy from their own
current parameters), so any difference comes from the update rule alone. They skip, with
the reason shown, where torch is not installed; the other tests need only numpy.
"""

from __future__ import annotations

import itertools
import math
import os
import signal

import numpy as np
import pytest

import bplib
from bplib import optim
from bplib.gradcheck import relative_error
from bplib.optim import (
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineAnnealingLR,
    Optimizer,
    RMSprop,
    StepLR,
)
from bplib.optim.algorithms import LR, NON_NEGATIVE
from bplib.train import fit

from .helpers import blobs, linear_and_batch, mlp, tiny_mlp

TOL = 1e-10
STEPS = 40
SHAPES = [(3, 2), (4,)]


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")


class RandomQuadratic:
    """f(θ) = Σ_i ½ θ_iᵀ A_i θ_i - b_iᵀ θ_i over several parameter arrays θ_i, with each
    A_i symmetric positive definite (eigenvalues in [0.5, 4]); ∇f_i = A_i θ_i - b_i."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.A, self.b, self.theta0 = [], [], []
        for shape in SHAPES:
            n = math.prod(shape)
            Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
            self.A.append(Q @ np.diag(rng.uniform(0.5, 4.0, n)) @ Q.T)
            self.b.append(rng.standard_normal(n))
            self.theta0.append(rng.standard_normal(shape))

    def grads(self, thetas):
        return [
            (A @ t.reshape(-1) - b).reshape(t.shape)
            for A, b, t in zip(self.A, self.b, thetas, strict=True)
        ]


def run_ours(make_opt, problem, steps=STEPS, dtype=np.float64, after_step=None):
    params = [bplib.Parameter(t.astype(dtype), f"p{i}") for i, t in enumerate(problem.theta0)]
    opt = make_opt(params)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        for p, g in zip(params, problem.grads([p.data for p in params]), strict=True):
            p.grad += g.astype(dtype)
        opt.step()
        if after_step is not None:
            after_step()
        path.append([p.data.copy() for p in params])
    return path


def run_torch(torch, make_opt, problem, steps=STEPS):
    params = [torch.tensor(t, dtype=torch.float64, requires_grad=True) for t in problem.theta0]
    opt = make_opt(params)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        for p, g in zip(params, problem.grads([p.detach().numpy() for p in params]), strict=True):
            p.grad = torch.tensor(g)
        opt.step()
        path.append([p.detach().numpy().copy() for p in params])
    return path


def assert_same_path(ours, theirs):
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        for i, (pa, pb) in enumerate(zip(a, b, strict=True)):
            err = relative_error(pa, pb)
            assert err < TOL, f"step {step}, parameter {i}: relative error {err:.2e}"


CONFIGS = {
    "SGD": [
        {"lr": 0.1},
        {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
        {"lr": 0.1, "weight_decay": 0.1},
        {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True},
    ],
    "RMSprop": [
        {},
        {"lr": 0.02, "alpha": 0.9, "eps": 1e-6},
        {"centered": True},
        {"momentum": 0.9},
        {"weight_decay": 0.1},
        {"lr": 0.005, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
    ],
    "Adagrad": [
        {},
        {"lr": 0.1, "lr_decay": 0.01},
        {"lr": 0.1, "weight_decay": 0.1},
        {"lr": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-6},
    ],
    "Adam": [
        {},
        {"lr": 0.05, "betas": (0.8, 0.99)},
        {"lr": 0.05, "amsgrad": True},
        {"lr": 0.05, "weight_decay": 0.1},
        {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "eps": 1e-6},
    ],
    "AdamW": [
        {},
        {"lr": 0.05, "weight_decay": 0.1},
        {"lr": 0.05, "amsgrad": True},
        {"lr": 0.05, "betas": (0.5, 0.9), "weight_decay": 0.0},
    ],
}
OURS = OPTIMIZERS  # every table below is built from the registry: none can be left out


def torch_cases(registry=OURS):
    """(name, kwargs) for every registered optimiser: CONFIGS' rows, or its defaults."""
    return [(name, kw) for name in registry for kw in CONFIGS.get(name, [{}])]


def case_id(name, kw):
    return f"{name}-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")


def torch_twin(torch, name):
    """``torch.optim``'s class of that name; a skip, with the reason, where it has none."""
    if not hasattr(torch.optim, name):
        pytest.skip(f"torch {torch.__version__} has no torch.optim.{name} to compare with")
    return getattr(torch.optim, name)


def check_matches_torch(torch, cls, kwargs, seed):
    problem = RandomQuadratic(seed)
    theirs_cls = torch_twin(torch, cls.__name__)
    ours = run_ours(lambda ps: cls(ps, **kwargs), problem)
    theirs = run_torch(torch, lambda ps: theirs_cls(ps, **kwargs), problem)
    assert_same_path(ours, theirs)


@pytest.mark.parametrize(
    ("name", "kwargs"), torch_cases(), ids=[case_id(*c) for c in torch_cases()]
)
@pytest.mark.parametrize("seed", range(3))
def test_optimizer_matches_torch(torch, name, kwargs, seed):
    check_matches_torch(torch, OURS[name], kwargs, seed)


@pytest.mark.parametrize("name", sorted(OURS))
def test_defaults_match_torch(torch, name):
    import inspect

    ours = inspect.signature(OURS[name]).parameters
    theirs = inspect.signature(torch_twin(torch, name)).parameters
    for arg, p in ours.items():
        if arg != "params":
            assert arg in theirs, f"{name}({arg}=...) is not a torch.optim.{name} argument"
            assert p.default == theirs[arg].default, f"{name}({arg}=) default differs from torch"
    positional = [a for a in ours if a != "params"]
    assert positional == [a for a in theirs if a != "params"][: len(positional)]


def test_adam_trains_the_same_network_as_torch(torch):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 2)), rng.integers(0, 3, 16)
    net = bplib.Sequential(bplib.Linear(2, 8, rng=1), bplib.Tanh(), bplib.Linear(8, 3, rng=2))
    tnet = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    tnet = tnet.double()
    with torch.no_grad():  # torch stores W as (out, in): ours is its transpose
        for ours_p, theirs_p in zip(net.parameters(), tnet.parameters(), strict=True):
            theirs_p.copy_(torch.tensor(ours_p.data.T))
    opt, topt = Adam(net.parameters(), lr=0.01), torch.optim.Adam(tnet.parameters(), lr=0.01)
    loss_fn, tloss_fn = bplib.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(net(X), y)
        net.backward(loss_fn.backward())
        opt.step()
        topt.zero_grad()
        tloss = tloss_fn(tnet(torch.tensor(X)), torch.tensor(y))
        tloss.backward()
        topt.step()
        assert abs(loss - tloss.item()) <= TOL * abs(loss)
    for ours_p, theirs_p in zip(net.parameters(), tnet.parameters(), strict=True):
        assert relative_error(ours_p.data, theirs_p.detach().numpy().T) < TOL


def run_schedule(sched, opt, epochs):
    lrs = []
    for _ in range(epochs):
        opt.step()
        sched.step()
        lrs.append(opt.lr)
    return lrs


def torch_lrs(torch, make_sched, lr, epochs):
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    p.grad = torch.zeros(1, dtype=torch.float64)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make_sched(opt)
    lrs = []
    for _ in range(epochs):
        opt.step()  # before sched.step(), or torch warns
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def zero_grad_sgd(lr):
    return SGD([bplib.Parameter(np.zeros(1))], lr=lr)


@pytest.mark.parametrize(("step_size", "gamma"), [(1, 0.9), (3, 0.5), (7, 0.1)])
def test_step_lr_matches_torch(torch, step_size, gamma):
    opt = zero_grad_sgd(0.3)
    ours = run_schedule(StepLR(opt, step_size, gamma), opt, 25)
    theirs = torch_lrs(
        torch, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), 0.3, 25
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize(("T_max", "eta_min"), [(10, 0.0), (10, 0.01), (7, 0.05)])
def test_cosine_annealing_matches_torch(torch, T_max, eta_min):
    opt = zero_grad_sgd(0.3)
    ours = run_schedule(CosineAnnealingLR(opt, T_max, eta_min), opt, 25)  # past T_max too
    make = lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max, eta_min)  # noqa: E731
    np.testing.assert_allclose(ours, torch_lrs(torch, make, 0.3, 25), rtol=1e-10, atol=1e-15)


# ----------------------------------------------------------------------------------------
# The update rules, from their definitions (no torch needed)
# ----------------------------------------------------------------------------------------


def one_param(value, grad):
    p = bplib.Parameter(np.array(value, dtype=np.float64))
    p.grad[...] = grad
    return p


def test_gradient_descent_with_lr_one_over_curvature_lands_on_the_minimum_in_one_step():
    # f(θ) = (λ/2)(θ - c)²: θ - (1/λ) λ(θ - c) = c exactly.
    lam, c = 4.0, 1.5
    p = bplib.Parameter(np.array([-2.0]))
    opt = SGD([p], lr=1 / lam)
    p.grad[:] = lam * (p.data - c)
    opt.step()
    assert p.data[0] == c


def test_gradient_descent_on_a_quadratic_contracts_the_error_by_one_minus_lr_lambda():
    lam, c, lr, e0 = 3.0, 0.5, 0.1, 2.0
    p = bplib.Parameter(np.array([c + e0]))
    opt = SGD([p], lr=lr)
    for k in range(1, 21):
        opt.zero_grad()
        p.grad += lam * (p.data - c)
        opt.step()
        np.testing.assert_allclose(p.data[0] - c, (1 - lr * lam) ** k * e0, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_optimizer_reaches_the_minimum_of_a_convex_quadratic(name):
    # With a learning rate annealed to zero every optimiser converges to the minimum itself
    # (to ~1e-16 here); with a constant rate the adaptive ones need not (see the next test).
    problem = RandomQuadratic(0)
    rates = {"SGD": 0.1, "RMSprop": 0.01, "Adagrad": 0.5, "Adam": 0.05, "AdamW": 0.05}
    assert name in rates, f"give the new optimiser {name} a learning rate in this test's table"
    lr = rates[name]
    kwargs = {"weight_decay": 0.0} if name == "AdamW" else {}
    schedules = []

    def make(ps):
        opt = OURS[name](ps, lr=lr, **kwargs)
        schedules.append(CosineAnnealingLR(opt, T_max=2000))
        return opt

    final = run_ours(make, problem, steps=2000, after_step=lambda: schedules[0].step())[-1]
    for A, b, theta in zip(problem.A, problem.b, final, strict=True):
        np.testing.assert_allclose(theta.reshape(-1), np.linalg.solve(A, b), atol=1e-8)


def test_rmsprop_with_a_constant_rate_hovers_about_the_minimum_within_a_few_lr():
    # RMSprop divides by the running RMS of the gradient, so near the minimum its step stays
    # of order lr while the gradient shrinks: it oscillates instead of converging. Measured
    # over the last 500 of 2000 steps: a worst error of 1.5e-2 with lr = 0.01 (1.0e-2 to
    # 1.1e-2 at the last step, depending on the machine's floating point). Asserted with
    # a factor of 3 either way: it is neither converged (> lr/2) nor far away (< 5 lr).
    problem = RandomQuadratic(0)
    lr = 0.01
    path = run_ours(lambda ps: OURS["RMSprop"](ps, lr=lr), problem, steps=2000)
    solutions = [np.linalg.solve(A, b) for A, b in zip(problem.A, problem.b, strict=True)]
    worst = max(
        np.abs(theta.reshape(-1) - x).max()
        for thetas in path[-500:]
        for theta, x in zip(thetas, solutions, strict=True)
    )
    assert lr / 2 < worst < 5 * lr


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    # m̂₁ = g, v̂₁ = g², so Δθ = -lr g / (|g| + eps), which is -lr sign(g) to within eps/|g|.
    g = np.array([3.0, -1e-3, 250.0, -7.0])
    p = one_param(np.zeros(4), g)
    Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(p.data, -0.01 * np.sign(g), rtol=1e-5)


def test_adagrad_first_step_is_lr_times_the_sign_of_the_gradient():
    g = np.array([3.0, -0.5])
    p = one_param(np.zeros(2), g)
    Adagrad([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, -0.1 * g / (np.abs(g) + 1e-10), rtol=1e-14)


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_alpha():
    # v₁ = (1-α) g², so Δθ = -lr g / (sqrt(1-α)|g| + eps).
    g = np.array([2.0, -0.25])
    p = one_param(np.zeros(2), g)
    RMSprop([p], lr=0.01, alpha=0.99).step()
    np.testing.assert_allclose(p.data, -0.01 * g / (np.sqrt(0.01) * np.abs(g) + 1e-8), rtol=1e-14)


def test_momentum_buffer_starts_as_the_gradient_then_accumulates():
    p = one_param([0.0], [2.0])
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    opt.step()
    assert opt.state[p]["momentum_buffer"][0] == 2.0  # the first buffer is not dampened
    opt.step()
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [0.9 * 2.0 + 0.5 * 2.0])
    np.testing.assert_allclose(p.data, [-0.1 * 2.0 - 0.1 * 2.8])


def test_nesterov_step_adds_momentum_times_buffer_to_the_gradient():
    p = one_param([0.0], [1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    opt.step()  # b = g = 1, step = g + μ b = 1.9
    np.testing.assert_allclose(p.data, [-0.19])


def test_sgd_weight_decay_shrinks_a_parameter_with_zero_gradient():
    p = one_param([2.0, -4.0], 0.0)
    SGD([p], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(p.data, (1 - 0.1 * 0.5) * np.array([2.0, -4.0]))


def test_adamw_decays_by_one_minus_lr_lambda_where_adam_takes_a_full_step():
    # With g = 0, AdamW's moments stay 0: θ ← (1 - ηλ)θ only. Adam's L2 term λθ goes
    # through the normalisation and moves θ by η sign(θ), whatever λ is.
    theta0 = np.array([2.0, -4.0])
    pw, pa = one_param(theta0, 0.0), one_param(theta0, 0.0)
    AdamW([pw], lr=0.1, weight_decay=0.5).step()
    Adam([pa], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(pw.data, (1 - 0.1 * 0.5) * theta0, rtol=1e-15)
    np.testing.assert_allclose(pa.data, theta0 - 0.1 * np.sign(theta0), rtol=1e-8)


def test_amsgrad_keeps_the_running_maximum_of_the_second_moment():
    p = one_param([0.0], [10.0])
    opt = Adam([p], lr=0.01, amsgrad=True)
    opt.step()
    p.grad[:] = 0.1
    opt.step()
    state = opt.state[p]
    assert state["max_exp_avg_sq"][0] == pytest.approx((1 - 0.999) * 100.0)
    assert state["exp_avg_sq"][0] < state["max_exp_avg_sq"][0]


def test_adagrad_lr_decay_divides_the_step():
    p = one_param([0.0], [1.0])
    opt = Adagrad([p], lr=1.0, lr_decay=0.5)
    opt.step()
    before = p.data.copy()
    opt.step()  # step 2: lr / (1 + 0.5), s = 2
    np.testing.assert_allclose(p.data - before, [-(1 / 1.5) / (np.sqrt(2.0) + 1e-10)])


@pytest.mark.parametrize("name", sorted(OURS))
def test_updates_are_in_place_and_keep_float32(name):
    check_in_place_float32(OURS[name])


def check_in_place_float32(cls):
    problem = RandomQuadratic(1)
    params = [bplib.Parameter(t.astype(np.float32)) for t in problem.theta0]
    arrays = [p.data for p in params]
    opt = cls(params, lr=0.01)
    for p in params:
        p.grad += 1.0
    opt.step()
    for p, a in zip(params, arrays, strict=True):
        assert p.data is a
        assert p.data.dtype == np.float32
        for value in opt.state[p].values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32


def test_state_is_empty_before_the_first_step_and_counts_steps():
    p = one_param([1.0], [1.0])
    opt = Adam([p])
    assert opt.state == {}
    for _ in range(3):
        opt.step()
    assert opt.state[p]["step"] == 3
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}


def test_zero_grad_zeroes_every_gradient():
    params = [one_param([1.0, 2.0], 5.0), one_param([[3.0]], -1.0)]
    SGD(params, lr=0.1).zero_grad()
    assert all((p.grad == 0).all() for p in params)


def test_lr_is_settable_and_used_by_the_next_step():
    p = one_param([0.0], [1.0])
    opt = SGD([p], lr=0.1)
    opt.lr = 0.5
    opt.step()
    np.testing.assert_allclose(p.data, [-0.5])


def test_repr_names_the_hyperparameters():
    opt = SGD([one_param([0.0], 0.0)], lr=0.1, momentum=0.9)
    assert repr(opt) == (
        "SGD(1 parameters, lr=0.1, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0)"
    )


def test_step_lr_closed_form():
    opt = zero_grad_sgd(1.0)
    lrs = run_schedule(StepLR(opt, step_size=2, gamma=0.5), opt, 6)
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_cosine_annealing_reaches_eta_min_at_t_max_and_the_midpoint_halfway():
    opt = zero_grad_sgd(1.0)
    lrs = run_schedule(CosineAnnealingLR(opt, T_max=10, eta_min=0.2), opt, 10)
    assert lrs[4] == pytest.approx(0.6)  # epoch 5 = T_max / 2: cos(π/2) = 0
    assert lrs[9] == pytest.approx(0.2)
    assert all(a > b for a, b in itertools.pairwise(lrs))


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------


def test_empty_parameter_list_is_refused():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)


def test_a_model_with_no_parameters_is_refused_with_the_same_message():
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam(bplib.Sequential(bplib.Tanh()).parameters())


def test_a_single_parameter_must_be_wrapped_in_a_list():
    with pytest.raises(TypeError, match=r"got a single Parameter; wrap it in a list"):
        SGD(bplib.Parameter(np.zeros(2)), lr=0.1)


def test_passing_the_model_instead_of_its_parameters_is_refused():
    with pytest.raises(TypeError, match=r"iterable of Parameters.*got Linear"):
        SGD(bplib.Linear(2, 2, rng=0), lr=0.1)  # type: ignore[arg-type]


def test_passing_arrays_instead_of_parameters_is_refused():
    with pytest.raises(TypeError, match="item 0 is ndarray"):
        SGD([np.zeros(2)], lr=0.1)  # type: ignore[list-item]


def test_a_repeated_parameter_is_refused():
    p = bplib.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="same Parameter more than once"):
        SGD([p, p], lr=0.1)


@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf")])
def test_invalid_learning_rates_are_refused(lr):
    with pytest.raises(ValueError, match=r"lr \(the learning rate\) must be a finite number >= 0"):
        Adam([bplib.Parameter(np.zeros(2))], lr=lr)


def test_setting_a_negative_learning_rate_later_is_refused():
    opt = SGD([bplib.Parameter(np.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="got -1"):
        opt.lr = -1


def test_a_string_learning_rate_is_refused():
    with pytest.raises(TypeError, match=r"lr .* must be a real number, got str"):
        SGD([bplib.Parameter(np.zeros(2))], lr="0.1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), "momentum must be a finite number >= 0"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum needs momentum > 0"),
        (
            lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            "dampening = 0",
        ),
        (lambda ps: RMSprop(ps, alpha=1.5), r"alpha must lie in \[0, 1\]"),
        (lambda ps: RMSprop(ps, eps=-1e-8), "eps must be a finite number > 0"),
        (lambda ps: Adagrad(ps, lr_decay=-1), "lr_decay must be"),
        (lambda ps: Adagrad(ps, initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda ps: Adam(ps, betas=(0.9, 1.0)), r"betas\[1\] \(beta2\) must lie in \[0, 1\)"),
        (lambda ps: Adam(ps, betas=(-0.1, 0.9)), r"betas\[0\] \(beta1\) must lie in \[0, 1\)"),
        (lambda ps: AdamW(ps, weight_decay=-0.01), "weight_decay must be"),
    ],
)
def test_invalid_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make([bplib.Parameter(np.zeros(2))])


def test_betas_must_be_a_pair():
    with pytest.raises(TypeError, match=r"betas must be a pair \(beta1, beta2\), got 0.9"):
        Adam([bplib.Parameter(np.zeros(2))], betas=0.9)  # type: ignore[arg-type]


def test_a_gradient_of_the_wrong_shape_is_refused():
    p = bplib.Parameter(np.zeros((2, 3)), "weight")
    with pytest.raises(TypeError, match=r"grad must be a numpy array of the parameter's shape"):
        p.grad = np.zeros(3)  # refused where the mistake is made
    p._grad = np.zeros(3)  # and if it gets there behind the setter's back, step refuses it
    with pytest.raises(ValueError, match=r"weight\) has shape \(2, 3\) but its gradient has shape"):
        SGD([p], lr=0.1).step()


def test_a_non_finite_gradient_stops_the_step_and_leaves_the_parameters_untouched():
    p, q = bplib.Parameter(np.ones(2), "a"), bplib.Parameter(np.ones(2), "b")
    q.grad[1] = np.nan
    with pytest.raises(FloatingPointError, match=r"parameter 1 \(b.*NaN or infinity.*smaller"):
        SGD([p, q], lr=0.1).step()
    assert (p.data == 1).all()


def test_a_schedule_needs_a_bplib_optimizer():
    with pytest.raises(TypeError, match=r"expected a bplib\.optim optimiser, got list"):
        StepLR([], step_size=2)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_schedule_periods_must_be_positive_integers(bad):
    opt = zero_grad_sgd(0.1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(opt, step_size=bad)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        CosineAnnealingLR(opt, T_max=bad)


def test_an_sgd_step_allocates_no_memory_the_size_of_the_model():
    # Plain SGD writes each step into an array it keeps (bplib.optim.fast.sgd_into): a fresh
    # array per parameter per step cost page faults that doubled the update's time on the
    # benchmark's big network. numpy reports its allocations to tracemalloc.
    import tracemalloc

    p = bplib.Parameter(np.ones((200, 100)), "w")  # 160 kB
    opt = SGD([p], lr=0.1)
    p.grad = np.full((200, 100), 0.5)
    opt.step()  # the first step creates the buffer
    before = p.data.copy()
    tracemalloc.start()
    try:
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(p.data, before - 0.1 * 0.5)
    assert peak < p.data.nbytes // 10, f"a step allocated {peak} bytes for {p.data.nbytes}"
    assert "_kept" not in str(opt.state_dict())


@pytest.mark.parametrize(
    "kwargs", CONFIGS["SGD"], ids=[case_id("SGD", kw) for kw in CONFIGS["SGD"]]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_fast_twin_gives_the_plain_rules_numbers_bit_for_bit(kwargs, dtype):
    class PlainSGD(SGD):
        rule_into = None  # the plain rule, bplib.optim.algorithms.sgd, alone

    problem = RandomQuadratic(2)
    fast = run_ours(lambda ps: SGD(ps, **kwargs), problem, steps=25, dtype=dtype)
    plain = run_ours(lambda ps: PlainSGD(ps, **kwargs), problem, steps=25, dtype=dtype)
    for a, b in zip(fast, plain, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()


# ----------------------------------------------------------------------------------------
# The registry: every table above is built from bplib.optim.OPTIMIZERS
# ----------------------------------------------------------------------------------------


def test_every_optimizer_of_bplib_optim_is_registered():
    classes = {
        name
        for name in bplib.optim.__all__
        if isinstance(getattr(bplib.optim, name), type)
        and issubclass(getattr(bplib.optim, name), Optimizer)
        and name != "Optimizer"
    }
    assert classes == set(OPTIMIZERS)


@pytest.mark.parametrize("name", sorted(OURS))
def test_a_state_dict_round_trip_continues_bit_for_bit(name, tmp_path):
    check_state_dict_round_trip(OURS[name], tmp_path)


def check_state_dict_round_trip(cls, tmp_path):
    """Three steps, save, load into a fresh optimiser on a copy: the next steps are equal."""
    problem = RandomQuadratic(3)

    def params():
        return [bplib.Parameter(t.copy(), f"p{i}") for i, t in enumerate(problem.theta0)]

    def steps(opt, ps, n):
        for _ in range(n):
            opt.zero_grad()
            for p, g in zip(ps, problem.grads([p.data for p in ps]), strict=True):
                p.grad += g
            opt.step()

    ps = params()
    opt = cls(ps, lr=0.01)
    steps(opt, ps, 3)
    bplib.save(
        {"model": {f"p{i}": p.data for i, p in enumerate(ps)}, "opt": opt.state_dict()},
        tmp_path / "ck.npz",
    )
    saved = bplib.load(tmp_path / "ck.npz")
    qs = params()
    for i, q in enumerate(qs):
        q.data[...] = saved["model"][f"p{i}"]
    fresh = cls(qs, lr=0.5)  # the saved lr replaces this one
    fresh.load_state_dict(saved["opt"])
    assert repr(fresh) == repr(opt)
    steps(opt, ps, 2)
    steps(fresh, qs, 2)
    for p, q in zip(ps, qs, strict=True):
        assert p.data.tobytes() == q.data.tobytes()


def lion(theta, grad, state, t, *, lr, betas, weight_decay):
    """Lion (Chen et al., 2023): step by the sign of an interpolated momentum."""
    beta1, beta2 = betas
    m = state["exp_avg"] if t > 1 else np.zeros_like(theta)
    direction = np.sign(beta1 * m + (1 - beta1) * grad)
    new_theta = (1 - lr * weight_decay) * theta - lr * direction
    return new_theta, {"exp_avg": beta2 * m + (1 - beta2) * grad}


class Lion(Optimizer):
    """A new optimiser written the documented way: a rule and its declarations."""

    rule = staticmethod(lion)
    hyperparameters = {  # noqa: RUF012
        "lr": LR,
        "betas": Adam.hyperparameters["betas"],
        "weight_decay": NON_NEGATIVE,
    }
    state_entries = {"exp_avg": None}  # noqa: RUF012

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, weight_decay=weight_decay)


def test_a_new_optimizer_is_picked_up_by_every_table(monkeypatch, tmp_path):
    from .probe.common import optimizer_cases, run_case

    monkeypatch.setitem(OPTIMIZERS, "Lion", Lion)
    # torch parity: a row of its own, skipped with the reason (torch has no Lion)
    assert ("Lion", {}) in torch_cases()
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    with pytest.raises(pytest.skip.Exception, match=r"has no torch\.optim\.Lion"):
        check_matches_torch(torch, Lion, {}, 0)
    check_in_place_float32(Lion)  # float32
    check_state_dict_round_trip(Lion, tmp_path)  # state_dict through a file
    # the probe: its rows and its one-step battery, built from the declarations
    cases = optimizer_cases(Lion)
    assert len(cases) > 20
    for case in cases:
        run_case("bplib.optim.Lion", case)
    assert "Lion(1 parameters, lr=0.0001, betas=(0.9, 0.99), weight_decay=0.0)" == repr(
        Lion([bplib.Parameter(np.zeros(2))])
    )


RESUME_OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD-nesterov": lambda ps: optim.SGD(
        ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3
    ),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    "Adam": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01),
}


def test_the_resume_table_has_every_registered_optimizer():
    tabled = {type(make([bplib.Parameter(np.zeros(1))])) for make in RESUME_OPTIMIZERS.values()}
    assert tabled == set(optim.OPTIMIZERS.values()), "add the new optimiser to RESUME_OPTIMIZERS"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(RESUME_OPTIMIZERS))
def test_training_resumed_from_a_saved_state_is_bit_for_bit_uninterrupted_training(
    tmp_path, name, dtype
):
    X, y = blobs()
    X = X.astype(dtype)
    loss = bplib.CrossEntropyLoss()
    make = RESUME_OPTIMIZERS[name]
    N, k = 12, 5

    straight = mlp(dtype=dtype)
    opt = make(straight.parameters())
    sched = optim.StepLR(opt, step_size=4, gamma=0.5)
    fit(straight, loss, opt, X, y, epochs=N, scheduler=sched, progress=False)

    first = mlp(dtype=dtype)
    opt1 = make(first.parameters())
    sched1 = optim.StepLR(opt1, step_size=4, gamma=0.5)
    fit(first, loss, opt1, X, y, epochs=k, scheduler=sched1, progress=False)
    path = tmp_path / "checkpoint.npz"
    bplib.save(
        {
            "model": first.state_dict(),
            "optimizer": opt1.state_dict(),
            "scheduler": sched1.state_dict(),
        },
        path,
    )

    checkpoint = bplib.load(path)
    resumed = mlp(seed=3, dtype=dtype)  # other initial weights: everything comes from the file
    opt2 = make(resumed.parameters())
    sched2 = optim.StepLR(opt2, step_size=4, gamma=0.5)
    resumed.load_state_dict(checkpoint["model"])
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    fit(resumed, loss, opt2, X, y, epochs=N - k, scheduler=sched2, progress=False)

    for (n, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=n)
    assert opt2.lr == opt.lr


def test_optimizer_state_dict_has_pytorchs_layout():
    net = mlp()
    opt = optim.Adam(net.parameters(), lr=0.01)
    assert opt.state_dict() == {
        "state": {},
        "param_groups": [
            {
                "lr": 0.01,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0.0,
                "amsgrad": False,
                "decoupled_weight_decay": False,  # PyTorch's flag: Adam's state, not AdamW's
                "params": [0, 1, 2, 3],
            }
        ],
    }


@pytest.mark.parametrize("name", ["SGD-nesterov", "RMSprop", "Adagrad", "Adam"])
def test_optimizer_state_names_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    ours = mlp()
    opt = RESUME_OPTIMIZERS[name](ours.parameters())
    X, y = blobs()
    fit(ours, bplib.CrossEntropyLoss(), opt, X, y, epochs=1, progress=False)
    theirs = torch.nn.Linear(2, 2)
    kind = {"SGD-nesterov": "SGD"}.get(name, name)
    hyper = {k: v for k, v in opt._hyperparameters().items()}
    topt = getattr(torch.optim, kind)(theirs.parameters(), **hyper)
    theirs(torch.ones(1, 2)).sum().backward()
    topt.step()
    their_keys = set(topt.state_dict()["state"][0])
    our_keys = set(opt.state_dict()["state"][0]) - {"step"}  # torch's SGD keeps no step
    assert our_keys <= their_keys
    assert set(opt.state_dict()["param_groups"][0]) <= set(topt.state_dict()["param_groups"][0])


def test_an_optimizer_that_has_not_stepped_round_trips_through_a_file(tmp_path):
    opt = optim.SGD(mlp().parameters(), lr=0.3, momentum=0.9)
    bplib.save(opt.state_dict(), tmp_path / "o.npz")
    fresh = optim.SGD(mlp().parameters(), lr=0.1)
    fresh.load_state_dict(bplib.load(tmp_path / "o.npz"))
    assert (fresh.lr, fresh.momentum, fresh.state) == (0.3, 0.9, {})


def stepped_adam(seed=0):
    net = mlp(seed=seed)
    opt = optim.Adam(net.parameters(), lr=0.01)
    X, y = blobs()
    fit(net, bplib.CrossEntropyLoss(), opt, X, y, epochs=2, progress=False)
    return opt


@pytest.mark.parametrize(
    ("target", "change", "message"),
    [
        (lambda: optim.Adam(mlp().parameters()[:2]), None, "state is for 4 parameters"),
        (lambda: optim.SGD(mlp().parameters()), None, "hyperparameters .* are not SGD's"),
        (
            lambda: optim.Adam(mlp().parameters()),
            lambda s: s["state"][1].update(exp_avg=np.zeros(5)),
            r"state\[1\]\['exp_avg'\] must be an array of parameter 1's dtype and shape",
        ),
        (
            lambda: optim.Adam(mlp().parameters()),
            lambda s: s["param_groups"][0].update(lr=-1.0),
            r"lr \(the learning rate\) must be a finite number >= 0",
        ),
        (
            lambda: optim.Adam(mlp().parameters()),
            lambda s: s.pop("param_groups"),
            "expected a dict",
        ),
    ],
)
def test_optimizer_load_state_dict_checks_before_changing_anything(target, change, message):
    state = stepped_adam().state_dict()
    if change is not None:
        change(state)
    opt = target()
    lr_before = opt.lr
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    assert opt.state == {} and opt.lr == lr_before


def stepped(make):
    net = tiny_mlp()
    opt = make(net.parameters())
    X = np.random.default_rng(0).standard_normal((8, 2))
    y = np.arange(8) % 2
    bplib.fit(net, bplib.CrossEntropyLoss(), opt, X, y, epochs=2, progress=False)
    return opt.state_dict()


def _set_group(key, value):
    return lambda s: s["param_groups"][0].update({key: value})


def _set_state(key, value):
    return lambda s: s["state"][1].update({key: value})


CRAFTED = [
    ("Adam state into AdamW", optim.Adam, optim.AdamW, None, "saved from another optimiser"),
    ("AdamW state into Adam", optim.AdamW, optim.Adam, None, "saved from another optimiser"),
    ("beta1 = 1.5", optim.Adam, optim.Adam, _set_group("betas", (1.5, 0.999)), r"betas\[0\]"),
    ("eps = 0", optim.Adam, optim.Adam, _set_group("eps", 0.0), "eps must be a finite number > 0"),
    ("betas of length 3", optim.Adam, optim.Adam, _set_group("betas", (0.9, 0.9, 0.9)), "betas"),
    ("amsgrad = 0.5", optim.Adam, optim.Adam, _set_group("amsgrad", 0.5), "True or False"),
    ("RMSprop alpha = 2", optim.RMSprop, optim.RMSprop, _set_group("alpha", 2.0), "alpha"),
    (
        "nesterov without momentum",
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        _set_group("momentum", 0.0),
        "Nesterov momentum needs momentum > 0",
    ),
    (
        "a negative step",
        optim.Adam,
        optim.Adam,
        _set_state("step", -3),
        r"'step'\] must be an integer >= 1",
    ),
    ("a fractional step", optim.Adam, optim.Adam, _set_state("step", 2.5), "integer >= 1"),
    (
        "a missing exp_avg",
        optim.Adam,
        optim.Adam,
        lambda s: s["state"][1].pop("exp_avg"),
        r"missing \['exp_avg'\]",
    ),
    (
        "an extra entry",
        optim.Adam,
        optim.Adam,
        _set_state("junk", np.zeros(4)),
        r"unexpected \['junk'\]",
    ),
    (
        "amsgrad's buffer missing",
        optim.Adam,
        optim.Adam,
        _set_group("amsgrad", True),
        r"missing \['max_exp_avg_sq'\]",
    ),
    (
        "a negative second moment",
        optim.Adam,
        optim.Adam,
        _set_state("exp_avg_sq", -np.ones(4)),
        "negative",
    ),
    (
        "an RMSprop square_avg < 0",
        optim.RMSprop,
        optim.RMSprop,
        _set_state("square_avg", -np.ones(4)),
        "negative",
    ),
    (
        "a NaN in a moment",
        optim.Adam,
        optim.Adam,
        _set_state("exp_avg", np.full(4, np.nan)),
        "finite",
    ),
    (
        "Adagrad's sum missing",
        optim.Adagrad,
        optim.Adagrad,
        lambda s: s["state"][1].pop("sum"),
        "missing",
    ),
]


@pytest.mark.parametrize(
    ("label", "source", "target", "change", "message"), CRAFTED, ids=[c[0] for c in CRAFTED]
)
def test_crafted_optimizer_states_are_refused_with_nothing_changed(
    label, source, target, change, message
):
    state = stepped(source)
    if change is not None:
        change(state)
    net = tiny_mlp()
    opt = target(net.parameters())
    before = (opt.lr, dict(opt._hyperparameters()), opt.state)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    assert (opt.lr, opt._hyperparameters(), opt.state) == before
    assert opt.state == {}


def test_a_state_saved_before_the_flag_was_recorded_still_loads(tmp_path):
    state = stepped(optim.Adam)
    del state["param_groups"][0]["decoupled_weight_decay"]  # as bplib 0.1.0 saved it
    bplib.save(state, tmp_path / "o.npz")
    opt = optim.Adam(tiny_mlp().parameters())
    opt.load_state_dict(bplib.load(tmp_path / "o.npz"))
    assert opt.state[opt.params[0]]["step"] == 2


def test_adam_and_adamw_states_round_trip_through_a_file(tmp_path):
    for kind in (optim.Adam, optim.AdamW):
        bplib.save(stepped(kind), tmp_path / "o.npz")
        opt = kind(tiny_mlp().parameters())
        opt.load_state_dict(bplib.load(tmp_path / "o.npz"))
        assert opt.state[opt.params[1]]["step"] == 2


class Tripwire(np.ndarray):
    """A parameter array that sends this process SIGINT when the optimiser writes into it
    (a new value, ``data[...] = theta``, or a change subtracted in place, ``data -= change``)."""

    def __setitem__(self, key, value):
        os.kill(os.getpid(), signal.SIGINT)
        super().__setitem__(key, value)

    def __isub__(self, other):
        os.kill(os.getpid(), signal.SIGINT)
        return super().__isub__(other)


@pytest.mark.usefixtures("default_sigint")  # tests/conftest.py
@pytest.mark.skipif(os.name != "posix", reason="SIGINT")
@pytest.mark.parametrize("guarded", [False, True], ids=["step alone", "deferred_interrupts"])
@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1), optim.Adam, optim.AdamW])
def test_an_interrupt_inside_step_leaves_no_half_applied_update(make, guarded):
    if guarded:
        with optim.deferred_interrupts():
            test_an_interrupt_inside_step_leaves_no_half_applied_update(make, False)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        return
    net = tiny_mlp()
    params = net.parameters()
    params[0].data = params[0].data.view(Tripwire)  # the first write raises Ctrl-C
    opt = make(params)
    for p in params:
        p.grad[...] = 1.0
    before = [p.data.copy() for p in params]
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    # every parameter was written, once: step counts are all 1, and every value moved
    assert [opt.state[p]["step"] for p in params] == [1] * len(params)
    assert all(not np.array_equal(p.data, b) for p, b in zip(params, before, strict=True))
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not in the block
        return


@pytest.mark.usefixtures("default_sigint")  # tests/conftest.py
def test_ctrl_c_outside_the_writes_interrupts_at_once_inside_deferred_interrupts():
    with pytest.raises(KeyboardInterrupt):
        with optim.deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between two bytecodes
                pass
            pytest.fail("the interrupt was held back outside a step")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_optimiser_step_after_zero_grad_without_backward_moves_nothing():
    layer, x, g = linear_and_batch()
    layer(x)
    layer.backward(g)
    layer.zero_grad()
    before = [p.data.copy() for p in layer.parameters()]
    bplib.optim.SGD(layer.parameters(), lr=0.1).step()
    for p, old in zip(layer.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, old)
