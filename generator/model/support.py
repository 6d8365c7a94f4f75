"""What the gallery can open: one image input, one class output, and convolutions it can cut at.

Checked when the config is checked (`make check`), before any data is read, so a model the engine
cannot handle is one line naming the layer, not a failure minutes into a build.
"""
from __future__ import annotations

from ..errors import UserError

MAP_LAYERS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")
MIN_SIDE = 8


def check_model(model, source: str) -> None:
    import keras

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
        if isinstance(layer, keras.Model):
            raise UserError(f"{source}: layer {layer.name!r} is a nested model; the engine cannot cut "
                            f"inside it (build the model from its layers directly)")
        if layer.__class__.__name__ in MAP_LAYERS and getattr(layer, "data_format", "channels_last") != "channels_last":
            raise UserError(f"{source}: layer {layer.name!r} is {layer.data_format}; only channels_last "
                            f"convolutions are supported")
    if not any(layer.__class__.__name__ in MAP_LAYERS for layer in model.layers):
        raise UserError(f"{source}: the model has no Conv2D, SeparableConv2D or DepthwiseConv2D layer to show")


def check_fits_data(model, source: str, image_shape: tuple, n_classes: int) -> None:
    """The data must be what the model takes: same image shape, as many classes as it scores."""
    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    if shape != tuple(image_shape):
        raise UserError(f"{source}: the model takes {'×'.join(map(str, shape))} images but the data's are "
                        f"{'×'.join(map(str, image_shape))}")
    classes = int(model.outputs[0].shape[-1])
    if classes < n_classes:
        raise UserError(f"{source}: the model scores {classes} classes but the labels go up to {n_classes - 1}")


def outputs_probabilities(model) -> bool:
    """True when the last layer ends in a softmax; else the outputs are logits (softmax applied to show them)."""
    last = model.layers[-1]
    if last.__class__.__name__ == "Softmax":
        return True
    activation = getattr(last, "activation", None)
    return getattr(activation, "__name__", "") == "softmax"
