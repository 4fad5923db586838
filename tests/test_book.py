"""``bplib.book``, the chapters' plumbing: glue with and without myst-nb, ``show``,
``show_source``."""

from __future__ import annotations

import inspect
import sys
from typing import Any

import numpy as np
import pytest

from bplib import book
from bplib.gradcheck import relative_error


@pytest.fixture
def record(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh ``book.glued``, so a test sees only what it glued."""
    fresh: dict[str, Any] = {}
    monkeypatch.setattr(book, "glued", fresh)
    return fresh


@pytest.fixture
def myst_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, bool]]:
    """What ``myst_nb.glue`` is called with (myst-nb is installed where the book builds)."""
    myst_nb = pytest.importorskip("myst_nb")
    calls: list[tuple[str, Any, bool]] = []
    monkeypatch.setattr(myst_nb, "glue", lambda n, v, display=True: calls.append((n, v, display)))
    return calls


def test_glue_is_myst_nb_glue_without_display(record: dict[str, Any], myst_calls: list) -> None:
    book.glue("answer", "42")
    book.glue("shown", 1.5, display=True)
    assert myst_calls == [("answer", "42", False), ("shown", 1.5, True)]
    assert record == {"answer": "42", "shown": 1.5}


def test_without_myst_nb_glue_only_records(
    record: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now fails
    book.glue("answer", "42")
    book.glue_number("third", 1 / 3)
    assert record == {"answer": "42", "third": 0.33333333}
    assert capsys.readouterr() == ("", "")


def test_glue_number_keeps_integers_and_rounds_the_rest(
    record: dict[str, Any], myst_calls: list
) -> None:
    book.glue_number("count", np.int64(7))
    book.glue_number("ratio", 2 / 3)  # 0.666666666...: 8 significant digits
    book.glue_number("tenth", np.float32(0.1))  # 0.100000001490116...: 0.1 to 8 digits
    book.glue_number("big", 123456789.0)
    assert record == {"count": 7, "ratio": 0.66666667, "tenth": 0.1, "big": 123456790.0}
    assert type(record["count"]) is int and type(record["ratio"]) is float
    assert [c[2] for c in myst_calls] == [False] * 4


@pytest.mark.parametrize("value", ["0.5", True, None, np.array([1.0, 2.0])])
def test_glue_number_refuses_what_is_not_a_number(value: Any, record: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match=r"glue_number\('x', value\): value must be a real number"):
        book.glue_number("x", value)
    assert record == {}


def test_glue_refuses_a_name_that_is_not_a_string(record: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="glue: name must be a str, got int"):
        book.glue(3, 1.0)  # type: ignore[arg-type]
    assert record == {}


def test_show_source_prints_the_library_source(capsys: pytest.CaptureFixture[str]) -> None:
    book.show_source(relative_error)
    assert capsys.readouterr().out == inspect.getsource(relative_error) + "\n"
    book.show_source(book.glue_number)  # a function defined in a module: its own lines
    assert capsys.readouterr().out.startswith("def glue_number(name: str, value: Any)")


@pytest.mark.parametrize("obj", [3, "relative_error", property(lambda self: 0)])
def test_show_source_refuses_what_has_no_source(obj: Any) -> None:
    with pytest.raises(TypeError, match="show_source: obj must be a function, method, class"):
        book.show_source(obj)


def test_show_displays_lhs_equals_the_typeset_expression(monkeypatch: pytest.MonkeyPatch) -> None:
    sp = pytest.importorskip("sympy")
    display = pytest.importorskip("IPython.display")
    shown: list[Any] = []
    monkeypatch.setattr(display, "display", shown.append)
    x = sp.Symbol("x")
    book.show(r"\frac{d}{dx} x^3", sp.diff(x**3, x))
    (math,) = shown
    assert isinstance(math, display.Math)
    assert math.data == r"\frac{d}{dx} x^3 = 3 x^{2}"
