"""SAM's backend-neutral pieces of a training step.

Each backend's step (``_sam_tensorflow``, ``_sam_jax``, ``_sam_torch``)
splits the batch into micro-batches, perturbs the weights, sums the
perturbed gradients and joins the outputs for the metrics with these
functions; they use ``keras.ops`` only. They import nothing from
``sam.py``, which imports the backend steps.
"""

from __future__ import annotations

import keras
from keras import ops


def micro_batches(x, y, sample_weight, count, split="strided"):
    """Splits a batch into ``count`` micro-batches (fewer if it is small).

    ``split="strided"``: micro-batch ``i`` holds examples ``i, i + count,
    i + 2·count, ...``. ``split="contiguous"``: consecutive runs, the
    first ``n % count`` of them one example longer (``numpy.array_split``;
    ``tf.split`` where ``count`` divides the batch size ``n``). Either way
    the sizes differ by at most one, and a batch of ``n < count`` examples
    (the last of an epoch, say) splits into ``n`` micro-batches of one
    example.

    Where ``n`` is unknown when tracing (TensorFlow's graph), the list
    has ``count`` entries and those past the ``n``-th hold no example
    (and a share of 0); the training step leaves them out.

    Args:
        x: The inputs (a tensor or a nested structure of tensors).
        y: The targets, or None.
        sample_weight: The sample weights, or None.
        count: The number of micro-batches, an int >= 1, or None for one.
        split: ``"strided"`` or ``"contiguous"``.

    Returns:
        A list of ``(x, y, sample_weight, share)`` tuples, ``share`` being
        the micro-batch's fraction of the batch (``1.0`` for one
        micro-batch): averaging the micro-batches' mean losses with these
        weights gives the batch's mean loss.

    Example:
    >>> import numpy as np
    >>> x = np.arange(5.0)[:, None]
    >>> parts = micro_batches(x, None, None, 2)
    >>> [p[0][:, 0].tolist() for p in parts]
    [[0.0, 2.0, 4.0], [1.0, 3.0]]
    >>> [round(float(p[3]), 2) for p in parts]
    [0.6, 0.4]
    >>> parts = micro_batches(x, None, None, 2, split="contiguous")
    >>> [p[0][:, 0].tolist() for p in parts]
    [[0.0, 1.0, 2.0], [3.0, 4.0]]
    >>> len(micro_batches(x[:3], None, None, 4))
    3
    """
    size = None if count is None or count == 1 else batch_size(x)
    if isinstance(size, int):
        count = min(count, size)
    if size is None or count == 1:
        return [(x, y, sample_weight, 1.0)]
    total = ops.cast(size, "float32")
    parts = []
    for i in range(count):
        if split == "strided":
            index = slice(i, None, count)
        else:
            index = slice(*_contiguous_bounds(size, count, i))
        part = _map(lambda t, index=index: t[index], (x, y, sample_weight))
        share = ops.cast(batch_size(part[0]), "float32") / total
        parts.append((*part, share))
    return parts


def _contiguous_bounds(size, count, i):
    """Start and stop of the ``i``-th of ``count`` contiguous runs."""
    quotient, remainder = size // count, size % count
    if isinstance(size, int):
        return i * quotient + min(i, remainder), (i + 1) * quotient + min(
            i + 1, remainder
        )
    start = i * quotient + ops.minimum(i, remainder)
    stop = (i + 1) * quotient + ops.minimum(i + 1, remainder)
    return start, stop


def split_batch(model, data):
    """Unpacks ``data`` and splits it into ``model``'s micro-batches.

    Args:
        model: The `SAM` model (its ``micro_batches`` and ``split``).
        data: The batch, as ``train_step`` receives it.

    Returns:
        ``(x, parts)``: the batch's inputs, and `micro_batches` of it.
    """
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    parts = micro_batches(
        x, y, sample_weight, model.micro_batches, split=model.split
    )
    return x, parts


def scale_loss(model, loss):
    """``loss`` scaled by ``model``'s optimizer (unchanged without one)."""
    if model.optimizer is None:
        return loss
    return model.optimizer.scale_loss(loss)


def perturb(weights, steps):
    """``w + e`` for each weight (``w`` itself where ``e`` is None)."""
    return [
        w if e is None else w + e for w, e in zip(weights, steps, strict=True)
    ]


def collate(outputs):
    """Joins per-micro-batch ``(y, y_pred, sample_weight)`` triples.

    Args:
        outputs: A list of ``(y, y_pred, sample_weight)`` tuples.

    Returns:
        One ``(y, y_pred, sample_weight)`` tuple for the whole batch.
    """
    return tuple(concatenate([part[i] for part in outputs]) for i in range(3))


def concatenate(structures):
    """Concatenates matching structures of tensors along the batch axis.

    Args:
        structures: A list of structures (tensors, None, nested lists or
            dicts of them), all alike.

    Returns:
        One structure of the same form.
    """
    if len(structures) == 1:
        return structures[0]

    def join(*parts):
        if parts[0] is None:
            return None
        return ops.concatenate(parts, axis=0)

    return keras.tree.map_structure(join, *structures)


def batch_size(x):
    """The number of examples in ``x``: its first tensor's first dim."""
    first = next(t for t in keras.tree.flatten(x) if t is not None)
    return ops.shape(first)[0]


def _map(fn, structure):
    return keras.tree.map_structure(
        lambda t: None if t is None else fn(t), structure
    )


def weighted_sum(total, gradients, share):
    """Adds ``share · gradients`` to ``total`` (None: starts the sum).

    Args:
        total: A list of tensors (or None entries), or None.
        gradients: A list of tensors (or None entries).
        share: A float or scalar tensor; ``1.0`` adds the gradients
            unchanged.

    Returns:
        The updated list.
    """

    def scaled(g):
        if g is None or (isinstance(share, float) and share == 1.0):
            return g
        return g * ops.cast(share, g.dtype)

    if total is None:
        return [scaled(g) for g in gradients]
    return [
        t if g is None else (scaled(g) if t is None else t + scaled(g))
        for t, g in zip(total, gradients, strict=True)
    ]
