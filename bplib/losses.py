r"""Loss functions (chapter 2): ``MSELoss``, ``CrossEntropyLoss``, ``BCEWithLogitsLoss``.

A loss is called as ``loss(pred, target)`` and returns a Python float; ``loss.backward()``
then returns :math:`\partial L/\partial\,\text{pred}`, an array of the same shape and
dtype as ``pred``, ready to hand to ``model.backward``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from ._checks import (
    all_finite,
    class_labels,
    describe,
    is_floating,
    plain_array,
    real,
    real_array,
)
from .functional import log_softmax


def _refuse_non_finite(
    where: object, pred: NDArray[Any], target: NDArray[Any] | None, overflow: str
) -> NoReturn:
    """Say why a loss came out NaN or infinite, and raise.

    A NaN or an infinity in the predictions or the target makes the loss NaN or infinite,
    so a loss checks its result instead of its inputs (one look at a number instead of two
    passes over arrays), and comes here only when it is not finite, to find the cause.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # see all_finite; inf + -inf is NaN
        if not all_finite(pred):
            raise FloatingPointError(
                f"{where!r} got predictions containing NaN or infinity; the forward pass has "
                "diverged (try a smaller learning rate) or the input is not finite"
            )
        if target is not None and not all_finite(target):
            raise ValueError(f"{where!r} got a target containing NaN or infinity")
    raise FloatingPointError(
        f"{where!r}: the loss overflows (it exceeds the largest float, {overflow}); the "
        "predictions have diverged: try a smaller learning rate or rescale the targets"
    )


def _check_pred(pred: object, where: object) -> NDArray[Any]:
    """Predictions: a non-empty floating array (their finiteness: see _refuse_non_finite)."""
    if isinstance(pred, np.matrix):
        plain_array(pred, "pred (the predictions)", repr(where))
    if not isinstance(pred, np.ndarray) or not is_floating(pred.dtype):
        raise TypeError(
            f"{where!r} expected predictions as a floating numpy array, got {describe(pred)}"
        )
    if pred.size == 0:
        raise ValueError(f"{where!r} got an empty batch: predictions of shape {pred.shape}")
    return pred


def _check_target_like(target: object, pred: NDArray[Any], where: object) -> NDArray[Any]:
    """A real-valued target of exactly pred's shape, converted to pred's dtype."""
    if isinstance(target, np.matrix):
        plain_array(target, "target", repr(where))
    if not isinstance(target, np.ndarray) or target.dtype.kind not in "biuf":
        raise TypeError(
            f"{where!r} expected the target as a real numpy array, got {describe(target)}"
        )
    if target.shape != pred.shape:
        hint = ""
        if target.size == pred.size:
            hint = f"; reshape it with target.reshape{pred.shape}"
        raise ValueError(
            f"{where!r} expected a target of the same shape as the predictions {pred.shape}, "
            f"got {target.shape} (it would broadcast silently){hint}"
        )
    return target.astype(pred.dtype, copy=False)


