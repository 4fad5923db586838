"""Answer keys of chapter 10, 'Keeping gradients alive'.

Each key builds its own inputs (random batches, a small model with dropout) and compares
with bplib's layers; none reads the notebook's variables besides the answers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, array, close, number

__all__ = ["ex1", "ex2", "ex3", "settling"]

RHO, TARGET = 0.1, 0.01  # exercise 2: the momentum, and "within 1%"


def ex1(layernorm_backward: object) -> str:
    """Exercise 10.1, layer normalisation's backward pass: ``layernorm_backward(G, X_hat,
    inv_std)`` returns dL/dX of a LayerNorm without gamma and beta.

    The key compares with ``bplib.LayerNorm.backward`` on a non-square batch (5 x 6, inputs
    of scale 2). Diagnoses: wrong shape, the statistics treated as constants (rows that do
    not sum to zero), the term along X_hat missing, sums over the batch (batch
    normalisation's) instead of over each row.
    """
    import bplib

    if not callable(layernorm_backward):
        raise NotYet("layernorm_backward should be a function of G, X_hat and inv_std")
    gen = np.random.default_rng(1)
    X, G = gen.standard_normal((5, 6)) * 2, gen.standard_normal((5, 6))
    reference = bplib.LayerNorm(6, elementwise_affine=False)
    reference(X)
    expected = reference.backward(G)
    mu, var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
    inv_std = 1 / np.sqrt(var + reference.eps)
    X_hat = (X - mu) * inv_std
    yours = array(
        answer(layernorm_backward(G.copy(), X_hat.copy(), inv_std.copy())),
        "layernorm_backward(G, X_hat, inv_std)", expected.shape,
    )  # fmt: skip
    if close(yours, expected, rtol=1e-10, atol=1e-12):
        return "Correct: your backward pass agrees with bplib.LayerNorm"
    m = G.shape[0]  # batch normalisation's sums, over the batch
    over_batch = (
        inv_std
        / m
        * (m * G - G.sum(axis=0, keepdims=True) - X_hat * (G * X_hat).sum(axis=0, keepdims=True))
    )
    if close(yours, over_batch, rtol=1e-10, atol=1e-12):
        raise NotYet(
            "those are batch normalisation's sums, over the batch (axis 0); layer "
            "normalisation's mean and variance run over each row's features"
        )
    if np.allclose(yours, 0, atol=1e-12):
        raise NotYet("dL/dX is zero; the gradient from above does reach the input")
    rows_zero = np.allclose(yours.sum(axis=1), 0, atol=1e-10)
    if not rows_zero:
        raise NotYet(
            "each row of dL/dX should sum to zero (adding a constant to a row changes "
            "nothing); the row's mean depends on every entry of the row"
        )
    raise NotYet(
        "each row sums to zero, good; the row's variance depends on the row too: check "
        "the term along X_hat"
    )


def settling(rho: float = RHO, target: float = TARGET) -> tuple[float, int]:
    """Exercise 10.2's answer: the real k with (1 - rho)^k = target, and the first whole
    number of batches after which bplib's running mean is within ``target`` of the mean."""
    import bplib

    k_real = math.log(target) / math.log(1 - rho)
    layer = bplib.BatchNorm1d(1, momentum=rho)
    batch = np.array([[4.0], [6.0]])  # mean exactly 5
    for k in range(1, 10_000):
        layer(batch)
        if abs(layer.running_mean[0] - 5) <= target * 5:
            return k_real, k
    raise RuntimeError("the running mean never settled")  # pragma: no cover


def ex2(k_exact: object, n_batches: object) -> str:
    """Exercise 10.2, how fast the running statistics settle: ``k_exact`` solves
    (1 - rho)^k = 0.01 with rho = 0.1, ``n_batches`` is the first whole number of batches
    after which ``bplib.BatchNorm1d``'s running mean is within 1% of the batches' mean.

    Diagnoses: rho used where 1 - rho belongs, a k at which the factor is not 0.01 (the
    factor at the student's k is named), a number of batches that is not whole, too few
    (rounded down) or too many.
    """
    k_real, n_true = settling()
    k = number(k_exact, "k_exact")
    batches = number(n_batches, "n_batches")
    if not np.isclose(k, k_real, rtol=1e-9):
        if np.isclose(k, math.log(TARGET) / math.log(RHO), rtol=1e-9):
            raise NotYet(
                "at each batch the running mean keeps a fraction 1 - rho of its distance "
                "to the mean, not rho"
            )
        raise NotYet(
            f"at k = {k:.6g} the factor (1 - rho)^k is {(1 - RHO) ** k:.4g}, not {TARGET}; "
            "take logarithms of both sides"
        )
    if batches != round(batches):
        raise NotYet("k_exact is right; n_batches should be a whole number of batches")
    if batches < n_true:
        raise NotYet(
            f"k_exact is right; after {int(batches)} batches bplib.BatchNorm1d's running "
            "mean is still more than 1% away: the factor must be at most 0.01"
        )
    if batches > n_true:
        raise NotYet(
            f"k_exact is right; bplib.BatchNorm1d is within 1% before {int(batches)} "
            "batches: the first time, please"
        )
    return f"Correct: k = {k:.4f}, so {int(batches)} batches, as bplib.BatchNorm1d needs"


def _model_and_data() -> tuple[Any, np.ndarray, np.ndarray]:
    """A 20-64-10 network with dropout, and 60 examples whose labels are its evaluation-mode
    predictions for the first 40 and wrong for the last 20 (accuracy 2/3, in evaluation mode
    only; on the first 30 examples, 1)."""
    import bplib

    gen = np.random.default_rng(10)
    model = bplib.Sequential(
        bplib.Linear(20, 64, rng=gen), bplib.ReLU(), bplib.Dropout(0.5, rng=gen),
        bplib.Linear(64, 10, rng=gen),
    )  # fmt: skip
    X = gen.standard_normal((60, 20))
    model.eval()
    labels = model(X).argmax(axis=1)
    model.train()
    labels[40:] = (labels[40:] + 1) % 10
    return model, X, labels


def ex3(eval_accuracy: object) -> str:
    """Exercise 10.3, evaluate without the bug: ``eval_accuracy(model, X, y)`` returns the
    accuracy in evaluation mode and leaves the model in the mode it found it in.

    The key builds its own network with dropout and data with two known evaluation-mode
    accuracies, and calls the function with the model in each mode. Diagnoses: not one
    number, an accuracy computed in training mode (dropout still on), a constant, the mode
    not restored (left in evaluation mode, or set to training whatever it was).
    """
    import bplib
    from bplib import train

    if not callable(eval_accuracy):
        raise NotYet("eval_accuracy should be a function of model, X and y")
    model, X, y = _model_and_data()
    for mode in (True, False):
        for rows in (slice(None), slice(0, 30)):
            model.train(mode)
            expected = train.evaluate(model, bplib.CrossEntropyLoss(), X[rows], y[rows])["accuracy"]
            yours = number(answer(eval_accuracy(model, X[rows], y[rows])), "the accuracy")
            if not np.isclose(yours, expected, rtol=0, atol=1e-12):
                raise NotYet(
                    "that is not the model's accuracy on these examples in evaluation mode; "
                    "is dropout switched off while the model predicts? (the model was in "
                    f"training={mode})"
                )
            if model.training != mode:
                raise NotYet(
                    f"the model was in training={mode} and you left it in training={model.training}"
                )
    return "Correct: the evaluation-mode accuracy in either mode, and the mode is restored"
