"""Checks across keys that the schema cannot express, run before any data is read or model trained,
so `check` tells the truth and a build fails in a second, not after minutes of training. Each
stage brings its own checks through the registry."""
from __future__ import annotations

from pathlib import Path

from . import registry
from .config import Config
from .errors import UserError


def check_config(cfg: Config, root: Path):
    """Returns the given model as opened (None for the seed network), for checks that need it again."""
    if cfg.data.sample and cfg.data.dataset != "mnist":
        raise UserError("data.sample: the bundled sample is MNIST; set data.dataset: mnist or drop sample")
    if cfg.data.dataset == "custom" and not cfg.data.path:
        raise UserError("data.dataset: custom needs data.path (a keras-layout .npz)")
    model = check_model_file(cfg, root) if cfg.model.path else None
    for stage in registry.stages():
        if stage.check is not None:
            stage.check(cfg, root)
    return model


def model_path(cfg: Config, root: Path) -> Path:
    path = Path(cfg.model.path).expanduser()
    return path if path.is_absolute() else root / path


def config_layers(cfg: Config, root: Path) -> list:
    """taps.LayerInfo's of the model a build with `cfg` will use: the given model's, else the seed's."""
    from .model.support import given_layers, seed_layers

    return given_layers(model_path(cfg, root), cfg.model, root) if cfg.model.path else seed_layers()


def check_model_file(cfg: Config, root: Path):
    """A given model must be readable and of a kind the gallery can open: said now, before any work."""
    from .model.opening import load
    from .model.support import check_model, given_layers

    path = model_path(cfg, root)
    model, _ = load(path, cfg.model, root)
    check_model(model, str(path))
    given_layers(path, cfg.model, root, model)  # the analyses' checks read its layers without loading it again
    return model


def check_with_data(cfg: Config, root: Path, model, log=print) -> None:
    """What `check` adds to a build's first checks: the data file is read (its pixels and labels
    checked, as a build would) and set against the given model (as check_config opened it), so
    nothing a build would refuse after reading the data passes `check`."""
    from .data import load_dataset
    from .model.support import check_fits_data

    dataset = load_dataset(cfg.data, root, log)
    check_data(cfg, dataset)
    if cfg.model.path:
        path = model_path(cfg, root)
        check_fits_data(model, str(path), dataset.image_shape, dataset.n_classes, bool(cfg.data.class_names))


def check_data(cfg: Config, dataset) -> None:
    """Checks that need the data set, e.g. explicit test-image numbers must exist in it."""
    from .model.architecture import SEED_MIN_SIDE

    side = min(dataset.image_shape[:2])
    if not cfg.model.path and side < SEED_MIN_SIDE:
        raise UserError(f"the data's images are {side} px on a side; the seed network needs at least "
                        f"{SEED_MIN_SIDE}×{SEED_MIN_SIDE} (give model.path for a network of your own)")
    for stage in registry.stages():
        if stage.check_data is not None:
            stage.check_data(cfg, dataset)
