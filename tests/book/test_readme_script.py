"""The README's "bplib for your own data" script runs as printed, offline, and what it
saves predicts as the model it saved."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

import bplib

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- own-data-script -->"


def readme_script() -> str:
    text = README.read_text(encoding="utf-8")
    assert text.count(MARKER) == 1, f"README.md must hold the marker {MARKER} once"
    match = re.match(r"\s*```python\n(.*?)\n```", text.split(MARKER, 1)[1], re.DOTALL)
    assert match, f"a ```python block must follow {MARKER} in README.md"
    return match.group(1)


def test_the_readme_script_is_about_thirty_lines():
    code = [line for line in readme_script().splitlines() if line.strip()]
    assert len(code) <= 40


def test_the_readme_script_runs_and_its_saved_model_predicts_as_the_trained_one(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the script writes my_data.csv and model.npz here
    namespace: dict[str, object] = {"__name__": "__main__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_script(), str(README), "exec"), namespace)
    printed = out.getvalue()
    net, model = namespace["net"], namespace["model"]
    assert isinstance(net, bplib.Module) and isinstance(model, bplib.Module)
    assert f"total: {bplib.count_parameters(net):,} parameters" in printed
    X_test = namespace["X_test"]
    saved_scaler = namespace["scaler"]  # the loaded one
    np.testing.assert_array_equal(
        bplib.predict(model, saved_scaler.transform(X_test)),
        bplib.predict(net, saved_scaler.transform(X_test)),
    )
    history = namespace["history"]
    # early stopping restored the best epoch's weights and stopped before the 200 epochs
    assert history.stopped_epoch < 200
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", printed).group(1))
    labels, y_test = namespace["labels"], namespace["y_test"]
    assert accuracy == pytest.approx(np.mean(labels == y_test), abs=5e-4)
    assert accuracy > 0.9  # digits with a 64-32-10 MLP; far above chance (0.1)
