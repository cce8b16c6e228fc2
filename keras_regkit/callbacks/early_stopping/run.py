"""One run of early stopping: the monitors, the rule and the history.

Lightning's ``EarlyStopping._evaluate_stopping_criteria`` made an object:
`StoppingRun.observe` takes one epoch's logs and answers a `StopReason`
(stop) or None (go on), with no model, weights or Keras hook involved, so
it can be driven with a synthetic curve. Its state (`get_state` /
`set_state`) is plain JSON values, for resuming in a new process.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from collections.abc import Sequence

import numpy as np

from keras_regkit.callbacks.early_stopping.monitor import Monitor
from keras_regkit.callbacks.early_stopping.reason import StopReason
from keras_regkit.callbacks.early_stopping.rules import Patience
from keras_regkit.callbacks.early_stopping.rules import StoppingRule


def _as_scalar(name, value, owner):
    """A logged value as a float; one-element arrays (F1Score) allowed."""
    array = np.asarray(value, dtype="float64")
    if array.size != 1:
        raise ValueError(
            f"{owner} monitors `{name}`, whose value has shape "
            f"{array.shape}: it needs a single number (e.g. an F1Score "
            "with `average='macro'`)."
        )
    return float(array.reshape(()))


class StoppingRun:
    """Monitors, a rule and a history: epoch logs in, a stop reason out.

    Args:
        monitors: The `Monitor` objects, one per monitored quantity; the
            first is the primary one (its best is the best epoch).
        rule: The `StoppingRule` evaluated each epoch (bound here to the
            monitors), or None to only record.
        start_from_epoch: Epochs to ignore before observing.
        strict: Raise instead of warning when a needed log key is missing.
        owner: The name of the object the run serves, in messages.

    Attributes:
        monitors: ``{name: Monitor}``, in order.
        primary: The primary `Monitor`.
        rule: The rule, or None.
        needed_keys: The log keys read each epoch: the monitored
            quantities, then the keys the rule also needs.
        history: Per observed epoch: ``"epoch"``, each value read (raw),
            and ``"<name>_smoothed"`` for a smoothed quantity.
        stopped_epoch: The epoch at which the rule stopped (0 if none).
        stop_reason: Its `StopReason`, or None.
        improved: Whether the last observed epoch improved the primary
            quantity.
        resolved: Whether the monitors' directions are known.

    Example:
    >>> from keras_regkit.callbacks.early_stopping.rules import Patience
    >>> run = StoppingRun([Monitor("loss", mode="min")], Patience(2))
    >>> [run.observe(epoch, {"loss": loss})
    ...  for epoch, loss in enumerate([1.0, 0.5, 0.7, 0.8])]
    [None, None, None, StopReason('loss did not improve for 2 epochs', \
kind='patience')]
    >>> run.stopped_epoch, run.primary.best_epoch, run.history["loss"]
    (3, 1, [1.0, 0.5, 0.7, 0.8])
    """

    def __init__(
        self,
        monitors: Sequence[Monitor],
        rule: StoppingRule | None = None,
        *,
        start_from_epoch: int = 0,
        strict: bool = False,
        owner: str = "StoppingRun",
    ):
        self.monitors = {monitor.name: monitor for monitor in monitors}
        self.primary = monitors[0]
        self.rule = rule
        if rule is not None:
            rule.bind(self.monitors, self.primary.name)
        self.needed_keys = list(self.monitors)
        if rule is not None:
            self.needed_keys += [
                key for key in rule.required_keys() if key not in self.monitors
            ]
        self.start_from_epoch = start_from_epoch
        self.strict = strict
        self.owner = owner
        self.reset()

    def reset(self) -> None:
        """Forgets the run (a new `fit` starts)."""
        for monitor in self.monitors.values():
            monitor.reset()
        if self.rule is not None:
            self.rule.reset()
        self.stopped_epoch = 0
        self.stop_reason = None
        self.improved = False
        self.resolved = False
        self.history = {key: [] for key in self._history_keys()}

    def _history_keys(self):
        keys = ["epoch"]
        for name in self.needed_keys:
            keys.append(name)
            monitor = self.monitors.get(name)
            if monitor is not None and monitor.smoothing is not None:
                keys.append(f"{name}_smoothed")
        return keys

    def resolve(self, model) -> None:
        """Resolves each ``mode="auto"`` against the model's metrics."""
        for monitor in self.monitors.values():
            monitor.resolve(model)
        self.resolved = True

    def observe(self, epoch: int, logs: Mapping) -> StopReason | None:
        """Takes one epoch's logs; returns a `StopReason` to stop, else None.

        Unresolved monitors are resolved without a model first (a loss is
        minimised; other quantities need ``mode``). An epoch before
        ``start_from_epoch``, or whose logs lack a needed key (a warning,
        or a ValueError with ``strict``), is not observed.
        """
        self.improved = False
        if not self.resolved:
            self.resolve(None)
        values = self._read_values(logs or {})
        if values is None or epoch < self.start_from_epoch:
            return None
        self._record(epoch, values)
        self.improved = self.primary.improved
        if self.rule is None:
            return None
        reason = self.rule.update(epoch, values)
        if reason is not None:
            self.stopped_epoch = epoch
            self.stop_reason = reason
        return reason

    def summary(self) -> str | None:
        """One line on how the run ended and its best, or None if empty."""
        primary = self.primary
        if self.stop_reason is not None:
            line = (
                f"Epoch {self.stopped_epoch + 1}: early stopping: "
                f"{self.stop_reason}"
            )
        elif primary.best is not None:
            line = "Early stopping did not stop training"
        else:
            return None
        if primary.best is not None:
            line += (
                f"; best {primary.name}: {primary.best:.6g} at epoch "
                f"{primary.best_epoch + 1}"
            )
        return f"{line}."

    def patience_rules(self) -> dict[str, Patience]:
        """The `Patience` rules, by monitored name (the first of each)."""
        found = {}
        stack = [self.rule] if self.rule is not None else []
        while stack:
            rule = stack.pop(0)
            stack[:0] = getattr(rule, "rules", [])
            if isinstance(rule, Patience):
                found.setdefault(rule.monitored.name, rule)
        return found

    def _read_values(self, logs):
        missing = [name for name in self.needed_keys if logs.get(name) is None]
        if missing:
            message = (
                f"Early stopping conditioned on metric `{missing[0]}` which "
                "is not available. Available metrics are: "
                f"{','.join(logs)}"
            )
            if self.strict:
                raise ValueError(message)
            warnings.warn(message, stacklevel=4)
            return None
        return {
            name: _as_scalar(name, logs[name], self.owner)
            for name in self.needed_keys
        }

    def _record(self, epoch, values):
        """Appends this epoch to the history; the monitors observe it."""
        history = self.history
        history["epoch"].append(epoch)
        for name, value in values.items():
            history[name].append(value)
            monitor = self.monitors.get(name)
            if monitor is not None:
                monitor.observe(epoch, value)
                if monitor.smoothing is not None:
                    history[f"{name}_smoothed"].append(monitor.value)

    def get_state(self) -> dict:
        """The run's state as plain Python values (JSON-serialisable)."""
        reason = self.stop_reason
        return copy.deepcopy(
            {
                "stopped_epoch": self.stopped_epoch,
                "stop_reason": None if reason is None else reason.to_dict(),
                "monitors": {
                    n: m.get_state() for n, m in self.monitors.items()
                },
                "rule": None if self.rule is None else self.rule.get_state(),
                "monitor_history": self.history,
            }
        )

    def set_state(self, state: dict) -> None:
        """Loads a `get_state` result; directions are resolved again.

        Raises:
            ValueError: If the state does not come from a run with the same
                monitored quantities, rules and history keys.
        """
        try:
            if set(state["monitors"]) != set(self.monitors) or set(
                state["monitor_history"]
            ) != set(self.history):
                raise KeyError("monitors")
            for name, monitor in self.monitors.items():
                monitor.set_state(state["monitors"][name])
            if self.rule is not None:
                self.rule.set_state(state["rule"])
            stopped_epoch = state["stopped_epoch"]
            stop_reason = StopReason.from_dict(state["stop_reason"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{self.owner}.set_state() expects a dict from get_state() "
                f"of a callback monitoring {list(self.monitors)} with "
                f"history keys {sorted(self.history)}. Received: {state!r}"
            ) from error
        self.stopped_epoch = stopped_epoch
        self.stop_reason = stop_reason
        self.history = copy.deepcopy(state["monitor_history"])
        self.improved = False
        self.resolved = False
