"""Run the test suite under perturbed floating point: the numerics-perturbation check.

A stored output of a chapter is a claim that every reader's machine reproduces it. A reader's
numpy may take other SIMD code paths than ours (no AVX-512, or only the SSE baseline), their
OpenBLAS may pick another kernel, and in JupyterLab they run with more than one BLAS thread.
Each of these changes the last bits of a sum, and a training run amplifies last bits. This
script runs the tests (strict nbval of every chapter, and the unit tests) once per *profile*,
a set of environment variables that forces such a machine on this one, and prints a table.

Usage::

    python tools/portability.py                      # every profile: chapters and unit tests
    python tools/portability.py --profiles P1 P2     # some profiles
    python tools/portability.py --chapters-only      # strict nbval of the chapters only
    python tools/portability.py --unit-profiles P1   # unit tests only under these (CI)
    python tools/portability.py chapters/07_digits.ipynb   # some targets, every profile

Each profile is checked, not assumed: before its tests run, a child process with the same
environment reports the SIMD extensions numpy really uses and the OpenBLAS kernel and thread
count (threadpoolctl), and the script fails if the profile did not take effect. On a machine
without AVX-512 numpy accepts the AVX-512 names of the disable list as they are.

Exit status 0 when every run passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
SSE_ONLY = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"


@dataclass(frozen=True)
class Profile:
    name: str
    what: str
    env: dict[str, str]
    threads: int = 1
    # what the probe must see for the profile to count as applied
    expect_kernel: str | None = None
    expect_missing_simd: tuple[str, ...] = ()
    workers: int = 2  # pytest-xdist workers: workers x BLAS threads <= cores
    extra: dict[str, str] = field(default_factory=dict)


PROFILES = [
    Profile("P0", "native (as make test runs)", {}),
    Profile(
        "P1",
        "numpy without AVX-512, OpenBLAS Haswell (AVX2) kernel",
        {"NPY_DISABLE_CPU_FEATURES": NO_AVX512, "OPENBLAS_CORETYPE": "Haswell"},
        expect_kernel="Haswell",
        expect_missing_simd=("X86_V4",),
    ),
    Profile(
        "P2",
        "numpy at its SSE4.2 baseline, OpenBLAS SSE kernel",
        {"NPY_DISABLE_CPU_FEATURES": SSE_ONLY, "OPENBLAS_CORETYPE": "Prescott"},
        # OpenBLAS builds without the Prescott kernel fall back to Katmai, also SSE-only
        expect_kernel="Prescott|Katmai",
        expect_missing_simd=("X86_V3", "X86_V4"),
    ),
    Profile("P3", "2 BLAS threads (JupyterLab on a laptop)", {}, threads=2, workers=1),
]
BY_NAME = {p.name: p for p in PROFILES}

# The unit tests whose results can depend on floating point; left out: the checks of the
# built site (test_browser), of the wheel (packaging) and of the student edition's
# generation (test_student: it runs the chapters, which each profile runs anyway).
UNIT_TESTS = [
    "tests",
    "--ignore=tests/book/test_browser.py",
    "--ignore=tests/book/test_student.py",
    "-m",
    "not packaging",
]

PROBE = r"""
import json, numpy
from numpy._core._multiarray_umath import __cpu_features__ as cpu
from threadpoolctl import threadpool_info
blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
groups = ["X86_V2", "X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"]
print(json.dumps({
    "numpy": numpy.__version__,
    "simd": [g for g in groups if cpu.get(g)],
    "blas": [(b.get("internal_api"), b.get("architecture"), b.get("num_threads")) for b in blas],
}))
"""


def profile_env(profile: Profile) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE"):
        env.pop(var, None)
    n = str(profile.threads)
    env.update(OPENBLAS_NUM_THREADS=n, OMP_NUM_THREADS=n, MKL_NUM_THREADS=n)
    env.update(profile.env)
    env.update(profile.extra)
    return env


def probe(profile: Profile) -> tuple[dict[str, object], list[str]]:
    """What numpy and OpenBLAS really use under ``profile``, and what is wrong with it."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=profile_env(profile),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seen: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    problems = []
    simd = seen["simd"]
    assert isinstance(simd, list)
    for group in profile.expect_missing_simd:
        if group in simd:
            problems.append(f"numpy still uses {group}")
    blas = seen["blas"]
    assert isinstance(blas, list)
    if not blas:
        problems.append("threadpoolctl sees no BLAS library")
    else:
        _api, kernel, threads = blas[0]
        if profile.expect_kernel and kernel not in profile.expect_kernel.split("|"):
            problems.append(f"OpenBLAS kernel is {kernel}, not {profile.expect_kernel}")
        if threads != profile.threads:
            problems.append(f"BLAS uses {threads} threads, not {profile.threads}")
    return seen, problems


