"""Every fenced ``python`` block of the site's Markdown pages runs.

The blocks of one page run in order as one script, in a fresh Python
process (as a reader pastes them one after the other). A block whose first
line is ``# KERAS_BACKEND=jax`` (or another backend) runs alone in a
process of its own with that backend, and is skipped when the backend's
package is not installed. Blocks in other languages (``bash``, ``text``)
are not run.
"""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)
BACKEND = re.compile(r"^# KERAS_BACKEND=(?P<backend>\w+)")
TIMEOUT_S = 300


def python_blocks(text: str) -> list[str]:
    """The fenced ``python`` blocks of a Markdown text, dedented.

    Example:
    >>> python_blocks("a\\n```python\\nx = 1\\n```\\n```bash\\nls\\n```\\n")
    ['x = 1\\n']
    """
    blocks = []
    for match in FENCE.finditer(text):
        if match.group("lang") not in ("python", "py"):
            continue
        indent = len(match.group("indent"))
        lines = match.group("body").splitlines(keepends=True)
        blocks.append("".join(line[indent:] for line in lines))
    return blocks


def scripts(text: str) -> list[tuple[str | None, str]]:
    """A page's scripts: ``(backend or None, source)``, in order.

    Blocks without a backend line are joined into one script (first); each
    block with one is a script of its own.

    Example:
    >>> page = "```python\\na = 1\\n```\\n```python\\nb = a\\n```\\n"
    >>> scripts(page)
    [(None, 'a = 1\\n\\nb = a\\n')]
    """
    plain, apart = [], []
    for block in python_blocks(text):
        match = BACKEND.match(block)
        if match:
            apart.append((match.group("backend"), block))
        else:
            plain.append(block)
    out = [(None, "\n".join(plain))] if plain else []
    return out + apart


def pages() -> list[pathlib.Path]:
    """The Markdown pages of docs/ that have python blocks."""
    return sorted(
        path
        for path in DOCS.rglob("*.md")
        if python_blocks(path.read_text(encoding="utf-8"))
    )


CASES = [
    pytest.param(path, backend, source, id=f"{path.stem}-{backend or 'tf'}")
    for path in pages()
    for backend, source in scripts(path.read_text(encoding="utf-8"))
]


def test_the_guides_have_code():
    names = {case.values[0].name for case in CASES}
    assert {
        "choosing-a-regularizer.md",
        "custom-stopping-rule.md",
        "migrating.md",
        "overfitting.md",
        "scaling-out.md",
    } <= names, names


@pytest.mark.parametrize(("path", "backend", "source"), CASES)
def test_page_code_runs(path, backend, source, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if backend is not None:
        # A page written for another backend runs where that backend's
        # distribution is installed.
        try:
            importlib.metadata.distribution(backend)
        except importlib.metadata.PackageNotFoundError:
            pytest.skip(f"{backend} is not installed")
        env["KERAS_BACKEND"] = backend
    script = tmp_path / f"{path.stem}.py"
    script.write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"{path.relative_to(ROOT)} ({backend or 'tensorflow'}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    )
