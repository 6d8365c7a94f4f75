"""Checks across keys that the schema cannot express, run before any data is read or model trained,
so `check` tells the truth and a build fails in a second, not after minutes of training."""
from __future__ import annotations

from pathlib import Path

from .analyses import dreams, image_sets, oip_stage
from .analyses.dream_picture import load_picture
from .config import Config
from .errors import UserError


def check_config(cfg: Config, root: Path) -> None:
    if cfg.data.sample and cfg.data.dataset != "mnist":
        raise UserError("data.sample: the bundled sample is MNIST; set data.dataset: mnist or drop sample")
    oip_stage.check_config(cfg.oip)
    image_sets.validate_sets(cfg.activations)
    _check_colormap(cfg.activations.colormap)
    if cfg.dreams.enabled:
        dreams.check_config(cfg.dreams)
        load_picture(cfg.dreams.picture, 28, root)  # a missing or foreign picture fails now


def check_data(cfg: Config, n_test: int) -> None:
    """Checks that need the data set: explicit test-image numbers must exist in it."""
    image_sets.check_indices(cfg.activations, n_test)


def _check_colormap(name: str) -> None:
    from matplotlib import colormaps

    if name not in colormaps:
        raise UserError(f"activations.colormap: unknown colour map {name!r} (e.g. viridis, magma, gray, jet)")
