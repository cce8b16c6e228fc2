"""CutMix and Mosaic with masks, boxes and keypoints, against numpy."""

import numpy as np
import pytest

from keras_regkit import augment as rka


def detection_batch(n=5, height=12, width=16, boxes_per_image=3, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.random((n, height, width, 3)).astype("float32")
    masks = rng.integers(0, 4, (n, height, width, 1)).astype("int32")
    x1 = rng.uniform(0, width - 4, (n, boxes_per_image))
    y1 = rng.uniform(0, height - 4, (n, boxes_per_image))
    boxes = np.stack(
        [
            x1,
            y1,
            x1 + rng.uniform(1, 8, x1.shape),
            y1 + rng.uniform(1, 6, y1.shape),
        ],
        -1,
    ).astype("float32")
    box_labels = rng.integers(0, 9, (n, boxes_per_image)).astype("int32")
    return {
        "images": images,
        "labels": np.arange(n) % 3,
        "segmentation_masks": masks,
        "bounding_boxes": {"boxes": boxes, "labels": box_labels},
    }


def area(b):
    return np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(
        b[..., 3] - b[..., 1], 0, None
    )


def intersect(b, window):
    return np.concatenate(
        [
            np.maximum(b[..., :2], window[:2]),
            np.minimum(b[..., 2:], window[2:]),
        ],
        -1,
    )


def kept(labels, visible, full, min_visibility):
    keep = (visible > 0) & (visible >= min_visibility * full)
    return np.where(keep, labels, -1)


@pytest.mark.parametrize("min_visibility", [0.0, 0.4])
def test_cutmix_masks_and_boxes_match_numpy(min_visibility):
    data = detection_batch()
    cutmix = rka.CutMix(alpha=1.0, mode="elem", num_classes=3)
    pipeline = rka.Pipeline(
        [cutmix],
        bounding_box_format="xyxy",
        bounding_box_min_visibility=min_visibility,
        jit_compile=False,
    )
    out = pipeline.augment(data, seed=6)
    regions = pipeline.sample(6, 5, (12, 16, 3))[0]["boxes"].numpy()[:, 0]
    masks, boxes = data["segmentation_masks"], data["bounding_boxes"]
    n = len(masks)
    expected_masks = masks.copy()
    for i in range(n):
        top, bottom, left, right = regions[i].astype(int)
        partner = n - 1 - i
        expected_masks[i, top:bottom, left:right] = masks[
            partner, top:bottom, left:right
        ]
        window = np.array([left, top, right, bottom], "float32")
        own, labels = boxes["boxes"][i], boxes["labels"][i]
        full = area(own)
        visible = full - area(intersect(own, window))
        got = out["bounding_boxes"]
        np.testing.assert_array_equal(
            got["labels"][i, :3], kept(labels, visible, full, min_visibility)
        )
        theirs = intersect(boxes["boxes"][partner], window)
        np.testing.assert_array_equal(
            got["labels"][i, 3:],
            kept(
                boxes["labels"][partner],
                area(theirs),
                area(boxes["boxes"][partner]),
                min_visibility,
            ),
        )
        keep = got["labels"][i, 3:].numpy() != -1
        np.testing.assert_allclose(
            got["boxes"][i, 3:].numpy()[keep], theirs[keep], atol=1e-5
        )
    np.testing.assert_array_equal(out["segmentation_masks"], expected_masks)
    # The pasted image pixels are the pasted mask pixels.
    pasted = out["segmentation_masks"].numpy() != masks
    assert pasted.any()
    assert out["labels"].shape == (5, 3)


def test_mixup_refuses_masks_and_boxes_naming_op_and_target():
    data = detection_batch(n=2)
    for op in (rka.MixUp(num_classes=3), rka.MixUpCutMix(num_classes=3)):
        pipeline = rka.Pipeline([op], bounding_box_format="xyxy")
        with pytest.raises(
            ValueError, match=f"{type(op).__name__}: .*`segmentation_masks`"
        ):
            pipeline.augment(data, seed=0)
    boxes_only = {k: data[k] for k in ("images", "bounding_boxes")}
    pipeline = rka.Pipeline(
        [rka.MixUp(num_classes=3)], bounding_box_format="xyxy"
    )
    with pytest.raises(ValueError, match="MixUp: .*`bounding_boxes`.*blend"):
        pipeline.augment(boxes_only, seed=0)
    # CutMix needs no image labels when it carries boxes.
    cutmix = rka.Pipeline([rka.CutMix()], bounding_box_format="xyxy")
    out = cutmix.augment(boxes_only, seed=0)
    assert out["bounding_boxes"]["boxes"].shape == (2, 6, 4)
    assert "labels" not in out


def numpy_mosaic(images, cy, cx):
    n, height, width = images.shape[:3]
    out = np.empty_like(images)
    for i in range(n):
        canvas = np.concatenate(
            [
                np.concatenate([images[i], images[(i + 1) % n]], 1),
                np.concatenate([images[(i + 2) % n], images[(i + 3) % n]], 1),
            ],
            0,
        )
        top, left = height - int(cy[i]), width - int(cx[i])
        out[i] = canvas[top : top + height, left : left + width]
    return out


@pytest.mark.parametrize("probability", [1.0, 0.5])
def test_mosaic_matches_numpy(probability):
    data = detection_batch(n=6)
    points = np.random.default_rng(1).uniform(0, 12, (6, 2, 2))
    data["keypoints"] = points.astype("float32")
    mosaic = rka.Mosaic((0.2, 0.8), num_classes=3, probability=probability)
    pipeline = rka.Pipeline(
        [mosaic], bounding_box_format="xyxy", jit_compile=False
    )
    out = pipeline.augment(data, seed=2)
    params = pipeline.sample(2, 6, (12, 16, 3))[0]
    cy, cx = params["cy"].numpy(), params["cx"].numpy()
    if probability < 1.0:
        untouched = (cy == 12) & (cx == 16)
        assert 0 < untouched.sum() < 6
    np.testing.assert_allclose(
        out["images"], numpy_mosaic(data["images"], cy, cx), atol=1e-6
    )
    np.testing.assert_array_equal(
        out["segmentation_masks"],
        numpy_mosaic(data["segmentation_masks"], cy, cx),
    )
    boxes, labels = data["bounding_boxes"].values()
    got = out["bounding_boxes"]
    assert got["boxes"].shape == (6, 12, 4)
    for i in range(6):
        shifts = [
            (16 - cx[i], 12 - cy[i]),
            (-cx[i], 12 - cy[i]),
            (16 - cx[i], -cy[i]),
            (-cx[i], -cy[i]),
        ]
        windows = [
            [0, 0, cx[i], cy[i]],
            [cx[i], 0, 16, cy[i]],
            [0, cy[i], cx[i], 12],
            [cx[i], cy[i], 16, 12],
        ]
        fractions = [area(np.array(w, "float32")) / 192 for w in windows]
        expected_label = np.zeros(3)
        for q in range(4):
            source = (i + q) % 6
            dx, dy = shifts[q]
            moved = boxes[source] - np.array([dx, dy, dx, dy])
            clipped = intersect(moved, np.array(windows[q], "float32"))
            expected = kept(labels[source], area(clipped), area(moved), 0.0)
            rows = slice(3 * q, 3 * q + 3)
            np.testing.assert_array_equal(got["labels"][i, rows], expected)
            keep = expected != -1
            np.testing.assert_allclose(
                got["boxes"][i, rows].numpy()[keep], clipped[keep], atol=1e-4
            )
            moved_points = points[source] - np.array([dx, dy])
            x, y = moved_points[:, 0], moved_points[:, 1]
            inside = (x >= windows[q][0]) & (x < windows[q][2])
            inside &= (y >= windows[q][1]) & (y < windows[q][3])
            rows = slice(2 * q, 2 * q + 2)
            got_points = out["keypoints"][i, rows].numpy()
            np.testing.assert_allclose(
                got_points[inside], moved_points[inside], atol=1e-4
            )
            np.testing.assert_array_equal(got_points[~inside], -1.0)
            expected_label[data["labels"][source]] += fractions[q]
        np.testing.assert_allclose(out["labels"][i], expected_label, atol=1e-6)


def test_mosaic_config_and_bad_arguments():
    op = rka.Mosaic((0.3, 0.6), num_classes=4, probability=0.5)
    again = rka.Mosaic.from_config(op.get_config())
    assert again.get_config() == op.get_config()
    with pytest.raises(TypeError, match="Mosaic: .*`offset`"):
        rka.Mosaic(0.5)
    with pytest.raises(ValueError, match="Mosaic: .*`offset`"):
        rka.Mosaic((0.2, 1.5))
    with pytest.raises(ValueError, match="Mosaic: .*`num_classes`"):
        rka.Pipeline([rka.Mosaic()]).augment(
            (np.zeros((2, 4, 4, 3)), np.array([0, 1])), seed=0
        )
