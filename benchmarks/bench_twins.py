"""A/B of each speed trick of ``bplib.fast`` against its plain twin, in a whole training step.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_twins.py           # ~3 minutes
    .venv/bin/python benchmarks/bench_twins.py --quick   # a smoke run

A step is ``bench_step.py``'s (forward, softmax cross-entropy or BCE-with-logits, backward
to the parameters, SGD update) on its networks, with one BLAS thread. The two variants
alternate round by round in one process (the order flips every round), so a change in the
machine's speed hits both alike; the ratio plain/twin is taken round by round and
summarised by its median and inter-quartile range. A twin stays in ``bplib.fast`` only
while some configuration's median ratio is at least 1.05.

Results: a table on stdout and ``benchmarks/results/twins.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_step import CONFIGS

import bplib
import bplib.fast
import bplib.layers

RESULTS = Path(__file__).resolve().parent / "results" / "twins.json"
TWIN = {"add_matmul": bplib.fast.add_matmul, "add_row_sum": bplib.fast.add_row_sum}


def plain_add_matmul(param: Any, a: np.ndarray, b: np.ndarray) -> None:
    param.grad += a @ b  # the line Linear.backward_to_parameters is written with


def plain_add_row_sum(param: Any, delta: np.ndarray) -> None:
    param.grad += delta.sum(axis=0)


PLAIN = {"add_matmul": plain_add_matmul, "add_row_sum": plain_add_row_sum}


def use(variant: dict[str, Any]) -> None:
    for name, f in variant.items():
        setattr(bplib.fast, name, f)


def measure(config: str, dtype: str, rounds: int) -> dict[str, Any]:
    cfg = CONFIGS[config]
    rng = np.random.default_rng(0)
    sizes = cfg["sizes"]
    layers: list[bplib.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [
            bplib.Linear(n_in, n_out, rng=rng, dtype=dtype),
            bplib.layers.ACTIVATIONS[cfg["act"]](),
        ]
    net = bplib.Sequential(*layers[:-1])
    X = rng.standard_normal((cfg["batch"], sizes[0])).astype(dtype)
    if sizes[-1] == 1:
        y = rng.integers(0, 2, (cfg["batch"], 1)).astype(dtype)
        loss: bplib.Loss = bplib.BCEWithLogitsLoss()
    else:
        y = rng.integers(0, sizes[-1], cfg["batch"])
        loss = bplib.CrossEntropyLoss()
    opt = bplib.optim.SGD(net.parameters(), lr=1e-4)

    def step() -> None:
        opt.zero_grad()
        loss(net(X), y)
        net.backward_to_parameters(loss.backward())
        opt.step()

    reps = max(1, int(2e-3 / max(1e-5, _once(step))))  # ~2 ms per timing
    times: dict[str, list[float]] = {"twin": [], "plain": []}
    for r in range(rounds):
        order = [("twin", TWIN), ("plain", PLAIN)]
        for label, variant in order if r % 2 else order[::-1]:
            use(variant)
            step()
            start = time.perf_counter()
            for _ in range(reps):
                step()
            times[label].append((time.perf_counter() - start) / reps)
    use(TWIN)
    ratio = np.array(times["plain"]) / np.array(times["twin"])
    q1, med, q3 = np.percentile(ratio, [25, 50, 75])
    return {
        "twin_ms": float(np.median(times["twin"]) * 1e3),
        "plain_ms": float(np.median(times["plain"]) * 1e3),
        "plain_over_twin": {"median": float(med), "q1": float(q1), "q3": float(q3)},
        "rounds": rounds,
    }


def _once(step: Any) -> float:
    step()
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds, for a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = {}
    for config in CONFIGS:
        for dtype in ("float32", "float64"):
            r = measure(config, dtype, 6 if args.quick else 80)
            results[f"{config}/{dtype}"] = r
            q = r["plain_over_twin"]
            print(
                f"{config:4} {dtype:8} twin {r['twin_ms']:.4f} ms  plain {r['plain_ms']:.4f} ms  "
                f"plain/twin median {q['median']:.3f} IQR [{q['q1']:.3f}, {q['q3']:.3f}]",
                flush=True,
            )
    if not args.quick:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
