"""Diagnostics: is the model overfitting, would more data help, how much
regularization?

scikit-learn's ``learning_curve`` and ``validation_curve`` for Keras
models, plus paired comparisons and a diagnosis in words:

- `learning_curve`: error against the number of training examples;
- `validation_curve`: error against a hyperparameter, with the best and
  the one-standard-error values;
- `compare`: variants on the same seeds, paired differences with a t
  confidence interval;
- `diagnose`: high variance, high bias, or fine, with the evidence.

Every study is a list of trials run by `run_trials`: one line per
finished trial with the time left, and a results file to resume from. With
`keras_tuner_runner` they run as a KerasTuner search, on a KerasTuner
cluster too (optional: keras-tuner).
"""

from keras_regkit.diagnostics._keras_tuner import keras_tuner_runner
from keras_regkit.diagnostics._stats import PairedInterval
from keras_regkit.diagnostics._stats import paired_interval
from keras_regkit.diagnostics._stats import t_cdf
from keras_regkit.diagnostics._stats import t_ppf
from keras_regkit.diagnostics._trials import Trial
from keras_regkit.diagnostics._trials import run_trials
from keras_regkit.diagnostics._trials import sequential_runner
from keras_regkit.diagnostics.compare import compare
from keras_regkit.diagnostics.comparison import ComparisonResult
from keras_regkit.diagnostics.diagnose import Diagnosis
from keras_regkit.diagnostics.diagnose import diagnose
from keras_regkit.diagnostics.learning_curve import learning_curve
from keras_regkit.diagnostics.result import LearningCurveResult
from keras_regkit.diagnostics.result import ValidationCurveResult
from keras_regkit.diagnostics.validation_curve import validation_curve

__all__ = [
    "ComparisonResult",
    "Diagnosis",
    "LearningCurveResult",
    "PairedInterval",
    "Trial",
    "ValidationCurveResult",
    "compare",
    "diagnose",
    "keras_tuner_runner",
    "learning_curve",
    "paired_interval",
    "run_trials",
    "sequential_runner",
    "t_cdf",
    "t_ppf",
    "validation_curve",
]
