"""What the dropout-family layers share: a schedulable rate, a seed, checks."""

from __future__ import annotations

from functools import partial

import keras

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


class DropRateMixin:
    """A `keras.layers.Layer` mixin: the ``rate`` and ``seed`` arguments.

    ``rate`` is a float in [0, 1) or a schedule (`keras_regkit.schedules`).
    A scheduled rate's variable is tracked as a non-trainable weight of
    the layer: it is saved with the model and handed to the compiled
    training step as state on every backend, so
    `keras_regkit.callbacks.ScheduleCallback` can move it without
    retracing.
    """

    def _init_rate_and_seed(self, rate, seed, track=True):
        """Sets ``_rate``, ``seed`` and ``seed_generator``.

        Args:
            rate: The ``rate`` argument.
            seed: The ``seed`` argument.
            track: Track a scheduled rate's variable as a weight. Layers
                whose base class saves a fixed list of variables (Keras's
                `Dense` and `Conv2D`) pass False and save the rate
                themselves (see `SavedRateMixin`).
        """
        self._rate = _scheduled_value.ScheduledValue(
            rate, name="rate", check=partial(check_rate, owner=self)
        )
        if track and self._rate.variable is not None:
            self._rate_variable = self._rate.variable  # tracked by Keras
        self.seed, self.seed_generator = make_seed(seed, owner=self)

    @property
    def rate(self) -> float:
        """The current rate (a schedule's latest value)."""
        return self._rate.current

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
        return {"rate": self._rate.config_value(), "seed": self.seed}


_RATE_KEY = "rate"


class SavedRateMixin:
    """Saves a scheduled rate next to a Keras layer's fixed weight list.

    Keras's `Dense` and `Conv2D` save exactly their own variables (kernel,
    bias) and, on load, check that the file holds as many entries as the
    layer has variables, so the rate's variable cannot be one of their
    weights (``track=False`` in `DropRateMixin`). It is saved under an
    extra key, ``"rate"``, and assigned back on load, so a reloaded model
    continues at the saved rate like the layers that track it as a weight.
    Files written without the key (a constant rate, or an older version of
    keras_regkit) load as before.

    Uses only the public `save_own_variables` / `load_own_variables` hooks
    of `keras.layers.Layer`.
    """

    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.built and self._rate.variable is not None:
            store[_RATE_KEY] = self._rate.variable

    def load_own_variables(self, store):
        keras_entries = {k: store[k] for k in store.keys() if k != _RATE_KEY}
        super().load_own_variables(keras_entries)
        if _RATE_KEY in store.keys() and self._rate.variable is not None:
            self._rate.variable.assign(store[_RATE_KEY])
