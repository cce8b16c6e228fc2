"""The demo's data: the split, the label noise, the user's own .npz."""

import numpy as np
import pytest

from keras_regkit.demo import data


def test_noise_changes_training_and_validation_labels_only():
    clean = data.load_data(None, seed=3, noise=0.0)
    noisy = data.load_data(None, seed=3, noise=0.2)
    assert (len(noisy.x_train), len(noisy.x_val)) == (300, 300)
    np.testing.assert_array_equal(noisy.x_train, clean.x_train)
    np.testing.assert_array_equal(noisy.y_test, clean.y_test)
    for split in ("y_train", "y_val"):
        changed = getattr(noisy, split) != getattr(clean, split)
        assert changed.sum() == 60, split  # exactly 20% of 300
    assert noisy.noise == 0.2 and clean.noise == 0.0
    assert noisy.num_classes == 10 and noisy.y_train.max() < 10


def test_add_label_noise_never_keeps_the_class():
    labels = np.arange(1000) % 7
    noisy = data.add_label_noise(labels, 0.5, 7, np.random.default_rng(0))
    changed = noisy != labels
    assert changed.sum() == 500
    # The new class is uniform over the 6 others: each shift 1..6 appears.
    shifts = (noisy[changed] - labels[changed]) % 7
    assert set(shifts.tolist()) == set(range(1, 7))
    assert np.bincount(shifts, minlength=7)[1:].min() > 50


def test_user_npz_data(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 700) * 5  # any label values
    images = rng.random((700, 6, 10)) * 255
    path = tmp_path / "mine.npz"
    np.savez(path, images=images, labels=labels)
    splits = data.load_data(str(path), seed=0)
    assert splits.x_train.shape == (300, 6, 10, 1)
    assert splits.x_train.max() <= 1.0 and splits.num_classes == 3
    assert len(splits.x_test) == 100 and splits.source == str(path)


def test_too_few_examples(tmp_path):
    path = tmp_path / "small.npz"
    np.savez(path, images=np.zeros((20, 4, 4)), labels=np.arange(20) % 2)
    with pytest.raises(data.DemoError, match="need at least 610 examples"):
        data.load_data(str(path), seed=0)
