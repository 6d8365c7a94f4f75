"""A chain model cut at a Conv2D or Dense layer, computed the fast way for gradient ascent.

The layers below the target run with kernel rewrites that give the same values as Keras (up to
float rounding) in a fraction of the time, forward and backward; the target itself can compute,
per batch row, only the one map that row is about. Use it through `taps.cut`, never directly.
"""
from __future__ import annotations


def is_conv2d(layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.Conv2D)


def is_separable(layer) -> bool:
    """A SeparableConv2D or DepthwiseConv2D: a map layer searched the stock way (all maps, one mask)."""
    return layer.__class__.__name__ in ("SeparableConv2D", "DepthwiseConv2D")


def is_relu(layer) -> bool:
    import keras

    return getattr(layer, "activation", None) is keras.activations.relu


def is_linear(layer) -> bool:
    activation = getattr(layer, "activation", None)
    return activation is None or activation.__name__ == "linear"


class Cut:
    """The network from its input up to one layer: `below` feeds the layer, the rest reads it.

    Weights are read inside whatever graph calls these methods, so later changes to the model's
    variables are seen.
    """

    def __init__(self, before, target, below=None):
        self.before, self.target = list(before), target
        self._below = below or (lambda x: below_target(self.before, x))
        self.relu = is_relu(target)

    def below(self, x):
        """The target layer's input for images x."""
        return self._below(x)

    def output(self, h):
        """The target's output from its input h (the stock layer call)."""
        return self.target(h)

    def preactivation(self, h):
        """All maps of the target before activation, (B, H, W, C); Dense units count as 1x1 maps."""
        return stock_preactivation(self.target, h)

    def per_row(self) -> bool:
        """Whether row_map can compute just each row's map (else: all maps and a one-hot mask)."""
        return per_row_ok(self.target) and (self.relu or is_linear(self.target))

    def row_setup(self, maps):
        """Loop-invariant per-row weights of the target (or just the map indices)."""
        return row_weights(self.target, maps) if self.per_row() else maps

    def row_map(self, h, prepared):
        """Per row b, its own map before and after activation: (z_map, a_map), each (B, H, W)."""
        import tensorflow as tf

        if self.per_row():
            z_map = row_preactivation(self.target, h, prepared)
            return z_map, (tf.nn.relu(z_map) if self.relu else z_map)
        # e.g. softmax: the row's unit depends on all units
        z = stock_preactivation(self.target, h)
        channel = tf.one_hot(prepared, z.shape[-1])[:, None, None, :]
        return (tf.reduce_sum(z * channel, axis=-1),
                tf.reduce_sum(self.target.activation(z) * channel, axis=-1))


def stock_preactivation(layer, h):
    """The layer's full output before its activation, as (B, H, W, C), computed the stock way."""
    import tensorflow as tf

    if is_conv2d(layer):
        z = layer.convolution_op(h, layer.kernel)
        return z + layer.bias if layer.use_bias else z
    if is_separable(layer):
        from keras import ops

        conv = dict(strides=layer.strides, padding=layer.padding, dilation_rate=layer.dilation_rate,
                    data_format=layer.data_format)
        if layer.__class__.__name__ == "DepthwiseConv2D":
            z = ops.depthwise_conv(h, layer.kernel, **conv)
        else:
            z = ops.separable_conv(h, layer.depthwise_kernel, layer.pointwise_kernel, **conv)
        return z + layer.bias if layer.use_bias else z
    z = tf.matmul(h, layer.kernel)
    z = z + layer.bias if layer.use_bias else z
    return z[:, None, None, :]


def row_weights(layer, maps):
    """Per row b, the weights of map maps[b] only, laid out for row_preactivation.

    Computed once per batch, outside the step loop (the gather is not free and never changes).
    """
    import tensorflow as tf

    bias = tf.gather(layer.bias, maps)[:, None, None] if layer.use_bias else tf.zeros([len(maps), 1, 1])
    if not is_conv2d(layer):
        return tf.transpose(tf.gather(layer.kernel, maps, axis=1)), bias  # (B, in)
    kh, kw, channels, _ = layer.kernel.shape
    kernels = tf.transpose(tf.gather(layer.kernel, maps, axis=3), [0, 1, 3, 2])  # (kh, kw, B, C)
    return tf.reshape(kernels, [kh, kw, -1, 1]), bias


