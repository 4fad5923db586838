"""Stopping and saving: state_dict, bplib.save/load, optimiser state, callbacks, EarlyStopping,
the gradient-norm test of fit, and the History's stopped_epoch and stop_reason."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

import bplib
from bplib import optim
from bplib.train import Callback, EarlyStopping, History, evaluate, fit


def mlp(seed=0, n_in=2, n_hidden=8, n_out=2, dtype=np.float64):
    return bplib.Sequential(
        bplib.Linear(n_in, n_hidden, rng=seed, dtype=dtype),
        bplib.Tanh(),
        bplib.Linear(n_hidden, n_out, rng=seed + 1, dtype=dtype),
    )


def blobs(n=40, seed=0, noise=0.5):
    """Two Gaussian blobs, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 2)) * noise + np.where(y[:, None] == 1, 1.0, -1.0)
    return X, y.astype(np.int64)


def overfitting_task():
    """Few noisy training points and a wide network: the validation loss turns up."""
    X, y = blobs(24, seed=1, noise=1.2)
    X_val, y_val = blobs(200, seed=2, noise=1.2)
    return X, y, X_val, y_val


class WithBuffer(bplib.Module):
    """A layer with a buffer, declared as BatchNorm1d will declare its running statistics."""

    _buffers = ("running_mean", "count")

    def __init__(self, n):
        self.scale = bplib.Parameter(np.ones(n), "scale")
        self.running_mean = np.zeros(n)
        self.count = np.zeros((), dtype=np.int64)

    def forward(self, x):
        return x * self.scale.data


def scripted(values, key="val_loss", **kwargs):
    """Feed ``values`` to an EarlyStopping one epoch at a time; return the epoch it stops at."""
    stop = EarlyStopping(monitor=key, **kwargs)
    h = History(validation=True)
    model = mlp()
    stop.on_train_begin(model, h)
    for epoch, v in enumerate(values, start=1):
        h.loss.append(v)
        h.val_loss.append(v)
        h.lr.append(0.1)
        if stop.on_epoch_end(epoch, h, model):
            return epoch, stop, h
    return None, stop, h


# ----------------------------------------------------------------------------------------
# Module.state_dict and load_state_dict
# ----------------------------------------------------------------------------------------


def test_state_dict_names_are_the_parameter_names_and_values_are_copies():
    net = mlp()
    state = net.state_dict()
    assert list(state) == [name for name, _ in net.named_parameters()]
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    before = state["0.weight"].copy()
    net[0].weight.data += 1.0
    np.testing.assert_array_equal(state["0.weight"], before)


def test_state_dict_keys_are_pytorchs():
    torch = pytest.importorskip("torch")
    ours = mlp(n_in=3, n_hidden=4, n_out=2)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).state_dict()
    assert list(ours.state_dict()) == list(theirs)


def test_load_state_dict_makes_the_model_compute_bit_for_bit_the_same():
    a, b = mlp(seed=0), mlp(seed=10)
    X, _ = blobs()
    assert not np.array_equal(a(X), b(X))
    result = b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(X), b(X))
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_load_state_dict_copies_in_place():
    a, b = mlp(seed=0), mlp(seed=10)
    weight = b[0].weight.data
    b.load_state_dict(a.state_dict())
    assert b[0].weight.data is weight  # an optimiser holding the arrays still sees them


def test_load_state_dict_names_a_missing_key():
    state = mlp().state_dict()
    del state["2.bias"]
    with pytest.raises(KeyError, match=r"missing key\(s\) \['2.bias'\]"):
        mlp(seed=5).load_state_dict(state)


def test_load_state_dict_names_an_unexpected_key():
    state = mlp().state_dict()
    state["3.weight"] = np.zeros((2, 2))
    with pytest.raises(KeyError, match=r"unexpected key\(s\) \['3.weight'\]"):
        mlp(seed=5).load_state_dict(state)


