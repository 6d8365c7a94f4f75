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
    # A JPEG or PNG; empty means matplotlib's public-domain sample `grace_hopper.jpg`.
    picture: Optional[str] = None
    picture_size: int = bounded(224, min=28, max=1024)
    layer: str = "Conv2D_3"
    # Explicit maps, or else the `count` maps with the strongest OIPs.
    maps: Optional[list[int]] = bounded(None, min=0)
    count: int = bounded(8, min=0, max=256)
    rounds: int = bounded(4, min=1, max=32)
    steps: int = bounded(40, min=0, max=2000)
    step_size: float = bounded(0.05, min=0.0, max=10.0)
    tiled: bool = True
    layer_dreams: list[LayerDreamConfig] = field(default_factory=list)
    octaves: int = bounded(4, min=1, max=8)
    octave_scale: float = bounded(1.4, min=1.05, max=3.0)
    octave_steps: int = bounded(20, min=0, max=1000)
