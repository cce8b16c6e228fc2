"""Training callbacks."""

from keras_regkit.callbacks.schedule_callback import ScheduleCallback

__all__ = ["ScheduleCallback"]
