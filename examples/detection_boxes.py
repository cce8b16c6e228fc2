"""Detection: bounding boxes augmented with their images, drawn.

1. Draws synthetic scenes (no download): coloured rectangles on noise,
   with their boxes in Keras's dict convention (``{"images",
   "bounding_boxes": {"boxes", "labels"}}``, dense, padded with label -1).
2. Augments them with `rk.augment.Pipeline` (``bounding_box_format=
   "xyxy"``, given once): a random resized crop, flips and a small
   rotation fused into one resampling per image, the boxes moved through
   the same matrix (the box of the moved corners, clipped; dropped below
   30 % visibility), colour jitter (boxes unchanged), and, in a second
   pipeline, `Mosaic`: four images into one, with all their boxes.
3. Prints how many boxes each pipeline kept and writes
   ``detection_boxes.png``: the augmented images with their boxes drawn.

Run:
    pip install -e ".[demo]"
    python examples/detection_boxes.py

``REGKIT_EXAMPLE_OUT`` sets the folder of the PNG (default
``./regkit-examples``); ``REGKIT_EXAMPLE_EPOCHS`` is not used (nothing is
trained).
"""

import os

import matplotlib
import numpy as np
import tensorflow as tf

import keras_regkit as rk

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import patches  # noqa: E402

OUT = os.environ.get("REGKIT_EXAMPLE_OUT", "regkit-examples")
SEED = 0
HEIGHT, WIDTH = 96, 128
MAX_BOXES = 4
COLOURS = np.array([[230, 60, 50], [40, 160, 70], [50, 90, 220]], "uint8")


def scenes(count, seed):
    """uint8 images and dense boxes (xyxy, pixels) padded with label -1."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 70, (count, HEIGHT, WIDTH, 3)).astype("uint8")
    boxes = np.full((count, MAX_BOXES, 4), -1.0, "float32")
    labels = np.full((count, MAX_BOXES), -1, "int32")
    for i in range(count):
        for k in range(rng.integers(1, MAX_BOXES + 1)):
            w, h = rng.integers(16, 48), rng.integers(12, 40)
            x1, y1 = rng.integers(0, WIDTH - w), rng.integers(0, HEIGHT - h)
            label = rng.integers(0, len(COLOURS))
            images[i, y1 : y1 + h, x1 : x1 + w] = COLOURS[label]
            boxes[i, k] = [x1, y1, x1 + w, y1 + h]
            labels[i, k] = label
    return images, boxes, labels


def pipelines():
    geometry = rk.augment.Pipeline(
        [
            rk.augment.RandomResizedCrop(HEIGHT, WIDTH, scale=(0.4, 1.0)),
            rk.augment.RandomFlip(),
            rk.augment.RandomRotation(0.03),
            rk.augment.RandomSaturation(0.3),
        ],
        seed=SEED,
        bounding_box_format="xyxy",
        bounding_box_min_visibility=0.3,
    )
    mosaic = rk.augment.Pipeline(
        [rk.augment.Mosaic((0.3, 0.7)), rk.augment.RandomFlip()],
        seed=SEED,
        bounding_box_format="xyxy",
        bounding_box_min_visibility=0.3,
    )
    return {"crop + flip + rotation": geometry, "Mosaic": mosaic}


def draw(ax, image, boxes, labels, title):
    ax.imshow(np.clip(image, 0, 1))
    for box, label in zip(boxes, labels, strict=True):
        if label == -1:
            continue
        x1, y1, x2, y2 = box
        colour = COLOURS[label] / 255.0
        ax.add_patch(
            patches.Rectangle(
                (x1, y1), x2 - x1, y2 - y1, fill=False, lw=1.5, ec="white"
            )
        )
        ax.text(x1, y1, str(label), color=colour, fontsize=7, va="bottom")
    ax.set_title(title, fontsize=8)
    ax.axis("off")


def main():
    images, boxes, labels = scenes(8, SEED)
    dataset = tf.data.Dataset.from_tensor_slices(
        {
            "images": images,
            "bounding_boxes": {"boxes": boxes, "labels": labels},
        }
    ).batch(8)
    columns = 4
    figure, axes = plt.subplots(3, columns, figsize=(2.4 * columns, 5.6))
    for column in range(columns):
        draw(
            axes[0][column],
            images[column] / 255.0,
            boxes[column],
            labels[column],
            "original",
        )
    print(f"{int((labels != -1).sum())} boxes in 8 synthetic images")
    for row, (name, pipeline) in enumerate(pipelines().items(), start=1):
        batch = next(iter(pipeline(dataset)))
        out_boxes = batch["bounding_boxes"]["boxes"].numpy()
        out_labels = batch["bounding_boxes"]["labels"].numpy()
        kept = int((out_labels != -1).sum())
        print(
            f"  {name}: {kept} boxes kept in slots of shape "
            f"{out_boxes.shape} (label -1: removed or padding)"
        )
        for column in range(columns):
            draw(
                axes[row][column],
                batch["images"][column].numpy(),
                out_boxes[column],
                out_labels[column],
                name,
            )
    figure.tight_layout()
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "detection_boxes.png")
    figure.savefig(path, dpi=90)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
