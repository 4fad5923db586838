"""The base class of :mod:`bplib.optim`'s optimisers: the parameters, the hyperparameters, the
state, and a step that is all or nothing. The update rules are in
:mod:`bplib.optim.algorithms`, each a plain function that the base class wraps."""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .._checks import all_finite, describe, finite_array, plain_array, real
from ..module import Module, Parameter

Array = NDArray[Any]


Rule = Callable[..., tuple[Array, dict[str, Array]]]
"""An update rule: ``rule(theta, grad, state, t, **hyperparameters)`` returns ``(new_theta,
new_state)``, the parameter's value after step ``t`` and the state entries to keep
(``state`` is what the previous step kept, ``{"step": 0}`` before the first)."""


@dataclass(frozen=True)
class Real:
    """A real hyperparameter in an interval, as ``real`` of ``bplib._checks`` checks it;
    ``label`` names it in the error message (default: its name)."""

    low: float | None = 0.0
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    label: str = ""

    def __call__(self, value: object, name: str, where: str) -> float:
        return real(
            value,
            self.label or name,
            where,
            low=self.low,
            high=self.high,
            low_open=self.low_open,
            high_open=self.high_open,
        )


def flag(value: object, name: str, where: str) -> bool:
    """A True/False hyperparameter (``nesterov``, ``amsgrad``...): any value, as ``bool``."""
    return bool(value)


Check = Callable[[Any, str, str], Any]  # check(value, name, where) -> the value to keep
_NO_STATE: dict[str, Any] = {"step": 0}  # what a parameter's state is before its first step
_NUMERIC = (np.ndarray, bool, int, float, np.generic, list, tuple)


def _finite(x: Array) -> bool:
    r"""Whether every entry of ``x`` is finite, mostly by one dot product: :math:`x \cdot x`
    is finite only if every entry is (NaN and infinities propagate); when it is not (or
    overflows, for entries beyond the square root of the largest float) the exact test."""
    return math.isfinite(np.vdot(x, x)) or all_finite(x)


def _safe_change(change: Array, data: Array) -> bool:
    r"""Whether ``data - change`` is finite, mostly without computing it.

    One dot product settles it: a finite :math:`c \cdot c` means every :math:`|c_i|` is
    below the square root of the largest float (1.3e154 in float64), and a change that
    small cannot overflow ``data - change``: a ``data`` entry close enough to the largest
    float to overflow has a spacing (ulp) far larger than the change, so it does not move.
    NaN and infinity make the product NaN or infinite; then, or for huge changes, the new
    value is computed in full and checked.
    """
    if math.isfinite(np.vdot(change, change)):
        return True
    return all_finite(change) and all_finite(data - change)  # the rare, exact way


def _scalar(value: object, name: str, where: str, like: object) -> Any:
    """A saved hyperparameter (maybe a 0-d array from :func:`bplib.load`) as the Python type
    of ``like``: a bool, a pair of floats, or a float; the constructor checks its range."""
    a = np.asarray(value) if isinstance(value, _NUMERIC) else None
    if a is None or a.dtype.kind not in "biuf":
        raise ValueError(f"{where}: hyperparameter {name} must be numeric, got {describe(value)}")
    if isinstance(like, bool):
        if a.shape == () and (a.dtype.kind == "b" or a in (0, 1)):
            return bool(a)
        raise ValueError(f"{where}: hyperparameter {name} must be True or False, got {describe(a)}")
    if isinstance(like, tuple):
        if a.shape == (len(like),):
            return tuple(float(v) for v in a)
        raise ValueError(
            f"{where}: hyperparameter {name} must be {len(like)} numbers, got {describe(a)}"
        )
    if a.shape != ():
        raise ValueError(f"{where}: hyperparameter {name} must be a number, got {describe(a)}")
    return float(a) if a.dtype.kind != "b" else bool(a)


def _saved_count(value: object, i: int, where: str) -> int:
    """A saved ``state[i]["step"]``: an integer >= 1 (state exists only after a first step)."""
    a = np.asarray(value) if isinstance(value, _NUMERIC) else None
    if (
        a is None
        or a.shape != ()
        or a.dtype.kind not in "iuf"
        or not np.isfinite(a)
        or a != np.floor(a)
        or a < 1
    ):
        raise ValueError(
            f"{where}: state[{i}]['step'] must be an integer >= 1 (the count of steps taken), "
            f"got {describe(value)}"
        )
    return int(a)


