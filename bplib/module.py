r"""Parameters, the ``Module`` base class and ``Sequential`` (chapter 5).

A module has a ``forward`` that computes its output and caches what the backward pass
will need, and a ``backward`` that takes :math:`\partial L/\partial \text{output}` and
returns :math:`\partial L/\partial \text{input}`, adding (not assigning) each parameter's
gradient into ``parameter.grad`` on the way, exactly as PyTorch does.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from . import _checks, fast
from ._checks import describe, finite_array, is_floating, keep_bfloat16, plain_array, same_shape

__all__ = ["IncompatibleKeys", "Module", "ModuleList", "Parameter", "Sequential"]


class Parameter:
    r"""A trainable array and its gradient.

    Attributes
    ----------
    data : ndarray
        The current value, updated in place by the optimisers.
    grad : ndarray
        :math:`\partial L/\partial\,\text{data}`, same shape and dtype as ``data``.
        ``backward`` *accumulates* into it (``grad += ...``), so call ``zero_grad()`` before
        each new backward pass unless you mean to sum gradients over several passes.
    name : str
        A label used in ``__repr__`` and in gradient-check reports.
    grad_is_zero : bool
        ``True`` from :meth:`zero_grad` until ``grad`` is next read or assigned: the
        gradient is zero, and its zeros are written only when ``grad`` is next taken. The
        next backward may instead *write* its gradient into the array, the same numbers
        two passes over memory sooner (:mod:`bplib.fast`, the appendix "Making it fast").
    """

    def __init__(self, data: NDArray[Any], name: str = "") -> None:
        if not isinstance(data, np.ndarray) or not is_floating(data.dtype):
            raise TypeError(f"Parameter expected a floating numpy array, got {describe(data)}")
        plain_array(data, "data", "Parameter")
        if not np.isfinite(data).all():
            raise ValueError(
                f"Parameter {name!r}: data must be finite, got NaN or infinity in {describe(data)}"
            )
        self.data = data
        self._grad = np.zeros_like(data)
        self.grad_is_zero = True
        self.name = name

    @property
    def grad(self) -> NDArray[Any]:
        if self.grad_is_zero:  # the zeros zero_grad() left to write (see grad_is_zero)
            self._grad.fill(0)
            self.grad_is_zero = False  # whoever takes the array may write into it
        return self._grad

    @grad.setter
    def grad(self, value: NDArray[Any]) -> None:
        if value is not self._grad:  # p.grad += g changes the same array in place
            self._grad = _checks.gradient_for(self, value)
        self.grad_is_zero = False

    @property
    def grad_buffer(self) -> NDArray[Any]:
        """The gradient's array as it is, without writing the zeros :meth:`zero_grad` left
        pending: for code that overwrites all of it while ``grad_is_zero`` (:mod:`bplib.fast`)
        and then lowers the flag. Anything else reads ``grad``."""
        return self._grad

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def zero_grad(self) -> None:
        """Set the gradient to zero. The zeros are written into the same array when ``grad``
        is next taken (so a training step does not spend a pass over memory writing zeros
        that its backward overwrites, see ``grad_is_zero``); an array taken from ``grad``
        before keeps its old values until then, as PyTorch's ``zero_grad()`` leaves them in
        a tensor taken before."""
        self.grad_is_zero = True

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer: ``forward``, ``backward``, ``parameters``, ``zero_grad``.

    Subclasses implement ``forward(x)`` (caching what backward needs) and
    ``backward(grad_out)``. Calling a module, ``module(x)``, is ``module.forward(x)``.
    Parameters are found automatically: every attribute that is a :class:`Parameter` or a
    :class:`Module`, in the order the attributes were assigned in ``__init__``.

    **The boundary.** A subclass's ``forward`` and ``backward`` hold the mathematics and the
    cache, nothing else: the checks run around them. Every ``forward`` a subclass defines is
    wrapped (once, when the class is created) so that it first forgets the last call (a
    refused call leaves nothing behind for ``backward``), then passes its input through
    :meth:`check_input`, and records the shape and dtype of its output; every ``backward``
    and ``backward_to_parameters`` first passes ``grad_out`` through :meth:`check_grad`
    (forward must have run; the gradient must have the output's shape and dtype).
    ``inspect.getsource`` shows the method as written.

    **Leading dimensions.** A layer whose ``forward`` and ``backward`` are written for rows,
    ``(n, features)``, and treat each row alone (``Linear``, ``LayerNorm``) sets the class
    attribute ``leading_dims = True``; the boundary then also takes ``(..., features)``, as
    PyTorch's layers do: it hands the methods the rows ``x.reshape(-1, features)`` (a
    ``(batch, time, features)`` input is ``batch * time`` rows) and gives the output and
    the gradient with respect to the input their leading axes back. The mathematics is unchanged:
    a parameter's gradient is a sum over rows, so it sums over every leading axis.

    A module may also hold *buffers*: arrays that are part of its state but are not trained
    (a normalisation layer's running statistics). It names them in the class attribute
    ``_buffers``, a tuple of attribute names; :meth:`named_buffers` finds them and
    :meth:`state_dict` saves them beside the parameters.

    Attributes
    ----------
    leading_dims : bool
        Whether the boundary takes ``(..., features)`` and passes rows (see above); False
        by default.
    training : bool
        ``True`` (the default) in training mode, ``False`` in evaluation mode; set by
        :meth:`train` and :meth:`eval` on a module and all its children, as in PyTorch.
        Only layers that behave differently while training read it: ``BatchNorm1d`` (batch
        or running statistics) and ``Dropout`` (a random mask or the identity).
    _buffers : tuple of str
        Names of the attributes that hold state which is not trained but belongs to the
        model (``BatchNorm1d``'s running statistics); empty by default.
    """

    training: bool = True
    leading_dims: bool = False
    _buffers: tuple[str, ...] = ()
    # (shape, dtype) of the last forward's output, None before forward and after a refused
    # call; what check_grad compares a gradient against
    _forward_output: tuple[tuple[int, ...] | None, np.dtype[Any] | None] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, guard in (
            ("forward", _guarded_forward),
            ("backward", _guarded_backward),
            ("backward_to_parameters", _guarded_backward),
        ):
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "is_guarded", False):
                twin = fast.TWINS.get(f"{cls.__module__}.{cls.__qualname__}.{name}")
                setattr(cls, name, guard(method, twin))

    def check_input(self, x: Any) -> NDArray[Any]:
        """The input as ``forward`` takes it, or an exception saying what is wrong with it.

        The default accepts anything; bplib's layers name a check of ``bplib._checks`` here.
        """
        return x

    def check_grad(self, grad_out: Any) -> NDArray[Any]:
        """``grad_out`` as ``backward`` takes it: forward must have run, and the gradient must
        have the shape (and, for an array output, the dtype) of forward's output."""
        if self._forward_output is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): "
                "run a forward pass first, it caches what backward needs"
            )
        shape, dtype = self._forward_output
        if shape is None:  # forward returned something else than an array: not checked
            return grad_out
        return same_shape(grad_out, shape, self, dtype)

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        r"""Accumulate the parameters' gradients, without returning :math:`\partial L/\partial x`.

        A training step needs no gradient with respect to the data, so the first layer
        can skip that product (for a ``Linear`` layer, :math:`\delta W^\top`: one of its two
        backward matrix products, half of the cost; chapter 11 counts it). Here, by default, ``backward`` runs and its
        result is dropped; ``Linear`` and ``Sequential`` skip the work.
        """
        self.backward(grad_out)

    def __call__(self, x: NDArray[Any]) -> NDArray[Any]:
        return self.forward(x)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` pairs, e.g. ``("0.weight", ...)`` in a Sequential.

        A parameter shared by several layers is listed once, under its first name (as in
        PyTorch), so an optimiser never updates it twice per step.
        """
        seen: set[int] = set()
        for name, p in self._named_parameters(prefix, set()):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _named_parameters(self, prefix: str, visited: set[int]) -> Iterator[tuple[str, Parameter]]:
        """Every ``(name, parameter)`` pair: attributes in assignment order.

        ``visited`` holds the modules already walked, so a module that refers back to its
        owner (or is reachable twice) is walked once, not forever.
        """
        if id(self) in visited:
            return
        visited.add(id(self))
        for attr, value in self._named_attributes():
            if isinstance(value, Parameter):
                yield prefix + attr, value
            elif isinstance(value, Module):
                yield from value._named_parameters(f"{prefix}{attr}.", visited)

    def _named_attributes(self) -> Iterable[tuple[str, object]]:
        """What the walks over a model look at (parameters, buffers, children): every
        ``(name, value)`` attribute, in the order assigned; ``Sequential`` gives its modules,
        named by position."""
        return vars(self).items()

    def parameters(self) -> list[Parameter]:
        """All trainable parameters, in layer order, weight before bias."""
        return [p for _, p in self.named_parameters()]

    def children(self) -> Iterator[Module]:
        """The modules directly inside this one (attributes that are modules, in order)."""
        for _, value in self._named_attributes():
            if isinstance(value, Module):
                yield value

    def train(self, mode: bool = True) -> Module:
        """Put this module and every module inside it in training mode (``mode=False``:
        evaluation mode), as ``torch.nn.Module.train``; returns the module itself.

        Chapter 10: batch normalisation uses the batch's statistics while training and its
        running estimates in evaluation; dropout drops units only while training.
        """
        if not isinstance(mode, bool | np.bool_):
            raise ValueError(f"train(mode) expects True or False, got {mode!r}")
        found = submodules(self)  # each module once, even one that refers to its owner
        for m in found:
            _refuse_module_lists(m)
        for m in found:
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode, ``train(False)``: what ``evaluate`` and ``predict`` use (chapter 10)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero."""
        for p in self.parameters():
            p.zero_grad()

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, NDArray[Any]]]:
        """Yield ``(name, array)`` for every buffer, named as :meth:`named_parameters` names
        parameters (e.g. ``("1.running_mean", ...)`` in a Sequential)."""
        return self._named_buffers(prefix, set())

    def _named_buffers(self, prefix: str, visited: set[int]) -> Iterator[tuple[str, NDArray[Any]]]:
        """Every ``(name, buffer)`` pair, each module walked once (see ``_named_parameters``)."""
        if id(self) in visited:
            return
        visited.add(id(self))
        for name in self._buffers:
            yield prefix + name, getattr(self, name)
        for attr, value in self._named_attributes():
            if isinstance(value, Module):
                yield from value._named_buffers(f"{prefix}{attr}.", visited)

    def state_dict(self) -> OrderedDict[str, NDArray[Any]]:
        """Everything needed to restore the model: ``name -> copy of the array`` (chapter 7).

        The names are those of :meth:`named_parameters` (a shared parameter once) and of
        :meth:`named_buffers`, PyTorch's names; the parameters come first (PyTorch lists
        each module's buffers right after its parameters, so only the order differs). The
        arrays are copies, so training on does not change a saved state;
        ``bplib.save(model.state_dict(), path)`` writes it to disk.
        """
        for m in submodules(self):
            _refuse_module_lists(m)
        state: OrderedDict[str, NDArray[Any]] = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = p.data.copy()
        for name, buf in self.named_buffers():
            state[name] = np.array(buf, copy=True)
        return state

    def load_state_dict(
        self, state_dict: Mapping[str, NDArray[Any]], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy the arrays of ``state_dict`` into this model's parameters and buffers, in place.

        Every value is checked first (an array, not a masked one, of the parameter's shape and
        dtype, finite, a writeable target, and, with ``strict=True``, exactly the model's
        names), so a failed load changes nothing.
        The copy is exact: a model loaded from a state computes bit for bit what the saved
        model computed.

        Parameters
        ----------
        state_dict : mapping of str to ndarray
            E.g. from :meth:`state_dict` or :func:`bplib.load`.
        strict : bool
            Refuse a missing or an unexpected name (default). With ``False`` only the names
            present in both are copied and the others are reported.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``, both empty after a strict load.

        Raises
        ------
        KeyError
            With ``strict=True``, naming the missing and unexpected keys.
        ValueError, TypeError
            A value that is not an array of the expected shape and dtype.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict expected a mapping name -> array (e.g. from state_dict() or "
                f"bplib.load), got {type(state_dict).__name__}"
            )
        for m in submodules(self):
            _refuse_module_lists(m)
        targets: dict[str, NDArray[Any]] = {n: p.data for n, p in self.named_parameters()}
        targets.update(self.named_buffers())
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing key(s) {missing}")
            if unexpected:
                parts.append(f"unexpected key(s) {unexpected}")
            raise KeyError(
                f"load_state_dict into {type(self).__name__}: {' and '.join(parts)}; the model "
                f"has {list(targets)} (pass strict=False to load the common keys only)"
            )
        for name, target in targets.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            if not isinstance(value, np.ndarray):
                raise TypeError(
                    f"load_state_dict: {name!r} must be a numpy array, got {type(value).__name__}"
                )
            if isinstance(value, np.ma.MaskedArray):
                raise TypeError(
                    f"load_state_dict: {name!r} is a masked array; its masked entries would be "
                    "copied as they are (a NaN may hide there): pass value.filled(...) or a plain "
                    "array"
                )
            if value.shape != target.shape:
                raise ValueError(
                    f"load_state_dict: {name!r} has shape {value.shape} in the state but "
                    f"{target.shape} in the model"
                )
            if value.dtype != target.dtype:
                raise TypeError(
                    f"load_state_dict: {name!r} has dtype {value.dtype} in the state but "
                    f"{target.dtype} in the model; convert the model or the state first"
                )
            finite_array(value, repr(name), "load_state_dict")  # as Parameter checks its data
            if not target.flags.writeable:
                raise ValueError(
                    f"load_state_dict: the model's {name!r} is a read-only array, so it cannot "
                    "be loaded in place (nothing was changed); give the model a writeable copy"
                )
        for name, target in targets.items():
            if name in state_dict:
                np.copyto(target, state_dict[name])
        return IncompatibleKeys(missing, unexpected)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _guarded_forward(forward: Any, twin: Any = None) -> Any:
    """``forward`` behind the boundary (see :class:`Module`)."""

    @functools.wraps(forward)
    def guarded(self: Module, x: Any) -> Any:
        self._forward_output = None  # a refused call leaves nothing for backward
        x = self.check_input(x)
        if self.leading_dims and x.ndim > 2:  # (..., features): run on the rows
            rows = keep_bfloat16(forward(self, x.reshape(-1, x.shape[-1])), x)
            out = rows.reshape(*x.shape[:-1], rows.shape[-1])
        else:
            out = keep_bfloat16(forward(self, x), x)  # see keep_bfloat16
        self._forward_output = (
            (out.shape, out.dtype) if isinstance(out, np.ndarray) else (None, None)
        )
        return out

    guarded.is_guarded = True  # type: ignore[attr-defined]
    return guarded


def _guarded_backward(backward: Any, twin: Any = None) -> Any:
    """``backward`` (or ``backward_to_parameters``) behind the boundary; ``twin`` is the faster
    function of :mod:`bplib.fast` that computes the same numbers, run in its place."""
    run = twin or backward

    @functools.wraps(backward)
    def guarded(self: Module, grad_out: Any) -> Any:
        grad_out = self.check_grad(grad_out)
        if self.leading_dims and grad_out.ndim > 2:  # (..., features): run on the rows
            return _backward_on_rows(self, run, grad_out)
        return keep_bfloat16(run(self, grad_out), grad_out)  # see keep_bfloat16

    guarded.is_guarded = True  # type: ignore[attr-defined]
    return guarded


def _backward_on_rows(module: Module, run: Any, grad_out: NDArray[Any]) -> Any:
    """``run(module, grad_out)`` on the rows of a ``(..., features)`` gradient (see
    ``Module``'s leading dimensions), its result given the leading axes back. While it runs,
    the output is recorded as rows, so a backward that calls the module's own
    ``backward_to_parameters`` (``Linear``'s) hands that the rows too."""
    output = module._forward_output
    assert output is not None  # check_grad has refused a backward before forward
    rows = grad_out.reshape(-1, grad_out.shape[-1])
    module._forward_output = (rows.shape, output[1])
    try:
        grad_in = keep_bfloat16(run(module, rows), rows)
    finally:
        module._forward_output = output
    if grad_in is None:  # backward_to_parameters
        return None
    return grad_in.reshape(*grad_out.shape[:-1], grad_in.shape[-1])


def _refuse_module_lists(module: Module) -> None:
    """Refuse a plain list, tuple or dict of modules as an attribute: the walks over a model
    do not look inside one, so its layers would be missing from ``parameters()`` and
    ``state_dict()`` and be neither trained nor saved (``ModuleList`` is what to use)."""
    if type(module)._named_attributes is not Module._named_attributes:
        return  # Sequential and ModuleList name their own modules
    for attr, value in vars(module).items():
        if isinstance(value, list | tuple | dict):
            items = value.values() if isinstance(value, dict) else value
            if any(isinstance(v, Module) for v in items):
                raise TypeError(
                    f"{type(module).__name__}.{attr} is a plain {type(value).__name__} holding "
                    "Modules: their parameters would be missing from parameters() and "
                    "state_dict() (neither trained nor saved); hold them in "
                    f"bplib.ModuleList(...) instead: self.{attr} = bplib.ModuleList([...])"
                )


def submodules(module: Module) -> list[Module]:
    """``module`` and every module inside it, each once (cycles are walked once)."""
    found: list[Module] = []
    stack, seen = [module], set()
    while stack:
        m = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        found.append(m)
        stack.extend(m.children())
    return found


class IncompatibleKeys(NamedTuple):
    """What :meth:`~bplib.Module.load_state_dict` did not match (PyTorch's ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Sequential(Module):
    """A chain of modules: ``forward`` runs them in order, ``backward`` in reverse.

    Examples
    --------
    >>> import bplib
    >>> net = bplib.Sequential(bplib.Linear(2, 3, rng=0), bplib.Tanh(), bplib.Linear(3, 1, rng=1))
    >>> [p.shape for p in net.parameters()]
    [(2, 3), (3,), (3, 1), (1,)]
    """

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                kind = "a class, not an instance" if isinstance(m, type) else type(m).__name__
                raise TypeError(
                    f"Sequential expects Module instances; argument {i} is {kind}: {m!r:.60}"
                )
        first: dict[int, int] = {}
        for i, m in enumerate(modules):
            for sub in submodules(m):
                j = first.setdefault(id(sub), i)
                if j != i:
                    raise ValueError(
                        f"Sequential: argument {i} uses the same {type(sub).__name__} instance "
                        f"as argument {j}; a module caches its last input for backward, so one "
                        "instance cannot appear twice in a chain (its gradients would be wrong): "
                        f"create another {type(sub).__name__}(...) (to share weights, assign the "
                        "same Parameter to both layers)"
                    )
        self.modules = list(modules)

    def check_grad(self, grad_out: Any) -> NDArray[Any]:
        """Each module checks the gradient it is handed (a chain may also be run module by
        module, ``net[0](x)``, ``net[1](...)``, and then backward as a whole)."""
        return grad_out

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        for m in self.modules:
            x = m.forward(x)
        return x

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        for m in reversed(self.modules):
            grad_out = m.backward(grad_out)
        return grad_out

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        if not self.modules:
            return
        first, *rest = self.modules
        for m in reversed(rest):
            grad_out = m.backward(grad_out)
        first.backward_to_parameters(grad_out)  # the input needs no gradient

    def _named_attributes(self) -> Iterable[tuple[str, object]]:
        return ((str(i), m) for i, m in enumerate(self.modules))

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __repr__(self) -> str:
        lines = [f"  ({i}): {m!r}" for i, m in enumerate(self.modules)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


class ModuleList(Module):
    """A list of modules whose parameters and buffers belong to the model (``torch.nn.ModuleList``).

    A custom module that keeps its layers in a plain Python list hides them from
    :meth:`~Module.parameters` and :meth:`~Module.state_dict` (bplib refuses such a list);
    a ``ModuleList`` names them by position, ``"layers.0.weight"``, as PyTorch does. It
    has no ``forward``: the owning module decides how the layers are called.

    Examples
    --------
    >>> import bplib
    >>> class Tower(bplib.Module):
    ...     def __init__(self):
    ...         self.layers = bplib.ModuleList([bplib.Linear(2, 2, rng=i) for i in range(3)])
    ...     def forward(self, x):
    ...         for layer in self.layers:
    ...             x = layer(x)
    ...         return x
    >>> list(Tower().state_dict())[:2]
    ['layers.0.weight', 'layers.0.bias']
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        self._modules: list[Module] = []
        if modules is not None:
            self.extend(modules)

    @staticmethod
    def _checked(module: object, where: str) -> Module:
        if not isinstance(module, Module):
            kind = "a class, not an instance" if isinstance(module, type) else describe(module)
            raise TypeError(f"ModuleList.{where} expects a Module instance, got {kind}")
        return module

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns the list itself, as PyTorch."""
        self._modules.append(self._checked(module, "append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add every module of ``modules`` at the end (all checked before any is added)."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleList | Sequential):
            raise TypeError(
                f"ModuleList.extend expects an iterable of Modules, got a {type(modules).__name__}"
                " (use append)"
            )
        try:
            new = list(modules)
        except TypeError:
            raise TypeError(
                f"ModuleList expects an iterable of Modules, got {describe(modules)}"
            ) from None
        self._modules.extend([self._checked(m, "extend") for m in new])
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``."""
        self._modules.insert(index, self._checked(module, "insert"))

    def _named_attributes(self) -> Iterable[tuple[str, object]]:
        return ((str(i), m) for i, m in enumerate(self._modules))

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return ModuleList(self._modules[i])
        return self._modules[i]

    def __setitem__(self, i: int, module: Module) -> None:
        self._modules[i] = self._checked(module, "__setitem__")

    def __delitem__(self, i: int | slice) -> None:
        del self._modules[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __repr__(self) -> str:
        if not self._modules:
            return "ModuleList()"
        lines = [f"  ({i}): {m!r}" for i, m in enumerate(self._modules)]
        return "ModuleList(\n" + "\n".join(lines) + "\n)"
