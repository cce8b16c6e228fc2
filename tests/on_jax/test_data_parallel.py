"""keras.distribution.DataParallel over two host devices, in a subprocess.

XLA_FLAGS must be set before JAX starts, hence a process of its own
(`helpers.run_on_two_jax_devices`).
"""

import helpers
import keras
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX backend only"
)

_SCRIPT = """
import keras, numpy as np
import keras_regkit as rk
keras.distribution.set_distribution(keras.distribution.DataParallel())
keras.utils.set_random_seed(0)
reg = rk.regularizers.L2(rk.schedules.Linear(0.0, 1e-2, duration=2))
model = keras.Sequential([
    keras.Input((6, 8, 1)),
    keras.layers.Conv2D(4, 3, padding="same", kernel_regularizer=reg),
    rk.layers.DropBlock2D(0.2, 3, seed=1),
    rk.layers.DropPath(0.1, seed=2),
    keras.layers.Flatten(),
    rk.layers.DropConnectDense(1, 0.2, seed=3),
])
model.compile("adam", "mse")
rng = np.random.default_rng(0)
x = rng.normal(size=(32, 6, 8, 1)).astype("float32")
y = rng.normal(size=(32, 1)).astype("float32")
stop = rk.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
history = model.fit(x, y, epochs=4, batch_size=8, verbose=0,
    validation_data=(x, y),
    callbacks=[rk.callbacks.ScheduleCallback(), stop])
assert np.isfinite(history.history["loss"]).all()
assert history.history["l2"][:2] == [0.0, 0.005], history.history["l2"]
best = min(history.history["val_loss"])
val = model.evaluate(x, y, verbose=0)
assert abs(val - best) < 1e-4 * max(1, abs(best)), (val, best)
print("OK")
"""


@pytest.mark.slow
@pytest.mark.compat("EarlyStopping", "JAX")
def test_data_parallel_two_host_devices():
    helpers.run_on_two_jax_devices(_SCRIPT, timeout=240)
