"""bplib: the companion library of "Backpropagation: Derive It, Build It, Break It".

A small, readable, PyTorch-shaped neural-network library in plain numpy. Each class names
the chapter of the book that derives it. ``import bplib`` loads numpy and the core (the
modules, layers, losses and gradient check); every other submodule (``bplib.optim``,
``bplib.train``, ``bplib.data``, ...) and ``bplib.fit`` are imported on first use, and
SymPy and matplotlib only by the parts that draw or differentiate symbolically.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .dropout import Dropout
from .gradcheck import GradcheckReport, gradcheck
from .init import manual_seed
from .layers import GELU, Flatten, Identity, LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, ModuleList, Parameter, Sequential
from .normalization import BatchNorm1d, LayerNorm
from .residual import Residual
from .serialization import load, save

if TYPE_CHECKING:  # what the lazy names below will be, for mypy and editors
    from . import (
        amp,
        attention,
        autodiff,
        callbacks,
        checkpoint,
        data,
        exercises,
        experiments,
        functional,
        init,
        landscape,
        metrics,
        optim,
        plot,
        symbolic,
        train,
        utils,
    )
    from .attention import CausalSelfAttention, CharLM, Embedding, TransformerBlock
    from .helpers import count_parameters, predict_proba, summary
    from .train import fit, predict, predict_classes

__version__ = "0.1.0"

__all__ = [
    "GELU",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CausalSelfAttention",
    "CharLM",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GradcheckReport",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Residual",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TransformerBlock",
    "__version__",
    "amp",
    "attention",
    "autodiff",
    "callbacks",
    "checkpoint",
    "count_parameters",
    "data",
    "exercises",
    "experiments",
    "fit",
    "functional",
    "gradcheck",
    "init",
    "landscape",
    "load",
    "manual_seed",
    "metrics",
    "optim",
    "plot",
    "predict",
    "predict_classes",
    "predict_proba",
    "save",
    "summary",
    "symbolic",
    "train",
    "utils",
]

_SUBMODULES = {
    "amp",
    "attention",
    "autodiff",
    "callbacks",
    "checkpoint",
    "data",
    "exercises",
    "experiments",
    "functional",
    "init",
    "landscape",
    "metrics",
    "optim",
    "plot",
    "symbolic",
    "train",
    "utils",
}


_LAZY_NAMES = {
    "CausalSelfAttention": ".attention",  # the transformer's layers, loaded on first use
    "CharLM": ".attention",
    "Embedding": ".attention",
    "TransformerBlock": ".attention",
    "fit": ".train",
    "predict": ".train",
    "predict_classes": ".train",
    "count_parameters": ".helpers",
    "predict_proba": ".helpers",
    "summary": ".helpers",
}


def __getattr__(name: str) -> object:
    """Import a submodule (``bplib.optim``), ``bplib.fit`` (``bplib.predict``, ...) or a
    transformer layer (``bplib.Embedding``, ...) on first use (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:  # functions of modules that import the training loop
        return getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    raise AttributeError(f"module 'bplib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
