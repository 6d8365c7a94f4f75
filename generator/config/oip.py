"""Settings of the OIP (original input pattern) search: gradient ascent on the input."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from .schema import bounded

@dataclass(frozen=True)
class OIPConfig:
    # The map layers (convolutions) to search; empty (None) means every map layer of the model.
    layers: Optional[list[str]] = None
    steps: int = bounded(256, min=0, max=10000)
    # One random start per entry: the noise's length scale in pixels (1 = pixel noise, 7 = long waves).
    noise_scales: list[int] = bounded([1, 3, 7, 14], min=1, max=28, min_len=1)
    step_size: float = bounded(0.05, min=0.0, max=10.0)
    jitter: int = bounded(1, min=0, max=6)
    blur_sigma: float = bounded(0.5, min=0.0, max=5.0)
    blur_every: int = bounded(4, min=1, max=1000)
    objective: Literal["mean", "preact"] = "mean"
    snapshots: int = bounded(8, min=2, max=64)
    # Node-level OIPs (one per spatial position) for layers whose maps are this small or smaller.
    node_max_side: int = bounded(3, min=0, max=28)
    # Node-level OIPs start from pixel noise only; fewer steps keep them within the build's budget.
    node_steps: int = bounded(128, min=0, max=10000)
    top_images: int = bounded(9, min=1, max=64)
