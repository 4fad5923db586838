"""bplib.dropout: Dropout (chapter 10)."""

from __future__ import annotations

import numpy as np
import pytest

import bplib

from .helpers import as_matrix


def test_dropout_refuses_a_matrix_in_its_own_words():
    with pytest.raises(TypeError, match=r"Dropout\(p=0.5\): the input must be a plain numpy array"):
        bplib.Dropout(0.5, rng=0)(as_matrix(np.ones((2, 2))))
