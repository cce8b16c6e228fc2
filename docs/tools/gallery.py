"""The augmentation gallery: every op of `keras_regkit.augment`, drawn.

Every augmentation op and policy named in ``keras_regkit.augment.__all__``
is applied, with fixed seeds, to scikit-learn's two sample photographs
(``sklearn.datasets.load_sample_images``: no download) at a low, the
default and a high strength; ops for spectrograms, time series and
tables get synthetic data of their kind. Where the pipeline takes
targets, one more page shows every image op moving segmentation masks,
bounding boxes and keypoints with the photographs. The build
(docs/tools/hooks.py) adds the pages and PNGs to the site; ``python
docs/tools/gallery.py DIR`` writes them into ``DIR`` instead.

A new op appears on its own: one that can be built with no arguments
is drawn at its defaults, and `STRENGTHS` gives it low and high columns
(an op that needs arguments and has no entry there is reported as a
warning, which fails the strict build).

Every picture of images is checked against the arrays it was drawn from
(`check_picture`: each image's per-channel mean and standard deviation,
read back from the PNG): a mismatch is a warning too, and the statistics
are written beside the pictures (``img/statistics.json``) for
tests/docs to check the built files again.
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

log = logging.getLogger("mkdocs.hooks.keras_regkit.gallery")

# Thumbnail size in pixels (the photographs are 640 x 427): wide enough
# to judge an op meant for 224-pixel inputs.
WIDTH = 224
HEIGHT = 149
# The white gap between the stacked images of a picture.
GAP = 4
# How far a picture's statistics may be from its arrays' (on [0, 1]):
# rounding to 8 bits moves them by at most 1/255.
TOLERANCE = 0.01
# The pipeline's seed and the batch's seed: the same draws for every
# strength of an op, so the columns differ by the strength alone.
PIPELINE_SEED = 0
BATCH_SEED = 7
COLUMNS = ("low", "default", "high")

# Constructor arguments per op and column. Ops with a ``probability``
# argument get ``probability=1.0`` unless given here (the pictures show
# the op applied; `RandomFlip`, `RandomGrayscale` and `RandomErasing`
# default to 0.5). "default" is the op's defaults plus the arguments it
# requires (the value of its docstring's example).
STRENGTHS = {
    "RandomFlip": {
        "horizontal": {},
        "vertical": {"mode": "vertical"},
        "both": {"mode": "horizontal_and_vertical"},
    },
    "RandomRotation": {
        "low": {"factor": 0.02},
        "default": {"factor": 0.04},
        "high": {"factor": 0.25},
    },
    "RandomTranslation": {
        "low": {"height_factor": 0.05, "width_factor": 0.05},
        "default": {"height_factor": 0.125, "width_factor": 0.125},
        "high": {"height_factor": 0.3, "width_factor": 0.3},
    },
    "RandomZoom": {
        "low": {"height_factor": 0.1},
        "default": {"height_factor": 0.2},
        "high": {"height_factor": 0.5},
    },
    "RandomShear": {
        "low": {"x_factor": 0.1},
        "default": {"x_factor": 0.3, "y_factor": 0.3},
        "high": {"x_factor": 0.6, "y_factor": 0.6},
    },
    "RandomPadCrop": {
        "low": {"padding": 2},
        "default": {},
        "high": {"padding": 24},
    },
    "RandomResizedCrop": {
        "low": {"height": HEIGHT, "width": WIDTH, "scale": (0.6, 1.0)},
        "default": {"height": HEIGHT, "width": WIDTH},
        "high": {"height": HEIGHT, "width": WIDTH, "scale": (0.05, 0.1)},
    },
    "RandomBrightness": {
        "low": {"factor": 0.1},
        "default": {"factor": 0.2},
        "high": {"factor": 0.6},
    },
    "RandomContrast": {
        "low": {"factor": 0.2},
        "default": {"factor": 0.5},
        "high": {"factor": 0.9},
    },
    "RandomSaturation": {
        "low": {"factor": 0.3},
        "default": {"factor": 0.5},
        "high": {"factor": 1.0},
    },
    "RandomHue": {
        "low": {"factor": 0.05},
        "default": {"factor": 0.1},
        "high": {"factor": 0.5},
    },
    "RandomGamma": {
        "low": {"factor": 0.2},
        "default": {"factor": (-0.5, 0.5)},
        "high": {"factor": 0.9},
    },
    "RandomSharpness": {
        "low": {"factor": 0.5},
        "default": {"factor": 1.0},
        "high": {"factor": (1.0, 3.0)},
    },
    "RandomSolarize": {
        "low": {"threshold": 0.8},
        "default": {},
        "high": {"threshold": 0.2},
    },
    "RandomPosterize": {
        "low": {"bits": 6},
        "default": {},
        "high": {"bits": 1},
    },
    "RandomGaussianNoise": {
        "low": {"stddev": 0.02},
        "default": {},
        "high": {"stddev": 0.2},
    },
    "RandomGaussianBlur": {
        "low": {"sigma": (0.1, 0.5)},
        "default": {},
        "high": {"kernel_size": 9, "sigma": (2.0, 3.0)},
    },
    "RandomCutout": {
        "low": {"height": 8},
        "default": {},
        "high": {"height": 40, "count": 3},
    },
    "RandomErasing": {
        "low": {"scale": (0.02, 0.1)},
        "default": {},
        "high": {"scale": (0.3, 0.5), "value": "per_pixel"},
    },
    "GridMask": {
        "low": {"ratio": 0.3},
        "default": {},
        "high": {"ratio": 0.8},
    },
    "MixUp": {
        "low": {"alpha": 0.1},
        "default": {},
        "high": {"alpha": 1.0},
    },
    "CutMix": {
        "low": {"alpha": 0.3},
        "default": {},
        "high": {"alpha": 4.0},
    },
    "Mosaic": {
        "low": {"offset": (0.45, 0.55)},
        "default": {},
        "high": {"offset": (0.1, 0.9)},
    },
    "RandAugment": {
        "low": {"num_ops": 1, "magnitude": 3.0},
        "default": {},
        "high": {"num_ops": 3, "magnitude": 10.0},
    },
    "AugMix": {
        "low": {"severity": 1},
        "default": {},
        "high": {"severity": 10},
    },
    "RandomApply": {
        "default": {"ops": "GROUP", "probability": 1.0},
    },
    "RandomChoice": {
        "default": {"ops": "CHOICES"},
    },
    "TimeMasking": {
        "low": {"max_width": 8},
        "default": {"max_width": 20},
        "high": {"max_width": 40, "count": 3},
    },
    "FrequencyMasking": {
        "low": {"max_width": 4},
        "default": {"max_width": 8},
        "high": {"max_width": 16, "count": 3},
    },
    "RandomJitter": {
        "low": {"stddev": 0.01},
        "default": {},
        "high": {"stddev": 0.15},
    },
    "RandomScaling": {
        "low": {"stddev": 0.05},
        "default": {},
        "high": {"stddev": 0.4},
    },
    "RandomMagnitudeWarp": {
        "low": {"stddev": 0.1},
        "default": {},
        "high": {"stddev": 0.5, "knots": 8},
    },
    "FeatureNoise": {
        "low": {"stddev": 0.05},
        "default": {},
        "high": {"stddev": 0.5},
    },
    "FeatureDropout": {
        "low": {"rate": 0.05},
        "default": {},
        "high": {"rate": 0.4},
    },
}

# What the data of each kind of op is, by the rank its ``shapes`` name
# first, and the page its section goes to.
PAGE_TITLES = {
    "geometry": "Geometry",
    "color": "Colour",
    "occlusion": "Occlusion",
    "mixing": "Mixing (images and labels)",
    "policies": "Policies",
    "control": "Composites",
    "sequence": "Spectrograms and time series",
    "tabular": "Tabular rows",
}


# Modules whose ops share another module's page.
PAGE_OF_MODULE = {
    "mosaic": "mixing",
    "resized_crop": "geometry",
    "filters": "color",
    "tone": "color",
    "choice": "control",
    "rand_augment": "policies",
    "augmix": "policies",
}


def _composite_children(rka):
    """The ops the composites of the gallery are given."""
    return {
        "GROUP": [rka.RandomRotation(0.1), rka.RandomGrayscale(1.0)],
        "CHOICES": [
            rka.RandomSolarize(0.5),
            rka.RandomRotation(0.1),
            rka.RandomPosterize(2),
        ],
    }


def _code(value):
    """A constructor argument as Python source, for the captions."""
    if isinstance(value, list):
        return "[" + ", ".join(_code(v) for v in value) + "]"
    if hasattr(value, "get_config"):
        args = {k: v for k, v in value.get_config().items()}
        defaults = inspect.signature(type(value)).parameters
        shown = {
            k: v
            for k, v in args.items()
            if k in defaults and defaults[k].default != v
        }
        return _call(type(value).__name__, shown)
    return repr(value)


def _call(name, kwargs):
    """``Name(a=1, b=2)`` as source."""
    return (
        f"{name}("
        + ", ".join(f"{k}={_code(v)}" for k, v in kwargs.items())
        + ")"
    )


def caption(name, kwargs):
    """``Name(a=1, b=2)`` as HTML that wraps between arguments only.

    Each piece (``Name(``, ``a=1,``, ``b=2)``) is a code span that does
    not wrap, so a narrow column breaks the call after a comma, never
    inside an identifier or a value.

    Example:
    >>> caption("RandomZoom", {"height_factor": 0.5})
    '<code style="white-space: nowrap">RandomZoom(height_factor=0.5)</code>'
    >>> caption("Op", {"a": 1, "b": (2, 3)}).count("<code")
    3
    """
    import html

    pieces = [f"{k}={_code(v)}" for k, v in kwargs.items()]
    if len(pieces) <= 1:
        pieces = [f"{name}({''.join(pieces)})"]
    else:
        pieces = [
            f"{name}(",
            *[f"{p}," for p in pieces[:-1]],
            f"{pieces[-1]})",
        ]
    return " ".join(
        f"{_NOWRAP}{html.escape(p, quote=False)}</code>" for p in pieces
    )


def photographs():
    """scikit-learn's two sample photographs, ``WIDTH`` pixels wide.

    Returns:
        A uint8 array ``(2, height, WIDTH, 3)``.
    """
    from PIL import Image
    from sklearn.datasets import load_sample_images

    images = []
    for image in load_sample_images().images:
        height = round(image.shape[0] * WIDTH / image.shape[1])
        resized = Image.fromarray(image).resize(
            (WIDTH, height), Image.Resampling.LANCZOS
        )
        images.append(np.asarray(resized))
    return np.stack(images)


# The pagoda of the first photograph, outlined by hand: (x, y) as
# fractions of the width and height.
PAGODA = (
    (0.297, 0.056), (0.328, 0.056), (0.338, 0.187), (0.5, 0.29),
    (0.469, 0.327), (0.516, 0.397), (0.5, 0.444), (0.556, 0.598),
    (0.531, 0.654), (0.537, 0.771), (0.578, 0.888), (0.188, 0.911),
    (0.125, 0.794), (0.109, 0.748), (0.094, 0.607), (0.131, 0.551),
    (0.141, 0.421), (0.156, 0.318), (0.15, 0.271), (0.281, 0.187),
)  # fmt: skip
MASKS_PAGE = "masks-and-boxes"


def supports_targets():
    """Whether `Pipeline` moves masks and boxes with the images."""
    from keras_regkit import augment as rka

    parameters = inspect.signature(rka.Pipeline).parameters
    return "bounding_box_format" in parameters


def targets(images):
    """Segmentation masks and boxes of the two photographs.

    The pagoda's mask is `PAGODA`; the flowers' are their warm pixels
    (red well above blue), holes filled, each flower larger than 1 % of
    the image a class-1 region with its own box.

    Args:
        images: The output of `photographs`.

    Returns:
        ``(masks, boxes, box_labels, keypoints)``: int32 ``(2, h, w)``,
        float32 ``(2, n, 4)`` ``xyxy`` pixels, int32 ``(2, n)`` (-1:
        padding) and float32 ``(2, n, 2)`` ``(x, y)`` pixels: the
        pagoda's spire and each flower's centre (``(-1, -1)``: padding).
    """
    from PIL import Image
    from PIL import ImageDraw
    from scipy import ndimage

    _, height, width, _ = images.shape
    outline = Image.new("L", (width, height), 0)
    corners = [(x * width, y * height) for x, y in PAGODA]
    ImageDraw.Draw(outline).polygon(corners, fill=1)
    pagoda = np.asarray(outline).astype(bool)
    rgb = images[1].astype("int32")
    warm = (rgb[..., 0] - rgb[..., 2] > 70) & (rgb[..., 0] > rgb[..., 1] + 10)
    regions, count = ndimage.label(ndimage.binary_fill_holes(warm))
    sizes = ndimage.sum(warm, regions, range(1, count + 1))
    flowers = [k + 1 for k in range(count) if sizes[k] > 0.01 * warm.size]
    masks = np.stack([pagoda, np.isin(regions, flowers)]).astype("int32")
    found = [[pagoda], [regions == k for k in flowers]]
    most = max(len(f) for f in found)
    boxes = -np.ones((2, most, 4), "float32")
    labels = -np.ones((2, most), "int32")
    for i, objects in enumerate(found):
        for j, region in enumerate(objects):
            rows, cols = np.nonzero(region)
            boxes[i, j] = [
                cols.min(),
                rows.min(),
                cols.max() + 1,
                rows.max() + 1,
            ]
            labels[i, j] = 1
    keypoints = -np.ones((2, most, 2), "float32")
    keypoints[0, 0] = [PAGODA[0][0] * width + 1.5, PAGODA[0][1] * height]
    for j, region in enumerate(found[1]):
        rows, cols = ndimage.center_of_mass(region)
        keypoints[1, j] = [cols + 0.5, rows + 0.5]
    return masks, boxes, labels, keypoints


def spectrograms(frames=128, bins=64):
    """Two synthetic log spectrograms ``(2, frames, bins)`` in [0, 1].

    A rising chirp with two harmonics, and a falling one, plus a little
    noise: enough structure to see masking bands.
    """
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 1.0, frames)[:, None]
    f = np.linspace(0.0, 1.0, bins)[None, :]
    out = []
    for start, slope in ((0.1, 0.35), (0.6, -0.4)):
        centre = start + slope * t
        spec = sum(
            np.exp(-(((f - k * centre) / 0.02) ** 2)) / k for k in (1, 2, 3)
        )
        spec = spec + 0.05 * rng.random((frames, bins))
        out.append(np.log1p(20 * spec) / np.log1p(20 * spec).max())
    return np.stack(out).astype("float32")


def series(length=96, channels=2):
    """Two synthetic time series ``(2, length, channels)``."""
    t = np.linspace(0.0, 2.0 * np.pi, length)
    base = [np.sin(2 * t), 0.6 * np.cos(3 * t)]
    first = np.stack(base, axis=-1)
    second = np.stack(
        [np.sin(t) + 0.3 * np.sin(5 * t), 0.5 * t / np.pi - 0.5], -1
    )
    return np.stack([first, second])[..., :channels].astype("float32")


def rows():
    """Twelve standardized rows of scikit-learn's iris table ``(12, 4)``."""
    from sklearn.datasets import load_iris

    x = load_iris().data[::12][:12]
    return ((x - x.mean(0)) / x.std(0)).astype("float32")


