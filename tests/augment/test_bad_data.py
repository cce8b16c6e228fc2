"""Bad data gets a clear error, never garbage (issue 19, point 3).

Float images beyond the pipeline's ``value_range`` (a forgotten ``/ 255``),
class ids a mixing op cannot one-hot, NaN or inverted boxes, masks of
another size than their images: each raises a ValueError naming the
input eagerly and, inside ``tf.data.Dataset.map`` (a graph, shapes maybe
unknown), fails a `tf.debugging` assertion with the same message. Also:
boolean masks, keypoints with more than two columns through `Mosaic`,
and `Pipeline.convert` with a mixing op (point 6).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka

RNG = np.random.default_rng(0)
# Non-square on purpose.
UINT8 = RNG.integers(0, 256, size=(4, 8, 6, 3)).astype("uint8")
UINT8[0, 0, 0, :2] = 0, 255
IMAGES = UINT8.astype("float32") / 255.0


def pipeline(ops, **kwargs):
    return rka.Pipeline(ops, seed=1, jit_compile=False, **kwargs)


def eager_message(run):
    with pytest.raises(ValueError) as info:
        run()
    return str(info.value)


def graph_message(dataset):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        next(iter(dataset))
    return info.value.message


def dataset_of(data, signature=None):
    """A batched dataset of ``data``; shapes unknown with ``signature``."""
    if signature is None:
        return tf.data.Dataset.from_tensor_slices(data).batch(4)

    def generate():
        yield data

    return tf.data.Dataset.from_generator(generate, output_signature=signature)


# --- Float images in [0, 255] ------------------------------------------------


def test_float_images_in_0_255_raise_naming_the_fix():
    message = eager_message(
        lambda: pipeline([rka.RandomRotation(0.1)]).augment(
            IMAGES * 255, seed=0
        )
    )
    assert "Pipeline: Invalid value received for argument `images`" in message
    assert "divide them by 255" in message
    assert "value_range=(0, 255)" in message
    assert (
        "Received: images=a batch with values outside [-0.1, 1.1] (or NaN)"
        in message
    )


def test_float_images_in_0_255_fail_in_a_dataset_map_with_the_same_message():
    p = pipeline([rka.RandomContrast(0.2)])
    eager = eager_message(lambda: p.augment(IMAGES * 255, seed=0))
    dataset = p(dataset_of((IMAGES * 255, np.arange(4))))
    assert eager in graph_message(dataset)


def test_images_within_the_tolerance_pass_and_others_fail():
    p = pipeline([rka.RandomFlip()])
    # A bicubic resize overshoots [0, 1] a little: accepted.
    overshoot = np.clip(IMAGES * 1.1 - 0.05, -0.09, 1.09)
    assert p.augment(overshoot, seed=0).shape == IMAGES.shape
    with pytest.raises(ValueError, match=r"values outside \[-0.1, 1.1\]"):
        p.augment(IMAGES * 2 - 1, seed=0)
    # Other data than images (a spectrogram in dB) is not range-checked.
    spectrograms = RNG.normal(size=(2, 12, 10)).astype("float32") * 40
    out = pipeline([rka.TimeMasking(3)]).augment(spectrograms, seed=0)
    assert out.shape == spectrograms.shape


def test_value_range_0_255_reads_floats_as_uint8_is_read():
    ops = [rka.RandomRotation(0.1), rka.RandomContrast(0.3)]
    from_uint8 = pipeline(ops).augment(UINT8, seed=5)
    scaled = pipeline(ops, value_range=(0, 255))
    from_floats = scaled.augment(UINT8.astype("float32"), seed=5)
    np.testing.assert_allclose(from_floats, from_uint8, atol=1e-5)
    assert scaled.get_config()["value_range"] == [0.0, 255.0]
    assert rka.Pipeline.from_config(scaled.get_config()).value_range == [
        0.0,
        255.0,
    ]
    minus_one = pipeline([], value_range=(-1, 1)).convert(IMAGES * 2 - 1)
    np.testing.assert_allclose(minus_one, IMAGES, atol=1e-6)


@pytest.mark.parametrize("value_range", [(1, 1), (2, 1), 255])
def test_bad_value_range_raises(value_range):
    with pytest.raises(ValueError, match="`value_range`"):
        rka.Pipeline([], value_range=value_range)


def test_augmentation_layer_scales_alike_in_training_and_inference():
    identity = [rka.RandomFlip(probability=0.0)]
    layer = rka.AugmentationLayer(pipeline(identity, value_range=(0, 255)))
    floats = UINT8.astype("float32")
    trained = layer(floats, training=True)
    inferred = layer(floats, training=False)
    np.testing.assert_allclose(trained, IMAGES, atol=1e-6)
    np.testing.assert_allclose(inferred, IMAGES, atol=1e-6)
    default = rka.AugmentationLayer(pipeline(identity))
    for training in (True, False):
        with pytest.raises(ValueError, match="divide them by 255"):
            default(floats, training=training)
    # The check compiles in a model compiled with XLA (which drops it).
    infer = tf.function(lambda x: default(x, training=False), jit_compile=True)
    np.testing.assert_allclose(infer(IMAGES), IMAGES)


def test_unbatched_float_images_follow_value_range():
    # Images of any size, cropped one by one (augment.inputs.unbatched).
    ds = tf.data.Dataset.from_tensor_slices(UINT8.astype("float32"))
    crop = [rka.RandomResizedCrop(4, 4)]
    out = next(iter(pipeline(crop, value_range=(0, 255))(ds))).numpy()
    assert out.shape == (4, 4, 3) and 0.0 <= out.min() <= out.max() <= 1.0
    match = "divide them by 255"
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        next(iter(pipeline(crop)(ds)))


# --- Labels of mixing ops ----------------------------------------------------

SPARSE_CASES = {
    "labels_1_to_K": np.array([1, 2, 3, 3]),
    "minus_one": np.array([0, -1, 2, 1]),
}
MIXING_OPS = {
    "CutMix": lambda: [rka.CutMix(num_classes=3)],
    "MixUp": lambda: [rka.MixUp(num_classes=3)],
    "Mosaic": lambda: [rka.Mosaic(num_classes=3)],
    "policy_and_MixUpCutMix": lambda: [
        rka.TrivialAugment(),
        rka.MixUpCutMix(num_classes=3),
    ],
}


@pytest.mark.parametrize("labels", SPARSE_CASES.values(), ids=SPARSE_CASES)
@pytest.mark.parametrize("make_ops", MIXING_OPS.values(), ids=MIXING_OPS)
def test_class_ids_out_of_range_raise_naming_them(make_ops, labels):
    p = pipeline(make_ops())
    bad = labels[(labels < 0) | (labels >= 3)]
    shown = np.array2string(bad)
    with pytest.raises(ValueError) as info:
        p.augment((IMAGES, labels), seed=0)
    message = str(info.value)
    assert "argument `labels`" in message
    assert "class ids in [0, 3) for num_classes=3" in message
    assert f"Received: labels=ids {shown} outside [0, 3)" in message


def test_float_class_ids_shaped_batch_1_raise_binary_targets_mix():
    labels = np.array([[0.0], [1.0], [2.0], [2.0]], "float32")
    with pytest.raises(
        ValueError, match=r"float class ids shaped \(batch, 1\)"
    ):
        pipeline([rka.MixUp()]).augment((IMAGES, labels), seed=0)
    binary = np.array([[0.0], [1.0], [1.0], [0.0]], "float32")
    _, mixed = pipeline([rka.MixUp()]).augment((IMAGES, binary), seed=0)
    assert mixed.shape == (4, 1)
    assert np.all((mixed.numpy() >= 0) & (mixed.numpy() <= 1))
    one_hot = np.eye(3, dtype="float32")[[0, 1, 2, 1]]
    _, mixed = pipeline([rka.CutMix(num_classes=3)]).augment(
        (IMAGES, one_hot), seed=0
    )
    np.testing.assert_allclose(mixed.numpy().sum(axis=1), 1.0, rtol=1e-5)


def test_bad_labels_fail_in_a_dataset_map_with_the_same_message():
    p = pipeline([rka.MixUp(num_classes=3)])
    labels = SPARSE_CASES["labels_1_to_K"]
    eager = eager_message(lambda: p.augment((IMAGES, labels), seed=0))
    assert eager in graph_message(p(dataset_of((IMAGES, labels))))


# --- Boxes -------------------------------------------------------------------

# The box, its format, how the message shows it.
BAD_BOXES = {
    "nan": ([np.nan, 1, 3, 4], "xyxy", "[[nan 1 3 4]]"),
    "inverted_x": ([4, 1, 2.5, 5], "xyxy", "[[4 1 2.5 5]]"),
    "inverted_y": ([5, 1, 2, 3], "yxyx", "[[5 1 2 3]]"),
    "negative_width": ([1, 1, -2, 3], "xywh", "[[1 1 -2 3]]"),
    "infinite": ([1, 1, np.inf, 3], "rel_xyxy", "[[1 1 inf 3]]"),
}
BOX_PIPELINES = {
    "colour_only": lambda: [rka.RandomContrast(0.2)],
    "geometric": lambda: [rka.RandomFlip()],
    "no_ops": lambda: [],
    "cutmix": lambda: [rka.CutMix(num_classes=3)],
}


def boxes_data(box, count=4):
    boxes = np.array([[[0.1, 0.1, 0.3, 0.4], [-1, -1, -1, -1]]] * count)
    boxes = boxes.astype("float32")
    boxes[1, 0] = box
    labels = np.tile(np.array([[1, -1]], "float32"), (count, 1))
    return {
        "images": IMAGES,
        "labels": np.arange(count) % 3,
        "bounding_boxes": {"boxes": boxes, "labels": labels},
    }


@pytest.mark.parametrize("make_ops", BOX_PIPELINES.values(), ids=BOX_PIPELINES)
@pytest.mark.parametrize("case", BAD_BOXES.values(), ids=BAD_BOXES)
def test_nan_and_inverted_boxes_raise_in_every_pipeline(case, make_ops):
    box, fmt, shown = case
    p = pipeline(make_ops(), bounding_box_format=fmt)
    with pytest.raises(ValueError) as info:
        p.augment(boxes_data(box), seed=0)
    message = str(info.value)
    assert "argument `bounding_boxes`" in message
    assert "finite boxes with left <= right and top <= bottom" in message
    assert f"Received: bounding_boxes={shown} (format {fmt})" in message


def test_bad_boxes_fail_in_a_dataset_map_with_the_same_message():
    p = pipeline([rka.RandomFlip()], bounding_box_format="xyxy")
    # Padding (label -1) is not checked, whatever its numbers.
    good = boxes_data([0.1, 0.1, 0.3, 0.4])
    good["bounding_boxes"]["boxes"][:, 1] = [5, 5, 1, np.nan]
    out = p.augment(good, seed=0)["bounding_boxes"]
    expected = good["bounding_boxes"]["labels"]
    np.testing.assert_array_equal(out["labels"], expected)
    data = boxes_data(BAD_BOXES["inverted_x"][0])
    eager = eager_message(lambda: p.augment(data, seed=0))
    assert eager in graph_message(p(dataset_of(data)))


# --- Masks -------------------------------------------------------------------

MASK_SIGNATURE = {
    "images": tf.TensorSpec([None, None, None, 3], tf.float32),
    "segmentation_masks": tf.TensorSpec([None, None, None], tf.int32),
}


def test_mask_of_another_size_fails_with_unknown_shapes():
    p = pipeline([rka.RandomFlip(probability=1.0)])
    good = RNG.integers(0, 4, size=(4, 8, 6)).astype("int32")
    data = {"images": IMAGES, "segmentation_masks": good}
    out = next(iter(p(dataset_of(data, MASK_SIGNATURE))))
    np.testing.assert_array_equal(out["segmentation_masks"], good[:, :, ::-1])
    masks = np.zeros((4, 6, 8), "int32")  # The images are 8 x 6.
    data = {"images": IMAGES, "segmentation_masks": masks}
    eager = eager_message(lambda: p.augment(data, seed=0))
    assert (
        "Expected masks the size of their images. Received: "
        "segmentation_masks=(6, 8) for images of size (8, 6)" in eager
    )
    dataset = p(dataset_of(data, MASK_SIGNATURE))
    assert eager in graph_message(dataset)


def test_boolean_masks_come_back_boolean_and_moved():
    masks = RNG.random((4, 8, 6)) > 0.5
    flip = pipeline([rka.RandomFlip(probability=1.0)])
    out = flip.augment({"images": IMAGES, "segmentation_masks": masks}, 0)
    assert out["segmentation_masks"].dtype == tf.bool
    np.testing.assert_array_equal(out["segmentation_masks"], masks[:, :, ::-1])
    # Outside the image: the fill value 0, False.
    shift = pipeline([rka.RandomTranslation((0.5, 0.5), 0.0)])  # 4 down
    out = shift.augment({"images": IMAGES, "segmentation_masks": masks}, 0)
    assert out["segmentation_masks"].dtype == tf.bool
    assert not np.any(out["segmentation_masks"][:, :4])
    np.testing.assert_array_equal(
        out["segmentation_masks"][:, 4:], masks[:, :4]
    )


# --- Keypoints with more columns ---------------------------------------------


def keypoints(columns):
    xy = RNG.uniform(0, 6, size=(4, 3, 2))
    flag = np.full((4, 3, 1), 2.0)
    ids = (10 * np.arange(4)[:, None] + np.arange(3))[..., None]
    return np.concatenate([xy, flag, ids], axis=-1)[..., :columns]


@pytest.mark.parametrize("columns", [3, 4])
def test_mosaic_carries_every_keypoint_column(columns):
    points = keypoints(columns).astype("float32")
    mosaic = pipeline([rka.Mosaic()])
    out = mosaic.augment({"images": IMAGES, "keypoints": points}, 0)
    got = out["keypoints"].numpy()
    assert got.shape == (4, 12, columns)
    two = mosaic.augment({"images": IMAGES, "keypoints": points[..., :2]}, 0)
    two = two["keypoints"].numpy()
    inside = np.all(two != -1, axis=-1)
    np.testing.assert_allclose(got[..., :2][inside], two[inside], atol=1e-5)
    # The flag: kept (2) where the point stays in its quadrant, else 0.
    np.testing.assert_array_equal(got[..., 2], np.where(inside, 2.0, 0.0))
    if columns == 4:
        # Slots 3q..3q+2 of example i hold example (i + q) % 4's points.
        source = (np.arange(4)[:, None] + np.arange(12)[None] // 3) % 4
        expected = 10 * source + np.arange(12)[None] % 3
        np.testing.assert_array_equal(got[..., 3], expected)


def test_geometric_ops_carry_extra_keypoint_columns():
    points = keypoints(4).astype("float32")
    flip = pipeline([rka.RandomFlip(probability=1.0)])
    out = flip.augment({"images": IMAGES, "keypoints": points}, 0)
    got = out["keypoints"].numpy()
    np.testing.assert_allclose(got[..., 0], 6 - points[..., 0], atol=1e-5)
    np.testing.assert_array_equal(got[..., 2:], points[..., 2:])


# --- Pipeline.convert with a mixing op (point 6) -----------------------------


@pytest.mark.parametrize(
    "op", [rka.MixUp(num_classes=3), rka.CutMix(num_classes=3)]
)
def test_convert_with_a_mixing_op_needs_no_labels(op):
    out = pipeline([op]).convert(UINT8)
    np.testing.assert_allclose(out, IMAGES, atol=1e-6)
    # Running the op still needs them.
    with pytest.raises(ValueError, match="mixing needs labels"):
        pipeline([op]).augment(IMAGES, seed=0)


def test_messages_have_no_quotes_the_graph_would_escape():
    # tf.debugging.Assert escapes quotes; the eager and graph messages are
    # compared above, so a quote would make them differ.
    p = pipeline([rka.RandomFlip()], bounding_box_format="xyxy")
    message = eager_message(lambda: p.augment(boxes_data([np.nan] * 4), 0))
    assert not re.search("['\"]", message)
