"""What every stage of one build shares: config, data, the model (loaded only when needed), results."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import progress
from .cache import Artifact, Store, stable_hash
from .config import Config
from .data import Dataset
from .data.dataset import standardize


@dataclass
class Timing:
    stage: str
    seconds: float
    reused: bool


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
    results: dict[str, Artifact] = field(default_factory=dict)
    timings: list[Timing] = field(default_factory=list)
    started: float = 0.0  # perf_counter() when the build began, for the footer's duration
    pages_written: int = 0
    config_hash: str = ""  # of the config as written, before the model's defaults fill it in
    _model: Any = None

    @property
    def model(self):
        """The Keras model, loaded on first use so a build that reuses every stage never imports TF."""
        if self._model is None:
            from .model.persist import load_model_file

            self._model = load_model_file(self.model_path)
        return self._model

    @property
    def mean(self) -> float:
        return float(self.model_info["mean"])

    @property
    def std(self) -> float:
        return float(self.model_info["std"])

    def x_test(self) -> np.ndarray:
        return standardize(self.dataset.x_test, self.mean, self.std)

    def pixel_range(self) -> tuple[float, float]:
        return ((0.0 - self.mean) / self.std, (255.0 - self.mean) / self.std)

    def stage(self, name: str, version: str, depends: Any, compute: Callable[[], Artifact]) -> Artifact:
        """Reuse the stored result for (name, version, depends) or compute and store it."""
        key = stable_hash(name, version, self.weights_hash, self.dataset.fingerprint(), depends)
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
