"""Checks across keys that the schema cannot express, run before any data is read or model trained,
so `check` tells the truth and a build fails in a second, not after minutes of training. Each
analysis brings its own checks through the registry."""
from __future__ import annotations

from pathlib import Path

from . import registry
from .config import Config
from .errors import UserError


def check_config(cfg: Config, root: Path) -> None:
    if cfg.data.sample and cfg.data.dataset != "mnist":
        raise UserError("data.sample: the bundled sample is MNIST; set data.dataset: mnist or drop sample")
    for analysis in registry.analyses():
        if analysis.check is not None:
            analysis.check(cfg, root)


def check_data(cfg: Config, dataset) -> None:
    """Checks that need the data set, e.g. explicit test-image numbers must exist in it."""
    for analysis in registry.analyses():
        if analysis.check_data is not None:
            analysis.check_data(cfg, dataset)
