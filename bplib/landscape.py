r"""Slices through a loss surface (chapter 9).

A network's loss is a function of its parameter vector :math:`\theta`
(:func:`bplib.utils.parameters_to_vector`), with far too many dimensions to draw. A slice
draws it along one line, :func:`loss_along_line`, or over one plane,
:func:`loss_on_plane`, through chosen points such as two trained solutions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import describe, finite_array, instance, plain_array, real_numbers, xy
from .losses import Loss
from .module import Module
from .utils import parameters_to_vector, vector_to_parameters

__all__ = ["loss_along_line", "loss_on_plane"]


def _check_theta(theta: NDArray[Any], size: int, name: str) -> NDArray[Any]:
    if not isinstance(theta, np.ndarray) or theta.shape != (size,):
        raise ValueError(
            f"{name} must be a parameter vector of shape ({size},) (see parameters_to_vector), "
            f"got {describe(theta)}"
        )
    return finite_array(real_numbers(theta, name), name)


def _check_data(X: object, y: object, where: str) -> None:
    """The data the loss is evaluated on: finite, one target per row, no np.matrix."""
    plain_array(X, "X", where)
    plain_array(y, "y", where)
    xy(X, y, where)


def _check_model(model: object, loss_fn: object, where: str) -> None:
    instance(model, Module, "model", where, "a bplib Module")
    instance(loss_fn, Loss, "loss_fn", where, "a bplib Loss instance (e.g. MSELoss())")


def _grid(values: Sequence[float] | NDArray[Any], name: str) -> NDArray[np.float64]:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence of numbers, got {describe(values)}")
    try:
        arr = np.asarray(values)
    except ValueError:  # ragged
        raise ValueError(f"{name} must be a flat sequence of numbers, got a ragged list") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got {describe(arr)}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence of finite numbers, got {values!r}"
        )
    return arr


def loss_along_line(
    model: Module,
    loss_fn: Loss,
    X: NDArray[Any],
    y: NDArray[Any],
    start: NDArray[Any],
    end: NDArray[Any],
    ts: Sequence[float] | NDArray[Any],
) -> NDArray[np.float64]:
    r"""The loss along the straight line between two parameter vectors (chapter 9).

    The loss at :math:`\theta(t) = (1-t)\,\theta_\text{start} + t\,\theta_\text{end}` for each
    ``t``: ``t = 0`` and ``t = 1`` are the two end points; values outside [0, 1] extrapolate. The
    model's own parameters are restored afterwards.
    """
    _check_model(model, loss_fn, "loss_along_line")
    _check_data(X, y, "loss_along_line")
    params = model.parameters()
    saved = parameters_to_vector(params)
    start = _check_theta(start, saved.size, "start")
    end = _check_theta(end, saved.size, "end")
    losses = []
    try:
        for t in _grid(ts, "ts"):
            vector_to_parameters((1 - t) * start + t * end, params)
            losses.append(loss_fn(model.forward(X), y))
    finally:
        vector_to_parameters(saved, params)
    return np.array(losses)


def loss_on_plane(
    model: Module,
    loss_fn: Loss,
    X: NDArray[Any],
    y: NDArray[Any],
    center: NDArray[Any],
    d1: NDArray[Any],
    d2: NDArray[Any],
    alphas: Sequence[float] | NDArray[Any],
    betas: Sequence[float] | NDArray[Any],
) -> NDArray[np.float64]:
    r"""The loss at :math:`\theta = \theta_c + \alpha d_1 + \beta d_2` on a grid.

    Returns an array of shape ``(len(betas), len(alphas))`` (row :math:`i` is
    :math:`\beta_i`), the layout of ``matplotlib``'s ``contour(alphas, betas, losses)``. The
    model's own parameters are restored afterwards.
    """
    _check_model(model, loss_fn, "loss_on_plane")
    _check_data(X, y, "loss_on_plane")
    params = model.parameters()
    saved = parameters_to_vector(params)
    center = _check_theta(center, saved.size, "center")
    d1 = _check_theta(d1, saved.size, "d1")
    d2 = _check_theta(d2, saved.size, "d2")
    a_grid, b_grid = _grid(alphas, "alphas"), _grid(betas, "betas")
    losses = np.empty((b_grid.size, a_grid.size))
    try:
        for i, beta in enumerate(b_grid):
            for j, alpha in enumerate(a_grid):
                vector_to_parameters(center + alpha * d1 + beta * d2, params)
                losses[i, j] = loss_fn(model.forward(X), y)
    finally:
        vector_to_parameters(saved, params)
    return losses