def _png(array):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _to_uint8(images):
    """Images as uint8 pixels, read as the pipeline reads them.

    Integer images are pixel values in [0, 255] (the photographs);
    float images are in [0, 1] (the pipeline's output).

    Example:
    >>> _to_uint8(np.array([0, 128, 255], "uint8")).tolist()
    [0, 128, 255]
    >>> _to_uint8(np.array([0.0, 0.5, 1.0], "float32")).tolist()
    [0, 128, 255]
    """
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.integer):
        return np.clip(images, 0, 255).astype("uint8")
    scaled = np.clip(images.astype("float32"), 0, 1) * 255 + 0.5
    return scaled.astype("uint8")


def image_statistics(batch):
    """Per image and channel, the mean and standard deviation on [0, 1].

    Computed from the arrays as drawn (integers over 255, floats as they
    are, clipped to [0, 1]), independently of the drawing.

    Returns:
        A float array ``(images, channels, 2)``.
    """
    values = np.asarray(batch)
    if np.issubdtype(values.dtype, np.integer):
        values = values / 255.0
    values = np.clip(values.astype("float64"), 0.0, 1.0)
    if values.shape[-1] == 1:
        values = np.repeat(values, 3, axis=-1)
    axes = (1, 2)
    return np.stack([values.mean(axes), values.std(axes)], axis=-1)


