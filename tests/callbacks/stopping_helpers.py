"""Helpers shared by the stopping tests: a dummy model, driving the hooks.

Imported as ``from callbacks import stopping_helpers`` (tests/conftest.py
puts the tests folder on ``sys.path``).
"""


class DummyModel:
    """Not a Keras model: weights are the epoch number (as in Keras's test)."""

    def __init__(self):
        self.stop_training = False
        self.weights = -1

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights


def drive(stopper, curve, model=None, key="val_loss", set_epoch=None):
    """Runs the hooks over a curve; returns the number of epochs run.

    ``curve`` is a list of values for ``key`` or a list of logs dicts.
    ``set_epoch(model, epoch)`` sets the weights of a model that is not a
    `DummyModel`; a `DummyModel`'s weights are the epoch number.
    """
    model = DummyModel() if model is None else model
    stopper.set_model(model)
    stopper.on_train_begin()
    epochs = 0
    for epoch, entry in enumerate(curve):
        epochs += 1
        if set_epoch is not None:
            set_epoch(model, epoch)
        elif isinstance(model, DummyModel):
            model.weights = epoch
        logs = dict(entry) if isinstance(entry, dict) else {key: entry}
        stopper.on_epoch_end(epoch, logs=logs)
        if model.stop_training:
            break
    stopper.on_train_end()
    return epochs


def driven(stopper, logs_per_epoch):
    """Runs the hooks over a list of logs dicts; returns the stopper."""
    drive(stopper, logs_per_epoch)
    return stopper


def resume(stopper, curve, start, key="val_loss"):
    """Continues a stopper on a new `DummyModel` from epoch ``start``.

    Feeds ``curve[start:]`` as values for ``key``; returns the stopper.
    """
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    for epoch in range(start, len(curve)):
        stopper.on_epoch_end(epoch, {key: curve[epoch]})
        if stopper.model.stop_training:
            break
    return stopper
