"""Same config and seed, two builds from scratch: identical weights, identical arrays, identical pictures,
and a site that records the seed, the versions and the config hash it was built from."""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import SMALL as CONFIG
from generator.config import config_hash, load_config


@pytest.fixture(scope="module")
def two_builds(small_build, small_build_again) -> list[Path]:
    """conftest's SMALL config built twice from scratch, each by `python -m generator build` in its own
    process and with its own cache (the session's shared small build and a second one)."""
    for run in (small_build, small_build_again):
        assert "[model] training" in (run / "build.log").read_text()  # from scratch, not from a shared cache
    return [small_build, small_build_again]


def weights(cache: Path) -> dict[str, np.ndarray]:
    [model] = (cache / "model").glob("*.keras")
    with zipfile.ZipFile(model) as archive:
        data = archive.read("model.weights.h5")
    found: dict[str, np.ndarray] = {}
    with h5py.File(io.BytesIO(data), "r") as h5:
        h5.visititems(lambda name, item: found.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return found


def stage_arrays(cache: Path) -> dict[str, dict[str, np.ndarray]]:
    """{stage: {array: values}} of every analysis stage's one cached entry."""
    out = {}
    for folder in sorted(p for p in cache.iterdir() if p.is_dir() and p.name not in ("model", "assets")):
        [npz] = folder.glob("*.npz")
        with np.load(npz) as stored:
            out[folder.name] = {name: stored[name] for name in stored.files if not name.endswith("seconds")}
    return out


def test_identical_model_weights(two_builds):
    a, b = (weights(run / "cache") for run in two_builds)
    assert sorted(a) == sorted(b) and len(a) >= 10  # kernels and biases of every layer
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    info = [json.loads(next((run / "cache" / "model").glob("*.json")).read_text()) for run in two_builds]
    assert info[0]["history"] == info[1]["history"]
    assert info[0]["test_accuracy"] == info[1]["test_accuracy"]


def test_identical_analysis_arrays(two_builds):
    a, b = (stage_arrays(run / "cache") for run in two_builds)
    assert sorted(a) == sorted(b)
    assert {"evaluation", "sets"} <= set(a), sorted(a)
    for stage in a:
        assert sorted(a[stage]) == sorted(b[stage]), stage
        for name in a[stage]:
            x, y = a[stage][name], b[stage][name]
            assert np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"), f"{stage}/{name}"  # NaN: undefined in both
    assert a["evaluation"]["confusion"].sum() == CONFIG["data"]["test_limit"]


def test_oip_arrays_identical_when_the_stage_runs(two_builds):
    a = stage_arrays(two_builds[0] / "cache")
    b = stage_arrays(two_builds[1] / "cache")
    for name in ("patterns", "final", "failed", "curve"):
        assert np.array_equal(a["oip-conv2d_1"][name], b["oip-conv2d_1"][name]), name


def test_identical_pictures(two_builds):
    """Every file but the pages and the marker (which records the written files' times); the offered
    .keras model by its weights, since Keras stamps the save date into the rest of the file."""
    from generator.model.persist import weights_fingerprint
    from generator.site_writer import MARKER

    def files(site: Path) -> dict[str, str]:
        return {p.relative_to(site).as_posix(): weights_fingerprint(p) if p.suffix == ".keras"
                else hashlib.sha256(p.read_bytes()).hexdigest()
                for p in site.rglob("*") if p.is_file() and p.suffix != ".html" and p.name != MARKER}

    a, b = (files(run / "site") for run in two_builds)
    assert "model/model.keras" in a
    assert a == b


def test_site_records_seed_versions_and_config_hash(two_builds):
    html = (two_builds[0] / "site" / "index.html").read_text()
    assert re.search(rf"<dt>Seed</dt><dd>{CONFIG['seed']}</dd>", html)
    assert config_hash(load_config(two_builds[0] / "config.yaml")) in html
    for package in ("tensorflow", "keras", "numpy"):
        name = "tensorflow-cpu" if package == "tensorflow" else package
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = metadata.version(package)
        assert version in html, package