def picture_statistics(png, count):
    """`image_statistics` of the ``count`` images stacked in a PNG."""
    from PIL import Image

    picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    height = (picture.shape[0] - GAP * (count - 1)) // count
    images = [
        picture[i * (height + GAP) : i * (height + GAP) + height]
        for i in range(count)
    ]
    return image_statistics(np.stack(images))


def check_picture(png, batch):
    """What is wrong with a picture of ``batch``, or None.

    Example:
    >>> batch = np.random.default_rng(0).integers(0, 256, (2, 6, 5, 3))
    >>> check_picture(draw_images(batch.astype("uint8")), batch) is None
    True
    >>> speckle = draw_images(batch / 255.0 * 40)  # values far above 1
    >>> check_picture(speckle, batch).startswith("drawn statistics differ")
    True
    """
    expected = image_statistics(batch)
    drawn = picture_statistics(png, len(expected))
    worst = float(np.abs(drawn - expected).max())
    if worst > TOLERANCE:
        return f"drawn statistics differ by up to {worst:.3f} from the arrays'"
    return None


def _stack(images, gap=GAP, axis=0):
    """Stacks images along ``axis`` with a white gap (axis 0: vertically)."""
    pad = [(0, 0)] * images[0].ndim
    pad[axis] = (0, gap)
    padded = [np.pad(x, pad, constant_values=255) for x in images[:-1]]
    return np.concatenate([*padded, images[-1]], axis=axis)


