"""Weight regularizers: drop-in L1/L2/L1L2, elastic net, group lasso and
orthogonality.

Every strength may be a float or a schedule (`keras_regkit.schedules`),
updated during `fit` by `keras_regkit.callbacks.ScheduleCallback`.
"""

from keras_regkit.regularizers._apply import apply
from keras_regkit.regularizers._registry import deserialize
from keras_regkit.regularizers._registry import get
from keras_regkit.regularizers._registry import serialize
from keras_regkit.regularizers.elastic_net import ElasticNet
from keras_regkit.regularizers.group_lasso import GroupLasso
from keras_regkit.regularizers.l1_l2 import L1
from keras_regkit.regularizers.l1_l2 import L1L2
from keras_regkit.regularizers.l1_l2 import L2
from keras_regkit.regularizers.l2_sp import L2SP
from keras_regkit.regularizers.l2_sp import apply_l2sp
from keras_regkit.regularizers.orthogonal import Orthogonal

__all__ = [
    "ElasticNet",
    "GroupLasso",
    "L1",
    "L1L2",
    "L2",
    "L2SP",
    "Orthogonal",
    "apply",
    "apply_l2sp",
    "deserialize",
    "get",
    "serialize",
]
