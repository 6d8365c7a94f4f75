"""The index: a model card, headline figures, a filter over every map, and a card for every section."""
from __future__ import annotations

import json
import platform
import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from .. import imaging, registry
from generator.features.evidence.map_truth import MEANING, STATUSES, fires_on
from generator.features.patterns.oip_results import stage_name
from ..config import as_dict, config_hash
from . import urls
from .model import Link, Page
from .section import Card, Section, in_build

CURVE_ACCURACY = "img/model/accuracy.png"
CURVE_LOSS = "img/model/loss.png"


@dataclass
class ModelCard:
    summary: list[dict]
    params: int
    dataset: str
    source: str
    pixels: str
    data_notes: list[str]  # how the files were read where it differs from how they were stored
    train_size: int
    test_size: int
    classes: list[str]
    contract: str        # how stored pixels become the model's input (model/input_contract.py)
    contract_how: str    # why that contract: given, trained so, or detected with the evidence
    preprocessing: list[str]  # what the model does to its input itself
    settings: dict | None
    trained_here: bool
    train_seconds: float | None
    test_accuracy: float       # Keras's own evaluate on the inputs the contract makes
    gallery_accuracy: float | None  # the gallery's own count of right answers on the same images
    test_loss: float
    curves: list[str]
    seed: int
    downloads: list[Link]
    opening: list[str]  # how a given model was opened for the gallery (opening.open_model), or []


@dataclass
class Figure:
    """One headline number on the index."""
    value: str
    label: str
    url: str | None = None


@dataclass
class LayerGlance:
    """One row of the OIP overview: how many maps of a layer have each status (map_truth), and how
    many of those the test images fire have a super-stimulus."""
    layer: str
    url: str
    maps: int
    live: int
    rare: int
    silent: int
    dead: int
    failed: int
    fires: int   # live + rare: some test image fires the map
    strong: int  # of those, ratio ≥ 1: an input pattern at least as strong as the best test image
    median_ratio: str  # over the maps some test image fires
    median_auc: str  # how far to trust the pictures: median ROC AUC of the position patterns


@dataclass
class HomeData:
    title: str
    card: ModelCard
    sections: list[Card]
    versions: dict[str, str]
    config_hash: str
    config: dict
    figures: list[Figure] = field(default_factory=list)
    layers: list[LayerGlance] = field(default_factory=list)
    explore: list[Link] = field(default_factory=list)
    search_index: str | None = None  # urls.SEARCH_INDEX when the map filter has something to search
    search_count: int = 0
    statuses: list[str] = field(default_factory=list)
    meanings: dict[str, str] = field(default_factory=dict)  # what each status says, for the table's key
    any_failed: bool = False  # the layer table gets a "Failed" column only when it has something to say
    notice: str = ""  # e.g. that the bundled sample stood in for missing data
    warning: str = ""  # e.g. that no input contract makes the model better than chance
    findings: list = field(default_factory=list)  # [model.Finding]: what the gallery found, by rule
    tour: list = field(default_factory=list)  # [model.Finding]: "Start here", a path through the gallery
    search_scripts: list = field(default_factory=list)  # the filter's index parts: maps, and dense nodes
    filter_layers: list = field(default_factory=list)  # the filter's layer choices: map and dense layers
    lead: str = ""  # what this gallery shows, from the sections this build has


# ---- the OIP gallery, when this build has one --------------------------------------------------

def _gallery(build) -> list:
    """LayerData of every OIP layer (generator.features.patterns.pages), or [] when the build has no gallery."""
    layers = in_build(build, "layers")
    if layers is None:
        return []
    states = layers.statuses(build)
    return [layers.layer_data(build, layer, build.results[stage_name(layer)].arrays, states[layer])
            for layer in build.cfg.oip.layers]


def glances(build) -> list[LayerGlance]:
    out = []
    for data in _gallery(build):
        fired = [m for m in data.maps if fires_on(m.status)]
        ratios = np.array([m.ratio for m in fired], dtype=float)
        c = data.counts
        median = float(np.median(ratios)) if len(ratios) else float("nan")
        out.append(LayerGlance(data.layer, urls.layer(data.layer), len(data.maps), c["live"], c["rare"],
                               c["silent"], c["dead"], c["failed"], len(fired), int(sum(m.ratio >= 1 for m in fired)),
                               "–" if np.isnan(median) else "∞" if np.isinf(median) else f"{median:.2f}",
                               data.median_auc))
    return out


# ---- the section -------------------------------------------------------------------------------

MODEL_FILE = "model/model.keras"
STANDARDIZATION = "model/standardization.json"


def depends(build):
    return [build.model_info.get("history"), build.weights_hash, build.contract.as_info()]


def draw(build, out: Path) -> None:
    _draw_model_files(build, out)
    history = build.model_info.get("history") or {}
    if "accuracy" in history:
        imaging.line_plot(out / CURVE_ACCURACY, {"training": history["accuracy"],
                                                 "test": history.get("val_accuracy", [])},
                          "epoch", "accuracy", "Accuracy per epoch")
        imaging.line_plot(out / CURVE_LOSS, {"training": history["loss"], "test": history.get("val_loss", [])},
                          "epoch", "loss (with L2 term for training)", "Loss per epoch", logy=True)