def _colormap(values, name):
    from matplotlib import colormaps

    rgba = colormaps[name](np.clip(values, 0, 1))
    return (rgba[..., :3] * 255).astype("uint8")


def draw_images(batch):
    """PNG of an image batch, the images stacked vertically."""
    images = _to_uint8(batch)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return _png(_stack(list(images)))


def draw_spectrograms(batch):
    """PNG of a spectrogram batch: time rightwards, frequency upwards."""
    pictures = []
    for spec in np.asarray(batch):
        spec = spec[..., 0] if spec.ndim == 3 else spec
        picture = _colormap(spec.T[::-1], "magma")
        pictures.append(picture)
    return _png(_stack(pictures))


def draw_series(batch, original):
    """PNG of a time-series batch over the original (grey)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    count = len(batch)
    figure, axes = plt.subplots(count, 1, figsize=(2.2, 0.9 * count), dpi=100)
    for axis, clean, out in zip(axes, original, np.asarray(batch), strict=True):
        for channel in range(clean.shape[-1]):
            axis.plot(clean[:, channel], color="0.75", linewidth=1.0)
            axis.plot(out[:, channel], linewidth=0.9, color=f"C{channel}")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylim(-2.0, 2.0)
    figure.tight_layout(pad=0.2)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def draw_targets(images, masks, boxes, labels, keypoints):
    """PNG of images: masks tinted cyan, boxes yellow, keypoints red."""
    from PIL import Image
    from PIL import ImageDraw

    pictures = []
    images = _to_uint8(images).astype("float32")
    masks = np.asarray(masks).reshape(images.shape[:3])
    for image, mask, image_boxes, image_labels, points in zip(
        images,
        masks,
        np.asarray(boxes),
        np.asarray(labels),
        np.asarray(keypoints),
        strict=True,
    ):
        tinted = 0.55 * image + 0.45 * np.array([0.0, 255.0, 255.0])
        image = np.where(mask[..., None] > 0, tinted, image)
        picture = Image.fromarray(image.astype("uint8"))
        draw = ImageDraw.Draw(picture)
        for box, label in zip(image_boxes, image_labels, strict=True):
            if label >= 0:
                left, top, right, bottom = box.tolist()
                draw.rectangle(
                    [left, top, right - 1, bottom - 1],
                    outline=(255, 220, 0),
                    width=2,
                )
        for x, y in points[:, :2].tolist():
            if x >= 0 and y >= 0:
                draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(230, 0, 0))
        pictures.append(np.asarray(picture))
    return _png(_stack(pictures))


def draw_rows(batch):
    """PNG of a table as a heat map: one row per example, blue < 0 < red."""
    values = (np.asarray(batch) + 2.5) / 5.0
    picture = _colormap(values, "coolwarm")
    return _png(np.kron(picture, np.ones((12, 24, 1), "uint8")))


def kind_of(cls):
    """``"images"``, ``"spectrograms"``, ``"series"`` or ``"rows"``.

    Read from the op's ``shapes`` (the ranks it accepts, in words).
    """
    words = " ".join(cls.shapes.values())
    if "height" in words:
        return "images"
    if "frequency" in words:
        return "spectrograms"
    if "time" in words:
        return "series"
    if "features" in words:
        return "rows"
    return None


def ops_of(module=None):
    """The augmentation ops of ``keras_regkit.augment.__all__``.

    Returns:
        ``(ops, others)``: the op classes by name, and the other public
        names (pipelines, layers, losses, functions), which have no
        picture.
    """
    if module is None:
        from keras_regkit import augment as module
    from keras_regkit.augment._core import roles

    ops, others = {}, []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) and issubclass(obj, roles.Augmentation):
            ops[name] = obj
        else:
            others.append(name)
    return ops, others


def variants(name, cls, rka):
    """The op's columns: a dict of label to ``(kwargs, op)``.

    An op missing from `STRENGTHS` is drawn at its defaults, if it has
    them; one that needs arguments is reported (a warning) and skipped.
    """
    table = STRENGTHS.get(name)
    if table is None:
        table = {"default": {}}
    children = _composite_children(rka)
    parameters = inspect.signature(cls).parameters
    accepts_probability = "probability" in parameters
    out = {}
    for label, kwargs in table.items():
        kwargs = {
            k: children[v] if isinstance(v, str) and v in children else v
            for k, v in kwargs.items()
        }
        built = dict(kwargs)
        if accepts_probability:
            built.setdefault("probability", 1.0)
        if "num_classes" in parameters:
            built.setdefault("num_classes", 2)
        try:
            out[label] = (kwargs, cls(**built))
        except (TypeError, ValueError) as error:
            log.warning(
                "gallery: cannot build %s(%s) (%s); give it arguments in "
                "docs/tools/gallery.py's STRENGTHS",
                name,
                built,
                error,
            )
    return out


def apply(op, kind, data):
    """Runs one op on the kind's data; returns ``(batch, labels or None)``."""
    from keras_regkit import augment as rka
    from keras_regkit.augment._core import roles

    pipeline = rka.Pipeline([op], seed=PIPELINE_SEED, jit_compile=False)
    # Ops that mix examples need labels: the batch's indices.
    if isinstance(op, roles.BatchOp):
        labels = np.arange(len(data))
        return pipeline.augment((data, labels), seed=BATCH_SEED)
    return pipeline.augment(data, seed=BATCH_SEED), None


