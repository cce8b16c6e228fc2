"""Segmentation: images and masks augmented together, a small U-Net.

1. Draws synthetic scenes (no download): discs (class 1) and squares
   (class 2) on a noisy background (class 0), with their masks.
2. Augments image and mask pairs with one `rk.augment.Pipeline` over a
   dict dataset (``{"images", "segmentation_masks"}``, Keras's
   convention): flips, rotations and zooms move the masks with the images
   (one fused resampling, nearest-neighbour for the masks), colour jitter
   leaves them alone, and cutout writes the "ignore" class 255 into the
   masks where it erases the image; pixels brought in from outside the
   image are 255 too (``mask_fill_value``), so the loss
   (``ignore_class=255``) skips them.
3. Trains a small U-Net briefly, prints the clean test pixel accuracy
   and mean IoU, and writes ``segmentation_pairs.png``: augmented images
   with their augmented masks.

Run:
    pip install -e ".[demo]"
    python examples/segmentation.py

``REGKIT_EXAMPLE_EPOCHS`` sets the epoch budget, ``REGKIT_EXAMPLE_OUT`` the
folder of the PNG (default ``./regkit-examples``).
"""

import os

import keras
import matplotlib
import numpy as np
import tensorflow as tf

import keras_regkit as rk

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EPOCHS = int(os.environ.get("REGKIT_EXAMPLE_EPOCHS", "15"))
OUT = os.environ.get("REGKIT_EXAMPLE_OUT", "regkit-examples")
SEED = 0
SIZE = 48
IGNORE = 255
CLASSES = 3


def scenes(count, seed):
    """uint8 images and int32 masks of discs and squares."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[:SIZE, :SIZE]
    images = rng.integers(0, 60, (count, SIZE, SIZE, 3)).astype("float32")
    masks = np.zeros((count, SIZE, SIZE), "int32")
    for i in range(count):
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.integers(8, SIZE - 8, 2)
            radius = rng.integers(4, 10)
            colour = rng.integers(100, 256, 3)
            if rng.random() < 0.5:
                inside = (ys - cy) ** 2 + (xs - cx) ** 2 < radius**2
                label = 1
            else:
                inside = (abs(ys - cy) < radius) & (abs(xs - cx) < radius)
                label = 2
            images[i][inside] = colour
            masks[i][inside] = label
    return images.astype("uint8"), masks[..., None]


def pipeline():
    return rk.augment.Pipeline(
        [
            rk.augment.RandomFlip("horizontal_and_vertical"),
            rk.augment.RandomRotation(0.1),
            rk.augment.RandomZoom(0.2),
            rk.augment.RandomContrast(0.3),
            rk.augment.RandomBrightness(0.1),
            rk.augment.RandomCutout(10, probability=0.5, mask_value=IGNORE),
        ],
        seed=SEED,
        mask_fill_value=IGNORE,
    )


def unet():
    def block(x, filters):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(
            x
        )
        return keras.layers.Conv2D(
            filters, 3, padding="same", activation="relu"
        )(x)

    inputs = keras.Input((SIZE, SIZE, 3))
    down1 = block(inputs, 16)
    down2 = block(keras.layers.MaxPooling2D()(down1), 32)
    bottom = block(keras.layers.MaxPooling2D()(down2), 64)
    up2 = keras.layers.UpSampling2D()(bottom)
    up2 = block(keras.layers.Concatenate()([up2, down2]), 32)
    up1 = keras.layers.UpSampling2D()(up2)
    up1 = block(keras.layers.Concatenate()([up1, down1]), 16)
    outputs = keras.layers.Conv2D(CLASSES, 1)(up1)
    return keras.Model(inputs, outputs)


def mean_iou(masks, predicted):
    ious = []
    for label in range(CLASSES):
        union = np.sum((masks == label) | (predicted == label))
        if union:
            ious.append(np.sum((masks == label) & (predicted == label)) / union)
    return float(np.mean(ious))


def save_pairs(batch, path, count=6):
    images = batch["images"].numpy()[:count]
    masks = batch["segmentation_masks"].numpy()[:count, ..., 0]
    figure, axes = plt.subplots(2, count, figsize=(1.8 * count, 4))
    colours = np.array(
        [[0.1, 0.1, 0.1], [0.9, 0.3, 0.2], [0.2, 0.5, 0.9]], "float32"
    )
    for i in range(count):
        shown = np.where(
            masks[i][..., None] == IGNORE,
            np.float32(1.0),
            colours[np.minimum(masks[i], CLASSES - 1)],
        )
        axes[0][i].imshow(np.clip(images[i], 0, 1))
        axes[1][i].imshow(shown)
        axes[0][i].set_title(f"augmented #{i + 1}", fontsize=8)
        axes[1][i].set_title("its mask (white: 255)", fontsize=8)
        for ax in axes[:, i]:
            ax.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main():
    train_x, train_y = scenes(256 if EPOCHS > 2 else 64, SEED)
    test_x, test_y = scenes(64, SEED + 1)
    dataset = tf.data.Dataset.from_tensor_slices(
        {"images": train_x, "segmentation_masks": train_y}
    ).batch(32)
    augmented = pipeline()(dataset)
    pairs = augmented.map(lambda d: (d["images"], d["segmentation_masks"]))
    keras.utils.set_random_seed(SEED)
    model = unet()
    model.compile(
        keras.optimizers.Adam(3e-3),
        keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=IGNORE
        ),
    )
    history = model.fit(pairs, epochs=EPOCHS, shuffle=False, verbose=0)
    logits = model.predict(test_x.astype("float32") / 255.0, verbose=0)
    predicted = logits.argmax(-1)
    accuracy = float(np.mean(predicted == test_y[..., 0]))
    print(
        f"U-Net, {EPOCHS} epochs on augmented image+mask pairs: "
        f"final loss {history.history['loss'][-1]:.3f}, clean test pixel "
        f"accuracy {accuracy:.3f}, mean IoU "
        f"{mean_iou(test_y[..., 0], predicted):.3f}"
    )
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "segmentation_pairs.png")
    save_pairs(next(iter(augmented)), path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
