"""Saving and loading `.keras` files atomically (and loading legacy `.h5` ones), with a one-line error for
anything unreadable."""
from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

from ..errors import UserError


def load_model_file(path: Path):
    path = Path(path)
    if path.is_dir():
        raise UserError(f"model file {path} is a folder, not a .keras file")
    if not path.is_file():
        raise UserError(f"model file not found: {path}")
    if path.suffix == ".keras":
        _check_archive(path)
    import keras

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # Keras raises many types for truncated or foreign files
        reason = str(err).strip().splitlines()[0][:120] if str(err).strip() else err.__class__.__name__
        if path.suffix in (".h5", ".hdf5"):  # Keras 3 reads its own legacy .h5 files, not every Keras 2 one
            raise UserError(f"{path}: not a readable .h5 model ({reason}); convert it: load it with Keras 2 "
                            f"(tf_keras) and save it with model.save('model.keras')") from None
        raise UserError(f"{path}: not a readable .keras model ({reason})") from None


def _check_archive(path: Path) -> None:
    """A `.keras` file is a zip archive; name truncation or a foreign file before Keras misreports it."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as err:
        raise UserError(f"{path}: not a readable .keras model (truncated or not a zip archive: "
                        f"{' '.join(str(err).split()) or err.__class__.__name__})") from None
    if broken is not None:
        raise UserError(f"{path}: not a readable .keras model (damaged member {broken})")
    missing = {"config.json", "model.weights.h5"} - names
    if missing:
        raise UserError(f"{path}: not a readable .keras model (missing {', '.join(sorted(missing))})")


def weights_fingerprint(path: Path) -> str:
    """Hash of the weights alone: Keras stamps a save date and object ids into the rest of the file,
    so two identical trainings give different `.keras` bytes but the same weights member."""
    import hashlib

    if Path(path).suffix != ".keras":  # a legacy .h5 model has no such member: hash it whole
        from ..cache import file_hash

        return file_hash(Path(path))[:16]
    _check_archive(path)
    with zipfile.ZipFile(path) as archive:
        return hashlib.sha256(archive.read("model.weights.h5")).hexdigest()[:16]


def save_model_file(model, path: Path) -> None:
    """Keras insists on a `.keras` suffix, so the temporary file keeps it before the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        model.save(tmp)
        with open(tmp, "rb+") as fh:  # on disk before the rename makes it the file a later build trusts
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
