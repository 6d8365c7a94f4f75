"""A section of the site: pictures it draws (cached) and pages it describes.

Drawing is the slow part of a rebuild, so a section's pictures are kept in the cache under a key of
what they depend on, plus the source of the section and of every generator module it uses; an unchanged section
is hard-linked into the new site instead of drawn again.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import registry
from ..cache import code_version, stable_hash
from .model import Page


@dataclass
class Card:
    """What a section shows on the index: a title, a link, a few headline lines, thumbnails."""
    title: str
    url: str
    lines: list[str]
    thumbs: list[tuple[str, str, str]] | None = None  # (image url, alt, link url)


@dataclass
class Section:
    name: str
    depends: Callable[[Any], Any]
    draw: Callable[[Any, Path], None]
    pages: Callable[[Any], list[Page]]
    cards: Callable[[Any], list[Card]] = lambda build: []
    enabled: Callable[[Any], bool] = lambda build: True
    # (tab label, url) in the header, or a function of the build giving it
    nav: tuple[str, str] | Callable[[Any], tuple[str, str]] | None = None
    # Panels for other sections' pages: {"map-top" | "map" | "layer": f(build, layer[, map]) -> [Panel]}
    panels: dict[str, Callable[..., list]] = field(default_factory=dict)

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
