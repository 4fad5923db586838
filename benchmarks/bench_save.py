"""The cost of a durable checkpoint: ``bplib.save`` against a plain ``np.savez``, in CPU time.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_save.py           # ~1 minute
    .venv/bin/python benchmarks/bench_save.py --quick   # a smoke run

The state is chapter 7's model (a 64-64-10 ReLU network) and its Adam optimiser after one
step, ``{"model": ..., "optimizer": ...}``. Three ways to write it, alternating save by save
in one process so that a change in the machine's speed hits all alike:

- ``savez``: ``np.savez`` of the flattened arrays straight onto the target, what a save was
  before it became atomic (no checks, no manifest, no temporary file, no flush);
- ``save(fsync=False)``: every key and leaf checked, the manifest, a temporary file renamed
  onto the target (atomic: a killed process never leaves a damaged file);
- ``save()``: the same, and the file and its directory flushed to the disk (``fsync``), so
  that the new file survives a power cut too. The default.

CPU time (``time.process_time``: user and system) per save, median over rounds, and each
variant's ratio to ``savez`` round by round (median and inter-quartile range). A flush is
mostly time spent waiting for the disk, which is not CPU time; the kernel's own work for it
is. Results: a table on stdout and ``benchmarks/results/save.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import bplib
from bplib import optim

RESULTS = Path(__file__).resolve().parent / "results" / "save.json"


def chapter7_state() -> dict[str, Any]:
    """Chapter 7's network (64 inputs, 64 ReLU units, 10 logits) and Adam after one step."""
    net = bplib.Sequential(bplib.Linear(64, 64, rng=0), bplib.ReLU(), bplib.Linear(64, 10, rng=1))
    opt = optim.Adam(net.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 64)), np.arange(32) % 10
    loss = bplib.CrossEntropyLoss()
    opt.zero_grad()
    loss(net(X), y)
    net.backward(loss.backward())
    opt.step()
    return {"model": net.state_dict(), "optimizer": opt.state_dict()}


def flat_arrays(state: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """The state's leaves as arrays under "/"-joined keys (what ``np.savez`` is given)."""
    out: dict[str, np.ndarray] = {}
    for key, value in state.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_arrays(value, name + "/"))
        elif isinstance(value, list | tuple):
            out.update(flat_arrays(dict(enumerate(value)), name + "/"))
        else:
            out[name] = np.asarray(value)
    return out


def variants(state: dict[str, Any], path: str) -> dict[str, Callable[[], None]]:
    def savez() -> None:
        with open(path, "wb") as f:
            np.savez(f, **flat_arrays(state))  # type: ignore[arg-type]

    return {
        "savez": savez,
        "save(fsync=False)": lambda: bplib.save(state, path, fsync=False),
        "save()": lambda: bplib.save(state, path),
    }


def measure(rounds: int, per_round: int) -> dict[str, Any]:
    state = chapter7_state()
    folder = tempfile.mkdtemp(prefix="bench_save_")
    path = os.path.join(folder, "checkpoint.npz")
    runs = variants(state, path)
    for run in runs.values():  # warm up: imports, the file's first creation
        for _ in range(5):
            run()
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names if r % 2 else names[::-1]:
            t0 = time.process_time()
            for _ in range(per_round):
                runs[name]()
            cpu[name].append((time.process_time() - t0) / per_round * 1e3)
    base = np.array(cpu["savez"])
    result: dict[str, Any] = {"state_bytes": os.path.getsize(path), "rounds": rounds}
    for name in names:
        ratio = np.array(cpu[name]) / base
        result[name] = {
            "cpu_ms": float(np.median(cpu[name])),
            "over_savez": {
                "median": float(np.median(ratio)),
                "q1": float(np.quantile(ratio, 0.25)),
                "q3": float(np.quantile(ratio, 0.75)),
            },
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few rounds, for a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rounds, per_round = (4, 5) if args.quick else (40, 50)
    result = measure(rounds, per_round)
    print(f"chapter 7's model and Adam state: {result['state_bytes']} bytes on disk")
    for name in ("savez", "save(fsync=False)", "save()"):
        r = result[name]
        q = r["over_savez"]
        print(
            f"{name:18s} CPU {r['cpu_ms']:.3f} ms per save   / savez: median {q['median']:.2f} "
            f"IQR [{q['q1']:.2f}, {q['q3']:.2f}]"
        )
    if not args.quick:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
