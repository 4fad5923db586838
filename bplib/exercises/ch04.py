"""Answer keys of chapter 4, 'Backpropagation in matrix form'.

Each key rebuilds what it needs from the chapter's constants and seeds (the two-layer tanh
network of the section 'Build: a two-layer network in numpy', drawn first from
``default_rng(4)``; exercise 3's arrays, drawn from their own ``default_rng(403)``) and
never uses the notebook's variables besides the answers.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from bplib.exercises import NotYet, array, close, number

__all__ = ["deep_ratio_reference", "ex1", "ex2", "ex3", "ex4"]

SEED = 4  # the chapter's seed: its first draws are the two-layer network's arrays
N, N_IN, N_HIDDEN, N_OUT = 5, 3, 4, 2
SEED_SHAPES, N3 = 403, 7  # exercise 3's own generator and batch
DEEP_WIDTHS, DEEP_BATCH = (784, 512, 512, 512, 10), 128  # exercise 4's network


def _network() -> dict[str, np.ndarray]:
    """The chapter's two-layer network, its forward pass and the four equations."""
    rng = np.random.default_rng(SEED)
    X = rng.normal(size=(N, N_IN))
    Y = rng.normal(size=(N, N_OUT))
    W1 = rng.normal(scale=0.5, size=(N_IN, N_HIDDEN))
    b1 = rng.normal(scale=0.1, size=N_HIDDEN)
    W2 = rng.normal(scale=0.5, size=(N_HIDDEN, N_OUT))
    b2 = rng.normal(scale=0.1, size=N_OUT)
    A1 = np.tanh(X @ W1 + b1)
    Y_hat = A1 @ W2 + b2
    delta2 = 2 * (Y_hat - Y) / Y_hat.size
    delta1 = (delta2 @ W2.T) * (1 - A1**2)
    return {"X": X, "W1": W1, "W2": W2, "A1": A1, "delta2": delta2, "delta1": delta1,
            "dW1": X.T @ delta1}  # fmt: skip


def _same(yours: np.ndarray, expected: np.ndarray) -> bool:
    return close(yours, expected, rtol=1e-9, atol=1e-14)


def _constant_factor(yours: np.ndarray, expected: np.ndarray) -> bool:
    """Whether ``yours`` is a constant (not 1, not -1) times ``expected``."""
    scale = float(np.sum(yours * expected) / np.sum(expected * expected))
    return not np.isclose(abs(scale), 1.0) and scale != 0 and _same(yours, scale * expected)


def ex1(dX: object) -> str:
    """Exercise 4.1: ``dX``, the gradient of the chapter's loss with respect to the input X.

    Diagnoses: the wrong shape (or transposed), the opposite sign, a factor f'(X) that does
    not belong there (there is no activation below X), the tanh's derivative left out (the
    signal taken from ``delta2`` rather than ``delta1``), a constant factor off, and any
    other difference.
    """
    net = _network()
    yours = array(dX, "dX", net["X"].shape)
    expected = net["delta1"] @ net["W1"].T
    if _same(yours, expected):
        return "Correct: dX is dL/dX, the error signal carried down to the input"
    if _same(yours, -expected):
        return "Not yet: dX has the opposite sign"
    if _same(yours, expected * (1 - net["X"] ** 2)):
        return ("Not yet: you multiplied by an activation's derivative at X; the input has "
                "no activation below it, so (BP2) stops after its first half")  # fmt: skip
    if _same(yours, (net["delta2"] @ net["W2"].T) @ net["W1"].T):
        return ("Not yet: the tanh's derivative is missing; start from delta1, the error "
                "signal of the first layer, which already includes it")  # fmt: skip
    if _constant_factor(yours, expected):
        return ("Not yet: dX is proportional to the gradient but a constant factor off; "
                "delta1 already holds the mean's 1/(N K)")  # fmt: skip
    return "Not yet: dX differs from dL/dX; which matrix carries delta1 back to X?"


def ex2(dW1_averaged: object) -> str:
    """Exercise 4.2: ``dW1_averaged``, the mean over the batch of the per-example gradients
    of the first layer's weights, each from its example's own loss.

    Diagnoses: the wrong shape, a sum instead of a mean (N times too large), 1/N applied
    twice (each example's loss divided by N K), the opposite sign, and any other difference
    (pointing at (BP1) for a single example).
    """
    net = _network()
    yours = array(dW1_averaged, "dW1_averaged", (N_IN, N_HIDDEN))
    expected = net["dW1"]
    if _same(yours, expected):
        return "Correct: the mean of the per-example gradients is the batch gradient"
    if _same(yours, N * expected):
        return "Not yet: you summed; the loss is a mean over the batch, so average"
    if _same(yours, expected / N):
        return ("Not yet: 1/N twice; each example's loss is a mean over its K outputs only "
                "(divide by K, not N K), and the average supplies the 1/N")  # fmt: skip
    if _same(yours, -expected):
        return "Not yet: dW1_averaged has the opposite sign"
    return "Not yet: the result differs from the batch gradient; check (BP1) for a single example"


def _shapes_exercise() -> dict[str, np.ndarray]:
    """Exercise 3's arrays, drawn as the chapter draws them."""
    rng = np.random.default_rng(SEED_SHAPES)
    A0 = rng.normal(size=(N3, 6))
    A1 = rng.uniform(size=(N3, 5))
    A2 = rng.uniform(size=(N3, 4))
    V2, V3 = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    d3 = rng.normal(size=(N3, 3))
    return {"A0": A0, "A1": A1, "A2": A2, "V2": V2, "V3": V3, "d3": d3}


