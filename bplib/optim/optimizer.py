"""The base class of :mod:`bplib.optim`'s optimisers: the parameters, the learning rate, the
state, and a step that is all or nothing. The update rules are in
:mod:`bplib.optim.algorithms`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import (
    all_finite,
    describe,
    finite_array,
    non_negative,
    plain_array,
    real,
)
from ..module import Module, Parameter


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
        self._scratch: dict[Parameter, NDArray[Any]] = {}  # see _step_buffer
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

    def _step_buffer(self, p: Parameter) -> NDArray[Any]:
        """An array of ``p``'s shape and dtype for ``_update`` to write its step into.

        It is kept from one step to the next, so a step allocates no memory the size of the
        model: a fresh large array costs the operating system a page fault per 4 KB of it,
        every step (the appendix "Making it fast" counts the bytes). The array holds
        nothing between steps; ``state`` is what the optimiser remembers.
        """
        buf = self._scratch.get(p)
        if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
            buf = self._scratch[p] = np.empty_like(p.data)
        return buf

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
                    raise ValueError(
                        f"{name}.load_state_dict: state[{i}][{k!r}] must be an array of "
                        f"parameter {i}'s dtype and shape, {p.data.dtype} {p.data.shape}, got "
                        f"{describe(v)}"
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
