"""One build: gather every result first, then draw and write the site, then swap it in."""
from __future__ import annotations

import importlib
import time
from datetime import datetime
from pathlib import Path

from . import render, site_writer
from .cache import Store
from .config import Config, config_hash
from .context import Build, Timing
from .checks import check_data
from .data import load_dataset
from .pages import home, urls
from .pages.section import place_assets

# Analysis stages, in dependency order; each module has run(build).
STAGES = ["generator.analyses.evaluation", "generator.analyses.oip_stage", "generator.analyses.dreams",
          "generator.analyses.image_set_stage"]
# Page sections after the index; each module has SECTION.
SECTIONS = ["generator.pages.layers", "generator.pages.image_sets", "generator.pages.confusion",
            "generator.pages.dreams"]


def build_site(cfg: Config, out: Path, root: Path, cache: Path | None = None, log=print) -> Build:
    started = time.perf_counter()
    site_writer.check_output(out)
    build = Build(cfg, root, Store(cache or root / "cache", log), load_dataset(cfg.data, root), log)
    build.started = started
    check_data(cfg, len(build.dataset.x_test))
    from .model.training import obtain_model

    obtain_model(build)
    for module in STAGES:
        importlib.import_module(module).run(build)
    write_site(build, out)
    log(summary(build, out, time.perf_counter() - started))
    return build


def write_site(build: Build, out: Path) -> None:
    start = time.perf_counter()
    staging = site_writer.staging_folder(out)
    try:
        sections = [(m, importlib.import_module(m).SECTION) for m in SECTIONS]
        sections = [(m, s) for m, s in sections if s.enabled(build)]
        reused = [place_assets(build, s, m, staging) for m, s in sections]
        cards = [card for _, s in sections for card in s.cards(build)]
        index = home.section(cards)
        reused.append(place_assets(build, index, "generator.pages.home", staging))
        pages = index.pages(build) + [p for _, s in sections for p in s.pages(build)]
        render.copy_static(staging)
        (staging / ".gitkeep").write_text("")  # site/ stays a tracked, empty folder in git
        (staging / site_writer.MARKER).write_text("written by the cnn-gallery generator; replaced on rebuild\n")
        common = {"title": build.cfg.site.title, "config_hash": config_hash(build.cfg),
                  "credit": build.dataset.credit,
                  "built": datetime.now().strftime("%Y-%m-%d %H:%M"),
                  "duration": f"{time.perf_counter() - build.started:.0f} s",
                  "nav": [("Index", urls.INDEX, "index")] + [e for _, s in sections if (e := s.nav_entry(build))]}
        render.render_pages(pages, staging, render.ImageIndex(staging), common)
        site_writer.swap_in(staging, out)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    build.pages_written = len(pages)
    build.timings.append(Timing("site", time.perf_counter() - start, all(reused)))


def summary(build: Build, out: Path, seconds: float) -> str:
    parts = ", ".join(f"{t.stage} {t.seconds:.1f}s{' (reused)' if t.reused else ''}" for t in build.timings)
    return (f"built {build.pages_written} pages into {out}/ in {seconds:.1f} s — "
            f"test accuracy {build.model_info['test_accuracy']:.2%} — {parts}")
