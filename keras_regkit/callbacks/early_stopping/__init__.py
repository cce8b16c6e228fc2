"""Early stopping that never loses the best model, in small parts.

- `callback`: `EarlyStopping`, Keras's hooks and attributes;
- `run`: `StoppingRun`, the monitors, the rule and the history; epoch
  logs in, a `StopReason` or None out;
- `keywords`: Keras-style keywords to monitors and rules;
- `rules`: the `StoppingRule` protocol, `Patience`, the thresholds,
  `NonFinite`, and the `AnyOf` / `AllOf` combinators;
- `prechelt`: Prechelt's GL, PQ and UP criteria and their arithmetic;
- `reason`: `StopReason` and `StopKind`, why training stopped;
- `monitor`: `Monitor`, one quantity's direction, ``min_delta``,
  smoothing and best.

The custody of the best weights (`callbacks.best_weights.BestWeights`)
and the direction of a quantity (`callbacks.direction.infer_direction`)
are shared with other callbacks and live beside this package.
"""

from keras_regkit.callbacks.early_stopping.callback import EarlyStopping
from keras_regkit.callbacks.early_stopping.prechelt import GeneralizationLoss
from keras_regkit.callbacks.early_stopping.prechelt import ProgressQuotient
from keras_regkit.callbacks.early_stopping.prechelt import UpStrips
from keras_regkit.callbacks.early_stopping.reason import StopKind
from keras_regkit.callbacks.early_stopping.reason import StopReason
from keras_regkit.callbacks.early_stopping.rules import AllOf
from keras_regkit.callbacks.early_stopping.rules import AnyOf
from keras_regkit.callbacks.early_stopping.rules import DivergenceThreshold
from keras_regkit.callbacks.early_stopping.rules import NonFinite
from keras_regkit.callbacks.early_stopping.rules import Patience
from keras_regkit.callbacks.early_stopping.rules import StoppingRule
from keras_regkit.callbacks.early_stopping.rules import StoppingThreshold
from keras_regkit.callbacks.early_stopping.run import StoppingRun

__all__ = [
    "AllOf",
    "AnyOf",
    "DivergenceThreshold",
    "EarlyStopping",
    "GeneralizationLoss",
    "NonFinite",
    "Patience",
    "ProgressQuotient",
    "StopKind",
    "StopReason",
    "StoppingRule",
    "StoppingRun",
    "StoppingThreshold",
    "UpStrips",
]
