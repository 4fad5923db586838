"""The update rules of chapter 6, each as ``torch.optim``'s: SGD (with momentum, Nesterov and
weight decay), RMSprop, Adagrad, Adam and AdamW."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import non_negative
from ..module import Parameter
from .optimizer import Optimizer, _in_unit_interval, _positive


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

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = non_negative(momentum, "momentum", "SGD")
        self.dampening = non_negative(dampening, "dampening", "SGD")
        self.weight_decay = non_negative(weight_decay, "weight_decay", "SGD")
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "SGD: Nesterov momentum needs momentum > 0 and dampening = 0, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        self.nesterov = bool(nesterov)

    def _update(
        self, p: Parameter, g: NDArray[Any], state: dict[str, Any], t: int
    ) -> tuple[NDArray[Any], dict[str, NDArray[Any]]]:
        new_state = {}
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        if self.momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = g.copy()
            else:
                b = b * self.momentum + (1 - self.dampening) * g
            new_state["momentum_buffer"] = b
            g = g + self.momentum * b if self.nesterov else b
        return np.multiply(g, self.lr, out=self._step_buffer(p)), new_state  # lr * g

    def _state_keys(self) -> set[str]:
        return {"momentum_buffer"} if self.momentum != 0 else set()

    def _describe_options(self) -> str:
        return f" with momentum={self.momentum:g}"

    def _hyperparameters(self) -> dict[str, object]:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "dampening": self.dampening,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


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
        super().__init__(params, lr)
        self.alpha = non_negative(alpha, "alpha", "RMSprop")
        if self.alpha > 1:
            raise ValueError(f"RMSprop: alpha must lie in [0, 1], got {alpha!r}")
        self.eps = _positive(eps, "eps", "RMSprop")
        self.weight_decay = non_negative(weight_decay, "weight_decay", "RMSprop")
        self.momentum = non_negative(momentum, "momentum", "RMSprop")
        self.centered = bool(centered)

    def _update(
        self, p: Parameter, g: NDArray[Any], state: dict[str, Any], t: int
    ) -> tuple[NDArray[Any], dict[str, NDArray[Any]]]:
        new: dict[str, NDArray[Any]] = {}
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        v = state["square_avg"] if t > 1 else np.zeros_like(p.data)
        v = new["square_avg"] = v * self.alpha + (1 - self.alpha) * g * g
        if self.centered:
            g_bar = state["grad_avg"] if t > 1 else np.zeros_like(p.data)
            g_bar = new["grad_avg"] = g_bar * self.alpha + (1 - self.alpha) * g
            # v - g_bar**2 is a variance, >= 0 in exact arithmetic; rounding can take it
            # a hair below 0 (a constant gradient makes it exactly 0), whose sqrt is NaN
            denom = np.sqrt(np.maximum(v - g_bar * g_bar, 0)) + self.eps
        else:
            denom = np.sqrt(v) + self.eps
        if self.momentum > 0:
            b = state["momentum_buffer"] if t > 1 else np.zeros_like(p.data)
            b = new["momentum_buffer"] = b * self.momentum + g / denom
            return self.lr * b, new
        return self.lr * (g / denom), new

    _non_negative_state = frozenset({"square_avg"})

    def _state_keys(self) -> set[str]:
        keys = {"square_avg"}
        if self.centered:
            keys.add("grad_avg")
        if self.momentum > 0:
            keys.add("momentum_buffer")
        return keys

    def _describe_options(self) -> str:
        return f" with centered={self.centered}, momentum={self.momentum:g}"

    def _hyperparameters(self) -> dict[str, object]:
        return {
            "lr": self.lr,
            "alpha": self.alpha,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "momentum": self.momentum,
            "centered": self.centered,
        }


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

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(params, lr)
        self.lr_decay = non_negative(lr_decay, "lr_decay", "Adagrad")
        self.weight_decay = non_negative(weight_decay, "weight_decay", "Adagrad")
        self.initial_accumulator_value = non_negative(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad"
        )
        self.eps = _positive(eps, "eps", "Adagrad")

    def _update(
        self, p: Parameter, g: NDArray[Any], state: dict[str, Any], t: int
    ) -> tuple[NDArray[Any], dict[str, NDArray[Any]]]:
        s = state["sum"] if t > 1 else np.full_like(p.data, self.initial_accumulator_value)
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        s = s + g * g
        lr_t = self.lr / (1 + (t - 1) * self.lr_decay)
        return lr_t * (g / (np.sqrt(s) + self.eps)), {"sum": s}

    _non_negative_state = frozenset({"sum"})

    def _state_keys(self) -> set[str]:
        return {"sum"}

    def _hyperparameters(self) -> dict[str, object]:
        return {
            "lr": self.lr,
            "lr_decay": self.lr_decay,
            "weight_decay": self.weight_decay,
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps": self.eps,
        }


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

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _in_unit_interval(betas[0], "betas[0] (beta1)", name),
            _in_unit_interval(betas[1], "betas[1] (beta2)", name),
        )
        self.eps = _positive(eps, "eps", name)
        self.weight_decay = non_negative(weight_decay, "weight_decay", name)
        self.amsgrad = bool(amsgrad)

    def _update(
        self, p: Parameter, g: NDArray[Any], state: dict[str, Any], t: int
    ) -> tuple[NDArray[Any], dict[str, NDArray[Any]]]:
        beta1, beta2 = self.betas
        if self.weight_decay != 0 and not self._decoupled:
            g = g + self.weight_decay * p.data
        m = state["exp_avg"] if t > 1 else np.zeros_like(p.data)
        v = state["exp_avg_sq"] if t > 1 else np.zeros_like(p.data)
        m = m + (1 - beta1) * (g - m)  # = beta1 m + (1 - beta1) g, as torch's lerp computes it
        v = v * beta2 + (1 - beta2) * g * g
        new = {"exp_avg": m, "exp_avg_sq": v}
        if self.amsgrad:
            v_max = state["max_exp_avg_sq"] if t > 1 else np.zeros_like(p.data)
            v = new["max_exp_avg_sq"] = np.maximum(v_max, v)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom = np.sqrt(v) / math.sqrt(bias_correction2) + self.eps
        return (self.lr / bias_correction1) * (m / denom), new

    def _shrink(self) -> float:
        r"""AdamW's decoupled decay: :math:`1 - \eta\lambda` (1 for Adam)."""
        return 1 - self.lr * self.weight_decay if self._decoupled else 1.0

    _non_negative_state = frozenset({"exp_avg_sq", "max_exp_avg_sq"})

    def _state_keys(self) -> set[str]:
        return {"exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if self.amsgrad else set())

    def _describe_options(self) -> str:
        return f" with amsgrad={self.amsgrad}"

    def _recorded(self) -> dict[str, object]:
        """PyTorch's flag that tells AdamW's state (True) from Adam's (False)."""
        return {"decoupled_weight_decay": self._decoupled}

    def _hyperparameters(self) -> dict[str, object]:
        return {
            "lr": self.lr,
            "betas": self.betas,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "amsgrad": self.amsgrad,
        }


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

    _decoupled = True

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
