"""The version is written in one place; CHANGELOG.md and CITATION.cff follow it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import bplib

ROOT = Path(__file__).resolve().parents[2]


def test_the_changelogs_newest_entry_is_bplibs_version():
    versions = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert versions and versions[0] == bplib.__version__


def test_citation_cff_cites_bplibs_version_and_the_repository():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == bplib.__version__
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert citation["repository-code"] == config["repository"]["url"]
