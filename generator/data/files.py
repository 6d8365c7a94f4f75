"""Read one dataset file: a keras-layout `.npz` or a folder of the four IDX `.gz` files."""
from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import UserError

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
KEYS = tuple(IDX_FILES)


def is_dataset(path: Path) -> bool:
    """True when `path` looks like something `read_arrays` can read."""
    if path.is_file():
        return path.suffix == ".npz"
    return path.is_dir() and all((path / name).is_file() for name in IDX_FILES.values())


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    if path.is_dir():
        arrays = {key: _read_idx(path / name) for key, name in IDX_FILES.items()}
    else:
        arrays = _read_npz(path)
    _check(arrays, path)
    return arrays


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise UserError(f"{path}: not a keras mnist.npz layout (missing {', '.join(missing)})")
            return {k: npz[k] for k in KEYS}
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as err:
        raise UserError(f"{path}: corrupt or unreadable .npz ({err.__class__.__name__})") from None


def _read_idx(path: Path) -> np.ndarray:
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise UserError(f"{path}: corrupt or unreadable IDX file ({err.__class__.__name__})") from None
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise UserError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise UserError(f"{path}: truncated IDX file ({data.size} of {int(np.prod(shape))} bytes)")
    return data.reshape(shape)


def _check(arrays: dict[str, np.ndarray], path: Path) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
            raise UserError(f"{path}: {split} images must be N×28×28 with N labels, got {x.shape} and {y.shape}")
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise UserError(f"{path}: {split} labels must be 0..9")
