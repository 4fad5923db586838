"""Hypothesis profiles for the property tests.

``.ci/run`` sets ``HYPOTHESIS_PROFILE=ci``: every CI run then draws the same examples
(derandomize), so CI cannot turn red because a new random draw happened to land on a
rare case. Everywhere else each run draws new examples, so the search for such cases goes
on where a failure can be looked at.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
