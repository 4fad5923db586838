"""bplib.train: fit is the hand-written loop, with a history, guards and clear errors."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys

import numpy as np
import pytest

import bplib
from bplib import optim
from bplib.train import (
    CSVLogger,
    EarlyStopping,
    History,
    evaluate,
    fit,
    predict,
    predict_classes,
)

from .helpers import every_flag


def mlp(seed=0, n_in=2, n_hidden=8, n_out=2):
    return bplib.Sequential(
        bplib.Linear(n_in, n_hidden, rng=seed),
        bplib.Tanh(),
        bplib.Linear(n_hidden, n_out, rng=seed + 1),
    )


def blobs(n=40, seed=0):
    """Two separable Gaussian blobs, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 2)) * 0.5 + np.where(y[:, None] == 1, 2.0, -2.0)
    return X, y.astype(np.int64)


def params_of(model):
    return [p.data.copy() for p in model.parameters()]


# ----------------------------------------------------------------------------------------
# fit is the loop
# ----------------------------------------------------------------------------------------


def test_full_batch_fit_is_the_hand_written_gradient_descent_loop():
    X, y = blobs()
    ours, by_hand = mlp(), mlp()
    fit(
        ours,
        bplib.CrossEntropyLoss(),
        optim.SGD(ours.parameters(), lr=0.1),
        X,
        y,
        epochs=5,
        progress=False,
    )
    loss_fn, opt = bplib.CrossEntropyLoss(), optim.SGD(by_hand.parameters(), lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        loss_fn(by_hand(X), y)
        by_hand.backward(loss_fn.backward())
        opt.step()
    for a, b in zip(params_of(ours), params_of(by_hand), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("batch_size", "steps_per_epoch"), [(None, 1), (40, 1), (16, 3), (1, 40)])
def test_one_step_per_mini_batch(batch_size, steps_per_epoch):
    X, y = blobs(40)
    net = mlp()
    opt = optim.Adam(net.parameters())
    fit(
        net,
        bplib.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=3,
        batch_size=batch_size,
        rng=0,
        progress=False,
    )
    assert opt.state[net.parameters()[0]]["step"] == 3 * steps_per_epoch


def test_with_lr_zero_the_epoch_loss_is_the_full_batch_loss():
    # Each batch loss is a mean, weighted by its size: the epoch mean is the mean over all n.
    X, y = blobs(40)
    net = mlp()
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.0),
        X,
        y,
        epochs=2,
        batch_size=16,
        rng=0,
        progress=False,
    )
    full = evaluate(net, bplib.CrossEntropyLoss(), X, y)
    np.testing.assert_allclose(h.loss, [full["loss"]] * 2, rtol=1e-12)
    np.testing.assert_allclose(h.metrics["accuracy"], [full["accuracy"]] * 2, rtol=1e-12)


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    X, y = blobs(40)

    def run(seed):
        net = mlp()
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=3,
            batch_size=8,
            rng=seed,
            progress=False,
        )
        return params_of(net)[0]

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_fit_learns_a_separable_problem():
    X, y = blobs(40)
    net = mlp()
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.Adam(net.parameters(), lr=0.05),
        X,
        y,
        epochs=30,
        batch_size=10,
        rng=0,
        progress=False,
    )
    assert h.loss[-1] < h.loss[0] / 10
    assert h.metrics["accuracy"][-1] == 1.0


def test_fit_trains_a_regression_with_mse_and_records_no_metric_by_default():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 1))
    y = 3 * X - 1
    net = bplib.Linear(1, 1, rng=0)
    h = fit(
        net, bplib.MSELoss(), optim.SGD(net.parameters(), lr=0.1), X, y, epochs=200, progress=False
    )
    assert h.metrics == {}
    np.testing.assert_allclose([net.weight.data[0, 0], net.bias.data[0]], [3, -1], atol=1e-6)


