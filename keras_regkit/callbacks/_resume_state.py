"""`EarlyStopping`'s resume state (`get_state` / `set_state`), as a mixin.

The state is plain Python values: the stopped epoch and reason, each
`Monitor`'s and the rule's state, and the history. A state of the
single-class EarlyStopping (<= 0.1) is also accepted: its history is
replayed through the monitors and rules at the first resumed epoch.
"""

from __future__ import annotations

import copy

from keras_regkit.callbacks.stop_reason import StopReason


class ResumeStateMixin:
    """`get_state` / `set_state` for `EarlyStopping` (resuming a run)."""

    def get_state(self) -> dict:
        """This run's state as plain Python values (JSON-serialisable).

        With `set_state`, training resumed from a backup (e.g. by
        `keras.callbacks.BackupAndRestore`) continues the same patience
        count, bests, history and smoothing. The in-memory copy of the
        weights is not part of the state (it would not be JSON, nor small):
        after resuming, `restore` uses ``save_best_to`` until a new best
        epoch is kept. Without ``save_best_to``, a resumed
        ``restore_best_weights=True`` callback warns at ``on_train_begin``
        that the earlier best weights cannot be restored.
        """
        reason = self.stop_reason
        return copy.deepcopy(
            {
                "stopped_epoch": self.stopped_epoch,
                "stop_reason": None if reason is None else reason.to_dict(),
                "monitors": {
                    n: m.get_state() for n, m in self.monitor_objects.items()
                },
                "rule": None if self.rule is None else self.rule.get_state(),
                "monitor_history": self.monitor_history,
            }
        )

    def set_state(self, state: dict) -> None:
        """Loads a `get_state` result; the next `fit` continues from it.

        Raises:
            ValueError: If the state does not come from a callback with the
                same monitored quantities, rules and history keys.
        """
        if isinstance(state, dict) and "best_values" in state:
            return self._set_legacy_state(state)
        try:
            if set(state["monitors"]) != set(self.monitor_objects) or set(
                state["monitor_history"]
            ) != set(self.monitor_history):
                raise KeyError("monitors")
            for name, monitor in self.monitor_objects.items():
                monitor.set_state(state["monitors"][name])
            if self.rule is not None:
                self.rule.set_state(state["rule"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                "EarlyStopping.set_state() expects a dict from get_state() "
                f"of a callback monitoring {list(self.monitor_objects)} with "
                f"history keys {sorted(self.monitor_history)}. Received: "
                f"{state!r}"
            ) from error
        self.stopped_epoch = state["stopped_epoch"]
        self.stop_reason = StopReason.from_dict(state["stop_reason"])
        self.monitor_history = copy.deepcopy(state["monitor_history"])
        self._resuming = True

    def _set_legacy_state(self, state):
        """Loads a `get_state` of the single-class EarlyStopping (<= 0.1).

        That state held bests, waits and the history only: the history is
        replayed through the monitors and rules at the first epoch of the
        resumed fit (when the directions are known), which rebuilds every
        rule's state exactly as the uninterrupted run had it.
        """
        history = state.get("monitor_history")
        if not isinstance(history, dict) or set(history) != set(
            self.monitor_history
        ):
            raise ValueError(
                "EarlyStopping.set_state() expects a dict from get_state() "
                f"of a callback with history keys "
                f"{sorted(self.monitor_history)}. Received: {state!r}"
            )
        self.monitor_history = copy.deepcopy(history)
        self.stopped_epoch = state["stopped_epoch"]
        self.stop_reason = StopReason.from_dict(state["stop_reason"])
        self._replay = True
        self._resuming = True

    def _replay_history(self):
        history = self.monitor_history
        for index, epoch in enumerate(history["epoch"]):
            values = {key: history[key][index] for key in self._needed_keys()}
            for name, monitor in self.monitor_objects.items():
                monitor.observe(epoch, values[name])
            if self.rule is not None:
                self.rule.update(epoch, values)