def run_pytest(profile: Profile, targets: list[str], log: Path) -> dict[str, int]:
    """Run pytest on ``targets`` under ``profile``; return the outcome counts."""
    xml = log.with_suffix(".xml")
    cmd = [sys.executable, "-m", "pytest", "-q", f"--junitxml={xml}", *targets]
    if profile.workers > 1:
        cmd += ["-n", str(profile.workers), "--dist", "loadfile"]
    else:
        cmd += ["-p", "no:xdist"]
    with log.open("w") as f:
        rc = subprocess.run(cmd, env=profile_env(profile), cwd=ROOT, stdout=f, stderr=f).returncode
    counts = {"passed": 0, "failed": 0, "skipped": 0, "rc": rc}
    if xml.exists():
        for case in ET.parse(xml).getroot().iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                counts["failed"] += 1
            elif case.find("skipped") is not None:
                counts["skipped"] += 1
            else:
                counts["passed"] += 1
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="pytest targets (default: chapters and tests)")
    parser.add_argument("--profiles", nargs="+", default=[p.name for p in PROFILES])
    parser.add_argument(
        "--unit-profiles",
        nargs="+",
        default=None,
        help="run the unit tests (tests/) only under these profiles (default: all chosen)",
    )
    parser.add_argument("--chapters-only", action="store_true")
    parser.add_argument("--logs", type=Path, default=ROOT / "test-artifacts" / "portability")
    args = parser.parse_args(argv)
    unknown = [p for p in args.profiles + (args.unit_profiles or []) if p not in BY_NAME]
    if unknown:
        parser.error(f"unknown profiles {unknown}; known: {list(BY_NAME)}")
    args.logs.mkdir(parents=True, exist_ok=True)

    rows = []
    ok = True
    for name in args.profiles:
        profile = BY_NAME[name]
        seen, problems = probe(profile)
        blas = seen["blas"][0] if seen["blas"] else ("?", "?", "?")  # type: ignore[index]
        simd = "+".join(seen["simd"])  # type: ignore[arg-type]
        print(f"\n=== {name}: {profile.what}")
        print(
            f"    numpy {seen['numpy']} SIMD {simd}; BLAS {blas[0]} {blas[1]}, {blas[2]} thread(s)"
        )
        if problems:
            print(f"    PROFILE NOT APPLIED: {'; '.join(problems)}")
            ok = False
            rows.append((name, simd, f"{blas[1]} x{blas[2]}", "-", "profile not applied"))
            continue
        if args.targets:
            groups = {"targets": args.targets}
        else:
            groups = {"chapters": ["chapters"]}
            units = args.unit_profiles if args.unit_profiles is not None else args.profiles
            if not args.chapters_only and name in units:
                groups["unit tests"] = UNIT_TESTS
        for label, targets in groups.items():
            start = time.perf_counter()
            log = args.logs / f"{name}-{label.replace(' ', '_')}.log"
            counts = run_pytest(profile, targets, log)
            seconds = time.perf_counter() - start
            passed = counts["rc"] == 0
            ok &= passed
            result = (
                f"{counts['passed']} passed, {counts['failed']} failed, "
                f"{counts['skipped']} skipped ({seconds:.0f} s)"
            )
            print(f"    {label:<10} {'PASS' if passed else 'FAIL'}  {result}  log: {log}")
            rows.append(
                (
                    name,
                    simd,
                    f"{blas[1]} x{blas[2]}",
                    label,
                    ("PASS " if passed else "FAIL ") + result,
                )
            )

    print("\n| profile | numpy SIMD in use | OpenBLAS kernel x threads | tests | result |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nportability:", "every profile passed" if ok else "FAILED (see the logs above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
