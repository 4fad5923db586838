"""The probe's one table: every area's rows, then the generated battery of its known-good calls.

A new area of the library gets a module in this package (``ROWS`` and ``SPECS``, as the
others) and a place in ``AREAS`` below; ``test_every_public_callable_has_a_row`` fails until
every public callable has its rows.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from . import (
    amp,
    attention,
    autodiff,
    checks,
    data,
    experiments,
    functional,
    init,
    layers,
    losses,
    metrics,
    optim,
    plot,
    symbolic,
    train,
)
from .common import Case, battery

AREAS = (
    amp,
    attention,
    autodiff,
    checks,
    data,
    experiments,
    functional,
    init,
    layers,
    losses,
    metrics,
    optim,
    plot,
    symbolic,
    train,
)  # a new area's module goes here

TABLE: dict[str, list[Case]] = {}
for _area in AREAS:
    for _key, _rows in _area.ROWS.items():
        assert _key not in TABLE, f"{_key} has rows in two areas"
        TABLE[_key] = list(_rows)
for _area in AREAS:
    for _spec in _area.SPECS:
        TABLE[_spec.key] = TABLE[_spec.key] + battery(_spec)


# ------------------------------------------------------------------- the enumeration
def public_callables() -> dict[str, object]:
    """Every public callable of bplib, under the first public name that reaches it:
    ``bplib.__all__`` first (``bplib.Linear``), then each public submodule's ``__all__`` (or
    its public names) in alphabetical order (``bplib.optim.SGD``)."""
    import bplib.symbolic

    modules = [bplib] + [
        importlib.import_module(f"bplib.{m.name}")
        for m in pkgutil.walk_packages(bplib.__path__)
        if not m.name.split(".")[-1].startswith("_")
        and m.name != "book"  # plumbing: tests/test_book.py
    ]
    found: dict[str, object] = {}
    seen: set[int] = set()
    for mod in modules:
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for n in names:
            obj = getattr(mod, n)
            owner = getattr(obj, "__module__", "") or ""
            if inspect.ismodule(obj) or not callable(obj) or not owner.startswith("bplib"):
                continue
            if any(part.startswith("_") for part in owner.split(".")) or id(obj) in seen:
                continue  # bplib._checks: the helpers behind the messages, not API
            seen.add(id(obj))
            found[f"{mod.__name__}.{n}"] = obj
    return found