def _one_group(state_dict: object, where: str) -> dict[str, Any]:
    """The one parameter group of a saved state, as a dict (``bplib.load`` gives ``{0: group}``)."""
    if not isinstance(state_dict, Mapping) or not {"param_groups"} <= set(state_dict) <= {
        "state",
        "param_groups",
    }:
        given = sorted(state_dict) if isinstance(state_dict, Mapping) else type(state_dict)
        raise ValueError(
            f"{where} expected a dict with keys 'state' and 'param_groups' "
            f"(from optimizer.state_dict()), got {given}"
        )
    groups = state_dict["param_groups"]
    if isinstance(groups, Mapping):
        groups = [groups[k] for k in sorted(groups)]
    if not isinstance(groups, list | tuple) or len(groups) != 1:
        count = len(groups) if isinstance(groups, list | tuple) else describe(groups)
        raise ValueError(f"{where} expected 1 parameter group, got {count}")
    if not isinstance(groups[0], Mapping):
        raise ValueError(f"{where}: the parameter group must be a dict, got {describe(groups[0])}")
    return dict(groups[0])


# The SIGINT handler is swapped twice in every step taken outside ``fit``. ``signal.signal``
# and ``signal.getsignal`` wrap C functions of the same names and turn the handler they return
# into an enum member, which costs more than the system call (8.6 us of a step, against 1.0
# us for the C functions, on the benchmark machine); the C functions take and return the same
# handlers. Elsewhere than CPython, the wrappers.
try:
    from _signal import getsignal as _getsignal  # type: ignore[import-not-found]
    from _signal import signal as _setsignal
except ImportError:  # pragma: no cover
    _getsignal, _setsignal = signal.getsignal, signal.signal


class _DeferredInterrupt:
    """Hold back SIGINT (Ctrl-C) for the duration of a ``with`` block, then deliver it.

    Python runs a signal handler between two bytecodes, so a KeyboardInterrupt can land
    between the writes of two parameters. Inside the block the signal is only recorded;
    on leaving it the previous handler is put back and called (the default one raises
    KeyboardInterrupt). Only the main thread can set handlers; elsewhere this does nothing.
    """

    __slots__ = ("previous", "received")

    def __enter__(self) -> _DeferredInterrupt:
        self.received: tuple[int, Any] | None = None
        self.previous: Any = None
        # getsignal is None for a handler set outside Python: it could not be put back
        if (
            threading.current_thread() is threading.main_thread()
            and _getsignal(signal.SIGINT) is not None
        ):
            try:
                self.previous = _setsignal(signal.SIGINT, self._hold)
            except (ValueError, OSError):  # no signals here (an embedded interpreter)
                self.previous = None
        return self

    def _hold(self, signum: int, frame: Any) -> None:
        self.received = (signum, frame)

    def __exit__(self, *exc: object) -> None:
        previous = self.previous
        if previous is None:
            return
        _setsignal(signal.SIGINT, previous)
        if self.received is not None:
            _deliver(previous, *self.received)


class _InterruptGuard:
    """A SIGINT handler for the length of a training run (``fit``), so that a step can hold
    back Ctrl-C by setting a flag instead of changing the handler twice (two system calls,
    a few microseconds, each step). Outside the writes the handler passes the signal on at
    once to the handler it replaced."""

    def __init__(self) -> None:
        self.installed = False
        self.writing = False
        self.pending: tuple[int, Any] | None = None
        self.previous: Any = None

    def handle(self, signum: int, frame: Any) -> None:
        if self.writing:
            self.pending = (signum, frame)
        else:
            _deliver(self.previous, signum, frame)

    def release(self) -> None:
        """End of the writes: deliver a Ctrl-C that arrived during them."""
        self.writing = False
        pending, self.pending = self.pending, None
        if pending is not None:
            _deliver(self.previous, *pending)

    @contextmanager
    def during_training(self) -> Iterator[None]:
        """Install the handler for a ``with`` block (main thread only; nested: once)."""
        if (
            self.installed
            or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is None
        ):
            yield
            return
        try:
            self.previous = signal.signal(signal.SIGINT, self.handle)
        except (ValueError, OSError):
            yield
            return
        self.installed = True
        try:
            yield
        finally:
            self.installed = False
            signal.signal(signal.SIGINT, self.previous)


def _deliver(handler: Any, signum: int, frame: Any) -> None:
    """Do what ``handler`` (a handler ``signal.signal`` returned) does for a signal."""
    if callable(handler):
        handler(signum, frame)  # signal.default_int_handler raises KeyboardInterrupt
    elif handler == signal.SIG_DFL:
        raise KeyboardInterrupt


