"""The diagnostics tests' fixture: a compiled `ExactLinear` builder."""

import pytest
from diagnostics._linear import WEIGHTS
from diagnostics._linear import ExactLinear


@pytest.fixture
def exact_linear():
    def build(ridge=0.0, l2=0.0):
        model = ExactLinear(len(WEIGHTS), ridge=ridge, l2=l2)
        model.compile("sgd", "mse")
        return model

    return build
