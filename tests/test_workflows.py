"""The GitHub workflows run what the README promises (actionlint, in .ci/run, checks syntax)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_ci_runs_the_readme_test_command_on_every_supported_python():
    jobs = load("ci.yml")["jobs"]
    pinned = jobs["make-test"]["strategy"]["matrix"]["python-version"]
    assert "make test" in runs(jobs["make-test"])
    assert jobs["library-py310"]["steps"][1]["with"]["python-version"] == "3.10"
    assert sorted(["3.10", *pinned]) == ["3.10", "3.11", "3.12", "3.13"]


def test_ci_runs_the_ci_script():
    assert ".ci/run" in runs(load("ci.yml")["jobs"]["ci-run"])


def test_the_book_workflow_builds_with_make_and_deploys_the_html_to_pages():
    jobs = load("book.yml")["jobs"]
    assert "make book" in runs(jobs["build"])
    upload = [s for s in jobs["build"]["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert any("deploy-pages" in s.get("uses", "") for s in jobs["deploy"]["steps"])
