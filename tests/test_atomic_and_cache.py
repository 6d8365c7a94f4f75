"""Builds that never lose work: a killed build leaves the last site as it was, the cache never trusts a
half-written or damaged entry, and a rebuild redoes only what its changes touch.

The session's small site and cache (conftest's SMALL, built once) are the start; each test works on its
own copy of them. Builds run the CLI's main() in this process (run_here); only the builds that a signal
stops run as a process of their own.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, SMALL, copy_build, merged, run_here, snapshot

BASE = SMALL
# Training long enough to be stopped in its second epoch (a few seconds on two cores).
LONG_TRAINING = {"data": {"train_limit": 1200}, "model": {"epochs": 2, "batch_size": 20}}


def summary(stdout: str) -> dict[str, bool]:
    """{stage: reused} from the run's last line, e.g. `... — model 0.0s (reused), evaluation 0.3s, site 0.1s`."""
    last = [line for line in stdout.splitlines() if line.startswith("built ")][-1]
    parts = last.rsplit(" — ", 1)[1].split(", ")
    return {part.split()[0]: part.endswith("(reused)") for part in parts}


class Work:
    """A copy of the module's built site and cache, and a way to build into them."""

    def __init__(self, built: Path, tmp: Path):
        self.tmp, self.site, self.cache = tmp, tmp / "site", tmp / "cache"
        copy_build(built, tmp)

    def config(self, change: dict | None = None, name: str = "config.yaml") -> Path:
        path = self.tmp / name
        path.write_text(yaml.safe_dump(merged(BASE, change or {})))
        return path

    def argv(self, change: dict | None = None) -> list[str]:
        return ["build", "--config", str(self.config(change)), "--out", str(self.site), "--cache", str(self.cache)]

    def build(self, change: dict | None = None):
        result = run_here(*self.argv(change))
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        return result

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.tmp.glob(".site.*"))


@pytest.fixture(scope="module")
def built(small_build) -> Path:
    return small_build


@pytest.fixture
def work(built, tmp_path) -> Work:
    return Work(built, tmp_path)


def _start(argv: list[str], tmp: Path) -> tuple[subprocess.Popen, queue.Queue]:
    """Run the CLI in the background; its stdout lines arrive on the queue as they are printed."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=open(tmp / "stderr.txt", "w"), text=True)
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def _wait_for(lines: queue.Queue, prefix: str, timeout: float = 180) -> list[str]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if line.startswith(prefix):
            return seen
    raise AssertionError(f"never saw a line starting {prefix!r}:\n{''.join(seen)[-3000:]}")


def _stop(proc: subprocess.Popen, sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=120)
    finally:
        proc.kill()


def _models(cache: Path) -> set[str]:
    return {p.name for p in (cache / "model").iterdir() if not p.name.startswith(".")}


# --- incremental ---------------------------------------------------------------------------------

def test_rebuild_with_nothing_changed_reuses_everything(work):
    result = work.build()
    stages = summary(result.stdout)
    assert {"model", "evaluation", "site"} <= set(stages)
    assert all(stages.values()), result.stdout.splitlines()[-1]
    assert not [line for line in result.stdout.splitlines() if "computing" in line or "training" in line
                or "drew pictures" in line], result.stdout


# What a rebuild in a subprocess finds loaded at its end: a build that reuses every stage and has no page
# to write must not pay for importing TensorFlow (about 3 s) or Keras.
REBUILD_AND_SAY_WHAT_IS_LOADED = """
import sys
from generator import cli
code = cli.main(sys.argv[1:])
print("loaded:", " ".join(m for m in ("tensorflow", "keras") if m in sys.modules) or "neither")
sys.exit(code)
"""


def test_rebuild_with_nothing_changed_writes_nothing_and_imports_no_tensorflow(work):
    before = snapshot(work.site)
    stamps = {p: p.stat().st_mtime_ns for p in work.site.rglob("*")}
    result = subprocess.run([sys.executable, "-c", REBUILD_AND_SAY_WHAT_IS_LOADED, *work.argv()], cwd=ROOT,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "loaded: neither", lines[-2:]
    assert "nothing to write" in lines[-2] and all(summary(result.stdout).values()), lines[-2]
    assert snapshot(work.site) == before  # not a byte changed, footers included
    assert {p: p.stat().st_mtime_ns for p in work.site.rglob("*")} == stamps  # and nothing rewritten
    assert work.leftovers() == []


def test_config_change_that_alters_a_result_rerenders_the_pages(work):
    """The comparison pages say the activation threshold their result was computed with: a new threshold
    recomputes the result and the pages, and going back to the old config writes the old pages again."""
    from generator import pipeline
    from generator.config import load_config

    def comparison_pages() -> dict[str, str]:
        return {p.name: p.read_text() for p in work.site.rglob("*.html") if "counts as <b>active</b>" in p.read_text()}

    first = comparison_pages()
    assert first and all("above 0.2 ×" in text for text in first.values())
    log: list[str] = []
    pipeline.build_site(load_config(work.config({"activations": {"threshold": 0.5}})), work.site, ROOT, work.cache,
                        log=log.append)
    stages = summary("\n".join(log))
    assert not stages["sets"] and "nothing to write" not in log[-1], log[-1]
    changed = comparison_pages()
    assert changed.keys() == first.keys() and all("above 0.5 ×" in text for text in changed.values())
    log.clear()
    pipeline.build_site(load_config(work.config()), work.site, ROOT, work.cache, log=log.append)
    assert summary("\n".join(log))["sets"] and "nothing to write" not in log[-1], log[-1]
    assert all("above 0.2 ×" in text for text in comparison_pages().values())


def test_a_site_changed_by_hand_is_written_again(work):
    """The marker records the site's files as written; a rebuild puts back a page someone deleted."""
    page = sorted(work.site.rglob("*.html"))[-1]
    text = page.read_text()
    page.unlink()
    result = work.build()
    assert "nothing to write" not in result.stdout.splitlines()[-1]
    assert page.read_text().split("<footer")[0] == text.split("<footer")[0]
    assert "nothing to write" in work.build().stdout.splitlines()[-1]


