"""bplib.callbacks: History, Callback, EarlyStopping and ModelCheckpoint."""

from __future__ import annotations

import os

import numpy as np
import pytest

import bplib
from bplib import optim
from bplib.train import Callback, EarlyStopping, History, ModelCheckpoint, evaluate, fit

from .helpers import assert_unchanged, blobs, mlp, scripted, snapshot, tiny_mlp


def overfitting_task():
    """Few noisy training points and a wide network: the validation loss turns up."""
    X, y = blobs(24, seed=1, noise=1.2)
    X_val, y_val = blobs(200, seed=2, noise=1.2)
    return X, y, X_val, y_val


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


def test_history_repr_and_best_are_unchanged_by_the_new_series():
    h = History(loss=[1.0, 0.5], lr=[0.1, 0.1], grad_norm=[2.0, 1.0])
    assert repr(h) == "History(epochs=2, loss: 1.0000 -> 0.5000)"
    assert h.best == {"epoch": 2, "loss": 0.5, "lr": 0.1, "grad_norm": 1.0}
    assert "grad_norm" not in History(loss=[1.0], lr=[0.1]).as_dict()


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


def separated_blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    return rng.standard_normal((n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5), y


def test_model_checkpoint_keeps_the_best_epoch_and_it_loads_bit_for_bit(tmp_path):
    X, y = separated_blobs()
    X_val, y_val = separated_blobs(200, seed=1)
    net = tiny_mlp()
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
    X, y = separated_blobs()
    net = tiny_mlp()
    opt = optim.Adam(net.parameters(), lr=0.01)
    keep = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{loss:.3f}.npz", save_freq=2, optimizer=opt)
    history = bplib.fit(
        net, bplib.CrossEntropyLoss(), opt, X, y, epochs=5, callbacks=[keep], progress=False
    )
    names = sorted(os.listdir(tmp_path))
    assert names == [f"ckpt-{e:02d}-{history.loss[e - 1]:.3f}.npz" for e in (2, 4)]
    last = bplib.load(tmp_path / names[-1])
    assert int(last["epoch"]) == 4 and set(last) == {"model", "optimizer", "epoch"}
    fresh = optim.Adam(tiny_mlp().parameters(), lr=0.01)
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
    X, y = separated_blobs()
    net = tiny_mlp()
    before = snapshot(net)
    keep = ModelCheckpoint(tmp_path / filepath, **kwargs)
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(error, match=message):
        bplib.fit(
            net, bplib.CrossEntropyLoss(), opt, X, y, epochs=2, callbacks=[keep], progress=False
        )
    assert_unchanged(net, before)
