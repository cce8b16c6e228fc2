"""The callback that moves every scheduled value during training."""

from __future__ import annotations

import warnings

import keras
import numpy as np

from keras_regkit import _keras_internals
from keras_regkit import _scheduled_value
from keras_regkit import _validation


@keras.saving.register_keras_serializable(package="keras_regkit")
class ScheduleCallback(keras.callbacks.Callback):
    """Updates every scheduled strength and rate of a model during `fit`.

    It finds, at the start of training, every argument of a keras_regkit
    layer or regularizer that was given a schedule instead of a float
    (see `keras_regkit.schedules`), and assigns its value: at the start of
    each epoch for schedules with ``unit="epoch"``, before each batch for
    ``unit="step"``. The values live in non-trainable variables read by the
    compiled training step, so nothing is retraced. With ``log=True`` the
    current values are added to the epoch logs (the progress bar and
    ``History`` show them, e.g. as ``l2``).

    On JAX, the callback first adds scheduled regularizer strengths to the
    model's state (a jitted step would otherwise bake them in when traced;
    layers' rates are weights, already in it). A value changed per epoch
    costs nothing more there; a ``unit="step"`` value that changes from
    one batch to the next makes the JAX fit loop write its state back into
    the variables and read it again before that batch (Keras does this
    itself at every epoch end): one Python-level assignment per variable
    of the model, per changed step, and no recompilation.

    The step index is the optimizer's iteration count, so it continues
    across several `fit` calls; the epoch index is the one `fit` passes
    (it honours ``initial_epoch``).

    Args:
        log: Whether to add the current values to the epoch logs.
        warn_if_unused: Warn when the model has no scheduled value.

    Example:
    >>> import keras, numpy as np
    >>> import keras_regkit as rk
    >>> reg = rk.regularizers.L2(rk.schedules.Linear(0.0, 1e-3, duration=2))
    >>> dense = keras.layers.Dense(1, kernel_regularizer=reg)
    >>> model = keras.Sequential([dense])
    >>> model.compile("sgd", "mse")
    >>> history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=3,
    ...     verbose=0, callbacks=[rk.callbacks.ScheduleCallback()])
    >>> [round(v, 6) for v in history.history["l2"]]
    [0.0, 0.0005, 0.001]
    """

    def __init__(self, log: bool = True, warn_if_unused: bool = True):
        super().__init__()
        self.log = _validation.check_bool("log", log, owner=self)
        self.warn_if_unused = _validation.check_bool(
            "warn_if_unused", warn_if_unused, owner=self
        )
        self.values = {}
        self._step = 0
        self._jax_sync = None
        self._epoch_start_step = 0

    def _values_by_unit(self, unit):
        return [v for v in self.values.values() if v.unit == unit]

    def on_train_begin(self, logs=None):
        self.values = _scheduled_value.find_scheduled_values(self.model)
        self._jax_sync = None
        if keras.backend.backend() == "jax":
            if _scheduled_value.expose_as_state(self.model):
                # `fit` built its step before this callback ran; under a
                # `keras.distribution` it recorded the state's layout.
                _keras_internals.remake_compiled_functions(self.model)
            self._jax_sync = _keras_internals.jax_state_sync(self.model)
        if not self.values and self.warn_if_unused:
            warnings.warn(
                "ScheduleCallback found no scheduled value in the model: "
                "pass a keras_regkit schedule as a strength or rate.",
                stacklevel=2,
            )
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        # convert_to_numpy: under tf.distribute the variable is mirrored,
        # and int() does not take a MirroredVariable.
        self._epoch_start_step = (
            int(keras.ops.convert_to_numpy(iterations))
            if iterations is not None
            else 0
        )
        self._step = self._epoch_start_step
        self._step_values = self._values_by_unit("step")
        self._epoch_values = self._values_by_unit("epoch")

    def on_epoch_begin(self, epoch, logs=None):
        for value in self._epoch_values:
            value.update(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        index = self._epoch_start_step + batch
        if self._jax_sync is not None and any(
            np.float32(value.value_at(index)) != np.float32(value.current)
            for value in self._step_values
        ):
            # JAX's fit loop hands each step's output state to the next
            # step and re-reads the variables only after a sync: write the
            # state back, so the assignments below reach the next step.
            self._jax_sync()
        for value in self._step_values:
            value.update(index)

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._epoch_start_step + batch + 1

    def on_epoch_end(self, epoch, logs=None):
        self._epoch_start_step = self._step
        if self.log and logs is not None:
            for key, value in self.values.items():
                logs[key] = value.current

    def get_config(self):
        return {"log": self.log, "warn_if_unused": self.warn_if_unused}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
