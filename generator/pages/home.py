"""The index: a model card, headline figures and a card linking to every other section."""
from __future__ import annotations

import datetime as dt
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .. import imaging
from ..config import as_dict, config_hash
from . import urls
from .model import Page
from .section import Card, Section

CURVE_ACCURACY = "img/model/accuracy.png"
CURVE_LOSS = "img/model/loss.png"


@dataclass
class ModelCard:
    summary: list[dict]
    params: int
    dataset: str
    source: str
    train_size: int
    test_size: int
    classes: list[str]
    mean: float
    std: float
    settings: dict | None
    trained_here: bool
    train_seconds: float | None
    test_accuracy: float
    test_loss: float
    curves: list[str]
    seed: int


@dataclass
class HomeData:
    title: str
    card: ModelCard
    sections: list[Card]
    built: str
    versions: dict[str, str]
    config_hash: str
    config: dict


def depends(build):
    return [build.model_info.get("history"), build.weights_hash]


def draw(build, out: Path) -> None:
    history = build.model_info.get("history") or {}
    if "accuracy" in history:
        imaging.line_plot(out / CURVE_ACCURACY, {"training": history["accuracy"],
                                                 "test": history.get("val_accuracy", [])},
                          "epoch", "accuracy", "Accuracy per epoch")
        imaging.line_plot(out / CURVE_LOSS, {"training": history["loss"], "test": history.get("val_loss", [])},
                          "epoch", "loss (with L2 term for training)", "Loss per epoch", logy=True)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("tensorflow-cpu", "tensorflow", "keras", "numpy", "jinja2"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def model_card(build) -> ModelCard:
    info, ds = build.model_info, build.dataset
    curves = [CURVE_ACCURACY, CURVE_LOSS] if "accuracy" in (info.get("history") or {}) else []
    return ModelCard(info["summary"], info["params"], ds.name, ds.source, info.get("train_size", len(ds.x_train)),
                     len(ds.x_test), ds.class_names, info["mean"], info["std"], info.get("settings"),
                     info.get("trained_here", False), info.get("train_seconds"), info["test_accuracy"],
                     info["test_loss"], curves, build.cfg.seed)


def pages_with(cards: list[Card]):
    def pages(build) -> list[Page]:
        data = HomeData(build.cfg.site.title, model_card(build), cards,
                        dt.datetime.now().strftime("%Y-%m-%d %H:%M"), versions(), config_hash(build.cfg),
                        as_dict(build.cfg))
        return [Page(urls.INDEX, "index.html", build.cfg.site.title, [], data, section="index",
                     description="A convolutional network for MNIST, opened up map by map.")]
    return pages


def section(cards: list[Card]) -> Section:
    return Section("home", depends, draw, pages_with(cards))
