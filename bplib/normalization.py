r"""Normalisation layers: ``BatchNorm1d`` and ``LayerNorm`` (chapter 10).

Both standardise a pre-activation and then rescale it,

.. math::

    \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \qquad y = \gamma \odot \hat x + \beta,

and differ in what the mean :math:`\mu` and the (biased) variance :math:`\sigma^2` are taken
over: a feature over the **batch** (batch normalisation, Ioffe and Szegedy 2015) or an
example over its **features** (layer normalisation, Ba et al. 2016). Because every
:math:`\hat x_i` depends on all the :math:`x_j` that :math:`\mu` and :math:`\sigma^2` are taken
over, the backward pass has two terms beyond the elementwise one (chapter 10 derives it
with SymPy): with :math:`g = \partial L/\partial \hat x` and :math:`m` values per statistic,

.. math::

    \frac{\partial L}{\partial x} = \frac{1}{m\sqrt{\sigma^2+\varepsilon}}
    \Big(m\, g - \textstyle\sum g - \hat x \sum g \odot \hat x\Big).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._checks import (
    all_finite,
    as_float_dtype,
    batchnorm_input,
    is_bfloat16,
    layernorm_input,
    positive_int,
    real,
)
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "LayerNorm"]


def _standardize_backward(
    g: NDArray[Any], x_hat: NDArray[Any], inv_std: NDArray[Any], axis: int
) -> NDArray[Any]:
    r""":math:`\partial L/\partial x` from :math:`g = \partial L/\partial\hat x` when the statistics
    were taken along ``axis``: :math:`\frac{1}{m\sigma}(m g - \sum g - \hat x\sum g\hat x)`."""
    m = g.shape[axis]
    sum_g = g.sum(axis=axis, keepdims=True)
    sum_g_xhat = (g * x_hat).sum(axis=axis, keepdims=True)
    return (inv_std / m) * (m * g - sum_g - x_hat * sum_g_xhat)


class BatchNorm1d(Module):
    r"""Batch normalisation of each feature over the batch (chapter 10; Ioffe and Szegedy 2015).

    In training mode, for a batch :math:`X` of shape (batch :math:`m`, features):

    .. math::

        \mu = \frac1m\sum_i x_i, \quad \sigma^2 = \frac1m\sum_i (x_i-\mu)^2, \quad
        \hat x_i = \frac{x_i-\mu}{\sqrt{\sigma^2+\varepsilon}}, \quad
        y_i = \gamma\hat x_i + \beta,

    feature by feature, and the running estimates move towards the batch's statistics,

    .. math::

        \hat\mu \leftarrow (1-\rho)\,\hat\mu + \rho\,\mu, \qquad
        \hat\sigma^2 \leftarrow (1-\rho)\,\hat\sigma^2 + \rho\,\tfrac{m}{m-1}\sigma^2

    (:math:`\rho` is ``momentum``; the running variance uses the unbiased estimate, as PyTorch
    does). In evaluation mode the running estimates replace :math:`\mu` and :math:`\sigma^2`,
    so each example's output no longer depends on the rest of its batch. The running
    estimates only take in finite statistics: a batch whose finite inputs have a variance
    beyond the float range (inputs near 1e155) raises ``FloatingPointError`` before they
    change, and NaN or infinity in the input passes on to the output (as in every layer)
    but not into them.

    Backward, with :math:`g = \gamma\,\partial L/\partial y` (training mode):

    .. math::

        \frac{\partial L}{\partial x_i} = \frac{1}{m\sqrt{\sigma^2+\varepsilon}}
        \Big(m\,g_i - \sum_j g_j - \hat x_i \sum_j g_j\hat x_j\Big), \qquad
        \frac{\partial L}{\partial\gamma} = \sum_i \frac{\partial L}{\partial y_i}\hat x_i, \qquad
        \frac{\partial L}{\partial\beta} = \sum_i \frac{\partial L}{\partial y_i};

    in evaluation mode :math:`\partial L/\partial x_i = g_i/\sqrt{\hat\sigma^2+\varepsilon}`.

    Parameters
    ----------
    num_features : int
        The number of features (columns), >= 1.
    eps : float
        Added to the variance, > 0.
    momentum : float
        :math:`\rho` in [0, 1], the weight of the newest batch in the running estimates.
    affine : bool
        Whether to learn :math:`\gamma` (``weight``, initialised to ones) and :math:`\beta`
        (``bias``, zeros); without, :math:`y = \hat x` and both are ``None``.
    dtype : float64 (default), float32, or float16 (low precision: :mod:`bplib.amp`)

    Attributes
    ----------
    running_mean, running_var : ndarray
        The buffers :math:`\hat\mu` (zeros at first) and :math:`\hat\sigma^2` (ones).

    Examples
    --------
    >>> import numpy as np, bplib
    >>> bn = bplib.BatchNorm1d(2)
    >>> y = bn(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> y.round(3)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> bn.running_mean
    array([0.2, 2. ])
    """

    _buffers = ("running_mean", "running_var")

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        *,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.num_features = positive_int(num_features, "num_features")
        self.eps = real(eps, "eps", "BatchNorm1d", low=0.0, low_open=True)
        self.momentum = real(momentum, "momentum", "BatchNorm1d", low=0.0, high=1.0)
        self.affine = bool(affine)
        self.dtype = as_float_dtype(dtype)
        if is_bfloat16(self.dtype):  # np.einsum, below, has no bfloat16 loop
            raise TypeError(
                "BatchNorm1d does not compute in bfloat16 (numpy's einsum cannot); keep it in "
                "float32, as PyTorch's autocast keeps normalisation"
            )
        n = self.num_features
        self.weight = Parameter(np.ones(n, self.dtype), "weight") if affine else None
        self.bias = Parameter(np.zeros(n, self.dtype), "bias") if affine else None
        self.running_mean = np.zeros(n, self.dtype)
        self.running_var = np.ones(n, self.dtype)

    check_input = batchnorm_input  # the boundary (see Module): shape, dtype, batch >= 2
    # cached by forward for backward: x_hat, 1/sqrt(var + eps), and whether the batch's
    # statistics were used (training) or the running ones (evaluation)
    cache: tuple[NDArray[Any], NDArray[Any], bool]

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        if self.training:
            m = x.shape[0]
            mean = x.mean(axis=0)
            centered = x - mean
            var = np.einsum("ij,ij->j", centered, centered) / m  # biased, 1/m: as normalised
            finite = all_finite(var)
            if not finite and all_finite(x):  # finite inputs whose squares overflow
                bad = np.flatnonzero(~np.isfinite(var)).tolist()
                raise FloatingPointError(
                    f"{self!r}: the batch variance of feature(s) {bad[:10]} is not finite "
                    f"(largest |input| {np.max(np.abs(x)):.3g}: its square is beyond the float "
                    "range); the running statistics were not updated. Rescale the inputs or "
                    "lower the learning rate"
                )
            if finite:  # NaN or infinity in the input passes on, but not into the buffers
                rho = self.momentum
                self.running_mean *= 1 - rho
                self.running_mean += rho * mean
                self.running_var *= 1 - rho
                self.running_var += (rho * m / (m - 1)) * var  # unbiased, as PyTorch
        else:
            centered, var = x - self.running_mean, self.running_var
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = centered * inv_std
        self.cache = (x_hat, inv_std, self.training)
        if self.weight is None or self.bias is None:
            return x_hat
        return x_hat * self.weight.data + self.bias.data

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        x_hat, inv_std, batch_statistics = self.cache
        g = grad_out
        if self.weight is not None and self.bias is not None:
            self.weight.grad += (grad_out * x_hat).sum(axis=0)
            self.bias.grad += grad_out.sum(axis=0)
            g = grad_out * self.weight.data
        if not batch_statistics:
            return g * inv_std  # the running statistics are constants
        return _standardize_backward(g, x_hat, inv_std, axis=0)

    def __repr__(self) -> str:
        return (
            f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}, "
            f"affine={self.affine})"
        )


class LayerNorm(Module):
    r"""Layer normalisation of each example over its features (chapter 10; Ba et al. 2016).

    For each row :math:`x` of a batch (one example, :math:`m` features):

    .. math::

        \mu = \frac1m\sum_k x_k, \quad \sigma^2 = \frac1m\sum_k (x_k-\mu)^2, \quad
        y_k = \gamma_k\frac{x_k-\mu}{\sqrt{\sigma^2+\varepsilon}} + \beta_k .

    The same in training and evaluation mode, and independent of the batch's other examples.
    Backward is :class:`BatchNorm1d`'s with the sums taken over the features of a row
    instead of over the batch. An input ``(..., features)``, such as a transformer's
    ``(batch, time, features)``, is normalised position by position, as PyTorch's
    ``nn.LayerNorm(features)`` does (each position a row, see :class:`~bplib.Module`).

    Parameters
    ----------
    normalized_shape : int or tuple of one int
        The number of features (the last axis), >= 1.
    eps : float
        Added to the variance, > 0.
    elementwise_affine : bool
        Whether to learn :math:`\gamma` (``weight``, ones) and, with ``bias``, :math:`\beta`
        (``bias``, zeros).
    bias : bool
        Whether to learn :math:`\beta` (only with ``elementwise_affine``).
    dtype : float64 (default), float32, or float16 (low precision: :mod:`bplib.amp`)
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: DTypeLike = np.float64,
    ) -> None:
        shape = normalized_shape
        if isinstance(shape, tuple | list):
            if len(shape) != 1:
                raise ValueError(
                    "LayerNorm normalises over the feature axis of a (batch, features) input: "
                    f"normalized_shape must be an int or a tuple of one int, got {shape!r}"
                )
            shape = shape[0]
        self.normalized_shape = (positive_int(shape, "normalized_shape"),)
        self.eps = real(eps, "eps", "LayerNorm", low=0.0, low_open=True)
        self.elementwise_affine = bool(elementwise_affine)
        self.dtype = as_float_dtype(dtype)
        n = self.normalized_shape[0]
        affine = self.elementwise_affine
        self.weight = Parameter(np.ones(n, self.dtype), "weight") if affine else None
        self.bias = Parameter(np.zeros(n, self.dtype), "bias") if affine and bias else None

    check_input = layernorm_input  # the boundary (see Module): shape and dtype
    leading_dims = True  # (..., features) runs as rows, as torch's (see Module)
    cache: tuple[NDArray[Any], NDArray[Any]]  # x_hat and 1/sqrt(var + eps), for backward

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        mean = x.mean(axis=1, keepdims=True)
        var = x.var(axis=1, keepdims=True)
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = (x - mean) * inv_std
        self.cache = (x_hat, inv_std)
        y = x_hat
        if self.weight is not None:
            y = y * self.weight.data
        if self.bias is not None:
            y = y + self.bias.data
        return y

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        x_hat, inv_std = self.cache
        g = grad_out
        if self.weight is not None:
            self.weight.grad += (grad_out * x_hat).sum(axis=0)
            g = grad_out * self.weight.data
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=0)
        return _standardize_backward(g, x_hat, inv_std, axis=1)

    def __repr__(self) -> str:
        return (
            f"LayerNorm({self.normalized_shape}, eps={self.eps:g}, "
            f"elementwise_affine={self.elementwise_affine})"
        )
