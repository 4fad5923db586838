"""Residual, BatchNorm1d, LayerNorm, Dropout and the train/eval modes (chapter 10).

Every output and gradient is checked against central finite differences (float64, relative
error < 1e-7) and, where PyTorch is installed, against torch autograd (< 1e-10), in both
training and evaluation mode.
"""

from __future__ import annotations

import numpy as np
import pytest

import bplib
from bplib.gradcheck import numerical_gradient
from bplib.train import evaluate, fit, predict

from .helpers import checked_error

FD_TOL = 1e-7
TORCH_TOL = 1e-10
SEEDS = range(3)

try:
    import torch
except ImportError:  # the torch tests below skip, saying why
    torch = None

needs_torch = pytest.mark.skipif(
    torch is None, reason="PyTorch not installed: pip install torch==2.13.0"
)


# --------------------------------------------------------------------------------------
# finite differences, every output's gradient, both modes
# --------------------------------------------------------------------------------------


def fd_errors(module, x, seed, before_forward=lambda: None):
    """Errors of ``module.backward`` against central differences of L = sum(module(x) * R),
    for the input and every parameter. ``before_forward`` runs before every forward pass
    (Dropout resets its generator there, so every pass draws the same mask)."""
    x = x.copy()

    def out():
        before_forward()
        return module(x)

    # a stream of its own: R drawn like x would make the probe loss degenerate
    R = np.random.default_rng([seed, 1]).standard_normal(out().shape)

    def loss():
        return float(np.sum(out() * R))

    module.zero_grad()
    out()
    dx = module.backward(R)
    errors = {"input": checked_error(dx, numerical_gradient(loss, x))}
    for name, p in module.named_parameters():
        errors[name] = checked_error(p.grad, numerical_gradient(loss, p.data))
    return errors


def random_affine(module, rng):
    for p in module.parameters():
        p.data[:] = rng.standard_normal(p.shape)
    return module


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_gradients_match_finite_differences(seed, affine, training):
    rng = np.random.default_rng(seed)
    bn = random_affine(bplib.BatchNorm1d(3, affine=affine), rng)
    bn.running_mean[:] = rng.standard_normal(3)
    bn.running_var[:] = rng.uniform(0.5, 2, 3)
    bn.train(training)
    x = rng.standard_normal((5, 3)) * 2 + 1
    errors = fd_errors(bn, x, seed)
    assert set(errors) == ({"input", "weight", "bias"} if affine else {"input"})
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("seed", SEEDS)
def test_layernorm_gradients_match_finite_differences(seed, affine):
    rng = np.random.default_rng(seed)
    ln = bplib.LayerNorm(4, elementwise_affine=affine[0], bias=affine[1])
    random_affine(ln, rng)
    for training in (True, False):
        ln.train(training)
        errors = fd_errors(ln, rng.standard_normal((3, 4)) * 3, seed)
        assert len(errors) == 1 + sum(affine)
        assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_residual_gradients_match_finite_differences(seed, training):
    rng = np.random.default_rng(seed)
    branch = bplib.Sequential(bplib.Linear(4, 4, rng=rng), bplib.Tanh(), bplib.BatchNorm1d(4))
    block = bplib.Residual(random_affine(branch, rng)).train(training)
    errors = fd_errors(block, rng.standard_normal((6, 4)), seed)
    assert set(errors) == {"input", "module.0.weight", "module.0.bias", "module.2.weight",
                           "module.2.bias"}  # fmt: skip
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_gradients_match_finite_differences(seed, training):
    drop = bplib.Dropout(0.3).train(training)

    def same_mask():
        drop.rng = np.random.default_rng(seed)

    x = np.random.default_rng(seed).standard_normal((4, 5))
    assert fd_errors(drop, x, seed, same_mask)["input"] < FD_TOL


def test_residual_backward_adds_the_identity_path():
    rng = np.random.default_rng(0)
    inner = bplib.Linear(3, 3, rng=rng)
    block = bplib.Residual(inner)
    x, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(block(x), x + inner(x), rtol=1e-15)
    dx = block.backward(g)
    np.testing.assert_allclose(dx, g + g @ inner.weight.data.T, rtol=1e-15)


