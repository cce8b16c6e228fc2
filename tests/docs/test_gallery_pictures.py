"""The gallery's pictures show the arrays they were drawn from (issue #22
§3): a picture that loads can still be wrong (the inputs were once drawn
as cyan-and-white speckle: uint8 photographs clipped to [0, 1]).

Each picture of images is read back from the built site and its
per-image, per-channel mean and standard deviation compared with those of
its arrays: recorded by the build (``img/statistics.json``) for every
op, and recomputed here from the photographs for the inputs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def gallery(docs_tool):
    return docs_tool("gallery")


def test_every_picture_of_images_matches_its_arrays(site_dir, gallery):
    img = site_dir / "gallery" / "img"
    recorded = json.loads((img / "statistics.json").read_text("utf-8"))
    ops, _ = gallery.ops_of()
    image_ops = [n for n, c in ops.items() if gallery.kind_of(c) == "images"]
    for name in image_ops:
        assert any(key.startswith(f"{name}-") for key in recorded), name
    assert "original-images.png" in recorded
    wrong = {}
    for picture, expected in recorded.items():
        expected = np.array(expected)
        drawn = gallery.picture_statistics(
            (img / picture).read_bytes(), len(expected)
        )
        worst = float(np.abs(drawn - expected).max())
        if worst > gallery.TOLERANCE:
            wrong[picture] = round(worst, 3)
    assert not wrong, f"pictures unlike their arrays: {wrong}"


def test_the_inputs_are_the_photographs(site_dir, gallery):
    photographs = gallery.photographs()
    assert photographs.dtype == np.uint8
    png = (site_dir / "gallery/img/original-images.png").read_bytes()
    assert gallery.check_picture(png, photographs) is None
    drawn = gallery.picture_statistics(png, len(photographs))
    # Not speckle: the photographs' own means, far from white.
    np.testing.assert_allclose(
        drawn[..., 0], photographs.mean(axis=(1, 2)) / 255, atol=0.01
    )
    assert drawn[..., 0].max() < 0.8


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_drawing_keeps_pixels_of_either_range(gallery, dtype):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(2, 9, 7, 3)).astype("uint8")
    batch = pixels if dtype == "uint8" else pixels / np.float32(255)
    png = gallery.draw_images(batch)
    from io import BytesIO

    from PIL import Image

    picture = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    gap = gallery.GAP
    np.testing.assert_array_equal(picture[:9], pixels[0])
    np.testing.assert_array_equal(picture[9 + gap :], pixels[1])
    assert gallery.check_picture(png, batch) is None


def test_a_wrong_picture_is_caught(gallery):
    pixels = np.random.default_rng(1).integers(0, 256, size=(2, 8, 8, 3))
    # The old bug: uint8 values clipped to [0, 1] as if they were floats.
    speckle = gallery._png(
        gallery._stack(
            list((np.clip(pixels, 0, 1) * 255).astype("uint8")), gap=gallery.GAP
        )
    )
    assert gallery.check_picture(speckle, pixels.astype("uint8"))


def test_op_pages_show_the_input_and_large_thumbnails(site_dir, gallery):
    pages, _ = gallery.pages_of()
    assert gallery.WIDTH >= 224
    for page in pages:
        text = (site_dir / "gallery" / page / "index.html").read_text("utf-8")
        assert "img/original-" in text, page
        assert f"min-width: {gallery.WIDTH}px" in text, page
        # The note on how pictures are made is on the index, once.
        assert "one eager call per picture" not in text, page
    index = (site_dir / "gallery/index.html").read_text("utf-8")
    assert index.count("one eager call per picture") == 1