def test_validation_is_evaluated_after_every_epoch():
    X, y = blobs(40)
    Xv, yv = blobs(20, seed=1)
    net = mlp()
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.Adam(net.parameters(), lr=0.01),
        X,
        y,
        epochs=4,
        validation=(Xv, yv),
        progress=False,
    )
    assert len(h.val_loss) == len(h.val_metrics["accuracy"]) == 4
    final = evaluate(net, bplib.CrossEntropyLoss(), Xv, yv)
    assert h.val_loss[-1] == final["loss"]
    assert h["val_accuracy"][-1] == final["accuracy"]


def test_a_custom_metric_function_is_recorded_by_its_name():
    def mean_logit(outputs, y):
        return float(outputs.mean())

    X, y = blobs(40)
    net = mlp()
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.0),
        X,
        y,
        epochs=1,
        metrics=[mean_logit],
        progress=False,
    )
    assert set(h.metrics) == {"mean_logit"}
    assert h.metrics["mean_logit"][0] == pytest.approx(float(net(X).mean()))


def test_a_scheduler_is_stepped_once_per_epoch_and_the_lr_recorded():
    X, y = blobs(40)
    net = mlp()
    opt = optim.SGD(net.parameters(), lr=0.1)
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=5,
        progress=False,
        scheduler=optim.StepLR(opt, step_size=2, gamma=0.5),
    )
    assert h.lr == [0.1, 0.1, 0.05, 0.05, 0.025]


def test_bce_classifier_gets_accuracy_by_default():
    X, y = blobs(40)
    net = mlp(n_out=1)
    target = y.reshape(-1, 1).astype(np.float64)
    h = fit(
        net,
        bplib.BCEWithLogitsLoss(),
        optim.Adam(net.parameters(), lr=0.05),
        X,
        target,
        epochs=30,
        progress=False,
    )
    assert h.metrics["accuracy"][-1] == 1.0


# ----------------------------------------------------------------------------------------
# History
# ----------------------------------------------------------------------------------------


def make_history():
    return History(
        loss=[1.0, 0.5, 0.25],
        metrics={"accuracy": [0.5, 0.75, 1.0]},
        val_loss=[1.1, 0.4, 0.6],
        val_metrics={"accuracy": [0.5, 0.8, 0.7]},
        lr=[0.1, 0.1, 0.1],
    )


def test_history_repr_shows_first_and_last_values():
    assert repr(make_history()) == (
        "History(epochs=3, loss: 1.0000 -> 0.2500, accuracy: 0.5000 -> 1.0000, "
        "val_loss: 1.1000 -> 0.6000, val_accuracy: 0.5000 -> 0.7000)"
    )


def test_history_best_is_the_epoch_of_lowest_validation_loss():
    best = make_history().best
    assert best["epoch"] == 2
    assert best["val_accuracy"] == 0.8
    assert best["loss"] == 0.5


def test_history_best_uses_training_loss_without_validation():
    h = History(loss=[1.0, 0.3, 0.4], metrics={}, lr=[0.1] * 3)
    assert h.best["epoch"] == 2


def test_history_names_its_series_when_a_key_is_missing():
    with pytest.raises(KeyError, match=r"no series 'val_acc'.*'val_accuracy'"):
        make_history()["val_acc"]


def test_empty_history():
    assert repr(History()) == "History(epochs=0)"
    with pytest.raises(ValueError, match="History is empty"):
        _ = History().best


# ----------------------------------------------------------------------------------------
# predictions and metrics
# ----------------------------------------------------------------------------------------


def test_predict_returns_the_model_outputs():
    X, _ = blobs(10)
    net = mlp()
    np.testing.assert_array_equal(predict(net, X), net(X))


def test_predict_classes_is_the_argmax_or_the_sign_of_one_logit():
    class Fixed(bplib.Module):
        def __init__(self, out):
            self.out = out

        def forward(self, x):
            return self.out

    X = np.zeros((3, 2))
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    np.testing.assert_array_equal(predict_classes(Fixed(logits), X), [1, 0, 2])
    np.testing.assert_array_equal(
        predict_classes(Fixed(np.array([[0.5], [-0.5], [2.0]])), X), [1, 0, 1]
    )


