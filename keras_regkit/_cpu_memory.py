"""TensorFlow's pooled CPU allocator, asked for before TensorFlow starts.

Without oneDNN (the default on AMD processors and on Intel ones without
AVX-512), TensorFlow allocates every CPU tensor with ``malloc``. A batch of
64 images of 224 x 224 x 3 in float32 is 38.5 MB, above glibc's largest
``mmap`` threshold (32 MB), so every such tensor is a fresh ``mmap``: the
kernel zeroes and maps 9,400 pages for it and unmaps them when it is freed.
On a 2-core AMD EPYC that page work was most of the time of a tf.data
pipeline at 224 px: with the pool, cast + ``tf.image.resize`` of a batch
took 27.5 ms instead of 114, and the ImageNet policy through ``fit`` ran
at 942 images/s instead of 471 (one process per setting; see
docs/benchmarks.md). TensorFlow's BFC allocator keeps the pages it has
mapped and hands them out again; it is what TensorFlow already uses for
large tensors when oneDNN is on (its oneDNN allocator is a BFC pool).

TensorFlow reads the choice, ``TF_CPU_ALLOCATOR_USE_BFC``, once: when it
creates its CPU device, at the first operation. Importing the kit sets it,
if the user has not, so it applies when ``keras_regkit`` (or any of its
subpackages) is imported before TensorFlow runs anything; importing
``keras`` or ``tensorflow`` first does not matter. The pool's limit
(``TF_CPU_BFC_MEM_LIMIT_IN_MB``, 64 GiB by TensorFlow's default) is raised
to the machine's physical memory, so the pool never refuses what
``malloc`` would have given. Set ``TF_CPU_ALLOCATOR_USE_BFC=false`` before
the import to keep ``malloc``; the check is
``tf.config.experimental.get_memory_info("CPU:0")``, which answers only
for the pool.
"""

from __future__ import annotations

import os

USE_POOL = "TF_CPU_ALLOCATOR_USE_BFC"
POOL_LIMIT_MB = "TF_CPU_BFC_MEM_LIMIT_IN_MB"
# TensorFlow's own default limit of the pool, in MiB (64 GiB).
TENSORFLOW_DEFAULT_LIMIT_MB = 1 << 16


def physical_memory_mb():
    """The machine's physical memory in MiB, or None where it is unknown."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    if pages <= 0 or page_size <= 0:
        return None
    return pages * page_size // (1 << 20)


def ask_for_pooled_allocator(environ=None, memory_mb=None):
    """Sets TensorFlow's pooled-allocator variables the user has not set.

    Nothing changes where the user set ``TF_CPU_ALLOCATOR_USE_BFC`` (to
    anything) or where the machine's memory is unknown (the pool's limit
    could then refuse what ``malloc`` would give).

    Args:
        environ: The environment to update (default ``os.environ``).
        memory_mb: The physical memory in MiB (default: measured).

    Returns:
        Whether the pool was asked for.

    Example:
    >>> from keras_regkit import _cpu_memory
    >>> env = {}
    >>> _cpu_memory.ask_for_pooled_allocator(env, memory_mb=131072)
    True
    >>> env == {
    ...     "TF_CPU_ALLOCATOR_USE_BFC": "true",
    ...     "TF_CPU_BFC_MEM_LIMIT_IN_MB": "131072",
    ... }
    True
    >>> _cpu_memory.ask_for_pooled_allocator({"TF_CPU_ALLOCATOR_USE_BFC": "0"})
    False
    """
    environ = os.environ if environ is None else environ
    if USE_POOL in environ:
        return False
    memory_mb = physical_memory_mb() if memory_mb is None else memory_mb
    if memory_mb is None:
        return False
    environ[USE_POOL] = "true"
    if memory_mb > TENSORFLOW_DEFAULT_LIMIT_MB:
        environ.setdefault(POOL_LIMIT_MB, str(memory_mb))
    return True
