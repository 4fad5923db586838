"""Answer keys of exercises 7.1 to 7.4, "Learning a real task" (``check("7.M", ...)``).

Each key recomputes its reference from inputs of its own (seeded) or from the chapter's
constants; only exercise 7.2 needs the notebook's trained network and scaler, passed by
keyword. See :mod:`bplib.exercises` for the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, array, close, number

__all__ = ["VAL_EX", "ex1", "ex2", "ex3", "ex4"]

_SEED = 7  # the chapter's seed

VAL_EX = (0.90, 0.72, 0.61, 0.555, 0.548, 0.552, 0.546, 0.547, 0.560, 0.571, 0.590)
"""Exercise 7.4's validation losses, one per epoch (the chapter's ``VAL_EX``)."""


def _function(value: object, name: str) -> Callable[..., Any]:
    answer(value)
    if not callable(value):
        raise NotYet(f"{name} should be a function, not {type(value).__name__}")
    return value


def _confusion_matrices() -> list[np.ndarray]:
    """Confusion matrices whose row sums (class sizes) and column sums (predictions) differ."""
    from bplib import metrics

    g = np.random.default_rng(_SEED)
    found = []
    for k, n in ((10, 400), (4, 90)):
        sizes = g.integers(5, 3 * n // k, size=k)  # unequal classes
        y_true = np.repeat(np.arange(k), sizes)
        y_pred = y_true.copy()
        wrong = g.random(len(y_true)) < np.linspace(0.05, 0.45, k)[y_true]  # unequal recalls
        y_pred[wrong] = (y_true[wrong] + g.integers(1, k, size=int(wrong.sum()))) % k
        C = metrics.confusion_matrix(y_true, y_pred, n_classes=k)
        assert np.all(C.sum(axis=0) > 0) and np.any(C.sum(axis=0) != C.sum(axis=1))
        found.append(C)
    return found


def ex1(accuracy_from_confusion: object, recall_from_confusion: object) -> str:
    """Exercise 7.1: accuracy and per-class recall from a confusion matrix.

    Calls both functions on confusion matrices of the key's own (unequal class sizes and
    recalls, 10 and 4 classes). Diagnoses: accuracy divided by the number of classes, the
    mean recall (balanced accuracy) given as the accuracy, precision (column sums) given as
    the recall, recall divided by all predictions, a recall of the wrong shape.
    """
    accuracy_fn = _function(accuracy_from_confusion, "accuracy_from_confusion")
    recall_fn = _function(recall_from_confusion, "recall_from_confusion")
    for C in _confusion_matrices():
        k = len(C)
        correct = np.diag(C).astype(float)
        accuracy = number(answer(accuracy_fn(C.copy())), "accuracy_from_confusion(C)")
        recall = array(answer(recall_fn(C.copy())), "recall_from_confusion(C)", (k,))
        true_recall = correct / C.sum(axis=1)
        if not close(accuracy, correct.sum() / C.sum()):
            if close(accuracy, correct.sum() / k):
                raise NotYet(
                    "accuracy_from_confusion divides by the number of classes; the accuracy "
                    "is a fraction of all predictions"
                )
            if close(accuracy, true_recall.mean()):
                raise NotYet(
                    "accuracy_from_confusion gives the mean of the per-class recalls (the "
                    "balanced accuracy); it differs from the accuracy when the classes have "
                    "different sizes"
                )
            raise NotYet(
                "accuracy_from_confusion is not the fraction of correct predictions on a "
                "confusion matrix of the key's own"
            )
        if not close(recall, true_recall):
            if close(recall, correct / C.sum(axis=0)):
                raise NotYet(
                    "recall_from_confusion divides by the column sums: that is the precision "
                    "(the images predicted as k); the recall counts the images that are k"
                )
            if close(recall, correct / C.sum()):
                raise NotYet(
                    "recall_from_confusion divides by all predictions; each digit's recall is "
                    "a fraction of the images of that digit"
                )
            digit = int(np.argmax(np.abs(recall - true_recall)))
            raise NotYet(
                f"recall_from_confusion is wrong for class {digit} (and maybe others) on a "
                f"{k}x{k} confusion matrix of the key's own"
            )
    return (
        "Correct: both agree with the definitions on confusion matrices of other sizes, with "
        "classes of unequal sizes"
    )


def ex2(raw_weight: object, raw_bias: object, *, model: Any, scaler: Any) -> str:
    """Exercise 7.2: fold the standardiser into the first layer.

    Given by keyword: ``model``, the chapter's trained network (a ``Sequential`` whose first
    module is ``Linear``), and ``scaler``, its fitted ``Standardizer``. The folded network
    ``Sequential(raw_first, *rest)`` must give ``model``'s logits on every raw image of the
    data set. Diagnoses: a weight or bias of the wrong shape, a transposed weight, the weight
    multiplied by the scale instead of divided, the weight right but the bias unchanged,
    missing the division by the scale, or of the wrong sign.
    """
    import bplib
    from bplib import data

    first, rest = model[0], list(model)[1:]
    W, b = first.weight.data, first.bias.data
    weight = array(raw_weight, "raw_weight", W.shape)
    bias = array(raw_bias, "raw_bias", b.shape)
    mu, s = np.asarray(scaler.mean, dtype=float), np.asarray(scaler.scale, dtype=float)
    raw_first = bplib.Linear(*W.shape)
    raw_first.weight.data[...] = weight
    assert raw_first.bias is not None
    raw_first.bias.data[...] = bias
    X, _ = data.load_digits()
    expected = model(scaler.transform(X))
    if np.allclose(bplib.Sequential(raw_first, *rest)(X), expected, rtol=1e-9, atol=1e-9):
        return "Correct: the folded network gives the same logits on raw pixels (to 1e-9)"
    weight_right = close(weight, W / s[:, None], rtol=1e-9, atol=1e-12)
    if not weight_right:
        if close(weight, W * s[:, None], rtol=1e-9, atol=1e-12):
            raise NotYet(
                "raw_weight multiplies by the scale; standardising divides each input by its "
                "s_i, so its weights must be divided too"
            )
        if W.shape[0] == W.shape[1] and close(weight.T, W / s[:, None], rtol=1e-9, atol=1e-12):
            raise NotYet("raw_weight is transposed: row i of the weight belongs to input i")
        if close(weight, W / s[None, :], rtol=1e-9, atol=1e-12):
            raise NotYet(
                "raw_weight divides the columns; row i of the weight belongs to input i, "
                "so row i is what input i's scale divides"
            )
        raise NotYet("raw_weight does not turn raw pixels into what the trained weights see")
    if close(bias, b, rtol=1e-9, atol=1e-12):
        raise NotYet(
            "the weights are right but the bias is unchanged: standardising also subtracts "
            "the mean, and that shift has to go into the bias"
        )
    if close(bias, b - mu @ W, rtol=1e-9, atol=1e-12):
        raise NotYet("the weights are right; the bias's shift forgets the division by s")
    if close(bias, b + (mu / s) @ W, rtol=1e-9, atol=1e-12):
        raise NotYet("the weights are right; the bias's shift has the wrong sign")
    raise NotYet("the weights are right; the bias is not")


def _top_k_case() -> tuple[np.ndarray, np.ndarray]:
    """Logits without ties and labels that are often, but not always, the top logit."""
    g = np.random.default_rng(_SEED)
    logits = 2.0 * g.standard_normal((300, 10))
    y = np.where(g.random(300) < 0.5, logits.argmax(axis=1), g.integers(0, 10, size=300))
    return logits, y


def ex3(top_k_accuracy: object) -> str:
    """Exercise 7.3: top-k accuracy.

    Calls the function on logits and labels of the key's own, for k = 1, 2, 3, 5 and K.
    Diagnoses: the k smallest logits instead of the largest, one logit too many or too few,
    a count instead of a fraction, top-K not 1.
    """
    fn = _function(top_k_accuracy, "top_k_accuracy")
    logits, y = _top_k_case()
    n, K = logits.shape
    rank = np.sum(logits > logits[np.arange(n), y][:, None], axis=1)  # logits above the true

    def fraction(top: np.ndarray) -> float:
        return float(np.mean(rank < top))

    for k in (1, 2, 3, 5, K):
        got = number(answer(fn(logits.copy(), y.copy(), k)), f"top_k_accuracy(logits, y, {k})")
        if close(got, fraction(np.full(n, k)), rtol=1e-12):
            continue
        if close(got, float(np.mean(rank >= K - k)), rtol=1e-12):
            raise NotYet(
                f"for k = {k} you count the k smallest logits; np.argsort sorts in increasing order"
            )
        if close(got, n * fraction(np.full(n, k)), rtol=1e-12):
            raise NotYet(f"for k = {k} you return a count; the accuracy is a fraction")
        if 1 < k and close(got, fraction(np.full(n, k - 1)), rtol=1e-12):
            raise NotYet(f"for k = {k} you look at one logit too few")
        if k < K and close(got, fraction(np.full(n, k + 1)), rtol=1e-12):
            raise NotYet(f"for k = {k} you look at one logit too many")
        if k == K:
            raise NotYet(f"with k = K = {K} every label is among the top k: the answer is 1")
        raise NotYet(f"for k = {k} your fraction ({got:.4f}) is not the top-{k} accuracy")
    return "Correct: right for k = 1, 2, 3, 5 and 10 on logits of the key's own"


def _replay(values: tuple[float, ...], min_delta: float, patience: int) -> tuple[int, int]:
    """(stopping epoch, restored epoch) of EarlyStopping fed ``values`` as validation losses."""
    import bplib
    from bplib import train

    stop = train.EarlyStopping(monitor="val_loss", min_delta=min_delta, patience=patience)
    model = bplib.Sequential(bplib.Linear(1, 1, rng=0))
    h = train.History(validation=True)
    stop.on_train_begin(model, h)
    for epoch, v in enumerate(values, start=1):
        h.loss.append(v)
        h.val_loss.append(v)
        if stop.on_epoch_end(epoch, h, model):
            return epoch, stop.best_epoch
    return len(values), stop.best_epoch


def _epoch(value: object, name: str) -> int:
    got = number(value, name)
    if got != int(got):
        raise NotYet(f"{name} should be a whole epoch number, not {got}")
    return int(got)


def ex4(stop_epoch_ex: object, restored_epoch_ex: object) -> str:
    """Exercise 7.4: where EarlyStopping(min_delta=0.01, patience=3) stops on ``VAL_EX``.

    Replays the losses through :class:`bplib.train.EarlyStopping`. Diagnoses: the answer
    without ``min_delta``, the epoch of the lowest loss restored, epochs counted from 0, a
    run that never stops, and which of the two numbers is wrong.
    """
    stop = _epoch(stop_epoch_ex, "stop_epoch_ex")
    restored = _epoch(restored_epoch_ex, "restored_epoch_ex")
    expected = _replay(VAL_EX, 0.01, 3)
    if (stop, restored) == expected:
        return (
            f"Correct: it stops after epoch {stop} and restores epoch {restored}, although "
            "later epochs have lower losses"
        )
    if (stop, restored) == _replay(VAL_EX, 0.0, 3):
        raise NotYet(
            "that is the answer without min_delta; an epoch improves only if it beats the "
            "best loss by more than 0.01"
        )
    if (stop + 1, restored + 1) == expected:
        raise NotYet("epochs count from 1, not from 0")
    if stop >= len(VAL_EX):
        raise NotYet(
            "training does stop before the last epoch: count the epochs since the last "
            "improvement by more than min_delta, and stop when the count reaches patience"
        )
    if restored == int(np.argmin(VAL_EX)) + 1 or (restored == stop and restored != expected[1]):
        raise NotYet(
            f"epoch {restored} is not the one restored: the weights kept are those of the "
            "last epoch that counted as an improvement"
        )
    if stop != expected[0]:
        right = "restored_epoch_ex is right; " if restored == expected[1] else ""
        raise NotYet(
            f"{right}stop_epoch_ex is not yet right: count the epochs since the last improvement "
            "by more than min_delta, and stop when the count reaches patience"
        )
    raise NotYet(
        "stop_epoch_ex is right; restored_epoch_ex is not the last epoch that counted as an "
        "improvement"
    )
