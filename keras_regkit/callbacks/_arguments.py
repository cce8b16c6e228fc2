"""`EarlyStopping`'s argument checks, and the rules its keywords build.

The checks that the shared helpers of `_validation` do not cover alone
(``monitor``, ``mode``, ``save_best_to``, ``rules``), and the translation
of the Keras-style keywords (``patience``, ``baseline``, ``check_finite``,
the thresholds, ``criterion``, ``combine``) into `StoppingRule` objects.
"""

from __future__ import annotations

import os

from keras_regkit import _validation
from keras_regkit.callbacks.best_weights import WEIGHTS_SUFFIX
from keras_regkit.callbacks.prechelt import criterion_rule
from keras_regkit.callbacks.stopping_rules import AllOf
from keras_regkit.callbacks.stopping_rules import AnyOf
from keras_regkit.callbacks.stopping_rules import DivergenceThreshold
from keras_regkit.callbacks.stopping_rules import NonFinite
from keras_regkit.callbacks.stopping_rules import Patience
from keras_regkit.callbacks.stopping_rules import StoppingRule
from keras_regkit.callbacks.stopping_rules import StoppingThreshold
from keras_regkit.callbacks.stopping_rules import check_key

COMBINE = {"all": AllOf, "any": AnyOf}
# The keywords that build rules, with their defaults: with ``rules=``
# they must keep these (``patience=0``, Keras's default, is then unused).
_RULE_KEYWORDS = {
    "patience": 0,
    "baseline": None,
    "check_finite": False,
    "stopping_threshold": None,
    "divergence_threshold": None,
    "criterion": None,
    "criterion_threshold": None,
    "strip_length": 5,
    "combine": "all",
}


class ArgumentsMixin:
    """Argument checks and keyword rules of `EarlyStopping`."""

    def _check_monitor(self, monitor):
        expected = (
            "a non-empty string or a non-empty list of distinct non-empty "
            "strings"
        )
        if isinstance(monitor, str):
            return check_key("monitor", monitor, self, expected)
        if (
            not isinstance(monitor, (list, tuple))
            or not monitor
            or not all(isinstance(name, str) for name in monitor)
        ):
            raise _validation.invalid(
                "monitor", expected, monitor, owner=self, error=TypeError
            )
        if len(set(monitor)) != len(monitor) or not all(monitor):
            raise _validation.invalid("monitor", expected, monitor, owner=self)
        return monitor[0] if len(monitor) == 1 else list(monitor)

    def _check_mode(self, mode):
        if isinstance(mode, str):
            return mode
        if not isinstance(mode, (list, tuple)) or len(mode) != len(
            self.monitors
        ):
            raise _validation.invalid(
                "mode",
                "one of 'auto', 'min', 'max', or a list of them with one "
                f"entry per monitored quantity ({len(self.monitors)})",
                mode,
                owner=self,
            )
        return mode[0] if len(mode) == 1 else list(mode)

    def _check_path(self, path):
        if path is None:
            return None
        expected = f"None or a path ending in {WEIGHTS_SUFFIX!r}"
        if not isinstance(path, (str, os.PathLike)):
            raise _validation.invalid(
                "save_best_to", expected, path, owner=self, error=TypeError
            )
        path = os.fspath(path)
        if not path.endswith(WEIGHTS_SUFFIX):
            raise _validation.invalid(
                "save_best_to", expected, path, owner=self
            )
        return path

    def _check_rules(self, rules):
        if rules is None:
            if self.criterion is None and self.criterion_threshold is not None:
                raise _validation.invalid(
                    "criterion_threshold",
                    "None when criterion is None",
                    self.criterion_threshold,
                    owner=self,
                )
            return None
        if not isinstance(rules, (list, tuple)) or not all(
            isinstance(rule, StoppingRule) for rule in rules
        ):
            raise _validation.invalid(
                "rules",
                "None or a list of StoppingRule objects",
                rules,
                owner=self,
                error=TypeError,
            )
        for name, default in _RULE_KEYWORDS.items():
            if getattr(self, name) != default:
                raise _validation.invalid(
                    name,
                    f"its default ({default!r}) when `rules` is given (pass "
                    "the rules either as `rules` or as keywords)",
                    getattr(self, name),
                    owner=self,
                )
        return list(rules)

    def _keyword_rules(self):
        """The rules that the Keras-style keywords ask for, in order."""
        rules = []
        if self.check_finite:
            rules += [NonFinite(name) for name in self.monitors]
        if self.stopping_threshold is not None:
            rules.append(StoppingThreshold(self.stopping_threshold))
        if self.divergence_threshold is not None:
            rules.append(DivergenceThreshold(self.divergence_threshold))
        if self.criterion is not None:
            rules.append(
                criterion_rule(
                    self.criterion,
                    self.criterion_threshold,
                    self.strip_length,
                    owner=self,
                )
            )
        if self.patience is not None:
            patience = [
                Patience(self.patience, self.baseline if i == 0 else None, name)
                for i, name in enumerate(self.monitors)
            ]
            if len(patience) == 1:
                rules += patience
            else:
                rules.append(COMBINE[self.combine](patience))
        return rules
