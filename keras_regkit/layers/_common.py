"""What the dropout-family layers share: a schedulable rate, a seed, checks."""

from __future__ import annotations

from functools import partial

import keras
import numpy as np

from keras_regkit import _scheduled_value
from keras_regkit import _validation

check_rate = partial(
    _validation.check_float, low=0.0, high=1.0, high_inclusive=False
)


def make_seed(seed, owner=None):
    """Validates ``seed``; returns it with the layer's `SeedGenerator`.

    The plain integer (or None) goes into `get_config`; the generator is
    what the layer samples with, so masks differ from step to step yet
    repeat with the same seed.

    Args:
        seed: The ``seed`` argument: an integer or None.
        owner: The layer, named in the error message.
    """
    if seed is not None:
        seed = _validation.check_int("seed", seed, owner=owner)
    return seed, ReplicaSeedGenerator(seed)


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A `SeedGenerator` whose seeds differ between `tf.distribute` replicas.

    Keras's generator keeps one state per model (an ``aggregation="none"``
    variable, equal on every replica), so under a `tf.distribute` strategy
    every replica would draw the same masks. Inside a replica context with
    several replicas, the replica's global id is folded into the seed;
    elsewhere (one device, other backends) the seeds are Keras's.
    """

    def next(self, ordered=True):
        seed = super().next(ordered=ordered)
        if keras.backend.backend() != "tensorflow":
            return seed
        import tensorflow as tf

        if not tf.distribute.has_strategy() or (
            tf.distribute.in_cross_replica_context()
        ):
            return seed
        context = tf.distribute.get_replica_context()
        if context.num_replicas_in_sync == 1:
            return seed
        replica = tf.cast(context.replica_id_in_sync_group, seed.dtype)
        return seed + tf.stack([replica * 1_000_003, tf.zeros_like(replica)])


def check_float_inputs(inputs, owner=None):
    """Raises a `TypeError` for integer or boolean inputs."""
    if not keras.backend.is_float_dtype(inputs.dtype):
        raise _validation.invalid(
            "inputs",
            "a float tensor",
            f"<tensor of {inputs.dtype}>",
            owner=owner,
            error=TypeError,
        )


_RATE_KEY = "rate"
_SEED_KEY = "seed_generator_state"
_EXTRA_KEYS = (_RATE_KEY, _SEED_KEY)


class SavedStateMixin:
    """Saves the state that Keras's weight list leaves out, by name.

    Keras saves a layer's weights under the keys ``"0"``, ``"1"``... and,
    on load, checks that the file holds exactly as many entries as the
    layer has weights. Two more pieces of state are saved beside them,
    under named keys, and assigned back on load:

    - ``"seed_generator_state"``: the state of the layer's `SeedGenerator`
      (Keras saves no generator state, so a reloaded layer would restart
      its masks from its seed). Only for a layer with an integer ``seed``:
      an unseeded layer draws fresh masks in every process, as Keras's
      own layers do.
    - ``"rate"``: a scheduled rate whose variable cannot be one of the
      layer's weights (`DropRateMixin` with ``track=False``).

    The layer's weights (their number, order and ``get_weights``) are
    unchanged. Files written without these keys (older versions of
    keras_regkit, unseeded layers) load as before; a key the layer has no
    use for is ignored. Uses only the public `save_own_variables` /
    `load_own_variables` hooks of `keras.layers.Layer`.

    Expects ``seed`` and ``seed_generator`` attributes (`make_seed`).
    """

    def _extra_state(self) -> dict:
        """The variables saved under named keys, by key."""
        state = {}
        if self.seed is not None:
            state[_SEED_KEY] = self.seed_generator.state
        return state

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for key, variable in self._extra_state().items():
            store[key] = variable

    def load_own_variables(self, store):
        keys = list(store.keys())
        keras_entries = {k: store[k] for k in keys if k not in _EXTRA_KEYS}
        super().load_own_variables(keras_entries)
        for key, variable in self._extra_state().items():
            if key in keys:
                value = np.asarray(store[key]).astype(variable.dtype)
                variable.assign(value)


class DropRateMixin(SavedStateMixin):
    """A `keras.layers.Layer` mixin: the ``rate`` and ``seed`` arguments.

    ``rate`` is a float in [0, 1) or a schedule (`keras_regkit.schedules`).
    A scheduled rate's variable is tracked as a non-trainable weight of
    the layer: it is saved with the model and handed to the compiled
    training step as state on every backend, so
    `keras_regkit.callbacks.ScheduleCallback` can move it without
    retracing. Its position (the schedule's index) is saved in the config
    (``"schedule_index"``), so a reloaded layer stands where the saved one
    stood. The generator's state is saved too (`SavedStateMixin`).
    """

    def _init_rate_and_seed(self, rate, seed, track=True):
        """Sets ``_rate``, ``seed`` and ``seed_generator``.

        Args:
            rate: The ``rate`` argument.
            seed: The ``seed`` argument.
            track: Track a scheduled rate's variable as a weight. Layers
                whose base class saves a fixed list of variables (Keras's
                `Dense` and `Conv2D`) pass False: the rate is then saved
                beside their weights (`SavedStateMixin`).
        """
        self._rate = _scheduled_value.ScheduledValue(
            rate, name="rate", check=partial(check_rate, owner=self)
        )
        self._rate_saved_apart = not track
        if track and self._rate.variable is not None:
            self._rate_variable = self._rate.variable  # tracked by Keras
        self.seed, self.seed_generator = make_seed(seed, owner=self)

    @property
    def rate(self) -> float:
        """The rate in use: the constant, or the scheduled variable's value.

        A scheduled rate reads the variable the layer computes with, so it
        is right after `load_model`, `load_weights` or any assignment. It
        is the schedule's value when the variable holds that value (the
        variable rounds it to float32), else the variable's float32 value.
        """
        if self._rate.is_constant:
            return self._rate.current
        held = float(keras.ops.convert_to_numpy(self._rate.variable))
        if np.float32(self._rate.current) == np.float32(held):
            return self._rate.current
        return held

    def _extra_state(self) -> dict:
        state = super()._extra_state()
        if self._rate_saved_apart and self._rate.variable is not None:
            state[_RATE_KEY] = self._rate.variable
        return state

    def _drop_in_training(self, inputs, training, drop, **kwargs):
        """The ``call`` of a layer that only drops during training.

        Checks the inputs; returns them unchanged at inference or at a
        constant rate of 0; otherwise returns ``drop(inputs, rate,
        seed=<the layer's generator>, **kwargs)``.
        """
        check_float_inputs(inputs, owner=self)
        if not training or self._rate.is_zero():
            return inputs
        rate = self._rate.read("float32")
        return drop(inputs, rate, seed=self.seed_generator, **kwargs)

    def _rate_and_seed_config(self) -> dict:
        config = {"rate": self._rate.config_value(), "seed": self.seed}
        if not self._rate.is_constant:
            config[_scheduled_value.POSITIONS_KEY] = _scheduled_value.positions(
                self
            )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        saved = config.pop(_scheduled_value.POSITIONS_KEY, None)
        layer = super().from_config(config)
        _scheduled_value.restore_positions(layer, saved)
        return layer
