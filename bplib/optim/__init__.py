r"""Optimisers and learning-rate schedules (chapter 6).

Every optimiser updates each :class:`~bplib.Parameter` in place from its ``.grad``, with
the same update rule, hyperparameter names and defaults as ``torch.optim`` (PyTorch 2.x),
so the same settings give the same trajectory (the tests check it to a relative 1e-10).
Write :math:`\theta_t` for a parameter after step :math:`t`, :math:`g_t` for its gradient
at :math:`\theta_{t-1}`, :math:`\eta` for the learning rate ``lr`` and :math:`\lambda` for
``weight_decay``.

Typical use::

    opt = bplib.optim.Adam(model.parameters(), lr=1e-3)
    for X_batch, y_batch in batches:
        opt.zero_grad()
        loss = loss_fn(model(X_batch), y_batch)
        model.backward(loss_fn.backward())
        opt.step()

Each optimiser keeps what it remembers between steps in ``opt.state[p]``, a dict per
parameter (e.g. ``opt.state[p]["exp_avg"]`` for Adam's first moment), as PyTorch does.

The package's modules: ``optimizer`` (the base class: one all-or-nothing step),
``algorithms`` (the update rules, each a plain function beside the class that declares its
hyperparameters; :data:`OPTIMIZERS` lists the classes), ``fast`` (SGD's rule writing into a
kept array, a speed trick beside its plain twin), ``lr_scheduler`` (the schedules, as
``torch.optim.lr_scheduler``) and ``plateau`` (``ReduceLROnPlateau``, also importable from
``lr_scheduler``); every name is re-exported here, so ``bplib.optim.Adam`` is
``bplib.optim.algorithms.Adam``.
"""

from .algorithms import OPTIMIZERS, SGD, Adagrad, Adam, AdamW, RMSprop
from .lr_scheduler import (
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from .optimizer import Optimizer, deferred_interrupts

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "deferred_interrupts",
]
