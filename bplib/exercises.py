"""The exercises' check cells: tell a stub from an answer.

Every chapter's exercises come in two editions, generated from the same source
(``tools/make_student.py``). In the book each answer cell holds a solution; in the student
edition each solution is replaced by a stub that binds the answer's names to ``...``
(Python's ``Ellipsis``), or makes a function ``return ...``. A check cell reads each answer
through :func:`answer` and prints its verdict with :func:`check`, so a stub gets
``"Not yet: write your answer in the cell above"`` instead of a crash, or worse a
``"Correct"``.

Used by the exercises of every chapter, from chapter 1 on::

    def check_dX():
        yours = answer(dX)          # a stub stops the check here
        ...
        return "Correct: ..." or "Not yet: ..."

    check(check_dX)
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["NOT_YET", "Unanswered", "answer", "check"]

NOT_YET = "Not yet: write your answer in the cell above"
"""What a check prints while its answer is still the student edition's stub."""


class Unanswered(Exception):
    """Raised by :func:`answer` for a stub; :func:`check` turns it into :data:`NOT_YET`."""


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


def check(verdict: Callable[[], str]) -> None:
    """Print the verdict of a check function, or :data:`NOT_YET` for a stub.

    Parameters
    ----------
    verdict : callable
        A function of no arguments that reads the answers through :func:`answer` and
        returns a message starting with ``"Correct"`` or ``"Not yet"``.
    """
    if not callable(verdict):
        raise TypeError(
            f"check expected a check function of no arguments, got {type(verdict).__name__}"
        )
    try:
        message = verdict()
    except Unanswered:
        message = NOT_YET
    print(message)
