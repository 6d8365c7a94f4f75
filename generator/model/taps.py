"""Taps into a trained model: its layer list, any layer's outputs and pre-activations, sub-models
between the input and some layers, the rest of the network after a layer, and the fast cut the
gradient ascent runs on. The one place that cuts a model; every analysis goes through it.

Everything is read from the model itself (names, kinds, shapes), so a functional model with other
layer names or with extra layers (BatchNormalization, ...) works too. Caches are per model object
and die with it.
"""
from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from generator.model.batching import padded

from . import fast_cut

MAP_CLASSES = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")
NODE_CLASSES = ("Dense",)

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class LayerInfo:
    name: str
    class_name: str
    kind: str  # "map" (a convolution), "node" (Dense) or "other"
    shape: tuple  # output shape without the batch axis
    channels: int  # maps of a convolution, units of a Dense layer, last axis otherwise
    side: Optional[tuple]  # (H, W) of a spatial output, else None
    activation: Optional[str]


def cached(model, key, make):
    """make(), kept per model object and key while the model lives."""
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        per_model[key] = make()
    return per_model[key]


# ---- the layer list --------------------------------------------------------------------------------

def layers(model) -> list[LayerInfo]:
    """Every layer but the input, in the model's order."""
    return cached(model, "layers", lambda: [_info(layer) for layer in _body(model)])


def map_layers(model) -> list[LayerInfo]:
    return [info for info in layers(model) if info.kind == "map"]


def node_layers(model) -> list[LayerInfo]:
    return [info for info in layers(model) if info.kind == "node"]


def layer(model, name: str) -> LayerInfo:
    for info in layers(model):
        if info.name == name:
            return info
    raise ValueError(f"no layer {name!r} (layers: {', '.join(i.name for i in layers(model))})")


def input_shape(model) -> tuple:
    """(H, W, C) of the model's input."""
    return tuple(int(s) for s in model.inputs[0].shape[1:])


def _body(model) -> list:
    import keras

    return [lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)]


def _info(lay) -> LayerInfo:
    shape = tuple(int(s) for s in lay.output.shape[1:])
    cls = lay.__class__.__name__
    kind = "map" if cls in MAP_CLASSES else "node" if cls in NODE_CLASSES else "other"
    activation = getattr(lay, "activation", None)
    return LayerInfo(name=lay.name, class_name=cls, kind=kind, shape=shape, channels=shape[-1],
                     side=shape[:2] if len(shape) == 3 else None,
                     activation=getattr(activation, "__name__", None))


def chain(model) -> Optional[list]:
    """The layers of a chain model (each layer feeds only the next one), else None."""
    def make():
        import keras

        body = _body(model)
        if isinstance(model, keras.Sequential):
            return body
        try:
            feeds = [model.inputs[0]] + [lay.output for lay in body[:-1]]
            linked = all(lay.input is fed for lay, fed in zip(body, feeds))
            return body if linked and len(model.outputs) == 1 and model.outputs[0] is body[-1].output else None
        except (AttributeError, ValueError, IndexError):  # a shared layer has no single input
            return None

    return cached(model, "chain", make)


def first_merge(model) -> Optional[str]:
    """The first layer (in the model's order) that takes more than one input: where a branching
    model stops being a chain. None for a chain, or when no single layer merges (a layer reused)."""
    for lay in _body(model):
        nodes = getattr(lay, "_inbound_nodes", [])
        if len(nodes) > 1 or (nodes and len(nodes[0].parent_nodes) > 1):
            return lay.name
    return None


# ---- sub-models ------------------------------------------------------------------------------------

def submodel(model, names: Sequence[str], spatial: bool = False):
    """A keras.Model from an image to the named layers' outputs (one output: not a list), reusing
    the trained layers. spatial=True: its input is (None, None, C), so it runs on pictures of any
    size the layers allow (a dream on a large picture)."""
    names = tuple(names)
    for name in names:
        layer(model, name)
    return cached(model, ("submodel", names, spatial), lambda: _submodel(model, names, spatial))


def _submodel(model, names: tuple, spatial: bool):
    import keras

    if not spatial:
        outs = [model.get_layer(n).output for n in names]
        return keras.Model(model.inputs, outs if len(outs) > 1 else outs[0])
    inp = keras.Input((None, None, input_shape(model)[-1]))
    layers_ = chain(model)
    if layers_ is not None:
        wanted, x, found = set(names), inp, {}
        last = max(i for i, lay in enumerate(layers_) if lay.name in wanted)
        for lay in layers_[:last + 1]:
            x = lay(x)
            if lay.name in wanted:
                found[lay.name] = x
        outs = [found[n] for n in names]
    else:
        # A branching graph: run its nodes again from the new input (no fixed-size input check).
        inner = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
        outs = list(inner._run_through_graph([inp], operation_fn=lambda op: op))
    return keras.Model(inp, outs if len(outs) > 1 else outs[0])


