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


def seed_layer_infos(input_shape: tuple = (28, 28, 1), classes: int = 10) -> list:
    """taps.LayerInfo of every layer of build_model(input_shape=..., classes=...), worked out from its
    layers (3×3 "valid" convolutions, 2×2 pooling) without Keras, so reading the seed's layers imports
    no TensorFlow."""
    from .taps import LayerInfo

    h, w, _ = input_shape
    infos = []

    def add(name, cls, kind, shape, activation=None):
        infos.append(LayerInfo(name=name, class_name=cls, kind=kind, shape=shape, channels=shape[-1],
                               side=shape[:2] if len(shape) == 3 else None, activation=activation))

    for conv, pool, maps in (("Conv2D_1", "Max_Pool_1", 32), ("Conv2D_2", "Max_Pool_2", 64), ("Conv2D_3", None, 128)):
        h, w = h - 2, w - 2
        add(conv, "Conv2D", "map", (h, w, maps), "relu")
        if pool:
            h, w = h // 2, w // 2
            add(pool, "MaxPooling2D", "other", (h, w, maps))
    add("Flatten", "Flatten", "other", (h * w * 128,))
    add("Dense_1", "Dense", "node", (100,), "relu")
    add("Dense_2", "Dense", "node", (classes,), "softmax")
    return infos
