"""Time one training step of bplib against PyTorch, a hand-written numpy step and the bare GEMMs.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_step.py            # everything, ~8 minutes
    .venv/bin/python benchmarks/bench_step.py --quick    # fewer rounds, for a smoke run
    .venv/bin/python benchmarks/bench_step.py --config big --dtype float32 --threads 1
    .venv/bin/python benchmarks/bench_step.py --markdown # the last results, as the README's table

A step is: forward, softmax cross-entropy (BCE-with-logits for one output), backward, SGD
update. Four implementations are timed:

- ``bplib``: the library, as a reader uses it (``Sequential``, a loss, ``optim.SGD``).
- ``by hand``: the same step written directly in numpy, with no checks and no classes, the
  gradients written straight into preallocated arrays: what plain numpy costs at best.
- ``GEMM``: the step's matrix products alone (forward ``X W``; backward ``X^T delta`` and,
  except for the first layer, ``delta W^T``): the floor that no implementation beats.
- ``torch``: PyTorch 2.13 (CPU), when it is installed.

The three numpy ones share a process and alternate step by step, so a change in the
machine's speed hits all three alike; their ratios are taken step by step. PyTorch runs in a
process of its own (on 2 cores numpy's and torch's thread pools busy-wait against each
other when mixed in one process), alternating with the numpy process in rounds; bplib/torch
ratios are taken round by round. Every ratio is summarised by its median and inter-quartile
range. Each configuration is measured with 1 and with 2 BLAS / PyTorch threads.

Results: a table on stdout and ``benchmarks/results/step.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CONFIGS: dict[str, dict[str, Any]] = {
    "big": {"sizes": [784, 512, 512, 10], "act": "relu", "batch": 128},
    "mid": {"sizes": [784, 128, 10], "act": "sigmoid", "batch": 32},
    "toy": {"sizes": [2, 16, 16, 1], "act": "tanh", "batch": 64},
}
RESULTS = Path(__file__).resolve().parent / "results" / "step.json"
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
LR = 1e-3


def flops(sizes: list[int], batch: int) -> tuple[float, float]:
    """Multiply-add FLOPs (2 per multiply-add) of the GEMMs of forward and of backward.

    Forward: Z = X W for each layer. Backward: dW = X^T delta for each layer, and
    dX = delta W^T for every layer but the first, whose input needs no gradient.
    """
    layers = list(itertools.pairwise(sizes))
    fwd = sum(2.0 * batch * i * o for i, o in layers)
    bwd = 2 * fwd - 2.0 * batch * layers[0][0] * layers[0][1]
    return fwd, bwd


# ---------------------------------------------------------------- the step, four ways
def _data(cfg: dict[str, Any], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((cfg["batch"], cfg["sizes"][0])).astype(dtype)
    n_out = cfg["sizes"][-1]
    if n_out == 1:
        y = rng.integers(0, 2, (cfg["batch"], 1)).astype(dtype)
    else:
        y = rng.integers(0, n_out, cfg["batch"])
    return X, y


Phases = dict[str, Callable[[], object]]
Arrays = list[tuple[np.ndarray, np.ndarray]]  # (value, gradient) of every parameter, in order


def bplib_step(cfg: dict[str, Any], dtype: str) -> tuple[Phases, Arrays]:
    import bplib
    from bplib.optim import SGD

    acts = {"relu": bplib.ReLU, "sigmoid": bplib.Sigmoid, "tanh": bplib.Tanh}
    layers: list[bplib.Module] = []
    for k, (i, o) in enumerate(itertools.pairwise(cfg["sizes"])):
        layers.append(bplib.Linear(i, o, rng=k, dtype=np.dtype(dtype)))
        if k < len(cfg["sizes"]) - 2:
            layers.append(acts[cfg["act"]]())
    model = bplib.Sequential(*layers)
    loss_fn = bplib.BCEWithLogitsLoss() if cfg["sizes"][-1] == 1 else bplib.CrossEntropyLoss()
    opt = SGD(model.parameters(), lr=LR)
    X, y = _data(cfg, dtype)

    def update() -> None:
        opt.step()
        opt.zero_grad()

    phases: Phases = {
        "forward": lambda: loss_fn(model(X), y),
        # the data needs no gradient: the first layer skips delta W^T
        "backward": lambda: model.backward_to_parameters(loss_fn.backward()),
        "update": update,
    }
    return phases, [(p.data, p.grad) for p in model.parameters()]


def by_hand_step(cfg: dict[str, Any], dtype: str) -> tuple[Phases, Arrays]:
    """The step in plain numpy: no checks, no classes, no temporaries it can avoid."""
    rng = np.random.default_rng(0)
    sizes, act = cfg["sizes"], cfg["act"]
    Ws = [
        (rng.standard_normal((i, o)) / np.sqrt(i)).astype(dtype)
        for i, o in itertools.pairwise(sizes)
    ]
    bs = [np.zeros(o, dtype) for o in sizes[1:]]
    gWs, gbs = [np.zeros_like(W) for W in Ws], [np.zeros_like(b) for b in bs]
    X, y = _data(cfg, dtype)
    n = X.shape[0]
    cache: dict[str, Any] = {}

    def forward() -> None:
        inputs, h = [X], X
        for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            z = h @ W
            z += b
            if k < len(Ws) - 1:
                h = (
                    np.maximum(z, 0)
                    if act == "relu"
                    else np.tanh(z)
                    if act == "tanh"
                    else 1 / (1 + np.exp(-z))
                )
                inputs.append(h)
        if sizes[-1] == 1:  # dL/dz of BCE with logits: (sigmoid(z) - y) / n
            delta = 1 / (1 + np.exp(-z))
            delta -= y
        else:  # dL/dz of softmax cross-entropy: (softmax(z) - onehot(y)) / n
            z -= z.max(axis=1, keepdims=True)
            delta = np.exp(z)
            delta /= delta.sum(axis=1, keepdims=True)
            delta[np.arange(n), y] -= 1
        delta /= n
        cache.update(inputs=inputs, delta=delta)

    def backward() -> None:
        inputs, delta = cache["inputs"], cache["delta"]
        for k in range(len(Ws) - 1, -1, -1):
            np.matmul(inputs[k].T, delta, out=gWs[k])
            np.sum(delta, axis=0, out=gbs[k])
            if k > 0:
                delta = delta @ Ws[k].T
                h = inputs[k]
                delta *= (h > 0) if act == "relu" else (1 - h * h) if act == "tanh" else h * (1 - h)

    def update() -> None:
        for p, g in itertools.chain(zip(Ws, gWs, strict=True), zip(bs, gbs, strict=True)):
            p -= LR * g

    phases: Phases = {"forward": forward, "backward": backward, "update": update}
    arrays: Arrays = []
    for W, gW, b, gb in zip(Ws, gWs, bs, gbs, strict=True):
        arrays += [(W, gW), (b, gb)]  # bplib's order: each layer's weight, then its bias
    return phases, arrays


def gemm_step(cfg: dict[str, Any], dtype: str) -> Phases:
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

    return {"forward": forward, "backward": backward}


def torch_step(cfg: dict[str, Any], dtype: str) -> Phases:
    import torch

    torch.manual_seed(0)
    acts = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}
    layers: list[torch.nn.Module] = []
    for k, (i, o) in enumerate(itertools.pairwise(cfg["sizes"])):
        layers.append(torch.nn.Linear(i, o))
        if k < len(cfg["sizes"]) - 2:
            layers.append(acts[cfg["act"]]())
    model = torch.nn.Sequential(*layers).to(getattr(torch, dtype))
    loss_fn = torch.nn.BCEWithLogitsLoss() if cfg["sizes"][-1] == 1 else torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xn, yn = _data(cfg, dtype)
    X, y = torch.from_numpy(Xn), torch.from_numpy(yn)
    box: dict[str, Any] = {}

    def forward() -> None:
        box["loss"] = loss_fn(model(X), y)

    def update() -> None:
        opt.step()
        opt.zero_grad()

    return {"forward": forward, "backward": lambda: box["loss"].backward(), "update": update}


# ---------------------------------------------------------------- workers (one per process)
def _time(steps: dict[str, Phases], reps: int, warmup: int) -> dict[str, dict[str, list[float]]]:
    """Run the steps in turn, ``reps`` times after ``warmup``; seconds per phase and step."""
    times: dict[str, dict[str, list[float]]] = {
        lib: {name: [] for name in [*phases, "step"]} for lib, phases in steps.items()
    }
    for r in range(warmup + reps):
        for lib, phases in steps.items():
            total = 0.0
            for name, fn in phases.items():
                t0 = time.perf_counter()
                fn()
                dt = time.perf_counter() - t0
                total += dt
                if r >= warmup:
                    times[lib][name].append(dt)
            if r >= warmup:
                times[lib]["step"].append(total)
    return times


def worker(kind: str, cfg: dict[str, Any], dtype: str, threads: int, reps: int) -> dict[str, Any]:
    warmup = max(5, reps // 5)
    if kind == "torch":
        import torch

        torch.set_num_threads(threads)
        return _time({"torch": torch_step(cfg, dtype)}, reps, warmup)
    steps = {
        "bplib": bplib_step(cfg, dtype)[0],
        "by_hand": by_hand_step(cfg, dtype)[0],
        "gemm": gemm_step(cfg, dtype),
    }
    return _time(steps, reps, warmup)


def run_worker(kind: str, config: str, dtype: str, threads: int, reps: int) -> dict[str, Any]:
    """One measurement in a fresh process, with the BLAS thread count set before numpy loads."""
    cmd = [sys.executable, __file__, "--worker", kind, "--config", config, "--dtype", dtype]
    cmd += ["--threads", str(threads), "--reps", str(reps)]
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads))}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- summary
def summarise(values: list[float]) -> dict[str, float]:
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3)}


def measure(
    config: str, dtype: str, threads: int, rounds: int, reps: int, libs: list[str]
) -> dict[str, Any]:
    cfg = CONFIGS[config]
    numpy_rounds, torch_rounds = [], []
    for _ in range(rounds):  # numpy process, torch process, numpy process, ...
        numpy_rounds.append(run_worker("numpy", config, dtype, threads, reps))
        if "torch" in libs:
            torch_rounds.append(run_worker("torch", config, dtype, threads, reps)["torch"])

    def median_ms(runs: list[dict[str, list[float]]]) -> dict[str, dict[str, float]]:
        phases = runs[0].keys()
        return {ph: summarise([1e3 * float(np.median(run[ph])) for run in runs]) for ph in phases}

    def step_ratio(a: str, b: str) -> dict[str, float]:  # step by step, pooled over rounds
        return summarise(
            [
                x / y
                for run in numpy_rounds
                for x, y in zip(run[a]["step"], run[b]["step"], strict=True)
            ]
        )

    fwd, bwd = flops(cfg["sizes"], cfg["batch"])
    entry: dict[str, Any] = {
        "config": config,
        "dtype": dtype,
        "threads": threads,
        "sizes": cfg["sizes"],
        "batch": cfg["batch"],
        "bplib_ms": median_ms([run["bplib"] for run in numpy_rounds]),
        "by_hand_ms": median_ms([run["by_hand"] for run in numpy_rounds]),
        "gemm_ms": median_ms([run["gemm"] for run in numpy_rounds]),
        "bplib_over_gemm": step_ratio("bplib", "gemm"),
        "by_hand_over_gemm": step_ratio("by_hand", "gemm"),
        "bplib_over_by_hand": step_ratio("bplib", "by_hand"),
        "bplib_bwd_over_fwd": summarise(
            [
                float(np.median(run["bplib"]["backward"]) / np.median(run["bplib"]["forward"]))
                for run in numpy_rounds
            ]
        ),
        "flop_bwd_over_fwd": bwd / fwd,
        "gemm_gflops": 1e-9
        * (fwd + bwd)
        / (1e-3 * median_ms([run["gemm"] for run in numpy_rounds])["step"]["median"]),
    }
    if torch_rounds:
        entry["torch_ms"] = median_ms(torch_rounds)
        entry["bplib_over_torch"] = summarise(
            [
                float(np.median(b["bplib"]["step"]) / np.median(t["step"]))
                for b, t in zip(numpy_rounds, torch_rounds, strict=True)
            ]
        )
        entry["torch_bwd_over_fwd"] = summarise(
            [float(np.median(t["backward"]) / np.median(t["forward"])) for t in torch_rounds]
        )
    return entry


# (heading on stdout, heading in the README's table, width on stdout) of each column
COLUMNS = [
    ("config", "network", 6),
    ("dtype", "dtype", 8),
    ("thr", "threads", 3),
    ("bplib ms", "bplib step (ms)", 9),
    ("torch ms", "PyTorch step (ms)", 9),
    ("bplib/torch", "bplib / PyTorch (IQR)", 18),
    ("bplib/hand", "bplib / by hand (IQR)", 18),
    ("bplib/GEMM", "bplib / GEMMs", 11),
    ("hand/GEMM", "by hand / GEMMs", 10),
    ("bwd/fwd", "backward / forward: time", 8),
    ("FLOP b/f", "FLOPs", 9),
    ("torch b/f", "PyTorch time", 9),
]


def cells(e: dict[str, Any]) -> list[str]:
    """One result, formatted column by column ("-" for PyTorch when it was not measured)."""
    torch_ms, ratio, t_bf = "-", "-", "-"
    if "torch_ms" in e:
        r = e["bplib_over_torch"]
        torch_ms = f"{e['torch_ms']['step']['median']:.3f}"
        ratio = f"{r['median']:.2f} ({r['q1']:.2f}-{r['q3']:.2f})"
        t_bf = f"{e['torch_bwd_over_fwd']['median']:.2f}"
    return [
        e["config"],
        e["dtype"],
        str(e["threads"]),
        f"{e['bplib_ms']['step']['median']:.3f}",
        torch_ms,
        ratio,
        "{median:.2f} ({q1:.2f}-{q3:.2f})".format(**e["bplib_over_by_hand"]),
        f"{e['bplib_over_gemm']['median']:.2f}",
        f"{e['by_hand_over_gemm']['median']:.2f}",
        f"{e['bplib_bwd_over_fwd']['median']:.2f}",
        f"{e['flop_bwd_over_fwd']:.2f}",
        t_bf,
    ]


def row(texts: list[str]) -> str:
    """A line of the table on stdout: the first two columns left-aligned, numbers right."""
    return " ".join(
        text.ljust(width) if k < 2 else text.rjust(width)
        for k, (text, (_, _, width)) in enumerate(zip(texts, COLUMNS, strict=True))
    )


def markdown_table(report: dict[str, Any]) -> str:
    """The results as the Markdown table of the README's performance section."""
    lines = [
        "| " + " | ".join(heading for _, heading, _ in COLUMNS) + " |",
        "| --- | --- |" + " ---: |" * (len(COLUMNS) - 2),
    ]
    lines += ["| " + " | ".join(cells(e)) + " |" for e in report["results"].values()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--worker", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--config", choices=CONFIGS, action="append", help="default: all")
    ap.add_argument(
        "--dtype", choices=["float32", "float64"], action="append", help="default: both"
    )
    ap.add_argument("--threads", type=int, action="append", help="BLAS threads; default: 1 and 2")
    ap.add_argument("--reps", type=int, default=None, help="steps per process")
    ap.add_argument("--rounds", type=int, default=7, help="processes per library")
    ap.add_argument("--quick", action="store_true", help="3 rounds")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument(
        "--markdown",
        action="store_true",
        help="print the results in --out as a table; measure nothing",
    )
    args = ap.parse_args(argv)

    if args.markdown:
        print(markdown_table(json.loads(args.out.read_text())))
        return 0

    if args.worker:
        cfg = CONFIGS[args.config[0]]
        print(json.dumps(worker(args.worker, cfg, args.dtype[0], args.threads[0], args.reps)))
        return 0

    libs = ["numpy"]
    if not args.no_torch:
        try:
            import torch  # noqa: F401

            libs.append("torch")
        except ImportError:
            print(
                "PyTorch is not installed: timing the numpy steps only (pip install torch==2.13.0)"
            )
    rounds = 3 if args.quick else args.rounds
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "rounds": rounds,
        "results": {},
    }
    print(row([heading for heading, _, _ in COLUMNS]))
    for config in args.config or list(CONFIGS):
        reps = args.reps or (30 if config == "big" else 200)
        for dtype in args.dtype or ["float32", "float64"]:
            for threads in args.threads or [1, 2]:
                entry = measure(config, dtype, threads, rounds, reps, libs)
                report["results"][f"{config}/{dtype}/{threads}"] = entry
                print(row(cells(entry)), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
