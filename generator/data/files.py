"""Read one dataset file: a keras-layout `.npz` or a folder of the four IDX `.gz` files, and check
everything about it that can be known before any training."""
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
MIN_SIDE = 8  # below this no convolution and pooling stack has room to work


def is_dataset(path: Path) -> bool:
    """True when `path` looks like something `read_arrays` can read."""
    if path.is_file():
        return path.suffix == ".npz"
    return path.is_dir() and all((path / name).is_file() for name in IDX_FILES.values())


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The four arrays, images as uint8 (0..255) or float32 on the 0..255 scale (from floats in 0..1)."""
    if path.is_dir():
        arrays = {key: _read_idx(path / name) for key, name in IDX_FILES.items()}
    else:
        arrays = _read_npz(path)
    return check_arrays(arrays, str(path))


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise UserError(f"{path}: not a keras dataset .npz layout (missing {', '.join(missing)}; "
                                f"expected x_train, y_train, x_test, y_test)")
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


def check_arrays(arrays: dict[str, np.ndarray], where: str) -> dict[str, np.ndarray]:
    """Images N×H×W or N×H×W×C (C = 1 or 3), uint8 0..255 or float 0..1, labels 0..K−1; the same image
    shape in both splits and at least one image in each. Returns the arrays with images on the
    0..255 scale (uint8 kept as it is; floats as float32 × 255) and whole-number labels."""
    out: dict = {}
    shapes = {}
    notes = []
    for split in ("train", "test"):
        x, y = np.asarray(arrays[f"x_{split}"]), np.asarray(arrays[f"y_{split}"])
        if y.ndim == 2 and y.shape[1] == 1:  # keras's CIFAR-10 keeps labels as a column
            y = y[:, 0]
        if y.ndim == 2 and len(y) and _one_hot(y):  # as keras's to_categorical stores them
            y = y.argmax(axis=1)
            notes.append(f"{split} labels were one-hot ({y.shape[0]:,}×{arrays[f'y_{split}'].shape[1]}); "
                         f"read as class numbers")
        if x.ndim not in (3, 4) or y.ndim != 1 or len(x) != len(y):
            raise UserError(f"{where}: {split} images must be N×H×W or N×H×W×C with N labels, "
                            f"got {x.shape} and {y.shape}")
        if len(x) == 0:
            raise UserError(f"{where}: the {split} set is empty")
        if x.ndim == 4 and x.shape[-1] not in (1, 3):
            raise UserError(f"{where}: {split} images have {x.shape[-1]} channels; 1 (gray) or 3 (RGB) are supported")
        if min(x.shape[1:3]) < MIN_SIDE:
            raise UserError(f"{where}: {split} images are {x.shape[1]}×{x.shape[2]}; at least "
                            f"{MIN_SIDE}×{MIN_SIDE} is needed")
        out[f"x_{split}"] = _pixels(x, where, split)
        out[f"y_{split}"] = _labels(y, where, split)
        shapes[split] = x.shape[1:] if x.ndim == 4 else x.shape[1:] + (1,)
    if shapes["train"] != shapes["test"]:
        raise UserError(f"{where}: training images are {_shape(shapes['train'])} but test images "
                        f"{_shape(shapes['test'])}")
    out["notes"] = notes  # what was read differently from how it was stored, for the model card
    return out


def _one_hot(y: np.ndarray) -> bool:
    """Rows of zeros with exactly one 1 (any number type)."""
    return bool(np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all())


def _shape(shape: tuple) -> str:
    return "×".join(str(s) for s in shape)


def _pixels(x: np.ndarray, where: str, split: str) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.integer):
        if x.min() < 0 or x.max() > 255:
            raise UserError(f"{where}: {split} images are integers outside 0..255 ({x.min()}..{x.max()})")
        return x.astype(np.uint8)
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all():
            raise UserError(f"{where}: {split} images contain NaN or infinity")
        if x.min() < 0 or x.max() > 1:
            raise UserError(f"{where}: {split} images are floats outside 0..1 ({x.min():.3g}..{x.max():.3g}); "
                            f"give floats in 0..1 or uint8 in 0..255")
        return (x.astype(np.float32) * np.float32(255))
    raise UserError(f"{where}: {split} images have type {x.dtype}; give uint8 0..255 or floats 0..1")


def _labels(y: np.ndarray, where: str, split: str) -> np.ndarray:
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise UserError(f"{where}: {split} labels must be whole numbers 0..K−1, got type {y.dtype}")
    if y.min() < 0:
        raise UserError(f"{where}: {split} labels must be 0..K−1, found {y.min()}")
    return y  # integer labels keep their type, so a data set's fingerprint (and its caches) stay put


def pixel_format(x: np.ndarray) -> str:
    """How the images came, for the index: the detection is shown, not hidden."""
    return "uint8 pixels 0–255" if x.dtype == np.uint8 else "float pixels 0–1 (scaled to 0–255)"