def test_residual_backward_to_parameters_gives_the_same_gradients():
    rng = np.random.default_rng(1)
    block = bplib.Residual(bplib.Sequential(bplib.Linear(3, 3, rng=2), bplib.ReLU()))
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    block(x)
    block.backward(g)
    full = [p.grad.copy() for p in block.parameters()]
    block.zero_grad()
    block(x)
    block.backward_to_parameters(g)
    for a, b in zip(full, [p.grad for p in block.parameters()], strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------
# PyTorch autograd
# --------------------------------------------------------------------------------------


def t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def assert_close(ours, theirs, floor=0.0):
    """Relative error < 1e-10, relative to max(scale, floor): a gradient that is zero in exact
    arithmetic (a bias just before batch normalisation) is rounding noise on both sides."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = np.asarray(ours)
    scale = max(float(np.abs(ours).max()), float(np.abs(theirs).max()), floor)
    assert float(np.abs(ours - theirs).max()) < TORCH_TOL * scale


@needs_torch
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_matches_torch(seed, affine, training):
    rng = np.random.default_rng(seed)
    n, k = rng.integers(2, 8), rng.integers(1, 5)
    ours = random_affine(bplib.BatchNorm1d(k, eps=1e-3, momentum=0.2, affine=affine), rng)
    theirs = torch.nn.BatchNorm1d(k, eps=1e-3, momentum=0.2, affine=affine).double()
    mean, var = rng.standard_normal(k), rng.uniform(0.5, 2, k)
    ours.running_mean[:], ours.running_var[:] = mean, var
    with torch.no_grad():
        theirs.running_mean.copy_(torch.tensor(mean))
        theirs.running_var.copy_(torch.tensor(var))
        if affine:
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    ours.train(training)
    theirs.train(training)
    x, g = rng.standard_normal((n, k)) * 3 - 1, rng.standard_normal((n, k))
    xt = t(x)
    out = theirs(xt)
    out.backward(torch.tensor(g))
    assert_close(ours(x), out)
    assert_close(ours.backward(g), xt.grad)
    assert_close(ours.running_mean, theirs.running_mean)
    assert_close(ours.running_var, theirs.running_var)
    if affine:
        assert_close(ours.weight.grad, theirs.weight.grad)
        assert_close(ours.bias.grad, theirs.bias.grad)


@needs_torch
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_batchnorm_running_statistics_follow_torch_over_many_steps(momentum):
    rng = np.random.default_rng(7)
    ours = bplib.BatchNorm1d(4, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(4, momentum=momentum).double()
    for step in range(12):
        x = rng.standard_normal((2 + step % 5, 4)) * rng.uniform(0.5, 3, 4) + rng.standard_normal(4)
        ours(x)
        theirs(torch.tensor(x))
        assert_close(ours.running_mean, theirs.running_mean)
        assert_close(ours.running_var, theirs.running_var)
    x = rng.standard_normal((3, 4))
    assert_close(ours.eval()(x), theirs.eval()(torch.tensor(x)))


@needs_torch
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("seed", SEEDS)
def test_layernorm_matches_torch(seed, affine):
    rng = np.random.default_rng(seed)
    n, k = rng.integers(1, 6), rng.integers(2, 7)
    ours = random_affine(bplib.LayerNorm(k, 1e-4, *affine), rng)
    theirs = torch.nn.LayerNorm(k, 1e-4, *affine).double()
    with torch.no_grad():
        for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
            p_theirs.copy_(torch.tensor(p_ours.data))
    x, g = rng.standard_normal((n, k)) * 2, rng.standard_normal((n, k))
    xt = t(x)
    out = theirs(xt)
    out.backward(torch.tensor(g))
    assert_close(ours(x), out)
    assert_close(ours.backward(g), xt.grad)
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(p_ours.grad, p_theirs.grad)


@needs_torch
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_residual_stack_matches_torch(seed, training):
    rng = np.random.default_rng(seed)
    n, k = 5, 3
    blocks = [
        bplib.Residual(
            bplib.Sequential(bplib.Linear(k, k, rng=rng), bplib.BatchNorm1d(k), bplib.ReLU())
        )
        for _ in range(3)
    ]
    ours = bplib.Sequential(*blocks, bplib.LayerNorm(k))
    random_affine(ours, rng)

    class TorchResidual(torch.nn.Module):
        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return x + self.f(x)

    theirs = torch.nn.Sequential(
        *[
            TorchResidual(
                torch.nn.Sequential(torch.nn.Linear(k, k), torch.nn.BatchNorm1d(k), torch.nn.ReLU())
            )
            for _ in range(3)
        ],
        torch.nn.LayerNorm(k),
    ).double()
    with torch.no_grad():
        for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
            data = p_ours.data.T if p_ours.data.ndim == 2 else p_ours.data
            p_theirs.copy_(torch.tensor(data))
    ours.train(training)
    theirs.train(training)
    x, g = rng.standard_normal((n, k)), rng.standard_normal((n, k))
    xt = t(x)
    out = theirs(xt)
    out.backward(torch.tensor(g))
    assert_close(ours(x), out)
    assert_close(ours.backward(g), xt.grad)
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
        grad = p_theirs.grad.T if p_theirs.grad.ndim == 2 else p_theirs.grad
        assert_close(p_ours.grad, grad, floor=1e-3)  # the Linear biases before BN: 0 + noise


@needs_torch
def test_dropout_scales_like_torch():
    x = np.random.default_rng(0).uniform(1, 2, (50, 40))
    ours = bplib.Dropout(0.25, rng=0)(x)
    theirs = torch.nn.Dropout(0.25)(torch.tensor(x)).numpy()
    for y in (ours, theirs):  # each entry is dropped, or kept and scaled by 1/(1 - p)
        kept = y != 0
        np.testing.assert_allclose(y[kept], x[kept] / 0.75, rtol=1e-15)
    assert_close(bplib.Dropout(0.25).eval()(x), torch.nn.Dropout(0.25).eval()(torch.tensor(x)))


# --------------------------------------------------------------------------------------
# dropout's mask
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_a_fraction_one_minus_p_and_preserves_the_mean(p):
    n = 200_000
    x = np.ones((n // 100, 100))
    y = bplib.Dropout(p, rng=3)(x)
    kept = float(np.mean(y != 0))
    sigma = np.sqrt(p * (1 - p) / n)  # binomial standard error of the kept fraction
    assert abs(kept - (1 - p)) < 5 * sigma
    assert abs(y.mean() - 1) < 5 * sigma / (1 - p)
    np.testing.assert_allclose(np.unique(y), [0, 1 / (1 - p)], rtol=1e-15)


def test_dropout_backward_uses_the_forward_mask():
    drop = bplib.Dropout(0.5, rng=1)
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((6, 7)), rng.standard_normal((6, 7))
    y = drop(x)
    dx = drop.backward(g)
    np.testing.assert_array_equal(dx == 0, y == 0)
    np.testing.assert_allclose(dx[y != 0], 2 * g[y != 0], rtol=1e-15)


def test_dropout_draws_a_fresh_mask_every_pass_and_is_seeded():
    x = np.ones((10, 10))
    a = bplib.Dropout(0.5, rng=4)
    first, second = a(x), a(x)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, bplib.Dropout(0.5, rng=4)(x))


def test_dropout_is_the_identity_in_eval_mode():
    drop = bplib.Dropout(0.9, rng=0).eval()
    x, g = np.arange(12.0).reshape(3, 4), np.ones((3, 4))
    np.testing.assert_array_equal(drop(x), x)
    np.testing.assert_array_equal(drop.backward(g), g)


def test_dropout_with_p_zero_is_the_identity():
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(bplib.Dropout(0.0)(x), x)


# --------------------------------------------------------------------------------------
# batch normalisation's statistics and modes
# --------------------------------------------------------------------------------------


def test_batchnorm_standardises_each_feature_over_the_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)) * [1, 10, 100] + [5, -5, 50]
    y = bplib.BatchNorm1d(3, eps=1e-12)(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, rtol=1e-9)


def test_batchnorm_running_statistics_derived_by_hand():
    bn = bplib.BatchNorm1d(1, momentum=0.1)
    bn(np.array([[1.0], [2.0], [6.0]]))  # mean 3, unbiased variance (4 + 1 + 9) / 2 = 7
    np.testing.assert_allclose(bn.running_mean, [0.9 * 0 + 0.1 * 3], rtol=1e-15)
    np.testing.assert_allclose(bn.running_var, [0.9 * 1 + 0.1 * 7], rtol=1e-15)


def test_batchnorm_eval_mode_uses_running_statistics_and_leaves_them_alone():
    bn = bplib.BatchNorm1d(2, eps=0.0 + 1e-5).eval()
    bn.running_mean[:] = [1.0, -2.0]
    bn.running_var[:] = [4.0, 0.25]
    x = np.array([[3.0, -1.0]])  # a batch of one is fine in eval mode
    np.testing.assert_allclose(
        bn(x), [[2 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]], rtol=1e-15
    )
    np.testing.assert_array_equal(bn.running_mean, [1.0, -2.0])
    np.testing.assert_array_equal(bn.running_var, [4.0, 0.25])


def test_batchnorm_declares_its_buffers():
    assert bplib.Module._buffers == ()
    assert bplib.BatchNorm1d._buffers == ("running_mean", "running_var")
    bn = bplib.BatchNorm1d(3)
    for name in bn._buffers:
        assert isinstance(getattr(bn, name), np.ndarray)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]


def test_layernorm_does_not_depend_on_the_rest_of_the_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    ln = bplib.LayerNorm(4)
    np.testing.assert_allclose(ln(x)[:1], ln(x[:1]), rtol=1e-15)


# --------------------------------------------------------------------------------------
# float32
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
def test_float32_layers_stay_float32_and_agree_with_float64(training):
    rng = np.random.default_rng(0)
    x64, g64 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))

    def build(dtype):
        return bplib.Sequential(
            bplib.Residual(
                bplib.Sequential(
                    bplib.Linear(4, 4, rng=1, dtype=dtype), bplib.BatchNorm1d(4, dtype=dtype)
                )
            ),
            bplib.LayerNorm(4, dtype=dtype),
            bplib.Dropout(0.5, rng=2),
        ).train(training)

    nets = {dt: build(dt) for dt in (np.float32, np.float64)}
    out = {dt: net(x64.astype(dt)) for dt, net in nets.items()}
    dx = {dt: net.backward(g64.astype(dt)) for dt, net in nets.items()}
    assert out[np.float32].dtype == dx[np.float32].dtype == np.float32
    for p in nets[np.float32].parameters():
        assert p.data.dtype == p.grad.dtype == np.float32
    bn32 = nets[np.float32][0].module[1]
    assert bn32.running_mean.dtype == bn32.running_var.dtype == np.float32
    np.testing.assert_allclose(out[np.float32], out[np.float64], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx[np.float32], dx[np.float64], rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------------------
# train() and eval(), and fit / evaluate / predict
# --------------------------------------------------------------------------------------


def nested_model():
    return bplib.Sequential(
        bplib.Linear(3, 4, rng=0),
        bplib.Residual(bplib.Sequential(bplib.BatchNorm1d(4), bplib.Dropout(0.5, rng=0))),
        bplib.Linear(4, 2, rng=1),
    )


def every_flag(model):
    flags = [model.training]
    for child in model.children():
        flags += every_flag(child)
    return flags


def test_train_and_eval_propagate_to_every_child_and_return_the_module():
    model = nested_model()
    assert every_flag(model) == [True] * 7
    assert model.eval() is model
    assert every_flag(model) == [False] * 7
    assert model.train() is model
    assert every_flag(model) == [True] * 7
    model.train(False)
    assert every_flag(model) == [False] * 7


def test_train_refuses_a_mode_that_is_not_a_bool():
    with pytest.raises(ValueError, match=r"train\(mode\) expects True or False, got 'eval'"):
        nested_model().train("eval")


class Spy(bplib.Identity):
    """Records the mode it was in at every forward pass."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, z):
        self.seen.append(self.training)
        return super().forward(z)


def spied_model():
    spy = Spy()
    model = bplib.Sequential(bplib.Linear(2, 2, rng=0), spy)
    return model, spy


def test_fit_trains_in_training_mode_validates_in_eval_mode_and_restores_the_mode():
    X = np.random.default_rng(0).standard_normal((8, 2))
    y = np.array([0, 1] * 4)
    model, spy = spied_model()
    model.eval()
    opt = bplib.optim.SGD(model.parameters(), lr=0.1)
    fit(model, bplib.CrossEntropyLoss(), opt, X, y, epochs=2, batch_size=4,
        validation=(X, y), rng=0, progress=False)  # fmt: skip
    # first fit's checks, one example each of X and of the validation set, in eval mode;
    # then per epoch: two training batches, then the validation pass
    assert spy.seen == [False, False, True, True, False, True, True, False]
    assert every_flag(model) == [False, False, False]


def test_fit_restores_the_mode_even_when_training_fails():
    model, _ = spied_model()
    model[1].eval()  # a mixed state: restored module by module
    opt = bplib.optim.SGD(model.parameters(), lr=1e300)
    X = np.full((4, 2), 1e300)
    with pytest.raises(FloatingPointError):
        fit(model, bplib.MSELoss(), opt, X, np.zeros((4, 2)), epochs=3, progress=False)
    assert every_flag(model) == [True, True, False]


@pytest.mark.parametrize("start", [True, False])
def test_evaluate_and_predict_run_in_eval_mode_and_restore_the_mode(start):
    model, spy = spied_model()
    model.train(start)
    X, y = np.ones((3, 2)), np.array([0, 1, 0])
    evaluate(model, bplib.CrossEntropyLoss(), X, y)
    predict(model, X)
    bplib.train.predict_classes(model, X)
    assert spy.seen == [False, False, False]
    assert every_flag(model) == [start] * 3


def test_evaluating_in_training_mode_is_random_and_in_eval_mode_is_not():
    model = bplib.Sequential(bplib.Linear(3, 3, rng=0), bplib.Dropout(0.5, rng=0))
    X = np.ones((4, 3))
    assert not np.array_equal(model(X), model(X))  # the classic bug: training mode
    np.testing.assert_array_equal(predict(model, X), predict(model, X))
    assert model.training  # predict put it back


# --------------------------------------------------------------------------------------
# bad arguments
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [-0.1, 1, 1.0, 1.5, float("nan")])
def test_dropout_refuses_p_outside_zero_one(p):
    with pytest.raises(
        ValueError, match=r"Dropout: p \(the probability of dropping\) must lie in \[0, 1\), got"
    ):
        bplib.Dropout(p)


