r"""No docstring of bplib holds a TAB or another control character.

A docstring that is not a raw string turns the backslashes of its LaTeX into escapes:
``:math:`\tanh``` becomes a TAB and ``anh``, ``\beta`` a backspace, ``\frac`` a form
feed, ``\nabla`` a newline; the API page and ``help()`` then show the wrong formula (or
MathJax an error). ruff's rule D301 (in pyproject.toml) asks for a raw string (``r`` before
the quotes) wherever a docstring has a backslash; this test checks what the docstrings
hold, for every module, class, function and method of the package, public or not.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import bplib

# a docstring may hold newlines; every other character below U+0020, and DEL, is an escape gone wrong
ALLOWED = {"\n"}


def modules() -> Iterator[ModuleType]:
    yield bplib
    for info in pkgutil.walk_packages(bplib.__path__, prefix="bplib."):
        yield importlib.import_module(info.name)


def documented(module: ModuleType) -> Iterator[tuple[str, object]]:
    """``(qualified name, object)`` for the module and what it defines (classes' members too)."""
    yield module.__name__, module
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            yield f"{module.__name__}.{name}", obj
            for member_name, member in vars(obj).items():
                target = member.fget if isinstance(member, property) else member
                target = getattr(target, "__func__", target)  # staticmethod, classmethod
                if inspect.isfunction(target) or isinstance(member, property):
                    yield f"{module.__name__}.{name}.{member_name}", target
        elif inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj


def control_characters(text: str) -> list[str]:
    return sorted({repr(c) for c in text if (ord(c) < 32 or ord(c) == 127) and c not in ALLOWED})


def test_no_docstring_holds_a_control_character() -> None:
    bad = {}
    seen = 0
    for module in modules():
        for name, obj in documented(module):
            doc = inspect.getdoc(obj) if not isinstance(obj, ModuleType) else obj.__doc__
            if doc:
                seen += 1
                found = control_characters(doc)
                if found:
                    bad[name] = found
    assert seen > 100  # the walk found the package's docstrings
    assert not bad, f"docstrings with control characters (make them raw strings): {bad}"


def test_tanh_docstring_reads_tanh() -> None:
    r"""The case that was reported: Tanh's ``\tanh`` was a TAB."""
    assert "\t" not in (bplib.Tanh.__doc__ or "")
    assert "\\tanh" in (bplib.Tanh.__doc__ or "")
