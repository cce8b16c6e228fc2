"""What `rk.layers` save beyond Keras's weights: the generator's state.

Keras saves no `SeedGenerator` state, so a reloaded layer used to restart
its masks from its seed. The kit's seeded layers save it beside their
weights (issue 19 §6) and continue the stream after `load_model`.
"""

import os

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "data")
NAMES = ["dc_conv", "drop_block", "drop_path", "cd", "dc_dense", "mc"]

# Shared by this process and the child: each layer's next two outputs in
# training mode on ones (their masks), and the generators' states.
NEXT_OUTPUTS = """
def next_outputs(model, names):
    import keras
    import numpy as np

    out = {}
    for name in names:
        layer = model.get_layer(name)
        out[name + "/state"] = keras.ops.convert_to_numpy(
            layer.seed_generator.state
        )
        x = np.ones((4, *layer.input.shape[1:]), "float32")
        for call in range(2):
            y = layer(x, training=True)
            out[f"{name}/{call}"] = keras.ops.convert_to_numpy(y)
    return out
"""
_namespace = {}
exec(NEXT_OUTPUTS, _namespace)
next_outputs = _namespace["next_outputs"]


def every_layer_model(seed=1):
    """A model with every `rk.layers` layer; ``seed=None``: unseeded."""

    def s(k):
        return None if seed is None else seed + k

    inputs = keras.Input((6, 8, 3))
    h = rk.layers.DropConnectConv2D(
        4, 3, rate=0.3, padding="same", seed=s(0), name="dc_conv"
    )(inputs)
    h = rk.layers.DropBlock2D(0.3, 3, seed=s(1), name="drop_block")(h)
    h = h + rk.layers.DropPath(0.3, seed=s(2), name="drop_path")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = rk.layers.ConcreteDropout(
        keras.layers.Dense(8), init_rate=0.3, seed=s(3), name="cd"
    )(h)
    h = rk.layers.DropConnectDense(6, rate=0.3, seed=s(4), name="dc_dense")(h)
    h = rk.layers.MCDropout(0.3, seed=s(5), name="mc")(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def _fit(model):
    rng = np.random.default_rng(0)
    model.compile("adam", "mse")
    model.fit(
        rng.normal(size=(16, 6, 8, 3)).astype("float32"),
        rng.normal(size=(16, 1)).astype("float32"),
        epochs=2,
        batch_size=4,
        verbose=0,
    )


@pytest.mark.new_process
def test_next_masks_after_load_in_a_new_process_equal_the_original(
    tmp_path,
):
    model = every_layer_model()
    _fit(model)
    model.save(tmp_path / "m.keras")
    expected = next_outputs(model, NAMES)

    # The test's power: the trained generators stand elsewhere than fresh
    # ones (same seeds and weights), so a restart would show.
    fresh = every_layer_model()
    fresh.set_weights(model.get_weights())
    restarted = next_outputs(fresh, NAMES)
    for name in NAMES:
        assert not np.array_equal(restarted[f"{name}/0"], expected[f"{name}/0"])

    helpers.run_python(
        NEXT_OUTPUTS
        + f"""
import keras
import numpy as np
import keras_regkit.layers

model = keras.models.load_model({str(tmp_path / "m.keras")!r})
np.savez({str(tmp_path / "child.npz")!r}, **next_outputs(model, {NAMES!r}))
"""
    )
    child = np.load(tmp_path / "child.npz")
    for key, value in expected.items():
        if key.endswith("/state"):
            np.testing.assert_array_equal(
                child[key].astype("int64"), value.astype("int64"), err_msg=key
            )
        else:
            np.testing.assert_array_equal(
                child[key] == 0, value == 0, err_msg=f"{key}: masks"
            )
            np.testing.assert_allclose(
                child[key], value, rtol=1e-6, err_msg=key
            )


def test_weights_only_files_carry_the_state(tmp_path):
    model = every_layer_model()
    _fit(model)
    model.save_weights(tmp_path / "m.weights.h5")
    target = every_layer_model()
    target.load_weights(tmp_path / "m.weights.h5")
    expected = next_outputs(model, NAMES)
    got = next_outputs(target, NAMES)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-6, err_msg=key)


def test_weights_are_unchanged_and_unseeded_layers_save_no_state():
    seeded, unseeded = every_layer_model(), every_layer_model(seed=None)
    # The state is saved beside the weights, never as one of them.
    assert len(seeded.weights) == len(unseeded.weights)
    assert not any("seed_generator" in w.path for w in seeded.weights)
    for name in NAMES:
        store = {}
        seeded.get_layer(name).save_own_variables(store)
        assert "seed_generator_state" in store, name
        store = {}
        unseeded.get_layer(name).save_own_variables(store)
        assert "seed_generator_state" not in store, name


def test_unseeded_layer_ignores_a_saved_state(tmp_path):
    # Unseeded layers draw fresh masks in every process, as Keras's do.
    seeded = every_layer_model()
    _fit(seeded)
    seeded.save_weights(tmp_path / "m.weights.h5")
    unseeded = every_layer_model(seed=None)
    before = {
        name: keras.ops.convert_to_numpy(
            unseeded.get_layer(name).seed_generator.state
        )
        for name in NAMES
    }
    unseeded.load_weights(tmp_path / "m.weights.h5")
    for name in NAMES:
        after = unseeded.get_layer(name).seed_generator.state
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(after), before[name], err_msg=name
        )


def test_a_file_saved_before_the_state_was_saved_still_loads(tmp_path):
    # Written by keras_regkit 24336a5 (tests/data/make_24336a5_files.py):
    # no generator states, no schedule indices; DropConnect's "rate"
    # entries. tests/test_old_files_load.py checks its outputs and
    # penalties in a new process; here, the state it lacked.
    path = os.path.join(DATA, "layers_24336a5.keras")
    loaded = keras.models.load_model(path)
    expected = np.load(os.path.join(DATA, "layers_24336a5.npz"))
    # The scheduled rates stand where they were saved (0.5), read from
    # the variables; the generators start from their seeds.
    for name in ["dc_conv", "drop_block", "dc_dense", "mc"]:
        assert loaded.get_layer(name).rate == 0.5, name
    assert loaded.get_layer("drop_path").rate == 0.2
    for name, seed in [("dc_conv", 1), ("drop_block", 2), ("mc", 6)]:
        state = loaded.get_layer(name).seed_generator.state
        assert keras.ops.convert_to_numpy(state).tolist() == [seed, 0]
    # Saved again, it carries the states: MCDropout drew at predict.
    loaded.predict(expected["x"], verbose=0)
    state = keras.ops.convert_to_numpy(
        loaded.get_layer("mc").seed_generator.state
    )
    assert state.tolist() != [6, 0]
    loaded.save(tmp_path / "again.keras")
    again = keras.models.load_model(tmp_path / "again.keras")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(again.get_layer("mc").seed_generator.state),
        state,
    )
