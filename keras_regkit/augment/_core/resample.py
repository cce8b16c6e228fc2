"""One resampling for any number of geometric ops: matrices and a resampler.

Geometric ops describe themselves by a 3x3 matrix per image that maps a
point of the output to the point of the input it is read from, in
*centred* pixel coordinates (``x`` to the right, ``y`` down, the origin at
the image centre, pixel centres at half-integers from it when the size is
even). The pipeline multiplies the matrices of consecutive geometric ops,
converts the product to pixel coordinates, and resamples each image once
with a gather-based resampler that XLA compiles well. Products of flips,
shifts, zooms and crops (no rotation or shear) are resampled separably:
the columns gathered first, on uint8 where the input is uint8, then whole
rows of them, blended in float32.
"""

from __future__ import annotations

import tensorflow as tf

FILL_MODES = ("constant", "reflect", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


def settings(
    interpolation="bilinear", fill_mode="constant", fill_value=0.0, gather=False
):
    """The resampling settings of a pipeline, as `resample` arguments.

    Example:
    >>> settings(fill_mode="reflect")["fill_mode"]
    'reflect'
    """
    return {
        "interpolation": interpolation,
        "fill_mode": fill_mode,
        "fill_value": fill_value,
        "gather": gather,
    }


# What ops that resample inside use when no pipeline gives settings.
DEFAULT_SETTINGS = settings()


def _as_float(value):
    return tf.cast(value, tf.float32)


def affine_matrix(rows):
    """Stacks nested lists of ``(batch,)`` tensors into ``(batch, 3, 3)``.

    Args:
        rows: Two rows of three entries each (the third row is
            ``[0, 0, 1]``), each entry a float32 ``(batch,)`` tensor or a
            Python float.

    Returns:
        A float32 ``(batch, 3, 3)`` tensor.

    Example:
    >>> import tensorflow as tf
    >>> m = affine_matrix([[tf.ones([2]), 0.0, 5.0], [0.0, 1.0, -1.0]])
    >>> m.shape
    TensorShape([2, 3, 3])
    >>> m[0].numpy().tolist()
    [[1.0, 0.0, 5.0], [0.0, 1.0, -1.0], [0.0, 0.0, 1.0]]
    """
    reference = next(
        entry for row in rows for entry in row if isinstance(entry, tf.Tensor)
    )
    zeros = tf.zeros_like(reference, dtype=tf.float32)
    entries = [zeros + _as_float(entry) for row in rows for entry in row]
    entries += [zeros, zeros, zeros + 1.0]
    return tf.reshape(tf.stack(entries, axis=-1), [-1, 3, 3])


def to_pixels(matrices, input_size, output_size):
    """Converts centred matrices to pixel coordinates, resizing the canvas.

    The output canvas is stretched over the input's (a resize) when the
    sizes differ, with half-pixel centres.

    Args:
        matrices: ``(batch, 3, 3)`` centred output-to-input matrices.
        input_size: ``(height, width)`` of the input.
        output_size: ``(height, width)`` of the output.

    Returns:
        ``(batch, 3, 3)`` matrices from output pixel ``(x, y, 1)`` to input
        pixel coordinates.
    """
    h_in, w_in = (_as_float(v) for v in input_size)
    h_out, w_out = (_as_float(v) for v in output_size)
    sx, sy = w_in / w_out, h_in / h_out
    # p_in = T(c_in) @ M @ S @ T(-c_out) @ p_out.
    left = tf.stack(
        [
            tf.stack([1.0, 0.0, (w_in - 1.0) / 2]),
            tf.stack([0.0, 1.0, (h_in - 1.0) / 2]),
            tf.constant([0.0, 0.0, 1.0]),
        ]
    )
    right = tf.stack(
        [
            tf.stack([sx, 0.0, -sx * (w_out - 1.0) / 2]),
            tf.stack([0.0, sy, -sy * (h_out - 1.0) / 2]),
            tf.constant([0.0, 0.0, 1.0]),
        ]
    )
    return tf.linalg.matmul(tf.linalg.matmul(left[None], matrices), right)


def _reflect(index, size):
    """Reflects integer indices into [0, size): d c b a | a b c d | d c b a."""
    period = 2 * size
    index = tf.math.floormod(index, period)
    return tf.where(index >= size, period - 1 - index, index)


def _axis_taps(coords, size, interpolation, fill_mode):
    """Indices and weights along one axis: lists of ``(batch, n)`` tensors.

    Returns ``(indices, weights, inside)``: the taps' int32 indices (mapped
    into ``[0, size)`` by the fill mode), their interpolation weights with
    taps outside the input zeroed for ``"constant"``, and the sum of the
    weights of the taps inside (1 unless ``"constant"``).
    """
    if interpolation == "nearest":
        starts = [tf.floor(coords + 0.5)]
        weights = [tf.ones_like(coords)]
    else:
        low = tf.floor(coords)
        frac = coords - low
        starts = [low, low + 1.0]
        weights = [1.0 - frac, frac]
    indices, kept, inside_sum = [], [], 0.0
    for start, weight in zip(starts, weights, strict=True):
        index = tf.cast(start, tf.int32)
        if fill_mode == "constant":
            inside = tf.cast((index >= 0) & (index < size), tf.float32)
            weight = weight * inside
            inside_sum += weight
        if fill_mode == "reflect":
            index = _reflect(index, size)
        else:
            index = tf.clip_by_value(index, 0, size - 1)
        indices.append(index)
        kept.append(weight)
    if fill_mode != "constant":
        inside_sum = None
    return indices, kept, inside_sum


def _resample_axis_aligned(
    images, matrices, output_size, interpolation, fill_mode, fill_value
):
    """`resample` for matrices without rotation or shear, separably.

    Along each axis the input coordinate depends on one output coordinate
    only, so the bilinear weights factor into a row and a column weight.
    The column taps are gathered first, on the input's dtype, then whole
    rows of them (contiguous copies), and the four products blended in
    float32 as the output is written. Rows first, then columns, made XLA
    write the output transposed and copy it back: from 256 px to 224,
    columns first ran the ImageNet policy at 1,690-1,812 images/s against
    1,465-1,481, and a random resized crop alone at 2,512-2,960 against
    2,158-2,217 (2 runs each, 2-core AMD EPYC); from 224 to 224 the two
    orders were level. The same result as the general resampler up to
    float rounding (exactly the same for flips and whole-pixel shifts).
    """
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    h_out, w_out = output_size
    m = tf.cast(matrices, tf.float32)
    xs = tf.range(w_out, dtype=tf.float32)[None]
    ys = tf.range(h_out, dtype=tf.float32)[None]
    x = m[:, 0, 0:1] * xs + m[:, 0, 2:3]
    y = m[:, 1, 1:2] * ys + m[:, 1, 2:3]
    cols, col_w, col_in = _axis_taps(x, width, interpolation, fill_mode)
    rows, row_w, row_in = _axis_taps(y, height, interpolation, fill_mode)
    scale = 1.0 / 255.0 if images.dtype == tf.uint8 else 1.0
    # Columns first, on the input's dtype, then whole rows of those: the
    # last gather runs along rows, so the result comes out row-major
    # (a column gather last came out transposed and was copied back).
    columns = [tf.gather(images, col, axis=2, batch_dims=1) for col in cols]
    out = 0.0
    for row, row_weight in zip(rows, row_w, strict=True):
        for values, col_weight in zip(columns, col_w, strict=True):
            picked = tf.gather(values, row, axis=1, batch_dims=1)
            weight = (row_weight * scale)[:, :, None] * col_weight[:, None, :]
            out += tf.cast(picked, tf.float32) * weight[..., None]
    if fill_mode == "constant" and fill_value != 0.0:
        outside = 1.0 - row_in[:, :, None] * col_in[:, None, :]
        out = out + outside[..., None] * fill_value
    return out


def mirror(images, matrices):
    """`resample` for matrices that only mirror: reversed copies, exactly.

    A flip's pixel matrix maps column ``x`` to ``width - 1 - x`` (entry
    ``[0, 0]`` is -1) or row ``y`` to ``height - 1 - y`` (entry ``[1, 1]``);
    each image is reversed along the axes whose entry is negative. No
    taps are read or blended: the dtype is kept (uint8 stays uint8), and
    under XLA the reversal fuses into the ops after it. The resampler
    gave the same values at 4 to 5 times the cost (a horizontal flip of
    64 images at 224 pixels, 2-core AMD EPYC).

    Args:
        images: ``(batch, height, width, channels)``, any dtype.
        matrices: ``(batch, 3, 3)`` pixel matrices (`to_pixels`) of flips
            and identities only.

    Returns:
        The images, each mirrored as its matrix says.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.reshape(tf.range(4), [1, 2, 2, 1])
    >>> flip = tf.constant([[[-1.0, 0, 1], [0, 1, 0], [0, 0, 1]]])
    >>> mirror(x, flip)[0, :, :, 0].numpy().tolist()
    [[1, 0], [3, 2]]
    """
    for axis, entry in ((2, matrices[:, 0, 0]), (1, matrices[:, 1, 1])):
        flipped = (entry < 0.0)[:, None, None, None]
        images = tf.where(flipped, tf.reverse(images, [axis]), images)
    return images


def resample(
    images,
    matrices,
    output_size,
    interpolation="bilinear",
    fill_mode="constant",
    fill_value=0.0,
    gather=True,
    axis_aligned=False,
):
    """Resamples each image through its own affine matrix.

    Args:
        images: float32 ``(batch, height, width, channels)``, or uint8
            (read as ``value / 255``: resampled without converting the
            whole input first).
        matrices: ``(batch, 3, 3)`` maps from output pixel ``(x, y, 1)``
            to input pixel coordinates (see `to_pixels`).
        output_size: ``(height, width)`` of the output.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: How points outside the input are read: ``"constant"``
            (``fill_value``), ``"reflect"`` (about the edge, the edge
            pixel repeated) or ``"nearest"`` (the edge pixel).
        fill_value: The value for ``"constant"``.
        gather: Whether to resample with gathers (fast under XLA) rather
            than TensorFlow's ``ImageProjectiveTransformV3`` kernel (faster
            without XLA, and not compilable). Both give the same result
            up to float rounding.
        axis_aligned: Whether every matrix is known to have no rotation
            or shear (entries ``[0, 1]`` and ``[1, 0]`` zero: flips,
            shifts, zooms, crops), resampled separably (faster, with or
            without XLA); the off-diagonal entries are then ignored.

    Returns:
        float32 ``(batch, out_height, out_width, channels)``.

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> x = tf.reshape(tf.range(6.0), [1, 2, 3, 1])
    >>> shift = tf.constant([[[1.0, 0, -1], [0, 1, 0], [0, 0, 1]]])
    >>> resample(x, shift, (2, 3))[0, :, :, 0].numpy().tolist()
    [[0.0, 0.0, 1.0], [0.0, 3.0, 4.0]]
    """
    if axis_aligned:
        return _resample_axis_aligned(
            images, matrices, output_size, interpolation, fill_mode, fill_value
        )
    if not gather:
        if images.dtype == tf.uint8:
            images = tf.cast(images, tf.float32) * (1.0 / 255.0)
        flat = tf.reshape(matrices, [-1, 9])[:, :8]
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=flat,
            output_shape=tf.stack(output_size),
            fill_value=tf.cast(fill_value, tf.float32),
            interpolation=interpolation.upper(),
            fill_mode=fill_mode.upper(),
        )
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    channels = images.shape[-1]
    h_out, w_out = output_size
    ys, xs = tf.meshgrid(
        tf.range(h_out, dtype=tf.float32),
        tf.range(w_out, dtype=tf.float32),
        indexing="ij",
    )
    xs = tf.reshape(xs, [1, -1])
    ys = tf.reshape(ys, [1, -1])
    m = matrices
    x = m[:, 0, 0:1] * xs + m[:, 0, 1:2] * ys + m[:, 0, 2:3]
    y = m[:, 1, 0:1] * xs + m[:, 1, 1:2] * ys + m[:, 1, 2:3]
    if interpolation == "nearest":
        x0 = tf.floor(x + 0.5)
        y0 = tf.floor(y + 0.5)
        cols = [x0]
        rows = [y0]
        weights = [tf.ones_like(x)]
    else:
        x0 = tf.floor(x)
        y0 = tf.floor(y)
        fx = x - x0
        fy = y - y0
        cols = [x0, x0 + 1.0, x0, x0 + 1.0]
        rows = [y0, y0, y0 + 1.0, y0 + 1.0]
        weights = [
            (1.0 - fx) * (1.0 - fy),
            fx * (1.0 - fy),
            (1.0 - fx) * fy,
            fx * fy,
        ]
    scale = 1.0 / 255.0 if images.dtype == tf.uint8 else 1.0
    flat = tf.reshape(images, [-1, channels])
    offsets = tf.range(batch)[:, None] * (height * width)
    out = 0.0
    outside_weight = 0.0
    for col, row, weight in zip(cols, rows, weights, strict=True):
        col = tf.cast(col, tf.int32)
        row = tf.cast(row, tf.int32)
        if fill_mode == "constant":
            inside = tf.cast(
                (col >= 0) & (col < width) & (row >= 0) & (row < height),
                tf.float32,
            )
            outside_weight += weight * (1.0 - inside)
            weight = weight * inside
        if fill_mode == "reflect":
            col = _reflect(col, width)
            row = _reflect(row, height)
        else:
            col = tf.clip_by_value(col, 0, width - 1)
            row = tf.clip_by_value(row, 0, height - 1)
        values = tf.gather(flat, offsets + row * width + col)
        out += tf.cast(values, tf.float32) * (weight * scale)[..., None]
    if fill_mode == "constant" and fill_value != 0.0:
        out = out + outside_weight[..., None] * fill_value
    return tf.reshape(out, [-1, h_out, w_out, channels])
