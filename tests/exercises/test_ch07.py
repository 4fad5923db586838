"""The keys of chapter 7's exercises (bplib.exercises.ch07), called through verdict()."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import bplib
from bplib import data
from bplib.exercises import NOT_YET, ch07, verdict

CHAPTER = Path(__file__).resolve().parents[2] / "chapters" / "07_digits.md"


def accuracy(C):
    return np.trace(C) / C.sum()


def recall(C):
    return np.diag(C) / C.sum(axis=1)


def top_k(logits, y, k):
    top = np.argsort(logits, axis=1)[:, -k:]
    return float(np.mean(np.any(top == y[:, None], axis=1)))


@pytest.fixture(scope="module")
def folded():
    """An (untrained) network, its scaler, and the right answers of exercise 7.2."""
    X, _ = data.load_digits()
    scaler = data.Standardizer().fit(X[:1000])
    g = np.random.default_rng(0)
    model = bplib.Sequential(bplib.Linear(64, 16, rng=g), bplib.ReLU(), bplib.Linear(16, 10, rng=g))
    W, b = model[0].weight.data, model[0].bias.data
    return model, scaler, W / scaler.scale[:, None], b - (scaler.mean / scaler.scale) @ W


def test_exercise_1_right_and_wrong() -> None:
    assert verdict("7.1", accuracy, recall).startswith("Correct")
    said = verdict("7.1", accuracy, lambda C: np.diag(C) / C.sum(axis=0))
    assert said.startswith("Not yet") and "precision" in said
    said = verdict("7.1", lambda C: np.trace(C) / len(C), recall)
    assert said.startswith("Not yet") and "number of classes" in said
    said = verdict("7.1", lambda C: recall(C).mean(), recall)
    assert "balanced" in said
    assert verdict("7.1", lambda C: ..., recall) == NOT_YET
    assert verdict("7.1", 0.9, recall).startswith("Not yet: accuracy_from_confusion should be")
    assert verdict("7.1", accuracy, lambda C: "x").startswith("Not yet")


def test_exercise_2_right_and_wrong(folded) -> None:
    model, scaler, W, b = folded
    given = {"model": model, "scaler": scaler}
    assert verdict("7.2", W, b, **given).startswith("Correct")
    assert "multiplies" in verdict("7.2", W * scaler.scale[:, None] ** 2, b, **given)
    assert "unchanged" in verdict("7.2", W, model[0].bias.data, **given)
    assert "sign" in verdict("7.2", W, 2 * model[0].bias.data - b, **given)
    assert "shape" in verdict("7.2", W[:5], b, **given)
    assert verdict("7.2", "W", b, **given).startswith("Not yet")


def test_exercise_3_right_and_wrong() -> None:
    assert verdict("7.3", top_k).startswith("Correct")

    def smallest(logits, y, k):
        top = np.argsort(logits, axis=1)[:, :k]
        return float(np.mean(np.any(top == y[:, None], axis=1)))

    assert "smallest" in verdict("7.3", smallest)
    assert "count" in verdict("7.3", lambda logits, y, k: len(y) * top_k(logits, y, k))
    assert "too many" in verdict("7.3", lambda logits, y, k: top_k(logits, y, k + 1))
    assert verdict("7.3", lambda logits, y, k: ...) == NOT_YET


def test_exercise_4_right_and_wrong() -> None:
    assert verdict("7.4", 7, 4).startswith("Correct")
    assert verdict("7.4", 7.0, 4).startswith("Correct")
    assert "min_delta" in verdict("7.4", 10, 7)
    assert "from 1" in verdict("7.4", 6, 3)
    for stop, restored in [(7, 7), (11, 4), (8, 4), (7, 5), (7.5, 4)]:
        assert verdict("7.4", stop, restored).startswith("Not yet"), (stop, restored)
    assert verdict("7.4", ..., 4) == NOT_YET


def test_exercise_4_losses_are_the_chapters() -> None:
    found = re.search(r"^VAL_EX = \[(.*)\]$", CHAPTER.read_text(), re.MULTILINE)
    assert found is not None
    assert tuple(float(v) for v in found.group(1).split(",")) == ch07.VAL_EX


def test_no_wrong_verdict_of_exercise_4_names_both_epochs() -> None:
    for stop, restored in [(10, 7), (7, 7), (11, 4), (6, 3), (8, 4), (7, 5), (5, 2)]:
        said = verdict("7.4", stop, restored)
        assert said.startswith("Not yet"), (stop, restored)
        assert not ("7" in said and "4" in said), said