def test_evaluate_returns_the_loss_and_the_metrics():
    X, y = blobs(20)
    net = mlp()
    result = evaluate(net, bplib.CrossEntropyLoss(), X, y)
    assert set(result) == {"loss", "accuracy"}
    assert result["loss"] == bplib.CrossEntropyLoss()(net(X), y)
    assert result["accuracy"] == float(np.mean(net(X).argmax(1) == y))


# ----------------------------------------------------------------------------------------
# divergence and bad input
# ----------------------------------------------------------------------------------------


def test_a_diverging_run_stops_with_the_epoch_batch_and_a_hint():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X @ np.ones((3, 1))
    net = bplib.Linear(3, 1, rng=0)
    opt = optim.SGD(net.parameters(), lr=50.0)
    with pytest.raises(
        FloatingPointError,
        match=r"diverged in epoch \d+ of 500, batch 1 of 1: .*smaller learning rate \(lr is 50\)",
    ):
        fit(net, bplib.MSELoss(), opt, X, y, epochs=500, progress=False)
    assert all(np.isfinite(p.data).all() for p in net.parameters())


def test_divergence_inside_a_mini_batch_names_that_batch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X @ np.ones((3, 1))
    net = bplib.Linear(3, 1, rng=0)
    with pytest.raises(FloatingPointError, match=r"batch \d+ of 4"):
        fit(
            net,
            bplib.MSELoss(),
            optim.SGD(net.parameters(), lr=100.0),
            X,
            y,
            epochs=500,
            batch_size=5,
            rng=0,
            progress=False,
        )


def test_non_finite_inputs_are_refused_up_front():
    X, y = blobs(10)
    X[3, 1] = np.nan
    net = mlp()
    before = params_of(net)
    with pytest.raises(ValueError, match=r"X contains 1 NaN or infinite value"):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=1,
            progress=False,
        )
    for a, b in zip(before, params_of(net), strict=True):
        np.testing.assert_array_equal(a, b)


def test_non_finite_targets_are_refused():
    X = np.zeros((4, 1))
    y = np.array([[0.0], [np.inf], [1.0], [2.0]])
    net = bplib.Linear(1, 1, rng=0)
    with pytest.raises(ValueError, match="y contains 1 NaN or infinite"):
        fit(
            net,
            bplib.MSELoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=1,
            progress=False,
        )


def test_x_and_y_of_different_lengths_are_refused():
    X, y = blobs(10)
    net = mlp()
    with pytest.raises(
        ValueError, match=r"same number of examples \(rows\), got X with 10 .* and y with 9"
    ):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y[:9],
            epochs=1,
            progress=False,
        )


def test_a_validation_set_of_different_lengths_is_refused():
    X, y = blobs(10)
    net = mlp()
    with pytest.raises(ValueError, match="X_val and y_val must have the same number"):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=1,
            validation=(X, y[:5]),
            progress=False,
        )


def test_an_optimizer_of_another_model_is_refused():
    X, y = blobs(10)
    net, other = mlp(), mlp()
    with pytest.raises(ValueError, match=r"parameter.* that are not this model's"):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(other.parameters(), lr=0.1),
            X,
            y,
            epochs=1,
            progress=False,
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        (
            {"epochs": 2, "batch_size": 0},
            r"batch_size \(or None for full batch\) must be a positive",
        ),
        (
            {"epochs": 2, "metrics": ["roc_auc"]},
            "unknown metric 'roc_auc'",
        ),  # precision is known now
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    X, y = blobs(10)
    net = mlp()
    with pytest.raises(ValueError, match=message):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            progress=False,
            **kwargs,
        )


def test_a_loss_class_instead_of_an_instance_is_refused():
    X, y = blobs(10)
    net = mlp()
    with pytest.raises(TypeError, match=r"loss_fn must be a bplib loss .* got type"):
        fit(net, bplib.CrossEntropyLoss, optim.SGD(net.parameters(), lr=0.1), X, y, epochs=1)


