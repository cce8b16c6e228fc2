"""MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1.

Each worker runs ``multi_worker_train.py`` with its own ``TF_CONFIG``;
both must finish, and agree on everything that is all-reduced: the losses,
the early-stopping decision and the restored weights.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).with_name("multi_worker_train.py")
ROOT = SCRIPT.parents[2]
TIMEOUT_S = 150


def free_ports(count):
    """Ports the OS reports free (bound to 0, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run_workers(tmp_path, count=2):
    cluster = [f"127.0.0.1:{port}" for port in free_ports(count)]
    processes = []
    try:
        for index in range(count):
            env = {
                **os.environ,
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "PYTHONPATH": str(ROOT),
                "TF_CONFIG": json.dumps(
                    {
                        "cluster": {"worker": cluster},
                        "task": {"type": "worker", "index": index},
                    }
                ),
            }
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(SCRIPT), str(tmp_path / f"{index}")],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        logs = [p.communicate(timeout=TIMEOUT_S)[0] for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, log in zip(processes, logs, strict=True):
        assert p.returncode == 0, log[-3000:]
    return [json.loads((tmp_path / f"{i}").read_text()) for i in range(count)]


@pytest.mark.compat("EarlyStopping", "MultiWorker")
@pytest.mark.compat("DropPath", "MultiWorker")
@pytest.mark.compat("DropConnect", "MultiWorker")
@pytest.mark.compat("L1/L2/L1L2", "MultiWorker")
@pytest.mark.compat("ElasticNet", "MultiWorker")
@pytest.mark.compat("GroupLasso", "MultiWorker")
@pytest.mark.compat("Orthogonal", "MultiWorker")
@pytest.mark.compat("regularizers.apply", "MultiWorker")
@pytest.mark.compat("DropBlock1D/2D/3D", "MultiWorker")
@pytest.mark.compat("ConcreteDropout", "MultiWorker")
@pytest.mark.compat("MCDropout", "MultiWorker")
@pytest.mark.compat("ScheduleCallback", "MultiWorker")
@pytest.mark.compat("augment.Pipeline", "MultiWorker")
def test_two_workers_train_and_stop_early_at_the_same_epoch(tmp_path):
    first, second = run_workers(tmp_path)
    assert (first["task"], second["task"]) == (0, 1)
    assert first["replicas"] == second["replicas"] == 2
    # It stopped early (before the 60-epoch budget), on both workers at the
    # same epoch, for the same reason and with the same best epoch.
    assert 0 < first["stopped_epoch"] < 59, first
    for key in ("stopped_epoch", "best_epoch", "epochs_run", "stop_reason"):
        assert first[key] == second[key], key
    assert first["stopped_epoch"] == first["best_epoch"] + 3
    # All-reduced values agree across workers (float32 sums: rtol 1e-5).
    for key in ("loss", "val_loss", "best_value", "weights_sum"):
        np.testing.assert_allclose(first[key], second[key], rtol=1e-5)
    np.testing.assert_allclose(
        first["val_loss"][first["best_epoch"]], first["best_value"], rtol=0
    )
    for result in (first, second):
        # The best weights came back: the final weights are those recorded
        # at the end of the best epoch, not those of the last one.
        checksums = result["epoch_checksums"]
        assert len(checksums) == result["epochs_run"]
        assert result["weights_sum"] == checksums[result["best_epoch"]]
        assert result["weights_sum"] != checksums[-1]
        # MC dropout stays on at inference: mc_predict spreads samples.
        assert result["mc_shapes"] == [[8, 1], [8, 1]]
        assert result["mc_min_std"] > 0
        error, mixed = result["mc_grouping"]
        assert error < 1e-5 and mixed, result["mc_grouping"]