def _labels_caption(labels):
    rows = np.asarray(labels)
    return "<br>".join(
        "labels " + ", ".join(f"{v:.2f}" for v in row) for row in rows
    )


class Gallery:
    """Draws every op; collects the pages and PNGs."""

    def __init__(self):
        from keras_regkit import augment as rka

        self.rka = rka
        self.data = {
            "images": photographs(),
            "spectrograms": spectrograms(),
            "series": series(),
            "rows": rows(),
        }
        self.files = {}
        self.statistics = {}

    def check(self, path, picture, batch):
        """Checks a picture against its arrays; records their statistics."""
        problem = check_picture(picture, batch)
        if problem:
            log.warning("gallery: %s: %s", path, problem)
        self.statistics[path.rsplit("/", 1)[-1]] = (
            image_statistics(batch).round(5).tolist()
        )

    def draw(self, kind, batch, path=None):
        if kind == "images":
            picture = draw_images(batch)
            if path is not None:
                self.check(path, picture, batch)
            return picture
        if kind == "spectrograms":
            return draw_spectrograms(batch)
        if kind == "series":
            return draw_series(batch, self.data["series"])
        return draw_rows(batch)

    def section(self, name, cls):
        """The Markdown of one op's section; stores its PNGs."""
        kind = kind_of(cls)
        if kind is None:
            log.warning("gallery: %s takes no data the gallery has", name)
            return ""
        columns = variants(name, cls, self.rka)
        # The input first, beside the augmented versions.
        cells = [f"![{name}, original](img/original-{kind}.png){_SIZE}"]
        captions = ["the input"]
        for label, (kwargs, op) in columns.items():
            out, labels = apply(op, kind, self.data[kind])
            path = f"gallery/img/{name}-{label}.png"
            self.files[path] = self.draw(kind, out, path)
            cells.append(f"![{name}, {label}](img/{name}-{label}.png){_SIZE}")
            text = caption(name, kwargs)
            if labels is not None:
                text += "<br>" + _labels_caption(labels)
            captions.append(text)
        header = "| original | " + " | ".join(columns) + " |"
        return "\n".join(
            [
                f"## {name}",
                "",
                f"{_summary(cls)} [API](../api/augment/{name}.md)",
                "",
                header,
                "|" + "---|" * (len(columns) + 1),
                "| " + " | ".join(cells) + " |",
                "| " + " | ".join(captions) + " |",
                "",
            ]
        )

    def originals(self):
        """The inputs, drawn once for the front page."""
        pictures = {}
        for kind, data in self.data.items():
            path = f"gallery/img/original-{kind}.png"
            if kind == "series":
                picture = draw_series(data, data)
            else:
                picture = self.draw(kind, data, path)
            self.files[path] = picture
            pictures[kind] = f"![original {kind}](img/original-{kind}.png)"
        return pictures

    def build(self):
        import tensorflow as tf

        # One call per picture: running the pipelines' tf.functions
        # eagerly skips their tracing (about twice as fast here).
        eager = tf.config.functions_run_eagerly()
        tf.config.run_functions_eagerly(True)
        try:
            return self._build()
        finally:
            tf.config.run_functions_eagerly(eager)

    def _build(self):
        pages, others = pages_of()
        originals = self.originals()
        order = list(pages)
        for page in order:
            title = title_of(page)
            sections = [self.section(n, c) for n, c in pages[page]]
            self.files[f"gallery/{page}.md"] = (
                f"{_WIDE}# {title}\n\n{_PAGE_LINK}\n\n" + "\n".join(sections)
            )
        if supports_targets():
            images = [(n, c) for p in order for n, c in pages[p]]
            self.files[f"gallery/{MASKS_PAGE}.md"] = self.targets_page(
                [(n, c) for n, c in images if kind_of(c) == "images"]
            )
        self.files["gallery/index.md"] = _index(order, pages, others, originals)
        self.files["gallery/img/statistics.json"] = json.dumps(
            self.statistics, indent=1, sort_keys=True
        )
        return self.files

    def targets_page(self, ops):
        """The masks-and-boxes page: every image op at its default."""
        images = self.data["images"]
        masks, boxes, box_labels, keypoints = targets(images)
        data = {
            "images": images,
            "labels": np.arange(len(images)),
            "segmentation_masks": masks,
            "bounding_boxes": {"boxes": boxes, "labels": box_labels},
            "keypoints": keypoints,
        }
        self.files["gallery/img/targets-original.png"] = draw_targets(
            images / 255.0, masks, boxes, box_labels, keypoints
        )
        cells, refused = [], []
        for name, cls in ops:
            columns = variants(name, cls, self.rka)
            label = "default" if "default" in columns else next(iter(columns))
            kwargs, op = columns[label]
            pipeline = self.rka.Pipeline(
                [op],
                seed=PIPELINE_SEED,
                jit_compile=False,
                bounding_box_format="xyxy",
            )
            out, kept, error = _augment_targets(pipeline, data)
            if out is None:
                # The "Expected ..." part of the kit's message template.
                why = re.search(r"Expected (.*)\. Received", str(error))
                refused.append((name, why.group(1) if why else str(error)))
                continue
            path = f"img/targets-{name}.png"
            boxes_out = out.get("bounding_boxes", {})
            self.files[f"gallery/{path}"] = draw_targets(
                out["images"],
                out.get("segmentation_masks", np.zeros_like(masks)),
                boxes_out.get("boxes", np.zeros((2, 0, 4))),
                boxes_out.get("labels", np.zeros((2, 0))),
                out.get("keypoints", np.zeros((2, 0, 2))),
            )
            text = caption(name, kwargs)
            if kept != _TARGETS[0]:
                text += " (" + ", ".join(kept).replace("_", " ") + " only)"
            cells.append((f"![{name}]({path}){_SIZE}", text))
        return _targets_markdown(cells, refused)


