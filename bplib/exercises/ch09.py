"""Answer keys of chapter 9, 'Initialisation, symmetry and the shape of the loss surface'.

Each key rebuilds what it needs from the chapter's constants (XOR, the 2-H-1 tanh network of
``small_network``) and never uses the notebook's variables besides the answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, array, close, number

__all__ = ["ex1", "ex2", "ex3"]


def _xor() -> tuple[np.ndarray, np.ndarray]:
    from bplib import data

    X, labels = data.xor()
    return X, labels.reshape(-1, 1).astype(np.float64)


def _network(hidden: int, weight_init: Any) -> Any:
    """The chapter's ``small_network(hidden, weight_init)``: 2 -> hidden tanh -> 1."""
    import bplib

    gen = np.random.default_rng(0)
    return bplib.Sequential(
        bplib.Linear(2, hidden, init=weight_init, rng=gen),
        bplib.Tanh(),
        bplib.Linear(hidden, 1, init=weight_init, rng=gen),
    )


def _constant(fan_in: int, fan_out: int, *, rng: object = None, dtype: Any = np.float64) -> Any:
    return np.full((fan_in, fan_out), 0.5, dtype=dtype)


def ex1(grad_W1_start: object, n_distinct: object) -> str:
    """Exercise 9.1, a constant start: the first layer's gradient of a 2-4-1 tanh network whose
    weights all start at 0.5, and the predicted number of distinct hidden units after training.

    The key builds the network, takes the gradient with bplib's backward pass, trains it (500
    epochs of SGD, rate 1) and counts the distinct hidden units. Diagnoses: a gradient of the
    wrong shape or transposed, a gradient that is not the loss's at the start (zeros, another
    loss), a count that is not a whole number, and a wrong prediction (pointing at the columns
    of the gradient, never at the count).
    """
    import bplib
    from bplib import optim, train

    grad = array(grad_W1_start, "grad_W1_start", (2, 4))
    prediction = number(n_distinct, "n_distinct")
    X, Y = _xor()
    net = _network(4, _constant)
    loss = bplib.BCEWithLogitsLoss()
    loss(net(X), Y)
    net.backward(loss.backward())
    expected = net[0].weight.grad.copy()
    if not close(grad, expected, rtol=1e-9, atol=1e-15):
        if close(grad, 0 * expected):
            raise NotYet(
                "grad_W1_start is zero; with every weight 0.5 the hidden units are not "
                "zero (unlike the zero start), so the first layer does get a gradient"
            )
        raise NotYet(
            "grad_W1_start is not the gradient of BCEWithLogitsLoss on X_xor, Y_xor with "
            "respect to the first layer's weights at the start; run the forward pass, then "
            "backward, and read net[0].weight.grad"
        )
    if prediction != round(prediction) or prediction < 1:
        raise NotYet("n_distinct should be a whole number of hidden units, at least 1")
    history = train.fit(
        net, bplib.BCEWithLogitsLoss(), optim.SGD(net.parameters(), lr=1.0), X, Y,
        epochs=500, progress=False,
    )  # fmt: skip
    # a hidden unit is its incoming weights and bias and its outgoing weight
    units = np.vstack([net[0].weight.data, net[0].bias.data, net[2].weight.data.T]).T
    counted = len(np.unique(units.round(10), axis=0))
    if int(prediction) == counted:
        return (
            f"Correct: the 4 columns of the first gradient are equal, and after 500 epochs the "
            f"4 hidden units are still {counted} distinct unit(s); accuracy "
            f"{history.metrics['accuracy'][-1]:.2f}"
        )
    return (
        f"Not yet: {int(prediction)} is not what training gives. Compare the columns of "
        "grad_W1_start: the four units start alike; do they ever receive different "
        "gradients, and what does that do to them step after step?"
    )


def _variance(function: Callable[..., Any], n: int, alpha: float) -> float:
    return number(answer(function(n, alpha)), f"leaky_he_variance({n}, {alpha})")


