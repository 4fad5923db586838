"""The update rules of chapter 6, each as ``torch.optim``'s: SGD (with momentum, Nesterov and
weight decay), RMSprop, Adagrad, Adam and AdamW.

Each rule is a plain function ``rule(theta, grad, state, t, **hyperparameters)`` that returns
``(new_theta, new_state)``: the parameter's value after step ``t`` (1 for the first) and the
arrays to remember until the next step. It is the mathematics and nothing else; the class
beside it declares the hyperparameters, and :class:`~bplib.optim.Optimizer` checks them,
applies the rule to every parameter and writes the results only once all are finite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from ..module import Parameter
from .fast import sgd_into
from .optimizer import Array, Optimizer, Real, flag

LR = Real(label="lr (the learning rate)")  # a finite number >= 0
NON_NEGATIVE = Real()
POSITIVE = Real(low_open=True)


def sgd(
    theta: Array,
    grad: Array,
    state: Mapping[str, Any],
    t: int,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    nesterov: bool,
    weight_decay: float,
) -> tuple[Array, dict[str, Array]]:
    """One step of (momentum) gradient descent: the new value and the new momentum buffer."""
    g = grad
    if weight_decay != 0:
        g = g + weight_decay * theta  # the gradient of the penalty (weight_decay / 2) |theta|^2
    if momentum == 0:
        return theta - lr * g, {}
    if "momentum_buffer" not in state:
        b = g.copy()  # b_1 = g_1
    else:
        b = momentum * state["momentum_buffer"] + (1 - dampening) * g
    direction = g + momentum * b if nesterov else b
    return theta - lr * direction, {"momentum_buffer": b}


def rmsprop(
    theta: Array,
    grad: Array,
    state: Mapping[str, Any],
    t: int,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
) -> tuple[Array, dict[str, Array]]:
    """One step of RMSprop: divide the gradient by a running root mean square of it."""
    g = grad
    if weight_decay != 0:
        g = g + weight_decay * theta
    new: dict[str, Array] = {}
    v = state["square_avg"] if t > 1 else np.zeros_like(theta)
    v = new["square_avg"] = v * alpha + (1 - alpha) * g * g
    if centered:
        g_bar = state["grad_avg"] if t > 1 else np.zeros_like(theta)
        g_bar = new["grad_avg"] = g_bar * alpha + (1 - alpha) * g
        # v - g_bar**2 is a variance, >= 0 in exact arithmetic; rounding can take it
        # a hair below 0 (a constant gradient makes it exactly 0), whose sqrt is NaN
        denom = np.sqrt(np.maximum(v - g_bar * g_bar, 0)) + eps
    else:
        denom = np.sqrt(v) + eps
    if momentum > 0:
        b = state["momentum_buffer"] if t > 1 else np.zeros_like(theta)
        b = new["momentum_buffer"] = b * momentum + g / denom
        return theta - lr * b, new
    return theta - lr * (g / denom), new


def adagrad(
    theta: Array,
    grad: Array,
    state: Mapping[str, Any],
    t: int,
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    initial_accumulator_value: float,
    eps: float,
) -> tuple[Array, dict[str, Array]]:
    """One step of Adagrad: divide the gradient by the root of the sum of its squares."""
    s = state["sum"] if t > 1 else np.full_like(theta, initial_accumulator_value)
    g = grad
    if weight_decay != 0:
        g = g + weight_decay * theta
    s = s + g * g
    lr_t = lr / (1 + (t - 1) * lr_decay)
    return theta - lr_t * (g / (np.sqrt(s) + eps)), {"sum": s}


def adam(
    theta: Array,
    grad: Array,
    state: Mapping[str, Any],
    t: int,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    amsgrad: bool,
) -> tuple[Array, dict[str, Array]]:
    """One step of Adam: the new value and the new moments m and v."""
    beta1, beta2 = betas
    g = grad
    if weight_decay != 0:
        g = g + weight_decay * theta  # the L2 form: the decay goes through m and v
    m = state["exp_avg"] if t > 1 else np.zeros_like(theta)
    v = state["exp_avg_sq"] if t > 1 else np.zeros_like(theta)
    m = m + (1 - beta1) * (g - m)  # = beta1 m + (1 - beta1) g, as torch's lerp computes it
    v = v * beta2 + (1 - beta2) * g * g
    new = {"exp_avg": m, "exp_avg_sq": v}
    if amsgrad:
        v_max = state["max_exp_avg_sq"] if t > 1 else np.zeros_like(theta)
        v = new["max_exp_avg_sq"] = np.maximum(v_max, v)
    denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps  # sqrt(v_hat) + eps
    return theta - lr / (1 - beta1**t) * (m / denom), new  # lr m_hat / (sqrt(v_hat) + eps)


def adamw(
    theta: Array,
    grad: Array,
    state: Mapping[str, Any],
    t: int,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    amsgrad: bool,
) -> tuple[Array, dict[str, Array]]:
    """One step of AdamW: shrink theta by 1 - lr weight_decay, then take Adam's step."""
    shrunk = (1 - lr * weight_decay) * theta
    return adam(
        shrunk, grad, state, t, lr=lr, betas=betas, eps=eps, weight_decay=0.0, amsgrad=amsgrad
    )


