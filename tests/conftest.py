"""Shared fixtures: one quick site built once per test session, in a temporary folder."""
from __future__ import annotations

import copy
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def merged(base: dict, change: dict) -> dict:
    """`base` with the nested mapping `change` laid over it (configs for test builds)."""
    out = copy.deepcopy(base)
    for key, value in change.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry below `folder`: files by content hash and mode, folders by mode."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        mode = stat.S_IMODE(path.lstat().st_mode)
        found[rel] = f"dir {mode:o}" if path.is_dir() else f"{hashlib.sha256(path.read_bytes()).hexdigest()} {mode:o}"
    return found


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 600):
    """Run `python -m generator ...` as a user would; returns the CompletedProcess."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def quick_site(tmp_path_factory) -> Path:
    """configs/quick.yaml built exactly as `make quick` would, with its own cache."""
    base = tmp_path_factory.mktemp("quick")
    result = run_cli("build", "--config", str(ROOT / "configs" / "quick.yaml"),
                     "--out", str(base / "site"), "--cache", str(base / "cache"))
    assert result.returncode == 0, result.stderr[-3000:]
    (base / "build.log").write_text(result.stdout)
    return base / "site"


@pytest.fixture(scope="session")
def quick_test_set(quick_site):
    """The quick site's model file and its test set (the bundled sample), standardized as the build does:
    (model file, x, y)."""
    import json

    import numpy as np

    model_file = sorted((quick_site.parent / "cache" / "model").glob("*.keras"))[-1]
    info = json.loads(model_file.with_suffix(".json").read_text())
    data = np.load(ROOT / "generator" / "data" / "sample" / "mnist-sample.npz")
    x = ((data["x_test"].astype(np.float32) - info["mean"]) / info["std"])[..., None]
    return model_file, x, data["y_test"].astype(np.int64)
