"""Artifacts stored under a key made of what they depend on, written atomically, verified on read.

Layout: cache/<stage>/<key>.npz (arrays) and <key>.json (plain data + the npz's sha256). The json is
written last, so a kill at any moment leaves either nothing or a complete, checkable entry.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def stable_hash(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Artifact:
    key: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    reused: bool = False


class Store:
    def __init__(self, root: Path, log=print):
        self.root = Path(root)
        self.log = log
        if self.root.exists() and not self.root.is_dir():
            from .errors import UserError

            raise UserError(f"cache path {self.root} is a file, not a folder")

    def paths(self, stage: str, key: str) -> tuple[Path, Path]:
        folder = self.root / stage
        return folder / f"{key}.npz", folder / f"{key}.json"

    def load(self, stage: str, key: str) -> Artifact | None:
        """The stored artifact, or None when absent; a corrupt entry is reported and discarded."""
        npz_path, json_path = self.paths(stage, key)
        if not json_path.exists():
            return None
        try:
            record = json.loads(json_path.read_text())
            if file_hash(npz_path) != record["sha256"]:
                raise ValueError("checksum mismatch")
            with np.load(npz_path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
            meta = record["meta"]
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, zlib.error, EOFError) as err:
            reason = " ".join(str(err).split()) or err.__class__.__name__
            self.log(f"warning: cache entry {stage}/{key} is corrupt ({reason}); recomputing")
            self.discard(stage, key)
            return None
        return Artifact(key, arrays, meta, reused=True)

    def save(self, stage: str, artifact: Artifact) -> None:
        npz_path, json_path = self.paths(stage, artifact.key)
        buffer = io.BytesIO()
        np.savez(buffer, **artifact.arrays)
        data = buffer.getvalue()
        write_atomic(npz_path, data)
        record = {"sha256": hashlib.sha256(data).hexdigest(), "meta": artifact.meta}
        write_atomic(json_path, json.dumps(record, default=_plain).encode())

    def discard(self, stage: str, key: str) -> None:
        for path in self.paths(stage, key):
            path.unlink(missing_ok=True)

    def folder(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def clear_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
