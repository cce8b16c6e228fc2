"""Keypoints move with their images; all targets through model.fit."""

import helpers
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka


def marked(n=8, height=16, width=14, points=3, seed=0):
    """Images with 3x3 marks, one per keypoint at the mark's centre."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, height, width, 1), "float32")
    keypoints = np.zeros((n, points, 2), "float32")
    for i in range(n):
        rows = rng.choice(np.arange(2, height - 2, 4), points, replace=False)
        cols = rng.choice(np.arange(2, width - 2, 3), points, replace=False)
        for k, (row, col) in enumerate(zip(rows, cols, strict=True)):
            images[i, row - 1 : row + 2, col - 1 : col + 2] = 1.0
            keypoints[i, k] = [col + 0.5, row + 0.5]
    return images, keypoints


def run(ops, images, keypoints, seed=2, **kwargs):
    kwargs.setdefault("jit_compile", False)
    pipeline = rka.Pipeline(ops, interpolation="nearest", **kwargs)
    out = pipeline.augment({"images": images, "keypoints": keypoints}, seed)
    return out["images"].numpy(), out["keypoints"].numpy()


@pytest.mark.parametrize(
    "ops",
    [
        [rka.RandomFlip("horizontal_and_vertical")],
        [rka.RandomRotation((0.25, 0.25))],
        [rka.RandomRotation(0.15), rka.RandomZoom(0.2), rka.RandomShear(0.1)],
        [rka.RandomResizedCrop(20, 18, scale=(0.5, 1.0))],
        [rka.RandAugment(2, 5, ops=["rotate", "translate_y", "shear_x"])],
    ],
    ids=["flip", "rot90", "affine", "resized_crop", "randaugment"],
)
def test_keypoint_on_a_marked_pixel_lands_on_it(ops):
    images, keypoints = marked()
    with_flags = np.concatenate(
        [keypoints, np.ones_like(keypoints[..., :1])], -1
    )
    out_images, out = run(ops, images, with_flags)
    visible = out[..., 2] > 0
    assert visible.sum() >= 0.6 * visible.size
    height, width = out_images.shape[1:3]
    for i, k in zip(*np.nonzero(visible), strict=True):
        x, y = out[i, k, :2]
        assert 0 <= x < width and 0 <= y < height
        assert out_images[i, int(y), int(x), 0] == 1.0, (i, k, x, y)


def test_keypoints_leaving_the_image_are_flagged():
    images = np.zeros((1, 10, 20, 1), "float32")
    points = np.array([[[2.5, 1.5], [14.5, 3.5], [-1.0, -1.0]]], "float32")
    shift = rka.RandomTranslation(0.0, (0.5, 0.5))  # 10 pixels right
    _, out = run([shift], images, points)
    np.testing.assert_allclose(out, [[[12.5, 1.5], [-1, -1], [-1, -1]]])
    # Three columns: the flag is zeroed, the coordinates kept; an absent
    # point (flag 0) stays absent.
    flags = np.array([[[2.5, 1.5, 2], [14.5, 3.5, 1], [3.0, 3.0, 0]]])
    _, out = run([shift], images, flags)
    np.testing.assert_allclose(
        out, [[[12.5, 1.5, 2], [24.5, 3.5, 0], [13.0, 3.0, 0]]]
    )
    assert out.dtype == np.float64


def test_keypoints_are_refused_by_cutmix_with_the_op_named():
    images, keypoints = marked(n=2)
    data = {"images": images, "keypoints": keypoints, "labels": [0, 1]}
    with pytest.raises(ValueError, match="CutMix: .*`keypoints`"):
        rka.Pipeline([rka.CutMix(num_classes=2)]).augment(data, seed=0)
    with pytest.raises(ValueError, match="`keypoints`.*\\(batch, k, 2\\)"):
        run([], images, keypoints[..., :1])


_SCRIPT = """
import numpy as np
from keras_regkit import augment as rka
rng = np.random.default_rng(0)
data = {
    "images": rng.integers(0, 255, (4, 12, 10, 3)).astype("uint8"),
    "segmentation_masks": rng.integers(0, 3, (4, 12, 10, 1)),
    "bounding_boxes": {
        "boxes": rng.uniform(0, 8, (4, 2, 4)).cumsum(-1).astype("float32"),
        "labels": np.ones((4, 2), "int32"),
    },
    "keypoints": rng.uniform(0, 10, (4, 3, 2)).astype("float32"),
}
ops = [rka.RandomRotation(0.1), rka.RandomContrast(0.3),
       rka.RandomResizedCrop(8, 8, scale=(0.5, 1.0)), rka.RandomFlip()]
