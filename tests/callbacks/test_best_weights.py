"""Tests for BestWeights: the custody of the best weights, and its faults.

Faults (issue 12): a process killed (SIGKILL) in the middle of writing
``save_best_to`` leaves the previous file whole; an unwritable directory
or a full disk fails at ``on_train_begin``, before any epoch, with an
error naming the path, not with a lost file at the end.
"""

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.callbacks import best_weights as bw
from keras_regkit.callbacks.weight_snapshot import WeightSnapshot


def _model(units=2):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(units, name="dense")]
    )
    model.compile("sgd", "mse")
    return model


def _set_kernel(model, value):
    kernel = model.get_layer("dense").kernel
    kernel.assign(np.full(kernel.shape, float(value), "float32"))


def _kernel(model):
    return np.asarray(model.get_layer("dense").kernel)


def test_keeps_on_device_and_restores_a_keras_model(tmp_path):
    model = _model()
    path = str(tmp_path / "best.weights.h5")
    best = bw.BestWeights(path=path)
    best.begin(model)
    assert best.weights is None and not best.has_weights()
    _set_kernel(model, 1.0)
    best.keep()
    assert isinstance(best.memory_copy.snapshot, WeightSnapshot)
    _set_kernel(model, 5.0)
    np.testing.assert_array_equal(best.weights[0], 1.0)
    assert best.restore() is True
    np.testing.assert_array_equal(_kernel(model), 1.0)
    fresh = _model()
    fresh.load_weights(path)
    np.testing.assert_array_equal(_kernel(fresh), 1.0)
    # A second run on the same model reuses the snapshot's variables.
    snapshot = best.snapshot
    best.begin(model)
    assert best.memory_copy is None
    best.keep()
    assert best.snapshot is snapshot


def test_host_copy_for_objects_without_variables():
    class NoVariables:
        weights = "not variables"

        def get_weights(self):
            return [np.array([1.0])]

        def set_weights(self, weights):
            self.restored = weights

    no_variables = NoVariables()
    best = bw.BestWeights()
    best.begin(no_variables)
    best.keep()
    assert isinstance(best.memory_copy, bw.HostCopy)
    best.restore()
    np.testing.assert_array_equal(no_variables.restored[0], [1.0])


def test_file_only_restores_from_the_file(tmp_path):
    model = _model()
    path = str(tmp_path / "best.weights.h5")
    best = bw.BestWeights(in_memory=False, path=path)
    best.begin(model)
    assert best.restore() is False
    _set_kernel(model, 2.0)
    best.keep()
    assert best.memory_copy is None
    _set_kernel(model, 7.0)
    assert best.restore() is True
    np.testing.assert_array_equal(_kernel(model), 2.0)


# Faults: a bad directory or a full disk fails at on_train_begin.


class _CountEpochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1


def _fit_with(path):
    model = _model()
    counter = _CountEpochs()
    stopper = rk.callbacks.EarlyStopping(
        monitor="loss", save_best_to=path, restore_best_weights=True
    )
    x = np.ones((4, 3), "float32")
    try:
        model.fit(
            x, x[:, :2], epochs=2, verbose=0, callbacks=[stopper, counter]
        )
    finally:
        assert counter.epochs == 0, "the error came after training began"


def test_directory_that_cannot_exist_fails_before_training(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    path = str(blocker / "best.weights.h5")
    with pytest.raises(
        OSError, match="cannot write the best weights to .*a_file"
    ):
        _fit_with(path)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes to read-only directories",
)
def test_read_only_directory_fails_before_training(tmp_path):
    directory = tmp_path / "read_only"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="cannot write the best"):
            _fit_with(str(directory / "best.weights.h5"))
    finally:
        directory.chmod(0o700)


def test_missing_directory_is_created(tmp_path):
    path = tmp_path / "new" / "dir" / "best.weights.h5"
    bw.check_writable(str(path), nbytes=10)
    assert path.parent.is_dir() and os.listdir(path.parent) == []


