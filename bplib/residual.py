r"""The residual connection, ``Residual(f)``: :math:`y = x + f(x)` (chapter 10).

He et al. (2016) made networks of a hundred layers and more trainable by letting each block
learn a *correction* to its input instead of a whole new representation. The backward pass
adds the identity path to the block's own:

.. math::

    \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}
    + \frac{\partial L}{\partial y}\frac{\partial f}{\partial x},
    \qquad\text{i.e. the Jacobian is } I + J_f,

so a product of many such Jacobians does not vanish when every :math:`J_f` is small.
"""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from ._checks import any_array
from .module import Module

__all__ = ["Residual"]


class Residual(Module):
    r"""A residual block around ``module``: :math:`y = x + f(x)` (chapter 10; He et al. 2016).

    Backward: :math:`\partial L/\partial x = \delta + f\text{.backward}(\delta)` with
    :math:`\delta = \partial L/\partial y`; ``module``'s parameters accumulate their gradients
    as usual. ``module`` must return an output of its input's shape.

    Parameters
    ----------
    module : Module
        The residual branch :math:`f`, e.g. ``Sequential(Linear(n, n), ReLU())``.

    Examples
    --------
    >>> import numpy as np, bplib
    >>> block = bplib.Residual(bplib.Sequential(bplib.Linear(3, 3, rng=0), bplib.ReLU()))
    >>> block(np.zeros((2, 3))).shape
    (2, 3)
    """

    def __init__(self, module: Module) -> None:
        if not isinstance(module, Module):
            kind = "a class, not an instance" if isinstance(module, type) else type(module).__name__
            raise TypeError(f"Residual expects a Module instance, got {kind}: {module!r:.60}")
        self.module = module

    check_input = any_array  # the boundary (see Module); the branch checks the rest

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        fx = self.module.forward(x)
        if fx.shape != x.shape:
            raise ValueError(
                f"Residual needs a branch whose output has its input's shape, to add them: "
                f"input {x.shape}, {type(self.module).__name__} output {fx.shape}"
            )
        return x + fx

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        return grad_out + self.module.backward(grad_out)  # identity path + branch

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        self.module.backward_to_parameters(grad_out)

    def __repr__(self) -> str:
        inner = repr(self.module).replace("\n", "\n  ")
        return f"Residual(\n  {inner}\n)"
