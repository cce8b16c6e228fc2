"""The shared mean over random forward passes (`keras_regkit._monte_carlo`).

Used by `layers.mc_predict` and `augment.tta_predict`; here with plain
numpy "models", so every expected value is computed in numpy.
"""

import numpy as np
import pytest

from keras_regkit import _monte_carlo as mc


def test_running_moments_match_numpy_without_cancellation():
    # A large mean against a small spread: the naive sum of squares loses
    # every digit of the variance in float64 here; Welford's update not.
    rng = np.random.default_rng(0)
    runs = 1e9 + rng.normal(scale=1e-3, size=(50, 4, 3))
    moments = mc.RunningMoments()
    for run in runs:
        moments.add(run)
    np.testing.assert_allclose(moments.mean(), runs.mean(0), rtol=1e-15)
    # (float64 resolves 1e9 to 1.2e-7: 1e-4 of the spread.)
    np.testing.assert_allclose(moments.std(), runs.std(0), rtol=1e-3)
    naive_variance = (runs**2).mean(0) - runs.mean(0) ** 2
    assert not np.allclose(naive_variance, runs.var(0), rtol=0.1)
    assert moments.count == 50


def _noisy_predict(draws):
    """A "model": y = rows * draw, one draw per call, recorded in order."""
    rng = np.random.default_rng(1)

    def predict(rows, pass_index, chunk_index):
        draw = rng.normal(size=(len(rows), 1))
        if pass_index is not None:  # separate: one draw for the batch
            draw = np.broadcast_to(draw[:1], draw.shape)
        draws.append((chunk_index, pass_index, draw))
        return {"y": rows * draw, "twice": 2 * rows * draw}

    return predict


def test_separate_passes_one_call_per_pass_and_chunk():
    x = np.arange(1.0, 8.0)[:, None]
    draws = []
    mean, std = mc.mean_over_passes(_noisy_predict(draws), x, 4, batch_size=3)
    assert [(c, p) for c, p, _ in draws] == [
        (c, p) for c in range(3) for p in range(4)
    ]
    expected = []
    for c in range(3):
        rows = x[3 * c : 3 * c + 3]
        ys = np.stack([rows * d for cc, _, d in draws if cc == c])
        expected.append((ys.mean(0), ys.std(0)))
    np.testing.assert_allclose(
        mean["y"], np.concatenate([m for m, _ in expected]), rtol=1e-6
    )
    np.testing.assert_allclose(
        std["twice"], 2 * np.concatenate([s for _, s in expected]), rtol=1e-5
    )
    assert mean["y"].dtype == std["y"].dtype == np.float32
    # One draw shared by each pass's batch: every example's spread scales
    # with its value only.
    ratio = std["y"][:3, 0] / x[:3, 0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)


def test_stacked_groups_each_examples_copies():
    x = {"a": np.arange(5.0)[:, None], "b": np.ones((5, 2))}
    calls = []

    def predict(rows, pass_index, chunk_index):
        calls.append((len(rows["a"]), pass_index, chunk_index))
        copy = np.tile(np.arange(3.0), len(rows["a"]) // 3)[:, None]
        return rows["a"] + copy  # copies 0, 1, 2 of each example

    mean, std = mc.mean_over_passes(
        predict, x, 3, batch_size=2, sampling="stacked"
    )
    assert calls == [(6, None, 0), (6, None, 1), (3, None, 2)]
    np.testing.assert_allclose(mean[:, 0], np.arange(5.0) + 1.0)
    np.testing.assert_allclose(std[:, 0], np.std([0.0, 1.0, 2.0]), rtol=1e-6)


def test_chunks_and_sizes():
    x = [np.zeros((7, 2)), np.ones((7,))]
    assert mc.num_examples(x) == 7
    sizes = [(i, len(c[1])) for i, c in mc.chunks(x, 3)]
    assert sizes == [(0, 3), (1, 3), (2, 1)]
    with pytest.raises(ValueError, match=r"`sampling`.*'stacked'"):
        mc.mean_over_passes(
            lambda *a: a[0], x[0], 2, batch_size=2, sampling="x"
        )


def test_check_batch_returns_numpy_and_names_the_argument():
    import tensorflow as tf

    x = {"a": tf.ones((2, 1)), "b": np.ones(2)}
    x = mc.check_batch("x", x, owner="f")
    assert isinstance(x["a"], np.ndarray) and x["a"].shape == (2, 1)
    # A list is a structure (a model's several inputs), not an array.
    with pytest.raises(TypeError, match=r"`x`.*x=\[\[1.0\], \[2.0\]\]$"):
        mc.check_batch("x", [[1.0], [2.0]], owner="f")
    with pytest.raises(ValueError, match=r"^f: .*`images`.*rank 4"):
        mc.check_batch("images", np.ones((2, 3)), owner="f", rank=4)
    with pytest.raises(TypeError, match=r"`images`.*images=\(<float64"):
        mc.check_batch("images", (np.ones((2, 3)),) * 2, owner="f", rank=4)


def test_only_the_first_calls_errors_are_renamed():
    calls = []

    def predict(rows, pass_index, chunk_index):
        calls.append(chunk_index)
        if len(calls) in (1, 3):
            raise ValueError("deep inside")
        return rows

    wrapped = mc.naming_errors_of_first_call(
        predict, "x", np.ones((4, 2)), owner="g"
    )
    with pytest.raises(ValueError, match=r"^g: .*`x`.*shape \(4, 2\)>$"):
        wrapped(None, 0, 0)
    assert wrapped("rows", 0, 0) == "rows"  # a success ends the renaming
    with pytest.raises(ValueError, match="^deep inside$"):
        wrapped(None, 1, 0)
