"""One monitored quantity: its direction, what counts as better, its best.

The idea of Keras's ``callbacks/monitor_callback.py`` (which Keras 3.15
does not export) as a small object of our own: a `Monitor` infers whether
its quantity is minimised or maximised, applies ``min_delta`` (absolute
or relative to the best) and optional smoothing, and remembers the best
value and epoch. Stopping rules read it; `EarlyStopping` owns one per
monitored quantity (through its `StoppingRun`), the first being the
primary one. The direction comes from `callbacks.direction`, which
`GapMonitor` and `diagnostics` use too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from keras_regkit import _validation
from keras_regkit.callbacks.direction import infer_direction

MODES = ("auto", "min", "max")
MIN_DELTA_MODES = ("absolute", "relative")
SMOOTHING = (None, "moving_average", "exponential")


def smooth_next(
    values: Sequence[float],
    previous: float | None,
    method: str | None,
    window: int,
) -> float:
    """The smoothed value after the last element of ``values``.

    Args:
        values: The raw values so far, the newest last (only the last
            ``window`` are read).
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


class Monitor:
    """A monitored quantity: direction, ``min_delta``, smoothing, best.

    Call `observe` once per epoch with the logged value: it smooths it,
    compares it with the best and records an improvement. Non-finite
    values never improve.

    Args:
        name: The key of the epoch logs, e.g. ``"val_loss"``.
        mode: ``"auto"`` (inferred from the model, as Keras does), ``"min"``
            or ``"max"``.
        min_delta: The smallest change counted as an improvement (its
            absolute value is used, as Keras does).
        min_delta_mode: ``"absolute"``, or ``"relative"`` (``min_delta`` is
            a fraction of the best value's magnitude).
        smoothing: None, ``"moving_average"`` or ``"exponential"``.
        smoothing_window: Epochs smoothed over.
        owner: The name of the object the monitor serves (the callback
            whose arguments these are), named in error messages.

    Attributes:
        direction: ``"min"`` or ``"max"`` once resolved, else None.
        value: The compared (smoothed) value of the last epoch observed.
        raw: The logged value of the last epoch observed.
        best: The best compared value so far, or None.
        best_epoch: The epoch of ``best``, or None.
        improved: Whether the last epoch observed improved on the best.

    Example:
    >>> monitor = Monitor("loss", min_delta=0.1)
    >>> monitor.resolve(model=None)
    'min'
    >>> [monitor.observe(epoch, v) for epoch, v in enumerate([1.0, 0.95, 0.8])]
    [True, False, True]
    >>> monitor.best, monitor.best_epoch
    (0.8, 2)
    """

    def __init__(
        self,
        name: str,
        mode: str = "auto",
        min_delta: float = 0.0,
        min_delta_mode: str = "absolute",
        smoothing: str | None = None,
        smoothing_window: int = 5,
        *,
        owner: str = "Monitor",
    ):
        self.owner = owner
        self.name = _validation.check_type(
            "monitor", name, str, "a string", owner=owner
        )
        self.mode = _validation.check_choice("mode", mode, MODES, owner=owner)
        self.min_delta = abs(
            _validation.check_float("min_delta", min_delta, owner=owner)
        )
        self.min_delta_mode = _validation.check_choice(
            "min_delta_mode", min_delta_mode, MIN_DELTA_MODES, owner=owner
        )
        self.smoothing = _validation.check_choice(
            "smoothing", smoothing, SMOOTHING, owner=owner
        )
        self.smoothing_window = _validation.check_int(
            "smoothing_window", smoothing_window, low=1, owner=owner
        )
        self.reset()

    def reset(self) -> None:
        """Forgets the run: best, history and direction."""
        self.direction = None if self.mode == "auto" else self.mode
        self.best = None
        self.best_epoch = None
        self.improved = False
        self.value = None
        self.raw = None
        self._recent = []

    def resolve(self, model) -> str:
        """Resolves ``"auto"`` against a model's metrics; returns it.

        Raises:
            ValueError: If the direction cannot be inferred.
        """
        if self.direction is None:
            self.direction = infer_direction(model, self.name)
        if self.direction is None:
            raise ValueError(
                f"{self.owner} received monitor={self.name}, but "
                "it cannot determine whether that metric should be "
                "maximized or minimized. Pass `mode='max'` in order to "
                "monitor based on the highest metric value, or pass "
                "`mode='min'` in order to use the lowest value."
            )
        return self.direction

    def is_better(self, value, reference, min_delta: float = 0.0) -> bool:
        """Whether ``value`` beats ``reference`` by more than ``min_delta``."""
        if self.direction == "max":
            return value - min_delta > reference
        return value + min_delta < reference

    def is_improvement(self, value, reference) -> bool:
        """Whether ``value`` improves on ``reference`` (None: any finite)."""
        if not math.isfinite(value):
            return False
        if reference is None:
            return True
        min_delta = self.min_delta
        if self.min_delta_mode == "relative":
            min_delta *= abs(reference)
        return self.is_better(value, reference, min_delta)

    def observe(self, epoch: int, raw: float) -> bool:
        """Takes one epoch's logged value; returns whether it improved."""
        self.raw = raw
        self._recent = [*self._recent, raw][-self.smoothing_window :]
        previous = self.value if self.smoothing is not None else None
        self.value = smooth_next(
            self._recent, previous, self.smoothing, self.smoothing_window
        )
        self.improved = self.is_improvement(self.value, self.best)
        if self.improved:
            self.best = self.value
            self.best_epoch = epoch
        return self.improved

    def get_state(self) -> dict:
        """The run's state as plain values (for resuming)."""
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "value": self.value,
            "recent": list(self._recent),
        }

    def set_state(self, state: dict) -> None:
        """Loads a `get_state` result (the direction is resolved again)."""
        self.direction = None if self.mode == "auto" else self.mode
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.value = state["value"]
        self._recent = list(state["recent"])
        self.improved = False

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "mode": self.mode,
            "min_delta": self.min_delta,
            "min_delta_mode": self.min_delta_mode,
            "smoothing": self.smoothing,
            "smoothing_window": self.smoothing_window,
        }
