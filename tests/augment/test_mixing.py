"""MixUp and CutMix: exact label weights, sums, modes, bad input."""

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment._core import sampling


def constant_batch(batch, height=12, width=20):
    """Example i is the constant (i + 1) / 16: its origin can be read back."""
    values = (np.arange(batch, dtype=np.float32) + 1) / 16
    return np.broadcast_to(
        values[:, None, None, None], (batch, height, width, 3)
    )


def mix(op, batch=7, seed=0, height=12, width=20, jit_compile=False):
    x = constant_batch(batch, height, width).copy()
    y = np.arange(batch)
    pipeline = rka.Pipeline([op], jit_compile=jit_compile)
    images, labels = pipeline.augment((x, y), seed=seed)
    return x, images.numpy(), labels.numpy()


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("mode", ["batch", "elem"])
def test_cutmix_label_weight_equals_pasted_fraction_exactly(mode, jit_compile):
    batch = 7  # odd: the middle example is paired with itself
    op = rka.CutMix(num_classes=batch, mode=mode)
    for seed in range(3):
        x, images, labels = mix(op, batch, seed=seed, jit_compile=jit_compile)
        for i in range(batch):
            partner = batch - 1 - i
            if partner == i:
                np.testing.assert_allclose(labels[i, i], 1.0)
                continue
            pasted = np.mean(images[i, ..., 0] == x[partner, 0, 0, 0])
            kept = np.mean(images[i, ..., 0] == x[i, 0, 0, 0])
            assert pasted + kept == 1.0
            assert labels[i, partner] == pytest.approx(pasted, abs=1e-7)
            assert labels[i, i] == pytest.approx(1 - pasted, abs=1e-7)


def test_cutmix_boxes_are_per_example_in_elem_mode_and_shared_in_batch():
    _, images, _ = mix(rka.CutMix(num_classes=8, mode="batch"), batch=8)
    masks = images[..., 0] != constant_batch(8, 12, 20)[..., 0]
    assert all(np.array_equal(masks[0], m) for m in masks)
    _, images, _ = mix(rka.CutMix(num_classes=8, mode="elem"), batch=8)
    masks = images[..., 0] != constant_batch(8, 12, 20)[..., 0]
    assert len({m.tobytes() for m in masks}) > 2


def test_mixup_blends_images_and_labels_with_the_same_weight():
    x, images, labels = mix(rka.MixUp(0.4, num_classes=6, mode="elem"), 6)
    for i in range(6):
        partner = 5 - i
        lam = labels[i, i]
        expected = lam * x[i] + (1 - lam) * x[partner]
        np.testing.assert_allclose(images[i], expected, atol=1e-6)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
    assert len(np.unique(np.round(labels.max(axis=1), 6))) > 1


def test_switching_labels_sum_to_one_with_smoothing():
    op = rka.MixUpCutMix(num_classes=10, label_smoothing=0.1, mode="elem")
    x = np.zeros((9, 8, 6, 3), np.uint8)
    y = np.arange(9) % 10
    _, labels = rka.Pipeline([op]).augment((x, y), seed=4)
    labels = labels.numpy()
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
    assert labels.min() == pytest.approx(0.01)


def test_one_hot_labels_and_probability_zero():
    op = rka.CutMix(probability=0.0)
    x = constant_batch(4)
    y = np.eye(4, dtype=np.float32)
    images, labels = rka.Pipeline([op]).augment((x, y), seed=0)
    np.testing.assert_allclose(images, x)
    np.testing.assert_allclose(labels, y)


def test_sample_beta_mean():
    lam = sampling.sample_beta(tf.constant([5, 6], tf.int64), [20000], 0.4)
    assert abs(float(tf.reduce_mean(lam)) - 0.5) < 0.01


def test_mixing_in_a_dataset_with_sample_weights():
    x = np.zeros((10, 8, 6, 3), np.uint8)
    y = np.arange(10) % 3
    w = np.ones(10, np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(5)
    out = rka.Pipeline([rka.MixUpCutMix(num_classes=3)], seed=1)(ds)
    spec = out.element_spec
    assert spec[1].shape.as_list() == [None, 3] and spec[1].dtype == tf.float32
    for _, labels, weights in out:
        np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0, atol=1e-6)
        np.testing.assert_array_equal(weights, 1.0)


def test_missing_labels_or_num_classes():
    x = np.zeros((2, 4, 4, 3), np.float32)
    with pytest.raises(ValueError, match="CutMix.*`labels`.*needs labels"):
        rka.Pipeline([rka.CutMix(num_classes=3)]).augment(x, seed=0)
    with pytest.raises(ValueError, match="MixUp.*`num_classes`"):
        rka.Pipeline([rka.MixUp()]).augment((x, np.array([0, 1])), seed=0)
    with pytest.raises(ValueError, match="MixUp.*`labels`"):
        rka.Pipeline([rka.MixUp(num_classes=2)]).augment(
            (x, np.zeros((2, 3), np.float32)), seed=0
        )
    ds = tf.data.Dataset.from_tensor_slices(x).batch(2)
    with pytest.raises(ValueError, match="needs labels"):
        rka.Pipeline([rka.MixUp(num_classes=2)])(ds)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: rka.MixUp(alpha=0.0), "MixUp.*`alpha`"),
        (lambda: rka.CutMix(mode="pair"), "CutMix.*`mode`"),
        (lambda: rka.MixUpCutMix(0.0, 0.0), "`mixup_alpha`"),
        (lambda: rka.MixUpCutMix(switch_probability=2), "`switch_probability`"),
        (lambda: rka.MixUp(label_smoothing=1.0), "`label_smoothing`"),
        (lambda: rka.CutMix(num_classes=0), "`num_classes`"),
    ],
)
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()
