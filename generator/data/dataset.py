"""The dataset a build works on, with its standardization statistics and a content hash."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config.core import DataConfig
from ..errors import UserError
from .sources import NothingFound, candidate_sources, load_first, sample_source

TITLES = {"mnist": "MNIST", "fashion": "Fashion-MNIST", "cifar10": "CIFAR-10"}
CREDITS = {  # shown on every page that shows the images
    "mnist": "MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0).",
    "fashion": "Fashion-MNIST by Han Xiao, Kashif Rasul and Roland Vollgraf, Zalando Research (MIT licence).",
    "cifar10": "CIFAR-10 by Alex Krizhevsky, Vinod Nair and Geoffrey Hinton.",
}
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
FALLBACK_NOTICE = ("No MNIST data was found and none could be downloaded, so this gallery was built from the "
                   "small MNIST sample bundled with the generator (9,000 training and 2,000 test images). For "
                   "the full gallery put a keras-layout mnist.npz at data/mnist.npz (or name one with "
                   "make site DATA=file) and build again.")


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray  # N×H×W or N×H×W×C on the 0..255 scale (uint8, or float32 from floats in 0..1)
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    source_path: str | None
    class_names: list[str] = field(default_factory=list)
    title_text: str = ""
    credit_text: str = ""
    notice: str = ""  # said on the console and on the index, e.g. that the bundled sample stood in
    notes: list[str] = field(default_factory=list)  # how the files were read, e.g. one-hot labels converted

    @property
    def title(self) -> str:
        return self.title_text or TITLES.get(self.name, self.name)

    @property
    def credit(self) -> str:
        return self.credit_text or CREDITS.get(self.name, "")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one image."""
        shape = self.x_train.shape[1:]
        return tuple(shape) if len(shape) == 3 else (*shape, 1)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def pixel_format(self) -> str:
        from .files import pixel_format

        return pixel_format(self.x_train)

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
    """N×H×W (gray) or N×H×W×C pixels on the 0..255 scale -> float32 N×H×W×C with zero mean and unit
    variance over the training pixels."""
    x = (images.astype(np.float32) - np.float32(mean)) / np.float32(std)
    return x if x.ndim == 4 else x[..., None]


def unstandardize(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Back to the 0..255 pixel scale (float), for showing patterns the way images look."""
    return np.asarray(x, dtype=np.float32) * np.float32(std) + np.float32(mean)


def load_dataset(cfg: DataConfig, project_root: Path, log=print) -> Dataset:
    notice = ""
    if cfg.sample:
        source = sample_source()
        arrays = source.read()
    else:
        try:
            source, arrays = load_first(candidate_sources(cfg.dataset, cfg.path, project_root), cfg.dataset)
        except NothingFound:
            if not (cfg.fallback and cfg.dataset == "mnist"):
                raise
            source, notice = sample_source(), FALLBACK_NOTICE
            log(f"[data] {notice}")
            arrays = source.read()
    for split, limit in (("train", cfg.train_limit), ("test", cfg.test_limit)):
        if limit:
            arrays[f"x_{split}"], arrays[f"y_{split}"] = arrays[f"x_{split}"][:limit], arrays[f"y_{split}"][:limit]
    name = "mnist" if cfg.sample or notice else cfg.dataset
    notes = arrays.pop("notes", [])
    for note in notes:
        log(f"[data] {note}")
    return Dataset(name=name, source=source.label, source_path=str(source.path) if source.path else None,
                   class_names=class_names(cfg, name, arrays), title_text=cfg.title or "",
                   credit_text=cfg.credit or "", notice=notice, notes=notes,
                   **{k: np.asarray(v) for k, v in arrays.items()})


def class_names(cfg: DataConfig, name: str, arrays: dict[str, np.ndarray]) -> list[str]:
    """The configured names, else the data set's own, else "0".."K−1"; the labels must stay below
    the number of names (a class may have no image in a small sample)."""
    k = int(max(arrays["y_train"].max(), arrays["y_test"].max())) + 1
    if cfg.class_names:
        if len(cfg.class_names) < k:
            raise UserError(f"data.class_names: {len(cfg.class_names)} names for {k} classes (labels 0..{k - 1})")
        return list(cfg.class_names)
    names = CLASS_NAMES.get(name)
    if names is None:
        return [str(i) for i in range(k)]
    if len(names) < k:
        raise UserError(f"{TITLES[name]} has {len(names)} classes but the labels go up to {k - 1}")
    return list(names)