# ----------------------------------------------------------------------------------------
# the progress bar
# ----------------------------------------------------------------------------------------


def run_small_fit(progress):
    X, y = blobs(10)
    net = mlp()
    fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.1),
        X,
        y,
        epochs=2,
        progress=progress,
    )


def test_progress_bar_writes_to_stdout_only(capsys, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.delenv("BPLIB_PROGRESS", raising=False)
    run_small_fit(progress=True)
    out, err = capsys.readouterr()
    assert err == ""
    assert "2/2" in out
    assert "finished all 2 epochs" in out and "stopped early" not in out


def test_progress_false_writes_nothing(capsys):
    run_small_fit(progress=False)
    assert capsys.readouterr() == ("", "")


def test_bplib_progress_0_switches_the_bar_off(capsys, monkeypatch):
    monkeypatch.setenv("BPLIB_PROGRESS", "0")
    run_small_fit(progress=True)
    assert capsys.readouterr() == ("", "")


def test_importing_bplib_train_does_not_import_tqdm():
    code = "import sys, bplib.train; print('tqdm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_non_finite_gradient_with_a_finite_loss_stops_before_the_update():
    class InfiniteSlope(bplib.Tanh):
        def backward(self, grad_out):  # a broken derivative: the loss itself stays finite
            return np.full_like(grad_out, np.inf)

    net = bplib.Sequential(bplib.Linear(2, 3, rng=0), InfiniteSlope(), bplib.Linear(3, 2, rng=1))
    before = params_of(net)
    X, y = blobs(8)
    with pytest.raises(
        FloatingPointError,
        match=r"diverged in epoch 1 of 2, batch 1 of 1: a gradient is not finite .*parameter 0",
    ):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=2,
            progress=False,
        )
    for p, old in zip(params_of(net), before, strict=True):
        np.testing.assert_array_equal(p, old)


# ----------------------------------------------------------------------------------------
# progress without tqdm: a line every ceil(epochs / 10) epochs, then how training ended
# ----------------------------------------------------------------------------------------


def fit_printing_plain_lines(monkeypatch, capsys, epochs, callbacks=None):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.delenv("BPLIB_PROGRESS", raising=False)
    X, y = blobs(20)
    net = mlp()
    history = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.1),
        X,
        y,
        epochs=epochs,
        validation=(X, y),
        callbacks=callbacks,
    )
    out, err = capsys.readouterr()
    assert err == ""
    return history, out.splitlines()


def test_without_tqdm_fit_prints_every_tenth_of_the_epochs_and_a_last_line(monkeypatch, capsys):
    history, lines = fit_printing_plain_lines(monkeypatch, capsys, epochs=100)
    *epoch_lines, last = lines
    assert [line.split(",")[0] for line in epoch_lines] == [
        f"fit: epoch {k}/100" for k in range(10, 101, 10)
    ]
    assert epoch_lines[-1] == (
        f"fit: epoch 100/100, loss={history.loss[-1]:.4f}, val_loss={history.val_loss[-1]:.4f}"
    )
    assert last == "fit: finished all 100 epochs"


def test_without_tqdm_an_uneven_count_still_shows_the_last_epoch(monkeypatch, capsys):
    _, lines = fit_printing_plain_lines(monkeypatch, capsys, epochs=25)  # every 3rd epoch
    assert [line.split(",")[0] for line in lines[:-1]] == [
        f"fit: epoch {k}/25" for k in (3, 6, 9, 12, 15, 18, 21, 24, 25)
    ]


def test_without_tqdm_the_last_line_says_stopped_early_only_when_it_did(monkeypatch, capsys):
    stop = EarlyStopping(monitor="loss", min_delta=10.0, patience=2)  # nothing improves by 10
    history, lines = fit_printing_plain_lines(monkeypatch, capsys, epochs=100, callbacks=[stop])
    assert history.stopped_epoch == 3 < 100
    assert lines == [
        f"fit: epoch 3/100, loss={history.loss[-1]:.4f}, val_loss={history.val_loss[-1]:.4f}",
        "fit: stopped early after epoch 3 of 100: no improvement in loss for 2 epochs",
    ]


