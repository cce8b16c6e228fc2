"""Early stopping that never loses the best model.

A drop-in replacement for `keras.callbacks.EarlyStopping` (same arguments,
defaults, attributes and behaviour), put together from small pieces:

- `monitor.Monitor`: one monitored quantity (direction, ``min_delta``,
  smoothing, best value and epoch); the first one is the primary one;
- `stopping_rules`: the rules (patience, thresholds, non-finite values)
  and the `AnyOf` / `AllOf` combinators; `prechelt`: Prechelt's GL, PQ
  and UP;
- `best_weights.BestWeights`: the custody of the best weights (on-device
  snapshot, host copy, atomically written file);
- `stop_reason.StopReason`: why training stopped (a kind and a message).

This module only wires them: Keras-style keywords build the default rules,
or ``rules=[...]`` gives them directly.
Three mixins hold the rest: the argument checks and keyword rules
(`_arguments`), Keras's attributes (`_keras_attributes`) and the resume
state (`_resume_state`).

Reference:
    Lutz Prechelt, "Early Stopping - But When?", in Neural Networks: Tricks
    of the Trade, Lecture Notes in Computer Science 1524, Springer, 1998,
    pp. 55-69.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import keras
import numpy as np

from keras_regkit import _validation
from keras_regkit.callbacks._arguments import COMBINE
from keras_regkit.callbacks._arguments import ArgumentsMixin
from keras_regkit.callbacks._keras_attributes import KerasAttributesMixin
from keras_regkit.callbacks._resume_state import ResumeStateMixin
from keras_regkit.callbacks.best_weights import BestWeights
from keras_regkit.callbacks.monitor import Monitor
from keras_regkit.callbacks.monitor import infer_direction  # noqa: F401
from keras_regkit.callbacks.monitor import smooth_next  # noqa: F401
from keras_regkit.callbacks.prechelt import CRITERIA
from keras_regkit.callbacks.prechelt import generalization_loss  # noqa: F401
from keras_regkit.callbacks.prechelt import rising_strips  # noqa: F401
from keras_regkit.callbacks.prechelt import training_progress  # noqa: F401
from keras_regkit.callbacks.stop_reason import StopReason
from keras_regkit.callbacks.stopping_rules import AnyOf
from keras_regkit.callbacks.stopping_rules import StoppingRule

# Every constructor argument, in order: get_config returns them all.
_CONFIG_KEYS = (
    "monitor",
    "min_delta",
    "patience",
    "verbose",
    "mode",
    "baseline",
    "restore_best_weights",
    "start_from_epoch",
    "min_delta_mode",
    "smoothing",
    "smoothing_window",
    "check_finite",
    "stopping_threshold",
    "divergence_threshold",
    "criterion",
    "criterion_threshold",
    "strip_length",
    "combine",
    "save_best_to",
    "include_optimizer",
    "strict",
    "rules",
)


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _optional_float(name, value, owner):
    if value is None:
        return None
    return _validation.check_float(name, value, owner=owner)


def _as_scalar(name, value):
    """A logged value as a float; one-element arrays (F1Score) allowed."""
    array = np.asarray(value, dtype="float64")
    if array.size != 1:
        raise ValueError(
            f"EarlyStopping monitors `{name}`, whose value has shape "
            f"{array.shape}: it needs a single number (e.g. an F1Score "
            "with `average='macro'`)."
        )
    return float(array.reshape(()))


@keras.saving.register_keras_serializable(package="keras_regkit")
class EarlyStopping(
    ArgumentsMixin,
    KerasAttributesMixin,
    ResumeStateMixin,
    keras.callbacks.Callback,
):
    """Stops training when a monitored quantity stops improving.

    A drop-in for `keras.callbacks.EarlyStopping`: the first eight
    arguments, their defaults, their behaviour and the attributes ``best``,
    ``wait``, ``stopped_epoch``, ``best_weights`` and ``best_epoch``
    (readable and assignable, with Keras's meaning) are Keras's. At the end
    of each epoch (from ``start_from_epoch`` on) the monitored value is
    compared with the best so far; after ``patience`` epochs without an
    improvement of more than ``min_delta``, `fit` stops. Unlike Keras, an
    unknown ``mode`` or a negative ``patience`` raises, a missing monitored
    key warns naming the keys there are (or raises with ``strict=True``),
    and the callback has `get_config`.

    **Never losing the best weights.** With ``restore_best_weights=True``
    the model ends every `fit` with the best epoch's weights: stopped
    early, out of epochs, stopped by another callback or on a non-finite
    value. They are kept by a `BestWeights`: an on-device copy of
    ``model.weights`` (plus the optimizer's variables with
    ``include_optimizer=True``) refreshed in one compiled function at each
    improvement. **Memory cost: one extra copy of the weights** (and of the
    optimizer state if included). Objects that are not Keras models but
    have ``get_weights`` / ``set_weights`` are copied through those.

    `fit` skips ``on_train_end`` when it ends by an exception: call
    ``restore()`` afterwards. With ``save_best_to="best.weights.h5"`` the
    best weights are also written at each improvement, to a temporary file
    then renamed over the target, so a killed process leaves the previous
    file whole (its temporary file is removed at the next
    ``on_train_begin``); the directory is created and probed (writable,
    enough free space) at ``on_train_begin``, so a bad path fails at once.
    A write that fails later (directory removed, disk full) warns naming
    the path; training goes on with the weights kept in memory, and
    ``restore()`` still puts them back.

    **Resuming** (`get_state` / `set_state`, e.g. in a new process): the
    state is plain JSON values, without weights. The best weights of the
    resumed run come back from the ``save_best_to`` file; without one,
    ``restore_best_weights=True`` warns at the resumed ``on_train_begin``
    that they are lost, and the model ends with the best weights of the
    resumed `fit` if it finds a better epoch, else with its last ones.

    **Stopping rules.** A rule that fires stops training at once. The
    keywords build the default rules, checked in this order: non-finite
    values (``check_finite``), ``stopping_threshold`` ("good enough"),
    ``divergence_threshold`` ("hopeless"), Prechelt's ``criterion`` (GL,
    PQ or UP, see `stopping_rules`) and ``patience`` (one `Patience` per
    monitored quantity, ``baseline`` on the first, combined with
    ``combine="all"`` or ``"any"``; ``patience=None`` for none). Or pass
    the rules yourself, ``rules=[rk.callbacks.Patience(5),
    rk.callbacks.GeneralizationLoss(2.0)]`` (any of them stops training;
    the rule keywords must then keep their defaults), including your own
    `StoppingRule` subclasses. Rules judge the smoothed value when
    ``smoothing`` is set; non-finite values never count as improvements.

    Args:
        monitor: The quantity to monitor, a key of the epoch logs; or a
            list of them (the first is the primary one: it decides the
            best epoch, ``best`` and the weights kept).
        min_delta: The smallest change counted as an improvement (its
            absolute value is used, as Keras does).
        patience: Epochs without improvement after which training stops;
            None for no patience rule.
        verbose: 0 silent; 1 prints, at the end of `fit`, one summary
            line and Keras's "Restoring model weights" line.
        mode: ``"auto"`` (the direction of the metric, as Keras infers
            it), ``"min"`` or ``"max"``; or one per monitored quantity.
        baseline: A value to beat: training stops after ``patience``
            epochs in which the best value does not beat it.
        restore_best_weights: Restore the best epoch's weights at the end
            of `fit`.
        start_from_epoch: Epochs to ignore before monitoring starts.
        min_delta_mode: ``"absolute"`` or ``"relative"`` (``min_delta`` is
            a fraction of the best value's magnitude).
        smoothing: None, ``"moving_average"`` or ``"exponential"``: compare
            a smoothed value instead of the raw one.
        smoothing_window: Epochs to smooth over (the span of the
            exponential average: ``alpha = 2 / (window + 1)``).
        check_finite: Stop at once on a NaN or infinite monitored value.
        stopping_threshold: Stop once the value is better than this.
        divergence_threshold: Stop once the value is worse than this.
        criterion: None, ``"GL"``, ``"PQ"`` or ``"UP"`` (Prechelt's; the
            rule classes `GeneralizationLoss`, `ProgressQuotient`,
            `UpStrips`).
        criterion_threshold: alpha for GL and PQ (a float > 0), s for UP
            (an integer >= 1); required with ``criterion``.
        strip_length: k, the strip length of PQ and UP, in epochs.
        combine: ``"all"`` or ``"any"``: with several monitored quantities,
            whether all of them or any of them must run out of patience.
        save_best_to: None, or a path ending in ``.weights.h5`` written
            atomically at each improvement.
        include_optimizer: Snapshot and restore the optimizer's variables
            (moments, iteration count, learning rate) with the weights.
        strict: Raise instead of warning when a monitored key is missing.
        rules: None (the keywords build the rules), or a list of
            `StoppingRule` objects, any of which stops training.

    Attributes:
        best: The best value of the primary quantity, or None (Keras's).
        best_epoch: Its epoch (0-based; 0 before any, as in Keras).
        wait: Epochs counted towards ``patience`` (primary quantity).
        best_weights: The kept weights as numpy arrays, or None; assigning
            a list of arrays makes ``on_train_end`` restore those.
        stopped_epoch: The epoch at which this callback stopped training
            (0 if it did not, as in Keras).
        stop_reason: A `StopReason` (a string with a ``kind``), or None.
        primary: The primary `Monitor`; ``monitor_objects`` maps every
            monitored name to its `Monitor`.
        rule: The rule evaluated each epoch (an `AnyOf`), or None.
        keeper: The `BestWeights` that keeps the best weights.
        monitor_history: Per monitored epoch: ``"epoch"``, each value read
            (raw), and ``"<name>_smoothed"`` with smoothing.

    Example:
    >>> import keras, numpy as np
    >>> import keras_regkit as rk
    >>> stopper = rk.callbacks.EarlyStopping(
    ...     monitor="loss", patience=2, restore_best_weights=True)
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> stopper.set_model(model)
    >>> stopper.on_train_begin()
    >>> for epoch, loss in enumerate([1.0, 0.5, 0.6, 0.7, 0.4]):
    ...     stopper.on_epoch_end(epoch, {"loss": loss})
    ...     if stopper.model.stop_training:
    ...         break
    >>> stopper.stopped_epoch, stopper.best_epoch, stopper.best_value
    (3, 1, 0.5)
    >>> stopper.stop_reason
    StopReason('loss did not improve for 2 epochs', kind='patience')
    >>> print(stopper.stop_reason)
    loss did not improve for 2 epochs

    Reference:
        Lutz Prechelt, "Early Stopping - But When?", Neural Networks:
        Tricks of the Trade, LNCS 1524, Springer, 1998.
    """

    def __init__(
        self,
        monitor: str | Sequence[str] = "val_loss",
        min_delta: float = 0,
        patience: int | None = 0,
        verbose: int = 0,
        mode: str | Sequence[str] = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
        *,
        min_delta_mode: str = "absolute",
        smoothing: str | None = None,
        smoothing_window: int = 5,
        check_finite: bool = False,
        stopping_threshold: float | None = None,
        divergence_threshold: float | None = None,
        criterion: str | None = None,
        criterion_threshold: float | None = None,
        strip_length: int = 5,
        combine: str = "all",
        save_best_to: str | os.PathLike | None = None,
        include_optimizer: bool = False,
        strict: bool = False,
        rules: Sequence[StoppingRule] | None = None,
    ):
        super().__init__()
        self.monitor = self._check_monitor(monitor)
        self.monitors = _as_list(self.monitor)
        self.min_delta = abs(
            _validation.check_float("min_delta", min_delta, owner=self)
        )
        if patience is not None:
            patience = _validation.check_int(
                "patience", patience, low=0, owner=self
            )
        self.patience = patience
        if isinstance(verbose, bool):
            verbose = int(verbose)
        self.verbose = _validation.check_int(
            "verbose", verbose, low=0, owner=self
        )
        self.mode = self._check_mode(mode)
        self.baseline = _optional_float("baseline", baseline, self)
        for name, flag in (
            ("restore_best_weights", restore_best_weights),
            ("check_finite", check_finite),
            ("include_optimizer", include_optimizer),
            ("strict", strict),
        ):
            _validation.check_bool(name, flag, owner=self)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = _validation.check_int(
            "start_from_epoch", start_from_epoch, low=0, owner=self
        )
        self.min_delta_mode = min_delta_mode
        self.smoothing = smoothing
        self.smoothing_window = smoothing_window
        self.check_finite = check_finite
        self.stopping_threshold = _optional_float(
            "stopping_threshold", stopping_threshold, self
        )
        self.divergence_threshold = _optional_float(
            "divergence_threshold", divergence_threshold, self
        )
        self.criterion = _validation.check_choice(
            "criterion", criterion, (None, *CRITERIA), owner=self
        )
        self.criterion_threshold = criterion_threshold
        self.strip_length = _validation.check_int(
            "strip_length", strip_length, low=1, owner=self
        )
        self.combine = _validation.check_choice(
            "combine", combine, tuple(COMBINE), owner=self
        )
        self.save_best_to = self._check_path(save_best_to)
        self.include_optimizer = include_optimizer
        self.strict = strict
        self.rules = self._check_rules(rules)

        # The pieces: monitors (the first is the primary one), the rule,
        # the custody of the best weights.
        modes = _as_list(self.mode)
        if isinstance(self.mode, str):
            modes = modes * len(self.monitors)
        self.monitor_objects = {
            name: Monitor(
                name,
                mode,
                self.min_delta,
                min_delta_mode,
                smoothing,
                smoothing_window,
            )
            for name, mode in zip(self.monitors, modes, strict=True)
        }
        rules = self.rules if self.rules is not None else self._keyword_rules()
        for name in AnyOf(rules).monitor_names() if rules else ():
            if name not in self.monitor_objects:
                raise _validation.invalid(
                    "rules",
                    f"rules on monitored quantities only: add {name!r} to "
                    "`monitor` (and its `mode`)",
                    rules,
                    owner=self,
                )
        self.primary = self.monitor_objects[self.monitors[0]]
        self.rule = AnyOf(rules) if rules else None
        if self.rule is not None:
            self.rule.bind(self.monitor_objects, self.primary.name)
        self.keeper = BestWeights(
            in_memory=restore_best_weights,
            include_optimizer=include_optimizer,
            path=self.save_best_to,
            owner="EarlyStopping",
        )
        self._resuming = False
        self._replay = False
        self._free_wait = 0
        self._reset()

    # Per-run state.

    def _reset(self):
        for monitor in self.monitor_objects.values():
            monitor.reset()
        if self.rule is not None:
            self.rule.reset()
        self.stopped_epoch = 0
        self.stop_reason = None
        self._free_wait = 0
        self._replay = False
        keys = ["epoch"]
        for name in self._needed_keys():
            keys.append(name)
            monitor = self.monitor_objects.get(name)
            if monitor is not None and monitor.smoothing is not None:
                keys.append(f"{name}_smoothed")
        self.monitor_history = {key: [] for key in keys}
        self._resolved = False

    def _needed_keys(self):
        keys = list(self.monitor_objects)
        if self.rule is not None:
            keys += [k for k in self.rule.required_keys() if k not in keys]
        return keys

    # Callback hooks.

    def set_model(self, model):
        super().set_model(model)
        self.keeper.model = model

    def on_train_begin(self, logs=None):
        # Each fit starts afresh (one instance can serve several fits),
        # unless set_state() was called to resume.
        resuming, self._resuming = self._resuming, False
        if not resuming:
            self._reset()
        self._resolved = False
        self.keeper.begin(self.model, resuming=resuming)
        if resuming and self.restore_best_weights:
            self._check_resumed_weights()

    def _check_resumed_weights(self):
        """Warns if the resumed run's best weights cannot be restored."""
        had_best = self.primary.best is not None or (
            self._replay and bool(self.monitor_history["epoch"])
        )
        if not had_best or self.keeper.has_weights():
            return
        epoch = (
            f" (epoch {self.best_epoch + 1})"
            if self.primary.best is not None
            else ""
        )
        if self.save_best_to is None:
            where = (
                f"the best weights{epoch} of the run resumed with "
                "set_state() stayed in the memory of the process that ran "
                "it: get_state() holds plain values, not weights"
            )
            how = (
                "Pass save_best_to='best.weights.h5' (the same path in both "
                "runs) to keep them across processes."
            )
        else:
            where = (
                f"the best weights{epoch} of the run resumed with "
                f"set_state() should be in {self.save_best_to!r}, which "
                "does not exist"
            )
            how = "Copy that file back before resuming."
        warnings.warn(
            f"EarlyStopping(restore_best_weights=True): {where}. This fit "
            "restores the best weights only if it finds a better epoch; "
            f"otherwise it ends with its last weights. {how}",
            stacklevel=3,
        )

    def on_epoch_end(self, epoch, logs=None):
        if not self._resolved:
            for monitor in self.monitor_objects.values():
                monitor.resolve(self.model)
            self._resolved = True
            if self._replay:
                self._replay, stop_reason = False, self.stop_reason
                self._replay_history()
                self.stop_reason = stop_reason
        values = self._read_values(logs or {})
        if values is None or epoch < self.start_from_epoch:
            return
        self._record(epoch, values)
        if self.primary.improved and (
            self.restore_best_weights or self.save_best_to is not None
        ):
            self.keeper.keep()
        reason = None if self.rule is None else self.rule.update(epoch, values)
        if reason is not None:
            self.stopped_epoch = epoch
            self.stop_reason = StopReason.from_dict(reason)
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.verbose > 0:
            self._print_summary()
        if self.restore_best_weights and self.keeper.has_weights():
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.keeper.restore()

    def restore(self) -> bool:
        """Puts the best weights of the last `fit` back into the model.

        For use after `fit` ended by an exception (which skips
        ``on_train_end``), or with ``restore_best_weights=False``. The
        weights come from the in-memory copy (``restore_best_weights=
        True``), or else from the ``save_best_to`` file.

        Returns:
            True if weights were restored, False if there were none.
        """
        return self.keeper.restore()

    def get_config(self):
        config = {name: getattr(self, name) for name in _CONFIG_KEYS}
        if self.rules is not None:
            config["rules"] = [
                keras.saving.serialize_keras_object(r) for r in self.rules
            ]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("rules") is not None:
            config["rules"] = [
                keras.saving.deserialize_keras_object(rule)
                for rule in config["rules"]
            ]
        return cls(**config)

    def _print_summary(self):
        primary = self.primary
        if self.stop_reason is not None:
            line = (
                f"Epoch {self.stopped_epoch + 1}: early stopping: "
                f"{self.stop_reason}"
            )
        elif primary.best is not None:
            line = "Early stopping did not stop training"
        else:
            return
        if primary.best is not None:
            line += (
                f"; best {primary.name}: {primary.best:.6g} at epoch "
                f"{self.best_epoch + 1}"
            )
        print(f"{line}.")

    # Reading and recording values.

    def _read_values(self, logs):
        needed = self._needed_keys()
        missing = [name for name in needed if logs.get(name) is None]
        if missing:
            message = (
                f"Early stopping conditioned on metric `{missing[0]}` which "
                "is not available. Available metrics are: "
                f"{','.join(logs)}"
            )
            if self.strict:
                raise ValueError(message)
            warnings.warn(message, stacklevel=3)
            return None
        return {name: _as_scalar(name, logs[name]) for name in needed}

    def _record(self, epoch, values):
        """Appends this epoch to the history; the monitors observe it."""
        history = self.monitor_history
        history["epoch"].append(epoch)
        for name, value in values.items():
            history[name].append(value)
            monitor = self.monitor_objects.get(name)
            if monitor is not None:
                monitor.observe(epoch, value)
                if monitor.smoothing is not None:
                    history[f"{name}_smoothed"].append(monitor.value)
