"""What an objective sees of the network for one batch of images: a lazy view of one forward pass.

Two taps make views. FastTap runs fixed-size batches through the model's fast cuts (OIPs, node
patterns, carving, class logits); ModelTap runs the stock sub-model of the layers an objective
reads on inputs of any size (layer dreams on a large picture). Both only use generator.model.taps.
"""
from __future__ import annotations

from ..model import taps


class FastTap:
    def __init__(self, model):
        self.model = model

    def signature(self) -> tuple:
        return ("fast",)

    def cut(self, layer: str):
        return taps.cut(self.model, layer)

    def view(self, x) -> "FastView":
        return FastView(self, x)


class FastView:
    """Each layer's input is computed once per view, however many objectives read the layer; two
    layers' inputs are two passes from the image (the fused kernels keep no intermediate output)."""

    def __init__(self, tap: FastTap, x):
        self.tap, self.x, self._inputs = tap, x, {}

    def of(self, x) -> "FastView":
        """A view of other images (e.g. a uniform copy of each row) through the same tap."""
        return FastView(self.tap, x)

    def _below(self, layer: str):
        if layer not in self._inputs:
            self._inputs[layer] = self.tap.cut(layer).below(self.x)
        return self._inputs[layer]

    def row_map(self, layer: str, prepared):
        """Per row, its own map of `layer` before and after activation, (B, H, W) each."""
        return self.tap.cut(layer).row_map(self._below(layer), prepared)

    def preactivation(self, layer: str):
        """All maps of a map (convolution) or Dense layer before activation, (B, H, W, C)."""
        return self.tap.cut(layer).preactivation(self._below(layer))

    def output(self, layer: str):
        if taps.layer(self.tap.model, layer).class_name in taps.MAP_CLASSES + taps.NODE_CLASSES:
            return self.tap.cut(layer).output(self._below(layer))
        return taps.submodel(self.tap.model, [layer])(self.x, training=False)

    def relu(self, layer: str) -> bool:
        return self.tap.cut(layer).relu


class ModelTap:
    """The stock sub-model of the given layers; spatial=True takes inputs of any size."""

    def __init__(self, model, layers, spatial: bool = True):
        self.model, self.layers, self.spatial = model, tuple(layers), spatial
        self.sub = taps.submodel(model, self.layers, spatial=spatial)

    def signature(self) -> tuple:
        return ("model", self.layers, self.spatial)

    def view(self, x) -> "ModelView":
        outs = self.sub(x, training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return ModelView(dict(zip(self.layers, outs)))


class ModelView:
    def __init__(self, outs: dict):
        self._outs = outs

    def output(self, layer: str):
        if layer not in self._outs:
            raise ValueError(f"this view reads only {', '.join(self._outs)}, not {layer!r}")
        return self._outs[layer]

    def row_map(self, layer: str, prepared):
        raise ValueError("per-row maps need the fast tap (FastTap)")

    def preactivation(self, layer: str):
        raise ValueError("pre-activations need the fast tap (FastTap)")
