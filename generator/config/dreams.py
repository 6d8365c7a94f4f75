"""Settings of DeepDream: single-map pattern carving and multi-octave layer dreams."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .schema import bounded


@dataclass(frozen=True)
class LayerDreamConfig:
    name: str = ""
    # Layer name -> weight of its mean activation in the objective.
    layers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DreamsConfig:
    enabled: bool = True
    # A JPEG or PNG (relative to the project folder); empty means matplotlib's public-domain sample
    # `grace_hopper.jpg`. Made gray for a 1-channel model (kept in colour for 3), cropped to the
    # model's aspect ratio and resized so that its longer side is picture_size.
    picture: Optional[str] = None
    picture_size: int = bounded(224, min=28, max=1024)
    # The map layer whose maps are carved in; empty (None) means the model's last map layer.
    layer: Optional[str] = None
    # Explicit maps, or else the `count` maps with the strongest OIPs (by the test statistics when
    # the OIP stage did not run for the layer).
    maps: Optional[list[int]] = bounded(None, min=0)
    count: int = bounded(8, min=0, max=256)
    # Pattern carving: rounds of (scale down to the model's input size, OIP ascent, scale up, add the
    # detail back).
    rounds: int = bounded(4, min=1, max=32)
    steps: int = bounded(40, min=0, max=2000)
    step_size: float = bounded(0.05, min=0.0, max=10.0)
    # The tiled variant: the picture scaled to tiles×tiles tiles of the model's input size, every tile dreamt.
    tiled: bool = True
    tiles: int = bounded(4, min=1, max=16)
    # Ascent steps per round for the tiled variant: each tile is only scaled up tiles× less than the
    # single dream, so fewer steps keep the picture recognisable under the pattern.
    tiled_steps: int = bounded(10, min=0, max=2000)
    # Layer dreams: gradient ascent on a weighted sum of layers' mean activations, octave by octave.
    layer_dreams: list[LayerDreamConfig] = field(default_factory=list)
    octaves: int = bounded(4, min=1, max=8)
    octave_scale: float = bounded(1.4, min=1.05, max=3.0)
    octave_steps: int = bounded(20, min=0, max=1000)
    octave_step_size: float = bounded(0.02, min=0.0, max=10.0)
    # The gradient is computed on square tiles of this many pixels (randomly shifted every step).
    tile_size: int = bounded(112, min=28, max=1024)
