"""Answer keys of chapter 6 (Gradient descent and its descendants): exercises 6.1 to 6.5.

Each key recomputes its reference from the chapter's constants and seed (the matrix
``A_EX``, the tolerance ``DELTA_EX``, the regression data drawn from seed 6); none reads
the notebook's variables besides the answers, so a student who changed them still gets a
fair verdict. See :mod:`bplib.exercises` for the protocol.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from bplib.exercises import NotYet, answer, close, number

__all__ = ["A_EX", "DELTA_EX", "N_REG", "b_tenth_bound", "ex1", "ex2", "ex3", "ex4", "ex5"]

SEED = 6
"""The chapter's seed: it draws the regression data and initialises its models."""

N_REG = 200
"""The number of examples of the chapter's regression (the chapter's ``N``)."""

A_EX = np.array([[5.0, 2.0], [2.0, 2.0]])
"""The matrix of exercises 6.1 and 6.5 (the chapter's ``A_ex``)."""

DELTA_EX = 1e-4
"""The distance exercise 6.5 guarantees (the chapter's ``DELTA_EX``)."""

EPOCHS_COS = 30
"""Exercise 6.3's number of epochs; its initial learning rate is ``LR_COS``."""
LR_COS = 0.05


# --- the chapter's objects, rebuilt from its constants --------------------------------


@functools.lru_cache(maxsize=1)
def _regression() -> tuple[np.ndarray, np.ndarray]:
    """The chapter's ``X_reg, y_reg``: the first draws of ``default_rng(SEED)``."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((N_REG, 3))
    w_true = np.array([[1.5], [-2.0], [0.5]])
    y = X @ w_true + 0.3 + 0.5 * rng.standard_normal((N_REG, 1))
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


@functools.lru_cache(maxsize=1)
def _loss_min() -> float:
    """The minimum of the regression's mean squared error (least squares)."""
    X, y = _regression()
    A = np.column_stack([X, np.ones(N_REG)])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(np.mean((A @ coef - y) ** 2))


def _mse_of(model: Any) -> float:
    """The mean squared error of ``model`` on the chapter's regression."""
    X, y = _regression()
    out = np.asarray(model(np.array(X)), dtype=float)
    if out.shape != y.shape:
        raise NotYet(f"model_cos maps the inputs to shape {out.shape}, expected {y.shape}")
    return float(np.mean((out - y) ** 2))


@functools.lru_cache(maxsize=1)
def _constant_rate_loss() -> float:
    """The loss after ``EPOCHS_COS`` epochs of SGD with batch size 1 at the constant rate."""
    import bplib
    from bplib import optim, train

    X, y = _regression()
    model = bplib.Linear(3, 1, rng=SEED)
    train.fit(model, bplib.MSELoss(), optim.SGD(model.parameters(), lr=LR_COS), np.array(X),
              np.array(y), epochs=EPOCHS_COS, batch_size=1, rng=0, progress=False)  # fmt: skip
    return _mse_of(model)


def _noise_ratio(B: int) -> float:
    """The mini-batch gradient's mean squared error at batch size ``B`` over that at 1."""
    return (N_REG - B) / ((N_REG - 1) * B)


def b_tenth_bound(n: int = N_REG) -> float:
    """The real-valued bound on the batch size in exercise 6.4's solution (for ``n`` examples).

    Used only by the Solution of exercise 6.4 (the book glues it there); ``ex4`` does not
    need it.
    """
    return 10 * n / (n + 9)


@functools.lru_cache(maxsize=1)
def _per_example_gradients() -> np.ndarray:
    """The chapter's per-example gradients of the regression at its initial model."""
    import bplib

    X, y = _regression()
    model = bplib.Linear(3, 1, rng=SEED)
    mse = bplib.MSELoss()
    rows = []
    for n in range(N_REG):
        model.zero_grad()
        mse(model(np.array(X[n : n + 1])), np.array(y[n : n + 1]))
        model.backward(mse.backward())
        rows.append(np.concatenate([p.grad.ravel() for p in model.parameters()]))
    return np.array(rows)


