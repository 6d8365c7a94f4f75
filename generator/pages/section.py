"""A section of the site: pictures it draws (cached) and pages it describes.

Drawing is the slow part of a rebuild, so a section's pictures are kept in the cache under a key of
what they depend on, plus the source of the section and of every generator module it uses; an unchanged section
is hard-linked into the new site instead of drawn again.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .. import registry
from ..cache import code_version, stable_hash
from .model import Page, Panel


@dataclass
class Card:
    """What a section shows on the index: a title, a link, a few headline lines, thumbnails."""
    title: str
    url: str
    lines: list[str]
    thumbs: list[tuple[str, str, str]] | None = None  # (image url, alt, link url)
    more: int = 0  # how many more pictures the linked page has than the thumbnails show
    colours: object | None = None  # a colour_keys.ColourKey when the thumbnails are drawn on that scale


PanelHook = Callable[..., list[Panel]]


@dataclass
class Section:
    """A feature's pictures and pages, and the panels it adds to pages other features own. Every hook is
    optional; the shared pages lay out what the hooks return and know none of the features (see
    generator.registry for where each hook's panels go)."""
    name: str
    depends: Callable[[Any], Any] = lambda build: []  # what the pictures depend on (their cache key)
    draw: Callable[[Any, Path], None] | None = None
    pages: Callable[[Any], list[Page]] = lambda build: []
    cards: Callable[[Any], list[Card]] = lambda build: []
    enabled: Callable[[Any], bool] = lambda build: True
    # (tab label, url) in the header, or a function of the build giving it
    nav: tuple[str, str] | Callable[[Any], tuple[str, str]] | None = None
    map_top_panels: PanelHook | None = None     # (build, layer, m): beside a map's input patterns
    map_panels: PanelHook | None = None         # (build, layer, m): on a map's page, after its patterns
    layer_panels: PanelHook | None = None       # (build, layer): on a map layer's page
    node_panels: PanelHook | None = None        # (build, layer, node): on a dense node's page
    node_layer_panels: PanelHook | None = None  # (build, layer): on a dense layer's page
    image_panels: PanelHook | None = None       # (build, image): on an image-set image's page
    comparison_panels: PanelHook | None = None  # (build, position): on a comparison page
    findings: Callable[[Any], list] | None = None  # (build) -> [model.Finding]: on the index, by rule
    tour: Callable[[Any], list] | None = None  # (build) -> [model.Finding]: the index's "Start here" steps
    guide_topics: Callable[[Any], list] | None = None  # (build) -> [model.Topic]: what the guide explains
    glossary: Callable[[], list] | None = None  # () -> [glossary.Term]: terms linked to those topics

    def nav_entry(self, build) -> tuple[str, str, str] | None:
        entry = self.nav(build) if callable(self.nav) else self.nav
        return (*entry, self.name) if entry else None


def in_build(build, name: str):
    """The page-section module called `name` ("layers", "sets", ...) when it is part of this build and
    enabled, else None (so pages link to another section's pages only when those pages are written)."""
    module = registry.section_module(name)
    return module if module is not None and module.SECTION.enabled(build) else None


def place_assets(build, section: Section, module: str, staging: Path) -> bool:
    """Draw (or reuse) the section's pictures and link them into the staged site; True if reused."""
    if section.draw is None:
        return True
    key = stable_hash(section.name, code_version(module), section.depends(build))
    folder = build.store.root / "assets" / section.name / key
    reused = (folder / ".complete").exists()
    if not reused:
        start = time.perf_counter()
        tmp = folder.with_name(f"{key}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        section.draw(build, tmp)
        (tmp / ".complete").write_text("")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        build.log(f"[{section.name}] drew pictures in {time.perf_counter() - start:.1f} s")
    link_tree(folder, staging)
    return reused


def link_tree(source: Path, target: Path) -> None:
    """Hard-link every file (copy across file systems); a file two sections share is placed once."""
    for root, _dirs, files in os.walk(source):
        rel = Path(root).relative_to(source)
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            if name == ".complete":
                continue
            dest = target / rel / name
            if dest.exists():
                continue
            try:
                os.link(Path(root) / name, dest)
            except OSError:
                shutil.copy2(Path(root) / name, dest)
