r"""Low-precision training: a loss scaler (``GradScaler``) and float32 master weights.

Chapter 14 derives the formats and trains the digits network with both.

**The problem.** A float16 number has a 10-bit fraction and 5 exponent bits: its largest
value is 65504, its smallest normal number :math:`2^{-14} \approx 6.1\times10^{-5}` and its
smallest subnormal :math:`2^{-24} \approx 6.0\times10^{-8}`. A gradient entry smaller than
half of that rounds to zero: it *underflows*, and the weight it belongs to stops learning.

**Loss scaling.** Multiply the loss gradient by a large factor :math:`s` before the
backward pass; every gradient in the network is then :math:`s` times larger (backward is
linear in its incoming gradient), so the small ones no longer underflow. Divide the
parameters' gradients by :math:`s` before the optimiser step. Too large an :math:`s` makes
some entry overflow to infinity: then skip that step and halve :math:`s`; after a run of
steps without overflow, double it. :class:`GradScaler` does exactly this, with the
semantics (and the numbers) of PyTorch's ``torch.amp.GradScaler``.

**Master weights.** A float16 weight :math:`w` cannot take a step smaller than half its
spacing (:math:`2^{-11} w`): ``w - lr * g`` rounds back to ``w``. So the optimiser keeps a
float32 copy of every weight and updates that; the float16 network computes with the
copy rounded to float16 at every forward pass (what PyTorch's autocast does with a float32
model). :class:`MasterWeights` is that arrangement as a module::

    half = bplib.Sequential(bplib.Linear(64, 32, dtype=np.float16), bplib.Tanh(),
                            bplib.Linear(32, 10, dtype=np.float16))
    model = bplib.amp.MasterWeights(half)        # float32 parameters, float16 arithmetic
    opt = bplib.optim.SGD(model.parameters(), lr=0.1)
    scaler = bplib.amp.GradScaler()
    bplib.fit(model, loss_fn, opt, X.astype(np.float16), y, epochs=10, grad_scaler=scaler)

or by hand, the loop ``fit`` runs for each batch::

    model.zero_grad()
    loss = loss_fn(model(Xb), yb)                          # computed in float16
    model.backward(scaler.scale(loss_fn.backward()))       # the scaled gradient
    scaler.step(opt)       # unscale (in float32); skip the step if a gradient is inf/NaN
    scaler.update()        # back off after an overflow, grow after growth_interval good steps
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import (
    all_finite,
    any_array,
    describe,
    instance,
    integer,
    is_floating,
    plain_number,
    real,
)
from .module import Module, Parameter
from .optim import Optimizer

__all__ = ["GradScaler", "MasterWeights"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"  # torch's OptState


def _float32(x: float) -> float:
    """``x`` rounded to float32, as PyTorch keeps the scale (a float32 tensor); infinite
    beyond float32's largest number."""
    with np.errstate(over="ignore"):
        return float(np.float32(x))