# The targets tried, in order, until an op accepts them.
_TARGETS = (
    ("segmentation_masks", "bounding_boxes", "keypoints"),
    ("segmentation_masks", "bounding_boxes"),
    ("segmentation_masks",),
    ("bounding_boxes",),
)


def _augment_targets(pipeline, data):
    """Augments ``data`` with the most targets the pipeline accepts.

    Returns:
        ``(out, kept, None)``, or ``(None, None, error)`` with the first
        error when the op refuses every set of targets.
    """
    first = None
    for kept in _TARGETS:
        subset = {k: v for k, v in data.items() if k in kept or k in _PLAIN}
        try:
            return pipeline.augment(subset, seed=BATCH_SEED), kept, None
        except ValueError as error:
            first = first or error
    return None, None, first


_PLAIN = ("images", "labels")


def title_of(page):
    """A gallery page's title (its module's name, for a new module)."""
    return PAGE_TITLES.get(page, page.capitalize())


def pages_of():
    """The gallery's pages, in order: one per module of ops.

    Returns:
        ``(pages, others)``: a dict from page name (the op's module, e.g.
        ``"geometry"``) to its ``(name, class)`` pairs, and the public
        names that are not ops.

    Example:
    >>> pages, others = pages_of()
    >>> "RandomRotation" in dict(pages["geometry"]), "Pipeline" in others
    (True, True)
    """
    ops, others = ops_of()
    pages = {}
    for name, cls in ops.items():
        page = cls.__module__.rsplit(".", 1)[-1]
        page = PAGE_OF_MODULE.get(page, page)
        pages.setdefault(page, []).append((name, cls))
    order = [p for p in PAGE_TITLES if p in pages] + sorted(
        p for p in pages if p not in PAGE_TITLES
    )
    return {p: sorted(pages[p]) for p in order}, others


