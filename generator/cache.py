"""Artifacts stored under a key made of what they depend on, written atomically, verified on read.

Layout: cache/<stage>/<key>.npz (arrays) and <key>.json (plain data + the npz's sha256). The json is
written last, so a kill at any moment leaves either nothing or a complete, checkable entry.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
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


# The registry lists which analyses exist; what a result takes from it (which sections are in the
# build) is part of that result's depends, so adding an analysis does not redo every other one.
NOT_CODE = {"generator.registry"}


def code_version(*modules: str) -> str:
    """Hash of the named modules' source and of every generator module they import, anywhere in the
    file and transitively, read from the source (not from what happens to be loaded), so a result is
    redone whenever any code that made it changes, and only then."""
    seen: set[str] = set()
    stack = list(modules)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(_generator_imports(name) - seen)
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(name.encode() + _source(name).read_bytes())
    return digest.hexdigest()[:12]


def _source(name: str) -> Path:
    import importlib.util

    return Path(importlib.util.find_spec(name).origin)


def _generator_imports(name: str) -> set[str]:
    path = _source(name)
    found = imported_names(path, name if path.name == "__init__.py" else name.rpartition(".")[0])
    return {m for m in found if m.startswith("generator") and m not in NOT_CODE and _is_module(m)}


def imported_names(path: Path, package: str) -> set[str]:
    """Every dotted name a source file imports, anywhere in it (deferred imports too), relative
    imports resolved against `package`; `from a import b` gives both "a" and "a.b"."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def _is_module(name: str) -> bool:
    """True for a generator module or package; False for a name imported from one (a function)."""
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


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