pipeline = rka.Pipeline(ops, bounding_box_format="xyxy", jit_compile=False)
out = pipeline.augment(data, seed=11)
import tensorflow as tf
flat = [np.asarray(v, "float64").ravel() for v in tf.nest.flatten(out)]
print(repr(np.concatenate(flat).sum()))
"""


@pytest.mark.new_process
def test_same_seed_same_targets_across_processes():
    # One fresh process against this one: the same seed, the same targets.
    value = helpers.run_python(_SCRIPT).stdout.split()[-1]
    exec_globals = {}
    exec(_SCRIPT.replace("print(", "result = ("), exec_globals)  # noqa: S102
    assert exec_globals["result"] == value


def test_dict_dataset_through_model_fit():
    rng = np.random.default_rng(0)
    n, size = 8, 12
    images = rng.integers(0, 255, (n, size, size, 3)).astype("uint8")
    masks = (images[..., :1] > 127).astype("int32")
    ds = tf.data.Dataset.from_tensor_slices(
        {"images": images, "segmentation_masks": masks}
    ).batch(4)
    pipeline = rka.Pipeline(
        [rka.RandomFlip(), rka.RandomRotation(0.05), rka.RandomContrast(0.1)],
        seed=0,
    )
    pairs = pipeline(ds).map(lambda d: (d["images"], d["segmentation_masks"]))
    model = keras.Sequential(
        [
            keras.Input((size, size, 3)),
            keras.layers.Conv2D(2, 3, padding="same"),
        ]
    )
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(pairs, epochs=2, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all()
    # A model taking the dict itself: extra keys ignored by name.
    inputs = keras.Input((size, size, 3), name="images")
    outputs = keras.layers.Conv2D(2, 3, padding="same")(inputs)
    dict_model = keras.Model({"images": inputs}, outputs)
    dict_model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    as_dicts = pipeline(ds).map(
        lambda d: ({"images": d["images"]}, d["segmentation_masks"])
    )
    history = dict_model.fit(as_dicts, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all()


def test_augmentation_layer_refuses_targets():
    layer = rka.AugmentationLayer(rka.Pipeline([rka.RandomFlip()]))
    x = np.zeros((2, 4, 4, 3), "float32")
    with pytest.raises(ValueError, match="AugmentationLayer: .*`inputs`"):
        layer({"images": x, "segmentation_masks": x[..., :1]}, training=True)


def test_every_target_under_xla_equals_without():
    rng = np.random.default_rng(0)
    data = {
        "images": rng.integers(0, 255, (4, 12, 10, 3)).astype("uint8"),
        "labels": np.arange(4) % 3,
        "segmentation_masks": rng.integers(0, 3, (4, 12, 10, 1)),
        "bounding_boxes": {
            "boxes": rng.uniform(0, 8, (4, 2, 4)).cumsum(-1),
            "labels": np.ones((4, 2), "int32"),
        },
        "keypoints": rng.uniform(0, 10, (4, 3, 2)).astype("float32"),
    }
    ops = [
        rka.RandomRotation(0.1),
        rka.RandomContrast(0.3),
        rka.RandomFlip(),
        rka.RandomResizedCrop(8, 8, scale=(0.5, 1.0)),
        rka.Mosaic(num_classes=3),
        rka.RandomCutout(3, mask_value=9),
    ]
    outs = [
        rka.Pipeline(
            ops, bounding_box_format="rel_xywh", jit_compile=jit
        ).augment(data, seed=11)
        for jit in (True, False)
    ]
    assert outs[0]["keypoints"].shape == (4, 12, 2)
    assert outs[0]["bounding_boxes"]["boxes"].shape == (4, 8, 4)
    for xla, plain in zip(*map(tf.nest.flatten, outs), strict=True):
        np.testing.assert_allclose(xla, plain, atol=1e-4)
