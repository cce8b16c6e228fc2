"""An augmentation pipeline feeding `fit`, and a grid of augmented photos.

1. Trains a small CNN on 300 of scikit-learn's bundled digits (no
   download) with and without `rk.augment.Pipeline`: shifts, rotations and
   zooms fused into one resampling per image, then MixUp/CutMix with soft
   one-hot labels. Prints train and test accuracy of both.
2. Writes ``augmented_views.png``: the two photographs scikit-learn ships
   (`load_sample_images`), each shown as it is, through the fused geometric
   pipeline (flip, rotation, zoom, shear, translation: one resampling),
   through RandAugment (2 ops, magnitude 9, per example), and through
   CutMix with the other photo.

Run:
    pip install -e ".[demo]"
    python examples/augmentation.py

``REGKIT_EXAMPLE_EPOCHS`` sets the epoch budget, ``REGKIT_EXAMPLE_OUT`` the
folder of the PNG (default ``./regkit-examples``).
"""

import os

import keras
import matplotlib
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.datasets import load_sample_images
from sklearn.model_selection import train_test_split

import keras_regkit as rk

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EPOCHS = int(os.environ.get("REGKIT_EXAMPLE_EPOCHS", "60"))
OUT = os.environ.get("REGKIT_EXAMPLE_OUT", "regkit-examples")
SEED = 0
VIEWS = 3


def digits_pipeline():
    return rk.augment.Pipeline(
        [
            rk.augment.RandomTranslation(0.125, 0.125),
            rk.augment.RandomRotation(0.04),
            rk.augment.RandomZoom(0.1),
            rk.augment.MixUpCutMix(num_classes=10),
        ],
        seed=SEED,
    )


def train_digits(pipeline):
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        x,
        digits.target,
        train_size=300,
        random_state=SEED,
        stratify=digits.target,
    )
    y_train = keras.utils.to_categorical(y_train, 10)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(300, seed=SEED)
        .batch(32)
    )
    if pipeline is not None:
        dataset = pipeline(dataset)
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(
                64, 3, strides=2, padding="same", activation="relu"
            ),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        "adam",
        keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(dataset, epochs=EPOCHS, shuffle=False, verbose=0)
    train_acc = model.evaluate(x_train, y_train, verbose=0)[1]
    test_acc = model.evaluate(
        x_test, keras.utils.to_categorical(y_test, 10), verbose=0
    )[1]
    return train_acc, test_acc


def photo_rows():
    """Rows of (title, image) for the PNG grid."""
    photos = np.stack(load_sample_images().images)[:, ::2, ::2]  # 214 x 320
    labels = np.eye(2, dtype="float32")
    geometry = rk.augment.Pipeline(
        [
            rk.augment.RandomFlip(),
            rk.augment.RandomRotation(0.05),
            rk.augment.RandomZoom(0.2),
            rk.augment.RandomShear(0.2),
            rk.augment.RandomTranslation(0.1, 0.1),
        ],
        fill_mode="reflect",
        seed=SEED,
    )
    randaugment = rk.augment.Pipeline(
        [rk.augment.RandAugment(num_ops=2, magnitude=9)], seed=SEED
    )
    cutmix = rk.augment.Pipeline(
        [rk.augment.CutMix(alpha=1.0, mode="elem", num_classes=2)], seed=SEED
    )
    rows = [[("original", p / 255.0) for p in photos]]
    for name, pipeline in [
        ("fused geometry", geometry),
        ("RandAugment", randaugment),
    ]:
        for view in range(VIEWS):
            images = pipeline.augment(photos, (SEED, view)).numpy()
            rows.append([(f"{name} #{view + 1}", image) for image in images])
    images, soft = cutmix.augment((photos, labels), (SEED, 99))
    rows.append(
        [
            (f"CutMix, label weights {s[0]:.2f} / {s[1]:.2f}", image)
            for image, s in zip(images.numpy(), soft.numpy(), strict=True)
        ]
    )
    return rows


def save_grid(rows, path):
    figure, axes = plt.subplots(
        len(rows[0]), len(rows), figsize=(2.6 * len(rows), 4.2), squeeze=False
    )
    for column, row in enumerate(rows):
        for index, (title, image) in enumerate(row):
            ax = axes[index][column]
            ax.imshow(np.clip(image, 0, 1))
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main():
    plain = train_digits(None)
    augmented = train_digits(digits_pipeline())
    print(f"digits, {EPOCHS} epochs   train acc  test acc     gap")
    for name, (train_acc, test_acc) in [
        ("plain", plain),
        ("augmented", augmented),
    ]:
        print(
            f"  {name:<20}{train_acc:>10.3f}{test_acc:>10.3f}"
            f"{train_acc - test_acc:>8.3f}"
        )
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "augmented_views.png")
    save_grid(photo_rows(), path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
