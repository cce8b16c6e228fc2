"""A running arithmetic mean of variables, kept on device beside them.

The average SWA swaps into a model (the role of PyTorch's
``torch.optim.swa_utils.AveragedModel``): a `WeightSnapshot` whose copies
hold the mean of the values the variables had at each `add`, updated
with ``keras.ops`` and ``Variable.assign`` only, in one compiled call on
TensorFlow, so it works on every backend and under ``MirroredStrategy``.
"""

from __future__ import annotations

import keras

from keras_regkit.callbacks.weight_snapshot import WeightSnapshot


class WeightAverage(WeightSnapshot):
    """The mean of some variables' values over the times `add` was called.

    ``copies`` hold the average; `restore` assigns it to the variables.

    Args:
        variables: The Keras variables to average, e.g.
            ``model.trainable_weights``.

    Example:
    >>> import keras, numpy as np
    >>> weight = keras.Variable(np.array([1.0, 2.0]))
    >>> average = WeightAverage([weight])
    >>> average.add()
    >>> _ = weight.assign(np.array([3.0, 6.0]))
    >>> average.add()
    >>> average.count, average.numpy()[0].tolist()
    (2, [2.0, 4.0])
    >>> average.in_variables()
    False
    """

    def __init__(self, variables):
        super().__init__(variables)
        self.count = 0
        self._update = _update_function(self)

    def add(self) -> None:
        """Adds the variables' current values: ``avg += (w - avg) / n``."""
        if self.count == 0:
            self.capture()
        else:
            fraction = 1.0 / (self.count + 1)
            self._update(keras.ops.convert_to_tensor(fraction, "float32"))
        self.count += 1

    def reset(self) -> None:
        """Forgets every value added: the next `add` starts a new mean."""
        self.count = 0

    def numpy(self) -> list:
        """The average, one numpy array per variable."""
        return [keras.ops.convert_to_numpy(copy) for copy in self.copies]

    def in_variables(self) -> bool:
        """Whether every variable holds exactly its average now."""
        for variable, average in zip(self.variables, self.copies, strict=True):
            same = keras.ops.all(keras.ops.equal(variable.value, average.value))
            if not bool(keras.ops.convert_to_numpy(same)):
                return False
        return True


def _update_function(snapshot):
    """``avg += (w - avg) * fraction`` for every copy, one compiled call."""

    def update(fraction):
        for average, variable in zip(
            snapshot.copies, snapshot.variables, strict=True
        ):
            step = keras.ops.cast(fraction, average.dtype)
            average.assign(average + (variable.value - average.value) * step)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(update, autograph=False)
    return update