@pytest.mark.parametrize("p", [True, "0.5", None])
def test_dropout_refuses_p_that_is_not_a_number(p):
    with pytest.raises(
        TypeError, match=r"Dropout: p \(the probability of dropping\) must be a real number"
    ):
        bplib.Dropout(p)


@pytest.mark.parametrize("cls", [bplib.BatchNorm1d, bplib.LayerNorm])
@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_normalisation_refuses_a_bad_number_of_features(cls, n):
    name = "num_features" if cls is bplib.BatchNorm1d else "normalized_shape"
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        cls(n)


def test_layernorm_refuses_more_than_one_normalised_axis():
    with pytest.raises(ValueError, match="tuple of one int, got \\(3, 4\\)"):
        bplib.LayerNorm((3, 4))
    assert bplib.LayerNorm((3,)).normalized_shape == (3,)


@pytest.mark.parametrize("kwargs", [{"eps": 0}, {"eps": -1e-5}, {"momentum": 1.5},
                                    {"momentum": -0.1}])  # fmt: skip
def test_batchnorm_refuses_bad_eps_and_momentum(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        bplib.BatchNorm1d(3, **kwargs)


def test_batchnorm_refuses_a_batch_of_one_in_training_mode_and_changes_nothing():
    bn = bplib.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"more than 1 example per batch.*\(1, 3\)"):
        bn(np.ones((1, 3)))
    np.testing.assert_array_equal(bn.running_mean, 0)
    np.testing.assert_array_equal(bn.running_var, 1)
    assert bn.eval()(np.ones((1, 3))).shape == (1, 3)


