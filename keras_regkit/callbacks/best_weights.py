"""Keeping a model's best weights: on device, on host, in a file.

`BestWeights` is the custody of "the weights of the best epoch so far",
apart from any rule that decides which epoch is best, so that any callback
(early stopping, a checkpointing or weight-averaging callback) can use it:

- in memory: an on-device `WeightSnapshot` of ``model.weights`` (plus the
  optimizer's variables if asked) for Keras models, or a host copy through
  ``get_weights`` / ``set_weights`` for other objects;
- on disk: a ``.weights.h5`` file written to a temporary file and renamed
  over the target (`write_weights_atomically`), so that a process killed
  mid-write leaves the previous file whole. The target directory is
  checked (created, probed, free space) when a run begins, so that a bad
  path fails at once rather than at the first improvement, after the
  temporary files of killed writers are removed
  (`remove_stale_temporaries`). A write that fails later (the directory
  removed, the disk full) warns, naming the path, and training goes on
  with the weights kept in memory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import warnings

import keras

from keras_regkit import _validation
from keras_regkit.callbacks.weight_snapshot import WeightSnapshot
from keras_regkit.callbacks.weight_snapshot import variables_nbytes

WEIGHTS_SUFFIX = ".weights.h5"


def check_weights_path(path, name: str, owner=None) -> str | None:
    """Checks a weights-file argument: None or a path ending in the suffix.

    Returns:
        The path as a string (``os.fspath``), or None.
    """
    if path is None:
        return None
    expected = f"None or a path ending in {WEIGHTS_SUFFIX!r}"
    if not isinstance(path, (str, os.PathLike)):
        raise _validation.invalid(
            name, expected, path, owner=owner, error=TypeError
        )
    path = os.fspath(path)
    if not path.endswith(WEIGHTS_SUFFIX):
        raise _validation.invalid(name, expected, path, owner=owner)
    return path


def _temporary_path(path: str, pid: int) -> str:
    directory, name = os.path.split(path)
    stem = name[: -len(WEIGHTS_SUFFIX)]
    return os.path.join(directory, f".{stem}.{pid}.tmp{WEIGHTS_SUFFIX}")


def write_weights_atomically(model, path: str) -> None:
    """Writes ``model.save_weights`` to ``path`` via a temporary file.

    The weights go to ``.<name>.<pid>.tmp.weights.h5`` in the same
    directory, which is then renamed over ``path`` (``os.replace`` is
    atomic on POSIX and Windows): a reader, or a process killed at any
    moment, sees the previous file or the new one, never half of one.
    """
    temporary = _temporary_path(path, os.getpid())
    try:
        model.save_weights(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (True if unknown)."""
    if pid == os.getpid():
        # Our own writes remove their temporary file whatever happens: a
        # file named after our pid was left by an earlier process.
        return False
    if os.name != "posix":
        return True  # os.kill(pid, 0) would send CTRL_C_EVENT on Windows.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user.
        return True
    return True


def remove_stale_temporaries(path: str) -> list[str]:
    """Removes the temporary files that killed writers left beside ``path``.

    A process killed while `write_weights_atomically` writes leaves its
    ``.<name>.<pid>.tmp.weights.h5`` behind, as large as the weights. Those
    of processes that no longer run are removed; a process that still runs
    (another training writing the same file) keeps its own. On Windows,
    where a process cannot be probed without side effects, only files
    named after this process's pid are removed.

    Returns:
        The paths removed.
    """
    directory, name = os.path.split(os.path.abspath(path))
    stem = name[: -len(WEIGHTS_SUFFIX)]
    pattern = re.compile(
        rf"\.{re.escape(stem)}\.(\d+)\.tmp{re.escape(WEIGHTS_SUFFIX)}"
    )
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for entry in names:
        match = pattern.fullmatch(entry)
        if match is None or _process_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.remove(os.path.join(directory, entry))
            removed.append(os.path.join(directory, entry))
    return removed


def _weights_nbytes(model) -> int:
    return variables_nbytes(getattr(model, "weights", None) or [])


