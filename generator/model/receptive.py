"""Receptive fields read from the model's own layers (not constants): which input pixels one
position of a layer's maps can see, so a page can crop a test image where a map fires."""
from __future__ import annotations


def field(model, layer_name: str) -> tuple[int, int, int]:
    """(size, jump, start) of one position of `layer_name` along each image axis: position i sees
    input pixels start + i*jump … start + i*jump + size - 1 (start < 0 with 'same' padding). Read along
    the graph's real edges, so a shortcut convolution counts only the layers it actually follows; where
    branches merge (Add, Concatenate) a position sees the union of what each branch sees."""
    import keras

    memo: dict[str, tuple[int, int, int]] = {}

    def of(lay) -> tuple[int, int, int]:
        if isinstance(lay, keras.layers.InputLayer) or not lay._inbound_nodes:
            return 1, 1, 0
        if lay.name not in memo:
            branches = [of(parent.operation) for parent in lay._inbound_nodes[0].parent_nodes] or [(1, 1, 0)]
            begin = min(b[2] for b in branches)
            size, jump, start = max(b[2] + b[0] for b in branches) - begin, max(b[1] for b in branches), begin
            kernel, stride, padding = _window(lay)
            if kernel is not None:
                if padding == "same":
                    start -= ((kernel - 1) // 2) * jump  # Keras pads the smaller half first
                size += (kernel - 1) * jump
                jump *= stride
            memo[lay.name] = (size, jump, start)
        return memo[lay.name]

    return of(model.get_layer(layer_name))


def box(rf: tuple[int, int, int], row: int, col: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), clipped to the image, of what position (row, col) sees."""
    size, jump, start = (int(v) for v in rf)
    top, left = start + row * jump, start + col * jump
    return max(top, 0), max(left, 0), min(top + size, height), min(left + size, width)


def _window(lay) -> tuple:
    """(kernel, stride, padding) of a layer that slides a window (square windows), else (None, ...)."""
    kernel = getattr(lay, "kernel_size", None) or getattr(lay, "pool_size", None)
    if kernel is None:
        return None, 1, "valid"
    dilation = getattr(lay, "dilation_rate", (1, 1))[0]
    k = (int(kernel[0]) - 1) * int(dilation) + 1
    stride = int((getattr(lay, "strides", None) or kernel)[0])
    return k, stride, getattr(lay, "padding", "valid")
