"""The keys of chapter 5's exercises (bplib.exercises.ch05), called through verdict()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import bplib
from bplib.exercises import NOT_YET, verdict

F = bplib.functional


def softplus_class(forward: Callable[..., Any], backward: Callable[..., Any]) -> type:
    class Softplus(bplib.Module):
        def forward(self, z):
            self._z = z
            return forward(z)

        def backward(self, grad_out):
            return backward(grad_out, self._z)

    return Softplus


def right_backward(g, z):
    return g * F.sigmoid(z)


@pytest.mark.parametrize(
    ("forward", "backward", "says"),
    [
        (lambda z: np.log(1 + np.exp(z)), right_backward, "overflows for large z"),
        (lambda z: np.log1p(np.exp(z)), right_backward, "overflows for large z"),
        (
            lambda z: np.where(z > 30, z, np.log(1 + np.exp(np.minimum(z, 30)))),
            right_backward,
            "loses precision",
        ),
        (lambda z: np.where(z > 30, z, np.log1p(np.exp(z))), right_backward, "warns"),
        (F.softplus, lambda g, z: g / (1 + np.exp(-z)), "warns"),
        (F.softplus, lambda g, z: g * np.exp(z) / (1 + np.exp(z)), "backward overflows"),
        (F.softplus, lambda g, z: g * F.softplus(z), "softplus itself"),
        (F.softplus, lambda g, z: F.sigmoid(z), "forgets grad_out"),
        (F.softplus, lambda g, z: g, "unchanged"),
        (np.tanh, right_backward, "log(1 + e^z)"),
    ],
)
def test_softplus_diagnoses(forward, backward, says) -> None:
    said = verdict("5.1", softplus_class(forward, backward))
    assert said.startswith("Not yet: ") and says in said, said


def test_softplus_right_answers() -> None:
    for forward, backward in [
        (F.softplus, right_backward),
        (lambda z: np.logaddexp(0, z), lambda g, z: g * 0.5 * (1 + np.tanh(z / 2))),
    ]:
        assert verdict("5.1", softplus_class(forward, backward)).startswith("Correct")
    assert verdict("5.1", np.tanh).startswith("Not yet: Softplus should be a class")
    assert verdict("5.1", ...) == NOT_YET


def scale_class(init=np.ones, update="add", grad=lambda g, z: (g * z).sum(axis=0)) -> type:
    class Scale(bplib.Module):
        def __init__(self, features):
            self.gain = bplib.Parameter(init(features), "gain")

        def forward(self, z):
            self._z = z
            return z * self.gain.data

        def backward(self, grad_out):
            if update == "add":
                self.gain.grad += grad(grad_out, self._z)
            else:
                self.gain.grad = grad(grad_out, self._z)
            return grad_out * self.gain.data

    return Scale


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"update": "assign"}, "add to gain.grad"),
        ({"init": np.zeros}, "start as ones"),
        ({"grad": lambda g, z: (g * z).mean(axis=0)}, "a mean over the batch"),
        ({"grad": lambda g, z: g * z}, "summed over the batch"),
        ({"grad": lambda g, z: -(g * z).sum(axis=0)}, "opposite sign"),
        ({"grad": lambda g, z: g.sum(axis=0)}, "what multiplies the gain"),
    ],
)
def test_scale_diagnoses(kwargs, says) -> None:
    said = verdict("5.2", scale_class(**kwargs))
    assert said.startswith("Not yet: ") and says in said, said


def test_scale_right_answer() -> None:
    assert verdict("5.2", scale_class()).startswith("Correct")


def accumulate_with(weight: Callable[..., float] | None, zero: str = "before") -> Callable:
    def accumulate(model, X, Y, micro_batch):
        loss = bplib.MSELoss()
        if zero == "before":
            model.zero_grad()
        if weight is None:  # one full-batch pass
            loss(model(X), Y)
            model.backward(loss.backward())
            return
        for start in range(0, X.shape[0], micro_batch):
            if zero == "inside":
                model.zero_grad()
            X_mb, Y_mb = X[start : start + micro_batch], Y[start : start + micro_batch]
            loss(model(X_mb), Y_mb)
            model.backward(loss.backward() * weight(X_mb, X, micro_batch))

    return accumulate


def share(X_mb, X, micro_batch):
    return X_mb.shape[0] / X.shape[0]


@pytest.mark.parametrize(
    ("accumulate", "says"),
    [
        (
            accumulate_with(None),
            "no accumulation: with micro_batch = 4 the model ran forward on 10",
        ),
        (accumulate_with(lambda X_mb, X, m: 1.0), "counts as much as the whole batch's"),
        (accumulate_with(share, zero="never"), "stale gradients"),
        (accumulate_with(share, zero="inside"), "only the last micro-batch"),
        (accumulate_with(lambda X_mb, X, m: 1 / -(-X.shape[0] // m)), "number of micro-batches"),
        (accumulate_with(lambda X_mb, X, m: X_mb.shape[0]), "times too large"),
        (accumulate_with(lambda X_mb, X, m: 0.5), "how does a mean"),
        (lambda model, X, Y, micro_batch: None, "covered 0 rows"),
    ],
)
def test_accumulate_diagnoses(accumulate, says) -> None:
    said = verdict("5.3", accumulate)
    assert said.startswith("Not yet: ") and says in said, said


def test_accumulate_right_answers() -> None:
    assert verdict("5.3", accumulate_with(share)).startswith("Correct")

    def summed(model, X, Y, micro_batch):
        loss = bplib.MSELoss(reduction="sum")
        model.zero_grad()
        for start in range(0, X.shape[0], micro_batch):
            loss(model(X[start : start + micro_batch]), Y[start : start + micro_batch])
            model.backward(loss.backward() / Y.size)

    assert verdict("5.3", summed).startswith("Correct")
    assert verdict("5.3", 3).startswith("Not yet: accumulate should be a function")
