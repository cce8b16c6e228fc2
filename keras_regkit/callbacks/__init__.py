"""Training callbacks, and the pieces `EarlyStopping` is built from.

`EarlyStopping` is a façade over small parts that other callbacks can use
too: stopping rules (`StoppingRule` and its subclasses, combined by
`AnyOf` / `AllOf`), a monitor per quantity (`monitor.Monitor`), the
custody of the best weights (`best_weights.BestWeights`) and structured
stop reasons (`stop_reason.StopReason`, `stop_reason.StopKind`).
"""

from keras_regkit.callbacks.early_stopping import EarlyStopping
from keras_regkit.callbacks.gap_monitor import GapMonitor
from keras_regkit.callbacks.schedule_callback import ScheduleCallback
from keras_regkit.callbacks.stopping_rules import AllOf
from keras_regkit.callbacks.stopping_rules import AnyOf
from keras_regkit.callbacks.stopping_rules import DivergenceThreshold
from keras_regkit.callbacks.stopping_rules import GeneralizationLoss
from keras_regkit.callbacks.stopping_rules import NonFinite
from keras_regkit.callbacks.stopping_rules import Patience
from keras_regkit.callbacks.stopping_rules import ProgressQuotient
from keras_regkit.callbacks.stopping_rules import StoppingRule
from keras_regkit.callbacks.stopping_rules import StoppingThreshold
from keras_regkit.callbacks.stopping_rules import UpStrips
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
