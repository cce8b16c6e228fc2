"""Bounding boxes move with their images (issue 13, section 3)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment._core import boxes as box_ops

FORMATS = box_ops.FORMATS


def one_box_per_image(n=6, height=20, width=16, seed=0):
    """Images and masks holding one rectangle each, and its xyxy box."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, height, width), "int32")
    boxes = np.zeros((n, 1, 4), "float32")
    for i in range(n):
        x1, y1 = rng.integers(1, width // 2), rng.integers(1, height // 2)
        x2 = rng.integers(x1 + 3, width - 1)
        y2 = rng.integers(y1 + 3, height - 1)
        masks[i, y1:y2, x1:x2] = 1
        boxes[i, 0] = [x1, y1, x2, y2]
    labels = np.arange(1, n + 1, dtype="int32")[:, None]
    return masks[..., None].astype("float32"), masks, boxes, labels


def augment(ops, images, boxes, labels, masks=None, seed=4, **kwargs):
    kwargs.setdefault("jit_compile", False)
    kwargs.setdefault("bounding_box_format", "xyxy")
    data = {
        "images": images,
        "bounding_boxes": {"boxes": boxes, "labels": labels},
    }
    if masks is not None:
        data["segmentation_masks"] = masks
    return rka.Pipeline(ops, **kwargs).augment(data, seed=seed)


def mask_box(mask):
    """The xyxy box of a mask's foreground, or None."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])


@pytest.mark.parametrize("fmt", FORMATS)
def test_formats_match_keras_and_round_trip(fmt):
    xyxy = np.array([[[2.0, 3.0, 10.0, 7.0], [0.0, 0.0, 16.0, 20.0]]])
    ours = box_ops.from_xyxy(xyxy, fmt, 20, 16).numpy()
    theirs = keras.utils.bounding_boxes.convert_format(
        xyxy, "xyxy", fmt, height=20, width=16
    )
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6)
    back = box_ops.to_xyxy(ours, fmt, 20, 16).numpy()
    np.testing.assert_allclose(back, xyxy, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fmt", ["xywh", "rel_yxyx", "center_yxhw"])
def test_pipeline_returns_the_format_it_was_given(fmt):
    images, masks, boxes, labels = one_box_per_image(n=3)
    given = box_ops.from_xyxy(boxes, fmt, 20, 16).numpy()
    flip = rka.RandomFlip(probability=1.0)
    out = augment([flip], images, given, labels, bounding_box_format=fmt)
    got = box_ops.to_xyxy(out["bounding_boxes"]["boxes"], fmt, 20, 16)
    expected = boxes.copy()
    expected[..., 0], expected[..., 2] = 16 - boxes[..., 2], 16 - boxes[..., 0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize(
    "op",
    [
        rka.RandomFlip("horizontal_and_vertical"),
        rka.RandomTranslation(0.2, 0.3),
        rka.RandomPadCrop(3),
        rka.RandomZoom((-0.3, 0.4), (-0.2, 0.3)),
        rka.RandomResizedCrop(24, 12, scale=(0.4, 1.0)),
    ],
    ids=["flip", "shift", "pad_crop", "zoom", "resized_crop"],
)
def test_box_of_moved_mask_equals_moved_box(op):
    images, masks, boxes, labels = one_box_per_image(n=8)
    out = augment([op], images, boxes, labels, masks=masks)
    out_masks = out["segmentation_masks"].numpy()
    out_boxes = out["bounding_boxes"]["boxes"].numpy()[:, 0]
    out_labels = out["bounding_boxes"]["labels"].numpy()[:, 0]
    checked = 0
    for i in range(len(images)):
        expected = mask_box(out_masks[i])
        if expected is None:
            assert out_labels[i] == -1
            continue
        assert out_labels[i] == labels[i, 0]
        np.testing.assert_allclose(out_boxes[i], expected, atol=1.0)
        checked += 1
    assert checked >= 4


def test_rotated_box_contains_the_rotated_mask():
    images, masks, boxes, labels = one_box_per_image(n=8)
    ops = [rka.RandomRotation(0.1), rka.RandomShear(0.1)]
    out = augment(ops, images, boxes, labels, masks=masks)
    out_masks = out["segmentation_masks"].numpy()
    out_boxes = out["bounding_boxes"]["boxes"].numpy()[:, 0]
    for i in range(len(images)):
        inner = mask_box(out_masks[i])
        box = out_boxes[i]
        assert np.all(inner[:2] >= box[:2] - 1.0), (inner, box)
        assert np.all(inner[2:] <= box[2:] + 1.0), (inner, box)


def test_resized_crop_boxes_are_the_intersection_with_the_crop():
    rng = np.random.default_rng(1)
    n, height, width = 16, 30, 40
    x1 = rng.uniform(0, 30, (n, 3))
    y1 = rng.uniform(0, 20, (n, 3))
    boxes = np.stack(
        [
            x1,
            y1,
            x1 + rng.uniform(2, 10, (n, 3)),
            y1 + rng.uniform(2, 10, (n, 3)),
        ],
        -1,
    ).astype("float32")
    labels = rng.integers(0, 5, (n, 3)).astype("int32")
    images = np.zeros((n, height, width, 3), "uint8")
    crop = rka.RandomResizedCrop(12, 18, scale=(0.2, 0.6))
    pipeline = rka.Pipeline(
        [crop], bounding_box_format="xyxy", jit_compile=False
    )
    data = {
        "images": images,
        "bounding_boxes": {"boxes": boxes, "labels": labels},
    }
    out = pipeline.augment(data, seed=9)["bounding_boxes"]
    matrix = pipeline.sample(9, n, (height, width, 3))[0]["matrix"].numpy()
    a, c = matrix[:, 0, 0, None], matrix[:, 0, 2, None]
    e, f = matrix[:, 1, 1, None], matrix[:, 1, 2, None]
    # The crop window in input pixels: output [0, 18] x [0, 12].
    left, right = c - 0.5 * a + 0.5, c + 17.5 * a + 0.5
    top, bottom = f - 0.5 * e + 0.5, f + 11.5 * e + 0.5
    ix1 = np.maximum(boxes[..., 0], left)
    iy1 = np.maximum(boxes[..., 1], top)
    ix2 = np.minimum(boxes[..., 2], right)
    iy2 = np.minimum(boxes[..., 3], bottom)
    inside = (ix2 > ix1) & (iy2 > iy1)
    expected = np.stack(
        [
            (ix1 - 0.5 - c) / a + 0.5,
            (iy1 - 0.5 - f) / e + 0.5,
            (ix2 - 0.5 - c) / a + 0.5,
            (iy2 - 0.5 - f) / e + 0.5,
        ],
        -1,
    )
    got_labels = out["labels"].numpy()
    np.testing.assert_array_equal(got_labels, np.where(inside, labels, -1))
    assert 0 < inside.sum() < inside.size
    got = out["boxes"].numpy()
    np.testing.assert_allclose(got[inside], expected[inside], atol=1e-3)
    np.testing.assert_array_equal(got[~inside], -1.0)


def test_visibility_filtering():
    images = np.zeros((1, 10, 20, 1), "float32")
    # Shifted right by exactly 10 pixels: the boxes keep 100 %, 75 %,
    # 50 % and 0 % of their area inside the image.
    boxes = np.array(
        [[[0, 0, 4, 4], [7, 0, 11, 4], [8, 2, 12, 6], [12, 0, 16, 4]]],
        "float32",
    )
    labels = np.array([[1, 2, 3, 4]], "int32")
    shift = rka.RandomTranslation(0.0, (0.5, 0.5))
    for visibility, kept in [(0.0, [1, 2, 3, -1]), (0.6, [1, 2, -1, -1])]:
        out = augment(
            [shift],
            images,
            boxes,
            labels,
            bounding_box_min_visibility=visibility,
        )["bounding_boxes"]
        np.testing.assert_array_equal(out["labels"], [kept])
    np.testing.assert_allclose(
        out["boxes"].numpy()[0, :2], [[10, 0, 14, 4], [17, 0, 20, 4]]
    )
    np.testing.assert_array_equal(out["boxes"].numpy()[0, 2:], -1.0)


def test_padding_stays_padding_and_ragged_boxes_stay_ragged():
    images = np.zeros((2, 10, 10, 1), "float32")
    boxes = np.array(
        [[[1, 1, 3, 3], [-1, -1, -1, -1]], [[0, 0, 10, 10], [8, 8, 9, 9]]],
        "float32",
    )
    labels = np.array([[5, -1], [6, 7]], "int32")
    shift = rka.RandomTranslation((0.2, 0.2), (0.2, 0.2))
    dense = augment([shift], images, boxes, labels)["bounding_boxes"]
    np.testing.assert_array_equal(dense["labels"], [[5, -1], [6, -1]])
    np.testing.assert_array_equal(dense["boxes"][0, 1], [-1, -1, -1, -1])
    ragged = augment(
        [shift],
        images,
        tf.ragged.constant(
            [[[1, 1, 3, 3]], [[0, 0, 10, 10], [8, 8, 9, 9]]],
            ragged_rank=1,
            dtype=tf.float32,
        ),
        tf.ragged.constant([[5], [6, 7]]),
    )["bounding_boxes"]
    assert isinstance(ragged["boxes"], tf.RaggedTensor)
    assert ragged["labels"].to_list() == [[5], [6]]
    np.testing.assert_allclose(
        ragged["boxes"].to_list(), [[[3, 3, 5, 5]], [[2, 2, 10, 10]]]
    )


def test_same_seed_same_boxes_and_dataset_map():
    images, masks, boxes, labels = one_box_per_image(n=6)
    ops = [rka.RandomRotation(0.1), rka.RandomResizedCrop(12, 10)]
    first = augment(ops, images, boxes, labels, seed=3)["bounding_boxes"]
    again = augment(ops, images, boxes, labels, seed=3)["bounding_boxes"]
    other = augment(ops, images, boxes, labels, seed=4)["bounding_boxes"]
    np.testing.assert_array_equal(first["boxes"], again["boxes"])
    assert not np.array_equal(first["boxes"], other["boxes"])
    data = {
        "images": images,
        "bounding_boxes": {"boxes": boxes, "labels": labels},
    }
    ds = tf.data.Dataset.from_tensor_slices(data).batch(3)

    def epochs(pipeline, count=2):
        mapped = pipeline(ds)
        return [
            np.concatenate([b["bounding_boxes"]["boxes"] for b in mapped])
            for _ in range(count)
        ]

    build = lambda: rka.Pipeline(ops, seed=2, bounding_box_format="xyxy")  # noqa: E731
    first_run, second_run = epochs(build()), epochs(build())
    assert first_run[0].shape == (6, 1, 4)
    # Fresh augmentation every epoch, the same epochs given the seed.
    assert not np.array_equal(first_run[0], first_run[1])
    np.testing.assert_array_equal(first_run[0], second_run[0])
    np.testing.assert_array_equal(first_run[1], second_run[1])


def test_bad_boxes_name_the_argument():
    images, _, boxes, labels = one_box_per_image(n=2)
    with pytest.raises(ValueError, match="`bounding_box_format`"):
        augment(
            [rka.RandomFlip()], images, boxes, labels, bounding_box_format=None
        )
    with pytest.raises(ValueError, match="`bounding_boxes`.*'boxes'"):
        rka.Pipeline([], bounding_box_format="xyxy").augment(
            {"images": images, "bounding_boxes": {"boxes": boxes}}, seed=0
        )
    with pytest.raises(ValueError, match="`bounding_boxes`.*\\(batch, n, 4\\)"):
        augment([], images, boxes[..., :3], labels)
    with pytest.raises(ValueError, match="labels shaped \\(batch, n\\)"):
        augment([], images, boxes, np.zeros((2, 2), "int32"))
    with pytest.raises(ValueError, match="Pipeline: .*`bounding_box_format`"):
        rka.Pipeline([], bounding_box_format="xyxy_rel")
    with pytest.raises(ValueError, match="`bounding_box_min_visibility`"):
        rka.Pipeline([], bounding_box_min_visibility=1.5)


def test_integer_boxes_come_back_rounded_integers():
    images = np.zeros((1, 10, 10, 1), "float32")
    boxes = np.array([[[1, 2, 4, 6]]], "int32")
    zoom = rka.RandomZoom((-0.5, -0.5))  # 2x in: (x - 5) * 2 + 5
    out = augment([zoom], images, boxes, np.array([[3]]))["bounding_boxes"]
    assert out["boxes"].dtype == tf.int32
    np.testing.assert_array_equal(out["boxes"], [[[0, 0, 3, 7]]])


def test_composite_moves_boxes_of_the_examples_it_moves():
    rng = np.random.default_rng(3)
    images = rng.random((16, 6, 8, 1)).astype("float32")
    boxes = np.tile(np.array([[[1.0, 1.0, 3.0, 4.0]]], "float32"), (16, 1, 1))
    labels = np.ones((16, 1), "int32")
    choice = rka.RandomChoice(
        [rka.RandomFlip(probability=1.0), rka.RandomContrast(0.0)]
    )
    out = augment([choice], images, boxes, labels)
    flipped = np.all(
        np.isclose(out["images"].numpy(), images[:, :, ::-1]), axis=(1, 2, 3)
    )
    assert 0 < flipped.sum() < 16
    expected = np.where(flipped[:, None, None], [[[5, 1, 7, 4]]], boxes)
    np.testing.assert_allclose(out["bounding_boxes"]["boxes"], expected)
