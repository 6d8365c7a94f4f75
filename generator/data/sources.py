"""Where the data comes from, tried in a fixed order so a build is predictable offline and online."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UserError
from .files import check_arrays, is_dataset, read_arrays

PACKAGE_DATA = Path(__file__).parent / "sample"
SAMPLE_FILE = PACKAGE_DATA / "mnist-sample.npz"
FASHION_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@dataclass
class Source:
    label: str
    path: Path | None
    read: Callable[[], dict[str, np.ndarray]]


def candidate_sources(dataset: str, config_path: str | None, project_root: Path) -> list[Source]:
    """Sources in the order they are tried: config file, project data/, keras cache, download."""
    found: list[Source] = []
    if config_path:
        path = Path(config_path).expanduser()
        if not path.is_absolute():
            path = project_root / path
        if not path.exists():
            raise UserError(f"data.path: no such file or folder: {path}")
        if not is_dataset(path):
            raise UserError(f"data.path: {path} is neither a .npz file nor a folder of the four IDX .gz files")
        return [Source("config file", path, lambda: read_arrays(path))]
    name = {"mnist": "mnist", "fashion": "fashion-mnist"}.get(dataset, dataset)
    data_dir = project_root / "data"
    # IDX files lying loose in data/ count as MNIST only: Fashion-MNIST's files have the same names.
    loose = (data_dir,) if dataset == "mnist" else ()
    for path in (data_dir / f"{name}.npz", data_dir / name, *loose):
        if is_dataset(path):
            found.append(Source("project data/ folder", path, lambda p=path: read_arrays(p)))
            break
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
    cached = keras_home / {"mnist": "mnist.npz", "fashion": "fashion-mnist"}.get(dataset, f"{dataset}.npz")
    if is_dataset(cached):
        found.append(Source("keras cache", cached, lambda: read_arrays(cached)))
    if dataset == "fashion" and is_dataset(FASHION_DEBIAN):
        found.append(Source("Debian dataset-fashion-mnist", FASHION_DEBIAN, lambda: read_arrays(FASHION_DEBIAN)))
    found.append(Source("keras download", None, lambda: _download(dataset)))
    return found


def sample_source() -> Source:
    return Source("bundled MNIST sample", SAMPLE_FILE, lambda: read_arrays(SAMPLE_FILE))


class NothingFound(UserError):
    """No source had the data and the download failed: the caller may fall back to the sample."""


def load_first(sources: list[Source], dataset: str) -> tuple[Source, dict[str, np.ndarray]]:
    for source in sources:
        try:
            return source, source.read()
        except _DownloadFailed:
            continue
    raise NothingFound(offline_message(dataset))


def offline_message(dataset: str) -> str:
    if dataset == "mnist":
        return ("no MNIST data found and the download failed (offline?): put a keras-layout mnist.npz "
                "at data/mnist.npz, or name a .npz or IDX folder in data.path (data.fallback: false "
                "asked for this error instead of the bundled sample)")
    if dataset == "fashion":
        return ("no Fashion-MNIST found and the download failed (offline?): `apt-get install "
                "dataset-fashion-mnist`, or name an IDX folder in data.path")
    return (f"no {dataset} data found and the download failed (offline?): put a keras-layout "
            f"{dataset}.npz at data/{dataset}.npz, or name one in data.path")


class _DownloadFailed(Exception):
    pass


def _download(dataset: str) -> dict[str, np.ndarray]:
    import keras

    loader = {"mnist": keras.datasets.mnist, "fashion": keras.datasets.fashion_mnist,
              "cifar10": keras.datasets.cifar10}[dataset]
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as err:  # any network or file error means "not available here"
        raise _DownloadFailed(str(err)) from None
    return check_arrays({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test},
                        f"keras {dataset} download")