def test_load_state_dict_not_strict_loads_the_common_keys_and_reports_the_rest():
    a, b = mlp(seed=0), mlp(seed=5)
    state = a.state_dict()
    del state["2.bias"]
    state["extra"] = np.zeros(1)
    old_bias = b[2].bias.data.copy()
    missing, unexpected = b.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["2.bias"], ["extra"])
    np.testing.assert_array_equal(b[0].weight.data, a[0].weight.data)
    np.testing.assert_array_equal(b[2].bias.data, old_bias)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda s: s.update({"2.bias": np.zeros(3)}), ValueError, r"'2.bias' has shape \(3,\)"),
        (
            lambda s: s.update({"2.bias": s["2.bias"].astype(np.float32)}),
            TypeError,
            "'2.bias' has dtype float32 in the state but float64",
        ),
        (lambda s: s.update({"2.bias": [0.0, 0.0]}), TypeError, "'2.bias' must be a numpy array"),
    ],
)
def test_load_state_dict_checks_every_value_before_changing_anything(change, error, message):
    a, b = mlp(seed=0), mlp(seed=5)
    state = a.state_dict()  # "0.weight" is fine and comes first; "2.bias" is wrong
    change(state)
    before = b.state_dict()
    with pytest.raises(error, match=message):
        b.load_state_dict(state)
    for name, value in b.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_refuses_a_non_mapping():
    with pytest.raises(TypeError, match="expected a mapping name -> array"):
        mlp().load_state_dict([np.zeros(2)])


def test_buffers_are_named_like_parameters_and_saved_in_the_state():
    net = bplib.Sequential(bplib.Linear(3, 3, rng=0), WithBuffer(3))
    assert [name for name, _ in net.named_buffers()] == ["1.running_mean", "1.count"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.scale", "1.running_mean", "1.count"]
    assert [p.name for p in net.parameters()] == ["weight", "bias", "scale"]  # not a parameter


def test_buffers_are_loaded_in_place():
    a = bplib.Sequential(bplib.Linear(3, 3, rng=0), WithBuffer(3))
    b = bplib.Sequential(bplib.Linear(3, 3, rng=1), WithBuffer(3))
    a[1].running_mean[:] = [1.0, 2.0, 3.0]
    a[1].count[...] = 7
    running_mean = b[1].running_mean
    b.load_state_dict(a.state_dict())
    assert b[1].running_mean is running_mean
    np.testing.assert_array_equal(running_mean, [1.0, 2.0, 3.0])
    assert int(b[1].count) == 7


def test_buffers_of_a_module_held_as_an_attribute_are_found():
    class Holder(bplib.Module):
        def __init__(self):
            self.inner = WithBuffer(2)

    assert [name for name, _ in Holder().named_buffers()] == [
        "inner.running_mean",
        "inner.count",
    ]


def test_a_shared_parameter_is_saved_once():
    first, second = bplib.Linear(2, 2, rng=0), bplib.Linear(2, 2, rng=1)
    second.weight, second.bias = first.weight, first.bias  # tied weights, two layers
    net = bplib.Sequential(first, bplib.Tanh(), second)
    assert list(net.state_dict()) == ["0.weight", "0.bias"]
    other = bplib.Sequential(bplib.Linear(2, 2, rng=3), bplib.Tanh(), bplib.Linear(2, 2, rng=4))
    with pytest.raises(KeyError, match=r"missing key\(s\) \['2.weight', '2.bias'\]"):
        other.load_state_dict(net.state_dict())


# ----------------------------------------------------------------------------------------
# bplib.save and bplib.load
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_and_load_round_trip_a_model_exactly(tmp_path, dtype):
    net = mlp(dtype=dtype)
    path = tmp_path / "net.npz"
    bplib.save(net.state_dict(), path)
    loaded = bplib.load(path)
    assert list(loaded) == list(net.state_dict())
    for name, value in net.state_dict().items():
        assert loaded[name].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(loaded[name], value)
    fresh = mlp(seed=7, dtype=dtype)
    fresh.load_state_dict(loaded)
    X = blobs()[0].astype(dtype)
    np.testing.assert_array_equal(fresh(X), net(X))


def test_save_writes_a_plain_npz_exactly_at_the_path_with_no_pickle(tmp_path):
    path = tmp_path / "weights.bin"
    opt = optim.Adam(mlp().parameters())
    bplib.save({"model": mlp().state_dict(), "optimizer": opt.state_dict()}, path)
    assert path.exists() and not (tmp_path / "weights.bin.npz").exists()
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as archive:
        assert "model/0.weight" in archive.files
        assert "optimizer/param_groups/0/betas" in archive.files
        np.testing.assert_array_equal(archive["optimizer/param_groups/0/betas"], [0.9, 0.999])


def test_load_restores_the_nesting_with_integer_keys(tmp_path):
    state = {"state": {0: {"step": 3, "buf": np.arange(3.0)}}, "groups": [{"lr": 0.5}]}
    bplib.save(state, tmp_path / "s.npz")
    loaded = bplib.load(tmp_path / "s.npz")
    assert set(loaded) == {"state", "groups"}
    assert int(loaded["state"][0]["step"]) == 3
    np.testing.assert_array_equal(loaded["state"][0]["buf"], np.arange(3.0))
    assert float(loaded["groups"][0]["lr"]) == 0.5


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        ({"a": "text"}, TypeError, "'a' is str.*would need pickle"),
        ({"a": None}, TypeError, "'a' is NoneType"),
        ({"a": np.array(["x"])}, TypeError, "dtype <U1"),
        ({"a": np.array([object()])}, TypeError, "dtype object"),
        ({"12": np.zeros(1)}, ValueError, "not be all digits"),
        ({"a/b": np.zeros(1)}, ValueError, "contain no '/'"),
        ({1.5: np.zeros(1)}, TypeError, "keys must be strings or integers"),
    ],
)
def test_save_refuses_what_would_need_pickle_or_cannot_be_read_back(
    tmp_path, state, error, message
):
    with pytest.raises(error, match=message):
        bplib.save(state, tmp_path / "bad.npz")


