"""An honest measure of the generalization gap during training.

The ``loss`` and ``accuracy`` that `fit` reports are running averages over
the epoch, computed with dropout and augmentation active while the weights
change under them: not the training error of the final weights, and often
worse than the validation error ("why is my validation loss lower than my
training loss?"). `GapMonitor` evaluates the model in inference mode, with
the weights of the end of the epoch, on a fixed subset of the training
data, and logs the result next to the validation metrics:

    train_clean_<metric>   the metric on the training subset
    gap_<metric>           validation minus training, signed so that a
                           positive gap means overfitting

for a metric that decreases as the model improves (a loss, an error)
``gap = val - train_clean``; for one that increases (accuracy, AUC)
``gap = train_clean - val``. The direction is the one the metric declares
(Keras's losses and metrics do); a metric that declares none (a plain
function) needs ``mode={name: "min" | "max"}``, else the first gap raises
rather than guess a sign.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from keras_regkit import _validation
from keras_regkit.callbacks.direction import infer_direction

_MODES = ("min", "max")
_MODE = (
    "'auto' or a dict giving the direction of metrics that declare none, "
    "{name: 'min' or 'max'} ('max' if higher is better)"
)
_TRAIN_DATA = (
    "training data: an (x, y) or (x, y, sample_weight) tuple of arrays, or "
    "an iterable of such batches (e.g. a tf.data.Dataset); data is not "
    "part of the config, pass it again after from_config"
)


def _is_array(value) -> bool:
    return hasattr(value, "shape") and not hasattr(value, "element_spec")


def _length(structure) -> int:
    return int(keras.tree.flatten(structure)[0].shape[0])


def _take(structure, indices):
    return keras.tree.map_structure(lambda a: np.asarray(a)[indices], structure)


def _as_tuple(data, name, owner):
    """``(x, y, sample_weight or None)`` from a tuple of arrays.

    Every leaf must be an array (something with a shape) and all must
    have the same number of examples, at least one.
    """
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise _validation.invalid(name, _TRAIN_DATA, data, owner=owner)
    x, y, *weights = data
    weight = weights[0] if weights else None
    leaves = keras.tree.flatten((x, y) if weight is None else (x, y, weight))
    if not leaves or not all(
        hasattr(leaf, "shape") and len(leaf.shape) >= 1 for leaf in leaves
    ):
        raise _validation.invalid(
            name, _TRAIN_DATA, data, owner=owner, error=TypeError
        )
    counts = {int(leaf.shape[0]) for leaf in leaves}
    if len(counts) != 1 or 0 in counts:
        raise _validation.invalid(
            name,
            "arrays with the same number of examples (at least one)",
            f"<arrays of lengths {sorted(counts)}>",
            owner=owner,
        )
    return x, y, weight


def materialize(data, size, name="train_data", owner="GapMonitor"):
    """The first ``size`` examples of a dataset of batches, as numpy.

    Args:
        data: An iterable of ``(x, y)`` or ``(x, y, sample_weight)``
            batches.
        size: How many examples to keep.

    Returns:
        ``(x, y, sample_weight or None)`` numpy structures.
    """
    parts = []
    count = 0
    for batch in data:
        x, y, weight = _as_tuple(tuple(batch), name, owner)
        batch = tuple(
            None
            if part is None
            else keras.tree.map_structure(keras.ops.convert_to_numpy, part)
            for part in (x, y, weight)
        )
        parts.append(batch)
        count += _length(batch[0])
        if count >= size:
            break
    if not parts:
        raise _validation.invalid(name, _TRAIN_DATA, data, owner=owner)
    has_weight = parts[0][2] is not None
    x, y, weight = (
        keras.tree.map_structure(
            lambda *a: np.concatenate(a)[:size], *[p[i] for p in parts]
        )
        if i < 2 or has_weight
        else None
        for i in range(3)
    )
    return x, y, weight


@keras.saving.register_keras_serializable(package="keras_regkit")
class GapMonitor(keras.callbacks.Callback):
    """Logs the training metrics in inference mode and the generalization gap.

    At the end of every ``every``-th epoch, the model is evaluated
    (``model.evaluate(..., verbose=0)``: inference mode, no dropout, no
    augmentation, the end-of-epoch weights) on a fixed subset of the
    training data, and for each metric ``m`` the logs get
    ``train_clean_m`` and ``gap_m``: ``val_m - train_clean_m`` for a
    metric that decreases when the model improves (losses, errors),
    ``train_clean_m - val_m`` for one that increases (accuracy, AUC; the
    direction Keras's metric declares, or ``mode`` gives), so a positive
    gap means overfitting. ``train_clean_loss`` includes the
    regularization penalties, as ``val_loss`` does. A metric that declares
    no direction (a plain function passed to ``compile(metrics=...)``) and
    is not in ``mode`` raises a `ValueError` naming ``mode`` at the first
    gap instead of logging a gap of unknown sign.

    The validation metrics are fit's own ``val_m`` (no extra cost), or
    come from evaluating ``validation_data`` if given (they are then also
    logged as ``val_m`` where fit logged none). An epoch on which fit did
    not validate (``validation_freq`` > 1) and without ``validation_data``
    logs ``train_clean_m`` only; pass ``every`` equal to fit's
    ``validation_freq`` to evaluate on the validated epochs only. If no
    checked epoch of a `fit` had validation metrics, a warning says so
    when training ends.

    The subset is drawn once: for arrays, ``subset`` examples chosen with
    ``seed`` when the callback is built; for a dataset, the first
    ``subset`` examples it yields, read at the beginning of the first
    `fit` (shuffle it with a fixed seed beforehand, or pass arrays). The
    cost per check is one evaluation of at most ``subset`` examples.

    **Order of callbacks.** Keras passes one logs dict to every callback,
    in list order, then to the progress bar and ``History`` (always
    last). Callbacks listed after `GapMonitor` (EarlyStopping with
    ``monitor="gap_loss"``, CSVLogger, TensorBoard) see its keys; list it
    first. The evaluation does not change fit's logged metrics (they are
    computed before ``on_epoch_end``) nor its training.

    Args:
        train_data: An ``(x, y)`` or ``(x, y, sample_weight)`` tuple of
            arrays, or an iterable of such batches. Required (None only
            in the config: data is not part of it).
        validation_data: None (use fit's validation metrics), or data in
            the same forms, evaluated whole at each check.
        subset: The number of training examples evaluated (an int >= 1;
            all of them if there are fewer).
        every: Check at the end of every ``every``-th epoch (epochs
            ``every - 1``, ``2 * every - 1``, ..., as fit's
            ``validation_freq``).
        metrics: None (every metric ``evaluate`` returns, ``loss``
            included) or a list of metric names (non-empty strings).
        batch_size: The evaluation batch size (None: 32, Keras's default).
        seed: The seed that draws the subset of array data (any int).
        mode: ``"auto"``: every compared metric's direction is inferred
            (``loss`` and Keras's metrics declare it), or a dict
            ``{name: "min" | "max"}`` giving the direction of metrics that
            declare none, e.g. ``{"f1_score": "max"}`` for a plain
            function where higher is better (an entry also overrides a
            declared direction).

    Attributes:
        subset_data: The fixed subset, ``(x, y, sample_weight or None)``
            (None until drawn).
        history: One dict per check: ``"epoch"`` and the logged values.

    Example:
    >>> import keras, numpy as np
    >>> import keras_regkit as rk
    >>> x, y = np.random.rand(64, 3), np.random.rand(64, 1)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> gap = rk.callbacks.GapMonitor((x[:48], y[:48]), subset=16)
    >>> history = model.fit(x[:48], y[:48], validation_data=(x[48:], y[48:]),
    ...     epochs=2, verbose=0, callbacks=[gap])
    >>> sorted(k for k in history.history if "clean" in k or "gap" in k)
    ['gap_loss', 'train_clean_loss']
    >>> len(gap.subset_data[0])
    16
    """

    def __init__(
        self,
        train_data=None,
        validation_data=None,
        subset: int = 1024,
        every: int = 1,
        metrics: list[str] | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        mode: str | dict[str, str] = "auto",
    ):
        super().__init__()
        check = _validation
        self.subset = check.check_int("subset", subset, low=1, owner=self)
        self.every = check.check_int("every", every, low=1, owner=self)
        self.metrics = self._check_metrics(metrics)
        if batch_size is not None:
            batch_size = check.check_int(
                "batch_size", batch_size, low=1, owner=self
            )
        self.batch_size = batch_size
        self.seed = check.check_int("seed", seed, owner=self)
        self.mode = self._check_mode(mode)
        self.train_data = _check_data("train_data", train_data, self)
        self.validation_data = _check_data(
            "validation_data", validation_data, self
        )
        self.subset_data = None
        if train_data is not None and not _is_dataset(train_data):
            self.subset_data = self._draw(train_data)
        self._validation = None
        if validation_data is not None and not _is_dataset(validation_data):
            self._validation = _as_tuple(
                validation_data, "validation_data", self
            )
        self.history = []
        self._warned = False
        self._checked = False
        self._compared = False
        self._inputs = {}

    def _check_mode(self, mode):
        if isinstance(mode, str) and mode == "auto":
            return mode
        if not isinstance(mode, dict) or not all(
            isinstance(name, str) and name for name in mode
        ):
            error = ValueError if isinstance(mode, str) else TypeError
            raise _validation.invalid(
                "mode", _MODE, mode, owner=self, error=error
            )
        if not all(
            isinstance(value, str) and value in _MODES
            for value in mode.values()
        ):
            raise _validation.invalid("mode", _MODE, mode, owner=self)
        return dict(mode)

    def _direction(self, name: str) -> str:
        """``"min"`` or ``"max"``: which way metric ``name`` improves.

        ``mode``'s entry if it has one, else what the model's metric
        declares (``loss`` is minimised).

        Raises:
            ValueError: If neither says, naming ``mode``.
        """
        if isinstance(self.mode, dict) and name in self.mode:
            return self.mode[name]
        direction = infer_direction(self.model, name)
        if direction is None:
            raise _validation.invalid(
                "mode",
                f"a direction for metric {name!r}, which declares none (a "
                f"plain function?), so the sign of gap_{name} is unknown: "
                f"mode={{{name!r}: 'max'}} if higher is better, 'min' if "
                "lower",
                self.mode,
                owner=self,
            )
        return direction

    def _check_metrics(self, metrics):
        if metrics is None:
            return None
        if not isinstance(metrics, (list, tuple)) or not all(
            isinstance(name, str) and name for name in metrics
        ):
            raise _validation.invalid(
                "metrics",
                "None or a list of metric names",
                metrics,
                owner=self,
                error=TypeError,
            )
        return list(metrics)

    def _draw(self, data):
        x, y, weight = _as_tuple(data, "train_data", self)
        count = _length(x)
        size = min(self.subset, count)
        # Any int is a seed (negative ones wrap around, as numpy's own
        # generators only take non-negative ones).
        rng = np.random.default_rng(self.seed % 2**64)
        indices = np.sort(rng.choice(count, size=size, replace=False))
        return (
            _take(x, indices),
            _take(y, indices),
            None if weight is None else _take(weight, indices),
        )

    def get_config(self) -> dict:
        return {
            # Data is not configuration: pass it again after from_config.
            "train_data": None,
            "validation_data": None,
            "subset": self.subset,
            "every": self.every,
            "metrics": self.metrics,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "mode": self.mode if self.mode == "auto" else dict(self.mode),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def on_train_begin(self, logs=None):
        self._compared = False
        self._checked = False
        if self.subset_data is None:
            if self.train_data is None:
                raise _validation.invalid(
                    "train_data", _TRAIN_DATA, None, owner=self
                )
            self.subset_data = materialize(self.train_data, self.subset)

    def _evaluate(self, data):
        key = id(data)
        if key not in self._inputs:
            self._inputs[key] = _evaluation_input(data, self.batch_size or 32)
        x, kwargs = self._inputs[key]
        return self.model.evaluate(x, verbose=0, return_dict=True, **kwargs)

    def _validation_values(self, logs):
        if self.validation_data is None:
            return {
                key[len("val_") :]: value
                for key, value in logs.items()
                if key.startswith("val_")
            }
        if self._validation is not None:
            values = self._evaluate(self._validation)
        else:
            values = self.model.evaluate(
                self.validation_data, verbose=0, return_dict=True
            )
        for name, value in values.items():
            logs.setdefault(f"val_{name}", value)
        return values

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        logs = {} if logs is None else logs
        validation = self._validation_values(logs)
        train = self._evaluate(self.subset_data)
        names = self.metrics if self.metrics is not None else list(train)
        record = {"epoch": epoch}
        signs = {}
        for name in names:
            if name not in train:
                raise _validation.invalid(
                    "metrics",
                    f"names of metrics that evaluate returns ({sorted(train)})",
                    self.metrics,
                    owner=self,
                )
            if name in validation:
                # Before anything is logged: a gap without a direction
                # raises rather than being logged with a guessed sign.
                signs[name] = -1.0 if self._direction(name) == "max" else 1.0
        for name in names:
            record[f"train_clean_{name}"] = _scalar(train[name])
            if name in signs:
                difference = _scalar(validation[name]) - _scalar(train[name])
                record[f"gap_{name}"] = signs[name] * difference
        self._checked = True
        self._compared = self._compared or bool(signs)
        logs.update({k: v for k, v in record.items() if k != "epoch"})
        self.history.append(record)

    def on_train_end(self, logs=None):
        # Only now is it known that no epoch had validation metrics: with
        # fit's validation_freq > 1 the first epochs have none.
        if self._checked and not self._compared and not self._warned:
            self._warned = True
            warnings.warn(
                "GapMonitor: no checked epoch had validation metrics to "
                "compare with (fit has no validation_data, or its "
                "validation_freq never fell on a checked epoch, and "
                "GapMonitor was given no validation_data): only "
                "train_clean_* was logged.",
                stacklevel=2,
            )


def _evaluation_input(data, batch_size):
    """``(x, evaluate keywords)`` for a fixed ``(x, y, weight)`` tuple.

    On TensorFlow the arrays become one cached, batched `tf.data.Dataset`,
    built once: `evaluate` then skips converting the arrays at every call
    (measured 44 ms instead of 248 ms for 256 small images on 2 CPU
    cores, see bench/bench_swa_gap.py). Other backends get the arrays.
    """
    x, y, weight = data
    if keras.backend.backend() != "tensorflow":
        return x, {"y": y, "sample_weight": weight, "batch_size": batch_size}
    import tensorflow as tf

    parts = (x, y) if weight is None else (x, y, weight)
    dataset = tf.data.Dataset.from_tensor_slices(parts).batch(batch_size)
    return dataset.cache(), {}


def _check_data(name, data, owner):
    """``data`` if it is None, a tuple of arrays or an iterable of batches."""
    if data is None or isinstance(data, (tuple, list)):
        return data
    if (
        isinstance(data, (str, bytes))
        or _is_array(data)
        or not hasattr(data, "__iter__")
    ):
        raise _validation.invalid(
            name, _TRAIN_DATA, data, owner=owner, error=TypeError
        )
    return data


def _is_dataset(data) -> bool:
    """An iterable of batches rather than a tuple of arrays."""
    if isinstance(data, (tuple, list)):
        return False
    return not _is_array(data)


def _scalar(value) -> float:
    return float(np.asarray(value, dtype="float64").reshape(()))
