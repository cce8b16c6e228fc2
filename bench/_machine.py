"""Shared by the benchmarks: what machine they ran on, and timing helpers.

Not a benchmark itself: the scripts import it as a sibling module
(``python bench/<name>.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time

import keras


def cpu_model(fallback: str | None = None) -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one.

    Args:
        fallback: What to return where neither /proc/cpuinfo nor
            ``platform.processor()`` names the CPU (default
            ``"unknown CPU"``).
    """
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or fallback or "unknown CPU"


def _mkl_enabled():
    """TensorFlow's own test of oneDNN (MKL) being on; None if unknown.

    Private TensorFlow API: a benchmark may use it, the package does not.
    """
    try:
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except Exception:  # noqa: BLE001
        return None


def onednn_enabled():
    """Whether oneDNN is on: the TF_ENABLE_ONEDNN_OPTS flag, else TF's test.

    Returns:
        True or False, or ``"unknown"``.
    """
    flag = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    if flag is not None:
        return flag not in ("0", "false", "False")
    enabled = _mkl_enabled()
    return "unknown" if enabled is None else enabled


def onednn_state() -> str:
    """Whether TensorFlow runs oneDNN kernels here, in words."""
    if keras.backend.backend() != "tensorflow":
        return "n/a (not TensorFlow)"
    setting = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset")
    enabled = _mkl_enabled()
    words = "unknown" if enabled is None else ("on" if enabled else "off")
    return f"{words} (TF_ENABLE_ONEDNN_OPTS={setting})"


def cpu_allocator() -> str:
    """TensorFlow's CPU allocator, in words: the pool (BFC) or ``malloc``.

    Only the pool keeps statistics, so `get_memory_info` answers for it
    and raises ValueError for ``malloc``. Importing keras_regkit asks for
    the pool (``TF_CPU_ALLOCATOR_USE_BFC``) unless the variable is set.
    """
    import tensorflow as tf

    from keras_regkit import _cpu_memory

    setting = os.environ.get(_cpu_memory.USE_POOL, "unset")
    try:
        tf.config.experimental.get_memory_info("CPU:0")
        words = "pooled (BFC)"
    except ValueError:
        words = "malloc"
    return f"{words} ({_cpu_memory.USE_POOL}={setting})"


def setup_line() -> str:
    """Versions, CPU, oneDNN and the CPU allocator, in one line."""
    return (
        f"{versions()}: {cpu_model()}; oneDNN: {onednn_enabled()}; "
        f"CPU allocator: {cpu_allocator()}"
    )


def print_header() -> None:
    """Prints the CPU, its logical CPU count, and Keras with its backend."""
    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs visible)")
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}")


def versions() -> str:
    """TensorFlow's and Keras's versions and the CPU count, in one line."""
    import tensorflow as tf

    return (
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"{os.cpu_count()} CPUs"
    )


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def seconds(function, *args) -> float:
    """Wall-clock seconds of one call ``function(*args)``."""
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def time_call(function, repeats: int) -> float:
    """The median wall-clock seconds of ``repeats`` calls of ``function``."""
    return statistics.median(seconds(function) for _ in range(repeats))


def median_ratio(numerators, denominators) -> float:
    """The median of the pairwise ratios ``n / d``."""
    return statistics.median(
        n / d for n, d in zip(numerators, denominators, strict=True)
    )


def print_rates(times, count, reference, name_width, faster_is_higher):
    """Prints each variant's median rate and its median ratio per round.

    Args:
        times: A dict from variant name to its seconds, one per round.
        count: The items each round processes.
        reference: The name of the variant the ratios compare with.
        name_width: The width of the name column.
        faster_is_higher: The ratio is ``reference / variant`` (a faster
            variant scores higher) if True, else ``variant / reference``.
    """
    for name, values in times.items():
        if faster_is_higher:
            ratio = median_ratio(times[reference], values)
            width = 11
        else:
            ratio = median_ratio(values, times[reference])
            width = 9
        rate = count / statistics.median(values)
        print(f"{name:{name_width}s} {rate:10,.0f} {ratio:{width}.2f}x")
