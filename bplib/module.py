"""Parameters, the ``Module`` base class and ``Sequential`` (chapter 5).

A module has a ``forward`` that computes its output and caches what the backward pass
will need, and a ``backward`` that takes :math:`\\partial L/\\partial \\text{output}` and
returns :math:`\\partial L/\\partial \\text{input}`, adding (not assigning) each parameter's
gradient into ``parameter.grad`` on the way, exactly as PyTorch does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import describe, plain_array


class Parameter:
    """A trainable array and its gradient.

    Attributes
    ----------
    data : ndarray
        The current value, updated in place by the optimisers.
    grad : ndarray
        :math:`\\partial L/\\partial\\,\\text{data}`, same shape and dtype as ``data``.
        ``backward`` *accumulates* into it, so call ``zero_grad()`` before each new
        backward pass unless you mean to sum gradients over several passes.
    name : str
        A label used in ``__repr__`` and in gradient-check reports.
    """

    def __init__(self, data: NDArray[Any], name: str = "") -> None:
        if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
            raise TypeError(f"Parameter expected a floating numpy array, got {describe(data)}")
        plain_array(data, "data", "Parameter")
        if not np.isfinite(data).all():
            raise ValueError(
                f"Parameter {name!r}: data must be finite, got NaN or infinity in {describe(data)}"
            )
        self.data = data
        self._grad = np.zeros_like(data)
        # True while the gradient is known to be all zeros: from zero_grad() until anything
        # reads, writes or replaces .grad. accumulate_matmul uses it to write a product
        # straight into the gradient instead of into a temporary that is then added.
        self._grad_is_zero = True
        self.name = name

    @property
    def grad(self) -> NDArray[Any]:
        # Whoever takes the array may write into it, so it is no longer known to be zero.
        self._grad_is_zero = False
        return self._grad

    @grad.setter
    def grad(self, value: NDArray[Any]) -> None:
        if value is self._grad:  # p.grad += g: the same array, changed in place
            self._grad_is_zero = False
            return
        if (
            not isinstance(value, np.ndarray)
            or isinstance(value, np.matrix)
            or value.shape != self.data.shape
            or value.dtype != self.data.dtype
        ):
            raise TypeError(
                f"Parameter {self.name!r}: grad must be a numpy array of the parameter's shape "
                f"{self.data.shape} and dtype {self.data.dtype}, got {describe(value)} (to "
                "clear it, call zero_grad())"
            )
        self._grad = value
        self._grad_is_zero = False

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def zero_grad(self) -> None:
        """Set the gradient to zero, in place."""
        self._grad.fill(0)
        # Known to stay zero only if nobody else holds the array: a reference taken before
        # (g = p.grad) may still be written through (g += ...), and the next backward must
        # add to that, not overwrite it. getrefcount counts self._grad and its own argument.
        self._grad_is_zero = sys.getrefcount(self._grad) <= 2

    def accumulate_matmul(self, a: NDArray[Any], b: NDArray[Any]) -> None:
        """``grad += a @ b``, as a layer's backward needs it (``Linear``: :math:`X^\\top\\delta`).

        Right after ``zero_grad()`` the sum is just the product, so it is written straight
        into ``grad`` (``np.matmul(a, b, out=grad)``): no temporary the size of the weights,
        and no pass to add it. Otherwise the product is added as usual. The result is the
        same either way; ``benchmarks/bench_step.py`` measures the time it saves.
        """
        if self._grad_is_zero:
            np.matmul(a, b, out=self._grad)
            self._grad_is_zero = False
        else:
            self._grad += a @ b

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer: ``forward``, ``backward``, ``parameters``, ``zero_grad``.

    Subclasses implement ``forward(x)`` (caching what backward needs) and
    ``backward(grad_out)``. Calling a module, ``module(x)``, is ``module.forward(x)``.
    Parameters are found automatically: every attribute that is a :class:`Parameter` or a
    :class:`Module`, in the order the attributes were assigned in ``__init__``.
    """

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        """Accumulate the parameters' gradients, without returning :math:`\\partial L/\\partial x`.

        A training step needs no gradient with respect to the data, so the first layer
        can skip that product (for a ``Linear`` layer, :math:`\\delta W^\\top`: a third of its
        backward cost; chapter 10 counts it). Here, by default, ``backward`` runs and its
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
        for attr, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + attr, value
            elif isinstance(value, Module):
                yield from value._named_parameters(f"{prefix}{attr}.", visited)

    def parameters(self) -> list[Parameter]:
        """All trainable parameters, in layer order, weight before bias."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero."""
        for p in self.parameters():
            p.zero_grad()

    def _require_forward(self, cache: object) -> None:
        if cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): "
                "run a forward pass first, it caches what backward needs"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _submodules(module: Module) -> list[Module]:
    """``module`` and every module inside it, each once (cycles are walked once)."""
    found: list[Module] = []
    stack, seen = [module], set()
    while stack:
        m = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        found.append(m)
        children = m.modules if isinstance(m, Sequential) else list(vars(m).values())
        stack.extend(c for c in children if isinstance(c, Module))
    return found


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
            for sub in _submodules(m):
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

    def _named_parameters(self, prefix: str, visited: set[int]) -> Iterator[tuple[str, Parameter]]:
        if id(self) in visited:
            return
        visited.add(id(self))
        for i, m in enumerate(self.modules):
            yield from m._named_parameters(f"{prefix}{i}.", visited)

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __repr__(self) -> str:
        lines = [f"  ({i}): {m!r}" for i, m in enumerate(self.modules)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