@pytest.mark.parametrize("layer", [bplib.BatchNorm1d(3), bplib.LayerNorm(3)])
def test_normalisation_refuses_the_wrong_number_of_features(layer):
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\), got \(4, 2\)"):
        layer(np.ones((4, 2)))


def test_residual_refuses_a_branch_that_changes_the_shape():
    block = bplib.Residual(bplib.Linear(3, 2, rng=0))
    with pytest.raises(ValueError, match=r"input \(4, 3\), Linear output \(4, 2\)"):
        block(np.ones((4, 3)))


def test_residual_refuses_a_class_instead_of_a_module():
    with pytest.raises(TypeError, match="a class, not an instance"):
        bplib.Residual(bplib.ReLU)


@pytest.mark.parametrize(
    "layer",
    [bplib.BatchNorm1d(2), bplib.LayerNorm(2), bplib.Dropout(0.5), bplib.Residual(bplib.ReLU())],
)
def test_backward_before_forward_is_refused(layer):
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward"):
        layer.backward(np.ones((3, 2)))


@pytest.mark.parametrize(
    "layer",
    [bplib.BatchNorm1d(2), bplib.LayerNorm(2), bplib.Dropout(0.5), bplib.Residual(bplib.ReLU())],
)
def test_backward_refuses_a_gradient_of_the_wrong_shape(layer):
    layer(np.ones((3, 2)) + np.arange(3.0)[:, None])
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(3, 2\)"):
        layer.backward(np.ones((2, 2)))


def test_train_and_eval_reach_a_module_that_refers_to_its_owner_once():
    # the same walk as parameters(): a back-reference must not recurse forever
    inner = bplib.Dropout(0.5, rng=0)
    model = bplib.Sequential(bplib.Linear(2, 2, rng=0), inner)
    inner.owner = model
    model.eval()
    assert not model.training and not inner.training
    model.train()
    assert model.training and inner.training


def test_state_dict_and_buffers_reach_a_module_that_refers_to_its_owner_once():
    norm = bplib.BatchNorm1d(2)
    model = bplib.Sequential(bplib.Linear(2, 2, rng=0), norm)
    norm.owner = model  # a back-reference: the walk must not recurse forever
    assert [name for name, _ in model.named_buffers()] == [
        "1.running_mean",
        "1.running_var",
    ]
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", *list(state)[4:]]
    assert {"1.running_mean", "1.running_var"} <= set(state)
    model.load_state_dict(state)
