"""Receptive fields read from the model's own layers (not constants): which input pixels one
position of a layer's maps can see, so a page can crop a test image where a map fires."""
from __future__ import annotations


def field(model, layer_name: str) -> tuple[int, int, int]:
    """(size, jump, start) of one position of `layer_name` along each image axis: position i sees
    input pixels start + i*jump … start + i*jump + size - 1 (start < 0 with 'same' padding)."""
    size, jump, start = 1, 1, 0
    for lay in _path(model, layer_name):
        kernel, stride, padding = _window(lay)
        if kernel is None:
            continue
        if padding == "same":
            start -= ((kernel - 1) // 2) * jump  # Keras pads the smaller half first
        size += (kernel - 1) * jump
        jump *= stride
    return size, jump, start


def box(rf: tuple[int, int, int], row: int, col: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), clipped to the image, of what position (row, col) sees."""
    size, jump, start = (int(v) for v in rf)
    top, left = start + row * jump, start + col * jump
    return max(top, 0), max(left, 0), min(top + size, height), min(left + size, width)


def _path(model, layer_name: str) -> list:
    """The layers from the input up to and including `layer_name`, in order."""
    import keras

    body = [lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)]
    names = [lay.name for lay in body]
    return body[: names.index(layer_name) + 1]


def _window(lay) -> tuple:
    """(kernel, stride, padding) of a layer that slides a window (square windows), else (None, ...)."""
    kernel = getattr(lay, "kernel_size", None) or getattr(lay, "pool_size", None)
    if kernel is None:
        return None, 1, "valid"
    dilation = getattr(lay, "dilation_rate", (1, 1))[0]
    k = (int(kernel[0]) - 1) * int(dilation) + 1
    stride = int((getattr(lay, "strides", None) or kernel)[0])
    return k, stride, getattr(lay, "padding", "valid")
