"""A bigger model for the gallery: a CIFAR-sized ResNet (32×32 RGB, 336 maps in 7 map layers) trained
briefly on coloured MNIST, saved with its data, and a config to build its gallery.

    .venv/bin/python scripts/resnet_example.py [OUT]          # default OUT: examples/resnet
    .venv/bin/python -m generator build --config OUT/config.yaml --out OUT/site

The data: real MNIST digits (the 24k file if it is there, else the bundled sample) padded to 32×32 and
tinted with a random colour per image, so the network must use shape, not colour. Nothing here is
downloaded. The README's "Bigger models" gives this machine's times for the build.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def coloured_mnist(n_train: int = 6000, n_test: int = 2000, seed: int = 0) -> dict[str, np.ndarray]:
    from generator.data.sources import SAMPLE_FILE

    full = ROOT.parent / "shared" / "data" / "mnist-24k.npz"
    rng = np.random.default_rng(seed)
    with np.load(full if full.exists() else SAMPLE_FILE) as d:
        parts = {"train": (d["x_train"][:n_train], d["y_train"][:n_train]), "test": (d["x_test"][:n_test], d["y_test"][:n_test])}
    out = {}
    for name, (x, y) in parts.items():
        padded = np.pad(x, ((0, 0), (2, 2), (2, 2))).astype(np.float32) / 255.0
        tint = rng.uniform(0.3, 1.0, (len(x), 1, 1, 3)).astype(np.float32)
        background = rng.uniform(0.0, 0.25, (len(x), 1, 1, 3)).astype(np.float32)
        rgb = background + padded[..., None] * (tint - background)
        out[f"x_{name}"], out[f"y_{name}"] = np.round(rgb * 255).astype(np.uint8), y.astype(np.uint8)
    return out


def resnet(classes: int = 10):
    """Stem, then three stages of one residual block each (16, 32, 64 filters), global pooling, softmax."""
    import keras
    from keras import layers

    def block(x, filters: int, stride: int, name: str):
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"{name}_conv1")(x)
        # momentum 0.9: the moving statistics settle within a short training (at keras's 0.99 a
        # 2-epoch model scored 90 % in training but 41 % in evaluation mode on the test set)
        y = layers.Activation("relu", name=f"{name}_relu1")(layers.BatchNormalization(momentum=0.9, name=f"{name}_bn1")(y))
        y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
        y = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn2")(y)
        if stride != 1 or x.shape[-1] != filters:
            x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_shortcut")(x)
        return layers.Activation("relu", name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, y]))

    inp = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(inp)
    for filters, stride, name in ((16, 1, "stage1"), (32, 2, "stage2"), (64, 2, "stage3")):
        x = block(x, filters, stride, name)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, layers.Dense(classes, activation="softmax", name="classes")(x), name="resnet_cifar")


def main(out: Path) -> None:
    import keras

    out.mkdir(parents=True, exist_ok=True)
    data = coloured_mnist()
    np.savez_compressed(out / "data.npz", **data)
    x = data["x_train"].astype(np.float32)
    mean, std = float(x.mean()), float(x.std())  # the gallery standardizes the same way (model card)
    keras.utils.set_random_seed(0)
    model = resnet()
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    test = ((data["x_test"].astype(np.float32) - mean) / std, data["y_test"])
    model.fit((x - mean) / std, data["y_train"], epochs=3, batch_size=64, verbose=2, validation_data=test)
    model.save(out / "model.keras")
    config = {"seed": 7, "data": {"dataset": "custom", "path": str((out / "data.npz").resolve()),
                                  "title": "Coloured MNIST, 32×32"},
              "model": {"path": str((out / "model.keras").resolve())},
              "site": {"title": "Inside a small ResNet"}}
    (out / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    maps = sum(lay.filters for lay in model.layers if isinstance(lay, keras.layers.Conv2D))
    print(f"wrote {out}/model.keras ({model.count_params():,} parameters, {maps} maps), data.npz, config.yaml")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "resnet")