def test_without_tqdm_a_full_run_with_a_restore_says_so_without_stopped_early(monkeypatch, capsys):
    stop = EarlyStopping(monitor="loss", patience=1000, restore_best_weights=True)
    history, lines = fit_printing_plain_lines(monkeypatch, capsys, epochs=4, callbacks=[stop])
    assert history.stop_reason == "reached epochs=4; restored epoch 4"
    assert lines[-1] == "fit: finished all 4 epochs (reached epochs=4; restored epoch 4)"


def test_never_more_than_a_dozen_plain_lines(monkeypatch, capsys):
    for epochs in (1, 9, 11, 99, 101, 250):
        _, lines = fit_printing_plain_lines(monkeypatch, capsys, epochs=epochs)
        assert len(lines) <= 12, (epochs, lines)
        assert lines[-2].startswith(f"fit: epoch {epochs}/{epochs},")


# ----------------------------------------------------------------------------------------
# error messages name the user's array, not fit's one-row probe
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["train", "validation"])
def test_a_wrong_width_is_reported_with_the_users_shape(which):
    rng = np.random.default_rng(0)
    good, bad = rng.standard_normal((178, 12)), rng.standard_normal((178, 13))
    y = np.arange(178) % 3
    net = mlp(n_in=12, n_out=3)
    before = params_of(net)
    X, validation = (bad, None) if which == "train" else (good, (bad, y))
    names = "X and y" if which == "train" else "X_val and y_val"
    with pytest.raises(ValueError, match=rf"{names} do not suit.*\(batch, 12\), got \(178, 13\)"):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=2,
            validation=validation,
            progress=False,
        )
    for p, old in zip(params_of(net), before, strict=True):
        np.testing.assert_array_equal(p, old)


# ----------------------------------------------------------------------------------------
# validation_split (Keras): the last fraction of the rows, before shuffling
# ----------------------------------------------------------------------------------------


def fit_history(X, y, **kwargs):
    net = mlp()
    opt = optim.SGD(net.parameters(), lr=0.1)
    h = fit(net, bplib.CrossEntropyLoss(), opt, X, y, epochs=4, progress=False, **kwargs)
    return h, params_of(net)


@pytest.mark.parametrize(("fraction", "n_train"), [(0.25, 7), (0.2, 8), (0.5, 5), (0.85, 1)])
def test_validation_split_is_validation_with_the_last_rows(fraction, n_train):
    X, y = blobs(10)  # Keras: the first floor(10 * (1 - fraction)) rows train
    split, split_params = fit_history(X, y, validation_split=fraction, batch_size=3, rng=0)
    given, given_params = fit_history(
        X[:n_train], y[:n_train], validation=(X[n_train:], y[n_train:]), batch_size=3, rng=0
    )
    assert split.as_dict() == given.as_dict() and len(split.val_loss) == 4
    for a, b in zip(split_params, given_params, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"validation_split": 0.0},
            ValueError,
            r"fit: validation_split must lie in \(0, 1\), got 0\.0",
        ),
        (
            {"validation_split": 1.0},
            ValueError,
            r"fit: validation_split must lie in \(0, 1\), got 1\.0",
        ),
        (
            {"validation_split": -0.2},
            ValueError,
            r"fit: validation_split must lie in \(0, 1\), got -0\.2",
        ),
        (
            {"validation_split": np.nan},
            ValueError,
            r"fit: validation_split must lie in \(0, 1\), got nan",
        ),
        ({"validation_split": "0.2"}, TypeError, r"validation_split must be a real number"),
        (
            {"validation_split": 0.9},  # 10 * (1 - 0.9) = 0.999...: no row left to train on
            ValueError,
            r"validation_split=0.9 of 10 examples leaves 0 for training and 10 for validation",
        ),
        (
            {"validation_split": 1e-17},
            ValueError,
            r"leaves 10 for training and 0 for validation; both need at least one",
        ),
        (
            {"validation_split": 0.2, "validation": (np.zeros((2, 2)), np.zeros(2, int))},
            ValueError,
            r"fit: pass validation=\(X_val, y_val\) or validation_split, not both",
        ),
    ],
)
def test_bad_validation_split_is_refused_before_training(kwargs, error, message):
    X, y = blobs(10)
    net = mlp()
    before = params_of(net)
    with pytest.raises(error, match=message):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=2,
            progress=False,
            **kwargs,
        )
    for p, old in zip(params_of(net), before, strict=True):
        np.testing.assert_array_equal(p, old)


