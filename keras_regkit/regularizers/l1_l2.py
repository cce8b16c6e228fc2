"""L1, L2 and L1L2: drop-in replacements for Keras's, plus the textbook form.

Keras adds a regularizer's penalty to the loss of every batch, and the loss
of a batch is a mean over its examples. So Keras's ``L2(l2)`` trains on

    mean_batch_loss + l2 * sum(w ** 2).

The textbook (course-notes) form writes the cost over m training examples
as

    J = (1/m) * sum_i loss_i + lam / (2m) * sum(w ** 2)        (L2)
    J = (1/m) * sum_i loss_i + lam / m * sum(|w|)              (L1)

whose per-batch estimate is the Keras form with ``l2 = lam / (2m)``
(``l1 = lam / m``). ``L2(lam=lam, num_examples=m)`` does that conversion
for you; ``lam`` may be scheduled like any strength.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_regkit import _validation
from keras_regkit.regularizers import _base

_KERAS_DEFAULT = 0.01


def _strength(owner, value, default, lam, num_examples, name, divisor):
    """Builds the `ScheduledValue` for Keras's or the textbook form."""
    if lam is None:
        if num_examples is not None:
            raise _validation.invalid(
                "num_examples",
                "None unless `lam` is given (the textbook form)",
                num_examples,
                owner=owner,
            )
        value = default if value is None else value
        return owner.strength(value, name)
    if value is not None and value != default:
        raise _validation.invalid(
            name,
            f"None when `lam` is given: pass either `{name}` (Keras's "
            "per-batch form) or `lam` and `num_examples` (the textbook form)",
            value,
            owner=owner,
        )
    if num_examples is None:
        raise _validation.invalid(
            "num_examples",
            "the number of training examples m (an integer >= 1) when "
            "`lam` is given",
            num_examples,
            owner=owner,
        )
    num_examples = _validation.check_int(
        "num_examples", num_examples, low=1, owner=owner
    )
    return owner.strength(lam, "lam", scale=1.0 / (divisor * num_examples))


def _textbook_config(name, strength, num_examples):
    if num_examples is None:
        return {
            name: strength.config_value(),
            "lam": None,
            "num_examples": None,
        }
    return {
        name: None,
        "lam": strength.config_value(),
        "num_examples": num_examples,
    }


def l1_penalty(x, strength):
    """``strength * sum(|x|)`` in ``x``'s dtype."""
    return strength.read(x.dtype) * ops.sum(ops.absolute(x))


def l2_penalty(x, strength):
    """``strength * sum(x ** 2)`` in ``x``'s dtype."""
    return strength.read(x.dtype) * ops.sum(ops.square(x))


@keras.saving.register_keras_serializable(package="keras_regkit")
class L1(_base.Regularizer):
    """L1 penalty, ``l1 * sum(|w|)``: a drop-in for `keras.regularizers.L1`.

    Args:
        l1: Strength, a float >= 0 or a schedule (see
            `keras_regkit.schedules`). ``None`` means the default 0.01.
        lam: The textbook λ: the penalty becomes ``lam / m * sum(|w|)``
            with ``m = num_examples`` (see the module docstring for why
            that equals the cost λ/m·Σ|w| of the course notes). A float or
            a schedule.
        num_examples: m, the number of training examples; required with
            ``lam``.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.regularizers import L1
    >>> w = np.array([1.0, -2.0], "float32")
    >>> float(L1(0.1)(w))
    0.30000001192092896
    >>> float(L1(lam=1.0, num_examples=10)(w))  # lam / num_examples
    0.30000001192092896
    >>> model = keras.Sequential([keras.Input((3,)),
    ...     keras.layers.Dense(1, kernel_regularizer=L1(1e-4))])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=1, verbose=0)
    """

    def __init__(self, l1=_KERAS_DEFAULT, *, lam=None, num_examples=None):
        self._l1 = _strength(
            self, l1, _KERAS_DEFAULT, lam, num_examples, "l1", 1
        )
        self.num_examples = None if lam is None else int(num_examples)

    @property
    def l1(self):
        """The effective per-batch strength (Keras's form), now."""
        return self._l1.current

    def __call__(self, x):
        return l1_penalty(x, self._l1)

    def arguments_config(self):
        return _textbook_config("l1", self._l1, self.num_examples)


@keras.saving.register_keras_serializable(package="keras_regkit")
class L2(_base.Regularizer):
    """L2 penalty, ``l2 * sum(w ** 2)``: a drop-in for `keras.regularizers.L2`.

    Args:
        l2: Strength, a float >= 0 or a schedule (see
            `keras_regkit.schedules`). ``None`` means the default 0.01.
        lam: The textbook λ: the penalty becomes ``lam / (2m) * sum(w**2)``
            with ``m = num_examples``, the per-batch form of the cost
            J = loss + λ/(2m)·Σ‖w‖² (see the module docstring). A float or a
            schedule.
        num_examples: m, the number of training examples; required with
            ``lam``.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.regularizers import L2
    >>> w = np.array([1.0, -2.0], "float32")
    >>> float(L2(0.5)(w))
    2.5
    >>> float(L2(lam=1.0, num_examples=10)(w))  # lam / (2 num_examples)
    0.25
    >>> model = keras.Sequential([keras.Input((3,)),
    ...     keras.layers.Dense(1, kernel_regularizer=L2(1e-4))])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=1, verbose=0)
    """

    def __init__(self, l2=_KERAS_DEFAULT, *, lam=None, num_examples=None):
        self._l2 = _strength(
            self, l2, _KERAS_DEFAULT, lam, num_examples, "l2", 2
        )
        self.num_examples = None if lam is None else int(num_examples)

    @property
    def l2(self):
        """The effective per-batch strength (Keras's form), now."""
        return self._l2.current

    def __call__(self, x):
        return l2_penalty(x, self._l2)

    def arguments_config(self):
        return _textbook_config("l2", self._l2, self.num_examples)


@keras.saving.register_keras_serializable(package="keras_regkit")
class L1L2(_base.Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``: a drop-in for Keras's `L1L2`.

    Args:
        l1: L1 strength, a float >= 0 or a schedule; ``None`` means 0.
        l2: L2 strength, a float >= 0 or a schedule; ``None`` means 0.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> reg = rk.regularizers.L1L2(l1=0.1, l2=0.5)
    >>> float(reg(np.array([1.0, -2.0], "float32")))
    2.799999952316284
    >>> layer = keras.layers.Dense(1, kernel_regularizer=reg)
    >>> model = keras.Sequential([keras.Input((3,)), layer])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=1, verbose=0)
    """

    def __init__(self, l1=0.0, l2=0.0):
        self._l1 = self.strength(0.0 if l1 is None else l1, "l1")
        self._l2 = self.strength(0.0 if l2 is None else l2, "l2")

    @property
    def l1(self):
        return self._l1.current

    @property
    def l2(self):
        return self._l2.current

    def __call__(self, x):
        penalty = ops.convert_to_tensor(0.0, dtype=x.dtype)
        if not self._l1.is_zero():
            penalty += l1_penalty(x, self._l1)
        if not self._l2.is_zero():
            penalty += l2_penalty(x, self._l2)
        return penalty

    def arguments_config(self):
        return {"l1": self._l1.config_value(), "l2": self._l2.config_value()}
