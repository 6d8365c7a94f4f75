"""What every stage of one build shares: config, data, the model (loaded only when needed), results."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import progress
from .cache import Artifact, Store, code_version, stable_hash
from .config import Config
from .data import Dataset
from .data.dataset import standardize


@dataclass
class Timing:
    stage: str
    seconds: float
    reused: bool


class Results(dict):
    """The results of a build by name. While a stage runs, it may read only its own results and those
    of the stages it requires: a read of any other is a programming error that stops the build, so a
    stage's `requires` (which orders the stages) is always true."""

    def __init__(self):
        super().__init__()
        self.running = None  # the registry.Stage being run, if any

    def _check(self, name) -> None:
        stage = self.running
        if stage is None or not isinstance(name, str):
            return
        from .registry import stage_of

        owner = stage_of(name)
        if owner != stage.name and owner not in stage.requires:
            raise RequiresError(f"stage {stage.name!r} read the result {name!r} of stage {owner!r} "
                                f"without requiring it (add {owner!r} to its requires)")

    def __getitem__(self, name):
        self._check(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        self._check(name)
        return super().get(name, default)

    def __contains__(self, name) -> bool:
        self._check(name)
        return super().__contains__(name)


class RequiresError(RuntimeError):
    pass


@dataclass
class Build:
    cfg: Config
    root: Path
    store: Store
    dataset: Dataset
    log: Callable[[str], None] = print
    model_path: Path | None = None
    model_info: dict[str, Any] = field(default_factory=dict)
    weights_hash: str = ""
    results: Results = field(default_factory=Results)
    timings: list[Timing] = field(default_factory=list)
    started: float = 0.0  # perf_counter() when the build began, for the footer's duration
    pages_written: int = 0
    site_unchanged: bool = False  # the site at --out was already written with these inputs: left as it was
    config_hash: str = ""  # of the config as written, before the model's defaults fill it in
    _model: Any = None
    _data_fingerprint: str = ""

    @property
    def model(self):
        """The Keras model, loaded on first use so a build that reuses every stage never imports TF."""
        if self._model is None:
            from .model.opening import load

            self._model = load(self.model_path, self.cfg.model, self.root)[0]
        return self._model

    @property
    def data_fingerprint(self) -> str:
        """The dataset's hash, computed once per build (hashing the pixels takes ~50 ms on 34,000
        images, and every stage's key names it)."""
        if not self._data_fingerprint:
            self._data_fingerprint = self.dataset.fingerprint()
        return self._data_fingerprint

    @property
    def contract(self):
        """The input contract the model is fed by (model/input_contract.py)."""
        from .model import input_contract

        if "input" in self.model_info:
            return input_contract.from_info(self.model_info["input"])
        return input_contract.Contract("standardize", _values(self.model_info["mean"]), _values(self.model_info["std"]))

    # The contract's mean and std, in the form numpy broadcasts over images: one float, or one per channel.
    @property
    def mean(self):
        from .model.input_contract import unit_values

        return unit_values(_values(self.model_info["mean"]))

    @property
    def std(self):
        from .model.input_contract import unit_values

        return unit_values(_values(self.model_info["std"]))

    @property
    def step_scale(self) -> float:
        """Model-input units per standard deviation of the training pixels. The ascent's step sizes are
        set in that unit (oip.step_size 0.05: a twentieth of the pixels' spread per step), so a model fed
        raw 0..255 pixels climbs as far per step as the standardized seed network (for which this is 1)."""
        return float(self.dataset.std) / float(np.mean(self.std))

    def ascent(self, cfg):
        """An ascent config (oip's, or one made from it) with its step in this model's input units."""
        from dataclasses import replace

        return cfg if self.step_scale == 1.0 else replace(cfg, step_size=cfg.step_size * self.step_scale)

    def x_test(self) -> np.ndarray:
        return standardize(self.dataset.x_test, self.mean, self.std)

    def pixel_range(self) -> tuple[float, float]:
        """The model-unit range of valid pixels, for clipping. With a mean and std per channel the
        widest of the channels' ranges: the ascent's clip is one pair of numbers for every channel."""
        lo, hi = (0.0 - np.asarray(self.mean)) / self.std, (255.0 - np.asarray(self.mean)) / self.std
        return float(np.min(lo)), float(np.max(hi))

    def run_stage(self, stage) -> Any:
        """Run one registry.Stage: for each of its layers (or once), reuse or compute its result. Returns the
        Artifact, {layer: Artifact} for a per-layer stage, or None when the stage is off for this build."""
        self.results.running = stage
        try:
            if not stage.enabled(self):
                return None
            version = code_version(*stage.code_modules())
            if stage.per_layer:
                out = {layer: self.stage(stage.result_name(layer), version, stage.depends(self, layer),
                                         lambda layer=layer: stage.compute(self, layer))
                       for layer in stage.layers(self)}
            else:
                out = self.stage(stage.name, version, stage.depends(self), lambda: stage.compute(self))
            if stage.after is not None:
                stage.after(self, out)
            return out
        finally:
            self.results.running = None

    def stage(self, name: str, version: str, depends: Any, compute: Callable[[], Artifact]) -> Artifact:
        """Reuse the stored result for (name, version, depends) or compute and store it."""
        key = stable_hash(name, version, self.weights_hash, self.data_fingerprint, depends)
        start = time.perf_counter()
        artifact = self.store.load(name, key)
        if artifact is None:
            with progress.stage(f"[{name}]", self.log):
                artifact = compute()
            artifact.key = key
            self.store.save(name, artifact)
        self.results[name] = artifact
        self.timings.append(Timing(name, time.perf_counter() - start, artifact.reused))
        return artifact


def _values(value) -> tuple:
    """A cached card's mean or std: one number (cards written before the input contract) or a list."""
    return tuple(value) if isinstance(value, (list, tuple)) else (float(value),)