def check_writable(path: str, nbytes: int = 0, owner: str = "") -> None:
    """Fails now if ``path`` cannot be written later.

    Creates the directory if needed, writes and removes a probe file in it,
    and checks that the disk has room for ``nbytes`` more (the temporary
    file exists beside the previous one while it is written).

    Raises:
        OSError: Naming the path and the cause.
    """
    prefix = f"{owner}: " if owner else ""
    directory = os.path.dirname(os.path.abspath(path))
    probe = os.path.join(directory, f".{os.getpid()}.probe{WEIGHTS_SUFFIX}")
    try:
        os.makedirs(directory, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"\0" * 4096)
            handle.flush()
            os.fsync(handle.fileno())
        os.remove(probe)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.remove(probe)
        raise type(error)(
            error.errno,
            f"{prefix}cannot write the best weights to {path!r}: "
            f"{error.strerror or error}",
        ) from error
    free = shutil.disk_usage(directory).free
    if nbytes and free < nbytes:
        raise OSError(
            errno.ENOSPC,
            f"{prefix}not enough disk space for the best weights at "
            f"{path!r}: {free / 2**20:.1f} MiB free, the weights need about "
            f"{nbytes / 2**20:.1f} MiB",
        )


class HostCopy:
    """The weights as host values, through ``get_weights`` / ``set_weights``.

    For objects that are not Keras models, and for weights assigned by hand
    (Keras's ``best_weights`` attribute).
    """

    def __init__(self, model, weights=None):
        self.model = model
        self.weights = weights

    def capture(self) -> None:
        self.weights = self.model.get_weights()

    def restore(self) -> None:
        self.model.set_weights(self.weights)

    def numpy(self):
        return self.weights


class _DeviceCopy:
    """A `WeightSnapshot` seen as the model's weights (optimizer apart)."""

    def __init__(self, snapshot, count):
        self.snapshot = snapshot
        self.count = count

    def capture(self) -> None:
        self.snapshot.capture()

    def restore(self) -> None:
        self.snapshot.restore()

    def numpy(self):
        copies = self.snapshot.copies[: self.count]
        return [keras.ops.convert_to_numpy(copy) for copy in copies]


