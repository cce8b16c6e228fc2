"""The one mechanism for arguments that may change during training.

A `ScheduledValue` wraps an argument that is "a float or a schedule":

- a float stays a plain Python float, read as a constant: no variable,
  no cost;
- a schedule (see `keras_regkit.schedules`) is evaluated at index 0 at
  construction (so a bad schedule fails early) and its value lives in a
  non-trainable float32 `keras.Variable`. Layers and regularizers read
  that variable inside their math, so when
  `keras_regkit.callbacks.ScheduleCallback` assigns a new value the
  compiled training step sees it without being retraced.

On the JAX backend the compiled training step is a pure function of the
model's state (its variables, handed in and out on every step); a
variable outside that state is read once, when the step is traced, and
baked in as a constant. A layer's scheduled rate is one of its weights and
so part of the state. A regularizer's scheduled strength belongs to no
layer: `expose_as_state` (called by `ScheduleCallback` on JAX) adds it to
the state of the layer whose weight it regularizes.

A scheduled value records the index it was last moved to; owners save it
in their config (`positions`, under ``"schedule_index"``) and rebuilt
copies move back there (`restore_positions`), so a reloaded model
continues where the saved one stood. The scheduled values of a model are
found through the one walk over its layers, weights and regularizers,
`keras_regkit._keras_internals.walk`.

A scheduled value is the state of one model's training: the model whose
`ScheduleCallback` moves it claims it (`find_scheduled_values`). A
regularizer instance shared by two models that share no layer using it
would have one model's training move the other's penalty; the second
model's training is refused with a `ValueError` instead.

Every value a schedule produces is validated with the same check as a
constant argument, so a schedule that goes negative mid-training raises
the usual `ValueError` naming the argument, from the callback, before
the value is used.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

import keras

from keras_regkit import _keras_internals
from keras_regkit import _validation
from keras_regkit import schedules


class ScheduledValue:
    """A float argument that is either constant or scheduled.

    A scheduled value remembers its position: `index` is the epoch or step
    it was last moved to. Saving that index with the owner's config (see
    `positions` and `restore_positions`) lets a reloaded model continue
    where the saved one stood.

    Args:
        value: A number, a schedule (any callable ``f(index) -> float``)
            or a serialized schedule (a dict from `get_config`).
        name: The argument's name, for messages, the variable and logs.
        check: Validates one concrete value: ``check(name, value)``
            returns the value as a float or raises. For example
            ``functools.partial(_validation.check_float, low=0)``.
        scale: A constant factor applied after validation (the textbook
            λ/(2m) form of L2 uses ``scale=1 / (2 * m)``).
        index: The epoch or step to start at (0: the schedule's start).

    Example:
    >>> from functools import partial
    >>> from keras_regkit import schedules
    >>> nonneg = partial(_validation.check_float, low=0)
    >>> ScheduledValue(0.5, name="l2", check=nonneg).read()
    0.5
    >>> ramp = ScheduledValue(
    ...     schedules.Linear(0.0, 1.0, duration=2), name="l2", check=nonneg
    ... )
    >>> ramp.update(1), ramp.index
    (0.5, 1)
    """

    def __init__(
        self,
        value: Any,
        *,
        name: str,
        check: Callable[[str, Any], float],
        scale: float = 1.0,
        index: int = 0,
    ):
        self.name = name
        self.scale = float(scale)
        self._check = check
        self.variable = None
        self.claimed_by = None  # weakref to the model that moves it
        self.index = _validation.check_int("index", index, low=0)
        if isinstance(value, dict):
            value = schedules.deserialize(value, name=name)
        if callable(value):
            self.schedule = value
            self._last = self.value_at(self.index)
            self.variable = keras.Variable(
                self._last, dtype="float32", trainable=False, name=name
            )
        else:
            self.schedule = None
            self.constant = check(name, value)

    @property
    def is_constant(self) -> bool:
        return self.schedule is None

    @property
    def unit(self) -> str:
        """``"epoch"`` or ``"step"``: what the schedule is indexed by."""
        return getattr(self.schedule, "unit", "epoch")

    @property
    def current(self) -> float:
        """The value in use now, as the schedule gave it (a Python float).

        For a scheduled value this is the last value assigned by `update`
        (the variable holds it rounded to float32).
        """
        if self.is_constant:
            return self.constant * self.scale
        return self._last

    def value_at(self, index: int) -> float:
        """The validated, scaled value at epoch or step ``index``."""
        if self.is_constant:
            return self.current
        raw = self.schedule(index)
        if hasattr(raw, "shape"):
            raw = keras.ops.convert_to_numpy(raw).item()
        return self._check(self.name, raw) * self.scale

    def update(self, index: int) -> float:
        """Moves a scheduled value to ``index``; returns the new value.

        The variable is assigned every time (not only on a change): it may
        have been set by loading saved weights.
        """
        value = self.value_at(index)
        if not self.is_constant:
            self.variable.assign(value)
            self._last = value
            self.index = int(index)
        return value

    def read(self, dtype: str | None = None):
        """The value for use in math: a float, or the variable's value.

        Args:
            dtype: If given and the value is scheduled, the variable is
                cast to this dtype.

        Returns:
            A Python float for a constant, a backend tensor otherwise.
        """
        if self.is_constant:
            return self.current
        value = self.variable.value
        return keras.ops.cast(value, dtype) if dtype else value

    def is_zero(self) -> bool:
        """True for a constant zero (the term can be skipped entirely)."""
        return self.is_constant and self.constant == 0.0

    def config_value(self):
        """The argument as the user gave it, for `get_config`."""
        if self.is_constant:
            return self.constant
        return keras.saving.serialize_keras_object(self.schedule)


POSITIONS_KEY = "schedule_index"


def scheduled_values(owner) -> list[ScheduledValue]:
    """The scheduled (non-constant) values held as attributes of ``owner``."""
    return [
        value
        for value in vars(owner).values()
        if isinstance(value, ScheduledValue) and not value.is_constant
    ]


def positions(owner) -> dict[str, int]:
    """Where each scheduled value of ``owner`` stands, by argument name.

    An owner adds this to its `get_config` under `POSITIONS_KEY` (only
    when it has a scheduled value) so that `restore_positions` can move a
    rebuilt copy to the same place.

    Example:
    >>> from keras_regkit import regularizers, schedules
    >>> reg = regularizers.L2(schedules.Linear(0.0, 1.0, duration=4))
    >>> _ = reg._l2.update(3)
    >>> positions(reg)
    {'l2': 3}
    """
    return {value.name: value.index for value in scheduled_values(owner)}


def restore_positions(owner, saved: dict | None) -> None:
    """Moves ``owner``'s scheduled values to the saved indices.

    Args:
        owner: An object holding `ScheduledValue` attributes.
        saved: A dict from `positions` (or None: nothing to restore).
    """
    if saved is None:
        return
    saved = _validation.check_type(
        POSITIONS_KEY, saved, dict, "a dict of indices", owner=owner
    )
    for value in scheduled_values(owner):
        if value.name in saved:
            index = _validation.check_int(
                POSITIONS_KEY, saved[value.name], low=0, owner=owner
            )
            value.update(index)


def nonnegative(name: str, value: Any, owner: Any = None) -> float:
    """The check for strengths: a finite float >= 0."""
    return _validation.check_float(name, value, low=0.0, owner=owner)


def _attached_objects(layer, slots):
    """The layer and the regularizers attached to it or its weights."""
    objects = [layer]
    for attribute in vars(layer).values():
        if isinstance(attribute, keras.regularizers.Regularizer):
            objects.append(attribute)
    for slot in slots:
        if slot.regularizer is not None:
            objects.append(slot.regularizer)
    return objects


def _scheduled_in(model):
    """Yields ``(layer, value)`` for every scheduled value, via the walker."""
    for layer, _, value in _scheduled_with_owners(model):
        yield layer, value


def _scheduled_with_owners(model):
    """Yields ``(layer, owner, value)``: the owner holds the value."""
    for layer, slots in _keras_internals.walk(model):
        for obj in _attached_objects(layer, slots):
            for value in scheduled_values(obj):
                yield layer, obj, value


def expose_as_state(model) -> list:
    """Makes every scheduled variable part of the model's state.

    Needed on JAX only (see the module docstring); harmless to call again.
    A variable not yet among ``model.variables`` (a regularizer's strength)
    is attached to the first layer found using it, next to that layer's
    seed generators: it then appears in ``model.non_trainable_variables``
    but not in ``model.weights``, ``get_weights`` or saved files.

    Args:
        model: A `keras.Model` or layer.

    Returns:
        The variables newly attached.
    """
    known = {id(v) for v in model.variables}
    added = []
    for layer, value in _scheduled_in(model):
        if id(value.variable) in known:
            continue
        if not _keras_internals.can_hold_state(layer):
            continue
        _keras_internals.add_state_variable(layer, value.variable)
        known.add(id(value.variable))
        added.append(value.variable)
    return added


def find_scheduled_values(model) -> dict[str, ScheduledValue]:
    """Finds every scheduled (non-constant) value used by a model.

    Looks at every layer (nested ones included), the regularizers set as
    layer attributes and the regularizers attached to weights.

    Args:
        model: A built or unbuilt `keras.Model` or layer.

    The values are claimed for ``model`` (`ScheduleCallback` calls this
    when training starts): a value another live model claimed is refused
    unless the two models share a layer using it (a model and a model
    built from its layers, such as an encoder and its autoencoder, move
    the same penalty).

    Returns:
        A dict from a log name to each distinct `ScheduledValue`. The log
        name is the value's own name (e.g. ``"l2"``) when that is unique,
        otherwise ``"<layer name>/<name>"``.

    Raises:
        ValueError: If a scheduled value (a regularizer instance) is
            shared with another live model that shares no layer using it.
    """
    found = []
    users = {}
    for layer, obj, value in _scheduled_with_owners(model):
        if id(value) not in users:
            users[id(value)] = (obj, value, set())
            found.append((layer.name, value))
        users[id(value)][2].add(id(layer))
    for obj, value, layers in users.values():
        _claim(model, obj, value, layers)
    counts = {}
    for _, value in found:
        counts[value.name] = counts.get(value.name, 0) + 1
    named = {}
    for owner, value in found:
        key = value.name if counts[value.name] == 1 else f"{owner}/{value.name}"
        unique, n = key, 1
        while unique in named:
            n += 1
            unique = f"{key}_{n}"
        named[unique] = value
    return named


def _claim(model, obj, value, layers) -> None:
    """Makes ``model`` the one whose training moves ``value``.

    Args:
        model: The model about to be trained.
        obj: The regularizer or layer holding ``value``, for the message.
        value: A scheduled `ScheduledValue`.
        layers: The ids of ``model``'s layers using ``value``.
    """
    other = _other_claimant(model, value, layers)
    if other is not None:
        # A model dropped by the user may only wait for the collector.
        gc.collect()
        other = _other_claimant(model, value, layers)
    if other is not None:
        owner = _validation.owner_name(obj)
        raise _validation.invalid(
            "model",
            f"a model with its own {owner} instance: this {owner}'s "
            f"scheduled `{value.name}` is also used by the model "
            f"{other.name!r}, which shares no layer with this one, so "
            "training one would move the other's penalty (and its logs "
            "and saved position). Give each model its own regularizer, "
            f"e.g. `{owner}.from_config(regularizer.get_config())`",
            model.name,
            owner="ScheduleCallback",
        )
    value.claimed_by = weakref.ref(model)


def _other_claimant(model, value, layers):
    """The live model other than ``model`` that claimed ``value``, if any.

    A claimant sharing a layer that uses ``value`` with ``model`` does not
    count: training either moves the same penalty.
    """
    claimant = value.claimed_by() if value.claimed_by is not None else None
    if claimant is None or claimant is model:
        return None
    theirs = {id(layer) for layer, v in _scheduled_in(claimant) if v is value}
    return None if theirs & layers else claimant
