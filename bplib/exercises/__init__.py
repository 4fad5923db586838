"""The exercises' checks: answer keys the notebooks do not show.

Every chapter's exercises come in editions generated from the same source
(``tools/make_editions.py``). In the book each answer cell holds a solution; in the student
edition each solution is replaced by a stub that binds the answer's names to ``...``
(Python's ``Ellipsis``), or makes a function ``return ...``.

A check cell is one line that names the exercise and passes the answers::

    check("3.1", my_dE_dw4)

The reference answer and the diagnosis of wrong answers live here, in one module per
chapter (``bplib.exercises.ch03`` holds the keys of chapter 3, ``ex1`` the key of exercise
3.1, ``bplib.exercises.appendix`` those of the appendix, exercise ``"A.1"``), so nothing a
student sees before solving contains the answer or the formula for it. A key returns a
verdict that starts with ``"Correct"`` or ``"Not yet"``; a wrong answer gets a diagnosis of
the mistake, never the expected value in a form that can be copied back. The keys are
plain Python in the installed package, so a student who reads bplib's source can find
them: the editions keep answers out of view, they do not lock them away.

:func:`check` prints the verdict; :func:`verdict` returns it (the grader,
``python -m bplib.grade``, calls it). A stub gets :data:`NOT_YET`; an answer of the wrong
kind (a string where a number is expected, an array of the wrong shape) gets "Not yet: ..."
from the key, never a traceback.

For exercises of your own, :func:`check` also takes a function of no arguments that reads
the answers through :func:`answer` and returns the verdict::

    check(lambda: "Correct" if answer(x) == 42 else "Not yet: try again")
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "NOT_YET",
    "NotYet",
    "Unanswered",
    "answer",
    "array",
    "check",
    "close",
    "expression",
    "number",
    "same_function",
    "verdict",
]

NOT_YET = "Not yet: write your answer in the cell above"
"""What a check prints while its answer is still the student edition's stub."""

_EXERCISE = re.compile(r"^(?P<chapter>\d{1,2}|A)\.(?P<number>\d{1,2})$")


class Unanswered(Exception):
    """Raised by :func:`answer` for a stub; :func:`check` turns it into :data:`NOT_YET`."""


class NotYet(ValueError):
    """Raised inside a key to reject an answer; :func:`verdict` returns ``"Not yet: " + msg``.

    The helpers :func:`number` and :func:`array` raise it for an answer of the wrong kind,
    so a key can convert its answers first and diagnose the mistake after.
    """


def answer(value: object) -> object:
    """Return ``value``, or raise :class:`Unanswered` if it is the stub ``...``.

    Parameters
    ----------
    value : object
        An answer as the exercise stores it: a number, an array, an expression, a class,
        or what an answer function returned.

    Returns
    -------
    object
        ``value`` itself.

    Raises
    ------
    Unanswered
        If ``value`` is ``...`` (``Ellipsis``), the student edition's stub.
    """
    if value is Ellipsis:
        raise Unanswered(NOT_YET)
    return value


def number(value: object, name: str) -> float:
    """``value`` as a finite Python float, or :class:`NotYet` saying what it is instead.

    Accepts Python and numpy numbers, 0-d and one-element arrays, and SymPy numbers.
    """
    answer(value)
    if isinstance(value, bool | str | bytes) or value is None:
        raise NotYet(f"{name} should be a number, not {type(value).__name__} {value!r:.40}")
    try:
        values = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise NotYet(f"{name} should be a single number, not {type(value).__name__}") from None
    if values.size != 1:
        raise NotYet(f"{name} should be a single number, not an array of shape {values.shape}")
    result = float(values.reshape(-1)[0])
    if not math.isfinite(result):
        raise NotYet(f"{name} is {result}, not a finite number")
    return result


def array(value: object, name: str, shape: Sequence[int] | None = None) -> np.ndarray:
    """``value`` as a float64 array of ``shape``, or :class:`NotYet` saying what is wrong.

    The message names the shape given and the shape expected (a shape is not an answer).
    """
    answer(value)
    try:
        result = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NotYet(f"{name} should be an array of numbers, not {type(value).__name__}") from None
    if shape is not None and result.shape != tuple(shape):
        if result.shape == tuple(shape)[::-1] and len(shape) == 2:
            raise NotYet(f"{name} has shape {result.shape}: transposed?")
        raise NotYet(f"{name} has shape {result.shape}, expected {tuple(shape)}")
    if not np.all(np.isfinite(result)):
        raise NotYet(f"{name} holds NaN or infinite entries")
    return result