# ----------------------------------------------------------------------------------------
# CSVLogger (Keras): one row per epoch, read back bit for bit
# ----------------------------------------------------------------------------------------


def read_csv(path, separator=","):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f, delimiter=separator))


def fit_logging(path, epochs=3, **kwargs):
    X, y = blobs(12)
    net = mlp()
    log = CSVLogger(path, **kwargs)
    h = fit(
        net,
        bplib.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.1),
        X,
        y,
        epochs=epochs,
        validation=(X[:4], y[:4]),
        callbacks=[log],
        progress=False,
    )
    return h


def as_columns(rows):
    header, *body = rows
    return header, {k: [float(r[i]) for r in body] for i, k in enumerate(header)}


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_logger_writes_every_series_of_every_epoch(tmp_path, separator):
    path = tmp_path / "log.csv"
    h = fit_logging(path, separator=separator)
    header, columns = as_columns(read_csv(path, separator))
    series = h.as_dict()
    assert header == ["epoch", *sorted(series)]  # Keras's order: alphabetical
    assert sorted(series) == ["accuracy", "grad_norm", "loss", "lr", "val_accuracy", "val_loss"]
    assert columns.pop("epoch") == [1.0, 2.0, 3.0]
    assert columns == {k: list(map(float, v)) for k, v in series.items()}  # bit for bit


def test_csv_logger_append_adds_rows_under_one_header(tmp_path):
    path = tmp_path / "log.csv"
    first = fit_logging(path, epochs=2)
    second = fit_logging(path, epochs=3, append=True)
    header, columns = as_columns(read_csv(path))
    assert header[0] == "epoch" and columns["epoch"] == [1, 2, 1, 2, 3]
    assert columns["loss"] == first.loss + second.loss
    fit_logging(path, epochs=1)  # append=False starts the file again
    assert len(read_csv(path)) == 2


def test_csv_logger_refuses_to_append_other_columns_before_training(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(ValueError, match=r"has the columns \['epoch', 'loss'\], but this fit"):
        fit_logging(path, append=True)
    assert path.read_text() == "epoch,loss\n1,0.5\n"


def test_csv_logger_keeps_the_completed_epochs_of_an_interrupted_run(tmp_path):
    path = tmp_path / "log.csv"

    class Interrupt(bplib.train.Callback):
        def on_epoch_end(self, epoch, history, model):
            if epoch == 2:
                raise KeyboardInterrupt
            return False

    X, y = blobs(12)
    net = mlp()
    with pytest.raises(KeyboardInterrupt):
        fit(
            net,
            bplib.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.1),
            X,
            y,
            epochs=5,
            callbacks=[CSVLogger(path), Interrupt()],
            progress=False,
        )
    assert [row[0] for row in read_csv(path)] == ["epoch", "1", "2"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"filename": 3}, TypeError, r"CSVLogger: filename must be a path \(str\), got 3"),
        ({"separator": ",,"}, ValueError, r"separator must be one character.*got str ',,'"),
        ({"separator": '"'}, ValueError, r"separator must be one character other than a quote"),
        ({"separator": 1}, ValueError, r"separator must be one character.*got 1"),
        ({"append": "yes"}, TypeError, r"CSVLogger: append must be True or False, got str 'yes'"),
    ],
)
def test_csv_logger_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        CSVLogger(**{"filename": "log.csv", **kwargs})