def _betas(value: object, name: str, where: str) -> tuple[float, float]:
    """Adam's ``betas``: a pair of numbers in [0, 1)."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got {value!r}")
    unit = Real(0.0, 1.0, high_open=True)
    return unit(value[0], "betas[0] (beta1)", where), unit(value[1], "betas[1] (beta2)", where)


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum and weight decay.

    Plain gradient descent (``momentum=0``) is
    :math:`\theta_t = \theta_{t-1} - \eta\,g_t`. With weight decay the gradient first
    becomes :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}` (an L2 penalty
    :math:`\tfrac\lambda2\lVert\theta\rVert^2`). With momentum :math:`\mu > 0`, the
    heavy ball of Polyak (1964) in PyTorch's form:

    .. math::

        b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \quad (t > 1), \qquad
        \theta_t = \theta_{t-1} - \eta\, b_t ,

    where :math:`\tau` is ``dampening`` (0 by default; note the first buffer is the
    gradient itself, undampened). With ``nesterov=True`` (Nesterov, 1983, in the form of
    Sutskever et al., 2013) the step looks ahead along the buffer:
    :math:`\theta_t = \theta_{t-1} - \eta\,(g_t + \mu\, b_t)`.

    Parameters
    ----------
    params : iterable of Parameter
    lr : float
        :math:`\eta` (PyTorch's default, 1e-3; chapter 6 is about choosing it).
    momentum : float
        :math:`\mu \ge 0`.
    dampening : float
        :math:`\tau \ge 0`.
    weight_decay : float
        :math:`\lambda \ge 0`.
    nesterov : bool
        Needs ``momentum > 0`` and ``dampening == 0``.

    Notes
    -----
    The positional order is PyTorch's: ``SGD(params, lr, momentum, dampening,
    weight_decay, nesterov)``.

    ``state[p]["momentum_buffer"]`` holds :math:`b_t` when momentum is on.
    """

    rule = staticmethod(sgd)
    rule_into = staticmethod(sgd_into)  # sgd's numbers, into a kept array (optim/fast.py)
    hyperparameters: ClassVar = {
        "lr": LR,
        "momentum": NON_NEGATIVE,
        "dampening": NON_NEGATIVE,
        "nesterov": flag,
        "weight_decay": NON_NEGATIVE,
    }
    state_entries: ClassVar = {"momentum_buffer": "momentum"}  # kept when momentum != 0
    momentum: float
    dampening: float
    nesterov: bool
    weight_decay: float

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
        )
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "SGD: Nesterov momentum needs momentum > 0 and dampening = 0, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )


