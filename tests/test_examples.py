"""Runs every script in examples/ with a tiny epoch budget, so none rots."""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted(
    p
    for p in (pathlib.Path(__file__).parents[1] / "examples").glob("*.py")
    if not p.name.startswith("_")  # shared helpers, not examples
)


@pytest.mark.new_process
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    env = {
        **os.environ,
        "REGKIT_EXAMPLE_EPOCHS": "2",
        "REGKIT_EXAMPLE_OUT": str(tmp_path),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    result = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "an example prints what it did"
