"""What a per-layer pattern stage's section needs of the build: its arrays per layer, its cache
keys (the section's pictures depend on them and on the pixel units), and whether map pages exist."""
from __future__ import annotations

from typing import Callable

from generator.pages.section import in_build


def arrays(build, stage_name: Callable[[str], str], layer: str):
    """The stage's arrays for one layer, or None where it did not run."""
    art = build.results.get(stage_name(layer))
    return None if art is None else art.arrays


def enabled(build) -> bool:
    return in_build(build, "layers") is not None


def depends(build, stage_name: Callable[[str], str]) -> list:
    return [build.results[stage_name(layer)].key for layer in build.cfg.oip.layers
            if stage_name(layer) in build.results] + [build.mean, build.std]