def ex3(grad_V3: object, d2_from_d3: object) -> str:
    """Exercise 4.3: ``grad_V3``, the gradient of the output layer's weights (BP4), and
    ``d2_from_d3``, the middle layer's error signal (BP2), of a three-layer network with
    sigmoid hidden layers, from its arrays ``A2``, ``d3`` and ``V3``.

    Diagnoses each answer: the wrong shape or a transposed one, the opposite sign, a
    derivative where none belongs (the weight gradient) or a missing or wrong one (the
    sigmoid's derivative in the error signal), and any other difference.
    """
    data = _shapes_exercise()
    A2, V3, d3 = data["A2"], data["V3"], data["d3"]
    messages = []
    try:
        grad = array(grad_V3, "grad_V3", V3.shape)
    except NotYet as err:
        messages.append(f"{err} (it has the shape of V3: which product of A2 and d3 has it?)")
    else:
        expected = A2.T @ d3
        if _same(grad, -expected):
            messages.append("grad_V3 has the opposite sign")
        elif _same(grad, (A2 * (1 - A2)).T @ d3):
            messages.append(
                "grad_V3 multiplies by the sigmoid's derivative; the weight "
                "gradient takes the activation entering the layer as it is"
            )
        elif not _same(grad, expected):
            messages.append(
                "grad_V3 has the right shape but the wrong values: which "
                "activation enters the output layer?"
            )
    try:
        d2 = array(d2_from_d3, "d2_from_d3", A2.shape)
    except NotYet as err:
        messages.append(f"{err} (it has the shape of A2, one error per middle unit)")
    else:
        back = d3 @ V3.T
        if _same(d2, -back * A2 * (1 - A2)):
            messages.append("d2_from_d3 has the opposite sign")
        elif _same(d2, back):
            messages.append(
                "d2_from_d3 lacks the sigmoid's derivative: (BP2) multiplies "
                "by f'(Z2), which you can write from A2"
            )
        elif _same(d2, back * (1 - A2**2)):
            messages.append(
                "d2_from_d3 uses the tanh's derivative; these hidden layers are sigmoids"
            )
        elif not _same(d2, back * A2 * (1 - A2)):
            messages.append(
                "d2_from_d3 has the right shape but not the right values: check "
                "both halves of (BP2)"
            )
    if messages:
        return "Not yet: " + "; ".join(messages)
    return "Correct: both products match (BP2) and (BP4)"


def _ratio(
    first_backward: int, other_backward: int, *, skip_last: bool = False, elementwise: bool = False
) -> float:
    """Backward over forward multiply-adds: ``first_backward`` matrix products backwards for
    the first layer (the last if ``skip_last``), ``other_backward`` for the others; with
    ``elementwise``, also the two elementwise operations per output entry each way."""
    pairs = list(pairwise(DEEP_WIDTHS))
    products = [first_backward] + [other_backward] * (len(pairs) - 1)
    if skip_last:
        products = products[::-1]
    extra = [2 * DEEP_BATCH * b if elementwise else 0 for _, b in pairs]
    forward = sum(DEEP_BATCH * a * b + e for (a, b), e in zip(pairs, extra, strict=True))
    backward = sum(
        DEEP_BATCH * a * b * k + e for (a, b), k, e in zip(pairs, products, extra, strict=True)
    )
    return backward / forward


def deep_ratio_reference() -> float:
    """Exercise 4's ratio backward/forward (for the chapter's build-only glue cell)."""
    return _ratio(1, 2)


def ex4(deep_ratio: object) -> str:
    """Exercise 4.4: ``deep_ratio``, the count of multiply-adds in matrix products of the
    backward pass over the forward pass, for a 784-512-512-512-10 network on a batch of 128.

    Diagnoses: 2 (the first layer counted with two products), the ratio inverted, the
    first layer counted with no product backwards, the one-product layer taken to be the
    last instead of the first, elementwise operations counted, a rounded value, and any
    other value.
    """
    yours = number(deep_ratio, "deep_ratio")
    expected = deep_ratio_reference()
    if close(yours, expected, rtol=1e-6):  # float32's precision; a rounded 1.57 is not
        return f"Correct: backward / forward = {yours:.3f}, under 2"
    if close(yours, 2.0, rtol=1e-9):
        return ("Not yet: the first layer needs no dL/dX, so it does one product "
                "backwards, not two")  # fmt: skip
    if close(yours, 1 / expected, rtol=1e-9):
        return "Not yet: that is forward / backward; the exercise asks for backward / forward"
    if close(yours, _ratio(0, 2), rtol=1e-9):
        return ("Not yet: the first layer still forms its weight gradient, one product "
                "backwards; only its dL/dX is skipped")  # fmt: skip
    if close(yours, _ratio(1, 2, skip_last=True), rtol=1e-9):
        return ("Not yet: the layer that needs no dL/dX is the first (nothing below it "
                "learns), not the last")  # fmt: skip
    if close(yours, _ratio(1, 2, elementwise=True), rtol=1e-9):
        return ("Not yet: you counted the elementwise operations too; the exercise counts "
                "matrix products only")  # fmt: skip
    if close(yours, expected, rtol=2e-2):
        return ("Not yet: nearly, but not the exact count: compute the ratio from the "
                "counts rather than rounding, and count matrix products only")  # fmt: skip
    return ("Not yet: count each layer's matrix products as the cost section's table does, "
            "forwards and backwards")  # fmt: skip