def cut(model, name: str) -> fast_cut.Cut:
    """The model cut at a Conv2D or Dense layer, for gradient ascent and map statistics: the fast
    fused pass below it on a chain model, the stock sub-model below it otherwise."""
    info = layer(model, name)
    if info.class_name not in MAP_CLASSES + NODE_CLASSES:
        raise ValueError(f"layer {name!r} is a {info.class_name}; OIPs are searched for convolutions and Dense layers")
    return cached(model, ("cut", name), lambda: _cut(model, name))


def _cut(model, name: str) -> fast_cut.Cut:
    import keras

    target = model.get_layer(name)
    layers_ = chain(model)
    if layers_ is not None:
        return fast_cut.Cut(layers_[:[lay.name for lay in layers_].index(name)], target)
    below = keras.Model(model.inputs, target.input)
    return fast_cut.Cut([], target, below=lambda x: below(x, training=False))


# ---- numbers for many images -----------------------------------------------------------------------

def outputs(model, names: Sequence[str], x: np.ndarray, batch_size: int = 256) -> dict[str, np.ndarray]:
    """{name: float32 (N, ...)} of the named layers' outputs for images x (N, H, W, C)."""
    names = tuple(names)
    sub = submodel(model, names)
    run = _compiled(model, ("outputs", names), lambda: lambda v: _as_list(sub(v, training=False)))
    return dict(zip(names, _batched(run, x, batch_size, len(names))))


def preactivations(model, names: Sequence[str], x: np.ndarray, batch_size: int = 256) -> dict[str, np.ndarray]:
    """{name: float32 (N, ...)}: each Conv2D or Dense layer's output before its activation."""
    import keras

    names = tuple(names)
    targets = [model.get_layer(n) for n in names]
    for n, t in zip(names, targets):
        if not (fast_cut.is_conv2d(t) or fast_cut.is_separable(t) or isinstance(t, keras.layers.Dense)):
            raise ValueError(f"preactivations: {n!r} is a {t.__class__.__name__}, not a Conv2D or Dense layer")

    def make():
        below = keras.Model(model.inputs, [t.input for t in targets])
        return lambda v: [_squeeze_dense(t, fast_cut.stock_preactivation(t, h))
                          for t, h in zip(targets, _as_list(below(v, training=False)))]

    run = _compiled(model, ("preactivations", names), make)
    return dict(zip(names, _batched(run, x, batch_size, len(names))))


def _squeeze_dense(target, z):
    return z if fast_cut.is_conv2d(target) or fast_cut.is_separable(target) else z[:, 0, 0, :]


def _as_list(out) -> list:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _compiled(model, key, make):
    """A tf.function of the function make() builds, kept per model and key."""
    import tensorflow as tf

    _quiet_retracing(tf)
    return cached(model, ("compiled",) + key, lambda: tf.function(make()))


def _quiet_retracing(tf) -> None:
    """Each (model, layers) pair here is its own tf.function, traced once per batch shape; TensorFlow's
    retracing detector counts the calls of all of them, made from one lambda, together and warns of
    "excessive retracing" that is not happening. Only that message is dropped."""
    logger = tf.get_logger()
    if not any(isinstance(f, _NoRetracingWarning) for f in logger.filters):
        logger.addFilter(_NoRetracingWarning())


class _NoRetracingWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _batched(run, x: np.ndarray, batch_size: int, n_out: int) -> list[np.ndarray]:
    """Direct calls (no Keras predict loop) on batches of one fixed shape, the last one padded with
    copies of its last image, so the compiled call is traced once per shape, not once per batch. Fewer
    images than a batch are padded up to a power of two: a few shapes for any number of images, where
    one shape per count retraced for every new count (and TensorFlow warned about it)."""
    x = np.asarray(x, np.float32)
    if len(x) == 0:
        return [np.zeros((0,), np.float32)] * n_out
    size = min(int(batch_size), 1 << (len(x) - 1).bit_length())
    parts: list[list[np.ndarray]] = [[] for _ in range(n_out)]
    for begin in range(0, len(x), size):
        batch = x[begin:begin + size]
        for k, out in enumerate(run(padded(batch, size))):
            parts[k].append(np.asarray(out, np.float32)[: len(batch)])
    return [np.concatenate(p) for p in parts]