def row_preactivation(layer, h, weights):
    """Per row b, only its own map of the layer before activation: (B, H, W).

    Computing all C maps and keeping one wastes C-1 of them (the full target convolution was a
    sixth of a Conv2D_3 step and two thirds of a Conv2D_2 step). Folding the batch into the channels turns "each
    row its own kernel" into one depthwise convolution; its channel sum is the row's map.
    """
    import tensorflow as tf

    kernels, bias = weights
    if not is_conv2d(layer):
        return tf.reduce_sum(h * kernels, axis=1)[:, None, None] + bias
    rows, height, width, channels = h.shape
    folded = tf.reshape(tf.transpose(h, [1, 2, 0, 3]), [1, height, width, rows * channels])
    out = tf.nn.depthwise_conv2d(folded, kernels, strides=[1, *layer.strides, 1],
                                 padding=layer.padding.upper(), dilations=tuple(layer.dilation_rate))
    out = tf.reduce_sum(tf.reshape(out, [out.shape[1], out.shape[2], rows, channels]), axis=-1)
    return tf.transpose(out, [2, 0, 1]) + bias


def per_row_ok(layer) -> bool:
    """Whether row_preactivation can compute this target."""
    import keras

    if isinstance(layer, keras.layers.Dense):
        return True
    return is_conv2d(layer) and layer.groups == 1 and layer.data_format == "channels_last" and (
        tuple(layer.strides) == (1, 1) or tuple(layer.dilation_rate) == (1, 1))


def below_target(layers, h):
    """Run the layers below the target. A ReLU convolution followed by a max-pool is computed as
    convolution -> pool -> bias -> ReLU: the same values (max commutes with adding a constant and
    with ReLU), but bias and ReLU, forward and backward, touch a quarter of the data."""
    import tensorflow as tf

    i = 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        if is_conv2d(layer) and is_relu(layer) and _plain_max_pool(following):
            h = _crop_to_pool(layer, following, h)
            z = tf.nn.max_pool2d(_conv_no_bias(layer, h), following.pool_size, following.strides,
                                 following.padding.upper())
            h = tf.nn.relu(z + layer.bias if layer.use_bias else z)
            i += 2
        elif is_conv2d(layer):
            z = _conv_no_bias(layer, h)
            h = layer.activation(z + layer.bias if layer.use_bias else z)
            i += 1
        else:
            # Inference, always: Keras 3's augmentation layers (RandomFlip, ...) default to
            # training=True when called directly, and would jitter every ascent step.
            h = layer(h, training=False)
            i += 1
    return h


def _crop_to_pool(conv, pool, h):
    """Drop the input rows/columns whose convolution outputs a VALID pool would discard anyway.

    For the seed's Conv2D_2 (11x11 output, pooled to 5x5) this skips a sixth of its work, forward
    and backward. The gradient is a plain pad: TensorFlow's own slice gradient is very slow here.
    """
    import tensorflow as tf

    if (pool.padding != "valid" or tuple(pool.strides) != tuple(pool.pool_size) or conv.padding != "valid"
            or tuple(conv.strides) != (1, 1) or tuple(conv.dilation_rate) != (1, 1)):
        return h
    _, height, width, _ = h.shape
    kh, kw = conv.kernel.shape[:2]
    (ph, pw) = pool.pool_size
    rows = (height - kh + 1) // ph * ph + kh - 1
    cols = (width - kw + 1) // pw * pw + kw - 1
    if (rows, cols) == (height, width):
        return h

    @tf.custom_gradient
    def crop(h):
        def grad(dy):
            return tf.pad(dy, [[0, 0], [0, height - rows], [0, width - cols], [0, 0]])

        return h[:, :rows, :cols, :], grad

    return crop(h)


def _plain_max_pool(layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.MaxPooling2D) and layer.data_format == "channels_last"


def _conv_no_bias(layer, h):
    import tensorflow as tf

    if _single_channel_conv(layer, h):
        return _conv_1ch(h, tf.convert_to_tensor(layer.kernel))
    return layer.convolution_op(h, layer.kernel)


def _single_channel_conv(layer, h) -> bool:
    return (h.shape[-1] == 1 and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            and layer.padding == "valid" and layer.data_format == "channels_last" and layer.groups == 1)


def _conv_1ch(x, kernel):
    """VALID stride-1 convolution of a one-channel image, with a faster input gradient.

    oneDNN's Conv2DBackpropInput is very slow when the input has a single channel (a third of a
    whole Conv2D_3 step); one matmul to per-tap gradients plus nine padded shifts computes the
    same sum in a quarter of the time.
    """
    import tensorflow as tf

    kh, kw, _, cout = kernel.shape
    taps = tf.reshape(kernel, [kh * kw, cout])

    @tf.custom_gradient
    def conv(x):
        def grad(dy):
            oh, ow = dy.shape[1], dy.shape[2]
            per_tap = tf.matmul(taps, tf.reshape(dy, [-1, cout]), transpose_b=True)  # (taps, B*oh*ow)
            per_tap = tf.reshape(per_tap, [kh * kw, -1, oh, ow])
            shifted = [tf.pad(per_tap[t], [[0, 0], [t // kw, kh - 1 - t // kw], [t % kw, kw - 1 - t % kw]])
                       for t in range(kh * kw)]
            return tf.add_n(shifted)[..., None]

        return tf.nn.conv2d(x, kernel, 1, "VALID"), grad

    return conv(x)
