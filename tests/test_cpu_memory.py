"""Importing the kit asks TensorFlow for its pooled CPU allocator.

Why (tf.data at 224 px was 2-4x slower with ``malloc`` on processors
without oneDNN) is in `keras_regkit._cpu_memory`; the speed is measured by
``bench/bench_augment_fit.py``, not here.
"""

import helpers
import pytest

from keras_regkit import _cpu_memory

GIB_MB = 1024


def test_asks_for_the_pool_where_nothing_is_set():
    environ = {}
    assert _cpu_memory.ask_for_pooled_allocator(environ, memory_mb=24 * GIB_MB)
    # Under TensorFlow's own 64 GiB limit: the limit is left to TensorFlow.
    assert environ == {"TF_CPU_ALLOCATOR_USE_BFC": "true"}


def test_raises_the_pool_limit_to_the_physical_memory():
    environ = {}
    _cpu_memory.ask_for_pooled_allocator(environ, memory_mb=512 * GIB_MB)
    assert environ["TF_CPU_BFC_MEM_LIMIT_IN_MB"] == str(512 * GIB_MB)


@pytest.mark.parametrize("value", ["false", "0", "true", ""])
def test_a_users_setting_is_kept(value):
    environ = {"TF_CPU_ALLOCATOR_USE_BFC": value}
    assert not _cpu_memory.ask_for_pooled_allocator(environ, memory_mb=1024)
    assert environ == {"TF_CPU_ALLOCATOR_USE_BFC": value}


def test_a_users_pool_limit_is_kept():
    environ = {"TF_CPU_BFC_MEM_LIMIT_IN_MB": "1000"}
    _cpu_memory.ask_for_pooled_allocator(environ, memory_mb=512 * GIB_MB)
    assert environ["TF_CPU_BFC_MEM_LIMIT_IN_MB"] == "1000"


def test_unknown_memory_leaves_malloc(monkeypatch):
    monkeypatch.setattr(_cpu_memory, "physical_memory_mb", lambda: None)
    environ = {}
    assert not _cpu_memory.ask_for_pooled_allocator(environ)
    assert environ == {}


def test_physical_memory_is_measured_here():
    # This machine has at least 1 GiB and less than 64 TiB.
    assert GIB_MB <= _cpu_memory.physical_memory_mb() < (64 << 20)


# The child starts without the variable (this process's import set it),
# then sets it as the user would, or not.
CHILD = """
import os
os.environ.pop("TF_CPU_ALLOCATOR_USE_BFC", None)
{user_setting}
import keras
import keras_regkit
import tensorflow as tf
tf.zeros([8])
try:
    tf.config.experimental.get_memory_info("CPU:0")
    print("pooled")
except ValueError:
    print("malloc")
"""


@pytest.mark.new_process
def test_a_new_process_gets_the_pool_unless_it_says_false():
    # A user's next session: `import keras, keras_regkit`, then work.
    pooled = helpers.run_python(CHILD.format(user_setting=""))
    assert pooled.stdout.split() == ["pooled"]
    keep_malloc = 'os.environ["TF_CPU_ALLOCATOR_USE_BFC"] = "false"'
    kept = helpers.run_python(CHILD.format(user_setting=keep_malloc))
    assert kept.stdout.split() == ["malloc"]
