"""Early stopping that never loses the best model.

A drop-in replacement for `keras.callbacks.EarlyStopping` (same arguments,
defaults and behaviour), with cheap on-device snapshots of the best weights,
a way to get them back after an interrupted `fit`, an atomically written
best-weights file, and more stopping rules: relative `min_delta`, smoothing
of a noisy metric, non-finite values, "good enough" and "hopeless"
thresholds (as in PyTorch Lightning), several monitored quantities, and
Prechelt's GL, PQ and UP criteria.

Reference:
    Lutz Prechelt, "Early Stopping - But When?", in Neural Networks: Tricks
    of the Trade, Lecture Notes in Computer Science 1524, Springer, 1998,
    pp. 55-69.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import warnings
from collections.abc import Sequence

import keras
import numpy as np

from keras_regkit import _keras_internals
from keras_regkit import _validation
from keras_regkit.callbacks.weight_snapshot import WeightSnapshot

_MODES = ("auto", "min", "max")
_MIN_DELTA_MODES = ("absolute", "relative")
_SMOOTHING = (None, "moving_average", "exponential")
_CRITERIA = (None, "GL", "PQ", "UP")
_COMBINE = ("all", "any")
_WEIGHTS_SUFFIX = ".weights.h5"
_STATE_KEYS = (
    "best_values",
    "best_epochs",
    "waits",
    "stopped_epoch",
    "stop_reason",
    "monitor_history",
)


# The rules' arithmetic, as pure functions of plain numbers.


def smooth_next(
    values: Sequence[float],
    previous: float | None,
    method: str | None,
    window: int,
) -> float:
    """The smoothed value after the last element of ``values``.

    Args:
        values: The raw values so far, the newest last.
        previous: The smoothed value before the newest one, or None.
        method: None (no smoothing), ``"moving_average"`` (mean of the last
            ``window`` values) or ``"exponential"`` (``s_t = a v_t +
            (1 - a) s_{t-1}``, ``s_0 = v_0``, with ``a = 2 / (window + 1)``,
            pandas' ``ewm(span=window, adjust=False)``).
        window: The number of epochs smoothed over.

    Returns:
        The smoothed value.

    Example:
    >>> smooth_next([1.0, 2.0, 6.0], None, "moving_average", 2)
    4.0
    >>> smooth_next([1.0, 4.0], 1.0, "exponential", 2)
    3.0
    """
    if method is None:
        return values[-1]
    if method == "moving_average":
        tail = values[-window:]
        return sum(tail) / len(tail)
    if previous is None:
        return values[-1]
    alpha = 2.0 / (window + 1.0)
    return alpha * values[-1] + (1.0 - alpha) * previous


def generalization_loss(value: float, lowest: float) -> float:
    """Prechelt's generalization loss, in percent.

    ``GL(t) = 100 * (E_va(t) / E_opt(t) - 1)``, where ``E_va(t)`` is the
    validation error at epoch t and ``E_opt(t)`` the lowest one so far. It
    needs positive errors; with ``E_opt <= 0`` it is 0 at the lowest value
    and infinite above it.

    Example:
    >>> generalization_loss(0.55, 0.5)
    10.000000000000009
    """
    if lowest > 0:
        return 100.0 * (value / lowest - 1.0)
    return 0.0 if value <= lowest else math.inf


def training_progress(strip: Sequence[float]) -> float:
    """Prechelt's training progress over a strip of k epochs, per mille.

    ``P_k(t) = 1000 * (sum of E_tr over the strip / (k * min of E_tr over
    the strip) - 1)``: how much larger the strip's mean training error is
    than its minimum. It is large while training error still falls fast and
    tends to 0 as training converges. Infinite (no judgement) when the
    strip's minimum is not positive.

    Example:
    >>> round(training_progress([1.2, 1.1, 1.0]), 6)
    100.0
    """
    lowest = min(strip)
    if lowest <= 0:
        return math.inf
    return 1000.0 * (sum(strip) / (len(strip) * lowest) - 1.0)


def rising_strips(strip_ends: Sequence[float]) -> int:
    """Number of successive strips, up to the last, whose error rose.

    ``strip_ends`` holds the validation error at the end of each strip; a
    strip "rose" when its end value is above the previous strip's end value.

    Example:
    >>> rising_strips([1.0, 0.8, 0.9, 1.0, 1.1])
    3
    """
    count = 0
    for index in range(len(strip_ends) - 1, 0, -1):
        if strip_ends[index] > strip_ends[index - 1]:
            count += 1
        else:
            break
    return count


def infer_direction(model, monitor: str) -> str | None:
    """``"min"`` or ``"max"`` for a monitored quantity, or None if unknown.

    As Keras does: a loss (``loss``, ``val_loss``) is minimised; otherwise
    the direction declared by the model's compiled metric of that name
    (without the ``val_`` prefix), e.g. accuracy, AUC and F1 are maximised.
    """
    name = monitor.removeprefix("val_")
    direction = "min" if name == "loss" else None
    metrics = getattr(model, "metrics", None) or []
    for metric in _keras_internals.flat_metrics(metrics):
        declared = _keras_internals.metric_direction(metric)
        if getattr(metric, "name", None) == name and declared is not None:
            direction = declared
    return direction


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_optional_float(name, value):
    if value is None:
        return None
    return _validation.check_float(name, value)


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


def _format_number(value):
    return f"{value:.6g}"


@keras.saving.register_keras_serializable(package="keras_regkit")
class EarlyStopping(keras.callbacks.Callback):
    """Stops training when a monitored quantity stops improving.

    A drop-in for `keras.callbacks.EarlyStopping`: the first eight
    arguments, their defaults and their behaviour are Keras's. At the end
    of each epoch (from ``start_from_epoch`` on) the monitored value is
    compared with the best so far; after ``patience`` epochs without an
    improvement of more than ``min_delta``, `fit` stops. Unlike Keras, an
    unknown ``mode`` or a negative ``patience`` raises, a missing monitored
    key warns naming the keys there are (or raises with ``strict=True``),
    and the callback has `get_config`.

    **Never losing the best weights.** With ``restore_best_weights=True``
    the model ends every `fit` with the best epoch's weights: stopped
    early, out of epochs, stopped by another callback or on a non-finite
    value. The best weights are kept as an on-device copy of
    ``model.weights`` (plus the optimizer's variables with
    ``include_optimizer=True``), refreshed variable by variable in one
    compiled function at each improvement, with no round trip through host
    memory. **Memory cost: one extra copy of the weights** (and of the
    optimizer state if included) on the devices that hold them, kept as
    long as the callback lives. Objects that are not Keras models but have
    ``get_weights`` / ``set_weights`` are snapshotted through those.

    `fit` skips ``on_train_end`` when it ends by an exception (a
    ``KeyboardInterrupt``, an error in another callback or in the data):
    call ``restore()`` afterwards to put the best weights back. With
    ``save_best_to="best.weights.h5"`` the best weights are also written at
    each improvement, to a temporary file then renamed over the target, so
    a killed process leaves the previous file whole (this costs a full
    weights write per improvement).

    **Stopping rules.** A rule that fires stops training at once; the
    defaults switch every rule but Keras's patience off. Rules see the
    smoothed value when ``smoothing`` is set. Non-finite values never count
    as improvements.

    - patience: each monitored quantity stops after ``patience`` epochs
      without improving on its best by more than ``min_delta`` (absolute,
      or times ``|best|`` with ``min_delta_mode="relative"``). With
      ``baseline``, the count only restarts at an epoch that beats the
      baseline too. Several quantities stop when ``combine="all"`` of them
      have run out of patience, or ``"any"`` of them. ``patience=None``
      turns this rule off (to stop by another rule only).
    - ``check_finite``: a NaN or infinite monitored (raw) value stops at
      once.
    - ``stopping_threshold``: stop once the value is better than it.
    - ``divergence_threshold``: stop once the value is worse than it.
    - ``criterion`` (Prechelt, 1998), for a quantity to minimise
      (validation error E_va; E_opt the lowest so far; training error E_tr
      is the logged ``loss``; strips are ``strip_length`` = k successive
      monitored epochs):

      - ``"GL"``: stop when the generalization loss
        ``GL(t) = 100 (E_va(t) / E_opt(t) - 1)`` exceeds
        ``criterion_threshold`` = alpha percent.
      - ``"PQ"``: at the end of each strip, stop when ``GL(t) / P_k(t)``
        exceeds alpha, where the training progress
        ``P_k(t) = 1000 (sum E_tr over the strip / (k min E_tr over the
        strip) - 1)``.
      - ``"UP"``: at the end of each strip, stop when the validation error
        has risen (end of strip against end of the strip before) in
        ``criterion_threshold`` = s successive strips.

    Thresholds, ``baseline`` and the criterion apply to the first monitored
    quantity, which also decides ``best_epoch``, ``best_value`` and the
    weights restored.

    Args:
        monitor: The quantity to monitor, a key of the epoch logs; or a
            list of them.
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
        criterion: None, ``"GL"``, ``"PQ"`` or ``"UP"`` (Prechelt's).
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

    Attributes:
        best_epoch: The best epoch (0-based), or None before any.
        best_value: The best value of the first monitored quantity.
        stopped_epoch: The epoch at which this callback stopped training
            (0 if it did not, as in Keras).
        stop_reason: Which rule stopped training, in words, or None.
        monitor_history: Per monitored epoch: ``"epoch"``, each monitored
            quantity's raw value, ``"<name>_smoothed"`` with smoothing, and
            ``"loss"`` for PQ.

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
    'loss did not improve for 2 epochs'

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
    ):
        super().__init__()
        self.monitor = self._check_monitor(monitor)
        self.monitors = _as_list(self.monitor)
        self.min_delta = abs(_validation.check_float("min_delta", min_delta))
        if patience is not None:
            patience = _validation.check_int("patience", patience, low=0)
        self.patience = patience
        if isinstance(verbose, bool):
            verbose = int(verbose)
        self.verbose = _validation.check_int("verbose", verbose, low=0)
        self.mode = self._check_mode(mode)
        self.modes = _as_list(self.mode) * (
            len(self.monitors) if isinstance(self.mode, str) else 1
        )
        self.baseline = _check_optional_float("baseline", baseline)
        for name, flag in (
            ("restore_best_weights", restore_best_weights),
            ("check_finite", check_finite),
            ("include_optimizer", include_optimizer),
            ("strict", strict),
        ):
            _validation.check_type(name, flag, bool, "a bool")
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = _validation.check_int(
            "start_from_epoch", start_from_epoch, low=0
        )
        self.min_delta_mode = _validation.check_choice(
            "min_delta_mode", min_delta_mode, _MIN_DELTA_MODES
        )
        self.smoothing = _validation.check_choice(
            "smoothing", smoothing, _SMOOTHING
        )
        self.smoothing_window = _validation.check_int(
            "smoothing_window", smoothing_window, low=1
        )
        self.check_finite = check_finite
        self.stopping_threshold = _check_optional_float(
            "stopping_threshold", stopping_threshold
        )
        self.divergence_threshold = _check_optional_float(
            "divergence_threshold", divergence_threshold
        )
        self.criterion = _validation.check_choice(
            "criterion", criterion, _CRITERIA
        )
        self.criterion_threshold = self._check_criterion_threshold(
            criterion_threshold
        )
        if self.criterion is not None and self.modes[0] == "max":
            raise ValueError(
                _validation.error_message(
                    "mode",
                    f"a quantity to minimise with criterion="
                    f"{self.criterion!r} (Prechelt's criteria judge an "
                    "error or a loss)",
                    self.mode,
                )
            )
        self.strip_length = _validation.check_int(
            "strip_length", strip_length, low=1
        )
        self.combine = _validation.check_choice("combine", combine, _COMBINE)
        self.save_best_to = self._check_path(save_best_to)
        self.include_optimizer = include_optimizer
        self.strict = strict

        self._snapshot = None
        self._resuming = False
        self._reset()

    # Argument checks that the shared helpers do not cover alone.

    @staticmethod
    def _check_monitor(monitor):
        expected = "a string or a non-empty list of distinct strings"
        if isinstance(monitor, str):
            return monitor
        if (
            not isinstance(monitor, (list, tuple))
            or not monitor
            or not all(isinstance(name, str) for name in monitor)
        ):
            raise TypeError(
                _validation.error_message("monitor", expected, monitor)
            )
        if len(set(monitor)) != len(monitor):
            raise ValueError(
                _validation.error_message("monitor", expected, monitor)
            )
        return monitor[0] if len(monitor) == 1 else list(monitor)

    def _check_mode(self, mode):
        if isinstance(mode, str):
            return _validation.check_choice("mode", mode, _MODES)
        if not isinstance(mode, (list, tuple)) or len(mode) != len(
            self.monitors
        ):
            raise ValueError(
                _validation.error_message(
                    "mode",
                    "one of 'auto', 'min', 'max', or a list of them with "
                    f"one entry per monitored quantity ({len(self.monitors)})",
                    mode,
                )
            )
        for entry in mode:
            _validation.check_choice("mode", entry, _MODES)
        return mode[0] if len(mode) == 1 else list(mode)

    def _check_criterion_threshold(self, value):
        if self.criterion is None:
            if value is not None:
                raise ValueError(
                    _validation.error_message(
                        "criterion_threshold",
                        "None when criterion is None",
                        value,
                    )
                )
            return None
        if value is None:
            raise ValueError(
                _validation.error_message(
                    "criterion_threshold",
                    f"a number with criterion={self.criterion!r}",
                    value,
                )
            )
        if self.criterion == "UP":
            return _validation.check_int("criterion_threshold", value, low=1)
        return _validation.check_float(
            "criterion_threshold", value, low=0, low_inclusive=False
        )

    @staticmethod
    def _check_path(path):
        if path is None:
            return None
        expected = f"None or a path ending in {_WEIGHTS_SUFFIX!r}"
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                _validation.error_message("save_best_to", expected, path)
            )
        path = os.fspath(path)
        if not path.endswith(_WEIGHTS_SUFFIX):
            raise ValueError(
                _validation.error_message("save_best_to", expected, path)
            )
        return path

    # Per-run state.

    def _reset(self):
        self.best_values = {name: None for name in self.monitors}
        self.best_epochs = {name: None for name in self.monitors}
        self.waits = {name: 0 for name in self.monitors}
        self.stopped_epoch = 0
        self.stop_reason = None
        keys = ["epoch"]
        for name in self.monitors:
            keys.append(name)
            if self.smoothing is not None:
                keys.append(f"{name}_smoothed")
        if self.criterion == "PQ" and "loss" not in keys:
            keys.append("loss")
        self.monitor_history = {key: [] for key in keys}
        self.directions = None
        self._variables = None
        self._best_weights_source = None
        self._host_weights = None

    @property
    def best_value(self):
        """The best value of the first monitored quantity, or None."""
        return self.best_values[self.monitors[0]]

    @property
    def best(self):
        """Keras's name for `best_value`."""
        return self.best_value

    @property
    def best_epoch(self):
        """The epoch of `best_value` (0-based), or None."""
        return self.best_epochs[self.monitors[0]]

    @property
    def wait(self):
        """Epochs counted towards ``patience`` (first monitored quantity)."""
        return self.waits[self.monitors[0]]

    @property
    def monitor_op(self):
        """Keras's comparison for the first monitored quantity, or None."""
        if self.directions is None:
            return None
        if self.directions[self.monitors[0]] == "max":
            return keras.ops.greater
        return keras.ops.less

    @property
    def best_weights(self):
        """The best weights as numpy arrays (Keras's attribute), or None."""
        if self._best_weights_source == "host":
            return self._host_weights
        if self._best_weights_source == "device":
            count = len(self.model.weights)
            return [
                keras.ops.convert_to_numpy(saved)
                for saved in self._snapshot.copies[:count]
            ]
        return None

    def get_state(self) -> dict:
        """This run's state as plain Python values (JSON-serialisable).

        With `set_state`, training resumed from a backup (e.g. by
        `keras.callbacks.BackupAndRestore`) continues the same patience
        count, bests, history and smoothing. The weight snapshot is not part
        of the state: after resuming, `restore` uses ``save_best_to`` until
        a new best epoch is captured.
        """
        return copy.deepcopy({key: getattr(self, key) for key in _STATE_KEYS})

    def set_state(self, state: dict) -> None:
        """Loads a `get_state` result; the next `fit` continues from it.

        Raises:
            ValueError: If the state does not come from a callback with the
                same monitored quantities and history keys.
        """
        if (
            not isinstance(state, dict)
            or set(state) != set(_STATE_KEYS)
            or set(state["best_values"]) != set(self.monitors)
            or set(state["monitor_history"]) != set(self.monitor_history)
        ):
            raise ValueError(
                "EarlyStopping.set_state() expects a dict from get_state() "
                f"of a callback monitoring {self.monitors} with history keys "
                f"{sorted(self.monitor_history)}. Received: {state!r}"
            )
        for key in _STATE_KEYS:
            setattr(self, key, copy.deepcopy(state[key]))
        # A snapshot held now belongs to another run.
        self._best_weights_source = None
        self._host_weights = None
        self._resuming = True

    # Callback hooks.

    def on_train_begin(self, logs=None):
        # Each fit starts afresh (one instance can serve several fits),
        # unless set_state() was called to resume.
        if self._resuming:
            self._resuming = False
            self.directions = None
            self._variables = None
            return
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.directions is None:
            self.directions = self._resolve_directions()
        raw = self._read_values(logs or {})
        if raw is None or epoch < self.start_from_epoch:
            return
        compared = self._record(epoch, raw)
        reason = self._check_finite(raw)
        if reason is None:
            improved = self._update_bests(epoch, compared)
            reason = (
                self._check_thresholds(compared[self.monitors[0]])
                or self._check_criterion()
                or self._check_patience(epoch, improved)
            )
        if reason is not None:
            self.stopped_epoch = epoch
            self.stop_reason = reason
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.verbose > 0:
            self._print_summary()
        if self.restore_best_weights and self._has_best_weights():
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.restore()

    def restore(self) -> bool:
        """Puts the best weights of the last `fit` back into the model.

        For use after `fit` ended by an exception (which skips
        ``on_train_end``), or with ``restore_best_weights=False``. The
        weights come from the snapshot (``restore_best_weights=True``), or
        else from the ``save_best_to`` file.

        Returns:
            True if weights were restored, False if there were none.
        """
        if self._best_weights_source == "device":
            self._snapshot.restore()
        elif self._best_weights_source == "host":
            self.model.set_weights(self._host_weights)
        elif self._has_best_weights():
            self.model.load_weights(self.save_best_to)
        else:
            return False
        return True

    def get_config(self):
        return {
            "monitor": self.monitor,
            "min_delta": self.min_delta,
            "patience": self.patience,
            "verbose": self.verbose,
            "mode": self.mode,
            "baseline": self.baseline,
            "restore_best_weights": self.restore_best_weights,
            "start_from_epoch": self.start_from_epoch,
            "min_delta_mode": self.min_delta_mode,
            "smoothing": self.smoothing,
            "smoothing_window": self.smoothing_window,
            "check_finite": self.check_finite,
            "stopping_threshold": self.stopping_threshold,
            "divergence_threshold": self.divergence_threshold,
            "criterion": self.criterion,
            "criterion_threshold": self.criterion_threshold,
            "strip_length": self.strip_length,
            "combine": self.combine,
            "save_best_to": self.save_best_to,
            "include_optimizer": self.include_optimizer,
            "strict": self.strict,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _print_summary(self):
        if self.stop_reason is not None:
            line = (
                f"Epoch {self.stopped_epoch + 1}: early stopping: "
                f"{self.stop_reason}"
            )
        elif self.best_epoch is not None:
            line = "Early stopping did not stop training"
        else:
            return
        if self.best_epoch is not None:
            line += (
                f"; best {self.monitors[0]}: "
                f"{_format_number(self.best_value)} at epoch "
                f"{self.best_epoch + 1}"
            )
        print(f"{line}.")

    # Reading and recording values.

    def _resolve_directions(self):
        directions = {}
        for name, mode in zip(self.monitors, self.modes, strict=True):
            direction = mode if mode != "auto" else None
            if direction is None:
                direction = infer_direction(self.model, name)
            if direction is None:
                raise ValueError(
                    f"EarlyStopping callback received monitor={name}, but "
                    "it cannot determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to "
                    "monitor based on the highest metric value, or pass "
                    "`mode='min'` in order to use the lowest value."
                )
            directions[name] = direction
        primary = self.monitors[0]
        if self.criterion is not None and directions[primary] != "min":
            raise ValueError(
                f"EarlyStopping: criterion={self.criterion!r} needs a "
                f"quantity to minimise (an error or a loss), but {primary} "
                "is maximised."
            )
        return directions

    def _read_values(self, logs):
        needed = list(self.monitors)
        if self.criterion == "PQ" and "loss" not in needed:
            needed.append("loss")
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

    def _record(self, epoch, raw):
        """Appends this epoch to the history; returns the compared values."""
        history = self.monitor_history
        history["epoch"].append(epoch)
        compared = {}
        for name, value in raw.items():
            if name in history:
                history[name].append(value)
            if name not in self.monitors:
                continue
            compared[name] = value
            if self.smoothing is not None:
                smoothed = history[f"{name}_smoothed"]
                compared[name] = smooth_next(
                    history[name],
                    smoothed[-1] if smoothed else None,
                    self.smoothing,
                    self.smoothing_window,
                )
                smoothed.append(compared[name])
        return compared

    def _compared_history(self):
        name = self.monitors[0]
        if self.smoothing is not None:
            return self.monitor_history[f"{name}_smoothed"]
        return self.monitor_history[name]

    # The rules.

    def _is_better(self, value, reference, direction, min_delta):
        if direction == "min":
            return value + min_delta < reference
        return value - min_delta > reference

    def _is_improvement(self, value, reference, direction):
        if not math.isfinite(value):
            return False
        if reference is None:
            return True
        min_delta = self.min_delta
        if self.min_delta_mode == "relative":
            min_delta *= abs(reference)
        return self._is_better(value, reference, direction, min_delta)

    def _update_bests(self, epoch, compared):
        """Updates bests and counts; returns the names that improved."""
        improved = []
        for name in self.monitors:
            value = compared[name]
            direction = self.directions[name]
            self.waits[name] += 1
            if not self._is_improvement(
                value, self.best_values[name], direction
            ):
                continue
            improved.append(name)
            self.best_values[name] = value
            self.best_epochs[name] = epoch
            if name == self.monitors[0]:
                self._keep_best_weights()
            # Only restart the count when the baseline is beaten too.
            if (
                name != self.monitors[0]
                or self.baseline is None
                or self._is_improvement(value, self.baseline, direction)
            ):
                self.waits[name] = 0
        return improved

    def _check_finite(self, raw):
        if not self.check_finite:
            return None
        for name in self.monitors:
            if not math.isfinite(raw[name]):
                return f"{name} is {raw[name]}, not a finite number"
        return None

    def _check_thresholds(self, value):
        name = self.monitors[0]
        direction = self.directions[name]
        threshold = self.stopping_threshold
        if threshold is not None and self._is_better(
            value, threshold, direction, 0.0
        ):
            return (
                f"{name} reached the stopping threshold {threshold:g} "
                f"({_format_number(value)})"
            )
        threshold = self.divergence_threshold
        if threshold is not None and self._is_better(
            threshold, value, direction, 0.0
        ):
            return (
                f"{name} diverged beyond the divergence threshold "
                f"{threshold:g} ({_format_number(value)})"
            )
        return None

    def _check_criterion(self):
        if self.criterion is None:
            return None
        values = self._compared_history()
        alpha = self.criterion_threshold
        k = self.strip_length
        gl = generalization_loss(values[-1], min(values))
        if self.criterion == "GL":
            if gl > alpha:
                return (
                    f"generalization loss GL = {gl:.4g}% exceeded "
                    f"{alpha:g}% (Prechelt's GL criterion)"
                )
            return None
        if len(values) % k:
            return None
        if self.criterion == "PQ":
            progress = training_progress(self.monitor_history["loss"][-k:])
            if progress > 0:
                quotient = gl / progress
            else:
                quotient = math.inf if gl > 0 else 0.0
            if quotient > alpha:
                return (
                    f"GL / training progress = {quotient:.4g} exceeded "
                    f"{alpha:g} (Prechelt's PQ criterion, strips of {k})"
                )
            return None
        rising = rising_strips(values[k - 1 :: k])
        if rising >= alpha:
            return (
                f"{self.monitors[0]} rose in {rising} successive strips of "
                f"{k} epochs (Prechelt's UP criterion)"
            )
        return None

    def _patience_phrase(self, name):
        wait = self.waits[name]
        best = self.best_values[name]
        if (
            name == self.monitors[0]
            and self.baseline is not None
            and (
                best is None
                or not self._is_improvement(
                    best, self.baseline, self.directions[name]
                )
            )
        ):
            return (
                f"{name} did not beat the baseline {self.baseline:g} for "
                f"{wait} epochs"
            )
        if self.min_delta == 0:
            return f"{name} did not improve for {wait} epochs"
        if self.min_delta_mode == "relative":
            delta = f"{self.min_delta:g} of its best"
        else:
            delta = f"{self.min_delta:g}"
        return f"{name} did not improve by more than {delta} for {wait} epochs"

    def _check_patience(self, epoch, improved):
        # As in Keras: never on the first epoch, nor for a quantity that
        # improved this epoch (even when it did not beat the baseline).
        if self.patience is None or epoch == 0:
            return None
        exhausted = [
            name
            for name in self.monitors
            if name not in improved and self.waits[name] >= self.patience
        ]
        if self.combine == "all" and len(exhausted) == len(self.monitors):
            return " and ".join(self._patience_phrase(n) for n in exhausted)
        if self.combine == "any" and exhausted:
            return self._patience_phrase(exhausted[0])
        return None

    # Keeping the best weights.

    def _has_best_weights(self):
        if self._best_weights_source is not None:
            return True
        return (
            self.save_best_to is not None
            and self.best_epoch is not None
            and os.path.exists(self.save_best_to)
        )

    def _snapshot_variables(self):
        weights = getattr(self.model, "weights", None)
        if not isinstance(weights, (list, tuple)) or not all(
            isinstance(weight, keras.Variable) for weight in weights
        ):
            return None
        variables = list(weights)
        optimizer = getattr(self.model, "optimizer", None)
        if self.include_optimizer and optimizer is not None:
            variables += list(optimizer.variables)
        return variables

    def _keep_best_weights(self):
        if self.restore_best_weights:
            if self._variables is None:
                self._variables = self._snapshot_variables()
            if self._variables is None:
                self._host_weights = self.model.get_weights()
                self._best_weights_source = "host"
            else:
                if self._snapshot is None or not self._snapshot.matches(
                    self._variables
                ):
                    self._snapshot = WeightSnapshot(self._variables)
                self._snapshot.capture()
                self._best_weights_source = "device"
        if self.save_best_to is not None:
            self._save_best()

    def _save_best(self):
        """Writes the weights to a temporary file, then renames it."""
        directory, name = os.path.split(self.save_best_to)
        stem = name[: -len(_WEIGHTS_SUFFIX)]
        temporary = os.path.join(
            directory, f".{stem}.{os.getpid()}.tmp{_WEIGHTS_SUFFIX}"
        )
        try:
            self.model.save_weights(temporary)
            os.replace(temporary, self.save_best_to)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(temporary)
            raise