def close(yours: Any, expected: Any, rtol: float = 1e-9, atol: float = 0.0) -> bool:
    """Whether two numbers or same-shape arrays agree to ``rtol`` (and ``atol``)."""
    a, b = np.asarray(yours, dtype=float), np.asarray(expected, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _key(exercise: str) -> Callable[..., str]:
    match = _EXERCISE.match(exercise) if isinstance(exercise, str) else None
    if match is None:
        raise ValueError(
            f"exercise should be a string like '3.1' (chapter 3, exercise 1) or 'A.1' "
            f"(the appendix), got {exercise!r}"
        )
    chapter = match["chapter"]
    module_name = "appendix" if chapter == "A" else f"ch{int(chapter):02d}"
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError:
        raise ValueError(f"no exercises for chapter {chapter}: no key {exercise!r}") from None
    key = getattr(module, f"ex{int(match['number'])}", None)
    if not callable(key):
        raise ValueError(f"chapter {chapter} has no exercise {exercise!r}")
    return key


def verdict(exercise: str | Callable[[], str], *answers: object, **given: object) -> str:
    """The verdict on ``answers`` to ``exercise``: ``"Correct..."`` or ``"Not yet: ..."``.

    Parameters
    ----------
    exercise : str or callable
        The exercise's name, ``"chapter.number"`` (``"3.1"``; ``"A.1"`` for the appendix),
        or a check function of no arguments (an exercise of your own).
    *answers
        The answers, in the order the exercise asks for them. A stub (``...``) gets
        :data:`NOT_YET`.
    **given
        What the key needs from the notebook besides the answers (a model the chapter
        trained, say); the key's docstring names them.

    Returns
    -------
    str
        The verdict. An answer of the wrong kind gets "Not yet: ..." naming what was
        expected; it never raises for a student's answer.
    """
    if callable(exercise):
        if answers or given:
            raise TypeError("check(function) takes no answers: the function reads them")
        try:
            return str(exercise())
        except Unanswered:
            return NOT_YET
    key = _key(exercise)
    if any(a is Ellipsis for a in answers):
        return NOT_YET
    try:
        return str(key(*answers, **given))
    except Unanswered:
        return NOT_YET
    except NotYet as err:
        return f"Not yet: {err}"
    except Exception as err:  # a student's answer of the wrong kind, deep inside a key
        return f"Not yet: your answer could not be checked ({type(err).__name__}: {err})"


def check(exercise: str | Callable[[], str], *answers: object, **given: object) -> None:
    """Print the verdict on ``answers`` to ``exercise`` (see :func:`verdict`).

    Parameters
    ----------
    exercise : str or callable
        ``"3.1"`` for chapter 3's first exercise (``"A.1"`` in the appendix), or a check
        function of no arguments that reads the answers through :func:`answer` and returns
        a message starting with ``"Correct"`` or ``"Not yet"``.
    *answers, **given
        As for :func:`verdict`.
    """
    if not (callable(exercise) or isinstance(exercise, str)):
        raise TypeError(
            "check expected an exercise name like '3.1' or a check function of no "
            f"arguments, got {type(exercise).__name__}"
        )
    print(verdict(exercise, *answers, **given))


def expression(value: object) -> Any:
    """``value`` as a SymPy expression, or :class:`NotYet` saying what it is instead.

    A Python number becomes a SymPy number; a stub raises :class:`Unanswered`.
    """
    import sympy as sp

    try:
        result = sp.sympify(answer(value))
    except (sp.SympifyError, TypeError, ValueError):
        raise NotYet(f"expected a SymPy expression, got {type(value).__name__}") from None
    if not isinstance(result, sp.Expr):
        raise NotYet(f"expected a SymPy expression, got {type(value).__name__}")
    return result


def same_function(yours: Any, truth: Any, points: Sequence[dict[Any, float]]) -> bool:
    """Whether two SymPy expressions agree at every point of ``points`` (to 1e-9 relative).

    Equivalent forms that ``sympy.simplify`` cannot prove equal (``sech``, ``1/cosh**2``
    and ``1 - tanh**2``; the sigmoid as SymPy prints it) agree at every point, and a wrong
    expression disagrees at almost every point; so the keys compare at several points
    chosen by the chapter. An expression with a symbol the points do not give a value to
    raises :class:`NotYet` naming it.
    """
    import sympy as sp

    yours = expression(yours)
    for point in points:
        extra = yours.free_symbols - set(point)
        if extra:
            names = ", ".join(sorted(str(s) for s in extra))
            raise NotYet(f"your expression has symbols the exercise does not use: {names}")
        a = complex(yours.evalf(30, subs=point))
        b = complex(sp.sympify(truth).evalf(30, subs=point))
        if not (math.isfinite(abs(a)) and abs(a - b) <= 1e-9 * max(1.0, abs(b))):
            return False
    return True
