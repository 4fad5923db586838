"""Every "chapter N" in a bplib docstring points at a chapter that mentions the object.

d2l's "Defined in Section 4.2", checked: a docstring that sends the reader to chapter N
is right only if chapter N talks about the thing documented. The chapter numbers come from
the book itself, each chapter listed in ``_toc.yml`` and numbered by its file name
(``chapters/08_vanishing.md`` is chapter 8), so renumbering the chapters changes data
(file names, docstrings), not this test.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import bplib

ROOT = Path(__file__).resolve().parents[2]

# "chapter 8", "Chapter 10", "chapters 8 and 9", "chapters 1, 4 and 5", "chapters 6 to 9"
MENTION = re.compile(r"\b[Cc]hapters?\s+(\d+(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|\s+to\s+)\d+)*)")


def chapters() -> dict[int, Path]:
    """Chapter number -> source, for every chapter of ``_toc.yml`` named ``NN_name``."""
    files = re.findall(r"^\s*(?:-\s*file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text(), re.M)
    numbered = {}
    for f in files:
        path = ROOT / f"{f}.md"
        prefix = re.match(r"(\d+)_", path.name)
        if prefix:
            numbered[int(prefix.group(1))] = path
    return numbered


def numbers(text: str) -> list[int]:
    """The chapter numbers a docstring mentions ("chapters 6 to 9" is 6, 7, 8 and 9)."""
    found: list[int] = []
    for match in MENTION.finditer(text):
        spec = match.group(1)
        for a, b in re.findall(r"(\d+)\s+to\s+(\d+)", spec):
            found += range(int(a), int(b) + 1)
        found += [int(n) for n in re.findall(r"\d+", re.sub(r"\d+\s+to\s+\d+", "", spec))]
    return found


def modules() -> Iterator[ModuleType]:
    yield bplib
    for info in pkgutil.walk_packages(bplib.__path__, "bplib."):
        yield importlib.import_module(info.name)


def documented() -> Iterator[tuple[str, set[str], str]]:
    """(qualified name, names a chapter may use for it, docstring) of every documented object."""
    for module in modules():
        public = {
            name
            for name, obj in vars(module).items()
            if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
        }
        short = module.__name__.rsplit(".", 1)[-1]
        yield module.__name__, {short, module.__name__, *public}, inspect.getdoc(module) or ""
        for name, obj in vars(module).items():
            if (
                name.startswith("_")
                or getattr(obj, "__module__", None) != module.__name__
                or not (inspect.isclass(obj) or inspect.isfunction(obj))
            ):
                continue
            # the object's own docstring: inspect.getdoc would hand a class without one its
            # base class's, and a new Activation subclass would then "name chapter 1"
            own = obj.__doc__ if inspect.isfunction(obj) else vars(obj).get("__doc__")
            yield f"{module.__name__}.{name}", {name}, inspect.cleandoc(own or "")
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    func = member.fget if isinstance(member, property) else member
                    func = getattr(func, "__func__", func)
                    if inspect.isfunction(func) and func.__doc__:
                        yield f"{module.__name__}.{name}.{attr}", {attr, name}, func.__doc__


# an operator's method is mentioned by its symbol: x @ W is Tensor.__matmul__
OPERATORS = {"__matmul__": "@", "__add__": "+", "__mul__": "*", "__sub__": "-", "__pow__": "**"}


def mentions(text: str, names: set[str]) -> bool:
    if any(OPERATORS.get(n, "\0") in text for n in names):
        return True
    return any(re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text) for n in names)


def backlinks() -> list[tuple[str, int, set[str]]]:
    found = {}
    for qualname, names, doc in documented():
        for n in numbers(doc):
            found[qualname, n] = (qualname, n, names)
    return sorted(found.values(), key=lambda t: (t[0], t[1]))


BACKLINKS = backlinks()


def test_the_docstrings_point_at_chapters_at_all():
    # a parser that silently finds nothing would make every test below vacuous
    assert len(BACKLINKS) >= 40
    assert numbers("chapters 1, 4 and 5; chapter 8; chapters 6 to 9") == [1, 4, 5, 8, 6, 7, 8, 9]


@pytest.mark.parametrize(
    ("qualname", "number", "names"),
    BACKLINKS,
    # ids without the set of names: a set's order changes between processes, and the xdist
    # workers must collect the same test ids
    ids=[f"{qualname}-chapter-{number}" for qualname, number, _ in BACKLINKS],
)
def test_a_backlink_points_at_a_chapter_that_mentions_the_object(qualname, number, names):
    book = chapters()
    assert number in book, f"{qualname} names chapter {number}, which the book does not have"
    text = book[number].read_text()
    key = re.fullmatch(r"bplib\.exercises\.ch(\d\d)(\..*)?", qualname)
    if key:  # an answer key is mentioned by the chapter's check cells: check("N.M", ...)
        names = names | {f'check("{int(key.group(1))}.'}
        assert int(key.group(1)) == number, f"{qualname} names chapter {number}"
        assert f'check("{number}.' in text, f"chapter {number} has no check('{number}.M') cell"
        return
    assert mentions(text, names), (
        f"{qualname}'s docstring names chapter {number} ({book[number].name}), which never "
        f"mentions {' or '.join(sorted(names)[:5])}"
    )