def test_save_refuses_a_non_mapping(tmp_path):
    with pytest.raises(
        TypeError,
        match=r"save expected a dict \(a state_dict\), got Sequential; save its state_dict\(\): "
        r"bplib\.save\(net\.state_dict\(\), path\)",
    ):
        bplib.save(mlp(), tmp_path / "m.npz")
    with pytest.raises(TypeError, match=r"save expected a dict \(a state_dict\), got list$"):
        bplib.save([1.0], tmp_path / "m.npz")


# ----------------------------------------------------------------------------------------
# optimiser state: training resumes bit for bit
# ----------------------------------------------------------------------------------------

OPTIMIZERS = {
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
    tabled = {type(make([bplib.Parameter(np.zeros(1))])) for make in OPTIMIZERS.values()}
    assert tabled == set(optim.OPTIMIZERS.values()), "add the new optimiser to OPTIMIZERS"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_training_resumed_from_a_saved_state_is_bit_for_bit_uninterrupted_training(
    tmp_path, name, dtype
):
    X, y = blobs()
    X = X.astype(dtype)
    loss = bplib.CrossEntropyLoss()
    make = OPTIMIZERS[name]
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
    opt = OPTIMIZERS[name](ours.parameters())
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


# ----------------------------------------------------------------------------------------
# EarlyStopping on scripted histories: exactly Keras's rule
# ----------------------------------------------------------------------------------------


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    # best 0.9 at epoch 2; epochs 3 and 4 do not beat it: the 2nd of them stops (patience 2)
    epoch, stop, h = scripted([1.0, 0.9, 0.95, 0.91, 0.5], patience=2)
    assert epoch == 4
    assert (stop.best, stop.best_epoch, stop.wait, stop.stopped_epoch) == (0.9, 2, 2, 4)
    assert h.stop_reason == "no improvement in val_loss for 2 epochs"


def test_patience_zero_stops_at_the_first_epoch_without_improvement():
    epoch, _, h = scripted([1.0, 0.9, 0.9, 0.1], patience=0)  # equal is no improvement
    assert epoch == 3
    assert h.stop_reason == "no improvement in val_loss for 1 epoch"


def test_an_improvement_resets_the_count():
    epoch, stop, _ = scripted([1.0, 1.1, 0.8, 0.9, 0.95, 0.99], patience=2)
    assert (epoch, stop.best_epoch) == (5, 3)


def test_never_stopping_when_it_keeps_improving():
    epoch, stop, _ = scripted([1.0, 0.9, 0.8, 0.7], patience=0)
    assert epoch is None and stop.stopped_epoch == 0


def test_min_delta_ignores_improvements_smaller_than_it():
    # 0.97 is not below 1.0 - 0.05; 0.90 is; 0.89 and 0.88 are not below 0.90 - 0.05
    assert scripted([1.0, 0.97, 0.90, 0.89, 0.88], min_delta=0.05, patience=1)[0] == 2
    epoch, stop, _ = scripted([1.0, 0.97, 0.90, 0.89, 0.88], min_delta=0.05, patience=2)
    assert (epoch, stop.best, stop.best_epoch) == (5, 0.90, 3)
    # Keras ignores the sign of min_delta
    assert scripted([1.0, 0.97, 0.90, 0.89, 0.88], min_delta=-0.05, patience=1)[0] == 2


def test_mode_max_and_auto_for_accuracy():
    values = [0.5, 0.7, 0.6, 0.65, 0.9]
    assert scripted(values, key="val_loss", mode="max", patience=2)[0] == 4
    stop = EarlyStopping(monitor="val_accuracy")
    assert stop.mode == "max"
    assert EarlyStopping(monitor="loss").mode == "min"
    assert EarlyStopping(monitor="grad_norm").mode == "min"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"patience": -1}, ValueError, "patience must be a non-negative integer, got -1"),
        ({"patience": 2.5}, ValueError, "patience must be a non-negative integer, got 2.5"),
        ({"mode": "minimum"}, ValueError, "mode must be 'auto', 'min' or 'max', got 'minimum'"),
        ({"min_delta": float("nan")}, ValueError, "min_delta must be a finite number, got nan"),
        ({"min_delta": float("inf")}, ValueError, "min_delta must be a finite number"),
        ({"min_delta": "0.1"}, TypeError, "min_delta must be a real number, got str"),
        ({"monitor": "val_roc_auc"}, ValueError, "mode='auto' cannot tell whether 'val_roc_auc'"),
        ({"monitor": ""}, TypeError, "monitor must be a series name"),
    ],
)
def test_early_stopping_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        EarlyStopping(**kwargs)


