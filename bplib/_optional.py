"""The optional dependencies: `import bplib` needs only numpy (``pip install bplib-book``).

Each part that needs more imports it on first use through :func:`require`, which turns a
missing package into an ImportError that names the pip extra that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# module -> (distribution, the extra of bplib-book that installs it)
EXTRAS = {
    "matplotlib": ("matplotlib", "plot"),
    "sympy": ("sympy", "symbolic"),
    "tqdm": ("tqdm", "progress"),
}


def require(module: str, needed_by: str) -> ModuleType:
    """Import ``module`` (e.g. ``"matplotlib.pyplot"``) or say how to install it.

    Raises
    ------
    ImportError
        When the package is not installed; the message names what needs it and the
        ``pip install "bplib-book[extra]"`` command that installs it.
    """
    top = module.partition(".")[0]
    try:
        importlib.import_module(top)
    except ModuleNotFoundError as error:
        if error.name != top:
            raise  # the package is there but something it imports is not: pip's report
        distribution, extra = EXTRAS[top]
        raise ImportError(
            f"{needed_by} needs {distribution}, which is not installed: "
            f'pip install "bplib-book[{extra}]" (or "bplib-book[chapters]" for everything '
            "the book's chapters use)"
        ) from error
    return importlib.import_module(module)
