"""Shared fixtures: the sites the suite builds once per session, in temporary folders, and the tiers.

Tiers (markers, registered in pyproject.toml): `site` for tests that read a built site or build one,
`browser` for those that drive chromium, `slow` for the rest that take more than a few seconds, `unit`
for everything else. `make test-fast` runs `-m "not site and not browser and not slow"`; `make test`
runs everything.

The whole-site builds the session needs are started as soon as the tests are collected, each as
`python -m generator build` in a background process, and the suite runs the tests that need none of
them first; a test that needs a site waits for its build there. Tests are ordered module by module so
that a module's fixtures are still set up once.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def run_here(*args: str) -> subprocess.CompletedProcess:
    """run_cli's stand-in without a new Python and TensorFlow: the CLI's own main() in this process, its
    exit code and what it printed to stdout and stderr, as a CompletedProcess. What only a fresh process
    shows (TensorFlow's start-up output on file descriptor 2, a signal's exit) needs run_cli."""
    from generator import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return subprocess.CompletedProcess(["generator", *args], code, out.getvalue(), err.getvalue())


# ---- the sites built once per session ----------------------------------------------------------------

# One small config for the builds that test building itself: caching and atomic swaps
# (test_atomic_and_cache), bad input against a previous site (test_bad_input) and reproducibility
# (test_reproducible, which builds it a second time from scratch and compares the two).
SMALL = {
    "seed": 13,
    # few test images: few mistakes, so few explanation pages and pictures to copy and hash
    "data": {"sample": True, "train_limit": 600, "test_limit": 60},
    # shift_pixels: the random shifts of the training images must be seeded too
    "model": {"epochs": 2, "batch_size": 50, "shift_pixels": 1},
    "oip": {"layers": ["Conv2D_1"], "steps": 6, "noise_scales": [1, 3], "snapshots": 3, "node_max_side": 0},
    "dreams": {"enabled": False},
    "activations": {"image_sets": [{"name": "firsts", "indices": [0, 1, 2]},
                                   {"name": "ones", "rule": {"kind": "most_confident", "label": 1, "count": 2}}],
                    "comparisons": [{"a": "firsts", "b": "ones"}]},
    "site": {"title": "First site"},
}


class Background:
    """A whole-site build, `python -m generator build`, in a background process with its own cache."""

    def __init__(self, name: str, config: Path | dict):
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.result: subprocess.CompletedProcess | None = None
        self.config = config

    def start(self, base: Path) -> None:
        if self.proc is not None:
            return
        self.base = base / self.name
        self.base.mkdir(parents=True)
        config = self.config
        if isinstance(config, dict):
            config = self.base / "config.yaml"
            config.write_text(yaml.safe_dump(self.config))
        self.argv = ["build", "--config", str(config), "--out", str(self.base / "site"),
                     "--cache", str(self.base / "cache")]
        self.stdout, self.stderr = open(self.base / "build.log", "w"), open(self.base / "stderr.txt", "w")
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.proc = subprocess.Popen([sys.executable, "-m", "generator", *self.argv], cwd=ROOT, env=env,
                                     stdout=self.stdout, stderr=self.stderr, text=True)

    def wait(self, base: Path, timeout: float = 1800) -> Path:
        """The build's folder (site/, cache/, build.log, stderr.txt) once it has succeeded."""
        self.start(base)  # not started at collection (e.g. a test selected by -k alone): start it now
        if self.result is None:
            code = self.proc.wait(timeout=timeout)
            self.stdout.close()
            self.stderr.close()
            self.result = subprocess.CompletedProcess(self.argv, code, (self.base / "build.log").read_text(),
                                                      (self.base / "stderr.txt").read_text())
        assert self.result.returncode == 0, self.result.stdout[-2000:] + self.result.stderr[-3000:]
        return self.base

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


