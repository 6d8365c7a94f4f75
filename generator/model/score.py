"""The one definition of "the score": the class logits, the class layer's output before its softmax,
as a function of the input or of any layer's output. Ablation, class influence, the attributions and
Grad-CAM all read the decision through these three functions, so they agree on what it is (xplique's
operators play this part there).

Every function returns a plain callable of tensors, to be used inside the caller's tf.function and
gradient tape; each works on a chain of layers, and `logits_with` on any graph whose output is a
Dense layer's.
"""
from __future__ import annotations

from generator.model import fast_cut, taps


def _flat(z):
    """(B, 1, 1, K) from a Dense layer's stock pre-activation -> (B, K)."""
    return z[:, 0, 0, :] if len(z.shape) == 4 else z


def class_layer(model):
    """The Dense layer whose output (before its softmax) is the model's output, or None."""
    import keras

    nodes = taps.node_layers(model)
    last = model.get_layer(nodes[-1].name) if nodes else None
    return last if last is not None and isinstance(last, keras.layers.Dense) and model.outputs[0] is last.output else None


def logits(model):
    """f(x) -> (B, K): the class logits from the input, through the model cut below its last layer
    (the fast fused pass on a chain, the stock sub-model otherwise)."""
    last = taps.layers(model)[-1]
    cut = taps.cut(model, last.name)
    return lambda x: _flat(fast_cut.stock_preactivation(cut.target, cut.below(x)))


def logits_after(model, name: str):
    """f(h) -> (B, K): the class logits from `name`'s output (stored or modified activations), by
    running the layers after it. A chain of layers only: a graph's rest depends on more than one
    layer's output, and the caller says so (ablation on a branching model)."""
    taps.layer(model, name)
    layers_ = taps.chain(model)
    if layers_ is None:
        raise ValueError(f"logits_after({name!r}): the model is not a chain of layers; running it on from one "
                         "layer needs the graph below that layer too")
    rest = layers_[[lay.name for lay in layers_].index(name) + 1:]

    def f(h):
        for lay in rest[:-1]:
            h = lay(h, training=False)
        return _flat(fast_cut.stock_preactivation(rest[-1], h))

    return f


def logits_replacing(model, name: str):
    """f(x, h) -> (B, K): the class logits of images x with layer `name`'s output replaced by h (B, ...).
    On a chain only h matters (the layers after it, as logits_after); in any other graph whose output is
    a Dense layer's (a residual Add, a Concatenate), the graph is run again from x with that one
    layer's output swapped, so the branches that bypass the layer still see the image."""
    taps.layer(model, name)
    if taps.chain(model) is not None:
        after = logits_after(model, name)
        return lambda x, h: after(h)
    import keras

    last = class_layer(model)
    if last is None:
        raise ValueError(f"logits_replacing({name!r}): the model's output is not a Dense layer's")
    target = model.get_layer(name)
    below = taps.cached(model, ("below-class-layer",), lambda: keras.Model(model.inputs, last.input))

    def operation(op, h):
        if op is target:
            return lambda *args, **kwargs: h
        if isinstance(op, keras.layers.Layer):  # inference, always (augmentation layers default to training)
            return lambda *args, **kwargs: op(*args, **{**kwargs, "training": False})
        return op

    def f(x, h):
        out = below._run_through_graph([x], operation_fn=lambda op: operation(op, h))
        return _flat(fast_cut.stock_preactivation(last, out))

    return f


def logits_with(model, names: tuple):
    """f(x) -> ({layer: output}, (B, K) logits) in one forward pass that keeps the named layers' outputs,
    so one tape gives the gradients at all of them. A chain runs layer by layer (a sub-model of a
    reloaded seed network once lost its hidden Dense layer's gradient); any other graph (residual Add,
    Concatenate) through a sub-model that also returns the class layer's input."""
    layers_ = taps.chain(model)
    if layers_ is not None:
        wanted = set(names)

        def chain_forward(x):
            h, kept = x, {}
            for lay in layers_[:-1]:
                h = lay(h, training=False)
                if lay.name in wanted:
                    kept[lay.name] = h
            return kept, _flat(fast_cut.stock_preactivation(layers_[-1], h))

        return chain_forward
    import keras

    last = class_layer(model)
    sub = keras.Model(model.inputs, [model.get_layer(n).output for n in names] + [last.input])

    def graph_forward(x):
        out = sub(x, training=False)
        return dict(zip(names, out[:-1])), _flat(fast_cut.stock_preactivation(last, out[-1]))

    return graph_forward
