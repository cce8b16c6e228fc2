"""The base of keras_regkit's regularizers: strengths that keep their place.

A scheduled strength (see `keras_regkit.schedules`) lives in a variable
that belongs to no layer, so `model.save` cannot store it with the
weights. The regularizer's config stores the schedule and, under
``"schedule_index"``, the epoch or step each scheduled strength was last
moved to; `from_config` moves the rebuilt strengths back there. A
reloaded model's penalty (hence `evaluate()` and the next `fit`) then
starts from the value the saved model had, on every backend.

A scheduled strength is one model's training state: an instance with a
scheduled strength belongs to one model (or to models sharing the layers
it regularizes). `ScheduleCallback` refuses to train a second model with
an instance another live model trained with (see
`keras_regkit._scheduled_value.find_scheduled_values`); give each model
its own, e.g. ``type(regularizer).from_config(regularizer.get_config())``.
"""

from __future__ import annotations

import functools

import keras

from keras_regkit import _scheduled_value


class Regularizer(keras.regularizers.Regularizer):
    """A `keras.regularizers.Regularizer` whose strengths may be scheduled.

    Subclasses build their strengths with `strength` and return their
    constructor arguments from `arguments_config`; `get_config` adds the
    schedules' positions.
    """

    def strength(self, value, name, **kwargs):
        """A `ScheduledValue` for a strength: a float >= 0 or a schedule.

        Args:
            value: The argument as given.
            name: The argument's name.
            **kwargs: Passed to `ScheduledValue` (``scale``).

        Returns:
            The `ScheduledValue`; bad values raise the usual error, named
            after this regularizer's class.
        """
        check = functools.partial(_scheduled_value.nonnegative, owner=self)
        return _scheduled_value.ScheduledValue(
            value, name=name, check=check, **kwargs
        )

    def arguments_config(self) -> dict:
        """The constructor arguments, as plain values."""
        raise NotImplementedError

    def get_config(self) -> dict:
        config = self.arguments_config()
        saved = _scheduled_value.positions(self)
        if saved:
            config[_scheduled_value.POSITIONS_KEY] = saved
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        saved = config.pop(_scheduled_value.POSITIONS_KEY, None)
        regularizer = cls(**config)
        _scheduled_value.restore_positions(regularizer, saved)
        return regularizer