class RMSprop(Optimizer):
    r"""RMSprop (Tieleman & Hinton, 2012): divide each step by a running RMS of the gradient.

    .. math::

        v_t = \alpha\, v_{t-1} + (1-\alpha)\, g_t^2, \qquad v_0 = 0, \qquad
        \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}

    (elementwise). With ``centered=True`` the second moment is replaced by a variance
    estimate, :math:`\sqrt{v_t - \bar g_t^2}` with
    :math:`\bar g_t = \alpha\,\bar g_{t-1} + (1-\alpha)\,g_t`. With ``momentum`` :math:`\mu > 0`
    the scaled gradient feeds a buffer, :math:`b_t = \mu\, b_{t-1} + g_t/(\sqrt{v_t}+\epsilon)`,
    :math:`b_0 = 0`, and :math:`\theta_t = \theta_{t-1} - \eta\, b_t`. Weight decay adds
    :math:`\lambda\theta_{t-1}` to :math:`g_t` first.

    ``state[p]`` holds ``"square_avg"`` (:math:`v_t`), and ``"grad_avg"`` (:math:`\bar g_t`)
    and ``"momentum_buffer"`` (:math:`b_t`) when those options are on.
    """

    rule = staticmethod(rmsprop)
    hyperparameters: ClassVar = {
        "lr": LR,
        "alpha": Real(0.0, 1.0),
        "eps": POSITIVE,
        "weight_decay": NON_NEGATIVE,
        "momentum": NON_NEGATIVE,
        "centered": flag,
    }
    state_entries: ClassVar = {
        "square_avg": None,
        "grad_avg": "centered",
        "momentum_buffer": "momentum",
    }
    non_negative_state = frozenset({"square_avg"})
    alpha: float
    eps: float
    weight_decay: float
    momentum: float
    centered: bool

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
        )


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011): divide by the root of the summed squared gradients.

    .. math::

        s_t = s_{t-1} + g_t^2, \qquad s_0 = \text{initial\_accumulator\_value}, \qquad
        \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t-1)\,\text{lr\_decay}}\,
        \frac{g_t}{\sqrt{s_t} + \epsilon}

    (elementwise). Weight decay adds :math:`\lambda\theta_{t-1}` to :math:`g_t` first.
    Because :math:`s_t` only grows, every coordinate's step shrinks like
    :math:`1/\sqrt t` (chapter 6 shows why RMSprop replaced the sum by a running average).

    ``state[p]["sum"]`` holds :math:`s_t`.
    """

    rule = staticmethod(adagrad)
    hyperparameters: ClassVar = {
        "lr": LR,
        "lr_decay": NON_NEGATIVE,
        "weight_decay": NON_NEGATIVE,
        "initial_accumulator_value": NON_NEGATIVE,
        "eps": POSITIVE,
    }
    state_entries: ClassVar = {"sum": None}
    non_negative_state = frozenset({"sum"})
    lr_decay: float
    weight_decay: float
    initial_accumulator_value: float
    eps: float

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015): momentum on the gradient, RMSprop on its scale, bias-corrected.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, &\qquad
        v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \qquad m_0 = v_0 = 0,\\
        \hat m_t &= \frac{m_t}{1-\beta_1^t}, &\qquad
        \hat v_t &= \frac{v_t}{1-\beta_2^t},\\
        \theta_t &= \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.

    The bias corrections undo the pull of :math:`m_0 = v_0 = 0` towards zero; on the first
    step :math:`\hat m_1 = g_1` and :math:`\hat v_1 = g_1^2`, so every coordinate moves by
    :math:`\eta\, g_1/(|g_1| + \epsilon) \approx \eta\,\operatorname{sign}(g_1)`.
    ``weight_decay`` here is PyTorch's L2 form, :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}`
    before the moments (see :class:`AdamW` for the decoupled form). With ``amsgrad=True``
    the denominator uses the running maximum
    :math:`v^{\max}_t = \max(v^{\max}_{t-1}, v_t)` in place of :math:`v_t`
    (Reddi, Kale & Kumar, 2018).

    ``state[p]`` holds ``"exp_avg"`` (:math:`m_t`), ``"exp_avg_sq"`` (:math:`v_t`) and,
    with amsgrad, ``"max_exp_avg_sq"``.
    """

    rule = staticmethod(adam)
    hyperparameters: ClassVar = {
        "lr": LR,
        "betas": _betas,
        "eps": POSITIVE,
        "weight_decay": NON_NEGATIVE,
        "amsgrad": flag,
    }
    state_entries: ClassVar = {"exp_avg": None, "exp_avg_sq": None, "max_exp_avg_sq": "amsgrad"}
    non_negative_state = frozenset({"exp_avg_sq", "max_exp_avg_sq"})
    recorded: ClassVar = {
        "decoupled_weight_decay": False
    }  # PyTorch's flag: Adam's state, not AdamW's
    betas: tuple[float, float]
    eps: float
    weight_decay: float
    amsgrad: bool

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
        )


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with weight decay decoupled from the gradient.

    The parameter is first shrunk, :math:`\theta \leftarrow (1 - \eta\lambda)\,\theta_{t-1}`,
    and then takes Adam's step computed from the *raw* gradient :math:`g_t`:

    .. math::

        \theta_t = (1 - \eta\lambda)\,\theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    (with :math:`\hat m_t, \hat v_t` as in :class:`Adam`). In :class:`Adam` the L2 term
    :math:`\lambda\theta` passes through the division by :math:`\sqrt{\hat v_t}`, so
    coordinates with large gradients are barely regularised; here every coordinate decays
    at the same rate. The default ``weight_decay`` is 0.01, as in PyTorch.
    """

    rule = staticmethod(adamw)
    recorded: ClassVar = {"decoupled_weight_decay": True}

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__: cls for cls in (SGD, RMSprop, Adagrad, Adam, AdamW)
}
"""Every optimiser of :mod:`bplib.optim` by name: the tests' tables are built from it, so an
optimiser added here is checked against PyTorch, in float32, through ``state_dict`` and by
the bad-input probe without another line."""
