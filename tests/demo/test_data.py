"""The demo's data: the user's own .npz."""

import numpy as np
from demo import demo_helpers as _h

from keras_regkit import demo


def test_user_npz_data(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 700)
    images = rng.random((700, 6, 10)) * 0.2 + labels[:, None, None] / 3
    path = tmp_path / "mine.npz"
    np.savez(path, images=images, labels=labels)
    code = demo.main(
        [
            "--data",
            str(path),
            "--epochs",
            "1",
            "--seeds",
            "1",
            "--variants",
            "none,l2",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    _, rows = _h.table_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == ["none", "l2"]
