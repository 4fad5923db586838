"""Hypothesis profiles for the property tests.

``.ci/run`` sets ``HYPOTHESIS_PROFILE=ci``: every CI run then draws the same examples
(derandomize), so CI cannot turn red because a new random draw happened to land on a
rare case. Everywhere else each run draws new examples, so the search for such cases goes
on where a failure can be looked at.
"""

from __future__ import annotations

import os
import signal

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def default_sigint():
    """Ctrl-C as a plain Python process has it: pytest-xdist's workers ignore SIGINT, and
    deferred_interrupts (rightly) leaves an ignored signal ignored."""
    if os.name != "posix":
        yield
        return
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