def test_template_change_rerenders_without_recomputing(work, tmp_path, monkeypatch):
    from generator import pipeline, render
    from generator.config import load_config

    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    base = templates / "base.html"
    base.write_text(base.read_text().replace("</footer>", "<p>template-marker-42</p>\n</footer>"))
    assert "template-marker-42" in base.read_text()
    monkeypatch.setattr(render, "TEMPLATES", templates)
    before = snapshot(work.site)
    log: list[str] = []
    pipeline.build_site(load_config(work.config()), work.site, ROOT, work.cache, log=log.append)
    stages = summary("\n".join(log))
    assert all(stages.values()), log[-1]
    assert not [line for line in log if "computing" in line or "drew pictures" in line], log
    pages = list(work.site.rglob("*.html"))
    assert pages and all("template-marker-42" in p.read_text() for p in pages)
    # the pictures (and every other file but the pages and the marker) are the ones the first build drew
    assert _not_pages(snapshot(work.site)) == _not_pages(before)
    # and the next build with the changed template has nothing left to write
    after, log = snapshot(work.site), []
    pipeline.build_site(load_config(work.config()), work.site, ROOT, work.cache, log=log.append)
    assert snapshot(work.site) == after and "nothing to write" in log[-1], log[-1]


def _not_pages(found: dict[str, str]) -> dict[str, str]:
    from generator.site_writer import MARKER

    return {path: entry for path, entry in found.items() if not path.endswith(".html") and path != MARKER}


CHANGES = [
    # the separation ranking reads the sets' activations
    ("sets", {"activations": {"threshold": 0.5}}, ("sets", "separation")),
    # firing and trust read the OIP patterns (their peaks, the AUC), the shown and diverse patterns start
    # from them, and the dense nodes' patterns climb with the same settings
    ("oip", {"oip": {"steps": 8}}, ("oip-", "firing-", "trust-", "shown-", "diversity-", "centre-", "nodes")),
]