def test_monitoring_validation_loss_without_validation_data_fails_before_training():
    X, y = blobs()
    net = mlp()
    before = net.state_dict()
    with pytest.raises(ValueError, match=r"'val_loss' is not recorded.*pass validation="):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=3,
            callbacks=[EarlyStopping()],
            progress=False,
        )
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_an_unknown_monitor_key_fails_before_training_and_lists_the_known_ones():
    X, y = blobs()
    net = mlp()
    with pytest.raises(ValueError, match=r"'val_acc' is not recorded.*'val_accuracy'"):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=3,
            validation=(X, y),
            callbacks=[EarlyStopping(monitor="val_acc", mode="max")],
            progress=False,
        )


# ----------------------------------------------------------------------------------------
# EarlyStopping in real runs
# ----------------------------------------------------------------------------------------


def run_overfitting(**kwargs):
    X, y, X_val, y_val = overfitting_task()
    net = bplib.Sequential(bplib.Linear(2, 64, rng=0), bplib.Tanh(), bplib.Linear(64, 2, rng=1))
    stop = EarlyStopping(**kwargs)
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.Adam(net.parameters(), lr=0.002),
        X,
        y,
        epochs=300,
        validation=(X_val, y_val),
        callbacks=[stop],
        progress=False,
    )
    return net, stop, h, (X_val, y_val)


def expected_stop(values, patience, min_delta=0.0):
    """The stopping epoch (from 1) by the rule, computed independently of EarlyStopping."""
    best, last_improvement = np.inf, 0
    for e, v in enumerate(values, start=1):
        if v < best - min_delta:
            best, last_improvement = v, e
        elif e - last_improvement >= max(patience, 1):
            return e
    return None


def test_early_stopping_stops_a_real_run_where_the_rule_says_and_restores_the_best_epoch():
    net, stop, h, (X_val, y_val) = run_overfitting(patience=10, restore_best_weights=True)
    assert 1 < stop.best_epoch < h.stopped_epoch < 300  # the validation loss did turn up
    assert h.stopped_epoch == expected_stop(h.val_loss, 10) == stop.stopped_epoch
    assert stop.best_epoch == int(np.argmin(h.val_loss)) + 1 == h.best["epoch"]
    assert h.stopped_epoch == stop.best_epoch + 10
    assert h.stop_reason == (
        f"no improvement in val_loss for 10 epochs; restored epoch {stop.best_epoch}"
    )
    # the restored weights are the best epoch's, bit for bit: the same validation loss
    assert evaluate(net, bplib.CrossEntropyLoss(), X_val, y_val)["loss"] == min(h.val_loss)


def test_early_stopping_does_not_change_the_trajectory():
    _, _, h, _ = run_overfitting(patience=10)
    X, y, X_val, y_val = overfitting_task()
    net = bplib.Sequential(bplib.Linear(2, 64, rng=0), bplib.Tanh(), bplib.Linear(64, 2, rng=1))
    plain = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.Adam(net.parameters(), lr=0.002),
        X,
        y,
        epochs=h.stopped_epoch,
        validation=(X_val, y_val),
        progress=False,
    )
    assert plain.val_loss == h.val_loss and plain.loss == h.loss
    assert plain.stop_reason == f"reached epochs={h.stopped_epoch}"


