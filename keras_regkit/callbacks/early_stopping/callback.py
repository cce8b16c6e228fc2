"""`EarlyStopping`: Keras's hooks and attributes over a `StoppingRun`.

A drop-in replacement for `keras.callbacks.EarlyStopping` (same arguments,
defaults, attributes and behaviour). The callback checks its arguments,
builds the rules from the keywords (`keywords.keyword_rules`) or takes
``rules=[...]``, hands each epoch's logs to a `run.StoppingRun`, keeps the
best weights with a `BestWeights`, and shows Keras's attributes (``best``,
``wait``, ``best_weights``, ...) as properties over those two.

Reference:
    Lutz Prechelt, "Early Stopping - But When?", in Neural Networks: Tricks
    of the Trade, Lecture Notes in Computer Science 1524, Springer, 1998,
    pp. 55-69.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence

import keras

from keras_regkit import _validation
from keras_regkit.callbacks.best_weights import BestWeights
from keras_regkit.callbacks.best_weights import check_weights_path
from keras_regkit.callbacks.early_stopping import keywords
from keras_regkit.callbacks.early_stopping.monitor import Monitor
from keras_regkit.callbacks.early_stopping.reason import StopReason
from keras_regkit.callbacks.early_stopping.rules import StoppingRule


@keras.saving.register_keras_serializable(package="keras_regkit")
class EarlyStopping(keras.callbacks.Callback):
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
    PQ or UP, see `prechelt`) and ``patience`` (one `Patience` per
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
        run: The `StoppingRun` that holds the monitors, the rule, the
            history and the stop; rebuilt state comes from it.
        best_weights_store: The `BestWeights` that keeps the best weights.
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

    In `fit`, as Keras's:

    >>> x, y = np.ones((16, 1)), np.ones((16, 1))
    >>> stopper = rk.callbacks.EarlyStopping(patience=2,
    ...     restore_best_weights=True)
    >>> history = model.fit(x, y, validation_split=0.25, epochs=3,
    ...     verbose=0, callbacks=[stopper])
    >>> len(history.history["val_loss"]) <= 3
    True

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
        owner = _validation.owner_name(self)
        self.monitor = keywords.check_monitor(monitor, owner=self)
        self.monitors = (
            [self.monitor] if isinstance(self.monitor, str) else self.monitor
        )
        self.min_delta = abs(
            _validation.check_float("min_delta", min_delta, owner=self)
        )
        if isinstance(verbose, bool):
            verbose = int(verbose)
        self.verbose = _validation.check_int(
            "verbose", verbose, low=0, owner=self
        )
        self.mode = keywords.check_mode(mode, len(self.monitors), owner=self)
        for name, flag in (
            ("restore_best_weights", restore_best_weights),
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
        rule_keywords = keywords.check_rule_keywords(
            patience=patience,
            baseline=baseline,
            check_finite=check_finite,
            stopping_threshold=stopping_threshold,
            divergence_threshold=divergence_threshold,
            criterion=criterion,
            criterion_threshold=criterion_threshold,
            strip_length=strip_length,
            combine=combine,
            owner=self,
        )
        for name, value in rule_keywords.items():
            setattr(self, name, value)
        self.save_best_to = check_weights_path(
            save_best_to, "save_best_to", owner=self
        )
        self.include_optimizer = include_optimizer
        self.strict = strict
        self.rules = keywords.check_rules_or_keywords(
            rules, rule_keywords, owner=self
        )

        monitors = keywords.keyword_monitors(
            self.monitors,
            self.mode,
            min_delta=self.min_delta,
            min_delta_mode=min_delta_mode,
            smoothing=smoothing,
            smoothing_window=smoothing_window,
            owner=owner,
        )
        self.run = keywords.keyword_run(
            monitors,
            self.rules,
            rule_keywords,
            start_from_epoch=self.start_from_epoch,
            strict=strict,
            owner=self,
        )
        self.best_weights_store = BestWeights(
            in_memory=restore_best_weights,
            include_optimizer=include_optimizer,
            path=self.save_best_to,
            owner=owner,
        )
        self._resuming = False
        # Keras's `wait` when no `Patience` rule counts it.
        self._wait_without_patience = 0

    # Keras's hooks.

    def set_model(self, model):
        super().set_model(model)
        self.best_weights_store.model = model

    def on_train_begin(self, logs=None):
        # Each fit starts afresh (one instance can serve several fits),
        # unless set_state() was called to resume.
        resuming, self._resuming = self._resuming, False
        if not resuming:
            self.run.reset()
            self._wait_without_patience = 0
        self.best_weights_store.begin(self.model, resuming=resuming)
        if resuming and self.restore_best_weights and self.best is not None:
            self.best_weights_store.warn_if_lost_on_resume(self.best_epoch)

    def on_epoch_end(self, epoch, logs=None):
        if not self.run.resolved:
            self.run.resolve(self.model)
        reason = self.run.observe(epoch, logs)
        if self.run.improved and (
            self.restore_best_weights or self.save_best_to is not None
        ):
            self.best_weights_store.keep()
        if reason is not None:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        summary = self.run.summary()
        if self.verbose > 0 and summary is not None:
            print(summary)
        if self.restore_best_weights and self.best_weights_store.has_weights():
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.best_weights_store.restore()

    def restore(self) -> bool:
        """Puts the best weights of the last `fit` back into the model.

        For use after `fit` ended by an exception (which skips
        ``on_train_end``), or with ``restore_best_weights=False``. The
        weights come from the in-memory copy (``restore_best_weights=
        True``), or else from the ``save_best_to`` file.

        Returns:
            True if weights were restored, False if there were none.
        """
        return self.best_weights_store.restore()

    # Resuming.

    def get_state(self) -> dict:
        """This run's state as plain Python values (JSON-serialisable).

        With `set_state`, training resumed from a backup continues the
        same patience count, bests, history and smoothing. The weights are
        not part of it: see "Resuming" above.
        """
        return self.run.get_state()

    def set_state(self, state: dict) -> None:
        """Loads a `get_state` result; the next `fit` continues from it.

        Raises:
            ValueError: If the state does not come from a callback with the
                same monitored quantities, rules and history keys.
        """
        self.run.set_state(state)
        self._resuming = True

    # Configuration.

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

    # Keras's attributes, read from (and written to) the run and the store.

    @property
    def best(self):
        """The best value of the primary quantity, or None."""
        return self.run.primary.best

    @best.setter
    def best(self, value):
        self.run.primary.best = value

    @property
    def best_epoch(self):
        """The epoch of `best` (0-based; 0 before any, as in Keras)."""
        epoch = self.run.primary.best_epoch
        return 0 if epoch is None else epoch

    @best_epoch.setter
    def best_epoch(self, value):
        self.run.primary.best_epoch = value

    @property
    def wait(self):
        """Epochs counted towards ``patience`` (primary quantity)."""
        rule = self.run.patience_rules().get(self.run.primary.name)
        return self._wait_without_patience if rule is None else rule.wait

    @wait.setter
    def wait(self, value):
        rule = self.run.patience_rules().get(self.run.primary.name)
        if rule is None:
            self._wait_without_patience = value
        else:
            rule.wait = value

    @property
    def best_weights(self):
        """The kept best weights as numpy arrays (Keras's), or None."""
        return self.best_weights_store.weights

    @best_weights.setter
    def best_weights(self, weights):
        self.best_weights_store.set_host_weights(weights)

    @property
    def stopped_epoch(self):
        """The epoch at which this callback stopped training (0 if not)."""
        return self.run.stopped_epoch

    @stopped_epoch.setter
    def stopped_epoch(self, value):
        self.run.stopped_epoch = value

    @property
    def monitor_op(self):
        """Keras's comparison for the primary quantity, or None."""
        if self.run.primary.direction is None:
            return None
        if self.run.primary.direction == "max":
            return keras.ops.greater
        return keras.ops.less

    # Our own read-only views.

    @property
    def stop_reason(self) -> StopReason | None:
        """Why this callback stopped training, or None."""
        return self.run.stop_reason

    @property
    def best_value(self):
        """Same as `best`."""
        return self.run.primary.best

    @property
    def primary(self) -> Monitor:
        """The primary `Monitor`."""
        return self.run.primary

    @property
    def monitor_objects(self) -> dict[str, Monitor]:
        """Every monitored name's `Monitor`."""
        return self.run.monitors

    @property
    def rule(self) -> StoppingRule | None:
        """The rule evaluated each epoch (an `AnyOf`), or None."""
        return self.run.rule

    @property
    def monitor_history(self) -> dict[str, list]:
        """Per monitored epoch: the epoch, each value read, smoothed ones."""
        return self.run.history

    @property
    def best_values(self):
        """The best value of each monitored quantity."""
        return {n: m.best for n, m in self.run.monitors.items()}

    @property
    def best_epochs(self):
        """The best epoch of each monitored quantity (None before any)."""
        return {n: m.best_epoch for n, m in self.run.monitors.items()}

    @property
    def waits(self):
        """The patience count of each quantity that has a `Patience` rule."""
        return {n: r.wait for n, r in self.run.patience_rules().items()}

    @property
    def directions(self):
        """``{name: "min" | "max"}`` once resolved (first epoch), or None."""
        if not self.run.resolved:
            return None
        return {n: m.direction for n, m in self.run.monitors.items()}


# get_config returns every constructor argument.
_CONFIG_KEYS = tuple(inspect.signature(EarlyStopping.__init__).parameters)[1:]
