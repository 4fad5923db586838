"""Time one training step of bplib against PyTorch and against the bare numpy GEMMs.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_step.py            # all configurations, ~2-4 minutes
    .venv/bin/python benchmarks/bench_step.py --quick    # fewer rounds, for a smoke run

A step is: forward, softmax cross-entropy (BCE-with-logits for one output), backward, SGD
update. Each library runs in its own process, one process per measurement, alternating
bplib / torch / GEMM-only in rounds: on 2 cores numpy's and torch's thread pools busy-wait
against each other when mixed in one process. Ratios are taken round by round (pairwise),
then summarised by their median and inter-quartile range. Results: a table on stdout and
benchmarks/results/step.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

CONFIGS: dict[str, dict[str, Any]] = {
    "big": {"sizes": [784, 512, 512, 10], "act": "relu", "batch": 128},
    "mid": {"sizes": [784, 128, 10], "act": "sigmoid", "batch": 32},
    "toy": {"sizes": [2, 16, 16, 1], "act": "tanh", "batch": 64},
}
RESULTS = Path(__file__).resolve().parent / "results"


def flops(sizes: list[int], batch: int) -> tuple[float, float]:
    """Multiply-add FLOPs (2 per multiply-add) of the GEMMs of forward and of backward.

    Forward: Z = X W for each layer. Backward: dW = X^T delta for each layer, and
    dX = delta W^T for every layer but the first, whose input needs no gradient.
    """
    layers = list(itertools.pairwise(sizes))
    fwd = sum(2.0 * batch * i * o for i, o in layers)
    bwd = 2 * fwd - 2.0 * batch * layers[0][0] * layers[0][1]
    return fwd, bwd


# ---------------------------------------------------------------- workers (one per process)
def _data(cfg: dict[str, Any], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((cfg["batch"], cfg["sizes"][0])).astype(dtype)
    n_out = cfg["sizes"][-1]
    if n_out == 1:
        y = rng.integers(0, 2, (cfg["batch"], 1)).astype(dtype)
    else:
        y = rng.integers(0, n_out, cfg["batch"])
    return X, y


def _time_phases(phases: list[Any], reps: int, warmup: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name, _ in phases}
    for r in range(warmup + reps):
        for name, fn in phases:
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
            if r >= warmup:
                times[name].append(dt)
    return times


def worker_bplib(cfg: dict[str, Any], dtype: str, reps: int, warmup: int) -> dict[str, Any]:
    import bplib
    from bplib.optim import SGD

    acts = {"relu": bplib.ReLU, "sigmoid": bplib.Sigmoid, "tanh": bplib.Tanh}
    sizes = cfg["sizes"]
    layers: list[bplib.Module] = []
    for k, (i, o) in enumerate(itertools.pairwise(sizes)):
        layers.append(bplib.Linear(i, o, rng=k, dtype=np.dtype(dtype)))
        if k < len(sizes) - 2:
            layers.append(acts[cfg["act"]]())
    model = bplib.Sequential(*layers)
    loss_fn = bplib.BCEWithLogitsLoss() if sizes[-1] == 1 else bplib.CrossEntropyLoss()
    opt = SGD(model.parameters(), lr=1e-3)
    X, y = _data(cfg, dtype)

    def forward() -> None:
        loss_fn(model(X), y)

    def backward() -> None:
        model.backward_to_parameters(loss_fn.backward())  # the data needs no gradient

    def update() -> None:
        opt.step()
        opt.zero_grad()

    return _time_phases(
        [("forward", forward), ("backward", backward), ("update", update)], reps, warmup
    )


def worker_torch(cfg: dict[str, Any], dtype: str, reps: int, warmup: int) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    acts = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}
    sizes = cfg["sizes"]
    layers: list[torch.nn.Module] = []
    for k, (i, o) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(i, o))
        if k < len(sizes) - 2:
            layers.append(acts[cfg["act"]]())
    tdtype = getattr(torch, dtype)
    model = torch.nn.Sequential(*layers).to(tdtype)
    loss_fn = torch.nn.BCEWithLogitsLoss() if sizes[-1] == 1 else torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    Xn, yn = _data(cfg, dtype)
    X, y = torch.from_numpy(Xn), torch.from_numpy(yn)
    box: dict[str, Any] = {}

    def forward() -> None:
        box["loss"] = loss_fn(model(X), y)

    def backward() -> None:
        box["loss"].backward()

    def update() -> None:
        opt.step()
        opt.zero_grad()

    return _time_phases(
        [("forward", forward), ("backward", backward), ("update", update)], reps, warmup
    )


def worker_gemm(cfg: dict[str, Any], dtype: str, reps: int, warmup: int) -> dict[str, Any]:
    """The same matrix products as a step, and nothing else: the BLAS floor."""
    rng = np.random.default_rng(0)
    sizes, batch = cfg["sizes"], cfg["batch"]
    Ws = [rng.standard_normal((i, o)).astype(dtype) for i, o in itertools.pairwise(sizes)]
    Xs = [rng.standard_normal((batch, i)).astype(dtype) for i in sizes[:-1]]
    Ds = [rng.standard_normal((batch, o)).astype(dtype) for o in sizes[1:]]

    def forward() -> None:
        for X, W in zip(Xs, Ws, strict=True):
            X @ W

    def backward() -> None:
        for k, (X, W, D) in enumerate(zip(Xs, Ws, Ds, strict=True)):
            X.T @ D
            if k > 0:
                D @ W.T

    return _time_phases([("forward", forward), ("backward", backward)], reps, warmup)


WORKERS = {"bplib": worker_bplib, "torch": worker_torch, "gemm": worker_gemm}


# ---------------------------------------------------------------- orchestration
def run_worker(lib: str, config: str, dtype: str, reps: int) -> dict[str, float]:
    """Medians (seconds) of each phase, measured in a fresh process."""
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        lib,
        "--config",
        config,
        "--dtype",
        dtype,
        "--reps",
        str(reps),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    times = json.loads(out.stdout.strip().splitlines()[-1])
    medians = {k: float(np.median(v)) for k, v in times.items()}
    medians["step"] = sum(medians.values())
    return medians


def summarise(values: list[float]) -> dict[str, float]:
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3)}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--worker", choices=WORKERS)
    ap.add_argument("--config", choices=CONFIGS, action="append")
    ap.add_argument("--dtype", choices=["float32", "float64"], action="append")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()

    if args.worker:
        cfg = CONFIGS[args.config[0]]
        reps = args.reps or 50
        print(json.dumps(WORKERS[args.worker](cfg, args.dtype[0], reps, warmup=max(5, reps // 5))))
        return 0

    try:
        import torch  # noqa: F401

        libs = ["bplib", "torch", "gemm"]
    except ImportError:
        print(
            "PyTorch is not installed: timing bplib and the GEMMs only (pip install torch==2.13.0)"
        )
        libs = ["bplib", "gemm"]
    rounds = 3 if args.quick else args.rounds
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "processor": platform.processor() or platform.machine(),
            "cpus": __import__("os").cpu_count(),
        },
        "rounds": rounds,
        "results": {},
    }
    print(
        f"{'config':<6} {'dtype':<8} {'bplib ms':>9} {'torch ms':>9} {'bplib/torch':>12} "
        f"{'step/GEMM':>10} {'bwd/fwd':>8} {'FLOP b/f':>9} {'torch b/f':>9}"
    )
    for config in args.config or list(CONFIGS):
        cfg = CONFIGS[config]
        reps = args.reps or (30 if config == "big" else 200)
        for dtype in args.dtype or ["float32", "float64"]:
            per_round: dict[str, list[dict[str, float]]] = {lib: [] for lib in libs}
            for _ in range(rounds):  # A B C A B C ...: pairwise ratios per round
                for lib in libs:
                    per_round[lib].append(run_worker(lib, config, dtype, reps))
            b = per_round["bplib"]
            g = per_round["gemm"]
            entry: dict[str, Any] = {
                "bplib_ms": {k: summarise([r[k] * 1e3 for r in b]) for k in b[0]},
                "gemm_ms": {k: summarise([r[k] * 1e3 for r in g]) for k in g[0]},
                "step_over_gemm": summarise(
                    [x["step"] / y["step"] for x, y in zip(b, g, strict=True)]
                ),
                "bplib_bwd_over_fwd": summarise([x["backward"] / x["forward"] for x in b]),
                "flop_bwd_over_fwd": flops(cfg["sizes"], cfg["batch"])[1]
                / flops(cfg["sizes"], cfg["batch"])[0],
            }
            line_torch = f"{'-':>9} {'-':>12}"
            t_bf = "-"
            if "torch" in per_round:
                t = per_round["torch"]
                entry["torch_ms"] = {k: summarise([r[k] * 1e3 for r in t]) for k in t[0]}
                entry["bplib_over_torch"] = summarise(
                    [x["step"] / y["step"] for x, y in zip(b, t, strict=True)]
                )
                entry["torch_bwd_over_fwd"] = summarise([x["backward"] / x["forward"] for x in t])
                line_torch = (
                    f"{entry['torch_ms']['step']['median']:9.3f} "
                    f"{entry['bplib_over_torch']['median']:7.2f} "
                    f"[{entry['bplib_over_torch']['q1']:.2f}-{entry['bplib_over_torch']['q3']:.2f}]"
                )
                t_bf = f"{entry['torch_bwd_over_fwd']['median']:.2f}"
            report["results"][f"{config}/{dtype}"] = entry
            print(
                f"{config:<6} {dtype:<8} {entry['bplib_ms']['step']['median']:9.3f} {line_torch} "
                f"{entry['step_over_gemm']['median']:10.2f} {entry['bplib_bwd_over_fwd']['median']:8.2f} "
                f"{entry['flop_bwd_over_fwd']:9.2f} {t_bf:>9}",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "step.json").write_text(json.dumps(report, indent=2))
    print(f"written: {RESULTS / 'step.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