class BestWeights:
    """Keeps the best weights of a run in memory and/or in a file.

    Call `begin` when a run starts, `keep` at each new best, `restore` to
    put the kept weights back. One instance serves several runs: the
    on-device snapshot is reused while the model's variables are the same.

    Args:
        in_memory: Keep a copy in memory (on device for Keras models).
        include_optimizer: Include the optimizer's variables in the
            on-device copy.
        path: None, or a ``.weights.h5`` path written atomically at each
            `keep`. A write that fails (directory removed, disk full)
            warns naming the path and the cause; training goes on, the
            weights are then kept in memory as well (even with
            ``in_memory=False``), so `restore` still puts back the best
            ones, and the next `keep` tries the file again.
        owner: Named in error and warning messages.

    Attributes:
        memory_copy: What holds this run's copy in memory (a `WeightSnapshot`
            wrapper or a `HostCopy`), or None.
        snapshot: The on-device `WeightSnapshot`, or None.

    Example:
    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> best = BestWeights()
    >>> best.begin(model)
    >>> best.keep()
    >>> kept = model.get_weights()
    >>> _ = model.layers[0].kernel.assign(np.zeros((2, 1)))
    >>> best.restore()
    True
    >>> all(np.array_equal(a, b) for a, b in zip(kept, model.get_weights()))
    True
    """

    def __init__(
        self,
        in_memory: bool = True,
        include_optimizer: bool = False,
        path: str | None = None,
        owner: str = "",
    ):
        self.in_memory = in_memory
        self.include_optimizer = include_optimizer
        self.path = path
        self.owner = owner
        self.model = None
        self.snapshot = None
        self.memory_copy = None
        self.saved = False

    def begin(self, model, resuming: bool = False) -> None:
        """Starts a run on ``model``: forgets the kept copy, checks the path.

        With ``resuming``, a file written by the run being resumed counts
        as kept.
        """
        self.model = model
        self.memory_copy = None
        self.saved = resuming and self.path is not None
        if self.path is not None:
            remove_stale_temporaries(self.path)
            check_writable(self.path, _weights_nbytes(model), self.owner)

    def _variables(self):
        weights = getattr(self.model, "weights", None)
        if not isinstance(weights, (list, tuple)) or not all(
            isinstance(weight, keras.Variable) for weight in weights
        ):
            return None
        variables = list(weights)
        optimizer = getattr(self.model, "optimizer", None)
        if self.include_optimizer and optimizer is not None:
            variables += list(optimizer.variables)
        return variables

    def _new_memory_copy(self):
        variables = self._variables()
        if variables is None:
            return HostCopy(self.model)
        if self.snapshot is None or not self.snapshot.matches(variables):
            self.snapshot = WeightSnapshot(variables)
        return _DeviceCopy(self.snapshot, len(self.model.weights))

    def keep(self) -> None:
        """Keeps the model's current weights (memory and/or file).

        A failed file write warns and keeps the weights in memory instead
        (see ``path``); it does not raise.
        """
        captured = self.in_memory or self.memory_copy is not None
        if captured:
            self._capture()
        if self.path is not None:
            try:
                write_weights_atomically(self.model, self.path)
            except Exception as error:  # h5py raises OSError, RuntimeError
                if not captured:
                    self._capture()
                self._warn_write_failed(error)
            else:
                self.saved = True

    def _capture(self):
        if self.memory_copy is None or isinstance(self.memory_copy, HostCopy):
            self.memory_copy = self._new_memory_copy()
        self.memory_copy.capture()

    def _warn_write_failed(self, error):
        prefix = f"{self.owner}: " if self.owner else ""
        if self.saved and os.path.exists(self.path):
            left = "the file keeps an earlier best epoch's weights"
        else:
            left = "there is no file"
        warnings.warn(
            f"{prefix}could not write the best weights to {self.path!r} "
            f"({type(error).__name__}: {error}). Training goes on: the "
            f"best weights are kept in memory (restore() puts them back), "
            f"{left}, and the next improvement tries the file again.",
            stacklevel=3,
        )

    def warn_if_lost_on_resume(self, best_epoch: int) -> None:
        """Warns that a resumed run's best weights cannot be restored.

        For a callback resumed (``set_state``) with ``restore_best_weights=
        True`` whose earlier run had a best epoch (``best_epoch``,
        0-based): silent if the weights can still come back (the file).
        """
        if self.has_weights():
            return
        weights = (
            f"the best weights (epoch {best_epoch + 1}) of the run resumed "
            "with set_state()"
        )
        if self.path is None:
            where = (
                f"{weights} stayed in the memory of the process that ran "
                "it: get_state() holds plain values, not weights"
            )
            how = (
                "Pass save_best_to='best.weights.h5' (the same path in both "
                "runs) to keep them across processes."
            )
        else:
            where = (
                f"{weights} should be in {self.path!r}, which does not exist"
            )
            how = "Copy that file back before resuming."
        warnings.warn(
            f"{self.owner}(restore_best_weights=True): {where}. This fit "
            "restores the best weights only if it finds a better epoch; "
            f"otherwise it ends with its last weights. {how}",
            stacklevel=4,
        )

    def set_host_weights(self, weights) -> None:
        """Keeps given host weights (None forgets the kept copy)."""
        self.memory_copy = (
            None if weights is None else HostCopy(self.model, weights)
        )

    @property
    def weights(self):
        """The kept weights as host values, or None."""
        return None if self.memory_copy is None else self.memory_copy.numpy()

    def has_weights(self) -> bool:
        """Whether `restore` has something to put back."""
        return self.memory_copy is not None or (
            self.saved and os.path.exists(self.path)
        )

    def restore(self) -> bool:
        """Puts the kept weights back: the memory copy, else the file.

        Returns:
            True if weights were restored, False if there were none.
        """
        if self.memory_copy is not None:
            self.memory_copy.restore()
        elif self.has_weights():
            self.model.load_weights(self.path)
        else:
            return False
        return True
