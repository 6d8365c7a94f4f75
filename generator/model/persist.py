"""Saving and loading `.keras` files atomically, with a one-line error for anything unreadable."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import UserError


def load_model_file(path: Path):
    import keras

    if not Path(path).is_file():
        raise UserError(f"model file not found: {path}")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # Keras raises many types for truncated or foreign files
        reason = str(err).strip().splitlines()[0][:120] if str(err).strip() else err.__class__.__name__
        raise UserError(f"{path}: not a readable .keras model ({reason})") from None


def save_model_file(model, path: Path) -> None:
    """Keras insists on a `.keras` suffix, so the temporary file keeps it before the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
