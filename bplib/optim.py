r"""Optimisers and learning-rate schedules (chapter 6).

Every optimiser updates each :class:`~bplib.Parameter` in place from its ``.grad``, with
the same update rule, hyperparameter names and defaults as ``torch.optim`` (PyTorch 2.x),
so the same settings give the same trajectory (the tests check it to a relative 1e-10).
Write :math:`\theta_t` for a parameter after step :math:`t`, :math:`g_t` for its gradient
at :math:`\theta_{t-1}`, :math:`\eta` for the learning rate ``lr`` and :math:`\lambda` for
``weight_decay``.

Typical use::

    opt = bplib.optim.Adam(model.parameters(), lr=1e-3)
    for X_batch, y_batch in batches:
        opt.zero_grad()
        loss = loss_fn(model(X_batch), y_batch)
        model.backward(loss_fn.backward())
        opt.step()

Each optimiser keeps what it remembers between steps in ``opt.state[p]``, a dict per
parameter (e.g. ``opt.state[p]["exp_avg"]`` for Adam's first moment), as PyTorch does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import (
    all_finite,
    describe,
    finite_array,
    non_negative,
    plain_array,
    positive_int,
    real,
)
from .module import Module, Parameter

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "LRScheduler",
    "Optimizer",
    "RMSprop",
    "StepLR",
]


def _positive(value: object, name: str, where: str) -> float:
    """Return ``value`` as a float if it is a finite real number > 0, else raise."""
    return real(value, name, where, low=0.0, low_open=True)


def _in_unit_interval(value: object, name: str, where: str) -> float:
    """Return ``value`` as a float if it lies in [0, 1), else raise."""
    return real(value, name, where, low=0.0, high=1.0, high_open=True)


_NO_STATE: dict[str, Any] = {"step": 0}  # what a parameter's state is before its first step


def _safe_step(step: NDArray[Any], data: NDArray[Any], shrink: float) -> bool:
    """Whether ``shrink * data - step`` is finite, mostly without computing it.

    One dot product settles it: a finite :math:`s \\cdot s` means every :math:`|s_i|` is
    below the square root of the largest float (1.3e154 in float64), and a step that
    small cannot overflow ``data - step``: a ``data`` entry close enough to the largest
    float to overflow has a spacing (ulp) far larger than the step, so it does not move.
    NaN and infinity in the step make the product NaN or infinite; then, or for huge
    steps, or a factor ``|shrink| > 1`` (AdamW with ``lr * weight_decay > 2``), the new
    value is computed in full and checked.
    """
    if math.isfinite(np.vdot(step, step)) and abs(shrink) <= 1.0:
        return True
    return all_finite(step) and all_finite(data * shrink - step)  # the rare, exact way


class Optimizer:
    r"""Base class: holds the parameters, the learning rate and the per-parameter ``state``.

    Subclasses implement ``_update``, the rule for one parameter. :meth:`step` checks
    every gradient (same shape as the parameter, finite) and then applies the rule to each
    parameter in turn, updating ``p.data`` in place and keeping its dtype.

    Parameters
    ----------
    params : iterable of Parameter
        Usually ``model.parameters()``. Must not be empty; a parameter may appear once.
    lr : float
        The learning rate :math:`\eta \ge 0`. It stays settable (``opt.lr = 0.01``), which
        is how the schedules in this module and any hand-written schedule change it.

    Attributes
    ----------
    params : list of Parameter
    state : dict
        ``state[p]`` is a dict of what the optimiser remembers about parameter ``p``
        (``"step"``, the count of updates, and the optimiser's running averages). It is
        empty until the first :meth:`step`.
    """

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        name = type(self).__name__
        if isinstance(params, Parameter):
            raise TypeError(
                f"{name} expected an iterable of Parameters (e.g. model.parameters()), "
                "got a single Parameter; wrap it in a list: [p]"
            )
        if isinstance(params, Module):
            raise TypeError(
                f"{name} expected an iterable of Parameters, got {type(params).__name__} (a "
                "model): pass model.parameters()"
            )
        try:
            plist = list(params)
        except TypeError:
            raise TypeError(
                f"{name} expected an iterable of Parameters (e.g. model.parameters()), "
                f"got {type(params).__name__}"
            ) from None
        if not plist:
            raise ValueError(
                f"{name} got an empty parameter list: there is nothing to optimise "
                "(does the model have any Linear layers?)"
            )
        for i, p in enumerate(plist):
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{name} expected Parameters; item {i} is {type(p).__name__}. "
                    "Pass model.parameters(), not the model or the arrays."
                )
        if len({id(p) for p in plist}) != len(plist):
            raise ValueError(
                f"{name} got the same Parameter more than once: it would be updated twice per step"
            )
        self.params: list[Parameter] = plist
        self.state: dict[Parameter, dict[str, Any]] = {}
        self.lr = lr

    @property
    def lr(self) -> float:
        r"""The learning rate :math:`\eta` (settable; must be a finite number >= 0)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = non_negative(value, "lr (the learning rate)", type(self).__name__)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero, in place."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter once from its current ``.grad``, all or nothing.

        Every check comes before the first write: each gradient has its parameter's shape,
        each parameter is writeable, and every new value and every new state entry is
        computed and found finite (a non-finite gradient makes them non-finite too). Only
        then are they written. So a refused step (a diverged gradient, a learning rate that
        overflows, a read-only array) leaves every parameter and ``state`` as they were.
        """
        updates = []
        shrink = self._shrink()  # theta <- shrink * theta - step (1 but for AdamW's decay)
        # NaN and overflow are looked for below, before anything is written: no warnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for i, p in enumerate(self.params):
                g, data = p.grad, p.data
                if getattr(g, "shape", None) != data.shape or not data.flags.writeable:
                    self._refuse_parameter(i, p)
                state = self.state.get(p, _NO_STATE)
                step, new_state = self._update(p, g, state, state["step"] + 1)
                if not _safe_step(step, data, shrink) or (
                    new_state and not all(all_finite(v) for v in new_state.values())
                ):
                    self._refuse_non_finite(i, p)
                updates.append((p, step, new_state))
        for p, step, new_state in updates:
            if shrink != 1.0:
                p.data *= shrink
            p.data -= step
            kept = self.state.get(p)
            if kept is None:
                kept = self.state[p] = {"step": 0}
            kept["step"] += 1
            if new_state:
                kept.update(new_state)

    def _shrink(self) -> float:
        """The factor every parameter is multiplied by before its step (1 by default)."""
        return 1.0

    def _refuse_parameter(self, i: int, p: Parameter) -> None:
        name, g = type(self).__name__, p.grad
        if not isinstance(g, np.ndarray) or g.shape != p.data.shape:
            given = f"has shape {g.shape}" if isinstance(g, np.ndarray) else "is " + describe(g)
            raise ValueError(
                f"{name}: parameter {i} ({p.name or 'unnamed'}) has shape "
                f"{p.data.shape} but its gradient {given}"
            )
        raise ValueError(
            f"{name}: parameter {i} ({p.name or 'unnamed'}) is a read-only array; "
            "the optimiser updates it in place (give it a writeable copy)"
        )

    def _refuse_non_finite(self, i: int, p: Parameter) -> None:
        name = type(self).__name__
        where = f"parameter {i} ({p.name or 'unnamed'}, shape {p.data.shape})"
        if not all_finite(p.grad):
            raise FloatingPointError(
                f"{name}: the gradient of {where} contains NaN or infinity; training "
                "has diverged: try a smaller learning rate (no parameter was changed)"
            )
        raise FloatingPointError(
            f"{name}: refused the step: {where} would become NaN or infinite although "
            f"its gradient is finite (hyperparameters {self._hyperparameters()}); "
            "no parameter was changed: try a smaller learning rate"
        )

    def _update(
        self, p: Parameter, g: NDArray[Any], state: dict[str, Any], t: int
    ) -> tuple[NDArray[Any], dict[str, NDArray[Any]]]:
        """The rule for one parameter at step ``t``: ``(step, new state entries)``.

        The new value is ``p.data * self._shrink() - step``. The rule must not write into
        ``p.data`` or ``state``: :meth:`step` writes them once every parameter's update is
        known to be finite.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement _update(); use one of the optimisers "
            "of bplib.optim (SGD, Adam, ...) or subclass Optimizer and write its rule there"
        )

    def _hyperparameters(self) -> dict[str, object]:
        return {"lr": self.lr}

    def state_dict(self) -> dict[str, Any]:
        """What the optimiser remembers, in PyTorch's layout, so training can resume (chapter 7).

        ``{"state": {i: {"step": ..., "exp_avg": ...}}, "param_groups": [{"lr": ...,
        ..., "params": [0, 1, ...]}]}``: ``state`` is keyed by the parameter's index in
        ``params`` (parameters not yet stepped have no entry) and holds copies of the
        arrays; the one parameter group holds the hyperparameters. Save it with
        :func:`bplib.save` beside the model's :meth:`~bplib.Module.state_dict`.
        """
        index = {id(p): i for i, p in enumerate(self.params)}
        state = {
            index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for p, s in self.state.items()
        }
        group: dict[str, Any] = dict(self._hyperparameters())
        group["params"] = list(range(len(self.params)))
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the per-parameter state and the hyperparameters from :meth:`state_dict`.

        Accepts what :meth:`state_dict` returns or what :func:`bplib.load` reads back
        (scalars as 0-d arrays). Everything is checked before anything changes: the number
        of parameters, each state array's shape and dtype against its parameter, and the
        hyperparameter names. Loaded into an optimiser of the same class on a model with
        the same parameters, the next step is bit for bit the step the saved optimiser
        would have taken.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or not {"param_groups"} <= set(state_dict) <= {
            "state",
            "param_groups",
        }:
            given = sorted(state_dict) if isinstance(state_dict, Mapping) else type(state_dict)
            raise ValueError(
                f"{name}.load_state_dict expected a dict with keys 'state' and 'param_groups' "
                f"(from optimizer.state_dict()), got {given}"
            )
        groups = state_dict["param_groups"]
        if isinstance(groups, Mapping):  # bplib.load gives {0: group}
            groups = [groups[k] for k in sorted(groups)]
        if len(groups) != 1:
            raise ValueError(
                f"{name}.load_state_dict expected 1 parameter group, got {len(groups)}"
            )
        group = dict(groups[0])
        n = len(np.asarray(group.pop("params", [])))
        if n != len(self.params):
            raise ValueError(
                f"{name}.load_state_dict: the state is for {n} parameters, this optimiser "
                f"has {len(self.params)}"
            )
        mine = self._hyperparameters()
        if set(group) != set(mine):
            raise ValueError(
                f"{name}.load_state_dict: the hyperparameters {sorted(group)} are not "
                f"{name}'s {sorted(mine)}; was the state saved from another optimiser?"
            )
        hyper: dict[str, Any] = {}
        for k, current in mine.items():
            value = group[k]
            if isinstance(current, bool):
                hyper[k] = bool(np.asarray(value))
            elif isinstance(current, tuple):
                hyper[k] = tuple(float(v) for v in np.asarray(value, dtype=float))
            else:
                hyper[k] = non_negative(float(np.asarray(value)), k, f"{name}.load_state_dict")
        new_state: dict[Parameter, dict[str, Any]] = {}
        for key, entries in state_dict.get("state", {}).items():  # bplib.load drops an empty one
            i = int(key)
            if not 0 <= i < len(self.params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i} of {n}")
            p = self.params[i]
            entry: dict[str, Any] = {}
            for k, v in entries.items():
                if k == "step":
                    entry[k] = int(np.asarray(v))
                    continue
                if (
                    not isinstance(v, np.ndarray)
                    or v.shape != p.data.shape
                    or v.dtype != p.data.dtype
                ):
                    got = f"{v.dtype} {v.shape}" if isinstance(v, np.ndarray) else type(v).__name__
                    raise ValueError(
                        f"{name}.load_state_dict: state[{i}][{k!r}] must be an array of "
                        f"parameter {i}'s dtype and shape, {p.data.dtype} {p.data.shape}, got {got}"
                    )
                where = f"{name}.load_state_dict"
                plain_array(v, f"state[{i}][{k!r}]", where)
                finite_array(v, f"state[{i}][{k!r}]", where)  # step() would refuse it later
                entry[k] = v.copy()
            new_state[p] = entry
        for k, v in hyper.items():
            setattr(self, k, v)
        self.state = new_state

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


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
        return self.lr * g, new_state

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
        """AdamW's decoupled decay: :math:`1 - \\eta\\lambda` (1 for Adam)."""
        return 1 - self.lr * self.weight_decay if self._decoupled else 1.0

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


