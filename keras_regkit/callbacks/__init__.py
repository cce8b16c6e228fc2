"""Training callbacks, and the pieces `EarlyStopping` is built from.

`EarlyStopping` (the `early_stopping` package) is put together from small
parts: stopping rules (`StoppingRule` and its subclasses, combined by
`AnyOf` / `AllOf`), a `StoppingRun` that evaluates them each epoch, a
monitor per quantity (`early_stopping.monitor.Monitor`), the custody of
the best weights (`best_weights.BestWeights`) and structured stop reasons
(`early_stopping.StopReason`, `early_stopping.StopKind`).
"""

from keras_regkit.callbacks.early_stopping import AllOf
from keras_regkit.callbacks.early_stopping import AnyOf
from keras_regkit.callbacks.early_stopping import DivergenceThreshold
from keras_regkit.callbacks.early_stopping import EarlyStopping
from keras_regkit.callbacks.early_stopping import GeneralizationLoss
from keras_regkit.callbacks.early_stopping import NonFinite
from keras_regkit.callbacks.early_stopping import Patience
from keras_regkit.callbacks.early_stopping import ProgressQuotient
from keras_regkit.callbacks.early_stopping import StoppingRule
from keras_regkit.callbacks.early_stopping import StoppingThreshold
from keras_regkit.callbacks.early_stopping import UpStrips
from keras_regkit.callbacks.gap_monitor import GapMonitor
from keras_regkit.callbacks.schedule_callback import ScheduleCallback
from keras_regkit.callbacks.swa import SWA

__all__ = [
    "AllOf",
    "AnyOf",
    "DivergenceThreshold",
    "EarlyStopping",
    "GapMonitor",
    "GeneralizationLoss",
    "NonFinite",
    "Patience",
    "ProgressQuotient",
    "SWA",
    "ScheduleCallback",
    "StoppingRule",
    "StoppingThreshold",
    "UpStrips",
]