def test_full_disk_at_the_probe_fails_before_training(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    # The probe is the first write: a full disk fails it.
    monkeypatch.setattr(bw, "open", full, raising=False)
    with pytest.raises(OSError, match="No space left on device") as info:
        _fit_with(str(tmp_path / "best.weights.h5"))
    assert info.value.errno == errno.ENOSPC
    assert "cannot write the best weights" in str(info.value)


def test_too_little_free_space_fails_before_training(tmp_path, monkeypatch):
    # 16 bytes free; the 8 float32 weights need 32.
    usage = bw.shutil.disk_usage(tmp_path)._replace(free=16)
    monkeypatch.setattr(bw.shutil, "disk_usage", lambda path: usage)
    with pytest.raises(OSError, match="not enough disk space") as info:
        _fit_with(str(tmp_path / "best.weights.h5"))
    assert info.value.errno == errno.ENOSPC
    assert "0.0 MiB free" in str(info.value)


@pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or not hasattr(os, "geteuid")
    or os.geteuid() != 0,
    reason="mounting a tiny tmpfs needs root on Linux",
)
def test_real_full_tmpfs_fails_before_training(tmp_path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
    )
    if result.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        # 64 KiB of disk; the weights of a 3 x 8192 Dense need 128 KiB.
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(8192, name="dense")]
        )
        stopper = rk.callbacks.EarlyStopping(
            save_best_to=str(mount / "best.weights.h5")
        )
        stopper.set_model(model)
        with pytest.raises(OSError, match="not enough disk space"):
            stopper.on_train_begin()
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# Faults: SIGKILL during the write of save_best_to.

