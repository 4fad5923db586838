"""Low-precision training (bplib.amp): float16 layers, GradScaler against PyTorch's, and
float32 master weights (MasterWeights), alone and through fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bplib
from bplib.amp import GradScaler, MasterWeights

C = np.array([0.3, -1.7, 2.5e-3], np.float32)  # d(loss)/dp for loss = sum(p * C)


def half_net(dtype=np.float16, seed=0):
    return bplib.Sequential(
        bplib.Linear(8, 6, rng=seed, dtype=dtype),
        bplib.Tanh(),
        bplib.Linear(6, 3, rng=seed + 1, dtype=dtype),
    )


# --- float16 layers and losses ------------------------------------------------------------


def test_float16_is_a_layer_dtype_and_other_dtypes_keep_their_message():
    layer = bplib.Linear(3, 2, rng=0, dtype=np.float16)
    assert layer.weight.data.dtype == np.float16
    assert layer(np.ones((4, 3), np.float16)).dtype == np.float16
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        bplib.Linear(3, 2, dtype=np.int64)
    with pytest.raises(TypeError, match="has dtype float16 but the input has dtype float32"):
        layer(np.ones((4, 3), np.float32))  # no silent change of precision, as before


def test_float16_cross_entropy_is_finite_for_logits_float16_can_hold():
    # log-softmax shifts by the row maximum: finite while max - min < 65504 (float16's
    # max); the batch's sum of the losses is a float16 sum too, and must stay below it
    z = np.array([[300.0, -300.0, 0.0], [3e4, -5e3, 0.0]], np.float16)
    loss = bplib.CrossEntropyLoss()
    value = loss(z, np.array([1, 1]))
    assert math.isfinite(value) and value == pytest.approx((600 + 35000) / 2, rel=1e-3)
    assert loss.backward().dtype == np.float16
    np.testing.assert_array_equal(loss.backward(), np.array([[0.5, -0.5, 0], [0.5, -0.5, 0]]))


def bfloat16():
    ml_dtypes = pytest.importorskip(
        "ml_dtypes", reason='ml_dtypes not installed: pip install "bplib-book[lowp]"'
    )
    return np.dtype(ml_dtypes.bfloat16)


def test_bfloat16_layers_accumulate_in_float32_and_round_once():
    bf = bfloat16()
    layer = bplib.Linear(5, 4, rng=0, dtype=bf)
    layer.bias.data[...] = np.linspace(-1, 1, 4).astype(bf)
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(bf)
    out = layer(x)
    assert out.dtype == bf
    w32, b32 = layer.weight.data.astype(np.float32), layer.bias.data.astype(np.float32)
    np.testing.assert_array_equal(out, (x.astype(np.float32) @ w32 + b32).astype(bf))
    g = np.ones((3, 4), bf)
    gx = layer.backward(g)
    assert gx.dtype == bf and layer.weight.grad.dtype == bf
    np.testing.assert_array_equal(gx, (g.astype(np.float32) @ w32.T).astype(bf))
    np.testing.assert_array_equal(
        layer.weight.grad, (x.astype(np.float32).T @ np.ones((3, 4), np.float32)).astype(bf)
    )


def test_bfloat16_trains_through_fit_with_master_weights_and_a_scaler():
    bf = bfloat16()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 8))
    y = X[:, :3].argmax(1)
    model = MasterWeights(half_net(bf))
    scaler = GradScaler(init_scale=1.0, growth_interval=5)  # bfloat16 gradients: allowed
    opt = bplib.optim.SGD(model.parameters(), lr=0.5)
    history = bplib.fit(
        model, bplib.CrossEntropyLoss(), opt, X.astype(bf), y, epochs=8, batch_size=32,
        rng=0, progress=False, grad_scaler=scaler,
    )  # fmt: skip
    assert history.loss[-1] < history.loss[0] / 2
    assert model(X[:2].astype(bf)).dtype == bf
    assert scaler.get_scale() > 1.0  # no overflow: bfloat16 has float32's range


def test_bfloat16_batch_norm_is_refused():
    bf = bfloat16()
    with pytest.raises(TypeError, match="BatchNorm1d does not compute in bfloat16"):
        bplib.BatchNorm1d(3, dtype=bf)


# --- GradScaler: the scale sequence and the skipped steps, against PyTorch -----------------

PATTERNS = {  # per step: None (finite gradients), "inf" or "nan" in one entry
    "grow every 2": dict(init_scale=4.0, growth_interval=2, bad=[0, 0, 1, 0, 0, 0, 2, 0, 0]),
    "odd factors": dict(
        init_scale=1000.0,
        growth_factor=3.0,
        backoff_factor=0.3,
        growth_interval=1,
        bad=[0, 1, 0, 0, 1, 1, 0, 2, 0, 0],
    ),
    "every step bad": dict(init_scale=2.0**16, bad=[1] * 6),
    "default interval": dict(growth_interval=2000, bad=[0] * 5 + [1]),
    "growth overflows float32": dict(init_scale=2.0**127, growth_interval=1, bad=[0, 0, 1, 0]),
}


def bplib_run(bad, **kw):
    p = bplib.Parameter(np.ones(3, np.float32), "p")
    opt = bplib.optim.SGD([p], lr=0.1)
    scaler = GradScaler(**kw)
    record = []
    for kind in bad:
        opt.zero_grad()
        p.grad[...] = scaler.scale(C)
        if kind:
            p.grad[0] = np.inf if kind == 1 else np.nan
        before = p.data.copy()
        scaler.step(opt)
        scaler.update()
        taken = not np.array_equal(p.data, before)
        record.append((scaler.get_scale(), scaler.get_growth_tracker(), taken, p.grad.copy()))
    return record, scaler


def torch_run(torch, bad, **kw):
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([p], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", **kw)
    record = []
    for kind in bad:
        opt.zero_grad()
        scaler.scale((p * torch.from_numpy(C)).sum()).backward()
        if kind:
            with torch.no_grad():
                p.grad[0] = math.inf if kind == 1 else math.nan
        before = p.detach().clone()
        scaler.step(opt)
        scaler.update()
        taken = not torch.equal(p.detach(), before)
        grad = p.grad.numpy().copy()
        record.append((scaler.get_scale(), scaler._get_growth_tracker(), taken, grad))
    return record, scaler


@pytest.mark.parametrize("name", PATTERNS)
def test_scale_sequence_and_steps_are_pytorchs(name):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    kw = dict(PATTERNS[name])
    bad = kw.pop("bad")
    ours, our_scaler = bplib_run(bad, **kw)
    theirs, their_scaler = torch_run(torch, bad, **kw)
    assert [r[:3] for r in ours] == [r[:3] for r in theirs]  # scale, tracker, step taken
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a[3], b[3])  # the unscaled gradients, bit for bit
    assert our_scaler.state_dict() == their_scaler.state_dict()


def test_the_scale_sequence_without_torch():
    # derived by hand: 4 -> grows to 8 after 2 good steps; inf halves it; ...
    record, _ = bplib_run([0, 0, 1, 0, 0, 0], init_scale=4.0, growth_interval=2)
    assert [r[0] for r in record] == [4.0, 8.0, 4.0, 4.0, 8.0, 8.0]
    assert [r[1] for r in record] == [1, 0, 0, 1, 0, 1]
    assert [r[2] for r in record] == [True, True, False, True, True, True]


def test_a_skipped_step_changes_neither_parameters_nor_optimiser_state():
    p = bplib.Parameter(np.ones(3, np.float32), "p")
    opt = bplib.optim.Adam([p], lr=0.1)
    scaler = GradScaler(init_scale=8.0)
    p.grad[...] = scaler.scale(C)
    scaler.step(opt)
    scaler.update()
    before, state = p.data.copy(), {k: np.copy(v) for k, v in opt.state[p].items()}
    opt.zero_grad()
    p.grad[...] = scaler.scale(C)
    p.grad[1] = np.nan
    scaler.step(opt)  # no FloatingPointError: skipped
    scaler.update()
    np.testing.assert_array_equal(p.data, before)
    assert all(np.array_equal(opt.state[p][k], v) for k, v in state.items())
    assert scaler.get_scale() == 4.0


def test_unscale_divides_by_the_scale_and_is_called_once():
    p = bplib.Parameter(np.ones(3, np.float32), "p")
    opt = bplib.optim.SGD([p], lr=0.1)
    scaler = GradScaler(init_scale=1024.0)
    p.grad[...] = scaler.scale(C)
    np.testing.assert_array_equal(p.grad, C * np.float32(1024))  # a power of 2: exact
    scaler.unscale_(opt)
    np.testing.assert_array_equal(p.grad, C)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)  # does not unscale again
    np.testing.assert_array_equal(p.data, np.float32(1) - np.float32(0.1) * C)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match="no inf checks were recorded"):
        scaler.update()


def test_float16_gradients_are_not_unscaled():
    layer = bplib.Linear(2, 2, rng=0, dtype=np.float16)
    opt = bplib.optim.SGD(layer.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"unscale float16 gradients.*MasterWeights"):
        GradScaler().step(opt)
    assert all(not p.grad.any() for p in layer.parameters())


def test_a_disabled_scaler_does_nothing():
    p = bplib.Parameter(np.ones(3), "p")
    opt = bplib.optim.SGD([p], lr=0.5)
    scaler = GradScaler(enabled=False)
    g = np.array([1.0, 2.0, 3.0])
    assert scaler.scale(g) is g and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    p.grad[...] = g
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(p.data, 1 - 0.5 * g)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(init_scale=0.0), "init_scale must be a finite number > 0"),
        (dict(growth_factor=1.0), "growth_factor must be a finite number > 1"),
        (dict(backoff_factor=1.0), "backoff_factor must lie in \\(0, 1\\)"),
        (dict(growth_interval=0), "growth_interval must be a positive integer"),
    ],
)
def test_bad_arguments_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        GradScaler(**kw)


def test_state_dict_round_trips_through_save_and_load(tmp_path):
    _, scaler = bplib_run([0, 1, 0], init_scale=64.0, growth_interval=3)
    bplib.save(scaler.state_dict(), tmp_path / "scaler.npz")
    other = GradScaler()
    other.load_state_dict(bplib.load(tmp_path / "scaler.npz"))
    assert (
        other.state_dict()
        == scaler.state_dict()
        == {
            "scale": 32.0,
            "growth_factor": 2.0,
            "backoff_factor": 0.5,
            "growth_interval": 3,
            "_growth_tracker": 1,
        }
    )
    bad = {**scaler.state_dict(), "backoff_factor": 2.0}
    with pytest.raises(ValueError, match="backoff_factor"):
        other.load_state_dict(bad)
    assert other.state_dict() == scaler.state_dict()  # nothing changed
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})


# --- MasterWeights ------------------------------------------------------------------------


def test_master_weights_are_float32_copies_named_as_the_model():
    half = half_net()
    model = MasterWeights(half)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in half.named_parameters()]
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    for (_, low), master in zip(half.named_parameters(), model.parameters(), strict=True):
        np.testing.assert_array_equal(master.data, low.data.astype(np.float32))
    state = model.state_dict()
    assert list(state) == list(half.state_dict())


def test_master_weights_compute_in_half_and_accumulate_in_float32():
    half = half_net()
    model = MasterWeights(half)
    model.parameters()[0].data[0, 0] += np.float32(1e-4)  # below float16's spacing near 0.3
    X = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float16)
    out = model(X)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(
        half[0].weight.data, model.parameters()[0].data.astype(np.float16)
    )
    g = np.ones_like(out)
    model.zero_grad()
    model.backward(g)
    model.backward(g)  # accumulates, as every module
    reference = half_net()
    reference.load_state_dict({k: v.astype(np.float16) for k, v in model.state_dict().items()})
    reference(X)
    reference.backward(g)
    for master, low in zip(model.parameters(), reference.parameters(), strict=True):
        assert master.grad.dtype == np.float32
        np.testing.assert_array_equal(master.grad, 2 * low.grad.astype(np.float32))


def test_loss_scaling_rescues_gradients_that_underflow_in_float16():
    # a batch of 4096: dL/dz = (p - onehot)/4096 ~ 1e-4, and inputs ~ 1e-5: the first
    # layer's gradient entries are mostly below float16's smallest subnormal, 6e-8: 0
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((4096, 8)) * 1e-5).astype(np.float16)
    y = rng.integers(0, 3, 4096)
    loss_fn = bplib.CrossEntropyLoss()
    exact = half_net(np.float32)
    exact(X.astype(np.float32))
    loss_fn(exact(X.astype(np.float32)), y)
    exact.backward(loss_fn.backward())
    truth = exact[0].weight.grad
    grads = {}
    for scale in (None, 2.0**16):
        model = MasterWeights(half_net())
        opt = bplib.optim.SGD(model.parameters(), lr=0.1)
        scaler = GradScaler(init_scale=scale or 1.0, enabled=scale is not None)
        model.zero_grad()
        loss_fn(model(X), y)
        model.backward(scaler.scale(loss_fn.backward()))
        scaler.unscale_(opt)
        grads[scale] = model.parameters()[0].grad
    zero_plain = np.mean(grads[None] == 0)
    zero_scaled = np.mean(grads[2.0**16] == 0)
    assert zero_plain > 0.5 and zero_scaled == 0.0
    err = np.abs(grads[2.0**16] - truth).max() / np.abs(truth).max()
    assert err < 0.05  # float16 arithmetic, but no entry lost


def test_fit_with_a_grad_scaler_skips_overflowing_steps_and_trains():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 8)).astype(np.float16)
    y = (X[:, :3].argmax(1)).astype(np.int64)
    model = MasterWeights(half_net())
    opt = bplib.optim.SGD(model.parameters(), lr=0.5)
    scaler = GradScaler(init_scale=2.0**40, growth_interval=10)  # float16 overflows at first
    history = bplib.fit(
        model, bplib.CrossEntropyLoss(), opt, X, y, epochs=8, batch_size=32, rng=0,
        progress=False, grad_scaler=scaler,
    )  # fmt: skip
    assert scaler.get_scale() < 2.0**40  # backed off (skipped steps, no FloatingPointError)
    assert history.loss[-1] < history.loss[0] / 2
    # the loss gradient's entries for the true class are about (1 - 1/3)/32 = 2^-5.6 at the
    # start: times a scale >= 2^22 they exceed float16's 65504 < 2^16. So the first 16
    # batches (scales 2^40 down to 2^25) overflow: epochs 1 and 2 (8 batches each) take
    # no step and record no gradient norm; the later epochs take steps and record one
    assert [math.isnan(v) for v in history.grad_norm] == [True] * 2 + [False] * 6


def test_fit_refuses_a_grad_scaler_of_another_kind():
    model = half_net(np.float64)
    opt = bplib.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"grad_scaler must be a bplib\.amp\.GradScaler"):
        bplib.fit(
            model, bplib.MSELoss(), opt, np.ones((4, 8)), np.ones((4, 3)), epochs=1,
            progress=False, grad_scaler=object(),
        )  # fmt: skip
