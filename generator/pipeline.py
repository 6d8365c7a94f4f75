"""One build: gather every result first, then draw and write the site, then swap it in.

Writing the site is skipped when nothing the pages are made of changed since the site at `out` was
written (see page_key): a rebuild with nothing changed writes nothing, not even the footer's date.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from datetime import datetime
from pathlib import Path

from . import registry, render, site_writer
from .cache import Store, code_version, stable_hash
from .checks import check_config, check_data
from .config import Config, as_dict, config_hash
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
    sections = [(m, s) for m, s in registry.sections() if s.enabled(build)]
    key = page_key(build, sections)
    site_writer.recover(out)  # a swap a killed build left half-done is finished before `out` is read
    written = site_writer.written_with(out)
    if written is not None and written["pages_key"] == key:
        build.pages_written, build.site_unchanged = int(written["pages"]), True
        build.timings.append(Timing("site", time.perf_counter() - start, True))
        return
    staging = site_writer.staging_folder(out)
    try:
        reused = [place_assets(build, s, m, staging) for m, s in sections]
        cards = [card for _, s in sections for card in s.cards(build)]
        index = home.section(cards)
        reused.append(place_assets(build, index, "generator.pages.home", staging))
        pages = index.pages(build) + [p for _, s in sections for p in s.pages(build)]
        render.copy_static(staging)
        (staging / ".gitkeep").write_text("")  # site/ stays a tracked, empty folder in git
        site = SiteContext(build.cfg.site.title, build.config_hash or config_hash(build.cfg), build.dataset.credit,
                           datetime.now().strftime("%Y-%m-%d %H:%M"),
                           f"{time.perf_counter() - build.started:.0f} s",
                           [("Index", urls.INDEX, "index")] + [e for _, s in sections if (e := s.nav_entry(build))])
        render.render_pages(pages, staging, render.ImageIndex(staging), site, registry.glossary(build))
        site_writer.record(staging, key, len(pages))  # last: the marker's digest covers every other file
        site_writer.swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    build.pages_written = len(pages)
    build.timings.append(Timing("site", time.perf_counter() - start, all(reused)))


def page_key(build: Build, sections: list) -> str:
    """Hash of everything the site's pages and pictures are made of, so that a site written with the
    same key is the site this build would write (but for the footer's build date and duration, which
    say when the pages were last written): every result's key (each names its config slice, code,
    data and weights), the model card's facts, the data set's description, the whole config, what
    each section's pictures depend on, the code of this module, the renderer and every section (and
    all generator modules they import), the registry, the templates and static files, and the package
    versions the index names; the features' own fragments too."""
    from .pages.home import versions

    modules = [m for m, _ in sections]
    ds = build.dataset
    return stable_hash(
        "pages",
        code_version(__name__, "generator.render", "generator.site_writer", "generator.pages.home", *modules),
        _files_hash([Path(registry.__file__)]),
        modules,
        [(s.name, s.depends(build), s.nav_entry(build)) for _, s in sections],
        {name: artifact.key for name, artifact in build.results.items()},
        build.weights_hash, build.model_info, build.data_fingerprint,
        [ds.name, ds.source, ds.source_path, ds.class_names, ds.title, ds.credit, ds.notice, ds.image_shape],
        as_dict(build.cfg), build.config_hash,
        _files_hash(sorted(p for p in Path(render.TEMPLATES).rglob("*") if p.is_file()), Path(render.TEMPLATES)),
        _files_hash(sorted(Path(render.FEATURES).rglob("*.html")), Path(render.FEATURES)),  # features' fragments
        versions(),
    )


def _files_hash(paths: list[Path], root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(os.fsencode(path.relative_to(root) if root else path.name) + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def summary(build: Build, out: Path, seconds: float) -> str:
    parts = ", ".join(f"{t.stage} {t.seconds:.1f}s{' (reused)' if t.reused else ''}" for t in build.timings)
    unchanged = " (nothing to write: the site is up to date)" if build.site_unchanged else ""
    return (f"built {build.pages_written} pages into {out}/ in {seconds:.1f} s{unchanged} — "
            f"test accuracy {build.model_info['test_accuracy']:.2%} — {parts}")
