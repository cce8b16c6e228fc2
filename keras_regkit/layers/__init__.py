"""Dropout-family layers that Keras 3 lacks.

DropBlock, stochastic depth (DropPath), DropConnect, Monte Carlo dropout
and concrete dropout. Every ``rate`` may be a float or a schedule
(`keras_regkit.schedules`) moved by
`keras_regkit.callbacks.ScheduleCallback` without retracing.
"""

from keras_regkit.layers.concrete_dropout import ConcreteDropout
from keras_regkit.layers.drop_block import DropBlock1D
from keras_regkit.layers.drop_block import DropBlock2D
from keras_regkit.layers.drop_block import DropBlock3D
from keras_regkit.layers.drop_connect import DropConnectConv2D
from keras_regkit.layers.drop_connect import DropConnectDense
from keras_regkit.layers.drop_path import DropPath
from keras_regkit.layers.drop_path import StochasticDepth
from keras_regkit.layers.drop_path import drop_path_rates
from keras_regkit.layers.mc_dropout import MCDropout
from keras_regkit.layers.mc_dropout import mc_predict

__all__ = [
    "ConcreteDropout",
    "DropBlock1D",
    "DropBlock2D",
    "DropBlock3D",
    "DropConnectConv2D",
    "DropConnectDense",
    "DropPath",
    "MCDropout",
    "StochasticDepth",
    "drop_path_rates",
    "mc_predict",
]
