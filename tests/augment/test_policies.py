"""RandAugment, TrivialAugment, AugMix and the JSD loss against numpy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment._core import sampling


def images(batch=32, height=6, width=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, height, width, 3), dtype=np.float32)


def run(op, x, seed=1, jit_compile=False):
    return rka.Pipeline([op], jit_compile=jit_compile).augment(x, seed).numpy()


def closest(out, candidates):
    """Per example, the smallest max-abs distance to any candidate."""
    return np.min(
        [np.abs(out - c).max(axis=(1, 2, 3)) for c in candidates], axis=0
    )


def test_randaugment_magnitudes_match_numpy():
    x = images()
    out = run(rka.RandAugment(1, 10, ops=["solarize"]), x)
    np.testing.assert_allclose(out, 1.0 - x, atol=1e-6)  # threshold 0
    q = np.random.default_rng(1).integers(0, 256, (8, 5, 7, 3), np.uint8)
    out = run(rka.RandAugment(1, 10, ops=["posterize"]), q)
    np.testing.assert_array_equal(np.round(out * 255), (q >> 4) << 4)
    out = run(rka.RandAugment(1, 5, ops=["brightness"]), x)
    factors = [1.45, 0.55]  # 1 +- 0.9 * 5 / 10, random sign
    assert closest(out, [np.clip(x * f, 0, 1) for f in factors]).max() < 1e-6


def test_randaugment_rotation_is_plus_or_minus_its_magnitude():
    x = images(batch=24, height=8, width=12)
    out = run(rka.RandAugment(1, 5, ops=["rotate"]), x)
    turn = 15 / 360  # 30 degrees * 5 / 10
    references = [
        run(rka.RandomRotation((s * turn, s * turn)), x) for s in (1, -1)
    ]
    assert closest(out, references).max() < 1e-5
    assert not np.allclose(references[0], references[1])


def test_magnitude_noise_per_example():
    policy = rka.RandAugment(1, 5, magnitude_std=1.0, ops=["contrast"])
    level = policy.children[0].level(sampling.as_seed(3), 20000).numpy()
    # |level| ~ N(0.5, 0.1): 20000 draws, standard error 0.0007.
    assert abs(np.abs(level).mean() - 0.5) < 0.005
    assert abs(np.abs(level).std() - 0.1) < 0.005
    assert abs(np.mean(level > 0) - 0.5) < 0.02


def test_trivial_augment_one_op_with_a_uniform_level():
    x = images(batch=64, height=4, width=6)
    policy = rka.TrivialAugment(ops=["solarize", "identity"])
    out = run(policy, x)
    # Solarize with threshold 1 - level, or identity: each pixel is x or
    # 1 - x, and thresholds differ between examples.
    assert np.all(np.minimum(abs(out - x), abs(out - (1 - x))) < 1e-6)
    changed = np.abs(out - x).max(axis=(1, 2, 3)) > 0
    assert 16 < changed.sum() < 56
    fraction = (np.abs(out - x) > 0).mean(axis=(1, 2, 3))[changed]
    assert len(np.unique(fraction)) > 10
    level = policy.children[0].level(sampling.as_seed(0), 20000).numpy()
    # U(0, 1): mean 0.5, variance 1/12.
    assert abs(level.mean() - 0.5) < 0.01 and abs(level.var() - 1 / 12) < 0.01


def test_augmix_blends_the_input_with_the_mixed_chains():
    x = images(batch=16)
    op = rka.AugMix(width=3, ops=["autocontrast"])
    out = run(op, x)
    # Every chain is autocontrast (idempotent), whatever its depth: out =
    # m x + (1 - m) autocontrast(x) with one m per example in [0, 1].
    low = x.min(axis=(1, 2), keepdims=True)
    high = x.max(axis=(1, 2), keepdims=True)
    stretched = (x - low) / (high - low)
    diff = x - stretched
    m = (out - stretched).reshape(16, -1) @ diff.reshape(16, -1).T
    m = np.diag(m) / (diff.reshape(16, -1) ** 2).sum(axis=1)
    expected = stretched + m[:, None, None, None] * diff
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert np.all((m >= 0) & (m <= 1)) and len(np.unique(m.round(4))) == 16
    np.testing.assert_array_equal(run(rka.AugMix(probability=0.0), x), x)


def test_policies_agree_with_and_without_xla():
    x = images(batch=8, height=12, width=10)
    for op in (rka.RandAugment(2, 9), rka.AugMix(), rka.TrivialAugment()):
        np.testing.assert_allclose(
            run(op, x, jit_compile=True), run(op, x), atol=1e-4
        )


@pytest.mark.parametrize(
    "op, distinct",
    # Magnitude-free picks (identity, autocontrast, equalize: 3 of 14) may
    # repeat between examples: about 8 repeats of 48 for TrivialAugment.
    [
        (rka.RandAugment(2, 9), 40),
        (rka.TrivialAugment(), 30),
        (rka.AugMix(width=2, ops=["rotate", "posterize", "equalize"]), 48),
    ],
    ids=["RandAugment", "TrivialAugment", "AugMix"],
)
def test_ops_differ_per_example_and_per_batch_in_tf_data(op, distinct):
    # One image repeated: any difference comes from the policy's draws
    # (Keras's AugMix picks its chains once per trace: every batch alike).
    x = np.repeat(images(batch=1, height=12, width=10), 48, axis=0)
    ds = tf.data.Dataset.from_tensor_slices((x * 255).astype(np.uint8))
    pipeline = rka.Pipeline([op], seed=9, jit_compile=False)
    epoch = np.stack([b.numpy() for b in pipeline(ds.batch(16))])
    digests = {image.tobytes() for image in epoch.reshape(48, -1)}
    assert len(digests) >= distinct, len(digests)
    assert all(
        not np.array_equal(epoch[0], batch) for batch in epoch[1:]
    )  # batches with the same inputs differ
    again = rka.Pipeline([op], seed=9, jit_compile=False)(ds.batch(16))
    again = np.stack([b.numpy() for b in again])
    np.testing.assert_array_equal(epoch, again)


def test_augmix_jsd_views_and_loss_in_fit(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (24, 8, 6, 3), dtype=np.uint8)
    y = rng.integers(0, 4, (24,))
    w = rng.random(24).astype(np.float32)
    pipeline = rka.Pipeline(
        [rka.RandomFlip(), rka.AugMix(jsd=True, width=2, ops=["rotate"])],
        seed=2,
        jit_compile=False,
    )
    views, labels, weights = pipeline.augment((x[:8], y[:8], w[:8]), 0)
    np.testing.assert_array_equal(labels, np.tile(y[:8], 3))
    np.testing.assert_array_equal(weights, np.tile(w[:8], 3))
    views = views.numpy()
    flipped = pipeline.augment((x[:8], y[:8], w[:8]), 0)[0].numpy()[:8]
    np.testing.assert_array_equal(views[:8], flipped)
    assert not np.allclose(views[8:16], views[16:])
    ds = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(8)
    out = pipeline(ds)
    assert out.element_spec[0].shape.as_list() == [None, 8, 6, 3]
    model = keras.Sequential(
        [
            keras.Input((8, 6, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(4),
        ]
    )
    model.compile("adam", rka.JensenShannonCrossEntropy(from_logits=True))
    history = model.fit(out, epochs=2, verbose=0, shuffle=False)
    assert np.all(np.isfinite(history.history["loss"]))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.loss, rka.JensenShannonCrossEntropy)
    with pytest.raises(ValueError, match="Pipeline.*AugMix.*as the last op"):
        rka.Pipeline([rka.AugMix(jsd=True), rka.RandomFlip()])
    with pytest.raises(ValueError, match="AugmentationLayer.*label-mixing"):
        rka.AugmentationLayer(rka.Pipeline([rka.AugMix(jsd=True)]))


def _kl(p, q):
    return (p * (np.log(p) - np.log(q))).sum(-1)


@pytest.mark.parametrize("from_logits", [False, True])
def test_jsd_loss_matches_numpy(from_logits):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3 * 5, 4)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y = np.tile(rng.integers(0, 4, 5), 3)
    clean, a, b = np.split(probs, 3)
    mixture = (clean + a + b) / 3
    jsd = (_kl(clean, mixture) + _kl(a, mixture) + _kl(b, mixture)) / 3
    ce = -np.log(clean[np.arange(5), y[:5]])
    expected = np.mean(ce + 12.0 * jsd)
    loss = rka.JensenShannonCrossEntropy(from_logits=from_logits)
    got = float(loss(y, logits if from_logits else probs))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # Weights repeated over the views weight each example once.
    w = np.tile(rng.random(5).astype(np.float32), 3)
    got = float(loss(y, logits if from_logits else probs, sample_weight=w))
    np.testing.assert_allclose(got, np.mean(w[:5] * (ce + 12 * jsd)), rtol=1e-5)
    one_hot = np.eye(4, dtype=np.float32)[y]
    got = float(loss(one_hot, logits if from_logits else probs))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_colour_ops_need_rgb():
    gray = np.zeros((2, 8, 8, 1), np.float32)
    with pytest.raises(
        ValueError, match="RandAugment: _PolicyValueOp.*3 channels"
    ):
        run(rka.RandAugment(), gray)
    out = run(rka.RandAugment(ops=["rotate", "equalize", "contrast"]), gray)
    assert out.shape == gray.shape


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: rka.RandAugment(0), ValueError, "RandAugment.*`num_ops`"),
        (lambda: rka.RandAugment(2, 11), ValueError, "`magnitude`.*10"),
        (lambda: rka.RandAugment(magnitude_std=-1), ValueError, "std"),
        (lambda: rka.RandAugment(ops=["blur"]), ValueError, "`ops`.*blur"),
        (lambda: rka.TrivialAugment(ops=[]), ValueError, "`ops`.*non-empty"),
        (lambda: rka.AugMix(severity=0), ValueError, "AugMix.*`severity`"),
        (lambda: rka.AugMix(depth=4), ValueError, "`depth`.*-1, 1, 2, 3"),
        (lambda: rka.AugMix(alpha=0), ValueError, "`alpha`.*> 0"),
        (lambda: rka.AugMix(jsd="yes"), TypeError, "`jsd`"),
        (
            lambda: rka.JensenShannonCrossEntropy(num_views=1),
            ValueError,
            "`num_views`.*>= 2",
        ),
    ],
)
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()
