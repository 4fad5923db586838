"""The optimisers' speed trick, beside its plain twin (the appendix "Making it fast").

:func:`bplib.optim.algorithms.sgd` ends with ``theta - lr * g``: two new arrays the size of
the parameter, every step, and the base class then copies the new value into the parameter.
A large fresh array costs the operating system a page fault per 4 KB of it, and the C library
hands a freed large block back to the system, so the next step pays again. :func:`sgd_into`
computes the change ``lr * g`` into ``out``, an array the optimiser keeps from one step to
the next (:meth:`~bplib.optim.Optimizer.step` passes it), and the base class subtracts it in
place: ``theta -= lr * g``, the same numbers as ``sgd``'s ``theta - lr * g``, with one pass
over the parameter fewer and nothing allocated the size of the model (the appendix counts
the bytes with ``tracemalloc``). No benchmark of ``benchmarks/`` yet times a step with it
against one without it (``bench_twins.py`` measures :mod:`bplib.fast`'s twin only). The
tests check that it gives ``sgd``'s numbers bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .optimizer import Array


def sgd_into(
    out: Array,
    theta: Array,
    grad: Array,
    state: Mapping[str, Any],
    t: int,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    nesterov: bool,
    weight_decay: float,
) -> tuple[Array, dict[str, Array]] | None:
    """:func:`~bplib.optim.algorithms.sgd`'s change ``theta - new_theta`` (``lr * g``), written
    into ``out``; ``None`` (use ``sgd``) with momentum or weight decay, which allocate anyway."""
    if momentum != 0 or weight_decay != 0:
        return None
    return np.multiply(grad, lr, out=out), {}  # lr * g, for theta -= lr * g
