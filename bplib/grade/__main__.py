"""``python -m bplib.grade SUBMISSIONS/ --out grades.csv``: see :mod:`bplib.grade`."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from bplib.grade._cli import main

    sys.exit(main())
