"""Exactly the seed's network, with the seed's layer names."""
from __future__ import annotations

LAYERS = ["Conv2D_1", "Max_Pool_1", "Conv2D_2", "Max_Pool_2", "Conv2D_3", "Flatten", "Dense_1", "Dense_2"]
PARAMETERS = 208_982


SEED_MIN_SIDE = 18  # three 3×3 convolutions and two 2×2 poolings need this much image


def build_model(l2: float = 0.0, input_shape: tuple = (28, 28, 1), classes: int = 10):
    """The seed network; other image sizes, channels and class counts change only its first and last
    layers' shapes (the default is exactly the seed's: 208,982 parameters)."""
    import keras
    from keras import layers

    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    conv = dict(kernel_size=(3, 3), activation="relu", kernel_regularizer=reg)
    return keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),
            layers.Conv2D(32, name="Conv2D_1", **conv),
            layers.MaxPooling2D((2, 2), name="Max_Pool_1"),
            layers.Conv2D(64, name="Conv2D_2", **conv),
            layers.MaxPooling2D((2, 2), name="Max_Pool_2"),
            layers.Conv2D(128, name="Conv2D_3", **conv),
            layers.Flatten(name="Flatten"),
            layers.Dense(100, activation="relu", kernel_regularizer=reg, name="Dense_1"),
            layers.Dense(classes, activation="softmax", kernel_regularizer=reg, name="Dense_2"),
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
