"""Validated state (issue 27): loads that are all or nothing, ModuleList, optimiser and
scheduler states checked as their constructors check, interrupts that leave no
half-applied step, EarlyStopping with non-finite values, baseline and start_from_epoch,
BatchNorm1d's non-finite variance, and ModelCheckpoint."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import bplib
from bplib import optim, utils
from bplib.train import EarlyStopping, ModelCheckpoint

from .test_convergence import scripted  # EarlyStopping fed one value per epoch


def mlp(seed=0, dtype=np.float64):
    return bplib.Sequential(
        bplib.Linear(2, 4, rng=seed, dtype=dtype), bplib.Tanh(), bplib.Linear(4, 2, rng=seed + 1)
    )


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


# ----------------------------------------------------------------------------------------
# all-or-nothing loads
# ----------------------------------------------------------------------------------------


def test_load_state_dict_refuses_a_read_only_parameter_before_writing_any():
    net = mlp()
    before = snapshot(net)
    net[2].bias.data.flags.writeable = False  # the last parameter: the others come first
    new = {k: v + 1 for k, v in before.items()}
    with pytest.raises(ValueError, match=r"'2.bias' is a read-only array.*nothing was changed"):
        net.load_state_dict(new)
    assert_unchanged(net, before)


def test_load_state_dict_refuses_a_masked_array_hiding_a_nan():
    net = mlp()
    before = snapshot(net)
    w = before["0.weight"].copy()
    w[0, 0] = np.nan
    state = {**before, "0.weight": np.ma.masked_array(w, mask=np.isnan(w))}
    with pytest.raises(TypeError, match=r"'0.weight' is a masked array"):
        net.load_state_dict(state)
    assert_unchanged(net, before)


def test_vector_to_parameters_is_all_or_nothing():
    net = mlp()
    params = net.parameters()
    before = utils.parameters_to_vector(params)
    params[-1].data.flags.writeable = False
    with pytest.raises(ValueError, match=r"parameter 3 \(bias\) is a read-only array"):
        utils.vector_to_parameters(np.zeros_like(before), params)
    np.testing.assert_array_equal(utils.parameters_to_vector(params), before)
    params[-1].data.flags.writeable = True
    hidden = np.ma.masked_array(np.zeros_like(before), mask=False)
    with pytest.raises(TypeError, match="masked array"):
        utils.vector_to_parameters(hidden, params)


# ----------------------------------------------------------------------------------------
# ModuleList
# ----------------------------------------------------------------------------------------


class Tower(bplib.Module):
    def __init__(self, n=3, holder=bplib.ModuleList):
        self.layers = holder([bplib.Linear(2, 2, rng=i) for i in range(n)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def test_module_list_names_and_saves_its_layers_as_pytorch(tmp_path):
    tower = Tower()
    assert list(tower.state_dict()) == [
        f"layers.{i}.{p}" for i in range(3) for p in ("weight", "bias")
    ]
    assert len(tower.parameters()) == 6
    bplib.save(tower.state_dict(), tmp_path / "t.npz")
    other = Tower()
    for layer in other.layers:
        layer.weight.data += 1
    other.load_state_dict(bplib.load(tmp_path / "t.npz"))
    x = np.ones((1, 2))
    np.testing.assert_array_equal(other(x), tower(x))


def test_module_list_behaves_as_a_list():
    ml = bplib.ModuleList()
    ml.append(bplib.Linear(1, 1, rng=0)).extend([bplib.Tanh(), bplib.ReLU()])
    ml.insert(0, bplib.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "Tanh", "ReLU"]
    assert isinstance(ml[1:], bplib.ModuleList) and len(ml[1:]) == 3
    del ml[0]
    ml[0] = bplib.Sigmoid()
    ml += [bplib.Tanh()]
    assert len(ml) == 4 and "ModuleList(" in repr(ml)
    with pytest.raises(TypeError, match="a class, not an instance"):
        ml.append(bplib.Tanh)
    with pytest.raises(TypeError, match="expects a Module instance, got 3"):
        bplib.ModuleList([3])
    with pytest.raises(NotImplementedError):
        ml(np.ones((1, 1)))


@pytest.mark.parametrize("holder", [list, tuple, lambda ms: dict(enumerate(ms))])
def test_a_plain_container_of_modules_is_refused_where_weights_would_be_dropped(holder):
    tower = Tower(holder=holder)
    for call in (tower.state_dict, tower.train, lambda: tower.load_state_dict({})):
        with pytest.raises(TypeError, match=r"Tower.layers is a plain .* bplib.ModuleList"):
            call()


# ----------------------------------------------------------------------------------------
# optimiser and scheduler states are checked as the constructors check
# ----------------------------------------------------------------------------------------


def stepped(make):
    net = mlp()
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
    net = mlp()
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
    opt = optim.Adam(mlp().parameters())
    opt.load_state_dict(bplib.load(tmp_path / "o.npz"))
    assert opt.state[opt.params[0]]["step"] == 2


def test_adam_and_adamw_states_round_trip_through_a_file(tmp_path):
    for kind in (optim.Adam, optim.AdamW):
        bplib.save(stepped(kind), tmp_path / "o.npz")
        opt = kind(mlp().parameters())
        opt.load_state_dict(bplib.load(tmp_path / "o.npz"))
        assert opt.state[opt.params[1]]["step"] == 2


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
    opt = optim.SGD(mlp().parameters(), lr=0.1)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    sched.step()
    before = dict(vars(sched))
    with pytest.raises(ValueError, match=message):
        sched.load_state_dict(state)
    assert vars(sched) == before and opt.lr == 0.1


def test_a_scheduler_state_round_trips_through_a_file_with_its_hyperparameters(tmp_path):
    opt = optim.SGD(mlp().parameters(), lr=0.1)
    sched = optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for _ in range(3):
        sched.step()
    bplib.save(sched.state_dict(), tmp_path / "s.npz")
    other = optim.CosineAnnealingLR(optim.SGD(mlp().parameters(), lr=0.1), T_max=10, eta_min=0.01)
    other.load_state_dict(bplib.load(tmp_path / "s.npz"))
    assert (other.last_epoch, other.base_lr, other.get_last_lr()) == (3, 0.1, 0.1)
    # a StepLR state does not load into a cosine schedule
    step = optim.StepLR(optim.SGD(mlp().parameters(), lr=0.1), step_size=2)
    with pytest.raises(ValueError, match="saved from another schedule"):
        other.load_state_dict(step.state_dict())


# ----------------------------------------------------------------------------------------
# interrupts: no half-applied step, fit keeps the completed epochs
# ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def default_sigint():
    """Ctrl-C as a plain Python process has it: pytest-xdist's workers ignore SIGINT, and
    deferred_interrupts (rightly) leaves an ignored signal ignored."""
    if os.name != "posix":
        yield
        return
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class Tripwire(np.ndarray):
    """A parameter array that sends this process SIGINT when the optimiser writes into it
    (a new value, ``data[...] = theta``, or a change subtracted in place, ``data -= change``)."""

    def __setitem__(self, key, value):
        os.kill(os.getpid(), signal.SIGINT)
        super().__setitem__(key, value)

    def __isub__(self, other):
        os.kill(os.getpid(), signal.SIGINT)
        return super().__isub__(other)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT")
@pytest.mark.parametrize("guarded", [False, True], ids=["step alone", "deferred_interrupts"])
@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1), optim.Adam, optim.AdamW])
def test_an_interrupt_inside_step_leaves_no_half_applied_update(make, guarded):
    if guarded:
        with optim.deferred_interrupts():
            test_an_interrupt_inside_step_leaves_no_half_applied_update(make, False)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        return
    net = mlp()
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


def test_ctrl_c_outside_the_writes_interrupts_at_once_inside_deferred_interrupts():
    with pytest.raises(KeyboardInterrupt):
        with optim.deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between two bytecodes
                pass
            pytest.fail("the interrupt was held back outside a step")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_in_fit_keeps_the_history_of_the_completed_epochs():
    net = bplib.Sequential(
        bplib.Linear(2, 4, rng=0), bplib.BatchNorm1d(4), bplib.Linear(4, 2, rng=1)
    )
    net[1].eval()  # a module in its own mode: fit must put it back
    X = np.random.default_rng(0).standard_normal((16, 2))
    y = np.arange(16) % 2
    calls = []

    def tripwire(out, target):  # a metric, called once per batch: Ctrl-C in epoch 3
        calls.append(1)
        if len(calls) == 2 + 5 * 2 + 2:  # 2 checks before training; 4 batches + validation
            raise KeyboardInterrupt
        return 0.0

    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(KeyboardInterrupt) as info:
        bplib.fit(
            net, bplib.CrossEntropyLoss(), opt, X, y, epochs=10, batch_size=4,
            rng=0, metrics=[tripwire], validation=(X, y), progress=False,
        )  # fmt: skip
    history = info.value.history
    assert history.epochs == 2 and history.stopped_epoch == 2
    assert all(len(v) == 2 for v in history.as_dict().values())
    assert (
        history.stop_reason == "interrupted (KeyboardInterrupt) during epoch 3; 2 epochs completed"
    )
    assert net.training and not net[1].training  # modes restored
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ----------------------------------------------------------------------------------------
# EarlyStopping: non-finite values, baseline, start_from_epoch
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("first", [np.nan, np.inf, -np.inf])
def test_a_non_finite_first_value_neither_improves_nor_stops_at_epoch_one(first):
    epoch, stop, _ = scripted([first, 1.0, 0.9, 0.95, 0.97], patience=2)
    assert epoch == 5 and stop.best == 0.9 and stop.best_epoch == 3
    assert scripted([first], patience=0)[0] is None  # patience 0: still no stop at epoch 1


def test_nan_never_counts_as_an_improvement():
    epoch, stop, _ = scripted([1.0, np.nan, np.nan, 0.5], patience=2)
    assert epoch == 3 and stop.best == 1.0


def test_baseline_must_be_beaten_as_in_keras():
    # Keras 3: an improvement that does not beat the baseline does not reset the count
    epoch, stop, _ = scripted([0.9, 0.9, 0.9], patience=2, baseline=0.5)
    assert epoch == 2 and stop.best_epoch == 1
    assert scripted([0.9, 0.9, 0.9], patience=2)[0] == 3  # without the baseline: one more
    epoch, stop, _ = scripted([0.9, 0.4, 0.45, 0.46], patience=2, baseline=0.5)
    assert epoch == 4 and stop.best_epoch == 2


def test_start_from_epoch_ignores_the_warm_up_epochs():
    # Keras 3: epochs <= start_from_epoch are not monitored at all
    epoch, stop, _ = scripted([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], patience=1, start_from_epoch=3)
    assert epoch == 5 and stop.best_epoch == 4
    assert scripted([1.0, 2.0, 3.0], patience=0, start_from_epoch=3)[0] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline": np.nan}, "baseline must be a finite number"),
        ({"baseline": "0.5"}, "baseline must be a real number"),
        ({"start_from_epoch": -1}, "start_from_epoch must be a non-negative integer"),
        ({"start_from_epoch": 1.5}, "start_from_epoch must be a non-negative integer"),
    ],
)
def test_early_stopping_refuses_a_bad_baseline_or_start(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        EarlyStopping(**kwargs)


# ----------------------------------------------------------------------------------------
# BatchNorm1d refuses a non-finite batch variance before touching its buffers
# ----------------------------------------------------------------------------------------


def test_batchnorm_refuses_an_overflowing_variance_before_updating_its_buffers():
    bn = bplib.BatchNorm1d(2)
    x = np.array([[1e155, 0.0], [-1e155, 1.0], [0.0, 2.0]])
    with pytest.raises(FloatingPointError, match="variance"):
        bn(x)
    np.testing.assert_array_equal(bn.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])


def test_batchnorm_passes_a_nan_on_but_keeps_it_out_of_its_buffers():
    bn = bplib.BatchNorm1d(2)
    x = np.array([[np.nan, 0.0], [1.0, 1.0], [0.0, 2.0]])
    assert np.isnan(bn(x)).any()
    np.testing.assert_array_equal(bn.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])


# ----------------------------------------------------------------------------------------
# ModelCheckpoint
# ----------------------------------------------------------------------------------------


def blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    return rng.standard_normal((n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5), y


def test_model_checkpoint_keeps_the_best_epoch_and_it_loads_bit_for_bit(tmp_path):
    X, y = blobs()
    X_val, y_val = blobs(200, seed=1)
    net = mlp()
    path = tmp_path / "best.npz"
    keep = ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    opt = optim.SGD(net.parameters(), lr=2.0)
    history = bplib.fit(net, bplib.CrossEntropyLoss(), opt, X, y, epochs=30,
                        validation=(X_val, y_val), callbacks=[keep, stop], progress=False)  # fmt: skip
    assert keep.best_epoch == stop.best_epoch == history.best["epoch"]
    assert keep.best == min(history.val_loss)
    saved = bplib.load(path)
    for k, v in net.state_dict().items():  # EarlyStopping restored the same epoch
        np.testing.assert_array_equal(saved[k], v)


def test_model_checkpoint_saves_every_nth_epoch_with_the_optimizer(tmp_path):
    X, y = blobs()
    net = mlp()
    opt = optim.Adam(net.parameters(), lr=0.01)
    keep = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{loss:.3f}.npz", save_freq=2, optimizer=opt)
    history = bplib.fit(
        net, bplib.CrossEntropyLoss(), opt, X, y, epochs=5, callbacks=[keep], progress=False
    )
    names = sorted(os.listdir(tmp_path))
    assert names == [f"ckpt-{e:02d}-{history.loss[e - 1]:.3f}.npz" for e in (2, 4)]
    last = bplib.load(tmp_path / names[-1])
    assert int(last["epoch"]) == 4 and set(last) == {"model", "optimizer", "epoch"}
    fresh = optim.Adam(mlp().parameters(), lr=0.01)
    fresh.load_state_dict(last["optimizer"])
    assert fresh.state[fresh.params[0]]["step"] == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"filepath": 3}, TypeError, "filepath must be a path"),
        ({"save_freq": 0}, ValueError, "save_freq must be a positive integer"),
        ({"save_best_only": "yes"}, TypeError, "save_best_only must be True or False"),
        ({"monitor": "val_roc_auc", "save_best_only": True}, ValueError, "mode='auto' cannot tell"),
        ({"mode": "lowest"}, ValueError, "mode must be 'auto', 'min' or 'max'"),
        ({"optimizer": 3}, TypeError, "optimizer must be a bplib.optim optimiser"),
    ],
)
def test_model_checkpoint_refuses_bad_arguments(tmp_path, kwargs, error, message):
    kwargs = {"filepath": tmp_path / "c.npz", **kwargs}
    with pytest.raises(error, match=message):
        ModelCheckpoint(**kwargs)


@pytest.mark.parametrize(
    ("filepath", "kwargs", "error", "message"),
    [
        ("c-{val_acc}.npz", {}, ValueError, "cannot be filled in"),
        ("missing/c.npz", {}, FileNotFoundError, "does not exist"),
        ("c.npz", {"monitor": "val_loss", "save_best_only": True}, ValueError, "not recorded"),
    ],
)
def test_model_checkpoint_refuses_before_training(tmp_path, filepath, kwargs, error, message):
    X, y = blobs()
    net = mlp()
    before = snapshot(net)
    keep = ModelCheckpoint(tmp_path / filepath, **kwargs)
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(error, match=message):
        bplib.fit(
            net, bplib.CrossEntropyLoss(), opt, X, y, epochs=2, callbacks=[keep], progress=False
        )
    assert_unchanged(net, before)
