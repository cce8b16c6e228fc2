"""Segmentation masks move with their images (issue 13, section 3)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka


def shapes(n=6, height=12, width=10, classes=4, seed=0):
    """Images whose pixel value encodes the mask's class: v = class / 10."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, height, width), "int32")
    for i in range(n):
        for label in range(1, classes):
            top, left = rng.integers(0, height - 3), rng.integers(0, width - 3)
            size_h, size_w = rng.integers(2, 6, size=2)
            masks[i, top : top + size_h, left : left + size_w] = label
    images = (masks[..., None] / 10.0).astype("float32")
    return images, masks


def run(ops, images, masks, seed=3, **kwargs):
    kwargs.setdefault("jit_compile", False)
    pipeline = rka.Pipeline(ops, **kwargs)
    data = {"images": images, "segmentation_masks": masks}
    out = pipeline.augment(data, seed=seed)
    return out["images"].numpy(), out["segmentation_masks"].numpy()


def classes_of(images):
    return np.round(images[..., 0] * 10.0).astype("int32")


@pytest.mark.parametrize(
    "op",
    [
        rka.RandomFlip("horizontal_and_vertical", probability=1.0),
        rka.RandomFlip("horizontal", probability=0.5),
        rka.RandomRotation((0.25, 0.25)),
        rka.RandomRotation((-0.5, -0.5)),
        rka.RandomPadCrop(3),
    ],
    ids=["flip_both", "flip_half", "rot90", "rot180", "pad_crop"],
)
def test_mask_and_image_move_identically_exact(op):
    images, masks = shapes(height=10, width=10)
    out_images, out_masks = run([op], images, masks)
    np.testing.assert_array_equal(out_masks, classes_of(out_images))
    assert out_masks.dtype == np.int32 and out_masks.shape == masks.shape
    if isinstance(op, rka.RandomFlip) and op.probability == 1.0:
        np.testing.assert_array_equal(out_masks, masks[:, ::-1, ::-1])


def test_random_affines_mask_equals_thresholded_image():
    images, masks = shapes(n=8, height=14, width=11)
    binary = (masks > 0).astype("float32")[..., None]
    ops = [
        rka.RandomRotation(0.1),
        rka.RandomShear(0.2, 0.1),
        rka.RandomZoom(0.3),
        rka.RandomTranslation(0.2, 0.2),
    ]
    # Nearest interpolation for the images too: the very same pixels.
    out_images, out_masks = run(ops, binary, masks, interpolation="nearest")
    np.testing.assert_array_equal(out_masks > 0, out_images[..., 0] > 0.5)
    # Bilinear images: the thresholded foreground agrees but at edges.
    out_images, out_masks = run(ops, binary, masks)
    agree = np.mean((out_masks > 0) == (out_images[..., 0] > 0.5))
    assert agree > 0.97, agree
    assert (out_masks > 0).any() and set(np.unique(out_masks)) <= {0, 1, 2, 3}


def test_mask_fill_value_where_the_image_is_filled():
    images = np.ones((4, 9, 13, 1), "float32")
    masks = np.ones((4, 9, 13, 1), "uint8")
    ops = [rka.RandomRotation((0.125, 0.125)), rka.RandomZoom((0.5, 0.5))]
    out_images, out_masks = run(
        ops, images, masks, interpolation="nearest", mask_fill_value=255
    )
    outside = out_images[..., 0] == 0.0
    assert outside.mean() > 0.2
    np.testing.assert_array_equal(out_masks[..., 0] == 255, outside)
    np.testing.assert_array_equal(out_masks[..., 0][~outside], 1)
    assert out_masks.dtype == np.uint8
    # Reflect: the masks are reflected like the images, no fill at all.
    images, masks = shapes(height=9, width=13)
    out_images, out_masks = run(
        ops, images, masks, interpolation="nearest", fill_mode="reflect"
    )
    np.testing.assert_array_equal(out_masks, classes_of(out_images))


def test_resized_crop_and_photometric_ops():
    images, masks = shapes(n=5, height=16, width=12)
    ops = [
        rka.RandomResizedCrop(8, 6, scale=(0.3, 1.0)),
        rka.RandomBrightness(0.0),
        rka.RandomContrast(0.0),
        rka.RandomFlip(),
    ]
    out_images, out_masks = run(ops, images, masks, interpolation="nearest")
    assert out_masks.shape == (5, 8, 6)
    np.testing.assert_array_equal(out_masks, classes_of(out_images))
    # Colour alone: the masks come back unchanged.
    _, same = run(
        [rka.RandomContrast(0.5), rka.RandomHue(0.2)],
        np.repeat(images, 3, -1),
        masks,
    )
    np.testing.assert_array_equal(same, masks)


