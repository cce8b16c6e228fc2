"""`EarlyStopping`'s Keras-compatible attributes, as a mixin.

``best``, ``best_epoch``, ``wait`` and ``best_weights`` are readable and
assignable with `keras.callbacks.EarlyStopping`'s meaning; ``best_value``,
``best_values``, ``best_epochs``, ``waits``, ``directions`` and
``monitor_op`` are read-only views. They read the callback's pieces: its
primary `Monitor` (``primary``), ``monitor_objects``, its rule (``rule``)
and its `BestWeights` (``keeper``).
"""

from __future__ import annotations

import keras

from keras_regkit.callbacks.stopping_rules import Patience


class KerasAttributesMixin:
    """Keras's EarlyStopping attributes over `Monitor`s, rules and weights."""

    def _patience_rules(self):
        """The `Patience` rules, by monitored name (the first of each)."""
        found = {}
        stack = [self.rule] if self.rule is not None else []
        while stack:
            rule = stack.pop(0)
            stack[:0] = getattr(rule, "rules", [])
            if isinstance(rule, Patience):
                found.setdefault(rule.monitored.name, rule)
        return found

    @property
    def best(self):
        """The best value of the primary quantity, or None."""
        return self.primary.best

    @best.setter
    def best(self, value):
        self.primary.best = value

    @property
    def best_value(self):
        """Same as `best`."""
        return self.primary.best

    @property
    def best_epoch(self):
        """The epoch of `best` (0-based; 0 before any, as in Keras)."""
        epoch = self.primary.best_epoch
        return 0 if epoch is None else epoch

    @best_epoch.setter
    def best_epoch(self, value):
        self.primary.best_epoch = value

    @property
    def wait(self):
        """Epochs counted towards ``patience`` (primary quantity)."""
        rule = self._patience_rules().get(self.primary.name)
        return self._free_wait if rule is None else rule.wait

    @wait.setter
    def wait(self, value):
        rule = self._patience_rules().get(self.primary.name)
        if rule is None:
            self._free_wait = value
        else:
            rule.wait = value

    @property
    def best_weights(self):
        """The kept best weights as numpy arrays (Keras's), or None."""
        return self.keeper.weights

    @best_weights.setter
    def best_weights(self, weights):
        self.keeper.set_host_weights(weights)

    @property
    def best_values(self):
        """The best value of each monitored quantity."""
        return {n: m.best for n, m in self.monitor_objects.items()}

    @property
    def best_epochs(self):
        """The best epoch of each monitored quantity (None before any)."""
        return {n: m.best_epoch for n, m in self.monitor_objects.items()}

    @property
    def waits(self):
        """The patience count of each quantity that has a `Patience` rule."""
        return {n: r.wait for n, r in self._patience_rules().items()}

    @property
    def directions(self):
        """``{name: "min" | "max"}`` once resolved (first epoch), or None."""
        if not self._resolved:
            return None
        return {n: m.direction for n, m in self.monitor_objects.items()}

    @property
    def monitor_op(self):
        """Keras's comparison for the primary quantity, or None."""
        if self.primary.direction is None:
            return None
        if self.primary.direction == "max":
            return keras.ops.greater
        return keras.ops.less
