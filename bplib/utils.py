r"""Utilities on a model's parameters, as ``torch.nn.utils`` (chapters 8 and 9).

- :func:`clip_grad_norm`: gradient clipping, the classic remedy for exploding gradients
  (chapter 8), with the semantics of ``torch.nn.utils.clip_grad_norm_``.
- :func:`parameters_to_vector` and :func:`vector_to_parameters`: all parameters as one
  vector :math:`\theta` and back, as ``torch.nn.utils.parameters_to_vector``; chapter 9
  slices the loss surface with them (:mod:`bplib.landscape`).
- :func:`update_to_data_ratios`: how far one optimiser step moved each parameter, relative to
  its size (chapter 13 watches a transformer train with it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import describe, real, real_numbers
from .module import Module, Parameter

__all__ = [
    "clip_grad_norm",
    "parameters_to_vector",
    "update_to_data_ratios",
    "vector_to_parameters",
]


def _parameter_list(parameters: Parameter | Iterable[Parameter], where: str) -> list[Parameter]:
    if isinstance(parameters, Module):
        raise TypeError(
            f"{where} expects bplib Parameters, got a {type(parameters).__name__} (a model): "
            "pass model.parameters()"
        )
    if not isinstance(parameters, Parameter) and not isinstance(parameters, Iterable):
        raise TypeError(
            f"{where} expects bplib Parameters (e.g. model.parameters()), got "
            f"{describe(parameters)}"
        )
    params = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    if not params:
        raise ValueError(f"{where} got an empty parameter list")
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(
                f"{where} expects bplib Parameters (e.g. model.parameters()); "
                f"item {i} is {type(p).__name__}"
            )
    return params


def clip_grad_norm(
    parameters: Parameter | Iterable[Parameter],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = True,
) -> float:
    r"""Rescale the gradients in place so that their joint norm is at most ``max_norm`` (chapter 8).

    With :math:`g` all the gradients concatenated into one vector and
    :math:`\|g\|` its ``norm_type``-norm (``float("inf")`` for the largest magnitude),

    .. math::

        g \leftarrow g \cdot \min\Big(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\Big),

    which keeps the gradient's direction and caps the length of a step (Pascanu, Mikolov &
    Bengio, 2013). Call it between ``model.backward(...)`` and ``optimizer.step()``.

    The semantics are those of ``torch.nn.utils.clip_grad_norm_`` (same formula, same
    :math:`10^{-6}`, the norm *before* clipping is returned), with one difference: by default
    a NaN or infinite norm raises ``FloatingPointError`` instead of silently multiplying every
    gradient by NaN (PyTorch's ``error_if_nonfinite`` defaults to False; pass
    ``error_if_nonfinite=False`` for its behaviour).

    Returns
    -------
    float
        The total norm of the gradients before clipping: ``inf`` when finite gradients have
        a norm beyond the float range (they are still clipped correctly).
    """
    params = _parameter_list(parameters, "clip_grad_norm")
    max_norm = real(max_norm, "max_norm", "clip_grad_norm", low=0.0, low_open=True)
    if isinstance(norm_type, bool) or not isinstance(
        norm_type, int | float | np.floating | np.integer
    ):
        raise TypeError(
            f"clip_grad_norm: norm_type must be a number (or inf), got {describe(norm_type)}"
        )
    if not (norm_type == np.inf or (np.isfinite(norm_type) and norm_type > 0)):
        raise ValueError(f"norm_type must be positive (or inf), got {norm_type!r}")
    # the norm of all gradients together, computed as m * ||g / m|| with m = max |g| so that
    # squaring a huge (but finite) gradient cannot overflow
    m = float(np.max([np.max(np.abs(p.grad), initial=0.0) for p in params]))  # NaN if any is
    scaled = 1.0  # ||g / m||
    if norm_type == np.inf or m == 0.0 or not np.isfinite(m):
        total = m
    else:
        scaled = sum(float(np.sum((np.abs(p.grad) / m) ** norm_type)) for p in params) ** (
            1.0 / norm_type
        )
        with np.errstate(over="ignore"):
            total = m * scaled
    if np.isfinite(m) and not np.isfinite(total):
        # finite gradients whose norm exceeds the float range (1e308 twice): the norm is
        # returned as inf, but the clipping coefficient max_norm / (m ||g/m||) is finite
        coef = (max_norm / m) / scaled
        for p in params:
            p.grad *= coef
        return total
    if not np.isfinite(total) and error_if_nonfinite:
        raise FloatingPointError(
            f"the total {norm_type}-norm of the gradients is {total}: some gradient is "
            "NaN or infinite, and clipping cannot repair that (the forward pass has "
            "probably diverged; lower the learning rate or the initial weights). Pass "
            "error_if_nonfinite=False to scale anyway, as PyTorch does by default"
        )
    coef = max_norm / (total + 1e-6)  # NaN if total is NaN, 0 if it is infinite (as torch)
    if not coef >= 1.0:  # torch clamps the coefficient to at most 1; times 1 changes nothing
        with np.errstate(invalid="ignore"):  # inf * 0 = NaN, as in torch, when asked for
            for p in params:
                p.grad *= coef
    return total


def parameters_to_vector(parameters: Iterable[Parameter]) -> NDArray[Any]:
    r"""All parameters flattened into one vector :math:`\theta`, in order (a copy).

    As ``torch.nn.utils.parameters_to_vector``; chapter 9 slices the loss surface with it.
    """
    params = _parameter_list(parameters, "parameters_to_vector")
    return np.concatenate([p.data.ravel() for p in params])


def vector_to_parameters(vector: NDArray[Any], parameters: Iterable[Parameter]) -> None:
    """Copy the entries of ``vector`` into the parameters, in order (the inverse of the above).

    All or nothing: the vector (a plain, finite, real array of the right length) and every
    parameter (writeable) are checked before the first entry is copied.
    """
    params = _parameter_list(parameters, "vector_to_parameters")
    size = sum(p.data.size for p in params)
    if not isinstance(vector, np.ndarray) or vector.shape != (size,):
        raise ValueError(
            f"vector_to_parameters expected a vector of shape ({size},), one entry per "
            f"parameter entry, got {describe(vector)}"
        )
    if isinstance(vector, np.ma.MaskedArray):
        raise TypeError(
            "vector_to_parameters: vector is a masked array; its masked entries would be copied "
            "as they are (a NaN may hide there): pass vector.filled(...) or a plain array"
        )
    real_numbers(vector, "vector", "vector_to_parameters")
    if not np.isfinite(vector).all():
        raise ValueError("vector_to_parameters got a vector containing NaN or infinity")
    for i, p in enumerate(params):  # every check before the first write: all or nothing
        if not p.data.flags.writeable:
            raise ValueError(
                f"vector_to_parameters: parameter {i} ({p.name or 'unnamed'}) is a read-only "
                "array, so nothing was copied; give it a writeable copy"
            )
    start = 0
    for p in params:
        p.data[...] = vector[start : start + p.data.size].reshape(p.data.shape)
        start += p.data.size


def update_to_data_ratios(model: Module, before: Iterable[NDArray[Any]]) -> dict[str, float]:
    r"""Each parameter's update-to-data ratio: the size of the last step against the size of
    the weights, :math:`\operatorname{std}(\theta - \theta_\text{before}) /
    \operatorname{std}(\theta)` (chapter 13).

    A healthy run keeps it near :math:`10^{-3}` (Karpathy's rule of thumb); far below, a layer
    barely learns; far above, its weights are thrown around. Take the snapshot just before
    ``optimizer.step()``: ``before = [p.data.copy() for p in model.parameters()]``.

    Parameters
    ----------
    model : Module
        The model after the step.
    before : iterable of ndarray
        Its parameters' values before the step, in ``model.parameters()`` order.

    Returns
    -------
    dict of str to float
        The ratio by the parameter's name in ``model.named_parameters()``; a parameter whose
        entries are all equal (std 0, such as a LayerNorm's initial weight) gets the update's
        std divided by the mean magnitude of its entries instead, or 0.0 if that is 0 too.
    """
    where = "update_to_data_ratios"
    if not isinstance(model, Module):
        raise TypeError(f"{where}: model must be a bplib Module, got {describe(model)}")
    named = list(model.named_parameters())
    if isinstance(before, np.ndarray):
        raise TypeError(
            f"{where}: before must be a list of arrays, one per parameter, got {describe(before)}"
        )
    olds = list(before)
    if len(olds) != len(named):
        raise ValueError(
            f"{where}: before must hold one array per parameter of the model ({len(named)}), "
            f"got {len(olds)}"
        )
    ratios = {}
    for (name, p), old in zip(named, olds, strict=True):
        if not isinstance(old, np.ndarray) or old.shape != p.data.shape:
            raise ValueError(
                f"{where}: before[{name!r}] must be an array of shape {p.data.shape}, got "
                f"{describe(old)}"
            )
        step = float(np.std(p.data - old))
        scale = float(np.std(p.data)) or float(np.mean(np.abs(p.data)))
        ratios[name] = step / scale if scale else 0.0
    return ratios