class GradScaler:
    r"""Dynamic loss scaling, with the semantics of PyTorch's ``torch.amp.GradScaler`` (chapter 14).

    Parameters
    ----------
    init_scale : float
        The first scale :math:`s`, > 0 (default :math:`2^{16}`).
    growth_factor : float
        The scale is multiplied by it after ``growth_interval`` steps in a row without an
        infinite or NaN gradient; > 1 (default 2).
    backoff_factor : float
        The scale is multiplied by it after a step whose gradients were not all finite (and
        that step is skipped); in (0, 1) (default 0.5).
    growth_interval : int
        The number of consecutive good steps before the scale grows, >= 1 (default 2000).
    enabled : bool
        With ``False`` every method does nothing: ``scale`` returns its argument,
        ``step`` calls ``optimizer.step()``; a flag to switch loss scaling off in a loop.

    The scale is kept as a float32 number, as PyTorch keeps it, so the sequence of scales
    is PyTorch's bit for bit (the tests compare them).

    Examples
    --------
    >>> import bplib
    >>> scaler = bplib.amp.GradScaler(init_scale=8.0, growth_interval=2)
    >>> scaler.get_scale()
    8.0
    """

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        where = "GradScaler"
        self._enabled = bool(enabled)
        self._scale = _float32(real(init_scale, "init_scale", where, low=0.0, low_open=True))
        self._growth_factor = real(growth_factor, "growth_factor", where, low=1.0, low_open=True)
        self._backoff_factor = real(
            backoff_factor,
            "backoff_factor",
            where,
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
        )
        self._growth_interval = integer(growth_interval, "growth_interval", where)
        self._growth_tracker = 0  # consecutive steps without inf/NaN since the last change
        self._per_optimizer: dict[int, dict[str, Any]] = {}  # id -> {"stage", "found_inf"}

    def is_enabled(self) -> bool:
        """Whether loss scaling is on (``enabled`` of the constructor)."""
        return self._enabled

    def get_scale(self) -> float:
        """The current scale :math:`s` (1.0 when disabled, as PyTorch)."""
        return self._scale if self._enabled else 1.0

    def get_growth_tracker(self) -> int:
        """How many steps in a row have had finite gradients since the scale last changed."""
        return self._growth_tracker

    def scale(self, grad: NDArray[Any]) -> NDArray[Any]:
        r"""The loss gradient times the scale, :math:`s\,\partial L/\partial\hat y`, in its dtype.

        In bplib the loss is a number and its gradient an array (``loss_fn.backward()``),
        so it is the gradient that is scaled; backward being linear in it, every gradient
        of the network comes out :math:`s` times larger, as in PyTorch, where
        ``scaler.scale(loss).backward()`` scales the loss. The product is computed in
        float64 and rounded to the gradient's dtype: the scale itself (:math:`2^{16}`) is
        beyond float16's largest number, 65504.
        """
        if not self._enabled:
            return grad
        grad = any_array(self, grad)
        if not is_floating(grad.dtype):
            raise TypeError(f"GradScaler.scale expected a floating array, got {describe(grad)}")
        with np.errstate(over="ignore"):  # an overflow is what step() looks for
            return (grad.astype(np.float64) * self._scale).astype(grad.dtype)

    def _state(self, optimizer: Optimizer) -> dict[str, Any]:
        instance(optimizer, Optimizer, "optimizer", "GradScaler", "a bplib.optim optimiser")
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})

    def unscale_(self, optimizer: Optimizer) -> None:
        r"""Divide the gradients of ``optimizer``'s parameters by the scale, in place, and
        note whether any entry is infinite or NaN.

        Call it before anything that reads the true gradients (clipping them, measuring
        their norm); :meth:`step` calls it if you did not. The division is a multiplication
        by :math:`1/s` rounded to float32, as PyTorch. Float16 gradients are refused, as
        PyTorch refuses them: dividing in float16 would underflow again what the scale
        saved; keep float32 master weights (:class:`MasterWeights`).

        Raises
        ------
        RuntimeError
            When ``unscale_`` or ``step`` was already called for this optimiser since the
            last :meth:`update`.
        ValueError
            For float16 gradients.
        """
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError(
                "GradScaler.unscale_() has already been called on this optimizer since the "
                "last update()"
            )
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.unscale_() is being called after step()")
        for i, p in enumerate(optimizer.params):
            if p.data.dtype == np.float16:
                raise ValueError(
                    f"GradScaler: attempting to unscale float16 gradients (parameter {i}, "
                    f"{p.name or 'unnamed'}): dividing by the scale in float16 underflows "
                    "again; optimise float32 master weights: bplib.amp.MasterWeights(model)"
                )
        inv_scale = np.float32(1.0 / np.float64(self._scale))  # as PyTorch: 1/s in float32
        found_inf = False
        with np.errstate(over="ignore", invalid="ignore"):
            for p in optimizer.params:
                grad = p.grad
                grad *= inv_scale.astype(grad.dtype)
                found_inf = found_inf or not all_finite(grad)
        state["found_inf"], state["stage"] = found_inf, _UNSCALED

    def step(self, optimizer: Optimizer) -> None:
        """``optimizer.step()``, unless a gradient is infinite or NaN: then skip it.

        Unscales the gradients first unless :meth:`unscale_` already did. A skipped step
        changes no parameter and no optimiser state (PyTorch's behaviour); :meth:`update`
        then backs the scale off.
        """
        if not self._enabled:
            optimizer.step()
            return
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.step() has already been called since the last update()")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        if not state["found_inf"]:
            optimizer.step()
        state["stage"] = _STEPPED

    def update(self, new_scale: float | None = None) -> None:
        """Adjust the scale after the step(s) of this iteration, and start the next.

        After an iteration in which some optimiser found an infinite or NaN gradient, the
        scale is multiplied by ``backoff_factor`` and the count of good steps restarts;
        otherwise the count grows, and when it reaches ``growth_interval`` the scale is
        multiplied by ``growth_factor`` (unless that overflows float32) and the count
        restarts. With ``new_scale``, the scale is set to it instead.

        Raises
        ------
        RuntimeError
            When no :meth:`unscale_` or :meth:`step` has run since the last update.
        """
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = _float32(
                real(new_scale, "new_scale", "GradScaler.update", low=0.0, low_open=True)
            )
        else:
            checked = [s for s in self._per_optimizer.values() if s["stage"] != _READY]
            if not checked:
                raise RuntimeError(
                    "GradScaler.update(): no inf checks were recorded prior to update(); call "
                    "scaler.step(optimizer) (or unscale_) first"
                )
            if any(s["found_inf"] for s in checked):
                self._scale = _float32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    grown = _float32(self._scale * self._growth_factor)
                    if math.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer.clear()

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's keys: ``scale``, ``growth_factor``, ``backoff_factor``,
        ``growth_interval``, ``_growth_tracker``; empty when disabled (as PyTorch)."""
        if not self._enabled:
            return {}
        return {
            "scale": self._scale,
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (or :func:`bplib.load` read back), checked
        first with the constructor's checks; nothing changes if any value is refused."""
        where = "GradScaler.load_state_dict"
        if not self._enabled:
            return
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where} expected a dict, got {describe(state_dict)}")
        if len(state_dict) == 0:
            raise RuntimeError(
                f"{where}: the state dict is empty, possibly because it was saved from a "
                "disabled GradScaler"
            )
        keys = {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}
        if set(state_dict) != keys:
            raise ValueError(f"{where} expected the keys {sorted(keys)}, got {sorted(state_dict)}")
        v: dict[str, Any] = {k: plain_number(state_dict[k]) for k in keys}
        checked = GradScaler(
            v["scale"], v["growth_factor"], v["backoff_factor"], v["growth_interval"]
        )
        tracker = integer(v["_growth_tracker"], "_growth_tracker", where, low=0)
        self._scale, self._growth_factor = checked._scale, checked._growth_factor
        self._backoff_factor, self._growth_interval = (
            checked._backoff_factor,
            checked._growth_interval,
        )
        self._growth_tracker = tracker

    def __repr__(self) -> str:
        if not self._enabled:
            return "GradScaler(enabled=False)"
        return (
            f"GradScaler(scale={self._scale:g}, growth_factor={self._growth_factor:g}, "
            f"backoff_factor={self._backoff_factor:g}, growth_interval={self._growth_interval})"
        )