def test_without_restore_the_last_weights_stay():
    net, _, h, (X_val, y_val) = run_overfitting(patience=10)
    assert h.stop_reason == "no improvement in val_loss for 10 epochs"
    assert evaluate(net, bplib.CrossEntropyLoss(), X_val, y_val)["loss"] == h.val_loss[-1]


def test_restore_also_happens_when_the_epoch_cap_ends_training():
    X, y, X_val, y_val = overfitting_task()
    net = bplib.Sequential(bplib.Linear(2, 64, rng=0), bplib.Tanh(), bplib.Linear(64, 2, rng=1))
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.Adam(net.parameters(), lr=0.002),
        X,
        y,
        epochs=60,
        validation=(X_val, y_val),
        callbacks=[EarlyStopping(patience=1000, restore_best_weights=True)],
        progress=False,
    )
    best = int(np.argmin(h.val_loss)) + 1
    assert best < 60  # so that restoring is visible
    assert h.stop_reason == f"reached epochs=60; restored epoch {best}"
    assert evaluate(net, bplib.CrossEntropyLoss(), X_val, y_val)["loss"] == h.val_loss[best - 1]


def test_early_stopping_on_validation_accuracy_in_a_real_run():
    _, stop, h, _ = run_overfitting(monitor="val_accuracy", patience=15)
    acc = h["val_accuracy"]
    assert stop.mode == "max"
    negated = [-a for a in acc]
    assert h.stopped_epoch == expected_stop(negated, 15)
    assert stop.best == max(acc[: h.stopped_epoch])


# ----------------------------------------------------------------------------------------
# the gradient-norm test
# ----------------------------------------------------------------------------------------


def regression(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.standard_normal((n, 1))
    return X, y


def full_gradient_norm(model, X, y):
    loss = bplib.MSELoss()
    model.zero_grad()
    loss(model(X), y)
    model.backward(loss.backward())
    return float(np.sqrt(sum(np.sum(p.grad**2) for p in model.parameters())))


def test_history_records_the_full_batch_gradient_norm_before_each_step():
    X, y = regression()
    net, copy = bplib.Linear(3, 1, rng=0), bplib.Linear(3, 1, rng=0)
    h = fit(
        net, bplib.MSELoss(), optim.SGD(net.parameters(), lr=0.1), X, y, epochs=3, progress=False
    )
    assert len(h.grad_norm) == 3 and h["grad_norm"] == h.grad_norm
    assert h.grad_norm[0] == pytest.approx(full_gradient_norm(copy, X, y), rel=1e-12)


def test_tol_stops_at_the_first_epoch_whose_gradient_norm_is_below_it_without_stepping():
    X, y = regression()
    net = bplib.Linear(3, 1, rng=0)
    tol = 1e-6
    h = fit(
        net,
        bplib.MSELoss(),
        optim.SGD(net.parameters(), lr=0.1),
        X,
        y,
        epochs=5000,
        tol=tol,
        progress=False,
    )
    assert h.stopped_epoch == h.epochs < 5000
    assert h.grad_norm[-1] < tol <= min(h.grad_norm[:-1])
    assert h.stop_reason == f"gradient norm {h.grad_norm[-1]:.3g} below tol 1e-06"
    # the returned parameters are those whose gradient passed the test
    assert full_gradient_norm(net, X, y) == pytest.approx(h.grad_norm[-1], rel=1e-9)
    # and, the loss being a strongly convex quadratic, they are within |g| / lambda_min of
    # the minimiser (chapter 6)
    A = np.hstack([X, np.ones((len(X), 1))])
    theta_star = np.linalg.lstsq(A, y, rcond=None)[0]
    lambda_min = np.linalg.eigvalsh(2 * A.T @ A / len(X)).min()
    theta = np.vstack([net.weight.data, net.bias.data[:, None]])
    assert np.linalg.norm(theta - theta_star) <= h.grad_norm[-1] / lambda_min


def test_tol_that_is_never_reached_runs_to_the_cap():
    X, y = regression()
    net = bplib.Linear(3, 1, rng=0)
    h = fit(
        net,
        bplib.MSELoss(),
        optim.SGD(net.parameters(), lr=0.1),
        X,
        y,
        epochs=5,
        tol=1e-12,
        progress=False,
    )
    assert (h.stopped_epoch, h.stop_reason) == (5, "reached epochs=5")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tol": 1e-6, "batch_size": 10}, ValueError, "needs full-batch gradient descent"),
        ({"tol": 0.0}, ValueError, "tol must be a finite number > 0, got 0.0"),
        ({"tol": -1e-6}, ValueError, "tol must be a finite number > 0"),
        ({"tol": float("nan")}, ValueError, "tol must be a finite number > 0, got nan"),
        ({"tol": "1e-6"}, TypeError, "tol must be a real number, got str"),
        ({"callbacks": EarlyStopping(monitor="loss")}, TypeError, "must be a list of callbacks"),
        ({"callbacks": [EarlyStopping]}, TypeError, r"callbacks\[0\] must be a callback object"),
        ({"callbacks": [print]}, TypeError, r"callbacks\[0\] must be a callback object"),
    ],
)
def test_fit_refuses_bad_stopping_arguments_before_training(kwargs, error, message):
    X, y = regression()
    net = bplib.Linear(3, 1, rng=0)
    before = net.state_dict()
    with pytest.raises(error, match=message):
        fit(
            net,
            bplib.MSELoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=5,
            progress=False,
            **kwargs,
        )
    np.testing.assert_array_equal(net.weight.data, before["weight"])


