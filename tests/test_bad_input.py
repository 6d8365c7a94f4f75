"""Bad input: one line naming the problem, a non-zero exit, no traceback, and the previous site untouched.

The session's small site and a copy of its cache (conftest's SMALL) are the previous site; every case runs
the CLI against a copy of that site and the module's cache, so no case trains a model. Most cases call the
CLI's main() in this process; a few run it as a real process (IN_A_PROCESS).
"""
from __future__ import annotations

import gzip
import os
import re
import shutil
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, SMALL, copy_build, merged, run_cli, run_here, snapshot
from generator.data.sources import SAMPLE_FILE

# The cases' config: the small site's, with no OIP layers (a case's own model has other layer names).
BASE = merged(SMALL, {"oip": {"layers": []}, "site": {"title": "Previous site"}})
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def previous(small_build, tmp_path_factory):
    """A built site, its cache and some broken files to feed the CLI."""
    base = copy_build(small_build, tmp_path_factory.mktemp("bad-input"))
    files = base / "files"
    files.mkdir()
    sample = SAMPLE_FILE.read_bytes()
    (files / "cut.npz").write_bytes(sample[: len(sample) // 2])
    (files / "junk.npz").write_bytes(b"PK\x03\x04 definitely not a zip archive")
    np.savez(files / "layout.npz", images=np.zeros((3, 28, 28), np.uint8))
    (files / "empty-folder").mkdir()
    model = next((base / "cache" / "model").glob("*.keras"))
    (files / "cut.keras").write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    (files / "folder.keras").mkdir()
    _save_models(files)
    _save_odd_data(files)
    (files / "not-a-picture.jpg").write_text("this is text, not a JPEG\n")
    _write_png_header(files / "huge.png", 20000, 20000)  # past Pillow's DecompressionBombError
    _write_png_header(files / "big.png", 10000, 10000)  # past its warning: would be decoded, slowly
    (files / "a-file").write_text("not a folder\n")
    (files / "documents").mkdir()
    (files / "documents" / "thesis.txt").write_text("years of work\n")
    _write_idx(files / "idx-cut", np.load(SAMPLE_FILE))
    cut = files / "idx-cut" / "t10k-images-idx3-ubyte.gz"
    cut.write_bytes(gzip.compress(gzip.decompress(cut.read_bytes())[:5000]))
    return base


def _write_idx(folder: Path, arrays) -> None:
    folder.mkdir()
    for key, name in {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
                      "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}.items():
        a = arrays[key][:200]
        header = bytes([0, 0, 8, a.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in a.shape)
        (folder / name).write_bytes(gzip.compress(header + a.tobytes()))


def _write_png_header(path: Path, width: int, height: int) -> None:
    """A PNG that claims width×height gray pixels and holds none: all a size check may read."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))


def _save_models(files: Path) -> None:
    """Models the gallery cannot open, each for one reason."""
    import keras
    from keras import layers

    keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(name="Flatten"),
                      layers.Dense(10, activation="softmax", name="Dense_2")]).save(files / "other.keras")
    a, b = keras.Input((28, 28, 1), name="left"), keras.Input((28, 28, 1), name="right")
    joined = layers.Concatenate()([layers.Conv2D(2, 3)(a), layers.Conv2D(2, 3)(b)])
    keras.Model([a, b], layers.Dense(10)(layers.Flatten()(joined))).save(files / "two-inputs.keras")
    vector = keras.Input((64,), name="features")
    keras.Model(vector, layers.Dense(10)(layers.Dense(8)(vector))).save(files / "vector-input.keras")
    gray = keras.Input((28, 28, 1))
    keras.Model(gray, layers.Dense(10)(layers.GlobalAveragePooling2D()(layers.Conv2D(4, 3)(gray)))).save(
        files / "gray-conv.keras")
    rgb = keras.Input((32, 32, 3))
    keras.Model(rgb, layers.Dense(10)(layers.GlobalAveragePooling2D()(layers.Conv2D(4, 3)(rgb)))).save(
        files / "rgb-32.keras")


def _save_odd_data(files: Path) -> None:
    rng = np.random.default_rng(0)
    images = lambda n, *shape: rng.random((n, *shape), np.float32)
    labels = lambda n: rng.integers(0, 10, n)
    np.savez(files / "float-0-2.npz", x_train=2 * images(20, 28, 28), y_train=labels(20),
             x_test=images(5, 28, 28), y_test=labels(5))
    np.savez(files / "empty-test.npz", x_train=images(20, 28, 28), y_train=labels(20),
             x_test=images(0, 28, 28), y_test=labels(0))
    np.savez(files / "four-channels.npz", x_train=images(20, 28, 28, 4), y_train=labels(20),
             x_test=images(5, 28, 28, 4), y_test=labels(5))
    np.savez(files / "tiny-images.npz", x_train=images(20, 6, 6), y_train=labels(20),
             x_test=images(5, 6, 6), y_test=labels(5))
    with_nan = images(5, 28, 28)
    with_nan[2, 3, 4] = np.nan
    np.savez(files / "nan-pixels.npz", x_train=images(20, 28, 28), y_train=labels(20), x_test=with_nan,
             y_test=labels(5))


# (id, config change or raw YAML text, extra CLI args, what the line must name, stage word it needs)
CASES = [
    ("malformed-yaml", "seed: [1\nmodel: {epochs: 1\n", [], "malformed YAML at line", None),
    ("unknown-key", {"model": {"epochz": 3}}, [], "model.epochz: unknown key", None),
    ("unknown-section", {"colours": {"a": 1}}, [], "colours: unknown key", None),
    ("wrong-type", {"model": {"epochs": "three"}}, [], "model.epochs: expected a whole number", None),
    ("wrong-type-list", {"oip": {"layers": "Conv2D_1"}}, [], "oip.layers: expected a list", None),
    ("out-of-range-setting", {"oip": {"steps": -3}}, [], "oip.steps: must be >= 0, got -3", None),
    # (no comparisons: BASE's name sets these cases replace)
    ("negative-image-number", {"activations": {"image_sets": [{"name": "x", "indices": [3, -4]}],
                                               "comparisons": []}}, [],
     "must be >= 0, got -4", None),
    ("image-number-past-end", {"activations": {"image_sets": [{"name": "x", "indices": [3, 99999]}],
                                               "comparisons": []}}, [],
     "test image 99999 is out of range", "image_set"),
    ("unknown-layer", {"oip": {"layers": ["Conv2D_9"], "steps": 2, "noise_scales": [1]}}, [],
     "Conv2D_9", "oip"),
    ("unknown-dream-layer", {"dreams": {"enabled": True, "layer": "Conv2D_9", "count": 1, "steps": 1}}, [],
     "Conv2D_9", "dream"),
    ("unknown-map", {"dreams": {"enabled": True, "layer": "Conv2D_1", "maps": [999], "steps": 1}}, [],
     "999", "dream"),
    ("missing-dataset-file", {}, ["--data", "{files}/no-such.npz"], "no such file", None),
    ("dataset-folder-without-data", {}, ["--data", "{files}/empty-folder"], "neither a .npz file nor", None),
    ("corrupt-npz", {}, ["--data", "{files}/junk.npz"], "corrupt or unreadable .npz", None),
    ("truncated-npz", {}, ["--data", "{files}/cut.npz"], "corrupt or unreadable .npz", None),
    ("truncated-idx-file", {}, ["--data", "{files}/idx-cut"], "truncated IDX file", None),
    ("npz-of-another-layout", {}, ["--data", "{files}/layout.npz"], "not a keras dataset .npz layout", None),
    ("float-images-outside-0-1", {}, ["--data", "{files}/float-0-2.npz"], "floats outside 0..1", None),
    ("empty-test-set", {}, ["--data", "{files}/empty-test.npz"], "the test set is empty", None),
    ("four-channel-images", {}, ["--data", "{files}/four-channels.npz"], "4 channels", None),
    ("images-smaller-than-8", {}, ["--data", "{files}/tiny-images.npz"], "at least 8×8", None),
    ("class-names-of-another-count", {"data": {"class_names": ["a", "b"]}}, [], "2 names for 10 classes", None),
    ("custom-data-without-path", {"data": {"sample": False, "dataset": "custom"}}, [], "custom needs data.path",
     None),
    ("missing-data-path-in-config", {"data": {"sample": False, "path": "{files}/no-such.npz"}}, [],
     "no such file", None),
    ("truncated-model-file", {"model": {"path": "{files}/cut.keras"}}, [], "truncated or not a zip archive", None),
    ("model-file-is-a-folder", {"model": {"path": "{files}/folder.keras"}}, [], "is a folder", None),
    ("missing-model-file", {"model": {"path": "{files}/no-such.keras"}}, [], "model file not found", None),
    ("model-without-convolutions", {"model": {"path": "{files}/other.keras"}}, [],
     "no Conv2D, SeparableConv2D or DepthwiseConv2D layer", None),
    ("model-with-two-inputs", {"model": {"path": "{files}/two-inputs.keras"}}, [], "2 inputs", None),
    ("model-with-a-vector-input", {"model": {"path": "{files}/vector-input.keras"}}, [], "not an image", None),
    ("model-for-other-images", {"model": {"path": "{files}/rgb-32.keras"}}, [],
     "takes 32×32×3 images but the data's are 28×28×1", None),
    ("dream-picture-not-an-image", {"dreams": {"enabled": True, "picture": "{files}/not-a-picture.jpg",
                                               "count": 1, "steps": 1}}, [], "not-a-picture.jpg", "dream"),
    ("dream-picture-20000x20000", {"dreams": {"enabled": True, "picture": "{files}/huge.png", "count": 1,
                                              "steps": 1}}, [], "huge.png is too large", "dream"),
    ("dream-picture-10000x10000", {"dreams": {"enabled": True, "picture": "{files}/big.png", "count": 1,
                                              "steps": 1}}, [], "big.png is too large", "dream"),
    ("missing-config-file", None, [], "config file not found", None),
    ("output-path-is-a-file", {}, ["--out", "{files}/a-file"], "is a file, not a folder", None),
    ("output-folder-of-other-files", {}, ["--out", "{files}/documents"], "did not write", None),
    ("output-parent-missing", {}, ["--out", "{files}/no-such-folder/site"], "does not exist", None),
    ("cache-path-is-a-file", {}, ["--cache", "{files}/a-file"], "a-file is a file, not a folder", None),
]


def _fill(value, files: Path):
    if isinstance(value, str):
        return value.replace("{files}", str(files))
    if isinstance(value, list):
        return [_fill(v, files) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, files) for k, v in value.items()}
    return value


def assert_one_line_error(result, names: str) -> None:
    assert result.returncode != 0, f"exit 0\n{result.stdout[-2000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith("error: "), lines[0]
    assert names in lines[0], lines[0]
    print(lines[0])  # shown by `pytest -rP`


def run_case(previous: Path, tmp_path: Path, change, args: list[str], out: Path | None = None, run=run_here):
    files = previous / "files"
    config = tmp_path / "case.yaml"
    if change is None:
        config = tmp_path / "no-such-config.yaml"
    elif isinstance(change, str):
        config.write_text(change)
    else:
        config.write_text(yaml.safe_dump(merged(BASE, _fill(change, files))))
    site = out or tmp_path / "site"
    if out is None:
        shutil.copytree(previous / "site", site, symlinks=True)
    argv = ["build", "--config", str(config), "--out", str(site), "--cache", str(previous / "cache")]
    extra = _fill(args, files)
    for flag, value in zip(extra[::2], extra[1::2]):  # a flag given here replaces the default one
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return run(*argv), site


# These run as a real process (`python -m generator`), so a traceback or a second line from anywhere
# (TensorFlow's start-up included) would show: one case for each place a build can stop (the config, the
# data, loading the model, checking the config against the model). The rest call the same `cli.main` in
# this process, which saves a Python and TensorFlow start (seconds) per case.
IN_A_PROCESS = {"malformed-yaml", "truncated-npz", "truncated-model-file", "unknown-layer"}


# Problems in the data file, or between the data and the model, that `check` finds by reading the data
# (before this, they passed `check` and stopped the build later).
CHECK_CASES = [
    ("nan-pixels", {}, ["--data", "{files}/nan-pixels.npz"], "test images contain NaN or infinity"),
    ("class-names-too-few", {"data": {"class_names": ["a", "b"]}}, [], "2 names for 10 classes"),
    ("class-names-more-than-the-model-scores",
     {"data": {"class_names": list("abcdefghijk")}, "model": {"path": "{files}/gray-conv.keras"}}, [],
     "data.class_names: 11 names but the model scores 10 classes"),
]


@pytest.mark.parametrize("change, args, names", [c[1:] for c in CHECK_CASES], ids=[c[0] for c in CHECK_CASES])
def test_check_reads_the_data(previous, tmp_path, change, args, names):
    config = tmp_path / "case.yaml"
    config.write_text(yaml.safe_dump(merged(BASE, _fill(change, previous / "files"))))
    assert_one_line_error(run_here("check", "--config", str(config), *_fill(args, previous / "files")), names)


@pytest.mark.parametrize("change, args, names, needs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_leaves_the_site(previous, tmp_path, change, args, names, needs, request):
    before = snapshot(previous / "site")
    process = request.node.callspec.id in IN_A_PROCESS
    result, site = run_case(previous, tmp_path, change, args, run=run_cli if process else run_here)
    assert_one_line_error(result, names)
    assert snapshot(site) == before
    assert (previous / "files" / "documents" / "thesis.txt").read_text() == "years of work\n"
    assert not list(site.parent.glob(f".{site.name}.new-*")), "a staging folder was left behind"


def test_output_folder_that_holds_the_current_folder(previous, tmp_path, monkeypatch):
    here = tmp_path / "project"
    (here / "work").mkdir(parents=True)
    (here / "work" / "notes.txt").write_text("keep me\n")
    config = tmp_path / "case.yaml"
    config.write_text(yaml.safe_dump(BASE))
    monkeypatch.chdir(here / "work")  # the CLI run from inside the folder it is asked to replace
    for out in (".", "..", str(here)):
        result = run_here("build", "--config", str(config), "--out", out, "--cache", str(previous / "cache"))
        assert_one_line_error(result, "holds the current folder")
    assert sorted(os.listdir(here)) == ["work"] and (here / "work" / "notes.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("locked", ["site", "parent"])
def test_output_without_write_permission(previous, tmp_path, locked):
    """The site folder itself, or the folder it lives in (where the new site is staged), is read-only."""
    parent = tmp_path / "locked"
    parent.mkdir()
    site = parent / "site"
    shutil.copytree(previous / "site", site, symlinks=True)
    folder = site if locked == "site" else parent
    folder.chmod(0o555)
    try:
        before = snapshot(site)
        result, _ = run_case(previous, tmp_path, {}, [], out=site)
        assert_one_line_error(result, "not writable")
        assert snapshot(site) == before and sorted(os.listdir(parent)) == ["site"]
        assert stat.S_IMODE(folder.stat().st_mode) == 0o555
    finally:
        folder.chmod(0o755)


def _built_pages(previous: Path, tmp_path: Path, change: dict) -> dict[str, str]:
    result, site = run_case(previous, tmp_path, change, [])
    assert result.returncode == 0, result.stderr[-3000:]
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in site.rglob("*.html")}


def _assert_escaped(pages: dict[str, str], where: list[str]) -> None:
    for url, html in pages.items():
        assert HOSTILE not in html, f"{url} shows the config text as markup"
    for url in where:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[url], f"{url} does not show the text"


def test_site_title_is_escaped_on_every_page(previous, tmp_path):
    pages = _built_pages(previous, tmp_path, {"site": {"title": HOSTILE}})
    assert len(pages) >= 2
    _assert_escaped(pages, list(pages))


def test_image_set_name_and_title_are_escaped(previous, tmp_path):
    sets = [{"name": HOSTILE, "indices": [0, 1, 2]},
            {"name": "plain", "title": HOSTILE, "indices": [3, 4]}]
    pages = _built_pages(previous, tmp_path, {"activations": {"image_sets": sets,
                                                              "comparisons": [{"a": HOSTILE, "b": "plain"}]}})
    set_pages = [url for url, html in pages.items() if "&lt;script&gt;" in html and url != "index.html"]
    assert set_pages, "no page shows the set's name"
    _assert_escaped(pages, set_pages)


# --- a NaN or infinity in gradient ascent ----------------------------------------------------------

def _poisoned(model, layer: str, index: int, value: float):
    """The model with one map's kernel set to NaN or infinity; every other map untouched."""
    conv = model.get_layer(layer)
    kernel = conv.kernel.numpy()
    kernel[..., index] = value
    conv.kernel.assign(kernel)
    return model


def _oip_engine():
    try:
        from generator.features.patterns import oip_engine
    except ImportError:
        pytest.skip("generator/features/patterns/oip_engine.py does not exist yet")
    return oip_engine


@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_nan_in_ascent_fails_only_that_map(value):
    oip_engine = _oip_engine()
    from generator.features.evidence.map_truth import map_status
    from generator.config.oip import OIPConfig
    from generator.model.architecture import build_model

    import keras

    keras.utils.set_random_seed(0)
    model = _poisoned(build_model(), "Conv2D_1", 3, value)
    cfg = OIPConfig(layers=["Conv2D_1"], steps=4, noise_scales=[1, 3], snapshots=2, node_max_side=0)
    res = oip_engine.layer_oips(model, "Conv2D_1", cfg, (-0.42, 2.8), seed=1)
    failed = res["failed"]
    assert failed.shape == (32, 2)
    assert failed[3].all(), "the poisoned map's starts are not marked failed"
    assert not np.delete(failed, 3, axis=0).any(), "a healthy map was marked failed"
    assert np.isfinite(np.delete(res["patterns"], 3, axis=0)).all()
    assert np.isfinite(np.delete(res["final"], 3, axis=0)).all()
    status = map_status(np.zeros(32), 100, res["final"], failed)  # no test image fires them: the ascent decides
    assert status[3] == "failed" and "failed" not in set(np.delete(status, 3))


def test_failed_map_is_shown_on_its_card_and_the_build_goes_on(previous, tmp_path, monkeypatch):
    """A whole build whose OIP search meets a NaN in one map: the build finishes, that map says so."""
    _oip_engine()
    from generator import pipeline
    from generator.config import load_config
    from generator.model import persist

    cache = tmp_path / "cache"  # the OIP result of a poisoned model must not reach the shared cache
    shutil.copytree(previous / "cache", cache)
    load = persist.load_model_file
    monkeypatch.setattr(persist, "load_model_file", lambda path: _poisoned(load(path), "Conv2D_1", 3, np.nan))
    config = tmp_path / "nan.yaml"
    config.write_text(yaml.safe_dump(merged(BASE, {"oip": {"layers": ["Conv2D_1"], "steps": 3, "noise_scales": [1, 3],
                                                           "snapshots": 2, "node_max_side": 0}})))
    log: list[str] = []
    site = tmp_path / "site"
    pipeline.build_site(load_config(config), site, ROOT, cache, log=log.append)
    assert log[-1].startswith("built "), log[-5:]
    # the model itself was never re-run (its seconds, loading it, are whatever this machine takes)
    assert re.search(r"— model \d+\.\ds \(reused\), ", log[-1]) and "evaluation" in log[-1], log[-1]
    layer_page = (site / "layers" / "conv2d-1" / "index.html")
    if not layer_page.exists():
        layer_page = next(site.glob("layers/*/index.html"))
    html = layer_page.read_text()
    assert html.count('class="mapcard failed"') == 1, "not exactly one map is shown failed"
    assert re.search(r'<a class="mapcard failed" href="[^"]*map-003\.html"', html), "map 3 is not the failed one"
    map_page = next(layer_page.parent.glob("map-003.html")).read_text()
    assert "start(s) failed" in map_page and 'class="badge failed"' in map_page
    assert "start(s) failed" not in (layer_page.parent / "map-004.html").read_text()
