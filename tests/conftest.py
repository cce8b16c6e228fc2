"""Shared test setup: quiet TensorFlow, a fixed seed per test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import gc  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_collection_finish(session):
    """Freezes what the imports and the collection made out of the collector.

    Keras's ``clear_session()`` after every test runs a full garbage
    collection; over the millions of objects TensorFlow, Keras and the
    collected tests leave alive, that took about 0.45 s per test (more than
    most tests themselves). Frozen objects are never freed, which is what
    happens to them anyway; what each test makes is still collected.
    """
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same global seeds."""
    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield
    # Without Keras's full garbage collection after each test: what the
    # tests leave alive (traced functions, caches) grows through the run,
    # and collecting it all after every test came to cost more than the
    # tests themselves in the run's last third. Python's own collector
    # still frees every cycle, in generations, at a bounded share of the
    # time.
    keras.backend.clear_session(free_memory=False)


# Shared test helpers live in tests/helpers.py; import-mode=importlib does not
# put the tests folder on sys.path by itself.
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
