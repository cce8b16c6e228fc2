"""Files saved by an earlier kit load unchanged after the modules moved.

The registered names (``keras_regkit>DropBlock2D``, ...) do not depend on
module paths, so a ``.keras`` file keeps loading whatever moves inside the
package. Each fixture under tests/data was saved by commit 24336a5
(``make_24336a5_files.py``, which also wrote what that version computed on
the file it had just loaded); here each is loaded in a new process after
a bare ``import keras_regkit``, as a user's next session would, and must
give the same outputs, penalties and classes.
"""

import json
import pathlib

import helpers
import keras
import numpy as np
import pytest

DATA = pathlib.Path(__file__).parent / "data"
FIXTURES = sorted(DATA.glob("*_24336a5.keras"))

_LOAD = """
import json

import keras
import numpy as np

import keras_regkit

data = np.load(NPZ)
model = keras.models.load_model(PATH)
reader = model
if str(data["output_layer"]):
    layer = model.get_layer(str(data["output_layer"]))
    reader = keras.Model(model.input, layer.output)
outputs = reader(data["x"], training=False)
print(json.dumps({
    "outputs": keras.ops.convert_to_numpy(outputs).tolist(),
    "penalties": [
        float(keras.ops.convert_to_numpy(v)) for v in model.losses
    ],
    "classes": [
        keras.saving.get_registered_name(type(obj))
        for obj in [model, *model.layers]
    ],
    "scale_biases": getattr(model, "scale_biases", None),
}))
"""


def test_every_fixture_has_its_expected_values():
    names = {path.stem.split("_")[0] for path in FIXTURES}
    assert {"layers", "regularizers", "l2sp", "sam", "augment"} <= names
    for path in FIXTURES:
        assert path.with_suffix(".npz").is_file(), path


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_loads_in_a_new_process_with_the_same_numbers(path):
    if path.stem.startswith("augment") and (
        keras.backend.backend() != "tensorflow"
    ):
        pytest.skip("AugmentationLayer runs on the TensorFlow backend")
    npz = path.with_suffix(".npz")
    code = f"PATH = {str(path)!r}\nNPZ = {str(npz)!r}\n" + _LOAD
    result = helpers.run_python(code)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    expected = np.load(npz)
    np.testing.assert_allclose(
        found["outputs"], expected["outputs"], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        found["penalties"], expected["penalties"], rtol=1e-5, atol=1e-9
    )
    assert found["classes"] == expected["classes"].tolist()
    if path.stem.startswith("sam"):
        # Saved before `scale_biases` existed: ASAM scaled every tensor.
        assert found["scale_biases"] is True