BUILDS = {
    # configs/quick.yaml built exactly as `make quick` would
    "quick_site": Background("quick", ROOT / "configs" / "quick.yaml"),
    # SMALL twice, from scratch, in separate processes and caches (test_reproducible compares them)
    "small_build": Background("small-a", SMALL),
    "small_build_again": Background("small-b", SMALL),
}
# Fixtures that need one of the builds, directly or through another fixture.
NEEDS = {"quick_site": "quick_site", "quick_test_set": "quick_site", "quick_site_links": "quick_site",
         "small_build": "small_build", "small_build_again": "small_build_again"}


def _builds_needed(item) -> set[str]:
    names = set(getattr(item, "fixturenames", ()))
    found = {NEEDS[name] for name in names if name in NEEDS}
    # test_browser's `site` is the quick site unless BROWSER_TEST_SITE names another
    if "site" in names and item.module.__name__ == "test_browser" and not os.environ.get("BROWSER_TEST_SITE"):
        found.add("quick_site")
    return found


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):  # drives chromium
            item.add_marker(pytest.mark.browser)
        elif _builds_needed(item):
            item.add_marker(pytest.mark.site)
        if not any(item.get_closest_marker(m) for m in ("site", "browser", "slow")):
            item.add_marker(pytest.mark.unit)
    # Tests that need no site first, then those on the small builds, then the quick site, the browser
    # last; a module's tests stay together and in their order (module-scoped fixtures are set up once).
    rank = {}
    for item in items:
        needs = _builds_needed(item)
        own = 3 if item.get_closest_marker("browser") else 2 if "quick_site" in needs else 1 if needs else 0
        rank[item.module] = max(rank.get(item.module, 0), own)
    first = {}
    for index, item in enumerate(items):
        first.setdefault(item.module, index)
    items.sort(key=lambda item: (rank[item.module], first[item.module]))


def pytest_collection_finish(session):
    """Start every build a selected test needs, so they run while the tests before them do."""
    if session.config.option.collectonly:
        return
    needed = set().union(*(_builds_needed(item) for item in session.items)) if session.items else set()
    if needed:
        base = session.config._tmp_path_factory.mktemp("builds")
        session.config._builds_base = base
        for name in sorted(needed):
            BUILDS[name].start(base)


def pytest_sessionfinish(session):
    for build in BUILDS.values():
        build.stop()


def _base(request) -> Path:
    base = getattr(request.config, "_builds_base", None)
    if base is None:
        base = request.config._builds_base = request.getfixturevalue("tmp_path_factory").mktemp("builds")
    return base


@pytest.fixture(scope="session")
def quick_site(request) -> Path:
    """configs/quick.yaml built exactly as `make quick` would, with its own cache; its console output in
    build.log beside the site."""
    return BUILDS["quick_site"].wait(_base(request)) / "site"


@pytest.fixture(scope="session")
def quick_site_links(quick_site) -> list[str]:
    """The quick site's broken links (tests/linkcheck.py), checked once for every test that asks."""
    from linkcheck import broken_links

    return broken_links(quick_site)


@pytest.fixture(scope="session")
def small_build(request) -> Path:
    """SMALL built from scratch: the folder with site/, cache/ and build.log (its console output).
    Read-only: tests that build again work on a copy (copy_build)."""
    return BUILDS["small_build"].wait(_base(request))


@pytest.fixture(scope="session")
def small_build_again(request) -> Path:
    """SMALL built a second time from scratch, in another process and cache."""
    return BUILDS["small_build_again"].wait(_base(request))


def search_entries(script: Path) -> list[dict]:
    """The entries of one part of the index's filter (static/search-*.js)."""
    import json

    text = script.read_text(encoding="utf-8")
    return json.loads(text[text.index(".concat([") + len(".concat("):text.rindex("]") + 1])


def copy_build(built: Path, to: Path) -> Path:
    """A copy of a built folder's site and cache in `to`, to build into without touching the original."""
    to.mkdir(parents=True, exist_ok=True)
    for name in ("site", "cache"):
        shutil.copytree(built / name, to / name, symlinks=True)
    return to


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
