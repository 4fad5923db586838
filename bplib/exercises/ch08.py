"""Answer keys of exercises 8.1 to 8.4, "Vanishing and exploding gradients" (``check("8.M", ...)``).

Every key recomputes its reference from :mod:`bplib.experiments` and the chapter's
constants; none needs notebook state. See :mod:`bplib.exercises` for the protocol.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, array, close, number

__all__ = ["ex1", "ex2", "ex3", "ex4"]

_SEED = 8  # the chapter's seed


def _function(value: object, name: str) -> Callable[..., Any]:
    answer(value)
    if not callable(value):
        raise NotYet(f"{name} should be a function, not {type(value).__name__}")
    return value


def ex1(r_lecun_tanh: object, r_glorot_sigmoid: object) -> str:
    """Exercise 8.1: the predicted per-layer ratio for width 50, tanh + LeCun, sigmoid + Glorot.

    The reference is :func:`bplib.experiments.predicted_ratio`. Diagnoses: the two answers
    swapped, the sigmoid's slope not squared (a ratio of standard deviations), a standard
    deviation of the weights used where the variance belongs, the old uniform initialiser's
    ratio for tanh.
    """
    from bplib import experiments

    n = 50
    tanh = number(r_lecun_tanh, "r_lecun_tanh")
    sigmoid = number(r_glorot_sigmoid, "r_glorot_sigmoid")
    tanh_true = experiments.predicted_ratio("tanh", "lecun_normal", n)
    sigmoid_true = experiments.predicted_ratio("sigmoid", "xavier_normal", n)
    tanh_ok, sigmoid_ok = close(tanh, tanh_true), close(sigmoid, sigmoid_true)
    if tanh_ok and sigmoid_ok:
        return "Correct: both agree with bplib.experiments.predicted_ratio"
    if close(tanh, sigmoid_true) and close(sigmoid, tanh_true):
        raise NotYet("the two answers are swapped")
    hints = []
    if not tanh_ok:
        if close(tanh, n * math.sqrt(1 / n)):
            hints.append("r_lecun_tanh uses the weights' standard deviation; r needs Var[W]")
        elif close(tanh, experiments.predicted_ratio("tanh", "uniform", n)):
            hints.append("r_lecun_tanh is the old uniform initialiser's ratio, not LeCun's")
        else:
            hints.append("r_lecun_tanh is not yet right")
    if not sigmoid_ok:
        if close(sigmoid, math.sqrt(sigmoid_true)):
            hints.append(
                "r_glorot_sigmoid uses the sigmoid's slope once: r is a ratio of variances, "
                "so the slope enters squared"
            )
        elif close(sigmoid, n * math.sqrt(2 / (2 * n)) / 16):
            hints.append("r_glorot_sigmoid uses the weights' standard deviation; r needs Var[W]")
        else:
            hints.append("r_glorot_sigmoid is not yet right")
    raise NotYet("; ".join(hints))


def ex2(relu_std: object) -> str:
    """Exercise 8.2: the standard deviation of normal weights that keeps a ReLU network level.

    First the theory at widths 10, 48 and 200 (the predicted ratio must be 1 at each), then
    the experiment: 20-layer ReLU networks of width 48 with weights drawn with the answer's
    standard deviation, whose measured per-layer ratio must be 1 within chance. Diagnoses:
    a variance returned where a standard deviation is asked, the ratio the same at every
    width but not 1 (too large or too small: explodes or vanishes), a ratio that depends on
    the width.
    """
    import functools

    import bplib
    from bplib import experiments, init

    fn = _function(relu_std, "relu_std")
    widths = (10, 48, 200)
    stds = {n: number(answer(fn(n)), f"relu_std({n})") for n in widths}
    ratios = {n: n * stds[n] ** 2 * experiments.derivative_mean_square("relu") for n in widths}
    if not all(close(r, 1.0) for r in ratios.values()):
        if all(close(stds[n], 2 / n) for n in widths):
            raise NotYet("relu_std returns a variance; the weights need its standard deviation")
        if all(close(ratios[n], ratios[widths[0]], rtol=1e-6) for n in widths):
            r = ratios[widths[0]]
            trend = "vanishes" if r < 1 else "explodes"
            raise NotYet(
                f"your weights give the same per-layer ratio r = {r:.4g} at every width, but "
                f"not 1: the gradient {trend} with depth"
            )
        listed = ", ".join(f"{ratios[n]:.4g} at n = {n}" for n in widths)
        raise NotYet(f"your weights give per-layer ratios {listed}: r should be 1 at every width")
    n, depth, seeds = 48, 20, 8
    measured = []
    for seed in range(seeds):
        gen = np.random.default_rng(seed)
        weight_init = functools.partial(init.normal, std=stds[48])
        layers: list[bplib.Module] = []
        for _ in range(depth):
            layers += [bplib.Linear(n, n, init=weight_init, rng=gen), bplib.ReLU()]
        x = gen.standard_normal((64, n))
        stats = experiments.layer_statistics(
            bplib.Sequential(*layers), x, gen.standard_normal((64, n))
        )
        measured.append(float(stats.measured_ratio()))
    mean = float(np.mean(measured))
    tolerance = experiments.ratio_tolerance(n, depth, seeds, activation="relu")
    if abs(mean - 1) >= tolerance:  # the theory says this happens less than once in 10^4
        raise NotYet(f"the measured per-layer ratio {mean:.3f} is not level within {tolerance:.3f}")
    return (
        f"Correct: r = 1 at every width; 20-layer ReLU networks measure a per-layer ratio of "
        f"{mean:.3f}, level within {tolerance:.3f}"
    )


def ex3(k_exact: object, n_layers: object) -> str:
    """Exercise 8.3: depth at which (1/16)^k falls below a millionth: k and the whole number.

    The per-layer ratio is :func:`bplib.experiments.predicted_ratio` for sigmoid + Glorot.
    Diagnoses: a negative k (16 for 1/16, a sign), a rounded value typed by hand, a k off by
    a factor (log bases), the whole number rounded down, not whole, or more than needed.
    """
    from bplib import experiments

    r = experiments.predicted_ratio("sigmoid", "xavier_normal", 32)
    k = number(k_exact, "k_exact")
    layers = number(n_layers, "n_layers")
    k_true = math.log(1e-6) / math.log(r)
    if not close(k, k_true, rtol=1e-9):
        if k < 0:
            raise NotYet(
                "k_exact is negative: a number of layers cannot be; check the sign of the "
                "logarithms (1/16 is below one, 16 is above)"
            )
        if abs(k - k_true) < 0.01:
            raise NotYet(
                "k_exact is close but not exact: compute it with logarithms rather than "
                "typing a rounded value"
            )
        raise NotYet(
            f"(1/16)^k with your k = {k:.6g} is {r**k:.3g}, not one millionth: take "
            "logarithms of both sides"
        )
    if layers != int(layers):
        raise NotYet("n_layers should be a whole number of layers")
    whole = int(layers)
    if r**whole >= 1e-6:
        raise NotYet(
            f"with {whole} layers the variance keeps (1/16)^{whole} = {r**whole:.3g}, still "
            "above one millionth: rounding down leaves too few layers"
        )
    if r ** (whole - 1) < 1e-6:
        raise NotYet(f"{whole} layers suffice, but so do fewer: the smallest number is asked")
    return f"Correct: k = {k:.4f}, so {whole} layers: (1/16)^{whole} < 1e-6 <= (1/16)^{whole - 1}"


def _grads() -> list[np.ndarray]:
    g = np.random.default_rng(_SEED)
    return [g.standard_normal(shape) for shape in ((3, 4), (4,), (4, 2), (2,))]


def ex4(clip: object) -> str:
    """Exercise 8.4: clip a list of gradients to a joint norm, as ``clip_grad_norm``.

    Compares with :func:`bplib.utils.clip_grad_norm` on gradients of the key's own, with a
    threshold below the joint norm (clipped), above it (untouched) and near it. Diagnoses:
    the wrong number of arrays or shapes, one norm per array instead of one for all, a
    gradient scaled up when it was short enough (no min with 1), the 1e-6 left out of the
    denominator.
    """
    import bplib
    from bplib import utils

    fn = _function(clip, "clip")
    grads = _grads()
    joint = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    for max_norm in (joint / 10, 10 * joint, 0.999 * joint):
        given = [g.copy() for g in grads]
        yours = answer(fn(given, max_norm))
        if not isinstance(yours, list | tuple):
            raise NotYet(f"clip should return a list of arrays, not {type(yours).__name__}")
        if len(yours) != len(grads):
            raise NotYet(f"clip returned {len(yours)} arrays for {len(grads)} gradients")
        got = [
            array(a, f"clip's array {i}", g.shape)
            for i, (a, g) in enumerate(zip(yours, grads, strict=True))
        ]
        params = [bplib.Parameter(g.copy()) for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad[...] = g
        utils.clip_grad_norm(params, max_norm)
        if all(close(a, p.grad, rtol=1e-12) for a, p in zip(got, params, strict=True)):
            continue
        per_array = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
        if all(close(a, b, rtol=1e-12) for a, b in zip(got, per_array, strict=True)):
            raise NotYet("clip uses one norm per array; the norm is that of all arrays together")
        if max_norm > joint and all(
            close(a, g * max_norm / (joint + 1e-6), rtol=1e-12)
            for a, g in zip(got, grads, strict=True)
        ):
            raise NotYet(
                "clip scales up gradients that are already shorter than max_norm; it should "
                "leave them as they are"
            )
        exact = [g * min(1.0, max_norm / joint) for g in grads]
        if all(close(a, b, rtol=1e-12) for a, b in zip(got, exact, strict=True)):
            raise NotYet("clip leaves out PyTorch's 1e-6 in the denominator")
        relation = "above" if max_norm > joint else "below"
        raise NotYet(
            f"with max_norm {relation} the joint norm your arrays differ from clip_grad_norm's"
        )
    return "Correct: your clip agrees with bplib.utils.clip_grad_norm, clipped or not"