def _draw_model_files(build, out: Path) -> None:
    """The very model the pages were made from, and how to feed it, so anyone can reload it."""
    (out / MODEL_FILE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(build.model_path, out / model_file(build))
    shape = list(build.dataset.image_shape)
    contract = build.contract
    recipe = {"input_shape": shape, "input_contract": contract.name, "mean": list(contract.mean),
              "std": list(contract.std),
              "standardize": "x = (pixels - mean) / std per channel (one value: every channel), pixels on the "
                             "0..255 scale, shape (N, H, W, C)",
              "outputs": "probabilities" if build.model_info.get("probabilities", True) else "logits",
              "classes": build.dataset.class_names}
    (out / STANDARDIZATION).write_text(json.dumps(recipe, indent=1), encoding="utf-8")


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
    contract = build.contract
    evaluation = build.results.get("evaluation")
    return ModelCard(info["summary"], info["params"], ds.title, ds.source, ds.pixel_format, ds.notes, info.get("train_size", len(ds.x_train)),
                     len(ds.x_test), ds.class_names, contract.formula,
                     contract.how or "the seed network is trained on it in this build",
                     info.get("preprocessing", []), info.get("settings"),
                     info.get("trained_here", False), info.get("train_seconds"), info["test_accuracy"],
                     evaluation.meta["accuracy"] if evaluation is not None else None,
                     info["test_loss"], curves, build.cfg.seed,
                     [Link(f"the model ({Path(model_file(build)).suffix})", model_file(build)),
                      Link("its input contract and classes (.json)", STANDARDIZATION)],
                     _opening(info.get("opening") or []))


def _opening(notes: list[str]) -> list[str]:
    return notes + ["The pages show the model so opened; it computes what the file's model computes."] if notes else []


def model_file(build) -> str:
    """The model as given, under its own suffix (a legacy .h5 file is not a .keras one)."""
    return str(Path(MODEL_FILE).with_suffix(Path(build.model_path).suffix or ".keras"))


def figures(build, rows: list[LayerGlance]) -> list[Figure]:
    card = model_card(build)
    out = [Figure(f"{100 * card.test_accuracy:.2f} %", f"test accuracy on {card.test_size:,} images", "#model")]
    if "evaluation" in build.results:
        wrong = len(build.results["evaluation"].arrays["misclassified"])
        linked = in_build(build, "confusion") is not None
        out.append(Figure(f"{wrong:,}", "misclassified test images", urls.CONFUSION if linked else None))
    out.append(Figure(f"{card.params:,}", f"parameters in {len(card.summary)} layers", "#model"))
    if rows:
        maps = sum(r.maps for r in rows)
        fires, rare = sum(r.fires for r in rows), sum(r.rare for r in rows)
        silent, dead = sum(r.silent for r in rows), sum(r.dead for r in rows)
        strong = sum(r.strong for r in rows)
        out.append(Figure(f"{fires} / {maps}", f"maps that some test image fires ({rare} of them rare: on fewer "
                                               f"than 1 % of the images); {silent} silent on data, {dead} dead",
                          "#layers"))
        out.append(Figure(f"{strong} / {fires}", "maps fired by test images with an input pattern at least as "
                                                 "strong as the best test image (ratio ≥ 1)", "#layers"))
    return out


def explore(build) -> list[Link]:
    """Links to the pages a visitor may want next, beyond the header tabs: layers and comparisons."""
    links = [Link(layer, urls.layer(layer)) for layer in build.cfg.oip.layers] if _gallery(build) else []
    sets = in_build(build, "sets")
    if sets is not None:
        meta = build.results[sets.NAME].meta
        titles = {s["name"]: s["title"] for s in meta.get("sets", [])}
        links += [Link(f"{titles.get(c['a'], c['a'])} vs {titles.get(c['b'], c['b'])}",
                       urls.comparison(c["a_slug"], c["b_slug"])) for c in meta.get("comparisons", [])]
    return links


OPENING_KEYS = ("path", "input", "output", "custom_objects_module")  # what a loaded model's config uses


def _shown_config(build) -> dict:
    """The config as the build used it: a loaded model is not trained, so the seed's training settings
    (epochs, learning rate, ...) are left out rather than shown as if they had made it."""
    config = as_dict(build.cfg)
    if build.cfg.model.path:
        config["model"] = {k: v for k, v in config["model"].items() if k in OPENING_KEYS}
    return config


def _lead(build) -> str:
    """What the gallery shows, said only of what this build has."""
    parts = [text for name, text in (("layers", "what every map of every layer responds to"),
                                     ("confusion", "which classes it confuses"),
                                     ("explanations", "why it decided as it did"),
                                     ("dreams", "what it dreams")) if in_build(build, name) is not None]
    if len(parts) < 2:
        return parts[0] if parts else "its layers and its decisions"
    return ", ".join(parts[:-1]) + ("," if len(parts) > 2 else "") + " and " + parts[-1]


def pages_with(cards: list[Card]):
    def pages(build) -> list[Page]:
        rows = glances(build)
        nodes = in_build(build, "nodes")  # the dense nodes join the filter when their pages exist
        node_layers = nodes.layers(build) if nodes is not None and rows else []
        count = sum(r.maps for r in rows) + sum(len(nodes.statuses(build, layer)) for layer in node_layers)
        present = {m.status for data in _gallery(build) for m in data.maps}
        statuses = [s for s in STATUSES if s in present]
        data = HomeData(build.cfg.site.title, model_card(build), cards,
                        versions(), build.config_hash or config_hash(build.cfg),
                        _shown_config(build), figures(build, rows), rows, explore(build),
                        urls.SEARCH_INDEX if count else None, count, statuses,
                        {s: MEANING[s] for s in STATUSES}, any(r.failed for r in rows),
                        build.dataset.notice, build.contract.warning, registry.findings(build),
                        registry.tour(build), [urls.SEARCH_INDEX] + ([urls.SEARCH_NODES] if node_layers else []),
                        [r.layer for r in rows] + list(node_layers), _lead(build))
        return [Page(urls.INDEX, "index.html", build.cfg.site.title, [], data, section="index",
                     description="A convolutional network for MNIST, opened up map by map.")]
    return pages


def section(cards: list[Card]) -> Section:
    return Section("home", depends, draw, pages_with(cards))
