r"""A small reverse-mode automatic differentiation engine over numpy arrays (chapter 11).

Backpropagation is one case of *reverse-mode automatic differentiation* (Linnainmaa, 1970;
Werbos, 1974; Griewank & Walther, 2008). Every operation on a :class:`Tensor` records a node
of a computational graph: its value, the tensors it was computed from (its *parents*) and
its **vector-Jacobian product** (VJP), the function that turns the gradient of the loss
with respect to the node's output, :math:`\bar v = \partial L/\partial v`, into the
gradient with respect to each parent :math:`u`,

.. math::

    \bar u \mathrel{+}= \bar v \, \frac{\partial v}{\partial u} .

:meth:`Tensor.backward` visits the graph in reverse topological order (every node after
all the nodes that use it), so each node's gradient is complete, summed over every path
to the loss, before it is passed on. The whole engine is this file: read it in one sitting
(its pictures are drawn by :func:`bplib.plot.draw_graph`).

Examples
--------
>>> from bplib.autodiff import Tensor
>>> x = Tensor(3.0, label="x")
>>> y = x * x + 2 * x          # dy/dx = 2x + 2 = 8: x is used along three paths
>>> y.backward()
>>> float(x.grad)
8.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import all_finite, describe
from .functional import sigmoid as _sigmoid

Array = NDArray[Any]
#: A vector-Jacobian product: the gradient of the output in, one gradient per parent out
#: (``None`` for a parent that needs no gradient).
VJP = Callable[[Array], Sequence[Array | None]]

__all__ = ["Tensor", "topological_order", "unbroadcast"]


def unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    r"""Sum ``grad`` down to ``shape``: the VJP of numpy broadcasting.

    Broadcasting copies a value along new leading axes and along axes of length 1. A value
    used in many places receives the sum of the gradients of all its copies, so the
    gradient is summed over exactly those axes. For a bias :math:`b` of shape ``(out,)``
    added to ``(batch, out)``, this is :math:`\partial L/\partial b = \sum_\text{batch}\delta`.
    """
    if not isinstance(grad, np.ndarray | np.generic) or isinstance(grad, np.matrix):
        raise TypeError(f"unbroadcast: grad must be a numpy array, got {describe(grad)}")
    if grad.dtype.kind not in "biuf":
        raise TypeError(f"unbroadcast: grad must hold real numbers, got {describe(grad)}")
    try:
        reachable = np.broadcast_shapes(tuple(shape), grad.shape) == grad.shape
    except (TypeError, ValueError):
        reachable = False
    if not reachable:
        raise ValueError(
            f"unbroadcast: shape must broadcast to the gradient's shape {grad.shape}, got "
            f"{shape!r}: a gradient can only be summed down to a shape it was broadcast from"
        )
    while grad.ndim > len(shape):  # leading axes that broadcasting added
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):  # axes of length 1 that broadcasting stretched
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _as_array(value: object, where: str) -> Array:
    """A finite floating array from a number, array or nested list (ints become float64)."""
    if isinstance(value, Tensor):
        raise TypeError(f"{where} expected an array or a number, got a Tensor (use .data)")
    if isinstance(value, np.matrix):
        value = np.asarray(value)
    try:
        arr = np.asarray(value)
    except ValueError:  # a ragged nested list
        raise ValueError(
            f"{where} expected a rectangular array, got a ragged nested list (rows of "
            "different lengths)"
        ) from None
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{where} expected real numbers, got {type(value).__name__} of dtype {arr.dtype}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{where} got NaN or infinity in {np.array2string(arr, threshold=6)}")
    return arr


def _checked_op(
    data: object, parents: object, vjp: object, op: object
) -> tuple[Array, tuple[Tensor, ...]]:
    """``from_op``'s arguments, checked before the node is made: a real numeric array (or
    number), a sequence of Tensors and a callable VJP."""
    where = f"Tensor.from_op({op!r})" if isinstance(op, str) and op else "Tensor.from_op"
    if not isinstance(data, np.ndarray | np.generic | int | float) or isinstance(data, bool):
        raise TypeError(f"{where}: data must be a numpy array or a number, got {describe(data)}")
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}: data must hold real numbers, got {describe(arr)}")
    if isinstance(parents, Tensor) or not isinstance(parents, Sequence) or isinstance(parents, str):
        raise TypeError(
            f"{where}: parents must be a sequence of Tensors (e.g. (a, b)), got {describe(parents)}"
        )
    for i, p in enumerate(parents):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: parents[{i}] must be a Tensor, got {describe(p)}")
    if not callable(vjp):
        raise TypeError(
            f"{where}: vjp must be a function from the output's gradient to one gradient per "
            f"parent, got {describe(vjp)}"
        )
    return arr, tuple(parents)


def _parent_grads(node: Tensor, g: Array) -> Sequence[Array | None]:
    """What ``node``'s VJP returns for ``g``: one array (or ``None``) per parent, else a
    clear error naming the operation."""
    assert node._vjp is not None
    grads = node._vjp(g)
    where = f"the VJP of {node.op!r}"
    if not isinstance(grads, Sequence) or isinstance(grads, str):
        raise TypeError(
            f"{where} must return a sequence of gradients, one per parent, got {describe(grads)}"
        )
    if len(grads) != len(node.parents):
        raise ValueError(
            f"{where} must return one gradient per parent ({len(node.parents)}), got {len(grads)}"
        )
    for i, pg in enumerate(grads):
        if pg is not None and not isinstance(pg, np.ndarray | np.generic):
            raise TypeError(
                f"{where} must return numpy arrays (or None), got {describe(pg)} for parent {i}"
            )
    return grads


class Tensor:
    r"""A numpy array that remembers how it was computed, so gradients can flow back to it.

    Parameters
    ----------
    data : array_like
        The value: a number, a nested list or a numpy array. Integers and booleans become
        float64; float32 stays float32. NaN and infinity are refused.
    label : str
        A name shown by ``repr`` and :func:`bplib.plot.draw_graph`.
    requires_grad : bool
        Whether ``backward`` should compute this tensor's gradient (default True: a Tensor
        you create is something you want the derivative of; a plain number or array that
        meets a Tensor in an operation is a constant). Unlike PyTorch, every node, not only
        the leaves, keeps its gradient, so the whole graph can be drawn.

    Attributes
    ----------
    data : ndarray
        The value.
    grad : ndarray
        :math:`\partial L/\partial\,\text{data}`, same shape and dtype as ``data``, zero until
        a ``backward`` pass reaches it. ``backward`` *accumulates* into it, as PyTorch does:
        call :meth:`zero_grad` between passes.
    parents : tuple of Tensor
        The tensors this one was computed from (empty for a leaf).
    op : str
        The operation that made it (``""`` for a leaf).
    """

    # Make numpy hand `ndarray + Tensor` to Tensor.__radd__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(self, data: object, label: str = "", *, requires_grad: bool = True) -> None:
        self.data: Array = _as_array(data, "Tensor")
        self.grad: Array = np.zeros_like(self.data)
        self.label = label
        self.requires_grad = bool(requires_grad)
        self.parents: tuple[Tensor, ...] = ()
        self.op = ""
        self._vjp: VJP | None = None

    @classmethod
    def from_op(
        cls, data: Array, parents: Sequence[Tensor], vjp: VJP, op: str = "", label: str = ""
    ) -> Tensor:
        r"""A new graph node: the result of ``op`` applied to ``parents``.

        This is how every operation below is written, and how you add your own: compute
        ``data`` from the parents' values and give the vector-Jacobian product ``vjp``,
        which maps :math:`\partial L/\partial\,\text{data}` to one gradient per parent, each
        of that parent's shape (or ``None`` where the parent needs no gradient).
        """
        data, parents = _checked_op(data, parents, vjp, op)
        out = cls.__new__(cls)
        out.data = data
        out.grad = np.zeros_like(out.data)
        out.label = label
        out.parents = parents
        out.requires_grad = any(p.requires_grad for p in out.parents)
        out.op = op
        out._vjp = vjp
        return out

    # ----------------------------------------------------------------------- basic facts
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self.data.reshape(()))

    def __repr__(self) -> str:
        values = np.array2string(self.data, precision=4, separator=", ", threshold=12)
        extra = f", label={self.label!r}" if self.label else ""
        extra += f", op={self.op!r}" if self.op else ""
        return f"Tensor({values}{extra})"

    def _lift(self, other: object) -> Tensor:
        """Wrap a number or an array as a constant (no gradient); a Python number takes
        this tensor's dtype, so a float32 tensor times 2.0 stays float32."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, int | float) and not isinstance(other, bool):
            return Tensor(np.asarray(other, dtype=self.dtype), requires_grad=False)
        return Tensor(_as_array(other, f"operand of a {type(self).__name__}"), requires_grad=False)

    def _finite(self, y: Array, op: str, other: Tensor | None = None) -> Array:
        """Return ``y``, the result of ``op``, if it is finite; else say that it overflowed."""
        with np.errstate(over="ignore", invalid="ignore"):
            ok = all_finite(y)
        if not ok:
            operands = f"{self.shape}" + ("" if other is None else f" and {other.shape}")
            raise FloatingPointError(
                f"'{op}' overflowed: its result on operands of shape {operands} has NaN or "
                f"infinite entries (the largest finite {y.dtype} is {np.finfo(y.dtype).max:.3g})"
            )
        return y

    def _broadcast_check(self, other: Tensor, op: str) -> None:
        try:
            np.broadcast_shapes(self.shape, other.shape)
        except ValueError:
            raise ValueError(
                f"'{op}' cannot broadcast shapes {self.shape} and {other.shape}: trailing "
                "axes must be equal or 1 (numpy broadcasting rules)"
            ) from None

    # ------------------------------------------------------------ arithmetic (broadcasting)
    def __add__(self, other: object) -> Tensor:
        a, b = self, self._lift(other)
        a._broadcast_check(b, "+")
        with np.errstate(over="ignore", invalid="ignore"):
            y = a.data + b.data
        return Tensor.from_op(
            a._finite(y, "+", b), (a, b),
            lambda g: (unbroadcast(g, a.shape), unbroadcast(g, b.shape)), "+",
        )  # fmt: skip

    def __mul__(self, other: object) -> Tensor:
        a, b = self, self._lift(other)
        a._broadcast_check(b, "*")
        with np.errstate(over="ignore", invalid="ignore"):
            y = a.data * b.data
        return Tensor.from_op(
            a._finite(y, "*", b), (a, b),
            lambda g: (unbroadcast(g * b.data, a.shape), unbroadcast(g * a.data, b.shape)), "*",
        )  # fmt: skip

    def __neg__(self) -> Tensor:
        return Tensor.from_op(-self.data, (self,), lambda g: (-g,), "neg")

    def __sub__(self, other: object) -> Tensor:
        a, b = self, self._lift(other)
        a._broadcast_check(b, "-")
        with np.errstate(over="ignore", invalid="ignore"):
            y = a.data - b.data
        return Tensor.from_op(
            a._finite(y, "-", b), (a, b),
            lambda g: (unbroadcast(g, a.shape), unbroadcast(-g, b.shape)), "-",
        )  # fmt: skip

    def __truediv__(self, other: object) -> Tensor:
        r"""For :math:`q = a/b`: :math:`\bar a = \bar q / b`, :math:`\bar b = -\bar q\, a/b^2`."""
        a, b = self, self._lift(other)
        a._broadcast_check(b, "/")
        if (b.data == 0).any():
            raise ZeroDivisionError(f"'/' by a tensor that contains 0 (shape {b.shape})")
        with np.errstate(over="ignore", invalid="ignore"):
            y = a.data / b.data
        return Tensor.from_op(
            a._finite(y, "/", b), (a, b),
            lambda g: (unbroadcast(g / b.data, a.shape),
                       unbroadcast(-g * a.data / b.data**2, b.shape)), "/",
        )  # fmt: skip

    def __pow__(self, p: object) -> Tensor:
        r""":math:`x^p` for a constant number :math:`p`, with derivative :math:`p x^{p-1}`."""
        if isinstance(p, Tensor) or isinstance(p, bool | np.bool_):
            p_ok = False
        else:
            p_ok = isinstance(p, int | float | np.integer | np.floating)
        if not p_ok:
            raise TypeError(
                f"'**' needs a constant number as exponent, got {describe(p)}; "
                "for a Tensor exponent write (b * a.log()).exp()"
            )
        assert isinstance(p, int | float | np.integer | np.floating)
        p = int(p) if isinstance(p, int | np.integer) else float(p)
        if isinstance(p, float) and not math.isfinite(p):
            raise ValueError(f"'**' needs a finite exponent, got {p!r}")
        x = self.data
        if p < 0 and (x == 0).any():
            raise ZeroDivisionError(f"'** {p}' of a tensor that contains 0 (division by zero)")
        if p != int(p) and (x < 0).any():
            raise ValueError(f"'** {p}' of a tensor with negative entries is not a real number")

        def vjp(g: Array) -> tuple[Array]:
            if p == 0:  # x ** 0 = 1 is a constant
                return (np.zeros_like(g),)
            if 0 < p < 1 and (x == 0).any():
                raise ZeroDivisionError(f"the derivative of x ** {p} is infinite at x = 0")
            return (g * p * x ** (p - 1),)

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            y = x**p
        return Tensor.from_op(self._finite(y, f"** {p:g}"), (self,), vjp, f"**{p:g}")

    def __radd__(self, other: object) -> Tensor:
        return self._lift(other) + self

    def __rsub__(self, other: object) -> Tensor:
        return self._lift(other) - self

    def __rmul__(self, other: object) -> Tensor:
        return self._lift(other) * self

    def __rtruediv__(self, other: object) -> Tensor:
        return self._lift(other) / self

    # ------------------------------------------------------------------ matrix product
    def __matmul__(self, other: object) -> Tensor:
        r"""Matrix product of 1-D or 2-D tensors. For :math:`C = AB`,
        :math:`\bar A = \bar C B^\top` and :math:`\bar B = A^\top \bar C` (chapter 4); a
        1-D operand is a row (on the left) or a column (on the right), as in numpy."""
        a, b = self, self._lift(other)
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise ValueError(f"'@' needs 1-D or 2-D operands, got shapes {a.shape} @ {b.shape}")
        if a.shape[-1] != b.shape[0]:
            raise ValueError(
                f"'@' needs matching inner dimensions: {a.shape} @ {b.shape} "
                f"({a.shape[-1]} != {b.shape[0]})"
            )
        A = a.data.reshape(-1, a.shape[-1])  # 1-D operands as a 1-row / 1-column matrix
        B = b.data.reshape(b.shape[0], -1)

        def vjp(g: Array) -> tuple[Array | None, Array | None]:
            G = g.reshape(A.shape[0], B.shape[1])
            # skip the product nobody needs: the input X of a first layer needs no gradient
            grad_a = (G @ B.T).reshape(a.shape) if a.requires_grad else None
            grad_b = (A.T @ G).reshape(b.shape) if b.requires_grad else None
            return grad_a, grad_b

        return Tensor.from_op(a.data @ b.data, (a, b), vjp, "@")

    def __rmatmul__(self, other: object) -> Tensor:
        return self._lift(other) @ self

    # ---------------------------------------------------------------- elementwise functions
    def exp(self) -> Tensor:
        r""":math:`e^x`, with derivative :math:`e^x` (the output itself)."""
        with np.errstate(over="ignore"):
            y = np.exp(self.data)
        if not np.isfinite(y).all():
            raise FloatingPointError(
                f"exp overflowed: the largest input is {self.data.max():.6g}; exp of more "
                f"than {np.log(np.finfo(self.dtype).max):.2f} is infinite in {self.dtype}"
            )
        return Tensor.from_op(y, (self,), lambda g: (g * y,), "exp")

    def log(self) -> Tensor:
        r""":math:`\ln x` for :math:`x > 0`, with derivative :math:`1/x`."""
        x = self.data
        if (x <= 0).any():
            raise ValueError(f"log needs positive values, got a minimum of {x.min():.6g}")
        return Tensor.from_op(np.log(x), (self,), lambda g: (g / x,), "log")

    def tanh(self) -> Tensor:
        r""":math:`\tanh x`, with derivative :math:`1 - \tanh^2 x`."""
        y = np.tanh(self.data)
        return Tensor.from_op(y, (self,), lambda g: (g * (1 - y * y),), "tanh")

    def sigmoid(self) -> Tensor:
        r""":math:`\sigma(x) = 1/(1+e^{-x})`, with derivative :math:`\sigma(x)(1-\sigma(x))`."""
        y = _sigmoid(self.data)
        return Tensor.from_op(y, (self,), lambda g: (g * y * (1 - y),), "sigmoid")

    def relu(self) -> Tensor:
        r""":math:`\max(x, 0)`, with derivative 1 for :math:`x > 0` and 0 otherwise (as PyTorch)."""
        x = self.data
        return Tensor.from_op(np.maximum(x, 0), (self,), lambda g: (g * (x > 0),), "relu")

    # -------------------------------------------------------------------------- reductions
    def _axes(self, axis: int | tuple[int, ...] | None) -> tuple[int, ...]:
        if axis is None:
            return tuple(range(self.ndim))
        if isinstance(axis, int | np.integer) and not isinstance(axis, bool):
            axes: tuple[Any, ...] = (axis,)
        elif isinstance(axis, tuple | list):
            axes = tuple(axis)
        else:
            raise TypeError(f"axis must be an int, a tuple of ints or None, got {describe(axis)}")
        for ax in axes:
            if isinstance(ax, bool) or not isinstance(ax, int | np.integer):
                raise TypeError(f"axis must hold ints, got {describe(ax)} in {axis!r}")
            if not -self.ndim <= ax < self.ndim:
                raise ValueError(f"axis {ax} is out of range for a tensor of shape {self.shape}")
        result = tuple(sorted(int(ax) % self.ndim for ax in axes))
        if len(set(result)) != len(result):
            raise ValueError(f"axis {axis!r} names an axis twice (shape {self.shape})")
        return result

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        r"""Sum over ``axis`` (all axes by default). Every summand gets the sum's gradient:
        the VJP copies :math:`\bar s` back along the summed axes."""
        axes, shape = self._axes(axis), self.shape

        def vjp(g: Array) -> tuple[Array]:
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g, shape).copy(),)

        return Tensor.from_op(self.data.sum(axis=axes, keepdims=keepdims), (self,), vjp, "sum")

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        r"""Mean over ``axis``: the sum divided by the number :math:`n` of summands, so each
        summand gets :math:`\bar m / n`."""
        axes = self._axes(axis)
        n = int(np.prod([self.shape[ax] for ax in axes]))
        if n == 0:
            raise ValueError(f"mean over an empty axis of a tensor of shape {self.shape}")
        return self.sum(axes, keepdims) * (1.0 / n)

    # ------------------------------------------------------------------------ shape changes
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape (``t.reshape(2, 3)`` or ``t.reshape((2, 3))``);
        the gradient is reshaped back."""
        new_shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        for n in new_shape:
            if isinstance(n, bool) or not isinstance(n, int | np.integer):
                raise TypeError(
                    f"reshape: shape must be integers (e.g. t.reshape(2, 3)), got {describe(n)} "
                    f"in {tuple(new_shape)!r:.60}"
                )
        try:
            y = self.data.reshape(new_shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {self.shape} ({self.size} elements) "
                f"into shape {tuple(new_shape)}"
            ) from None
        old = self.shape
        return Tensor.from_op(y, (self,), lambda g: (g.reshape(old),), "reshape")

    def transpose(self, *axes: int) -> Tensor:
        """Permute the axes (reverse them by default; ``t.transpose(1, 0)`` or
        ``t.transpose((1, 0))``); the gradient is permuted back."""
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        perm = tuple(range(self.ndim))[::-1] if not axes else axes
        for ax in perm:
            if isinstance(ax, bool) or not isinstance(ax, int | np.integer):
                raise TypeError(
                    f"transpose: axes must be integers (e.g. t.transpose(1, 0)), got "
                    f"{describe(ax)} in {perm!r:.60}"
                )
        if sorted(perm) != list(range(self.ndim)):
            raise ValueError(
                f"transpose needs a permutation of {list(range(self.ndim))}, got {perm}"
            )
        inverse = tuple(int(i) for i in np.argsort(perm))
        return Tensor.from_op(
            self.data.transpose(perm), (self,), lambda g: (g.transpose(inverse),), "T"
        )

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed)."""
        return self.transpose()

    def __getitem__(self, index: Any) -> Tensor:
        """Indexing and slicing as in numpy. The gradient goes back to the entries that were
        picked, and an entry picked twice gets both gradients (``np.add.at`` adds repeats)."""
        y = self.data[index]
        shape, dtype = self.shape, self.dtype

        def vjp(g: Array) -> tuple[Array]:
            grad = np.zeros(shape, dtype)
            np.add.at(grad, index, g)
            return (grad,)

        return Tensor.from_op(np.array(y), (self,), vjp, "[]")

    # ----------------------------------------------------------------------- backward pass
    def zero_grad(self) -> None:
        """Set this tensor's gradient to zero, in place."""
        self.grad.fill(0)

    def backward(self, grad_out: object = None) -> None:
        r"""Add :math:`\partial\,\text{self}/\partial v` times ``grad_out`` to the ``.grad`` of
        every tensor :math:`v` this one was computed from (reverse-mode AD).

        Parameters
        ----------
        grad_out : array_like, optional
            :math:`\partial L/\partial\,\text{self}`, the seed of the backward pass. Leave it
            out for a one-element tensor (a loss): the seed is then
            :math:`\partial L/\partial L = 1`. A tensor with more elements needs it, with its
            shape (the gradient of *which* scalar is wanted?).

        Notes
        -----
        Each node's VJP is called once, after the gradients from all the nodes that use it
        have been summed (reverse topological order). The gradients of this pass are
        collected apart and *added* to each ``.grad`` at the end, so a second call adds the
        same gradients again, as in PyTorch.
        """
        if grad_out is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a tensor with one element (a loss), "
                    f"got shape {self.shape}; pass backward(grad_out) with an array of that shape, "
                    "or reduce it first, e.g. y.sum().backward()"
                )
            seed = np.ones_like(self.data)
        else:
            seed = _as_array(grad_out, "backward(grad_out)")
            if seed.shape != self.shape:
                raise ValueError(
                    f"backward(grad_out) needs a gradient of the tensor's shape {self.shape}, "
                    f"got {seed.shape}"
                )
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that needs no gradient: it was made with "
                "requires_grad=False or computed from constants only"
            )
        grads: dict[int, Array] = {id(self): seed}  # this pass's gradients, by node
        for node in reversed(topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:  # a custom VJP returned None for it
                continue
            node.grad += g
            if node._vjp is None:
                continue
            for parent, parent_grad in zip(node.parents, _parent_grads(node, g), strict=True):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.shape:
                    raise ValueError(
                        f"the VJP of '{node.op}' returned a gradient of shape "
                        f"{parent_grad.shape} for an operand of shape {parent.shape}"
                    )
                if id(parent) in grads:  # a second path to this parent: gradients add
                    grads[id(parent)] = grads[id(parent)] + parent_grad
                else:
                    grads[id(parent)] = parent_grad


def topological_order(root: Tensor, *, constants: bool = False) -> list[Tensor]:
    """Every tensor ``root`` depends on (needing a gradient), parents before children.

    A depth-first search that appends a node once all its parents are in the list. It keeps
    its own stack instead of recursing, so a graph thousands of nodes deep (a recurrent
    network unrolled over a long sequence, as in backpropagation through time) does not hit Python's recursion
    limit. With ``constants=True`` the tensors that need no gradient are listed too
    (:func:`bplib.plot.draw_graph` draws them).
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"topological_order: root must be a Tensor, got {describe(root)}")
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen or not (constants or node.requires_grad):
            continue
        seen.add(id(node))
        stack.append((node, True))  # comes back to it after all its parents
        stack.extend((p, False) for p in node.parents if id(p) not in seen)
    return order
