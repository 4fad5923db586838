"""bplib: the companion library of "Backpropagation: Derive It, Build It, Break It".

A small, readable, PyTorch-shaped neural-network library in plain numpy. Each class names
the chapter of the book that derives it. ``import bplib`` needs only numpy; the SymPy and
matplotlib parts are imported when first used.
"""

from . import autodiff, data, exercises, experiments, functional, init, optim, plot, train
from .gradcheck import GradcheckReport, gradcheck
from .layers import Identity, LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, Parameter, Sequential
from .train import fit

__version__ = "0.1.0"

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "GradcheckReport",
    "Identity",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "__version__",
    "autodiff",
    "data",
    "exercises",
    "experiments",
    "fit",
    "functional",
    "gradcheck",
    "init",
    "optim",
    "plot",
    "symbolic",
    "train",
]


def __getattr__(name: str) -> object:
    """``bplib.symbolic`` on first use: it imports SymPy, which ``import bplib`` must not."""
    if name == "symbolic":
        import importlib

        return importlib.import_module(".symbolic", __name__)
    raise AttributeError(f"module 'bplib' has no attribute {name!r}")
