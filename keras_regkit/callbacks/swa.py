"""Stochastic weight averaging (SWA) as a callback.

SWA (Izmailov et al., 2018) averages the weights visited at the end of the
last epochs of training, optionally with a constant (or annealed to a
constant) learning rate, and uses the average for inference: a flatter,
better-generalizing solution at the cost of one more copy of the weights.
The BatchNormalization statistics of the average are not the average of
the statistics: they are recomputed with one pass over training data
(`keras_regkit.training.recompute_batch_norm`, the equivalent of
PyTorch's ``torch.optim.swa_utils.update_bn``).

The running average is a `WeightAverage` (``weight_average.py``):
non-trainable variables created beside the weights (same devices, same
`tf.distribute` strategy), updated with ``keras.ops`` and
``Variable.assign`` only, so the callback works on every backend and under
``MirroredStrategy``.

Reference:
    Pavel Izmailov, Dmitrii Podoprikhin, Timur Garipov, Dmitry Vetrov,
    Andrew Gordon Wilson, "Averaging Weights Leads to Wider Optima and
    Better Generalization", UAI 2018.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import keras
import numpy as np

from keras_regkit import _keras_internals
from keras_regkit import _validation
from keras_regkit.callbacks.weight_average import WeightAverage
from keras_regkit.callbacks.weight_snapshot import WeightSnapshot
from keras_regkit.training import batch_norm

ANNEAL_STRATEGIES = ("cos", "linear")


def swa_learning_rate(
    epoch: int,
    start_epoch: int,
    initial_lr: float,
    swa_lr: float,
    anneal_epochs: int = 0,
    anneal_strategy: str = "cos",
) -> float:
    """The learning rate of epoch ``epoch`` under SWA's schedule.

    Before ``start_epoch``: ``initial_lr``. From ``start_epoch`` on, the
    rate moves from ``initial_lr`` to ``swa_lr`` over ``anneal_epochs``
    epochs and stays there: epoch ``start_epoch + k`` uses

        initial_lr + (swa_lr - initial_lr) * a(min(1, (k + 1) / anneal_epochs))

    with ``a(t) = (1 - cos(pi t)) / 2`` (``"cos"``) or ``a(t) = t``
    (``"linear"``); with ``anneal_epochs=0`` the first SWA epoch already
    uses ``swa_lr``.

    Example:
    >>> [round(swa_learning_rate(e, 2, 0.1, 0.01, 2, "linear"), 4)
    ...  for e in range(5)]
    [0.1, 0.1, 0.055, 0.01, 0.01]
    """
    if epoch < start_epoch:
        return initial_lr
    if anneal_epochs == 0:
        return swa_lr
    t = min(1.0, (epoch - start_epoch + 1) / anneal_epochs)
    factor = (
        t if anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2
    )
    return initial_lr + (swa_lr - initial_lr) * factor


@keras.saving.register_keras_serializable(package="keras_regkit")
class SWA(keras.callbacks.Callback):
    """Stochastic weight averaging: averages the weights of the last epochs.

    From the start epoch on, at the end of every epoch, the model's
    trainable weights are added to a running arithmetic mean kept in
    non-trainable variables on the weights' devices (``avg += (w - avg) /
    n``). At the end of training (``swap_at_end=True``) the average is
    swapped into the model and, if ``bn_data`` is given, the
    BatchNormalization statistics are recomputed for it with one pass over
    ``bn_data`` (`rk.training.recompute_batch_norm`). `swap` (or the
    `averaged` context manager) swaps the average in and back out at any
    time, e.g. to evaluate it mid-training. Non-trainable weights other
    than the BatchNormalization statistics keep their current values.

    **Learning rate.** With ``swa_lr`` set, the optimizer's learning rate
    is set at the beginning of each epoch from the start epoch on, annealed
    from its current value to ``swa_lr`` over ``anneal_epochs`` epochs
    (`swa_learning_rate`), and left at ``swa_lr`` after training. An
    optimizer whose learning rate is a `LearningRateSchedule` (or a
    callable) cannot be set: `fit` then fails at once with an error naming
    ``swa_lr`` (use ``swa_lr=None`` to keep the schedule, or a float
    learning rate).

    **With EarlyStopping.** Keras calls the callbacks' ``on_train_end`` in
    list order, so when ``EarlyStopping(restore_best_weights=True)`` and
    ``SWA(swap_at_end=True)`` are both used, the one listed last decides
    the final weights. List SWA after EarlyStopping to end with the
    average (of the epochs run so far, stopped early or not); its
    `swap` then puts EarlyStopping's best weights back. Listed before a
    callback with ``restore_best_weights=True``, SWA warns at
    ``on_train_begin``: the model ends with that callback's weights and
    ``swapped`` is False (`swap` and `averaged` swap the average in over
    them). If training stops before the start epoch, nothing was
    averaged: SWA warns and leaves the weights alone.

    **Several fits.** A `fit` whose first epoch follows the last epoch of
    the previous one (``fit(epochs=8, initial_epoch=4)`` after
    ``fit(epochs=4)``) continues the run: the average swapped in at the
    end of the previous fit is swapped out (training goes on from the
    weights it replaced), the average keeps its epochs (unless this fit
    resolves ``start`` to a later epoch than the first one averaged: a
    fractional ``start`` is a fraction of the new ``epochs``) and the
    learning rate keeps annealing from the rate before SWA. Split this
    way, training and the average are those of one uninterrupted `fit`
    (bar randomness, such as a shuffle, that differs between fits). Any
    other `fit` starts a new run: the average restarts, and training
    starts from the weights the model holds (the average, if swapped in).

    Memory: two extra copies of the trainable weights (the average, and
    the model's own weights kept while the average is swapped in; the
    latter includes the non-trainable ones).

    Args:
        start: When averaging starts: an int, the (0-based) epoch index, or
            a float in (0, 1], the fraction of ``fit``'s ``epochs`` after
            which it starts (``0.75``: the last quarter). Resolved at the
            beginning of `fit`; a start at or beyond the number of epochs
            raises there.
        swa_lr: None (leave the learning rate alone) or the SWA learning
            rate, a float > 0.
        anneal_epochs: Epochs over which the rate moves to ``swa_lr``
            (0: at once).
        anneal_strategy: ``"cos"`` or ``"linear"``.
        bn_data: None, or the data for the BatchNormalization pass when
            the average is swapped in: input arrays, an ``(x, y)`` tuple or
            a finite dataset of batches. Not part of the config (None
            there). A model with BatchNormalization layers and no
            ``bn_data`` warns at the beginning of `fit`.
        bn_batch_size: Batch size for array ``bn_data``.
        swap_at_end: Swap the average in at the end of `fit`.
        verbose: 0 silent, 1 prints when averaging starts and when the
            average is swapped in.

    Attributes:
        start_epoch: The resolved start epoch (after `fit` began).
        n_averaged: How many epochs' weights are in the average.
        swapped: Whether the average is in the model now (read-only;
            checked against the model's weights, so False once another
            callback, ``set_weights`` or ``load_weights`` replaced it).

    Example:
    >>> import keras, numpy as np
    >>> import keras_regkit as rk
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.1), "mse")
    >>> swa = rk.callbacks.SWA(start=2, swa_lr=0.05)
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=4,
    ...     verbose=0, callbacks=[swa])
    >>> swa.start_epoch, swa.n_averaged, swa.swapped
    (2, 2, True)
    >>> round(float(model.optimizer.learning_rate), 4)
    0.05

    Reference:
        Izmailov et al., "Averaging Weights Leads to Wider Optima and
        Better Generalization", UAI 2018.
    """

    def __init__(
        self,
        start: int | float = 0.75,
        swa_lr: float | None = None,
        anneal_epochs: int = 0,
        anneal_strategy: str = "cos",
        bn_data=None,
        bn_batch_size: int = 32,
        swap_at_end: bool = True,
        verbose: int = 0,
    ):
        super().__init__()
        check = _validation
        self.start = self._check_start(start)
        if swa_lr is not None:
            swa_lr = check.check_float(
                "swa_lr", swa_lr, low=0, low_inclusive=False, owner=self
            )
        self.swa_lr = swa_lr
        self.anneal_epochs = check.check_int(
            "anneal_epochs", anneal_epochs, low=0, owner=self
        )
        self.anneal_strategy = check.check_choice(
            "anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES, owner=self
        )
        self.bn_data = batch_norm.check_batch_norm_data(
            "bn_data", bn_data, owner=self
        )
        self.bn_batch_size = check.check_int(
            "bn_batch_size", bn_batch_size, low=1, owner=self
        )
        self.swap_at_end = check.check_bool(
            "swap_at_end", swap_at_end, owner=self
        )
        self.verbose = check.check_int("verbose", verbose, low=0, owner=self)
        self.start_epoch = None
        self._swapped = False
        self._average = None
        self._backup = None
        self._initial_lr = None
        self._first_averaged = None  # the first epoch in the average
        self._last_epoch = None  # the last epoch that ended, across fits
        self._fit_begins = False

    def _check_start(self, start):
        expected = (
            "an int >= 0 (the epoch averaging starts at) or a float in "
            "(0, 1] (the fraction of the epochs after which it starts)"
        )
        if isinstance(start, (bool, np.bool_)) or not isinstance(
            start, (int, float, np.integer, np.floating)
        ):
            raise _validation.invalid(
                "start", expected, start, owner=self, error=TypeError
            )
        if isinstance(start, (float, np.floating)):
            if not 0.0 < start <= 1.0:
                raise _validation.invalid("start", expected, start, owner=self)
            return float(start)
        if start < 0:
            raise _validation.invalid("start", expected, start, owner=self)
        return int(start)

    def get_config(self) -> dict:
        return {
            "start": self.start,
            "swa_lr": self.swa_lr,
            "anneal_epochs": self.anneal_epochs,
            "anneal_strategy": self.anneal_strategy,
            # Data is not configuration: pass it again after from_config.
            "bn_data": None,
            "bn_batch_size": self.bn_batch_size,
            "swap_at_end": self.swap_at_end,
            "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # Averaging.

    @property
    def average_weights(self) -> list | None:
        """The averaged trainable weights as numpy arrays, or None."""
        if self.n_averaged == 0:
            return None
        return self._average.numpy()

    @property
    def n_averaged(self) -> int:
        """How many epochs' weights are in the average."""
        return 0 if self._average is None else self._average.count

    def _resolve_start(self, epochs):
        if epochs is None:
            raise RuntimeError(
                "SWA: `fit` did not pass its number of epochs (params"
                "['epochs']): call set_params or use SWA inside fit."
            )
        if isinstance(self.start, float):
            start_epoch = min(int(math.floor(self.start * epochs)), epochs - 1)
        else:
            start_epoch = self.start
        if start_epoch >= epochs:
            raise _validation.invalid(
                "start",
                f"an epoch before the end of training (fit runs epochs 0 to "
                f"{epochs - 1})",
                self.start,
                owner=self,
            )
        return start_epoch

    def _check_learning_rate_settable(self):
        optimizer = self.model.optimizer
        try:
            optimizer.learning_rate = float(
                keras.ops.convert_to_numpy(optimizer.learning_rate)
            )
        except (TypeError, AttributeError) as error:
            raise _validation.invalid(
                "swa_lr",
                "None when the optimizer's learning rate is a "
                "LearningRateSchedule or a callable (SWA cannot set it; use "
                "a float learning rate, or swa_lr=None to keep the schedule)",
                self.swa_lr,
                owner=self,
            ) from error

    @property
    def swapped(self) -> bool:
        """Whether the average is in the model now.

        Checked against the model's trainable weights when the average was
        swapped in: if something replaced it since (a callback listed
        after SWA, ``set_weights``, ``load_weights``), this is False, and
        the weights SWA kept when it swapped the average in are forgotten
        (the model's current ones are kept at the next `swap`).
        """
        if self._swapped and not self._average.in_variables():
            self._swapped = False
        return self._swapped

    def on_train_begin(self, logs=None):
        epochs = (self.params or {}).get("epochs")
        self.start_epoch = self._resolve_start(epochs)
        self._fit_begins = True
        self._warn_if_overridden()
        if self.swa_lr is not None:
            self._check_learning_rate_settable()
        if self.bn_data is None and batch_norm.batch_norm_layers(self.model):
            warnings.warn(
                "SWA: the model has BatchNormalization layers but no "
                "`bn_data` was given: the averaged weights will be used "
                "with the statistics of the last weights. Pass bn_data "
                "(e.g. the training inputs) to recompute them.",
                stacklevel=2,
            )
        variables = list(self.model.trainable_weights)
        if self._average is None or not self._average.matches(variables):
            # Another model (or its variables were rebuilt): a new run.
            self._average = WeightAverage(variables)
            self._swapped = False
            self._last_epoch = None

    def _warn_if_overridden(self):
        """Warns if a callback listed after SWA restores other weights."""
        if not self.swap_at_end:
            return
        callbacks = _keras_internals.calling_callbacks(self) or []
        index = next(
            (i for i, other in enumerate(callbacks) if other is self), None
        )
        if index is None:
            return
        for other in callbacks[index + 1 :]:
            if getattr(other, "restore_best_weights", False) is True:
                name = type(other).__name__
                warnings.warn(
                    f"SWA is listed before {name}(restore_best_weights="
                    f"True), whose on_train_end runs after SWA's: this fit "
                    f"will end with {name}'s best weights, not with the "
                    "average (swa.swapped is then False; swa.swap() or "
                    "`with swa.averaged():` put the average in). List SWA "
                    f"after {name} to end with the average.",
                    stacklevel=3,
                )
                return

    def _begin_fit(self, epoch):
        """At the first epoch of a fit: continue the last run, or not."""
        if not self._fit_begins:
            return
        self._fit_begins = False
        continuing = self._last_epoch is not None and (
            epoch == self._last_epoch + 1
        )
        if self.swapped:
            if continuing:
                self.swap()  # train on from the weights the average replaced
            else:
                self._swapped = False  # a new run starts from the average
        if not (
            continuing
            and self.n_averaged > 0
            and self._first_averaged >= self.start_epoch
        ):
            self._average.reset()
            self._first_averaged = None
        if not continuing:
            self._initial_lr = None

    def on_epoch_begin(self, epoch, logs=None):
        self._begin_fit(epoch)
        if self.swa_lr is None:
            return
        optimizer = self.model.optimizer
        if epoch < self.start_epoch:
            if self._initial_lr is not None:
                # A continued run whose start moved later (fractional
                # start): before it, the rate from before SWA.
                optimizer.learning_rate = self._initial_lr
            return
        if self._initial_lr is None:
            self._initial_lr = float(
                keras.ops.convert_to_numpy(optimizer.learning_rate)
            )
        optimizer.learning_rate = swa_learning_rate(
            epoch,
            self.start_epoch,
            self._initial_lr,
            self.swa_lr,
            self.anneal_epochs,
            self.anneal_strategy,
        )

    def on_epoch_end(self, epoch, logs=None):
        self._begin_fit(epoch)
        self._last_epoch = epoch
        if epoch < self.start_epoch:
            return
        if self.n_averaged == 0:
            self._first_averaged = epoch
            if self.verbose:
                print(f"SWA: averaging from epoch {epoch + 1}.")
        self._average.add()

    def on_train_end(self, logs=None):
        if not self.swap_at_end or self.swapped:
            return
        if self.n_averaged == 0:
            warnings.warn(
                f"SWA: training ended before the start epoch "
                f"({self.start_epoch}): nothing was averaged, the weights "
                "are left as they are.",
                stacklevel=2,
            )
            return
        self.swap()

    # Swapping.

    def swap(self) -> None:
        """Swaps the average into the model, or the model's weights back.

        If the average is not in the model (`swapped` is False), keeps the
        model's weights (all of them) and assigns the average to the
        trainable ones, then recomputes the BatchNormalization statistics
        with ``bn_data`` if given; otherwise puts the kept weights back.

        Raises:
            RuntimeError: If nothing was averaged yet.
        """
        if not self.swapped:
            if self.n_averaged == 0:
                raise RuntimeError(
                    "SWA.swap(): nothing was averaged yet (averaging starts "
                    f"at epoch {self.start_epoch})."
                )
            weights = list(self.model.weights)
            if self._backup is None or not self._backup.matches(weights):
                self._backup = WeightSnapshot(weights)
            self._backup.capture()
            self._average.restore()
            if self.bn_data is not None:
                batch_norm.recompute_batch_norm(
                    self.model, self.bn_data, self.bn_batch_size
                )
            self._swapped = True
            if self.verbose:
                print(f"SWA: the average of {self.n_averaged} epochs is in.")
        else:
            self._backup.restore()
            self._swapped = False

    @contextlib.contextmanager
    def averaged(self):
        """A context in which the model holds the averaged weights.

        Example (after some averaging)::

            with swa.averaged():
                model.evaluate(x_val, y_val)
        """
        was_swapped = self.swapped
        if not was_swapped:
            self.swap()
        try:
            yield self.model
        finally:
            if not was_swapped:
                self.swap()