_GUARD = _InterruptGuard()


def deferred_interrupts() -> AbstractContextManager[None]:
    """A ``with`` block in which every optimiser step holds back Ctrl-C cheaply.

    :meth:`Optimizer.step` never leaves an update half applied: a KeyboardInterrupt that
    arrives while it writes the parameters waits until the last one is written. On its
    own a step does that by swapping the SIGINT handler and back (two system calls, a
    few microseconds: a tenth of a small network's step); inside this block, which
    :func:`bplib.train.fit` opens for its whole run, the handler is installed once and a step
    only sets a flag. Use it around a hand-written training loop::

        with bplib.optim.deferred_interrupts():
            for epoch in range(100):
                ...
                opt.step()

    Outside the steps' writes, Ctrl-C interrupts as usual. Only the main thread can
    install a handler; elsewhere the block does nothing.
    """
    return _GUARD.during_training()


class Optimizer:
    r"""Base class: the parameters, the hyperparameters, the per-parameter ``state``, and
    :meth:`step`, which applies the subclass's update rule to every parameter, all or nothing.

    A subclass declares its rule and its hyperparameters, and nothing else (chapter 6's
    optimisers in :mod:`bplib.optim.algorithms` are written so)::

        class Lion(Optimizer):
            rule = staticmethod(lion)  # lion(theta, grad, state, t, *, lr, betas) -> (theta, state)
            hyperparameters = {"lr": Real(label="lr (the learning rate)"), "betas": ...}
            state_entries = {"exp_avg": None}  # kept after every step (None: always)

            def __init__(self, params, lr=1e-4, betas=(0.9, 0.99)):
                super().__init__(params, lr=lr, betas=betas)

    ``hyperparameters`` maps each name to the check that the constructor and
    :meth:`load_state_dict` apply to a value; its order is the order of :meth:`state_dict`
    and ``repr``. ``state_entries`` maps each array the rule keeps in ``state`` to the
    hyperparameter that switches it on (``None``: always kept).

    Parameters
    ----------
    params : iterable of Parameter
        Usually ``model.parameters()``. Must not be empty; a parameter may appear once.
    lr : float
        The learning rate :math:`\eta \ge 0`. It stays settable (``opt.lr = 0.01``), which
        is how the schedules in this module and any hand-written schedule change it.
    **hyperparameters
        The rest of the subclass's ``hyperparameters``, each checked by its entry.

    Attributes
    ----------
    params : list of Parameter
    state : dict
        ``state[p]`` is a dict of what the optimiser remembers about parameter ``p``
        (``"step"``, the count of updates, and the optimiser's running averages). It is
        empty until the first :meth:`step`.
    """

    rule: ClassVar[Rule | None] = None
    rule_into: ClassVar[Callable[..., tuple[Array, dict[str, Array]] | None] | None] = None
    """A faster twin of ``rule`` (see :mod:`bplib.optim.fast`): ``rule_into(out, theta, ...)``
    returns ``(change, new_state)``, the change ``theta - new_theta`` written into ``out`` (an
    array kept from one step to the next), which the step subtracts in place; or ``None``,
    and the step calls ``rule``."""
    hyperparameters: ClassVar[dict[str, Check]] = {"lr": Real(label="lr (the learning rate)")}
    state_entries: ClassVar[dict[str, str | None]] = {}
    non_negative_state: ClassVar[frozenset[str]] = frozenset()
    """State entries that are sums of squares, so never negative."""
    recorded: ClassVar[dict[str, object]] = {}
    """What ``state_dict()`` records beside the hyperparameters to tell this optimiser from
    another with the same hyperparameter names (Adam and AdamW: PyTorch's
    ``decoupled_weight_decay``); ``load_state_dict()`` checks it."""

    def __init__(self, params: Iterable[Parameter], lr: float, **hyperparameters: Any) -> None:
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
        given = {"lr": lr, **hyperparameters}
        if set(given) != set(self.hyperparameters):
            raise TypeError(
                f"{name} declares the hyperparameters {list(self.hyperparameters)}, "
                f"got {list(given)}"
            )
        self.params: list[Parameter] = plist
        self.state: dict[Parameter, dict[str, Any]] = {}
        self._kept: dict[Parameter, Array] = {}  # the arrays rule_into writes into
        self._step_keywords: dict[str, Any] | None = None  # see __setattr__
        for key, check in self.hyperparameters.items():
            setattr(self, key, check(given[key], key, name))

    def __setattr__(self, name: str, value: Any) -> None:
        # step passes the hyperparameters to the rule as keywords; it builds that dict once
        # and keeps it until a hyperparameter is set (a schedule setting lr, say)
        if name in self.hyperparameters:
            self.__dict__["_step_keywords"] = None
        super().__setattr__(name, value)

    @property
    def lr(self) -> float:
        r"""The learning rate :math:`\eta` (settable; must be a finite number >= 0)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = Optimizer.hyperparameters["lr"](value, "lr", type(self).__name__)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero, in place."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter once from its current ``.grad``, all or nothing.

        Every check comes before the first write: each gradient has its parameter's shape,
        each parameter is writeable, and the rule's new value and new state of every
        parameter are computed and found finite (a non-finite gradient makes them
        non-finite too). Only then are they written. So a refused step (a diverged
        gradient, a learning rate that overflows, a read-only array) leaves every parameter
        and ``state`` as they were. A ``KeyboardInterrupt`` (Ctrl-C) that arrives while
        they are written is held back until the last one is, so an interrupted step is
        never half applied (see :func:`deferred_interrupts` for the cost, and how ``fit``
        avoids it).
        """
        rule = type(self).rule
        if rule is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no update rule; use one of the optimisers of "
                "bplib.optim (SGD, Adam, ...) or subclass Optimizer and declare its rule"
            )
        twin, hyper = type(self).rule_into, self._step_keywords
        if hyper is None:
            hyper = self._step_keywords = self._hyperparameters()
        updates = []
        # NaN and overflow are looked for below, before anything is written: no warnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for i, p in enumerate(self.params):
                data, grad = p.data, p.grad
                if getattr(grad, "shape", None) != data.shape or not data.flags.writeable:
                    self._refuse_parameter(i, p)
                state = self.state.get(p, _NO_STATE)
                t = state["step"] + 1
                fast = None
                if twin is not None:
                    fast = twin(self._kept_array(p), data, grad, state, t, **hyper)
                if fast is not None:  # the change theta - new theta, subtracted in place
                    value, new_state = fast
                    finite = _safe_change(value, data)
                else:
                    value, new_state = rule(data, grad, state, t, **hyper)
                    finite = _finite(value)
                if not finite or (new_state and not all(_finite(v) for v in new_state.values())):
                    self._refuse_non_finite(i, p)
                updates.append((p, value, fast is not None, new_state))
        guard = _GUARD
        if guard.installed:  # inside fit: a flag, no system call
            guard.writing = True
            try:
                self._write(updates)
            finally:
                guard.release()
        else:
            with _DeferredInterrupt():  # Ctrl-C waits until every parameter is written
                self._write(updates)

    def _write(self, updates: list[tuple[Parameter, Array, bool, dict[str, Array]]]) -> None:
        """Write the checked updates: the parameters (a new value, or a change to subtract in
        place), then the step counts and the state."""
        for p, value, is_change, new_state in updates:
            if is_change:
                p.data -= value
            else:
                p.data[...] = value
            kept = self.state.get(p)
            if kept is None:
                kept = self.state[p] = {"step": 0}
            kept["step"] += 1
            if new_state:
                kept.update(new_state)

    def _kept_array(self, p: Parameter) -> Array:
        """An array of ``p``'s shape and dtype, kept from one step to the next for
        ``rule_into`` to write into; it holds nothing between steps (``state`` does)."""
        out = self._kept.get(p)
        if out is None or out.shape != p.data.shape or out.dtype != p.data.dtype:
            out = self._kept[p] = np.empty_like(p.data)
        return out

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

    def _hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters' current values, in the declared order."""
        return {key: getattr(self, key) for key in self.hyperparameters}

    def _state_keys(self) -> list[str]:
        """The entries every parameter's state holds after a step, besides ``"step"``."""
        return [k for k, on in self.state_entries.items() if on is None or getattr(self, on)]

    def _describe_options(self) -> str:
        """The hyperparameters that decide :meth:`_state_keys`, for an error message."""
        values = {on: getattr(self, on) for on in self.state_entries.values() if on is not None}
        shown = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()]
        return " with " + ", ".join(shown) if shown else ""

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
        group: dict[str, Any] = {**self._hyperparameters(), **self.recorded}
        group["params"] = list(range(len(self.params)))
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the per-parameter state and the hyperparameters from :meth:`state_dict`.

        Accepts what :meth:`state_dict` returns or what :func:`bplib.load` reads back
        (scalars as 0-d arrays). Everything is checked before anything changes: the
        optimiser it was saved from (Adam's state is refused by AdamW), the number of
        parameters, the hyperparameters (with the constructor's own checks, so
        ``betas=(1.5, 0.999)`` or ``eps=0`` is refused as ``Adam(...)`` refuses it), and every
        state entry: a ``step`` that is an integer >= 1, exactly the entries this optimiser
        keeps (``exp_avg`` and ``exp_avg_sq`` for Adam), each an array of its parameter's
        shape and dtype, finite, and non-negative where it is a sum of squares. Loaded into
        an optimiser of the same class on a model with the same parameters, the next step
        is bit for bit the step the saved optimiser would have taken.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        group = _one_group(state_dict, where)
        n = len(np.atleast_1d(np.asarray(group.pop("params", []))))
        if n != len(self.params):
            raise ValueError(
                f"{where}: the state is for {n} parameters, this optimiser has {len(self.params)}"
            )
        for k, value in self.recorded.items():  # absent from files of bplib 0.1.0
            if k in group and _scalar(group.pop(k), k, where, value) != value:
                raise ValueError(
                    f"{where}: the state was saved from another optimiser ({k}="
                    f"{not value}, this {name} has {k}={value}); load it into the optimiser "
                    "class it was saved from"
                )
        mine = self._hyperparameters()
        if set(group) != set(mine):
            raise ValueError(
                f"{where}: the hyperparameters {sorted(group)} are not "
                f"{name}'s {sorted(mine)}; was the state saved from another optimiser?"
            )
        hyper = {k: _scalar(group[k], k, where, current) for k, current in mine.items()}
        try:  # the constructor's own checks, on a throwaway optimiser
            checked = type(self)(self.params, **hyper)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: the saved hyperparameters are refused: {err}") from None
        saved = state_dict.get("state", {})  # bplib.load drops an empty one
        if not isinstance(saved, Mapping):
            raise ValueError(f"{where}: 'state' must be a dict, got {describe(saved)}")
        new_state = {}
        for key, entries in saved.items():
            if isinstance(key, bool) or not isinstance(key, int | np.integer):
                raise ValueError(f"{where}: state keys are parameter indices, got {key!r}")
            if not 0 <= key < n:
                raise ValueError(f"{where}: state for parameter {key} of {n}")
            new_state[self.params[key]] = checked._loaded_entry(int(key), entries, where)
        for k, v in checked._hyperparameters().items():
            setattr(self, k, v)
        self.state = new_state

    def _loaded_entry(self, i: int, entries: object, where: str) -> dict[str, Any]:
        """Saved ``state[i]``, checked against :attr:`state_entries`, as copies."""
        if not isinstance(entries, Mapping):
            raise ValueError(f"{where}: state[{i}] must be a dict, got {describe(entries)}")
        wanted = ["step", *self._state_keys()]
        missing = sorted(set(wanted) - set(entries))
        extra = sorted(set(entries) - set(wanted))
        if missing or extra:
            raise ValueError(
                f"{where}: state[{i}] must hold {sorted(wanted)} for "
                f"{type(self).__name__}{self._describe_options()}, got "
                f"{sorted(entries, key=str)}"
                + (f": missing {missing}" if missing else "")
                + (f": unexpected {extra}" if extra else "")
            )
        data = self.params[i].data
        entry: dict[str, Any] = {"step": _saved_count(entries["step"], i, where)}
        for k in sorted(wanted[1:]):
            v, label = entries[k], f"state[{i}][{k!r}]"
            if not isinstance(v, np.ndarray) or v.shape != data.shape or v.dtype != data.dtype:
                raise ValueError(
                    f"{where}: {label} must be an array of parameter {i}'s dtype and shape, "
                    f"{data.dtype} {data.shape}, got {describe(v)}"
                )
            if isinstance(v, np.ma.MaskedArray):
                raise ValueError(f"{where}: {label} is a masked array; pass a plain array")
            plain_array(v, label, where)
            finite_array(v, label, where)  # step() would refuse it later
            if k in self.non_negative_state and (v < 0).any():
                raise ValueError(
                    f"{where}: {label} is a sum of squares but has {int((v < 0).sum())} "
                    "negative entries"
                )
            entry[k] = v.copy()
        return entry

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"
