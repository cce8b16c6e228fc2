"""Shared test setup: quiet TensorFlow, a fixed seed per test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same global seeds."""
    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield
    keras.backend.clear_session()


# Shared test helpers live in tests/helpers.py; import-mode=importlib does not
# put the tests folder on sys.path by itself.
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