class Loss:
    r"""Base class: ``__call__(pred, target) -> float`` caches, ``backward()`` returns dL/dpred.

    A loss computes its gradient during ``forward``, and ``backward`` only hands it over.
    The gradient is made of the intermediate values the loss itself needs (the difference
    :math:`\hat y - y`, the softmax probabilities, :math:`\sigma(z)`), so computing it there
    costs one more elementwise pass and no recomputation, while computing it later would
    mean caching those same intermediates anyway. It is no bigger than the predictions, and
    in training every loss is followed by its backward pass.

    **The boundary**, as for :class:`~bplib.Module`: a subclass's ``forward`` holds the
    mathematics and sets ``self.grad``; it is wrapped when the class is created so that it
    first forgets the last gradient, passes ``pred`` and ``target`` through
    :meth:`check_inputs`, runs with floating-point warnings off, and refuses a loss that
    comes out NaN or infinite, saying why (:meth:`overflow_hint`).
    """

    grad: NDArray[Any] | None = None  # dL/dpred of the last call, set by forward

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        forward = cls.__dict__.get("forward")
        if forward is not None and not getattr(forward, "is_guarded", False):
            cls.forward = _guarded(forward)  # type: ignore[method-assign]

    def __call__(self, pred: NDArray[Any], target: NDArray[Any]) -> float:
        return self.forward(pred, target)

    def check_inputs(self, pred: Any, target: Any) -> tuple[NDArray[Any], NDArray[Any]]:
        """``(pred, target)`` as ``forward`` takes them: by default, floating predictions and a
        real target of their shape (converted to their dtype)."""
        pred = _check_pred(pred, self)
        return pred, _check_target_like(target, pred, self)

    def overflow_hint(self, pred: NDArray[Any], target: NDArray[Any]) -> str:
        """What to say of the inputs when the loss overflows (by default the largest absolute logit)."""
        return f"largest |logit| = {np.abs(pred).max():.3g}"

    def forward(self, pred: NDArray[Any], target: NDArray[Any]) -> float:
        """Compute the loss and store its gradient for :meth:`backward` (subclasses)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement forward(pred, target); use MSELoss, "
            "CrossEntropyLoss or BCEWithLogitsLoss, or subclass Loss and write it there"
        )

    def backward(self) -> NDArray[Any]:
        r""":math:`\partial L/\partial\,\text{pred}` for the last call, same shape and dtype as pred."""
        if self.grad is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before the loss was computed (or "
                "after a call that raised): call loss(pred, target) first"
            )
        return self.grad

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _guarded(forward: Any) -> Any:
    """A loss's ``forward`` behind the boundary (see :class:`Loss`)."""

    @functools.wraps(forward)
    def guarded(self: Loss, pred: Any, target: Any) -> float:
        self.grad = None  # a refused call leaves no gradient behind for backward()
        pred, target = self.check_inputs(pred, target)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = forward(self, pred, target)
            if not math.isfinite(loss):
                self.grad = None
                _refuse_non_finite(self, pred, target, self.overflow_hint(pred, target))
        return loss

    guarded.is_guarded = True  # type: ignore[attr-defined]
    return guarded


class MSELoss(Loss):
    r"""Mean squared error, :math:`L = \frac1N\sum_i (\hat y_i - y_i)^2` over all N elements.

    With ``reduction="sum"``, :math:`L = \sum_i (\hat y_i - y_i)^2`. The gradient is
    :math:`\partial L/\partial \hat y = 2(\hat y - y)/N` (or without the :math:`1/N`).
    The target must have exactly the shape of the prediction: a ``(N,)`` target against
    ``(N, 1)`` predictions would broadcast to ``(N, N)`` and is refused.
    """

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def forward(self, pred: NDArray[Any], target: NDArray[Any]) -> float:
        diff = pred - target
        scale = 1 / diff.size if self.reduction == "mean" else 1
        self.grad = diff * (2 * scale)
        return float(np.sum(diff * diff)) * scale

    def overflow_hint(self, pred: NDArray[Any], target: NDArray[Any]) -> str:
        return f"largest |pred - target| = {np.abs(pred - target).max():.3g}"

    def __repr__(self) -> str:
        return f"MSELoss(reduction={self.reduction!r})"