def nav():
    """The gallery's navigation, as a MkDocs ``nav`` entry's value."""
    pages, _ = pages_of()
    entries = ["gallery/index.md"] + [
        {title_of(page): f"gallery/{page}.md"} for page in pages
    ]
    if supports_targets():
        entries.append({"Masks and boxes": f"gallery/{MASKS_PAGE}.md"})
    return entries


def _targets_markdown(cells, refused, per_row=3):
    """The masks-and-boxes page's Markdown: a grid of pictures."""
    lines = [
        "# Masks and boxes",
        "",
        "Segmentation masks (tinted cyan), bounding boxes (yellow) and "
        "keypoints (red) move with their images: "
        '`Pipeline(..., bounding_box_format="xyxy")` given '
        '`{"images", "labels", "segmentation_masks", "bounding_boxes", '
        '"keypoints"}` (Keras 3\'s dict convention, plus keypoints). '
        "Each image op "
        "at its default strength (the middle column of its page), drawn "
        "by `docs/tools/gallery.py` when the site is built; photometric "
        "ops leave the targets as they are.",
        "",
        "![the inputs](img/targets-original.png)",
        "",
    ]
    for start in range(0, len(cells), per_row):
        row = cells[start : start + per_row]
        row = row + [("", "")] * (per_row - len(row))
        if start == 0:
            lines.append("| " + " | ".join(" " for _ in row) + " |")
            lines.append("|" + "---|" * per_row)
        lines.append("| " + " | ".join(c[0] for c in row) + " |")
        lines.append("| " + " | ".join(c[1] for c in row) + " |")
    if refused:
        lines += [
            "",
            "Ops that refuse masks, boxes or keypoints (a `ValueError` when "
            "the "
            "pipeline meets them):",
            "",
            *[
                f"- [`{n}`](../api/augment/{n}.md): expects {why}."
                for n, why in refused
            ],
        ]
    return "\n".join(lines) + "\n"