_WRITER = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras
    import numpy as np
    import keras_regkit as rk

    # 4M parameters: each write of save_best_to takes a while (16 MiB).
    model = keras.Sequential(
        [keras.Input((1000,)), keras.layers.Dense(4000, name="dense")]
    )
    stopper = rk.callbacks.EarlyStopping(
        patience=None, save_best_to=sys.argv[1]
    )
    stopper.set_model(model)
    stopper.on_train_begin()
    kernel = model.get_layer("dense").kernel
    epoch = 0
    while True:
        kernel.assign(np.full(kernel.shape, float(epoch), "float32"))
        stopper.on_epoch_end(epoch, {"val_loss": 1.0 / (epoch + 1)})
        print(epoch, flush=True)  # this epoch's file is complete
        epoch += 1
    """
)


@pytest.mark.new_process
@pytest.mark.slow
def test_sigkill_during_the_write_leaves_the_previous_file(tmp_path):
    path = tmp_path / "best.weights.h5"
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "0", "the writer failed"
        # Wait for the next write to be under way (its temporary file
        # exists and has bytes), then kill the writer in the middle of it.
        deadline = time.monotonic() + 60
        temporary = None
        while temporary is None and time.monotonic() < deadline:
            for name in os.listdir(tmp_path):
                if name.endswith(".tmp.weights.h5"):
                    if os.path.getsize(tmp_path / name) > 0:
                        temporary = tmp_path / name
            time.sleep(0.0005)
        assert temporary is not None, "no write seen in 60 s"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    completed = [int(line) for line in child.stdout.read().split()]
    child.stdout.close()
    last_complete = completed[-1] if completed else 0
    # The kill landed while the temporary file was being written: it is
    # still there, half written, and the target was not touched by it.
    assert temporary.exists()
    fresh = keras.Sequential(
        [keras.Input((1000,)), keras.layers.Dense(4000, name="dense")]
    )
    fresh.load_weights(path)
    kernel = _kernel(fresh)
    # The file holds one whole epoch: the last complete one (or the one
    # whose rename beat the kill).
    assert kernel.min() == kernel.max()
    assert kernel.flat[0] in (last_complete, last_complete + 1)
    # The next run on the same path removes the killed writer's file (as
    # large as the weights), and keeps the target.
    bw.BestWeights(path=str(path)).begin(fresh)
    assert not temporary.exists()
    assert os.listdir(tmp_path) == ["best.weights.h5"]


# A write that fails mid-training (issue 19): warn, go on, still restore.


class _EpochKernel(keras.callbacks.Callback):
    """Sets the kernel to the epoch number and the loss from a script.

    With ``SGD(0.0)`` the model's weights at the end of epoch ``e`` are
    then exactly ``e``; listed before the EarlyStopping it drives.
    """

    def __init__(self, losses, on_epoch=None):
        super().__init__()
        self.losses = losses
        self.on_epoch = on_epoch or {}

    def on_epoch_end(self, epoch, logs=None):
        _set_kernel(self.model, epoch)
        logs["loss"] = self.losses[epoch]
        if epoch in self.on_epoch:
            self.on_epoch[epoch]()


@pytest.mark.parametrize("restore_best_weights", [True, False])
def test_directory_removed_mid_training_warns_and_training_goes_on(
    tmp_path, restore_best_weights
):
    import shutil

    directory = tmp_path / "run"
    path = str(directory / "best.weights.h5")
    model = _model()
    model.compile(keras.optimizers.SGD(0.0), "mse")
    stopper = rk.callbacks.EarlyStopping(
        monitor="loss",
        patience=10,
        restore_best_weights=restore_best_weights,
        save_best_to=path,
    )
    script = _EpochKernel(
        [0.5, 0.4, 0.3, 0.6, 0.7],
        on_epoch={1: lambda: shutil.rmtree(directory)},
    )
    x = np.zeros((4, 3), "float32")
    with pytest.warns(UserWarning) as caught:
        history = model.fit(
            x, x[:, :2], epochs=5, verbose=0, callbacks=[script, stopper]
        )
    messages = [
        str(w.message) for w in caught if issubclass(w.category, UserWarning)
    ]
    # Epochs 1 and 2 improved, and their writes failed: one warning each,
    # naming the path and the cause.
    assert len(messages) == 2, messages
    for message in messages:
        assert f"could not write the best weights to {path!r}" in message
        assert "FileNotFoundError" in message
        assert "Training goes on" in message
    assert len(history.history["loss"]) == 5
    assert stopper.best_epoch == 2
    np.testing.assert_array_equal(
        _kernel(model), 2.0 if restore_best_weights else 4.0
    )
    _set_kernel(model, 9)
    assert stopper.restore()
    np.testing.assert_array_equal(_kernel(model), 2.0)
    assert not directory.exists()


def test_full_disk_mid_training_warns_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "best.weights.h5"
    model = _model()
    stopper = rk.callbacks.EarlyStopping(
        patience=5, restore_best_weights=False, save_best_to=path
    )
    stopper.set_model(model)
    stopper.on_train_begin()
    _set_kernel(model, 0)
    stopper.on_epoch_end(0, {"val_loss": 0.5})
    saved = model.save_weights

    def full_disk(target):
        with open(target, "wb") as handle:
            handle.write(b"\0" * 1000)  # the first bytes, then no room
        raise OSError(errno.ENOSPC, "No space left on device")

    model.save_weights = full_disk
    _set_kernel(model, 1)
    with pytest.warns(UserWarning, match="No space left on device") as w:
        stopper.on_epoch_end(1, {"val_loss": 0.3})
    assert str(path) in str(w[0].message)
    assert "keeps an earlier best epoch's weights" in str(w[0].message)
    assert os.listdir(tmp_path) == ["best.weights.h5"]
    _set_kernel(model, 7)
    assert stopper.restore()  # epoch 1, from memory
    np.testing.assert_array_equal(_kernel(model), 1.0)
    # The disk has room again: the next best is written, the file is new.
    model.save_weights = saved
    _set_kernel(model, 2)
    stopper.on_epoch_end(2, {"val_loss": 0.2})
    fresh = _model()
    fresh.load_weights(path)
    np.testing.assert_array_equal(_kernel(fresh), 2.0)


def test_stale_temporary_files_are_removed_at_the_next_start(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    names = {
        "stale": f".best.{dead.pid}.tmp.weights.h5",
        "own_pid": f".best.{os.getpid()}.tmp.weights.h5",
        "running": f".best.{os.getppid()}.tmp.weights.h5",
        "other_target": f".other.{dead.pid}.tmp.weights.h5",
        "unrelated": "notes.txt",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"\0" * 4096)
    best = bw.BestWeights(path=str(tmp_path / "best.weights.h5"))
    best.begin(_model())
    assert sorted(os.listdir(tmp_path)) == sorted(
        [names["running"], names["other_target"], names["unrelated"]]
    )
