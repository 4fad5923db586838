"""The book's plumbing: the few helpers every chapter calls, defined once.

Not part of the network library (no chapter teaches it, ``import bplib`` does not load it).
It ships inside the package so that a chapter runs wherever ``bplib`` is installed: in the
HTML book's build (myst-nb present), in JupyterLab from the repository, and in the notebook
editions (``reader/``, ``student/``) opened in Colab, where myst-nb need not be installed.

- :func:`glue` and :func:`glue_number` hand a computed value to the prose, which shows it
  with the ``{glue:text}`` role. In the book's build they are ``myst_nb.glue``; without
  myst-nb they only record the value in :data:`glued` (the editions show glued values as
  text, so nothing there needs myst-nb).
- :func:`show` displays ``lhs = expr`` with a SymPy expression typeset.
- :func:`show_source` prints the source of a library function, method or class: the one
  way the chapters show library code.

The editions' generator (``tools/make_editions.py``) removes the glue calls and the
imports of ``glue`` and ``glue_number``; the cell that installs ``bplib`` in Colab is
written by that generator too, so no chapter carries one.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

from ._optional import require

__all__ = ["glue", "glue_number", "glued", "show", "show_source"]

glued: dict[str, Any] = {}
"""Every value glued in this kernel, by name (what the HTML book's prose shows)."""


def glue(name: str, value: Any, display: bool = False) -> None:
    """Hand ``value`` to the prose under ``name`` (the ``{glue:text}`` role shows it).

    ``myst_nb.glue(name, value, display=display)`` when myst-nb is installed (its output
    is invisible unless ``display`` is true); without myst-nb the value is only recorded
    in :data:`glued`.
    """
    if not isinstance(name, str):
        raise TypeError(f"glue: name must be a str, got {type(name).__name__}")
    glued[name] = value
    try:
        from myst_nb import glue as myst_glue
    except ModuleNotFoundError as error:
        if error.name != "myst_nb":
            raise  # myst-nb is there but something it imports is not: pip's report
        return
    myst_glue(name, value, display=display)


def glue_number(name: str, value: Any) -> None:
    """Glue a number for the prose: an integer as it is, anything else as a float rounded
    to 8 significant digits, so that the stored output does not depend on the last bits of
    floating-point arithmetic."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"glue_number({name!r}, value): value must be a real number, got {type(value).__name__}"
        )
    if isinstance(value, numbers.Integral):
        glue(name, int(value))
    else:
        glue(name, float(f"{float(value):.8g}"))


def show(lhs: str, expr: Any) -> None:
    """Display ``lhs = expr``, the right-hand side typeset by SymPy (``sympy.latex``)."""
    sympy = require("sympy", "bplib.book.show")
    from IPython.display import Math, display

    display(Math(lhs + " = " + sympy.latex(expr)))  # type: ignore[no-untyped-call]


def show_source(obj: Any) -> None:
    """Print the source code of a function, method, class or module, as it is in the
    library (a decorated function's own source, when the decorator used functools.wraps)."""
    kinds = (inspect.isfunction, inspect.ismethod, inspect.isclass, inspect.ismodule)
    if not any(is_kind(obj) for is_kind in kinds):
        raise TypeError(
            "show_source: obj must be a function, method, class or module, "
            f"got {type(obj).__name__}"
        )
    print(inspect.getsource(obj))
