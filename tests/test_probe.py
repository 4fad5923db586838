"""Probe every public callable of bplib with bad input (issue 17).

``TABLE`` maps each public callable, named where it is defined (``bplib.optim.SGD``), to a
list of cases: wrong types, dtypes and shapes, NaN and infinity, read-only, non-contiguous
and ``np.matrix`` arrays, bad hyperparameters and misuse of state. A case either expects the
right answer (``ok``: a check of the result) or an exception (``bad``): one of bplib's kinds
(TypeError, ValueError, RuntimeError, FloatingPointError, ZeroDivisionError) whose message
matches a pattern that names the argument and shows what was given, and that contains none
of the phrases numpy (or Python) uses in its own internal errors.

The list of callables is not typed by hand: ``public_callables()`` walks ``bplib.__all__``
and every public submodule's public names, and ``test_every_public_callable_has_a_row``
fails for a callable without a row, so a new function cannot escape the probe.

The cases live in ``tests/probe/``, one module per area of the library, gathered into one
``TABLE`` by ``tests/probe/table.py``.
"""

from __future__ import annotations

import pytest

from .probe.common import Case, run_case
from .probe.table import TABLE, public_callables


def test_every_public_callable_has_a_row() -> None:
    missing = sorted(set(public_callables()) - set(TABLE))
    assert not missing, f"public callables with no row in tests/probe/ (TABLE): {missing}"


def test_every_row_names_a_public_callable() -> None:
    stale = sorted(set(TABLE) - set(public_callables()))
    assert not stale, f"rows for names that are not public callables: {stale}"


CASES = [(name, case) for name, cases in TABLE.items() for case in cases]


@pytest.mark.parametrize(
    ("name", "case"),
    CASES,
    ids=[f"{name.removeprefix('bplib.')}: {case.label}" for name, case in CASES],
)
def test_probe(name: str, case: Case) -> None:
    run_case(name, case)
