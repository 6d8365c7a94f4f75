"""What the gallery can open: one image input, one class output, and convolutions it can cut at
(after opening.open_model has inlined nested models, chosen the output and added a channel axis).

Checked when the config is checked (`make check`), before any data is read, so a model the engine
cannot handle is one line naming the layer, not a failure minutes into a build.
"""
from __future__ import annotations

from ..errors import UserError

MAP_LAYERS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")
MIN_SIDE = 8


def check_model(model, source: str) -> None:
    """Of the model as opened (opening.open_model): what is still not an image classifier is refused."""
    if len(model.inputs) != 1:
        raise UserError(f"{source}: the model has {len(model.inputs)} inputs; the gallery opens models "
                        f"with one image input")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4:
        raise UserError(f"{source}: the input {model.inputs[0].name!r} has shape {shape}, not an image "
                        f"(batch, height, width, channels)")
    if shape[-1] not in (1, 3):
        raise UserError(f"{source}: the input has {shape[-1]} channels; 1 (gray) or 3 (RGB) are supported")
    if any(s is None or s < MIN_SIDE for s in shape[1:3]):
        raise UserError(f"{source}: the input is {shape[1]}×{shape[2]}; a fixed size of at least "
                        f"{MIN_SIDE}×{MIN_SIDE} is needed")
    if len(model.outputs) != 1 or len(model.outputs[0].shape) != 2:
        raise UserError(f"{source}: the model must have one output of class scores (batch, classes)")
    for layer in model.layers:
        if layer.__class__.__name__ in MAP_LAYERS and getattr(layer, "data_format", "channels_last") != "channels_last":
            raise UserError(f"{source}: layer {layer.name!r} is {layer.data_format}; only channels_last "
                            f"convolutions are supported")
    if not any(layer.__class__.__name__ in MAP_LAYERS for layer in model.layers):
        raise UserError(f"{source}: the model has no Conv2D, SeparableConv2D or DepthwiseConv2D layer to show")


def check_fits_data(model, source: str, image_shape: tuple, n_classes: int, named: bool = False) -> None:
    """The data must be what the model takes: same image shape, as many classes as it scores; names
    given in the config (named) must be one per class the model scores."""
    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    if shape != tuple(image_shape):
        raise UserError(f"{source}: the model takes {'×'.join(map(str, shape))} images but the data's are "
                        f"{'×'.join(map(str, image_shape))}")
    classes = int(model.outputs[0].shape[-1])
    if named and classes != n_classes:
        raise UserError(f"data.class_names: {n_classes} names but the model scores {classes} classes")
    if classes < n_classes:
        raise UserError(f"{source}: the model scores {classes} classes but the labels go up to {n_classes - 1}")


def outputs_probabilities(model) -> bool:
    """True when the last layer ends in a softmax; else the outputs are logits (softmax applied to show them)."""
    last = model.layers[-1]
    if last.__class__.__name__ == "Softmax":
        return True
    activation = getattr(last, "activation", None)
    return getattr(activation, "__name__", "") == "softmax"


# ---- the layers a config is checked against, and the defaults that follow the model ---------------

_GIVEN: dict = {}  # (path, mtime, size) -> the given model's layer list, read once per process


def seed_layers() -> list:
    """taps.LayerInfo of every layer of the seed network (28×28×1 input, as the checks read it),
    written out by architecture.seed_layer_infos instead of built with Keras: a config check, and so a
    build that reuses every stage, then never imports TensorFlow. tests/test_model_and_data.py checks
    it against taps.layers(build_model())."""
    if "seed" not in _GIVEN:
        from .architecture import seed_layer_infos

        _GIVEN["seed"] = seed_layer_infos()
    return _GIVEN["seed"]


def given_layers(path, model_cfg, root, model=None) -> list:
    """taps.LayerInfo of every layer of the model file at `path` as opened (loaded only the first time)."""
    from pathlib import Path

    stat = Path(path).stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, model_cfg.output, model_cfg.custom_objects_module)
    if key not in _GIVEN:
        from . import taps
        from .opening import load

        model = model if model is not None else load(path, model_cfg, root)[0]
        _GIVEN[key] = taps.layers(model)
    return _GIVEN[key]


def map_layer_names(rows) -> list[str]:
    """The map layers (Conv2D, SeparableConv2D, DepthwiseConv2D) among LayerInfo's or summary rows."""
    kind = lambda r: r["type"] if isinstance(r, dict) else r.class_name  # noqa: E731
    name = lambda r: r["name"] if isinstance(r, dict) else r.name  # noqa: E731
    return [name(r) for r in rows if kind(r) in MAP_LAYERS]


def summary_shape(rows, layer: str) -> tuple:
    """A layer's output shape (without the batch axis) from the model card's summary rows."""
    for row in rows:
        if row["name"] == layer:
            return tuple(int(s) for s in row["shape"].strip("()").split(", ")[1:])
    raise KeyError(layer)


def with_model_defaults(cfg, map_layers: list[str]):
    """`cfg` with the settings left empty filled from the model: oip.layers = all its map layers,
    dreams.layer = its last one."""
    from dataclasses import replace

    oip = cfg.oip if cfg.oip.layers is not None else replace(cfg.oip, layers=list(map_layers))
    dreams = cfg.dreams if cfg.dreams.layer is not None else replace(cfg.dreams, layer=map_layers[-1])
    return replace(cfg, oip=oip, dreams=dreams)
