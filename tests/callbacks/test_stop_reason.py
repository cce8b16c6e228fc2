"""Tests for structured stop reasons (`callbacks.early_stopping.reason`)."""

import json
import math
import pickle

from callbacks.stopping_helpers import driven

import keras_regkit as rk
from keras_regkit.callbacks.early_stopping.reason import StopKind

EarlyStopping = rk.callbacks.EarlyStopping


def test_stop_reason_is_a_string_with_a_kind():
    stopper = driven(
        EarlyStopping(patience=1, check_finite=True),
        [{"val_loss": v} for v in [1.0, math.inf]],
    )
    reason = stopper.stop_reason
    assert reason.kind is StopKind.NON_FINITE and reason.kind == "non_finite"
    assert (
        str(reason) == reason.message == "val_loss is inf, not a finite number"
    )
    assert reason == "val_loss is inf, not a finite number"
    assert json.dumps(reason) == json.dumps(reason.message)
    assert pickle.loads(pickle.dumps(reason)).kind is StopKind.NON_FINITE
    # Kept across a resume.
    state = json.loads(json.dumps(stopper.get_state()))
    assert state["stop_reason"] == {
        "kind": "non_finite",
        "message": "val_loss is inf, not a finite number",
    }
    resumed = EarlyStopping(patience=1, check_finite=True)
    resumed.set_state(state)
    assert resumed.stop_reason.kind is StopKind.NON_FINITE
