"""The built documentation site, shared by the tests of this folder.

These tests need the ``docs`` extra and, for test_site.py, Chromium (the
system's package: ``apt-get install chromium``); they are not part of the
main test command (pyproject's ``norecursedirs``) and run as
``pytest tests/docs`` (.ci/run does, after ``mkdocs build --strict``).

The site is built once per session into ``site/`` (``mkdocs build
--strict``), unless ``REGKIT_DOCS_SITE`` names a folder that holds one
already built.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 600


@pytest.fixture(scope="session")
def site_dir() -> pathlib.Path:
    prebuilt = os.environ.get("REGKIT_DOCS_SITE")
    if prebuilt:
        path = pathlib.Path(prebuilt)
        path = path if path.is_absolute() else ROOT / path
        assert (path / "index.html").is_file(), f"no site built in {path}"
        return path
    path = ROOT / "site"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-6000:]
    return path


@pytest.fixture(scope="session")
def docs_tool():
    """``docs_tool(name)`` imports a module of docs/tools by its path."""

    def load(name):
        path = ROOT / "docs" / "tools" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"docs_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