@pytest.mark.parametrize("change, stage", [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_one_stage_setting_recomputes_only_that_stage(work, change, stage):
    stages = summary(work.build(change).stdout)
    if not any(name.startswith(stage) for name in stages):
        pytest.skip(f"no {stage} stage in this build")
    recomputed = {name for name, reused in stages.items() if not reused}
    assert recomputed and all(name.startswith(stage) or name == "site" for name in recomputed), stages
    assert stages["model"] and stages["evaluation"], stages


# --- damaged cache -------------------------------------------------------------------------------

def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = [  # one kind of damage per stage's entry, all in one rebuild
    ("npz with a flipped byte", lambda npz, js: _flip_byte(npz)),
    ("npz cut short", lambda npz, js: npz.write_bytes(npz.read_bytes()[:100])),
    ("json cut short", lambda npz, js: js.write_text(js.read_text()[:20])),
    ("json that is not a record", lambda npz, js: js.write_text("[]")),
]


def test_corrupt_cache_entries_are_reported_and_recomputed(work):
    entries = sorted(js for js in work.cache.glob("*/*.json") if js.parent.name not in ("model", "assets"))
    assert "evaluation" in [js.parent.name for js in entries]
    kept = {}
    for js, (_, damage) in zip(entries, DAMAGE * len(entries)):
        with np.load(js.with_suffix(".npz")) as stored:
            kept[js] = {name: stored[name] for name in stored.files}
        damage(js.with_suffix(".npz"), js)
    result = work.build()
    stages = summary(result.stdout)
    for js in entries:
        stage = js.parent.name
        assert f"warning: cache entry {stage}/{js.stem} is corrupt" in result.stdout, stage
        assert f"[{stage}] computing" in result.stdout and not stages[stage]
        npz = js.with_suffix(".npz")
        assert json.loads(js.read_text())["sha256"] == hashlib.sha256(npz.read_bytes()).hexdigest()
        with np.load(npz) as stored:  # whole again, and holding what it held before
            assert sorted(stored.files) == sorted(kept[js])
            same = [np.array_equal(stored[name], kept[js][name], equal_nan=stored[name].dtype.kind in "fc")
                    for name in stored.files if not name.endswith("seconds")]  # a NaN (undefined) must be NaN again
            assert all(same), stage
    assert stages["model"]


def test_corrupt_cached_model_is_reported_and_retrained(work):
    [model] = [work.cache / "model" / name for name in _models(work.cache) if name.endswith(".keras")]
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 3])
    result = work.build()
    assert f"warning: cached model {model.name} is corrupt" in result.stdout
    assert "[model] training" in result.stdout
    assert not summary(result.stdout)["model"]
    with zipfile.ZipFile(model) as archive:
        assert archive.testzip() is None
    info = json.loads(model.with_suffix(".json").read_text())
    assert info["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert all(r for name, r in summary(work.build().stdout).items() if name != "site")


# --- killed builds -------------------------------------------------------------------------------

def test_sigkill_while_training_keeps_the_site_and_the_finished_work(work):
    before, models = snapshot(work.site), _models(work.cache)
    proc, lines = _start(["-m", "generator", *work.argv(LONG_TRAINING)], work.tmp)
    _wait_for(lines, "[model] training")
    _wait_for(lines, "Epoch 2/")  # well inside model.fit
    assert _stop(proc, signal.SIGKILL) == -signal.SIGKILL
    assert snapshot(work.site) == before
    assert _models(work.cache) == models, "the killed build left a model a later build would trust"
    again = work.build()  # the first config again: every finished stage is still there
    assert all(r for name, r in summary(again.stdout).items() if name != "site"), again.stdout.splitlines()[-1]
    assert work.leftovers() == []


def test_sigterm_while_training_exits_cleanly_and_keeps_the_site(work):
    before, models = snapshot(work.site), _models(work.cache)
    proc, lines = _start(["-m", "generator", *work.argv(LONG_TRAINING)], work.tmp)
    _wait_for(lines, "[model] training")
    _wait_for(lines, "Epoch 2/")
    assert _stop(proc, signal.SIGTERM) == 128 + signal.SIGTERM
    stderr = (work.tmp / "stderr.txt").read_text()
    assert "Traceback" not in stderr, stderr[-3000:]
    assert stderr.strip().splitlines()[-1] == "error: terminated; the previous site is unchanged"
    assert snapshot(work.site) == before and _models(work.cache) == models
    assert work.leftovers() == []


def test_sigkill_in_the_oip_stage_keeps_the_site_and_reuses_finished_layers(work):
    change = {"oip": {"layers": ["Conv2D_1", "Conv2D_2"], "steps": 16, "snapshots": 8}}
    before = snapshot(work.site)
    proc, lines = _start(["-m", "generator", *work.argv(change)], work.tmp)
    _wait_for(lines, "[oip] Conv2D_2")  # Conv2D_1 is finished and stored, Conv2D_2 under way
    assert _stop(proc, signal.SIGKILL) == -signal.SIGKILL
    assert snapshot(work.site) == before
    stages = summary(work.build(change).stdout)
    assert stages["model"] and stages["evaluation"] and stages["oip-conv2d_1"], stages
    assert not stages["oip-conv2d_2"], stages
    assert work.leftovers() == []


# A build that is stopped while it writes pages: the staged folder exists, the old site must not move.
# The wrapper first gives SIGINT Python's usual handler: the case is Ctrl-C in a terminal, and a suite
# started in the background by a script (`pytest &`) hands its children SIGINT ignored. The CLI itself
# keeps an inherited SIG_IGN, as Python and every shell tool do: a non-interactive shell ignores SIGINT
# in the jobs it starts with `&` precisely so that a Ctrl-C meant for the foreground does not reach them;
# such a build is stopped with SIGTERM, which cleans up the same way (the SIGTERM case below).
STOP_WHILE_WRITING = """
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from generator import cli, render
render_pages = render.render_pages
def render_then_stop(pages, site, images, common, *rest):
    render_pages(pages[:1], site, images, common, *rest)
    print("[test] one page staged in", site, flush=True)
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(30)
    render_pages(pages[1:], site, images, common, *rest)
render.render_pages = render_then_stop
sys.exit(cli.main(sys.argv[2:]))
"""


@pytest.mark.parametrize("sig, code, message", [
    ("SIGKILL", -signal.SIGKILL, None),
    ("SIGTERM", 128 + signal.SIGTERM, "error: terminated; the previous site is unchanged"),
    ("SIGINT", 130, "error: interrupted; the previous site is unchanged"),
])
def test_stopped_while_writing_pages(work, sig, code, message):
    before = snapshot(work.site)
    change = {"site": {"title": "Second site"}}
    proc, lines = _start(["-c", STOP_WHILE_WRITING, sig, *work.argv(change)], work.tmp)
    staged = Path(_wait_for(lines, "[test] one page staged in")[-1].split(" in ", 1)[1].strip())
    assert proc.wait(timeout=120) == code
    assert snapshot(work.site) == before
    if message is None:  # nothing could clean up: the half-written folder is left, beside the site
        assert staged.is_dir() and work.leftovers() == [staged.name]
    else:
        stderr = (work.tmp / "stderr.txt").read_text()
        assert stderr.strip() == message, stderr[-3000:]
        assert work.leftovers() == []
    result = work.build(change)  # the next build completes, reuses every stage and tidies up
    assert all(reused for name, reused in summary(result.stdout).items() if name != "site")
    assert work.leftovers() == []
    assert "Second site" in (work.site / "index.html").read_text()


def test_make_clean_removes_cache_and_site(tmp_path):
    for folder in ("cache/model", "site/img", ".site.new-123", ".site.old-456"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "site" / "index.html").write_text("old")
    (tmp_path / "cache" / "model" / "x.keras").write_text("x")
    result = subprocess.run(["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-C", str(tmp_path),
                             "clean"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == ["site"] and os.listdir(tmp_path / "site") == [".gitkeep"]


def test_a_folder_with_only_a_gitkeep_of_its_own_is_not_taken_for_a_site(tmp_path):
    from generator.errors import UserError
    from generator.site_writer import check_output

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / ".gitkeep").write_text("")
    check_output(notes)  # a lone .gitkeep: an empty folder, fine to build into
    (notes / "thesis.txt").write_text("years of work")
    with pytest.raises(UserError, match="did not write"):
        check_output(notes)


# --- the swap itself -----------------------------------------------------------------------------

def _site(folder: Path, text: str) -> Path:
    from generator.site_writer import MARKER

    folder.mkdir(parents=True)
    (folder / MARKER).write_text("")
    (folder / "index.html").write_text(text)
    return folder


def test_swap_without_atomic_exchange(tmp_path, monkeypatch):
    from generator import site_writer

    monkeypatch.setattr(site_writer, "_exchange", lambda a, b: False)  # kernels without renameat2
    out = _site(tmp_path / "site", "old")
    staging = site_writer.staging_folder(out)
    (staging / "index.html").write_text("new")
    site_writer.swap_in(staging, out)
    assert (out / "index.html").read_text() == "new" and sorted(os.listdir(tmp_path)) == ["site"]


def test_a_swap_killed_halfway_is_undone_by_the_next_build(tmp_path):
    """Killed between the two renames of the fallback swap: no site, the old one under .site.old-*."""
    from generator import site_writer

    _site(tmp_path / ".site.old-4242", "old")
    _site(tmp_path / ".site.new-4242", "half")
    out = tmp_path / "site"
    staging = site_writer.staging_folder(out)
    assert (out / "index.html").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == sorted(["site", staging.name])
