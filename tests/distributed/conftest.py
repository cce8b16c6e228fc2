"""Two logical CPU devices for the tf.distribute tests.

This folder runs in a pytest process of its own
(``pytest tests/distributed -p no:cacheprovider``): TensorFlow's logical
devices can only be configured before its runtime starts, so the split is
made here, at import, before any test touches a device.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _CPU,
    [tf.config.LogicalDeviceConfiguration()] * 2,
)
DEVICES = ["/cpu:0", "/cpu:1"]


@pytest.fixture(scope="session")
def strategy():
    """A MirroredStrategy over the two logical CPUs."""
    assert len(tf.config.list_logical_devices("CPU")) == 2
    return tf.distribute.MirroredStrategy(DEVICES)
