"""Schedules: values that change with the epoch or step during training.

A schedule maps a training-time index (the epoch, or the global step) to
a float. Any argument of keras_regkit documented as "a float or a
schedule" accepts one of these, a Keras
`keras.optimizers.schedules.LearningRateSchedule`, or any callable
`f(index) -> float`. The value is held in a non-trainable variable that
`keras_regkit.callbacks.ScheduleCallback` updates during `fit`, so a
change never retraces the training step.

Plain callables and Keras learning-rate schedules are called with the
epoch index; wrap them in `Custom(fn, unit="step")` to call them with the
global step instead.

Loading (`deserialize`) in Keras's safe mode (the default of
`keras.models.load_model`) rebuilds only schedule types: this module's
schedules and `keras.optimizers.schedules.LearningRateSchedule`s. A
function named in a saved config is refused before it is imported or
called; load a file you trust with ``safe_mode=False`` to use one.
"""

from __future__ import annotations

import abc
import bisect
import inspect
import math

import keras

from keras_regkit import _keras_internals
from keras_regkit import _validation

UNITS = ("epoch", "step")


class Schedule(abc.ABC):
    """Base class of keras_regkit schedules.

    Args:
        unit: ``"epoch"`` (the default: the schedule is called with the
            0-based epoch index at the start of each epoch) or ``"step"``
            (called with the global training step before each batch).
    """

    def __init__(self, unit: str = "epoch"):
        self.unit = _validation.check_choice("unit", unit, UNITS, owner=self)

    @abc.abstractmethod
    def __call__(self, index: int) -> float:
        """Returns the value at epoch or step ``index``."""

    def get_config(self) -> dict:
        return {"unit": self.unit}

    @classmethod
    def from_config(cls, config: dict) -> Schedule:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_ramp(owner, start, end, duration, delay):
    return (
        _validation.check_float("start", start, owner=owner),
        _validation.check_float("end", end, owner=owner),
        _validation.check_int("duration", duration, low=1, owner=owner),
        _validation.check_int("delay", delay, low=0, owner=owner),
    )


