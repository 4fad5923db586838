"""The optimisers' speed trick, beside its plain twin (the appendix "Making it fast").

:func:`bplib.optim.algorithms.sgd` ends with ``theta - lr * g``: two new arrays the size of
the parameter, every step. A large fresh array costs the operating system a page fault per
4 KB of it, and the C library hands a freed large block back to the system, so the next
step pays again. :func:`sgd_into` computes the same numbers into ``out``, an array the
optimiser keeps from one step to the next (:meth:`~bplib.optim.Optimizer.step` passes it),
so plain SGD's step allocates nothing the size of the model. Measured with
``benchmarks/bench_step.py`` (float32, 1 thread, interleaved A/B): without it the whole
step of the big network took about 1.09 times as long. The tests check that it gives
``sgd``'s numbers bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import algorithms  # which imports this module: sgd is looked up when called
from .optimizer import Array


def sgd_into(
    out: Array, theta: Array, grad: Array, state: Mapping[str, Any], t: int, **hyper: Any
) -> tuple[Array, dict[str, Array]]:
    """:func:`~bplib.optim.algorithms.sgd`, its new value written into ``out``."""
    if hyper["momentum"] != 0 or hyper["weight_decay"] != 0:
        return algorithms.sgd(theta, grad, state, t, **hyper)  # these allocate their buffers anyway
    np.multiply(grad, hyper["lr"], out=out)  # lr * g
    return np.subtract(theta, out, out=out), {}  # theta - lr * g
