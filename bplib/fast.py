r"""The speed tricks, each beside its plain twin (the appendix "Making it fast").

The classes the chapters print hold the mathematics and nothing else. Where a faster way
to compute *the same numbers* pays for itself, it lives here, beside the plain line it
replaces, and the library runs it in the plain method's place: :class:`bplib.Module`'s
boundary looks a method up in :data:`TWINS` when the class is created. A trick stays only
while ``benchmarks/`` shows it buys at least 5 % of a training step on some network; the
tests check that each twin gives the plain method's numbers bit for bit.

``Linear.backward_to_parameters``
    Plain: ``weight.grad += x.T @ delta`` and ``bias.grad += delta.sum(axis=0)``.
    Right after ``zero_grad()`` the sum is just the product, so the twin writes the product
    straight into the gradient (``np.matmul(..., out=...)``): no pass writing zeros (``zero_grad()``
    leaves them pending, see ``Parameter.grad_is_zero``), no pass adding the product to them,
    and no temporary the size of the weights. ``benchmarks/bench_twins.py`` measures a whole step
    with and without it; ``benchmarks/results/twins.json`` holds the last measurement, which
    the appendix prints.

    The one assumption: nothing writes into a gradient array between ``zero_grad()`` and the
    backward pass, except through ``Parameter.grad`` (which writes the pending zeros and
    clears ``Parameter.grad_is_zero``). An array taken from ``grad`` *before*
    ``zero_grad()`` and added to afterwards would be overwritten (in PyTorch, whose
    ``zero_grad()`` sets the gradient to ``None``, such an addition is lost as well);
    ``fit`` and every loop the book writes take the gradient after ``backward``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray


def add_matmul(param: Any, a: NDArray[Any], b: NDArray[Any]) -> None:
    """``param.grad += a @ b``, written straight into ``grad`` while it is known to be zero."""
    if param.grad_is_zero:
        np.matmul(a, b, out=param.grad_buffer)
        param.grad_is_zero = False
    else:
        param.grad += a @ b


def add_row_sum(param: Any, delta: NDArray[Any]) -> None:
    """``param.grad += delta.sum(axis=0)``, written straight into ``grad`` while it is zero."""
    if param.grad_is_zero:
        delta.sum(axis=0, out=param.grad_buffer)
        param.grad_is_zero = False
    else:
        param.grad += delta.sum(axis=0)


def linear_backward_to_parameters(layer: Any, grad_out: NDArray[Any]) -> None:
    """The twin of ``Linear.backward_to_parameters``: the same two sums, through the above."""
    add_matmul(layer.weight, layer.x.T, grad_out)
    if layer.bias is not None:
        add_row_sum(layer.bias, grad_out)


#: ``"module.Class.method"`` -> the twin run in the method's place (see the module docstring).
TWINS: dict[str, Callable[..., Any]] = {
    "bplib.layers.Linear.backward_to_parameters": linear_backward_to_parameters,
}
