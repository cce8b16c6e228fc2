"""On-device weight snapshots: one extra copy of a list of variables.

`keras.callbacks.EarlyStopping` keeps the best weights with
``model.get_weights()``: every improvement copies every variable to host
numpy arrays (and ``set_weights`` copies them back). A snapshot here is a
second set of non-trainable variables, created beside the originals (on the
same devices, under the same distribution strategy), and refreshed by
assigning variable to variable inside one compiled function: no host round
trip, no per-variable Python dispatch after the first call.
"""

from __future__ import annotations

import contextlib
import math

import keras
import ml_dtypes
import numpy as np

_TF_ASSIGN_ALL = None


def dtype_itemsize(dtype) -> int:
    """The bytes one element of a Keras dtype takes, as numpy stores it.

    ``"float32"`` -> 4, ``"bfloat16"`` -> 2, ``"float8_e4m3fn"`` and
    ``"bool"`` -> 1, ``"complex128"`` -> 16: the ``itemsize`` of the numpy
    dtype (from ``ml_dtypes`` for ``bfloat16`` and the float8 types), i.e.
    what ``get_weights`` returns and a ``.weights.h5`` file stores.

    Raises:
        ValueError: For a dtype without a fixed size (``"string"``).
    """
    name = keras.backend.standardize_dtype(dtype)
    try:
        return np.dtype(getattr(ml_dtypes, name, name)).itemsize
    except TypeError as error:
        raise ValueError(
            f"The dtype {name!r} has no fixed size per element."
        ) from error


def variables_nbytes(variables) -> int:
    """The bytes the values of ``variables`` take (one copy of each)."""
    return sum(
        math.prod(variable.shape) * dtype_itemsize(variable.dtype)
        for variable in variables
    )


def _tf_assign_all():
    """One `tf.function` that assigns a list of variables to another.

    Module-level, with the variables as arguments: TensorFlow traces it
    once per list of variable shapes and dtypes, so every snapshot of the
    same model, including those of a new callback for each `fit`, reuses
    one trace (a function per snapshot was traced again for each new
    snapshot: 30-90 ms each, and TensorFlow's retracing warning).
    """
    global _TF_ASSIGN_ALL
    if _TF_ASSIGN_ALL is None:
        import tensorflow as tf

        def assign_all(targets, sources):
            for target, source in zip(targets, sources, strict=True):
                target.assign(source)

        _TF_ASSIGN_ALL = tf.function(assign_all, autograph=False)
    return _TF_ASSIGN_ALL


def _assigner(targets, sources):
    """A no-argument function assigning ``sources`` to ``targets``.

    On TensorFlow, one graph call for all variables (`_tf_assign_all`).
    Other backends run the plain loop: on JAX an assign swaps an immutable
    array reference, which is already cheap.
    """
    if keras.backend.backend() == "tensorflow":
        target_values = [target.value for target in targets]
        source_values = [source.value for source in sources]
        if any(
            getattr(value, "distribute_strategy", None) is not None
            for value in target_values + source_values
        ):
            # tf.distribute variables cannot be passed as arguments (each
            # replica must be assigned): one function of their own.
            import tensorflow as tf

            def assign():
                for target, source in zip(
                    target_values, source_values, strict=True
                ):
                    target.assign(source)

            return tf.function(assign, autograph=False)
        assign_all = _tf_assign_all()
        return lambda: assign_all(target_values, source_values)

    def assign():
        for target, source in zip(targets, sources, strict=True):
            target.assign(_detached(source.value))

    return assign


def _detached(value):
    """``value`` in a buffer of its own, where assigning would share one.

    A JAX variable's assign stores the array itself, and JAX's training
    step donates (frees) the buffers of the state it is given: a snapshot
    sharing a buffer with a weight would be deleted by the next step. On
    TensorFlow an assign shares the buffer until the next write copies it
    (copy-on-write), and on torch it copies into the variable's own
    tensor, so the value is passed as it is.
    """
    if keras.backend.backend() == "jax":
        return keras.ops.copy(value)
    return value


def _creation_scope(variables):
    """Returns the context in which copies of ``variables`` are created.

    Under a `tf.distribute` strategy the copies are created in its scope,
    so that a mirrored variable gets a mirrored copy on each replica.
    """
    if keras.backend.backend() == "tensorflow":
        for variable in variables:
            strategy = getattr(variable.value, "distribute_strategy", None)
            if strategy is not None:
                return strategy.scope()
    return contextlib.nullcontext()


class WeightSnapshot:
    """A copy of some variables, kept on device, captured and put back.

    Memory: exactly one extra copy of the given variables, on the devices
    that hold them (for a 10.5M-parameter float32 model, 40 MiB more).

    Args:
        variables: The Keras variables to copy, e.g. ``model.weights``
            (plus ``model.optimizer.variables`` to include the optimizer's
            state).

    Example:
    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> snapshot = WeightSnapshot(model.weights)
    >>> snapshot.capture()
    >>> before = model.get_weights()
    >>> _ = model.layers[0].kernel.assign(np.zeros((2, 1)))
    >>> snapshot.restore()
    >>> all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    True
    """

    def __init__(self, variables):
        self.variables = list(variables)
        with _creation_scope(self.variables):
            self.copies = [
                keras.Variable(
                    initializer=keras.initializers.Zeros(),
                    shape=variable.shape,
                    dtype=variable.dtype,
                    trainable=False,
                    name=f"snapshot_{index}",
                )
                for index, variable in enumerate(self.variables)
            ]

        self._capture = _assigner(self.copies, self.variables)
        self._restore = _assigner(self.variables, self.copies)
        self.captured = False

    def matches(self, variables) -> bool:
        """Whether this snapshot copies exactly ``variables`` (by identity)."""
        variables = list(variables)
        return len(variables) == len(self.variables) and all(
            a is b for a, b in zip(variables, self.variables, strict=True)
        )

    @property
    def nbytes(self) -> int:
        """The memory the copies take, in bytes."""
        return variables_nbytes(self.copies)

    def capture(self) -> None:
        """Copies the variables' current values into the snapshot."""
        self._capture()
        self.captured = True

    def restore(self) -> None:
        """Assigns the captured values back to the variables.

        Raises:
            RuntimeError: If nothing was captured yet.
        """
        if not self.captured:
            raise RuntimeError(
                "WeightSnapshot.restore() called before capture(): there "
                "is nothing to restore."
            )
        self._restore()
