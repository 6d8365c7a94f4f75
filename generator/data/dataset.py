"""The dataset a build works on, with its standardization statistics and a content hash."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config.core import DataConfig
from .sources import candidate_sources, load_first, sample_source

TITLES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
CREDITS = {  # shown on every page that shows the images
    "mnist": "MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0).",
    "fashion": "Fashion-MNIST by Han Xiao, Kashif Rasul and Roland Vollgraf, Zalando Research (MIT licence).",
}
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray  # uint8, N×28×28, canonical order
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    source_path: str | None
    class_names: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return TITLES[self.name]

    @property
    def credit(self) -> str:
        return CREDITS[self.name]

    @property
    def mean(self) -> float:
        return float(self.x_train.mean(dtype=np.float64))

    @property
    def std(self) -> float:
        return float(self.x_train.std(dtype=np.float64))

    def fingerprint(self) -> str:
        """Hash of the exact pixels and labels, so caches follow the data, not the file name."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]


def standardize(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """uint8 N×28×28 -> float32 N×28×28×1 with zero mean and unit variance over training pixels."""
    x = (images.astype(np.float32) - np.float32(mean)) / np.float32(std)
    return x[..., None]


def unstandardize(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Back to the 0..255 pixel scale (float), for showing patterns the way images look."""
    return np.asarray(x, dtype=np.float32) * np.float32(std) + np.float32(mean)


def load_dataset(cfg: DataConfig, project_root: Path) -> Dataset:
    if cfg.sample:
        source, arrays = sample_source(), None
        arrays = source.read()
    else:
        source, arrays = load_first(candidate_sources(cfg.dataset, cfg.path, project_root), cfg.dataset)
    if cfg.train_limit:
        arrays["x_train"], arrays["y_train"] = arrays["x_train"][: cfg.train_limit], arrays["y_train"][: cfg.train_limit]
    if cfg.test_limit:
        arrays["x_test"], arrays["y_test"] = arrays["x_test"][: cfg.test_limit], arrays["y_test"][: cfg.test_limit]
    name = "mnist" if cfg.sample else cfg.dataset
    return Dataset(name=name, source=source.label,
                   source_path=str(source.path) if source.path else None,
                   class_names=CLASS_NAMES[name],
                   **{k: np.asarray(v) for k, v in arrays.items()})