class MasterWeights(Module):
    r"""A low-precision model trained through float32 copies of its parameters (chapter 14).

    ``MasterWeights(model)`` keeps, for every parameter of ``model`` (a float16 network),
    a float32 *master* copy; its ``parameters()`` are those copies, so an optimiser built
    on them updates float32 numbers, where a small step is not lost to rounding. Every
    ``forward`` first rounds the masters into ``model``'s parameters, then runs
    ``model``: the arithmetic is ``model``'s, in low precision. ``backward`` runs
    ``model``'s backward and adds its gradients, converted to float32, into the masters'
    ``grad``. PyTorch's autocast does the same with a float32 model: it casts the weights
    to float16 for each matrix product and accumulates the gradients in float32.

    The parameters are named as ``model``'s (``"0.weight"``...), so ``state_dict()`` is
    ``model``'s in float32 (its buffers, such as running statistics, in ``model``'s dtype).

    Parameters
    ----------
    model : Module
        The low-precision network, e.g. built with ``dtype=np.float16``.
    """

    def __init__(self, model: Module) -> None:
        instance(model, Module, "model", "MasterWeights", "a bplib Module")
        self.model = model
        self._pairs: list[tuple[Parameter, Parameter]] = [  # (model's, master)
            (p, Parameter(p.data.astype(np.float32), name)) for name, p in model.named_parameters()
        ]

    check_input = any_array  # the boundary (see Module): the model checks the rest

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        for low, master in self._pairs:  # the masters, rounded to the model's precision
            np.copyto(low.data, master.data, casting="unsafe")
        return self.model.forward(x)

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        self.model.zero_grad()
        grad_in = self.model.backward(grad_out)
        self._add_gradients()
        return grad_in

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        self.model.zero_grad()
        self.model.backward_to_parameters(grad_out)
        self._add_gradients()

    def _add_gradients(self) -> None:
        for low, master in self._pairs:
            master.grad += low.grad.astype(np.float32)

    def _named_parameters(self, prefix: str, visited: set[int]) -> Iterator[tuple[str, Parameter]]:
        """The float32 masters, under the names of ``model``'s parameters."""
        if id(self) in visited:
            return
        visited.add(id(self))
        names = {id(p): n for n, p in self.model.named_parameters()}
        for low, master in self._pairs:
            yield prefix + names[id(low)], master

    def _named_buffers(self, prefix: str, visited: set[int]) -> Iterator[tuple[str, NDArray[Any]]]:
        """``model``'s buffers, under ``model``'s names."""
        if id(self) in visited:
            return
        visited.add(id(self))
        yield from self.model._named_buffers(prefix, visited)

    def __repr__(self) -> str:
        return f"MasterWeights({self.model!r})"