def _summary(cls):
    doc = inspect.getdoc(cls) or ""
    return doc.split("\n")[0]


_PAGE_NOTE = (
    "The pictures are drawn from the real ops when the site is built "
    "(fixed seeds, one eager call per picture), so they cannot drift from "
    "the code. Each op's first column is its input; the others use the "
    "same random draws, so they differ by strength alone. Every op runs "
    "with `probability=1.0` so that the picture shows it applied. The "
    "caption is the op as built (plus `probability=1.0`, and "
    "`num_classes=2` for the mixing ops, whose batch is the two photographs "
    "with labels 0 and 1: each is mixed with the other)."
)
_PAGE_LINK = (
    "[How these pictures are drawn](index.md#how-the-pictures-are-drawn)."
)
# Thumbnails at their own size, not shrunk to fit a column.
_SIZE = f'{{ style="min-width: {WIDTH}px" }}'
_NOWRAP = '<code style="white-space: nowrap">'
# The op pages without the table of contents: room for four columns.
_WIDE = "---\nhide:\n  - toc\n---\n\n"


def _index(order, pages, others, originals):
    lines = [
        "# Augmentation gallery",
        "",
        "Every augmentation op and policy of `keras_regkit.augment`, applied "
        "to scikit-learn's two sample photographs (or, for ops on other "
        "data, to synthetic spectrograms, time series and iris rows) at a "
        "low, the default and a high strength. The pictures are drawn from "
        "the code when the site is built, so they cannot drift from it.",
        "",
        "## How the pictures are drawn",
        "",
        _PAGE_NOTE,
        "",
        "## Pages",
        "",
        "| page | ops |",
        "|---|---|",
    ]
    for page in order:
        title = title_of(page)
        names = ", ".join(
            f"[`{n}`]({page}.md#{n.lower()})" for n, _ in pages[page]
        )
        lines.append(f"| [{title}]({page}.md) | {names} |")
    if supports_targets():
        lines.append(
            f"| [Masks and boxes]({MASKS_PAGE}.md) | every image op with "
            "segmentation masks and bounding boxes |"
        )
    lines += [
        "",
        "## The inputs",
        "",
        "| photographs | spectrograms | time series | iris rows |",
        "|---|---|---|---|",
        "| "
        + " | ".join(
            originals[k] for k in ("images", "spectrograms", "series", "rows")
        )
        + " |",
        "",
        "Public names of `keras_regkit.augment` that are not ops (no "
        "picture): "
        + ", ".join(f"[`{n}`](../api/augment/{n}.md)" for n in others)
        + ".",
        "",
    ]
    return "\n".join(lines)


def build():
    """Every gallery file, by path under ``docs/``: Markdown and PNGs."""
    return Gallery().build()


def main(argv=None):
    """Writes the gallery into a folder: ``python gallery.py DIR``."""
    argv = sys.argv[1:] if argv is None else argv
    target = argv[0] if argv else "site/_gallery"
    for path, content in build().items():
        full = os.path.join(target, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(full, mode) as file:
            file.write(content)
    print(f"gallery written to {target}")


if __name__ == "__main__":
    main()
