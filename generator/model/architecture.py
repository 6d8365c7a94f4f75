"""Exactly the seed's network, with the seed's layer names."""
from __future__ import annotations

LAYERS = ["Conv2D_1", "Max_Pool_1", "Conv2D_2", "Max_Pool_2", "Conv2D_3", "Flatten", "Dense_1", "Dense_2"]
CONV_LAYERS = ["Conv2D_1", "Conv2D_2", "Conv2D_3"]
CHANNELS = {"Conv2D_1": 32, "Conv2D_2": 64, "Conv2D_3": 128}  # maps per convolutional layer
SIDES = {"Conv2D_1": 26, "Conv2D_2": 11, "Conv2D_3": 3}  # each map is SIDE × SIDE
PARAMETERS = 208_982


def build_model(l2: float = 0.0):
    import keras
    from keras import layers

    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    conv = dict(kernel_size=(3, 3), activation="relu", kernel_regularizer=reg)
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, name="Conv2D_1", **conv),
            layers.MaxPooling2D((2, 2), name="Max_Pool_1"),
            layers.Conv2D(64, name="Conv2D_2", **conv),
            layers.MaxPooling2D((2, 2), name="Max_Pool_2"),
            layers.Conv2D(128, name="Conv2D_3", **conv),
            layers.Flatten(name="Flatten"),
            layers.Dense(100, activation="relu", kernel_regularizer=reg, name="Dense_1"),
            layers.Dense(10, activation="softmax", kernel_regularizer=reg, name="Dense_2"),
        ],
        name="seed_cnn",
    )


def summary_rows(model) -> list[dict]:
    """The seed's `summary()` as data: layer, type, output shape, parameters."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape)
        rows.append({"name": layer.name, "type": layer.__class__.__name__,
                     "shape": "(None, " + ", ".join(str(s) for s in shape[1:]) + ")",
                     "params": int(layer.count_params())})
    return rows


def check_architecture(model, source: str) -> None:
    """Raise a one-line UserError when a loaded model is not the seed network."""
    from ..errors import UserError

    names = [layer.name for layer in getattr(model, "layers", [])]
    if names != LAYERS:
        raise UserError(f"{source}: not the seed architecture (layers {', '.join(names) or 'none'})")
    reference = build_model()
    for mine, ref in zip(model.layers, reference.layers):
        try:
            shape, params = tuple(mine.output.shape), mine.count_params()
        except (AttributeError, ValueError) as err:  # a layer that was never built has no shape
            raise UserError(f"{source}: layer {mine.name} has no output shape ({err.__class__.__name__})") from None
        if shape != tuple(ref.output.shape) or params != ref.count_params():
            raise UserError(f"{source}: layer {mine.name} has shape {shape} "
                            f"and {params} parameters, expected {tuple(ref.output.shape)} "
                            f"and {ref.count_params()}")
