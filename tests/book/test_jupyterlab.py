"""JupyterLab, as `make venv` sets it up, opens the chapters' `.md` files as notebooks.

The setting is JupyterLab's own override file, ``{sys.prefix}/share/jupyter/lab/settings/
overrides.json`` (copied there from ``jupyterlab/overrides.json`` by ``make venv`` and by
Binder's ``postBuild``). The test asks jupyterlab_server, the code behind JupyterLab's
settings REST API (``/lab/api/settings/...``), for the settings a browser would receive.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB = Path(sys.prefix) / "share" / "jupyter" / "lab"
DOCMANAGER = "@jupyterlab/docmanager-extension:plugin"

settings_utils = pytest.importorskip("jupyterlab_server.settings_utils")


def lab_settings(plugin: str) -> dict[str, object]:
    """What GET /lab/api/settings/<plugin> returns for a user with no settings of their own.

    JupyterLab applies ``overrides.json`` to the schema's defaults; the browser takes a
    setting from the user's settings when they have it and from those defaults otherwise.
    """
    settings, warnings = settings_utils.get_settings(
        str(LAB / "settings"),
        str(LAB / "schemas"),
        str(Path.home() / "nonexistent-user-settings"),  # no user's own settings
        schema_name=plugin,
        labextensions_path=[str(Path(sys.prefix) / "share" / "jupyter" / "labextensions")],
    )
    assert not [w for w in warnings if w], warnings
    assert settings["settings"] == {}, "the user's own settings should be empty here"
    return {k: v.get("default") for k, v in settings["schema"]["properties"].items()}


def test_the_shipped_override_makes_jupytext_notebook_the_markdown_viewer():
    shipped = json.loads((ROOT / "jupyterlab" / "overrides.json").read_text())
    assert shipped[DOCMANAGER]["defaultViewers"] == {
        "markdown": "Jupytext Notebook",
        "myst": "Jupytext Notebook",
    }


def test_make_venv_installed_the_override_into_this_environment():
    installed = LAB / "settings" / "overrides.json"
    assert installed.exists(), f"{installed} is missing: run make venv"
    assert json.loads(installed.read_text()) == json.loads(
        (ROOT / "jupyterlab" / "overrides.json").read_text()
    )


def test_jupyterlab_serves_jupytext_notebook_as_the_default_viewer_of_markdown():
    viewers = lab_settings(DOCMANAGER)["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"


@pytest.mark.parametrize("extension", ["jupyterlab-jupytext", "jupyterlab-myst"])
def test_the_lab_extensions_that_render_the_chapters_are_installed(extension):
    package = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / extension
    assert (package / "package.json").exists(), f"{extension} is not installed in {sys.prefix}"