class CrossEntropyLoss(Loss):
    r"""Softmax cross-entropy from logits with integer class labels, averaged over the batch.

    .. math::

        L = -\frac1N \sum_{n} \log p_{n, y_n}, \qquad p = \operatorname{softmax}(z),
        \qquad \frac{\partial L}{\partial z} = \frac{p - \operatorname{onehot}(y)}{N}

    (derived in chapter 2). The log-probabilities use log-sum-exp, so the loss is finite
    for any finite logits.

    Parameters
    ----------
    weight : array of shape (classes,) or None
        A weight :math:`w_c \ge 0` per class, as PyTorch's (class imbalance): example
        :math:`n` counts :math:`w_{y_n}` times, and the mean divides by
        :math:`\sum_n w_{y_n}` instead of :math:`N`.
    label_smoothing : float in [0, 1]
        :math:`\varepsilon`: the target becomes :math:`(1-\varepsilon)\,\operatorname{onehot}(y)
        + \varepsilon/C` (PyTorch's definition, weights applied per class).
    reduction : "mean" (default) or "sum"

    With a target distribution :math:`a_n` (the one-hot row, smoothed and weighted),
    :math:`L = -\frac1W\sum_n \sum_c a_{nc}\log p_{nc}` and
    :math:`\partial L/\partial z_n = \big((\textstyle\sum_c a_{nc})\,p_n - a_n\big)/W`.
    """

    def __init__(
        self,
        weight: NDArray[Any] | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> None:
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.label_smoothing = real(
            label_smoothing, "label_smoothing", "CrossEntropyLoss", low=0.0, high=1.0
        )
        if weight is not None:
            weight = real_array(weight, "weight", "CrossEntropyLoss")
            if weight.ndim != 1 or weight.size == 0 or not (weight >= 0).all():
                raise ValueError(
                    "CrossEntropyLoss: weight must be a 1-D array of finite weights >= 0, "
                    f"one per class, got {describe(weight)}"
                )
        self.weight = weight
        self.reduction = reduction

    def check_inputs(self, pred: Any, target: Any) -> tuple[NDArray[Any], NDArray[Any]]:
        """Finite logits of shape (batch, classes) and one integer label per row."""
        z = _check_pred(pred, self)
        if z.ndim != 2:
            raise ValueError(f"{self!r} expected logits of shape (batch, classes), got {z.shape}")
        if self.weight is not None and self.weight.size != z.shape[1]:
            raise ValueError(
                f"{self!r}: weight has {self.weight.size} entries but the logits have "
                f"{z.shape[1]} classes"
            )
        labels = class_labels(target, z.shape[0], z.shape[1], self)
        if not all_finite(z):  # a -inf logit away from the target would leave the loss finite
            _refuse_non_finite(self, z, None, "")
        return z, labels

    def forward(self, pred: NDArray[Any], target: NDArray[Any]) -> float:
        if self.weight is not None or self.label_smoothing != 0 or self.reduction != "mean":
            return self.forward_with_options(pred, target)
        n, rows = pred.shape[0], np.arange(pred.shape[0])
        log_p = log_softmax(pred, axis=1)  # z - logsumexp(z): chapter 2
        self.grad = np.exp(log_p)  # softmax(z)
        self.grad[rows, target] -= 1  # minus onehot(y)
        self.grad /= n
        return float(-log_p[rows, target].sum() / n) + 0.0  # + 0.0: -0.0 reads as 0.0

    def forward_with_options(self, pred: NDArray[Any], target: NDArray[Any]) -> float:
        """``weight``, ``label_smoothing`` and ``reduction="sum"``: the target distribution."""
        n, c = pred.shape
        rows, eps = np.arange(n), self.label_smoothing
        w = np.ones(c, pred.dtype) if self.weight is None else self.weight.astype(pred.dtype)
        log_p = log_softmax(pred, axis=1)
        a = np.tile(w * (eps / c), (n, 1))  # the smoothed part, weighted per class
        a[rows, target] += (1 - eps) * w[target]  # the one-hot part, weighted by its class
        total = w[target].sum() if self.reduction == "mean" else 1
        self.grad = (a.sum(axis=1, keepdims=True) * np.exp(log_p) - a) / total
        return float(-(a * log_p).sum() / total) + 0.0

    def __repr__(self) -> str:
        parts = []
        if self.weight is not None:
            parts.append(f"weight={self.weight.tolist()}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing:g}")
        if self.reduction != "mean":
            parts.append(f"reduction={self.reduction!r}")
        return f"CrossEntropyLoss({', '.join(parts)})"


class BCEWithLogitsLoss(Loss):
    r"""Binary cross-entropy from logits, averaged over all elements.

    .. math::

        L = \frac1N \sum_i \big[\operatorname{softplus}(z_i) - y_i z_i\big]
          = -\frac1N \sum_i \big[y_i \log\sigma(z_i) + (1-y_i)\log(1-\sigma(z_i))\big],
        \qquad \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{N}

    Targets are probabilities in [0, 1] with the shape of the logits.
    """

    def check_inputs(self, pred: Any, target: Any) -> tuple[NDArray[Any], NDArray[Any]]:
        """Floating logits and targets in [0, 1] of their shape."""
        z, y = super().check_inputs(pred, target)
        lo, hi = y.min(), y.max()
        if not (0 <= lo and hi <= 1):  # NaN fails both comparisons
            if not (math.isfinite(lo) and math.isfinite(hi)):  # a NaN or an infinity in y
                _refuse_non_finite(self, z, y, "")
            raise ValueError(f"{self!r} expected targets in [0, 1], got values from {lo} to {hi}")
        return z, y

    def forward(self, pred: NDArray[Any], target: NDArray[Any]) -> float:
        z, y = pred, target
        # softplus(z) = max(z, 0) + log(1 + e) and sigmoid(z) = (1 or e) / (1 + e), with
        # e = exp(-|z|) in (0, 1]: one exponential serves both, and neither overflows.
        e = np.exp(-np.abs(z))
        terms = np.maximum(z, 0) + np.log1p(e) - y * z
        loss = float(terms.sum() / terms.size)
        if math.isinf(loss) and all_finite(terms):  # huge terms overflowed: average first
            loss = float(np.sum(terms / terms.size))
        self.grad = (np.where(z >= 0, 1, e) / (1 + e) - y) / z.size
        return loss
