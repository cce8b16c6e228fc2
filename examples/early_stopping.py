"""EarlyStopping that never loses the best weights, with Prechelt's GL rule.

Trains an over-sized MLP on a small slice of scikit-learn's bundled digits
(no download) until it overfits, with `rk.callbacks.EarlyStopping`:

- ``restore_best_weights=True``: the model ends `fit` holding the weights of
  the epoch with the lowest validation loss;
- ``criterion="GL"``: Prechelt's generalization-loss rule stops as soon as
  the validation loss is more than 2% above its best so far, alongside
  the usual ``patience`` (the keywords build the rule objects
  ``rk.callbacks.GeneralizationLoss(2.0)`` and ``rk.callbacks.Patience(30)``,
  which ``rules=[...]`` takes directly); ``stop_reason.kind`` says which
  rule stopped;
- ``save_best_to``: the best weights are written atomically at each
  improvement, so even a killed process leaves a loadable file.

It then checks the three promises: the restored model's validation loss is
the best one seen, the file on disk holds the same weights, and
``restore()`` puts them back after a `fit` that died of an exception.

Run:
    pip install -e ".[demo]"
    python examples/early_stopping.py

``REGKIT_EXAMPLE_EPOCHS`` sets the epoch budget; ``REGKIT_EXAMPLE_OUT`` the
folder for the weights file (default ``./regkit-examples``).
"""

import os

import _digits
import keras
import numpy as np

import keras_regkit as rk

EPOCHS = int(os.environ.get("REGKIT_EXAMPLE_EPOCHS", "150"))
OUT = os.environ.get("REGKIT_EXAMPLE_OUT", "regkit-examples")
SEED = 0


def load_data():
    return _digits.load_data(train_size=150, test_size=400, seed=SEED)


def build_mlp(compile=True):
    model = _digits.build_mlp(512, seed=SEED)
    if not compile:
        return model
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


class FailAt(keras.callbacks.Callback):
    """Raises in the middle of training, as a crashing callback would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError(f"simulated crash at epoch {epoch + 1}")


def main():
    x_train, y_train, x_val, y_val = load_data()
    os.makedirs(OUT, exist_ok=True)
    best_file = os.path.join(OUT, "best.weights.h5")
    # The keywords build the rules; the same callback with the rules given
    # as objects: EarlyStopping(rules=[rk.callbacks.GeneralizationLoss(2.0),
    # rk.callbacks.Patience(30)], restore_best_weights=True, ...).
    stopper = rk.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=30,
        restore_best_weights=True,
        criterion="GL",
        criterion_threshold=2.0,
        save_best_to=best_file,
        verbose=1,
    )
    model = build_mlp()
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        batch_size=32,
        epochs=EPOCHS,
        verbose=0,
        callbacks=[stopper],
    )
    val_losses = history.history["val_loss"]
    print(f"ran {len(val_losses)} of {EPOCHS} epochs")
    reason = stopper.stop_reason  # a StopReason: the message, with a kind
    kind = f" (kind: {reason.kind})" if reason is not None else ""
    print(f"stop reason: {reason or 'ran out of epochs'}{kind}")
    print(
        f"best epoch {stopper.best_epoch + 1}: val_loss "
        f"{stopper.best_value:.4f}; last epoch: {val_losses[-1]:.4f}"
    )
    restored = model.evaluate(x_val, y_val, verbose=0)[0]
    print(f"model after fit: val_loss {restored:.4f} (the best epoch's)")
    assert np.isclose(restored, min(val_losses), rtol=1e-4)

    from_disk = build_mlp(compile=False)
    from_disk.load_weights(best_file)
    same = np.allclose(
        from_disk.predict(x_val, verbose=0), model.predict(x_val, verbose=0)
    )
    print(f"{best_file} holds the same weights: {same}")
    assert same

    crashing = build_mlp()
    stopper = rk.callbacks.EarlyStopping(
        monitor="val_loss", restore_best_weights=True, patience=50
    )
    crash_epoch = max(EPOCHS // 3, 1)
    try:
        crashing.fit(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            epochs=EPOCHS,
            verbose=0,
            callbacks=[stopper, FailAt(crash_epoch)],
        )
    except RuntimeError as error:
        print(f"fit died: {error}; on_train_end never ran")
    stopper.restore()
    recovered = crashing.evaluate(x_val, y_val, verbose=0)[0]
    print(
        f"after restore(): val_loss {recovered:.4f} = best "
        f"{stopper.best_value:.4f} (epoch {stopper.best_epoch + 1})"
    )
    assert np.isclose(recovered, stopper.best_value, rtol=1e-4)


if __name__ == "__main__":
    main()
