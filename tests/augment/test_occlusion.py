"""Random erasing and cutout: box areas, ratios, fills, on non-square images."""

import numpy as np
import pytest

from keras_regkit import augment as rka
from keras_regkit.augment._core import regions
from keras_regkit.augment.ops import occlusion


def ones(batch=64, height=40, width=30):
    return np.ones((batch, height, width, 3), np.float32)


def run(op, x, seed=1, jit_compile=False):
    pipeline = rka.Pipeline([op], jit_compile=jit_compile)
    return pipeline.augment(x, seed=seed).numpy()


def test_box_mask_matches_numpy():
    boxes = np.array([[[1, 3, 2, 5], [0, 1, 0, 1]]], np.float32)
    mask = regions.box_mask(boxes, 4, 6).numpy()[0]
    expected = np.zeros((4, 6))
    expected[1:3, 2:5] = 1
    expected[0, 0] = 1
    np.testing.assert_array_equal(mask, expected)


def test_erasing_area_and_ratio_within_their_ranges():
    x = ones()
    op = rka.RandomErasing(1.0, scale=(0.1, 0.2), ratio=(0.5, 2.0))
    out = run(op, x)
    for image in out[..., 0]:
        rows = np.flatnonzero((image == 0).any(axis=1))
        cols = np.flatnonzero((image == 0).any(axis=0))
        height, width = rows.size, cols.size
        # One solid rectangle.
        assert (image == 0).sum() == height * width
        area = height * width / (40 * 30)
        # Sides are rounded to whole pixels: about half a pixel per side.
        slack = 0.5 * (height + width) / (40 * 30) + 0.25 / (40 * 30)
        assert 0.1 - slack <= area <= 0.2 + slack, area
        ratio = height / width
        assert 0.5 * (1 - 1 / width) - 0.5 / width <= ratio
        assert ratio <= 2.0 * (1 + 1 / width) + 0.5 / width


def test_erasing_probability_is_per_example():
    out = run(rka.RandomErasing(0.5), ones())
    erased = (out == 0).any(axis=(1, 2, 3))
    assert 16 < erased.sum() < 48, erased.sum()


def test_erasing_fills():
    x = ones(batch=8)
    rand = run(rka.RandomErasing(1.0, value="random"), x)
    for image in rand:
        filled = image[(image != 1).any(axis=-1)]
        # One colour per image.
        np.testing.assert_array_equal(
            filled, np.broadcast_to(filled[0], filled.shape)
        )
    noise = run(rka.RandomErasing(1.0, value="per_pixel"), x)
    filled = noise[0][(noise[0] != 1).any(axis=-1)]
    assert len(np.unique(filled)) > 10
    gray = run(rka.RandomErasing(1.0, value=0.5), x)
    assert set(np.unique(gray)) == {0.5, 1.0}


def test_several_boxes():
    x = ones(batch=16)
    one = run(rka.RandomErasing(1.0, scale=(0.02, 0.05)), x)
    three = run(rka.RandomErasing(1.0, scale=(0.02, 0.05), count=3), x)
    assert (three == 0).sum() > 1.5 * (one == 0).sum()


def test_cutout_boxes_are_16_by_16_or_clipped():
    x = ones(batch=64, height=32, width=40)
    out = run(rka.RandomCutout(16), x, jit_compile=True)
    counts = (out[..., 0] == 0).sum(axis=(1, 2))
    assert counts.max() == 256
    assert 0 < counts.min() < 256  # some centred near an edge
    rect = run(rka.RandomCutout(6, 10), x)
    assert (rect[..., 0] == 0).sum(axis=(1, 2)).max() == 60


def test_cutout_in_a_dataset_map_keeps_static_shapes():
    import tensorflow as tf

    x = (ones(batch=10, height=12, width=20) * 255).astype(np.uint8)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(4, drop_remainder=True)
    out = rka.Pipeline([rka.RandomCutout(4, count=2)], seed=3)(ds)
    assert out.element_spec.shape.as_list() == [4, 12, 20, 3]
    batches = [b.numpy() for b in out]
    assert len(batches) == 2 and all((b == 0).any() for b in batches)


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: rka.RandomErasing(value="blue"), ValueError, "`value`"),
        (lambda: rka.RandomErasing(value=[1]), TypeError, "`value`"),
        (lambda: rka.RandomErasing(scale=(0.0, 0.2)), ValueError, "`scale`"),
        (lambda: rka.RandomErasing(ratio=0.5), TypeError, "`ratio`"),
        (lambda: rka.RandomErasing(count=0), ValueError, "`count`"),
        (lambda: rka.RandomCutout(0), ValueError, "RandomCutout.*`height`"),
        (lambda: rka.RandomCutout(probability=2), ValueError, "`probability`"),
    ],
)
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_grid_mask_matches_numpy():
    unit, size, oy, ox = 5.0, 2.0, 3.0, 1.0
    mask = occlusion.grid_mask(
        7, 11, *(np.array([v], np.float32) for v in (unit, size, oy, ox))
    ).numpy()[0]
    ys, xs = np.mgrid[0:7, 0:11]
    expected = (((ys - oy) % unit) < size) & (((xs - ox) % unit) < size)
    np.testing.assert_array_equal(mask, expected)


def test_grid_mask_drops_ratio_squared_with_per_example_grids():
    x = ones(batch=32, height=24, width=40)
    out = run(rka.GridMask((8, 8), 0.5), x)
    # Period 8 divides both sides: exactly 4 x 4 of every 8 x 8 cell.
    np.testing.assert_array_equal((out == 0).mean(axis=(1, 2, 3)), 0.25)
    offsets = {image[..., 0].tobytes() for image in out}
    assert len(offsets) > 20  # 64 possible offsets, drawn per example
    out = run(rka.GridMask((6, 20), 0.4), x, jit_compile=True)
    dropped = (out[..., 0] == 0).mean(axis=(1, 2))
    # Side round(0.4 d) over period d: between 0.1 and 0.25 of the image
    # (with partial cells at the borders), and periods differ per example.
    assert np.all((dropped > 0.05) & (dropped < 0.3)), dropped
    assert len(np.unique(dropped)) > 8


def test_grid_mask_probability_and_fill():
    x = ones(batch=200, height=8, width=12)
    out = run(rka.GridMask((4, 4), 0.5, value=0.5, probability=0.3), x)
    masked = (out == 0.5).any(axis=(1, 2, 3))
    assert set(np.unique(out)) == {0.5, 1.0}
    # Binomial(200, 0.3): standard deviation 0.032; 4 sigma.
    assert abs(masked.mean() - 0.3) < 0.13


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: rka.GridMask(unit=8), TypeError, "GridMask.*`unit`"),
        (lambda: rka.GridMask(unit=(1, 4)), ValueError, "`unit`.*>= 2"),
        (lambda: rka.GridMask(unit=(9, 4)), ValueError, "low <= high"),
        (lambda: rka.GridMask(ratio=1.0), ValueError, "`ratio`.*\\(0, 1\\)"),
        (lambda: rka.GridMask(value="blue"), ValueError, "`value`"),
    ],
)
def test_grid_mask_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()
