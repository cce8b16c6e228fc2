"""The layers' channels_first tests again, with TensorFlow's oneDNN off.

TensorFlow turns oneDNN on by default on Intel CPUs and off on others
(AMD EPYC); its CPU `Conv2D` kernel runs NCHW (``channels_first``) only
with oneDNN. A subprocess with ``TF_ENABLE_ONEDNN_OPTS=0`` reproduces a
machine without it, so the suite checks on any CPU that no layer of ours
needs oneDNN (issue 12 §0).
"""

import os
import pathlib
import subprocess
import sys

import keras
import pytest

HERE = pathlib.Path(__file__).parent
FLAG = "KERAS_REGKIT_TEST_WITHOUT_ONEDNN"


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="oneDNN is TensorFlow's CPU backend",
)
@pytest.mark.new_process
def test_layer_tests_pass_without_onednn():
    env = {
        **os.environ,
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",
        FLAG: "1",
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-v",
        "-p",
        "no:benchmark",
        "-n",  # one process (xdist stays loaded: pyproject's --dist)
        "0",
        "-m",  # the probe is a new_process test, which addopts leaves out
        "",
        "-k",
        "channels_first or nchw_probe",
        str(HERE),
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    # The probe passed (oneDNN really was off there), our channels_first
    # tests passed and only Keras's own channels_first Conv2D was skipped.
    assert "test_keras_nchw_probe PASSED" in output, output[-4000:]
    assert "channels_first-drop_connect] PASSED" in output, output[-4000:]
    assert "channels_first-keras] SKIPPED" in output, output[-4000:]
    assert output.count("SKIPPED") == 1, output[-4000:]


@pytest.mark.skipif(
    os.environ.get(FLAG) != "1",
    reason="run by test_layer_tests_pass_without_onednn in a subprocess",
)
@pytest.mark.new_process
def test_keras_nchw_probe():
    # Inside the subprocess: oneDNN is off, so Keras's own channels_first
    # Conv2D fails on the CPU. This is Keras's (TensorFlow's) limit, not
    # ours; our layers must pass the channels_first tests regardless.
    import helpers

    assert not helpers.keras_conv2d_runs_channels_first_on_cpu()
