"""How much longer ``import bplib`` takes than ``import numpy`` alone.

Usage: ``.venv/bin/python benchmarks/bench_import.py [repetitions]``. Each import runs in a
fresh interpreter, alternating numpy / bplib, and the medians of the wall times are
compared (``import bplib`` imports numpy itself, so the difference is bplib's own cost).
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main() -> int:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    # an installed package has its bytecode compiled; make sure the checkout has too
    # (PYTHONDONTWRITEBYTECODE would otherwise make every run recompile the sources)
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "bplib", quiet=1)
    numpy_times, bplib_times = [], []
    for _ in range(reps):
        numpy_times.append(wall("import numpy"))
        bplib_times.append(wall("import bplib"))
    n, b = statistics.median(numpy_times), statistics.median(bplib_times)
    print(
        f"import numpy: {n * 1e3:.1f} ms   import bplib: {b * 1e3:.1f} ms   "
        f"bplib's own cost: {(b - n) * 1e3:.1f} ms (medians of {reps})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
