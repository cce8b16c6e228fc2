"""The demo's data: the digits (or the user's .npz), split with a seed.

The training and validation labels may be made noisy (`add_label_noise`):
a share of them replaced by another class drawn at random, as in data
labelled by hand. The test labels stay clean, so the test error measures
how well a model learned the digits rather than the noise.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_regkit.demo.errors import DemoError

TRAIN_SIZE = 300
VALIDATION_SIZE = 300


@dataclasses.dataclass
class Splits:
    """Train / validation / test arrays, images float32 in [0, 1]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    source: str
    noise: float = 0.0


def _load_arrays(path):
    if path is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        return digits.images / 16.0, digits.target, "scikit-learn digits"
    try:
        with np.load(path) as data:
            images, labels = data["images"], data["labels"]
    except (OSError, KeyError, ValueError) as error:
        raise DemoError(
            f"--data {path!r}: expected an .npz with `images` and `labels` "
            f"({error})"
        ) from None
    if images.ndim not in (3, 4) or len(images) != len(labels):
        raise DemoError(
            f"--data {path!r}: `images` must be (N, H, W[, C]) and `labels` "
            f"(N,); got {images.shape} and {labels.shape}"
        )
    images = images.astype("float32")
    if images.max() > 1.0:
        images = images / 255.0
    return images, labels, path


def add_label_noise(labels, share, num_classes, rng) -> np.ndarray:
    """A copy of ``labels`` with ``share`` of them set to another class.

    Exactly ``round(share * len(labels))`` labels change, each to one of
    the other classes with equal chance.

    Example:
    >>> labels = np.zeros(10, "int32")
    >>> noisy = add_label_noise(labels, 0.3, 4, np.random.default_rng(0))
    >>> int((noisy != labels).sum()), bool(noisy.max() < 4)
    (3, True)
    """
    noisy = np.array(labels, copy=True)
    count = int(round(share * len(noisy)))
    chosen = rng.choice(len(noisy), size=count, replace=False)
    shift = rng.integers(1, num_classes, size=count)
    noisy[chosen] = (noisy[chosen] + shift) % num_classes
    return noisy


def load_data(path: str | None, seed: int, noise: float = 0.0) -> Splits:
    """Loads the digits (or ``path``) and splits them with a fixed seed.

    The training set is deliberately small (the overfitting regime); the
    split is stratified by class.

    Args:
        path: An .npz with ``images`` (N, H, W[, C]) and ``labels`` (N,),
            or None for scikit-learn's bundled digits.
        seed: The seed of the split and of the label noise.
        noise: The share of training and validation labels replaced by
            another class (`add_label_noise`); the test labels stay clean.

    Returns:
        The `Splits`.

    Raises:
        DemoError: If the file cannot be read or holds too few examples.
    """
    from sklearn.model_selection import train_test_split

    images, labels, source = _load_arrays(path)
    if images.ndim == 3:
        images = images[..., None]
    images = images.astype("float32")
    _, labels = np.unique(labels, return_inverse=True)
    labels = labels.astype("int32")
    if len(labels) < TRAIN_SIZE + VALIDATION_SIZE + 10:
        raise DemoError(
            f"--data: need at least {TRAIN_SIZE + VALIDATION_SIZE + 10} "
            f"examples, got {len(labels)}"
        )
    x_train, x_rest, y_train, y_rest = train_test_split(
        images,
        labels,
        train_size=TRAIN_SIZE,
        random_state=seed,
        stratify=labels,
    )
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest,
        y_rest,
        train_size=VALIDATION_SIZE,
        random_state=seed,
        stratify=y_rest,
    )
    num_classes = int(labels.max()) + 1
    if noise:
        rng = np.random.default_rng(seed)
        y_train = add_label_noise(y_train, noise, num_classes, rng)
        y_val = add_label_noise(y_val, noise, num_classes, rng)
    return Splits(
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        num_classes,
        source,
        noise,
    )