@pytest.mark.parametrize(
    "op",
    [
        rka.RandomErasing(probability=1.0, mask_value=255),
        rka.RandomCutout(4, count=2, mask_value=255),
        rka.GridMask((4, 6), 0.5, mask_value=255),
        rka.RandomApply([rka.RandomCutout(5, mask_value=255)], 0.5),
    ],
    ids=["erasing", "cutout", "gridmask", "gated"],
)
def test_erasing_fills_masks_with_mask_value(op):
    images = np.ones((8, 12, 10, 1), "float32")
    masks = np.ones((8, 12, 10), "int32")
    out_images, out_masks = run([op], images, masks)
    erased = out_images[..., 0] == 0.0
    assert erased.any() and not erased.all()
    np.testing.assert_array_equal(out_masks == 255, erased)
    np.testing.assert_array_equal(out_masks[~erased], 1)


def test_erasing_without_mask_value_leaves_masks():
    images, masks = shapes()
    out_images, out_masks = run([rka.RandomCutout(4)], images, masks)
    assert (out_images == 0).any()
    np.testing.assert_array_equal(out_masks, masks)


def test_composites_carry_masks():
    images, masks = shapes(n=16, height=10, width=10)
    choice = rka.RandomChoice(
        [rka.RandomFlip(probability=1.0), rka.RandomContrast(0.0)]
    )
    policy = rka.RandAugment(2, 9, ops=["rotate", "translate_x", "identity"])
    for ops in ([choice], [policy], [rka.TrivialAugment(["shear_x"])]):
        out_images, out_masks = run(ops, images, masks, interpolation="nearest")
        np.testing.assert_array_equal(out_masks, classes_of(out_images))
    # AugMix blends chains moved differently: refused with geometry...
    with pytest.raises(ValueError, match="AugMix: .*`segmentation_masks`"):
        run([rka.AugMix(ops=["rotate", "equalize"])], images, masks)
    # ... kept (and repeated with the views) without.
    augmix = rka.AugMix(jsd=True, ops=["equalize", "posterize"])
    _, out_masks = run([augmix], images, masks)
    np.testing.assert_array_equal(out_masks, np.concatenate([masks] * 3))


def test_xla_segments_deterministic_and_consistent():
    images, masks = shapes(n=4, height=10, width=10)
    ops = [
        rka.RandomFlip(),
        rka.RandomContrast(0.0),
        rka.RandomRotation((0.25, 0.25)),
    ]
    pipeline = rka.Pipeline(ops, jit_compile=True)
    assert len(pipeline.chain.segments()) == 2
    data = {"images": images, "segmentation_masks": masks}
    first = pipeline.augment(data, seed=5)
    second = pipeline.augment(data, seed=5)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    np.testing.assert_array_equal(
        first["segmentation_masks"], classes_of(first["images"].numpy())
    )


def test_dataset_of_dicts_with_masks():
    images, masks = shapes(n=6)
    ds = tf.data.Dataset.from_tensor_slices(
        {"images": images, "segmentation_masks": masks[..., None]}
    ).batch(3)
    pipeline = rka.Pipeline([rka.RandomFlip(probability=1.0)], seed=1)
    out = list(pipeline(ds))
    got = np.concatenate([b["segmentation_masks"].numpy() for b in out])
    np.testing.assert_array_equal(got[..., 0], masks[:, :, ::-1])


@pytest.mark.parametrize(
    "masks, match",
    [
        (np.zeros((6, 12)), "segmentation_masks.*shaped"),
        (
            np.zeros((6, 6, 5)),
            "masks the size of their images.*=\\(6, 5\\) for images of "
            "size \\(12, 10\\)",
        ),
    ],
)
def test_bad_masks_name_the_key(masks, match):
    images, _ = shapes()
    with pytest.raises(ValueError, match=match):
        run([rka.RandomFlip()], images, masks)


def test_ragged_masks_are_refused():
    images, masks = shapes(n=2)
    ragged = tf.RaggedTensor.from_tensor(masks)
    with pytest.raises(ValueError, match="`segmentation_masks`.*dense"):
        run([rka.RandomFlip()], images, ragged)
