"""Files saved by an earlier kit load unchanged after the modules moved.

The registered names (``keras_regkit>DropBlock2D``, ...) do not depend on
module paths, so a ``.keras`` file keeps loading whatever moves inside the
package. Each fixture under tests/data was saved by commit 24336a5
(``make_24336a5_files.py``, which also wrote what that version computed on
the file it had just loaded); here they are loaded in one new process
after a bare ``import keras_regkit``, as a user's next session would,
and each must give the same outputs, penalties and classes.
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


def load(path, npz):
    data = np.load(npz)
    model = keras.models.load_model(path)
    reader = model
    if str(data["output_layer"]):
        layer = model.get_layer(str(data["output_layer"]))
        reader = keras.Model(model.input, layer.output)
    outputs = reader(data["x"], training=False)
    return {
        "outputs": keras.ops.convert_to_numpy(outputs).tolist(),
        "penalties": [
            float(keras.ops.convert_to_numpy(v)) for v in model.losses
        ],
        "classes": [
            keras.saving.get_registered_name(type(obj))
            for obj in [model, *model.layers]
        ],
        "scale_biases": getattr(model, "scale_biases", None),
    }


print(json.dumps({path: load(path, npz) for path, npz in FILES}))
"""


def _loadable(path):
    """AugmentationLayer runs on the TensorFlow backend only."""
    return not path.stem.startswith("augment") or (
        keras.backend.backend() == "tensorflow"
    )


@pytest.fixture(scope="module")
def loaded_in_a_new_process():
    """What one new process computed on every loadable fixture."""
    files = [
        (str(path), str(path.with_suffix(".npz")))
        for path in FIXTURES
        if _loadable(path)
    ]
    result = helpers.run_python(f"FILES = {files!r}\n" + _LOAD)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_fixture_has_its_expected_values():
    names = {path.stem.split("_")[0] for path in FIXTURES}
    assert {"layers", "regularizers", "l2sp", "sam", "augment"} <= names
    for path in FIXTURES:
        assert path.with_suffix(".npz").is_file(), path


@pytest.mark.new_process
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_loads_in_a_new_process_with_the_same_numbers(
    path, loaded_in_a_new_process
):
    if not _loadable(path):
        pytest.skip("AugmentationLayer runs on the TensorFlow backend")
    found = loaded_in_a_new_process[str(path)]
    expected = np.load(path.with_suffix(".npz"))
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
