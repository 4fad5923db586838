"""Re-create ``bplib/data/genesis.txt.gz``: the Book of Genesis, King James Version (1611).

The text is in the public domain. It comes from Debian's packages ``bible-kjv`` (the
``bible`` command, Matthew Vernon's port of Chip Chapin's Bible Retrieval System) and
``bible-kjv-text`` (its data file), version 4.38, whose copyright file says: "The copyright
for the King James Version text of the Bible is expired since the translation was done in
1611". (In the United Kingdom the Crown's letters patent still restrict printing the KJV;
the text itself is out of copyright everywhere else.) Run once, on Debian or Ubuntu::

    apt-get install bible-kjv            # pulls in bible-kjv-text
    .venv/bin/python tools/make_genesis_text.py

The command prints Genesis 1:1-50:26 as a heading per chapter and numbered verses wrapped at
80 columns; this script keeps the words only: one verse per line, its number removed, its
wrapped lines joined, and a blank line between chapters. The gzip header carries no name and
a zero timestamp, so the same input always gives a byte-identical file. It prints the
character count and the SHA-256 checksum of the text that tests/test_data.py checks.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "bplib" / "data" / "genesis.txt.gz"
SPEC = "gen1:1-50:26"
VERSE = re.compile(r"^\s+(\d+) (.*)$")
HEADING = re.compile(r"^Genesis (\d+)$")


def parse(raw: str) -> str:
    """The verses of ``bible``'s output, one per line, chapters separated by a blank line."""
    chapters: list[list[str]] = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        if HEADING.match(line):
            chapters.append([])
        elif match := VERSE.match(line):
            if int(match[1]) != len(chapters[-1]) + 1:
                raise ValueError(f"verse {match[1]} out of order in chapter {len(chapters)}")
            chapters[-1].append(match[2].strip())
        else:  # a wrapped line continues the last verse
            chapters[-1][-1] += " " + line.strip()
    if len(chapters) != 50:
        raise ValueError(f"expected the 50 chapters of Genesis, got {len(chapters)}")
    return "\n\n".join("\n".join(verses) for verses in chapters) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT})")
    args = parser.parse_args(argv)
    raw = subprocess.run(
        ["bible", SPEC], check=True, capture_output=True, text=True, env={"COLUMNS": "80"}
    ).stdout
    text = parse(raw)
    with open(args.out, "wb") as f, gzip.GzipFile("", "wb", 9, f, mtime=0) as gz:
        gz.write(text.encode("ascii"))
    print(f"wrote {args.out}: {len(text)} characters, {len(set(text))} distinct")
    print("sha256 text:", hashlib.sha256(text.encode("ascii")).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
