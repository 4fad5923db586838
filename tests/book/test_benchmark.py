"""The step benchmark (benchmarks/bench_step.py): its hand-written numpy step does the same
work as bplib's, and the script runs end to end."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_step.py"
spec = importlib.util.spec_from_file_location("bench_step", SCRIPT)
assert spec is not None and spec.loader is not None
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize("config", sorted(bench.CONFIGS))
def test_the_hand_written_step_computes_what_bplib_computes(config):
    # The "by hand" column is a floor only if it does the same arithmetic: same gradients,
    # same update, from the same weights.
    cfg = bench.CONFIGS[config]
    lib_phases, lib_arrays = bench.bplib_step(cfg, "float64")
    hand_phases, hand_arrays = bench.by_hand_step(cfg, "float64")
    assert [v.shape for v, _ in lib_arrays] == [v.shape for v, _ in hand_arrays]
    for (lib_value, _), (hand_value, _) in zip(lib_arrays, hand_arrays, strict=True):
        hand_value[...] = lib_value
    for phase in ("forward", "backward"):
        lib_phases[phase]()
        hand_phases[phase]()
    for (_, lib_grad), (_, hand_grad) in zip(lib_arrays, hand_arrays, strict=True):
        assert np.abs(lib_grad).max() > 0
        np.testing.assert_allclose(hand_grad, lib_grad, rtol=1e-10, atol=1e-14)
    lib_phases["update"]()
    hand_phases["update"]()
    for (lib_value, _), (hand_value, _) in zip(lib_arrays, hand_arrays, strict=True):
        np.testing.assert_allclose(hand_value, lib_value, rtol=1e-12, atol=1e-15)


def test_flop_counts_skip_the_first_layers_input_gradient():
    fwd, bwd = bench.flops([784, 512, 512, 10], 128)
    assert fwd == 2 * 128 * (784 * 512 + 512 * 512 + 512 * 10)
    assert bwd == 2 * fwd - 2 * 128 * 784 * 512


def test_the_benchmark_runs_and_writes_its_table(tmp_path, capsys):
    out = tmp_path / "step.json"
    args = ["--config", "toy", "--dtype", "float32", "--threads", "1", "--rounds", "1"]
    assert bench.main([*args, "--reps", "5", "--no-torch", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "bplib/GEMM" in table and "toy" in table
    entry = json.loads(out.read_text())["results"]["toy/float32/1"]
    for key in ("bplib_over_gemm", "by_hand_over_gemm", "bplib_bwd_over_fwd"):
        assert entry[key]["median"] > 0
    assert entry["bplib_ms"]["step"]["median"] > entry["gemm_ms"]["step"]["median"] > 0


def test_the_readme_shows_the_recorded_benchmark_results():
    # The README's table is printed by `bench_step.py --markdown` from the results file,
    # never typed in: re-running the benchmark without updating the README fails here.
    report = json.loads(bench.RESULTS.read_text())
    readme = (SCRIPT.parents[1] / "README.md").read_text()
    assert bench.markdown_table(report) in readme
