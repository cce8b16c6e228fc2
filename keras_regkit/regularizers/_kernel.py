"""Kernel-shape helpers shared by the structured regularizers."""

from __future__ import annotations

from keras import ops

from keras_regkit import _validation


def check_rank(name: str, x, min_rank: int = 2) -> int:
    """Returns the static rank of ``x``; raises if it is below ``min_rank``.

    Args:
        name: The regularizer's class name, for the message.
        x: The weight tensor.
        min_rank: The smallest supported rank.

    Returns:
        The rank.

    Raises:
        ValueError: naming the regularizer, the shape and what is allowed.
    """
    rank = len(x.shape)
    if rank < min_rank:
        raise ValueError(
            f"{name} needs a kernel of rank >= {min_rank} (a Dense, Conv or "
            f"Embedding kernel); received a weight of shape {tuple(x.shape)}. "
            "Apply it to kernels, not biases."
        )
    return rank


def groups_as_columns(x, axis: int):
    """Reshapes ``x`` to a matrix whose columns are the slices along ``axis``.

    Args:
        x: A tensor of rank >= 2 and static shape.
        axis: The axis indexing the groups (negative allowed).

    Returns:
        A ``(group_size, num_groups)`` tensor.
    """
    rank = len(x.shape)
    axis = axis % rank
    # transpose, not moveaxis: Keras's moveaxis reads `x.ndim`, which a
    # tf.Variable (a valid regularizer input) does not have.
    order = [i for i in range(rank) if i != axis] + [axis]
    return ops.reshape(ops.transpose(x, order), (-1, x.shape[axis]))


def check_axis(name: str, axis: int, rank: int) -> int:
    """Validates ``axis`` against a kernel's rank at first call."""
    if not -rank <= axis < rank:
        expected = (
            f"an integer in [{-rank}, {rank}) for this rank-{rank} kernel"
        )
        raise _validation.invalid("axis", expected, axis, owner=name)
    return axis
