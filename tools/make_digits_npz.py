"""Re-create ``bplib/data/digits.npz`` from the copy of the UCI digits inside a scikit-learn wheel.

The book ships the UCI "Optical Recognition of Handwritten Digits" data (Alpaydin & Kaynak,
1998; CC BY 4.0; https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits),
the 1,797 8x8 images that scikit-learn distributes as ``sklearn/datasets/data/digits.csv.gz``.
scikit-learn is not a dependency of bplib: this script only reads that one file out of the
wheel (a zip archive), so run it once with a downloaded wheel::

    .venv/bin/pip download --no-deps scikit-learn -d /tmp/skl
    .venv/bin/python tools/make_digits_npz.py /tmp/skl/scikit_learn-*.whl

Each CSV row holds 64 pixel counts (0-16, row-major 8x8) and then the digit label. The output
holds ``images`` (uint8, shape (1797, 8, 8)) and ``labels`` (uint8, shape (1797,)). The zip
entries get a fixed timestamp, so the same wheel always gives a byte-identical file. The
script prints the class counts and the SHA-256 checksums that tests/test_data.py checks.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

MEMBER = "sklearn/datasets/data/digits.csv.gz"
OUT = Path(__file__).resolve().parent.parent / "bplib" / "data" / "digits.npz"
FIXED_DATE = (1998, 7, 1, 0, 0, 0)  # the data set's date; any constant makes the file stable


def read_csv_from_wheel(wheel: Path) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Return (images (n, 8, 8), labels (n,)) as uint8, checking every value on the way."""
    with zipfile.ZipFile(wheel) as zf:
        raw = gzip.decompress(zf.read(MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 65:
        raise ValueError(f"expected 65 columns (64 pixels + label), got {table.shape[1]}")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16:
        raise ValueError(f"pixels must lie in 0..16, got {pixels.min()}..{pixels.max()}")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"labels must lie in 0..9, got {labels.min()}..{labels.max()}")
    return pixels.reshape(-1, 8, 8).astype(np.uint8), labels.astype(np.uint8)


def write_npz(path: Path, arrays: dict[str, NDArray[Any]]) -> None:
    """Like ``np.savez_compressed``, but with fixed zip timestamps (byte-reproducible)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            zf.writestr(info, buffer.getvalue())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="a scikit-learn wheel (.whl)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT})")
    args = parser.parse_args(argv)
    images, labels = read_csv_from_wheel(args.wheel)
    write_npz(args.out, {"images": images, "labels": labels})
    print(f"wrote {args.out}: images {images.shape} {images.dtype}, labels {labels.shape}")
    print("class counts:", np.bincount(labels, minlength=10).tolist())
    print("sha256 images:", hashlib.sha256(images.tobytes()).hexdigest())
    print("sha256 labels:", hashlib.sha256(labels.tobytes()).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
