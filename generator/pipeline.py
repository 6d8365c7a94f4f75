"""One build: gather every result first, then draw and write the site, then swap it in."""
from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

from . import registry, render, site_writer
from .cache import Store
from .checks import check_config, check_data
from .config import Config, config_hash
from .context import Build, Timing
from .data import load_dataset
from .pages import home, urls
from .pages.model import SiteContext
from .pages.section import place_assets


def build_site(cfg: Config, out: Path, root: Path, cache: Path | None = None, log=print) -> Build:
    started = time.perf_counter()
    check_config(cfg, root)
    site_writer.check_output(out)
    build = Build(cfg, root, Store(cache or root / "cache", log), load_dataset(cfg.data, root, log), log,
                  started=started)
    check_data(cfg, build.dataset)
    from .model.training import obtain_model

    obtain_model(build)
    from .model.support import map_layer_names, with_model_defaults

    build.config_hash = config_hash(cfg)  # the config as written, which the footer names
    build.cfg = with_model_defaults(cfg, map_layer_names(build.model_info["summary"]))
    for stage in registry.stages():
        build.run_stage(stage)
    write_site(build, out)
    log(summary(build, out, time.perf_counter() - started))
    return build


def write_site(build: Build, out: Path) -> None:
    start = time.perf_counter()
    staging = site_writer.staging_folder(out)
    try:
        sections = [(m, s) for m, s in registry.sections() if s.enabled(build)]
        reused = [place_assets(build, s, m, staging) for m, s in sections]
        cards = [card for _, s in sections for card in s.cards(build)]
        index = home.section(cards)
        reused.append(place_assets(build, index, "generator.pages.home", staging))
        pages = index.pages(build) + [p for _, s in sections for p in s.pages(build)]
        render.copy_static(staging)
        (staging / ".gitkeep").write_text("")  # site/ stays a tracked, empty folder in git
        (staging / site_writer.MARKER).write_text("written by the cnn-gallery generator; replaced on rebuild\n")
        site = SiteContext(build.cfg.site.title, build.config_hash or config_hash(build.cfg), build.dataset.credit,
                           datetime.now().strftime("%Y-%m-%d %H:%M"),
                           f"{time.perf_counter() - build.started:.0f} s",
                           [("Index", urls.INDEX, "index")] + [e for _, s in sections if (e := s.nav_entry(build))])
        render.render_pages(pages, staging, render.ImageIndex(staging), site)
        site_writer.swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    build.pages_written = len(pages)
    build.timings.append(Timing("site", time.perf_counter() - start, all(reused)))


def summary(build: Build, out: Path, seconds: float) -> str:
    parts = ", ".join(f"{t.stage} {t.seconds:.1f}s{' (reused)' if t.reused else ''}" for t in build.timings)
    return (f"built {build.pages_written} pages into {out}/ in {seconds:.1f} s — "
            f"test accuracy {build.model_info['test_accuracy']:.2%} — {parts}")
