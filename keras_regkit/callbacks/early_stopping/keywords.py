"""From `EarlyStopping`'s keywords to its monitors and rules.

``monitor`` and ``mode`` name the monitored quantities
(`check_monitor`, `check_mode`; `keyword_monitors` builds a `Monitor`
per quantity). The rule keywords (``patience``, ``baseline``,
``check_finite``, the thresholds, ``criterion``, ``combine``) describe
rules; `keyword_rules`, a pure function, builds them in the order they are
checked. Rules come either from these keywords or as ``rules=[...]``,
never from both (`check_rules_or_keywords`), and only on monitored
quantities (`check_rules_monitored`). `keyword_run` puts the monitors and
the rules together into the `StoppingRun` an `EarlyStopping` observes.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from keras_regkit import _validation
from keras_regkit.callbacks.early_stopping.monitor import Monitor
from keras_regkit.callbacks.early_stopping.prechelt import CRITERIA
from keras_regkit.callbacks.early_stopping.prechelt import criterion_rule
from keras_regkit.callbacks.early_stopping.rules import AllOf
from keras_regkit.callbacks.early_stopping.rules import AnyOf
from keras_regkit.callbacks.early_stopping.rules import DivergenceThreshold
from keras_regkit.callbacks.early_stopping.rules import NonFinite
from keras_regkit.callbacks.early_stopping.rules import Patience
from keras_regkit.callbacks.early_stopping.rules import StoppingRule
from keras_regkit.callbacks.early_stopping.rules import StoppingThreshold
from keras_regkit.callbacks.early_stopping.rules import check_key
from keras_regkit.callbacks.early_stopping.run import StoppingRun

COMBINE = {"all": AllOf, "any": AnyOf}
# The keywords that build rules, with their defaults: with ``rules=``
# they must keep these (``patience=0``, Keras's default, is then unused).
RULE_KEYWORD_DEFAULTS = {
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


def check_monitor(monitor, owner=None) -> str | list[str]:
    """Checks ``monitor``: a log key, or a list of distinct ones."""
    expected = (
        "a non-empty string or a non-empty list of distinct non-empty strings"
    )
    if isinstance(monitor, str):
        return check_key("monitor", monitor, owner, expected)
    if (
        not isinstance(monitor, (list, tuple))
        or not monitor
        or not all(isinstance(name, str) for name in monitor)
    ):
        raise _validation.invalid(
            "monitor", expected, monitor, owner=owner, error=TypeError
        )
    if len(set(monitor)) != len(monitor) or not all(monitor):
        raise _validation.invalid("monitor", expected, monitor, owner=owner)
    return monitor[0] if len(monitor) == 1 else list(monitor)


def check_mode(mode, count: int, owner=None) -> str | list[str]:
    """Checks ``mode``: one string, or a list with one per quantity.

    The strings themselves are checked by `Monitor`.
    """
    if isinstance(mode, str):
        return mode
    if (
        not isinstance(mode, (list, tuple))
        or len(mode) != count
        or not all(isinstance(entry, str) for entry in mode)
    ):
        raise _validation.invalid(
            "mode",
            "one of 'auto', 'min', 'max', or a list of them with one "
            f"entry per monitored quantity ({count})",
            mode,
            owner=owner,
        )
    return mode[0] if len(mode) == 1 else list(mode)


def keyword_monitors(
    monitors: Sequence[str],
    mode: str | Sequence[str],
    *,
    min_delta: float,
    min_delta_mode: str,
    smoothing: str | None,
    smoothing_window: int,
    owner: str,
) -> list[Monitor]:
    """One `Monitor` per monitored quantity (a single ``mode`` for all)."""
    modes = [mode] * len(monitors) if isinstance(mode, str) else list(mode)
    return [
        Monitor(
            name,
            mode,
            min_delta,
            min_delta_mode,
            smoothing,
            smoothing_window,
            owner=owner,
        )
        for name, mode in zip(monitors, modes, strict=True)
    ]


def _optional_float(name, value, owner):
    if value is None:
        return None
    return _validation.check_float(name, value, owner=owner)


def check_rule_keywords(
    *,
    patience,
    baseline,
    check_finite,
    stopping_threshold,
    divergence_threshold,
    criterion,
    criterion_threshold,
    strip_length,
    combine,
    owner=None,
) -> dict:
    """Checks the rule keywords one by one; returns them, checked.

    ``criterion_threshold`` depends on ``criterion``: `keyword_rules`
    checks it.
    """
    if patience is not None:
        patience = _validation.check_int(
            "patience", patience, low=0, owner=owner
        )
    return {
        "patience": patience,
        "baseline": _optional_float("baseline", baseline, owner),
        "check_finite": _validation.check_bool(
            "check_finite", check_finite, owner=owner
        ),
        "stopping_threshold": _optional_float(
            "stopping_threshold", stopping_threshold, owner
        ),
        "divergence_threshold": _optional_float(
            "divergence_threshold", divergence_threshold, owner
        ),
        "criterion": _validation.check_choice(
            "criterion", criterion, (None, *CRITERIA), owner=owner
        ),
        "criterion_threshold": criterion_threshold,
        "strip_length": _validation.check_int(
            "strip_length", strip_length, low=1, owner=owner
        ),
        "combine": _validation.check_choice(
            "combine", combine, tuple(COMBINE), owner=owner
        ),
    }


def keyword_rules(
    monitors: Sequence[str],
    *,
    patience: int | None = 0,
    baseline: float | None = None,
    check_finite: bool = False,
    stopping_threshold: float | None = None,
    divergence_threshold: float | None = None,
    criterion: str | None = None,
    criterion_threshold: float | None = None,
    strip_length: int = 5,
    combine: str = "all",
    owner=None,
) -> list[StoppingRule]:
    """The rules that `EarlyStopping`'s keywords ask for, in order.

    Non-finite values first (one `NonFinite` per monitored quantity), then
    ``stopping_threshold``, ``divergence_threshold``, Prechelt's
    ``criterion`` and ``patience`` (one `Patience` per monitored quantity,
    ``baseline`` on the first, combined by ``combine`` when there are
    several). Each keyword alone is checked by `check_rule_keywords`; this
    checks how they go together.

    Args:
        monitors: The monitored quantities, the primary one first.
        patience, baseline, check_finite, stopping_threshold,
            divergence_threshold, criterion, criterion_threshold,
            strip_length, combine: As in `EarlyStopping`.
        owner: The object named in error messages.

    Returns:
        A list of `StoppingRule` objects, possibly empty.

    Raises:
        ValueError: If ``criterion_threshold`` is given without
            ``criterion``, or is missing or out of range with it.

    Example:
    >>> rules = keyword_rules(["val_loss", "val_auc"], patience=3,
    ...                       check_finite=True, combine="any")
    >>> [type(rule).__name__ for rule in rules]
    ['NonFinite', 'NonFinite', 'AnyOf']
    >>> [rule.get_config() for rule in rules[-1].rules]
    [{'monitor': 'val_loss', 'patience': 3, 'baseline': None}, \
{'monitor': 'val_auc', 'patience': 3, 'baseline': None}]
    """
    if criterion is None and criterion_threshold is not None:
        raise _validation.invalid(
            "criterion_threshold",
            "None when criterion is None",
            criterion_threshold,
            owner=owner,
        )
    rules = []
    if check_finite:
        rules += [NonFinite(name) for name in monitors]
    if stopping_threshold is not None:
        rules.append(StoppingThreshold(stopping_threshold))
    if divergence_threshold is not None:
        rules.append(DivergenceThreshold(divergence_threshold))
    if criterion is not None:
        rules.append(
            criterion_rule(
                criterion, criterion_threshold, strip_length, owner=owner
            )
        )
    if patience is not None:
        per_monitor = [
            Patience(patience, baseline if index == 0 else None, name)
            for index, name in enumerate(monitors)
        ]
        if len(per_monitor) == 1:
            rules += per_monitor
        else:
            rules.append(COMBINE[combine](per_monitor))
    return rules


def check_rules_or_keywords(
    rules, keywords: Mapping[str, object], owner=None
) -> list[StoppingRule] | None:
    """Checks ``rules=`` against the rule keywords; returns the list or None.

    Args:
        rules: None, or a list of `StoppingRule` objects.
        keywords: The values of the keywords of `RULE_KEYWORD_DEFAULTS`.
        owner: The object named in error messages.

    Raises:
        TypeError: If ``rules`` is not None nor a list of rules.
        ValueError: If ``rules`` is given and a rule keyword is not at its
            default.
    """
    if rules is None:
        return None
    if not isinstance(rules, (list, tuple)) or not all(
        isinstance(rule, StoppingRule) for rule in rules
    ):
        raise _validation.invalid(
            "rules",
            "None or a list of StoppingRule objects",
            rules,
            owner=owner,
            error=TypeError,
        )
    for name, default in RULE_KEYWORD_DEFAULTS.items():
        if keywords[name] != default:
            raise _validation.invalid(
                name,
                f"its default ({default!r}) when `rules` is given (pass "
                "the rules either as `rules` or as keywords)",
                keywords[name],
                owner=owner,
            )
    return list(rules)


def check_rules_monitored(
    rules: Sequence[StoppingRule], monitors: Sequence[str], owner=None
) -> None:
    """Raises if a rule names a quantity that is not monitored."""
    for name in AnyOf(rules).monitor_names() if rules else ():
        if name not in monitors:
            raise _validation.invalid(
                "rules",
                f"rules on monitored quantities only: add {name!r} to "
                "`monitor` (and its `mode`)",
                rules,
                owner=owner,
            )


def keyword_run(
    monitors: Sequence[Monitor],
    rules: Sequence[StoppingRule] | None,
    rule_keywords: Mapping[str, object],
    *,
    start_from_epoch: int,
    strict: bool,
    owner,
) -> StoppingRun:
    """The `StoppingRun` of ``monitors`` under ``rules`` or the keywords.

    Args:
        monitors: The `Monitor` objects (`keyword_monitors`), the primary
            one first.
        rules: The checked ``rules=`` (`check_rules_or_keywords`), or None
            to build them from ``rule_keywords`` (`keyword_rules`).
        rule_keywords: The checked rule keywords (`check_rule_keywords`).
        start_from_epoch: Epochs the run ignores before observing.
        strict: Whether a missing log key raises instead of warning.
        owner: The object the run serves, named in messages.

    Raises:
        ValueError: If a rule names a quantity that is not monitored.
    """
    names = [monitor.name for monitor in monitors]
    if rules is None:
        rules = keyword_rules(names, **rule_keywords, owner=owner)
    check_rules_monitored(rules, names, owner=owner)
    return StoppingRun(
        monitors,
        AnyOf(rules) if rules else None,
        start_from_epoch=start_from_epoch,
        strict=strict,
        owner=_validation.owner_name(owner),
    )
