"""The GitHub workflows run what the README promises (actionlint, in .ci/run, checks syntax)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
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


def _actionlint() -> str:
    exe = Path(sys.executable).parent / "actionlint"
    if not exe.exists():
        pytest.skip(
            "actionlint is not installed (.ci/run installs it: "
            "pip install --require-hashes -r .ci/actionlint-requirements.txt)"
        )
    return str(exe)


def test_actionlint_finds_no_problem_in_the_workflows():
    result = subprocess.run(
        [_actionlint(), "-color=false"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # so that the test above cannot pass because actionlint checks nothing: an undefined
    # job in needs, and a step with both uses and run
    broken = load("ci.yml")
    job = next(iter(broken["jobs"].values()))
    job["needs"] = "no-such-job"
    job["steps"][0]["run"] = "echo both"
    path = tmp_path / "ci.yml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [_actionlint(), "-color=false", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "no-such-job" in result.stdout
