"""Training callbacks."""

from keras_regkit.callbacks.early_stopping import EarlyStopping
from keras_regkit.callbacks.schedule_callback import ScheduleCallback

__all__ = [
    "EarlyStopping",
    "ScheduleCallback",
]