class LRScheduler:
    """Base class of the learning-rate schedules: call :meth:`step` once per epoch.

    A schedule remembers the optimiser's learning rate at construction as ``base_lr`` and
    sets ``optimizer.lr`` from a closed form in the epoch count ``last_epoch`` (0 at
    construction, +1 per :meth:`step`), as PyTorch's schedulers do for a single schedule.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} expected a bplib.optim optimiser, "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        """The learning rate this schedule gives after ``epoch`` calls of :meth:`~bplib.optim.LRScheduler.step`."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement lr_at(epoch); use StepLR or "
            "CosineAnnealingLR, or subclass LRScheduler and write the schedule there"
        )

    def step(self) -> None:
        """Advance one epoch and set the optimiser's learning rate.

        The new rate is computed and checked first: a schedule that overflows (``gamma > 1``
        for many epochs) raises and leaves ``last_epoch`` and the rate as they were.
        """
        epoch = self.last_epoch + 1
        try:
            lr = self.lr_at(epoch)
        except OverflowError:
            lr = math.inf
        self.optimizer.lr = real(
            lr, f"the learning rate at epoch {epoch}", type(self).__name__, low=0.0
        )
        self.last_epoch = epoch

    def get_last_lr(self) -> float:
        """The learning rate set by the last :meth:`~bplib.optim.LRScheduler.step` (PyTorch returns a list per group)."""
        return self.optimizer.lr

    def state_dict(self) -> dict[str, Any]:
        """``{"base_lr": ..., "last_epoch": ...}``: where the schedule is, to resume training."""
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (scalars may be 0-d arrays, as :func:`bplib.load` gives)."""
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"base_lr", "last_epoch"}:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict expected keys 'base_lr' and "
                f"'last_epoch', got {state_dict!r:.80}"
            )
        base_lr = non_negative(float(np.asarray(state_dict["base_lr"])), "base_lr", "load")
        self.base_lr, self.last_epoch = base_lr, int(np.asarray(state_dict["last_epoch"]))


class StepLR(LRScheduler):
    r"""Step decay: multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \eta_e = \eta_0\, \gamma^{\lfloor e / \text{step\_size} \rfloor}
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = positive_int(step_size, "step_size", "StepLR")
        self.gamma = non_negative(gamma, "gamma", "StepLR")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)

    def __repr__(self) -> str:
        return (
            f"StepLR(step_size={self.step_size}, gamma={self.gamma}, last_epoch={self.last_epoch})"
        )


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing (Loshchilov & Hutter, 2017) from the initial rate down to ``eta_min``.

    .. math::

        \eta_e = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi e}{T_{\max}}\right)

    It reaches :math:`\eta_{\min}` at :math:`e = T_{\max}`; past it the cosine rises again,
    as in PyTorch (no restart is implied: choose ``T_max`` = the number of epochs).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max = positive_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = non_negative(eta_min, "eta_min", "CosineAnnealingLR")

    def lr_at(self, epoch: int) -> float:
        cosine = 1 + math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2

    def __repr__(self) -> str:
        return (
            f"CosineAnnealingLR(T_max={self.T_max}, eta_min={self.eta_min}, "
            f"last_epoch={self.last_epoch})"
        )