# ----------------------------------------------------------------------------------------
# the callback protocol, stop_reason and the progress bar
# ----------------------------------------------------------------------------------------


class Recorder:
    """A callback that is not a Callback subclass: the protocol is duck-typed."""

    def __init__(self, stop_at=None):
        self.calls, self.stop_at = [], stop_at

    def on_train_begin(self, model, history):
        self.calls.append(("begin", history.epochs))

    def on_epoch_end(self, epoch, history, model):
        self.calls.append(("epoch", epoch, history.epochs))
        return epoch == self.stop_at

    def on_train_end(self, model, history):
        self.calls.append(("end", history.stopped_epoch))


def test_callbacks_are_called_in_order_and_every_one_every_epoch():
    X, y = blobs()
    net = mlp()
    a, b = Recorder(stop_at=2), Recorder()
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.1),
        X,
        y,
        epochs=5,
        callbacks=[a, b],
        progress=False,
    )
    expected = [("begin", 0), ("epoch", 1, 1), ("epoch", 2, 2), ("end", 2)]
    assert a.calls == expected and b.calls == expected
    assert h.stopped_epoch == 2 and h.epochs == 2
    assert h.stop_reason == "Recorder stopped training"


def test_a_callback_can_give_its_own_reason():
    class StopBelow(Callback):
        def on_epoch_end(self, epoch, history, model):
            if history.loss[-1] < 0.3:
                history.stop_reason = f"loss {history.loss[-1]:.2f} below 0.3"
                return True
            return False

    X, y = blobs()
    net = mlp()
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.5),
        X,
        y,
        epochs=200,
        callbacks=[StopBelow()],
        progress=False,
    )
    assert h.loss[-1] < 0.3 <= min(h.loss[:-1])
    assert h.stop_reason == f"loss {h.loss[-1]:.2f} below 0.3"


def test_the_epoch_cap_is_a_reason_too():
    X, y = blobs()
    net = mlp()
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.1),
        X,
        y,
        epochs=3,
        progress=False,
    )
    assert (h.stopped_epoch, h.stop_reason) == (3, "reached epochs=3")


def test_the_progress_bar_says_why_training_stopped(capsys, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.delenv("BPLIB_PROGRESS", raising=False)
    X, y = regression()
    net = bplib.Linear(3, 1, rng=0)
    h = fit(
        net,
        bplib.MSELoss(),
        optim.SGD(net.parameters(), lr=0.1),
        X,
        y,
        epochs=5000,
        tol=1e-3,
        progress=True,
    )
    out = capsys.readouterr().out
    assert h.stopped_epoch < 5000
    assert f"stopped early after epoch {h.stopped_epoch} of 5000: {h.stop_reason}" in out
    assert f"{h.stopped_epoch}/5000" in out


def test_history_repr_and_best_are_unchanged_by_the_new_series():
    h = History(loss=[1.0, 0.5], lr=[0.1, 0.1], grad_norm=[2.0, 1.0])
    assert repr(h) == "History(epochs=2, loss: 1.0000 -> 0.5000)"
    assert h.best == {"epoch": 2, "loss": 0.5, "lr": 0.1, "grad_norm": 1.0}
    assert "grad_norm" not in History(loss=[1.0], lr=[0.1]).as_dict()