def ex2(leaky_he_variance: object) -> str:
    """Exercise 9.2, He for leaky ReLU: the weight variance that keeps the forward signal
    level through a leaky ReLU layer with ``n`` inputs and slope ``alpha``.

    The key calls the function at several ``(n, alpha)`` and compares with the variance
    bplib's ``init.he_normal(negative_slope=alpha)`` is built on. Diagnoses: ReLU's variance
    (the negative half ignored), the slope not squared, the variance of the signal instead of
    the weights (inverted), a missing factor 2, a wrong dependence on ``n``.
    """
    from bplib import init

    if not callable(leaky_he_variance):
        raise NotYet("leaky_he_variance should be a function of n and alpha")
    cases = [(400, 0.2), (50, 0.5), (1000, 0.01), (7, 0.9)]
    yours = np.array([_variance(leaky_he_variance, n, alpha) for n, alpha in cases])
    truth = np.array([2 / ((1 + alpha**2) * n) for n, alpha in cases])  # the key's answer
    if close(yours, truth, rtol=1e-9):
        n, alpha = cases[0]
        drawn = init.he_normal(n, 300, rng=0, negative_slope=alpha).var()
        return (
            f"Correct: v = {yours[0]:.6e} for n = {n}, alpha = {alpha}; bplib's "
            f"he_normal(negative_slope={alpha}) draws weights of sample variance {drawn:.6e}"
        )
    ns = np.array([n for n, _ in cases], dtype=float)
    alphas = np.array([a for _, a in cases])
    halves = "off by a factor 2: each half of the Gaussian carries half of its second moment"
    wrong = [
        (
            2 / ns,
            "that is ReLU's variance for every alpha: the negative half now passes "
            "alpha z, and contributes to E[leaky(z)^2]",
        ),
        (
            2 / ((1 + alphas) * ns),
            "the negative half contributes alpha^2 times what the "
            "positive half does, not alpha times",
        ),
        (1 / truth, "that is the inverse: solve n v E[leaky(z)^2] = Var[z] for v"),
        (truth / 2, halves),
        (truth * 2, halves),
    ]
    for values, diagnosis in wrong:
        if close(yours, values, rtol=1e-9):
            raise NotYet(diagnosis)
    if np.isclose(yours, truth, rtol=1e-9).any():
        raise NotYet("right for some n and alpha but not for others: use the arguments")
    raise NotYet(
        "not the variance that keeps n v E[leaky(z)^2] = Var[z]; compute E[leaky(z)^2] "
        "for z ~ N(0, s^2) half by half"
    )


def ex3(permute_hidden: object) -> str:
    """Exercise 9.3, a minimum and its copies: ``permute_hidden(theta, perm, hidden)`` for a
    2-``hidden``-1 network, hidden unit ``i`` of the new network being old unit ``perm[i]``.

    The key applies it to random 2-4-1 and 2-3-1 networks with permutations that are not their
    own inverse, and compares outputs and first-layer weights. Diagnoses: wrong length,
    parameters unchanged, the inverse permutation, outputs changed (a part of a hidden unit
    left unpermuted, or the output bias moved).
    """
    from bplib import utils

    if not callable(permute_hidden):
        raise NotYet("permute_hidden should be a function of theta, perm and hidden")
    X, _ = _xor()
    X = np.vstack([X, np.random.default_rng(3).standard_normal((6, 2))])
    for hidden, order, seed in [(4, [2, 0, 3, 1], 1), (3, [1, 2, 0], 2)]:
        perm = np.array(order)
        net, gen = _network(hidden, "normal"), np.random.default_rng(seed)
        for p in net.parameters():  # non-zero biases too, so a wrong b1 shows
            p.data[...] = gen.standard_normal(p.data.shape)
        theta = utils.parameters_to_vector(net.parameters())
        outputs = net(X).copy()
        W1 = net[0].weight.data.copy()
        permuted = array(
            answer(permute_hidden(theta.copy(), perm.copy(), hidden)),
            f"permute_hidden(theta, perm, {hidden})",
        ).ravel()
        if permuted.shape != theta.shape:
            raise NotYet(
                f"for a 2-{hidden}-1 network permute_hidden returned {permuted.size} "
                f"numbers; theta has {theta.size}"
            )
        if close(permuted, theta):
            raise NotYet("the parameters did not change")
        utils.vector_to_parameters(permuted, net.parameters())
        new_outputs, W1_new = net(X), net[0].weight.data.copy()
        same_function = close(new_outputs, outputs, rtol=1e-12, atol=1e-12)
        if same_function and close(W1_new, W1[:, np.argsort(perm)]):
            raise NotYet(
                "that is the inverse permutation: new hidden unit i should be old unit "
                "perm[i], so new column i of W1 is old column perm[i]"
            )
        if not same_function:
            raise NotYet(
                "the outputs changed: a hidden unit is a column of W1, an entry of b1 and "
                "a row of W2, and all three move together (b2 belongs to no hidden unit)"
            )
        if not close(W1_new, W1[:, perm]):
            raise NotYet("the same function, but hidden unit i should be old unit perm[i]")
    return "Correct: a different parameter vector, the same outputs on every input"