def _measured_noise_ratio(B: int, draws: int = 2000) -> float:
    """The measured mean squared error of batches of ``B`` over that of single examples."""
    per_example = _per_example_gradients()
    full = per_example.mean(axis=0)
    gen = np.random.default_rng(SEED)

    def error(size: int) -> float:
        batches = gen.permuted(np.tile(np.arange(N_REG), (draws, 1)), axis=1)[:, :size]
        g_B = per_example[batches].mean(axis=1)
        return float(np.mean(np.sum((g_B - full) ** 2, axis=1)))

    return error(B) / error(1)


def _descend(A: np.ndarray, start: np.ndarray, lr: float, tol: float) -> tuple[int, float]:
    """Gradient descent on 1/2 theta^T A theta stopped by |grad| < tol: (steps, distance)."""
    theta = np.array(start, dtype=float)
    for steps in range(100_000):
        g = A @ theta
        if np.linalg.norm(g) < tol:
            return steps, float(np.linalg.norm(theta))
        theta = theta - lr * g
    return 100_000, float(np.linalg.norm(theta))


# --- exercise 6.1 ---------------------------------------------------------------------


def _final_distance(lr: float, steps: int = 300) -> float:
    """Distance to the minimum after ``steps`` steps of ``bplib.optim.SGD`` on ``A_EX``."""
    import bplib
    from bplib import optim

    p = bplib.Parameter(np.array([1.0, 1.0]), "theta")
    opt = optim.SGD([p], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        p.grad += A_EX @ p.data
        opt.step()
    return float(np.linalg.norm(p.data))


def ex1(eta_max: object, eta_best: object) -> str:
    """Exercise 6.1: the edge of stability and the best fixed learning rate for ``A_EX``.

    Both are compared with the reference to a relative 1e-5. Diagnoses for ``eta_max``:
    not a number; the rate that is exact along the steepest direction (the factor there is
    0, not yet -1); the curvatures read from the diagonal of a non-diagonal matrix; too
    small (gradient descent still converges above it) or too large (it diverges below it).
    For ``eta_best``: at or beyond the edge of stability; which extreme direction is left
    slower at the student's rate (so whether to raise or lower it). A right answer is
    confirmed by running gradient descent just below and just above ``eta_max``.
    """
    eta_max_, eta_best_ = number(eta_max, "eta_max"), number(eta_best, "eta_best")
    lam_lo, lam_hi = np.linalg.eigvalsh(A_EX)
    true_max, true_best = 2 / lam_hi, 2 / (lam_lo + lam_hi)
    problems = []
    if eta_max_ <= 0:
        problems.append("eta_max should be a positive learning rate")
    elif close(eta_max_, 1 / lam_hi, rtol=1e-5):
        problems.append(
            "your eta_max makes the step exact along the steepest direction (the factor "
            "1 - eta lambda is 0 there); gradient descent still converges for larger rates, "
            "while that factor stays above -1"
        )
    elif close(eta_max_, 2 / A_EX.diagonal().max(), rtol=1e-5):
        problems.append(
            "eta_max is read from the diagonal of A_ex; A_ex is not diagonal, and its "
            "curvatures are its eigenvalues"
        )
    elif eta_max_ < true_max * (1 - 1e-5):
        problems.append(
            "eta_max is too small: gradient descent on A_ex still converges at rates a "
            "little above it"
        )
    elif eta_max_ > true_max * (1 + 1e-5):
        problems.append("eta_max is too large: gradient descent on A_ex diverges a little below it")
    if not close(eta_best_, true_best, rtol=1e-5):
        if eta_best_ <= 0 or eta_best_ >= true_max:
            problems.append(
                "eta_best is not even a rate at which gradient descent converges on A_ex"
            )
        elif abs(1 - eta_best_ * lam_lo) > abs(1 - eta_best_ * lam_hi):
            problems.append(
                "at your eta_best the flattest direction shrinks its error more slowly than the "
                "steepest one; the best rate balances |1 - eta lambda| at both extreme "
                "eigenvalues"
            )
        else:
            problems.append(
                "at your eta_best the steepest direction shrinks its error more slowly than the "
                "flattest one; the best rate balances |1 - eta lambda| at both extreme "
                "eigenvalues"
            )
    if problems:
        return "Not yet: " + "; ".join(problems)
    below, above = _final_distance(0.98 * eta_max_), _final_distance(1.02 * eta_max_)
    return (
        f"Correct: eta_max = {eta_max_:.6f}, eta_best = {eta_best_:.6f}; after 300 steps from "
        f"(1, 1) the distance is {below:.1e} at 0.98 eta_max and {above:.1e} at 1.02 eta_max"
    )


# --- exercise 6.2 ---------------------------------------------------------------------


def _adam_variants(
    theta: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
    lr: float, beta1: float, beta2: float, eps: float,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    """Plausible wrong Adam steps from the same inputs, each named by its diagnosis."""
    m1 = beta1 * m + (1 - beta1) * g
    v1 = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m1 / (1 - beta1**t), v1 / (1 - beta2**t)
    step = lr * m_hat / (np.sqrt(v_hat) + eps)
    ms, vs = beta2 * m + (1 - beta2) * g, beta1 * v + (1 - beta1) * g**2
    d1, d2 = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
    d_step = 0.001 * (d1 / (1 - 0.9**t)) / (np.sqrt(d2 / (1 - 0.999**t)) + 1e-8)
    return {
        "the step has no bias correction: m and v start at zero, and Adam corrects their "
        "averages for that before the step (see the chapter's Adam equations)":
            (theta - lr * m1 / (np.sqrt(v1) + eps), m1, v1),
        "only the first moment m is bias-corrected; v needs its own correction":
            (theta - lr * m_hat / (np.sqrt(v1) + eps), m1, v1),
        "only the second moment v is bias-corrected; m needs its own correction":
            (theta - lr * m1 / (np.sqrt(v_hat) + eps), m1, v1),
        "eps goes outside the square root, as in PyTorch":
            (theta - lr * m_hat / np.sqrt(v_hat + eps), m1, v1),
        "the step has the wrong sign: Adam moves against the gradient":
            (theta + step, m1, v1),
        "beta1 and beta2 are swapped: beta1 averages the gradient, beta2 its square":
            (theta - lr * (ms / (1 - beta2**t)) / (np.sqrt(vs / (1 - beta1**t)) + eps), ms, vs),
        "the new theta is right, but return the raw moving averages m and v, not the "
        "bias-corrected ones: the next step averages them further":
            (theta - step, m_hat, v_hat),
        "your adam_step ignores its arguments lr, beta1, beta2 or eps and uses the defaults":
            (theta - d_step, d1, d2),
    }  # fmt: skip


def ex2(adam_step: object) -> str:
    """Exercise 6.2: one Adam step, as a function ``adam_step(theta, g, m, v, t, ...)``.

    Runs 20 steps of ``bplib.optim.Adam`` (lr 0.01, betas (0.8, 0.99)) on random gradients
    whose coordinates range over five orders of magnitude; at each step the student's
    function gets Adam's own state (so one mistake is found at the step it first shows)
    and must return Adam's new parameters and moments. Diagnoses: not a function; an error
    inside it; not a triple of arrays; not finite at a step (a division by zero);
    no bias correction, or only one of the two; eps inside the square root; the sign of the
    step; beta1 and beta2 swapped; the bias-corrected moments returned instead of the raw
    ones; the arguments ignored (defaults used); the moments wrong with theta right.
    Never prints Adam's values.
    """
    import bplib
    from bplib import optim

    answer(adam_step)
    if not callable(adam_step):
        raise NotYet(f"adam_step should be a function, not {type(adam_step).__name__}")
    lr, beta1, beta2, eps = 0.01, 0.8, 0.99, 1e-8
    gen = np.random.default_rng(SEED)
    grads = gen.standard_normal((20, 4)) * np.array([1e-3, 1.0, 10.0, 100.0])
    p = bplib.Parameter(np.ones(4), "theta")
    reference = optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    m, v = np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        theta = p.data.copy()
        p.grad[:] = g
        reference.step()
        state = reference.state[p]
        want = (p.data.copy(), np.array(state["exp_avg"]), np.array(state["exp_avg_sq"]))
        try:  # quietly: a division by zero gets a diagnosis below, not a warning
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                got = adam_step(theta.copy(), g.copy(), m.copy(), v.copy(), t,
                                lr=lr, beta1=beta1, beta2=beta2, eps=eps)  # fmt: skip
        except Exception as err:
            raise NotYet(
                f"adam_step raised {type(err).__name__} at step {t}: {err}".rstrip(": ")
            ) from None
        got = answer(got)
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise NotYet("adam_step should return three arrays: (theta, m, v)")
        try:
            got = tuple(np.asarray(x, dtype=float) for x in got)
        except (TypeError, ValueError):
            raise NotYet("adam_step should return three arrays of numbers: (theta, m, v)") from None
        if any(x.shape != (4,) for x in got):
            shapes = ", ".join(str(x.shape) for x in got)
            raise NotYet(f"adam_step returned shapes {shapes} for a parameter of shape (4,)")
        if not all(np.all(np.isfinite(x)) for x in got):
            return (
                f"Not yet: at step {t} your adam_step returns NaN or infinite values: does "
                "something divide by zero (step t counts from 1)?"
            )
        if all(close(x, w, rtol=1e-9, atol=1e-12) for x, w in zip(got, want, strict=True)):
            m, v = want[1], want[2]
            continue
        variants = _adam_variants(theta, g, m, v, t, lr, beta1, beta2, eps)
        for diagnosis, wrong in variants.items():
            if all(close(x, w, rtol=1e-9, atol=1e-12) for x, w in zip(got, wrong, strict=True)):
                return f"Not yet: at step {t}, {diagnosis}"
        if close(got[0], want[0], rtol=1e-9, atol=1e-12):
            which = "m" if not close(got[1], want[1], rtol=1e-9, atol=1e-12) else "v"
            return (
                f"Not yet: at step {t} the new theta is right, but the returned {which} is not "
                "the updated moving average"
            )
        return (
            f"Not yet: at step {t} your new theta differs from bplib.optim.Adam's (given the "
            "same theta, m and v); compare each line with the chapter's Adam equations"
        )
    return "Correct: 20 steps agree with bplib.optim.Adam (and so with torch.optim.Adam)"


# --- exercise 6.3 ---------------------------------------------------------------------


def _cosine(T_max: float) -> np.ndarray:
    e = np.arange(EPOCHS_COS)
    return LR_COS * (1 + np.cos(np.pi * e / T_max)) / 2


def ex3(model_cos: object, history_cos: object) -> str:
    """Exercise 6.3: SGD with a cosine schedule that anneals the noise floor away.

    ``history_cos`` (what ``train.fit`` returned) must record ``EPOCHS_COS`` = 30 epochs
    whose learning rates fall from 0.05 along half a cosine that reaches zero as training
    ends (``T_max`` = 30: ``fit`` steps the schedule after every epoch); ``model_cos``
    must then have a lower loss on the chapter's regression than the constant-rate run
    (which the key trains itself). Diagnoses: not a History or not a model; the number of
    epochs; no schedule; a rate that does not start at 0.05; a cosine that reaches zero
    one epoch early (the last epoch learns nothing) or that is not the half cosine over
    the 30 epochs; a model no better than the constant rate.
    """
    answer(model_cos)
    answer(history_cos)
    lr_list = getattr(history_cos, "lr", None)
    if lr_list is None or not hasattr(history_cos, "loss"):
        raise NotYet(
            f"history_cos should be what train.fit returns (a History), not "
            f"{type(history_cos).__name__}"
        )
    lrs = np.asarray(lr_list, dtype=float)
    if len(lrs) != EPOCHS_COS:
        return f"Not yet: train for {EPOCHS_COS} epochs (history_cos has {len(lrs)})"
    if np.allclose(lrs, lrs[0], rtol=1e-12):
        return "Not yet: the learning rate never changed; pass scheduler= to fit"
    if not math.isclose(lrs[0], LR_COS, rel_tol=1e-12):
        return f"Not yet: the first epoch's rate is {lrs[0]:g}; start SGD at lr={LR_COS}"
    if close(lrs, _cosine(EPOCHS_COS - 1), rtol=1e-9, atol=1e-15):
        return (
            "Not yet: your rate is already zero in the last epoch, which then learns "
            "nothing: T_max counts the schedule's steps, and fit takes one after each epoch"
        )
    if not close(lrs, _cosine(EPOCHS_COS), rtol=1e-9, atol=1e-15):
        return (
            f"Not yet: the learning rates do not fall from {LR_COS} along half a cosine that "
            f"reaches zero when the {EPOCHS_COS} epochs end (check T_max and eta_min)"
        )
    try:
        final = _mse_of(model_cos)
    except NotYet:
        raise
    except Exception:
        raise NotYet(
            "model_cos should be the bplib.Linear(3, 1) you trained, not "
            f"{type(model_cos).__name__}"
        ) from None
    floor, loss_min = _constant_rate_loss(), _loss_min()
    if not final - loss_min < floor - loss_min:
        return (
            "Not yet: the schedule is right, but model_cos's loss is not below the "
            "constant-rate run's: train a fresh bplib.Linear(3, 1, rng=SEED) with it"
        )
    return (
        f"Correct: loss - minimum is {final - loss_min:.1e} with the schedule, "
        f"{floor - loss_min:.1e} without"
    )


# --- exercise 6.4 ---------------------------------------------------------------------


def ex4(B_tenth: object) -> str:
    """Exercise 6.4: the smallest batch size with a tenth of the gradient noise of B = 1.

    Accepts any whole number (int, numpy integer, or a float such as ``np.ceil``'s 10.0).
    Diagnoses: not a whole number from 1 to N; a batch size with more than a tenth of the
    noise (its own ratio, by the formula); a tenth of the data set (N / 10) instead of a
    tenth of the noise; a batch size larger than needed (not which one is smallest). A
    right answer is confirmed by measuring the ratio over 2,000 random batches.
    """
    value = number(B_tenth, "B_tenth")
    if value != int(value) or not 1 <= value <= N_REG:
        raise NotYet(f"a batch size is a whole number from 1 to N = {N_REG}, got {value:g}")
    B = int(value)
    if _noise_ratio(B) > 0.1:
        return (
            f"Not yet: B = {B} still has {_noise_ratio(B):.3f} of the noise of B = 1, more "
            "than a tenth"
        )
    if B == N_REG // 10:
        return (
            "Not yet: a tenth of the data set is not a batch with a tenth of the noise; "
            "work it out from the noise formula"
        )
    if B > 1 and _noise_ratio(B - 1) <= 0.1:
        return "Not yet: a smaller batch size also gets to a tenth of the noise; find the smallest"
    return (
        f"Correct: B = {B}; the formula gives {_noise_ratio(B):.3f} of the B = 1 noise, "
        f"and 2,000 random batches measure {_measured_noise_ratio(B):.3f}"
    )


# --- exercise 6.5 ---------------------------------------------------------------------


def ex5(tol_ex: object) -> str:
    """Exercise 6.5: the largest gradient-norm tolerance that guarantees DELTA_EX on A_EX.

    Accepts any real number (Python, numpy or SymPy, or a one-element array) within a
    relative 1e-6 of the reference. Diagnoses: not a number; the lower bound's eigenvalue
    (lambda_max) used; the bound on the loss instead of the distance; too large (a point
    farther than DELTA_EX from the minimum passes the test); safe but smaller than
    needed. A right answer is confirmed by a run from (1, 1) stopped by the test.
    """
    tol = number(tol_ex, "tol_ex")
    lam_lo, lam_hi = np.linalg.eigvalsh(A_EX)
    right = lam_lo * DELTA_EX
    if tol <= 0:
        return "Not yet: the test |grad| < tol needs a positive tolerance to ever stop"
    if close(tol, lam_hi * DELTA_EX, rtol=1e-6):
        return (
            "Not yet: |grad| / lambda_max is a lower bound on the distance; the guarantee "
            "needs the upper one"
        )
    if close(tol, math.sqrt(2 * lam_lo * DELTA_EX), rtol=1e-6):
        return (
            "Not yet: that tolerance bounds the loss that is left, not the distance to the minimum"
        )
    if tol > right * (1 + 1e-6):
        return (
            "Not yet: too large: a point along the flattest direction of A_ex, farther than "
            "DELTA_EX from the minimum, has a gradient norm below your tolerance and passes "
            "the test"
        )
    if tol < right * (1 - 1e-6):
        return "Not yet: that tolerance is safe, but a larger one still guarantees DELTA_EX"
    steps, distance = _descend(A_EX, np.array([1.0, 1.0]), 2 / (lam_lo + lam_hi), tol)
    return (
        f"Correct: tol_ex = {tol:.1e}; from (1, 1) gradient descent stops after {steps} "
        f"steps at distance {distance:.1e}"
    )