@keras.saving.register_keras_serializable(package="keras_regkit")
class Linear(Schedule):
    """Linear ramp from ``start`` to ``end``, then constant.

    The value is ``start`` up to index ``delay``, moves linearly to ``end``
    over the next ``duration`` indices and stays at ``end`` afterwards.
    DropBlock's rate ramp and L2 warm-up are instances of this.

    Args:
        start: Value before and at the start of the ramp.
        end: Value at and after the end of the ramp.
        duration: Number of epochs (or steps) the ramp takes, >= 1.
        delay: Number of epochs (or steps) before the ramp starts.
        unit: ``"epoch"`` or ``"step"``.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> ramp = rk.schedules.Linear(0.0, 1e-3, duration=4)
    >>> [round(ramp(e), 6) for e in range(6)]
    [0.0, 0.00025, 0.0005, 0.00075, 0.001, 0.001]
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
    ...     1, kernel_regularizer=rk.regularizers.L2(ramp))])
    >>> model.compile("sgd", "mse")
    >>> history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2,
    ...     verbose=0, callbacks=[rk.callbacks.ScheduleCallback()])
    >>> history.history["l2"]  # the value in each epoch
    [0.0, 0.00025]
    """

    def __init__(self, start, end, duration, delay=0, unit="epoch"):
        super().__init__(unit)
        self.start, self.end, self.duration, self.delay = _check_ramp(
            self, start, end, duration, delay
        )

    def progress(self, index: int) -> float:
        """Fraction of the ramp done at ``index``, in [0, 1]."""
        return min(max((index - self.delay) / self.duration, 0.0), 1.0)

    def __call__(self, index):
        return self.start + (self.end - self.start) * self.progress(index)

    def get_config(self):
        return {
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "delay": self.delay,
            **super().get_config(),
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class Cosine(Linear):
    """Half-cosine ramp from ``start`` to ``end``, then constant.

    Like `Linear` but with the progress eased by ``(1 - cos(pi p)) / 2``:
    slow at both ends of the ramp.

    Args:
        start: Value before the ramp.
        end: Value after the ramp.
        duration: Number of epochs (or steps) the ramp takes, >= 1.
        delay: Number of epochs (or steps) before the ramp starts.
        unit: ``"epoch"`` or ``"step"``.

    Example:
    >>> import keras
    >>> import keras_regkit as rk
    >>> ramp = rk.schedules.Cosine(1.0, 0.0, duration=2)
    >>> [round(ramp(e), 6) for e in range(4)]
    [1.0, 0.5, 0.0, 0.0]
    >>> layer = keras.layers.Dense(4, kernel_regularizer=rk.regularizers.L2(
    ...     rk.schedules.Cosine(1e-3, 1e-5, duration=10)))
    """

    def __call__(self, index):
        eased = (1.0 - math.cos(math.pi * self.progress(index))) / 2.0
        return self.start + (self.end - self.start) * eased


def _sequence(name, value, owner):
    """``value`` as a list; a string or a non-iterable raises `TypeError`."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise _validation.invalid(
            name, "a list", value, owner=owner, error=TypeError
        )
    return list(value)


@keras.saving.register_keras_serializable(package="keras_regkit")
class Piecewise(Schedule):
    """Piecewise-constant values changing at given boundaries.

    The value is ``values[i]`` for ``boundaries[i-1] <= index <
    boundaries[i]``: ``values[0]`` before the first boundary, ``values[-1]``
    from the last one on.

    Args:
        boundaries: Strictly increasing non-negative integers.
        values: Floats, one more than there are boundaries.
        unit: ``"epoch"`` or ``"step"``.

    Example:
    >>> import keras
    >>> import keras_regkit as rk
    >>> schedule = rk.schedules.Piecewise([2, 4], [0.0, 1e-4, 1e-3])
    >>> [schedule(e) for e in range(6)]
    [0.0, 0.0, 0.0001, 0.0001, 0.001, 0.001]
    >>> layer = keras.layers.Dense(
    ...     4, kernel_regularizer=rk.regularizers.L2(schedule))
    """

    def __init__(self, boundaries, values, unit="epoch"):
        super().__init__(unit)
        boundaries = [
            _validation.check_int("boundaries", b, low=0, owner=self)
            for b in _sequence("boundaries", boundaries, self)
        ]
        if any(
            later <= boundaries[i] for i, later in enumerate(boundaries[1:])
        ):
            raise _validation.invalid(
                "boundaries",
                "strictly increasing integers",
                boundaries,
                owner=self,
            )
        values = [
            _validation.check_float("values", v, owner=self)
            for v in _sequence("values", values, self)
        ]
        if len(values) != len(boundaries) + 1:
            expected = (
                f"{len(boundaries) + 1} values (one more than boundaries)"
            )
            raise _validation.invalid("values", expected, values, owner=self)
        self.boundaries = boundaries
        self.values = values

    def __call__(self, index):
        return self.values[bisect.bisect_right(self.boundaries, index)]

    def get_config(self):
        return {
            "boundaries": list(self.boundaries),
            "values": list(self.values),
            **super().get_config(),
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class Custom(Schedule):
    """Any callable (or Keras learning-rate schedule) with a chosen unit.

    Args:
        function: A callable ``f(index) -> float``, e.g. a Python function
            or a `keras.optimizers.schedules.LearningRateSchedule`. It is
            saved with `keras.saving.serialize_keras_object`: register a
            function with `keras.saving.register_keras_serializable` to
            make a model that uses it loadable without ``custom_objects``;
            a function (registered or not) is only loaded with
            ``load_model(path, safe_mode=False)``, from a file you trust
            (see `deserialize`).
        unit: ``"epoch"`` or ``"step"``.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> schedule = rk.schedules.Custom(lambda step: 0.5 ** step, unit="step")
    >>> schedule(3), schedule.unit
    (0.125, 'step')
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
    ...     1, kernel_regularizer=rk.regularizers.L2(schedule))])
    >>> model.compile("sgd", "mse")
    >>> history = model.fit(np.ones((8, 3)), np.ones((8, 1)), batch_size=4,
    ...     epochs=1, verbose=0, callbacks=[rk.callbacks.ScheduleCallback()])
    >>> history.history["l2"]  # after the epoch's two steps
    [0.5]
    """

    def __init__(self, function, unit="epoch"):
        super().__init__(unit)
        if isinstance(function, dict):
            function = deserialize(function, name="function", owner=self)
        if not callable(function):
            raise _validation.invalid(
                "function",
                "a callable f(index) -> float",
                function,
                owner=self,
                error=TypeError,
            )
        self.function = function

    def __call__(self, index):
        value = self.function(index)
        return float(keras.ops.convert_to_numpy(value))

    def get_config(self):
        return {
            "function": keras.saving.serialize_keras_object(self.function),
            **super().get_config(),
        }


SCHEDULE_TYPES = (Schedule, keras.optimizers.schedules.LearningRateSchedule)

# How Keras serializes a function (by name, or a lambda's bytecode).
_FUNCTION_CLASS_NAMES = ("function", "__lambda__")


def deserialize(config: dict, *, name: str, owner=None):
    """Rebuilds a schedule from a saved config; safe mode allows no function.

    In Keras's safe mode (``load_model``'s default, and that of
    `keras.saving.deserialize_keras_object` outside ``load_model``), only
    schedule types (`SCHEDULE_TYPES`) and functions this process registered
    (`keras.saving.register_keras_serializable`, as Keras's safe mode
    trusts registered objects) are rebuilt: a config naming any other
    function, e.g. ``keras.config.set_epsilon``, is refused before the
    function is imported or called, and so is any other callable. Outside
    safe mode (``load_model(path, safe_mode=False)``,
    `keras.config.enable_unsafe_deserialization`) any callable loads.

    Args:
        config: A serialized schedule (`keras.saving.serialize_keras_object`).
        name: The argument the schedule belongs to, for messages.
        owner: The object or function the argument belongs to, for
            messages.

    Returns:
        The schedule.

    Raises:
        ValueError: In safe mode, for a config that is not a schedule type.

    Example:
    >>> deserialize(
    ...     keras.saving.serialize_keras_object(Linear(0.0, 1.0, 4)), name="l2"
    ... )
    Linear(start=0.0, end=1.0, duration=4, delay=0, unit='epoch')
    """
    safe = _keras_internals.in_safe_mode()
    if safe and config.get("class_name") in _FUNCTION_CLASS_NAMES:
        function = _registered_function(config)
        if function is None:
            raise _refused(name, config, owner)
        return function
    schedule = keras.saving.deserialize_keras_object(config)
    if safe and not isinstance(schedule, SCHEDULE_TYPES):
        raise _refused(name, config, owner)
    return schedule


def _registered_function(config):
    """The function a config names, if this process registered it.

    A function registered with `keras.saving.register_keras_serializable`
    is code the loading process itself trusts (as Keras's safe mode trusts
    registered objects); it is looked up in the registry, never imported
    from the module a file names.
    """
    registered = config.get("config")
    if not isinstance(registered, str):
        return None
    function = keras.saving.get_registered_object(registered)
    return function if inspect.isfunction(function) else None


def _refused(name, config, owner):
    return _validation.invalid(
        name,
        "a schedule type (a keras_regkit.schedules schedule or a "
        "keras.optimizers.schedules.LearningRateSchedule) in safe mode: a "
        "function or other callable named in a saved config is not run "
        "while loading unless this process registered it with "
        "`keras.saving.register_keras_serializable`. If you trust the "
        "file, load it with "
        "`keras.models.load_model(path, safe_mode=False)`",
        config,
        owner=owner,
    )


__all__ = ["Cosine", "Custom", "Linear", "Piecewise", "Schedule"]