def test_csv_logger_refuses_a_missing_folder_before_training(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"CSVLogger: the folder .* does not exist"):
        fit_logging(tmp_path / "no" / "log.csv")


# ----------------------------------------------------------------------------------------
# History.plot
# ----------------------------------------------------------------------------------------


def test_history_plot_draws_the_training_and_validation_curves():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = History(
        loss=[1.0, 0.5, 0.25],
        metrics={"accuracy": [0.5, 0.7, 0.9]},
        val_loss=[1.1, 0.6, 0.4],
        val_metrics={"accuracy": [0.4, 0.6, 0.8]},
        validation=True,
    )
    for metric in ("loss", "accuracy"):
        ax = h.plot(metric)
        assert isinstance(ax, matplotlib.axes.Axes)
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert sorted(lines) == ["train", "validation"]
        assert list(lines["train"].get_xdata()) == [1, 2, 3]
        assert list(lines["train"].get_ydata()) == h[metric]
        assert list(lines["validation"].get_ydata()) == h[f"val_{metric}"]
        assert lines["validation"].get_linestyle() == "--"
        assert ax.get_ylabel() == metric
        plt.close(ax.figure)
    fig, ax = plt.subplots()
    assert h.plot(ax=ax, log=True) is ax and ax.get_yscale() == "log"
    plt.close(fig)


@pytest.mark.parametrize(
    ("history", "kwargs", "error", "message"),
    [
        (History(), {}, ValueError, r"History.plot: the History is empty"),
        (History(loss=[1.0]), {"metric": "accuracy"}, ValueError, r"one of .*\['loss'\].*got"),
        (History(loss=[1.0]), {"metric": "val_loss"}, ValueError, r"training series"),
        (History(loss=[1.0]), {"log": "yes"}, TypeError, r"log must be True or False"),
    ],
)
def test_history_plot_refuses_bad_arguments(history, kwargs, error, message):
    with pytest.raises(error, match=message):
        history.plot(**kwargs)


def test_fit_hands_a_plateau_schedule_the_validation_loss_or_the_training_loss():
    X = np.random.default_rng(0).standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    for validation in ((X, y), None):
        net = bplib.Sequential(bplib.Linear(3, 4, rng=0), bplib.Tanh(), bplib.Linear(4, 2, rng=1))
        opt = optim.SGD(net.parameters(), lr=0.1)
        # an improvement must beat the best by 1000 %: none does, every epoch is a plateau
        schedule = optim.ReduceLROnPlateau(opt, patience=1, factor=0.5, threshold=10.0)
        history = bplib.fit(
            net, bplib.CrossEntropyLoss(), opt, X, y, epochs=6, scheduler=schedule,
            validation=validation, progress=False,
        )  # fmt: skip
        seen, step = [], schedule.step
        schedule.step = lambda value, seen=seen, step=step: (seen.append(value), step(value))[1]
        history = bplib.fit(
            net, bplib.CrossEntropyLoss(), opt, X, y, epochs=6, scheduler=schedule,
            validation=validation, progress=False,
        )  # fmt: skip
        assert seen == (history.val_loss[-6:] if validation else history.loss[-6:])
        # 12 epochs on a plateau with patience 1: the rate was halved every second epoch
        assert opt.lr == 0.1 * 0.5**6


def test_early_stopping_maximises_every_metric_that_improves_upwards():
    from bplib.callbacks import EarlyStopping

    for name in ("val_accuracy", "val_f1", "val_f1_macro", "val_r2", "precision"):
        assert EarlyStopping(monitor=name).mode == "max"
    for name in ("val_loss", "val_mae"):
        assert EarlyStopping(monitor=name).mode == "min"


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


@pytest.mark.usefixtures("default_sigint")  # tests/conftest.py
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
