"""The analyses of a build: each declares, in one place (its module's `ANALYSIS`), its name, its config
section, its checks, its stage, its page section and the panels it adds to other sections' pages.

The pipeline, the checks and the pages iterate this registry; a section finds another by name. The
modules are named as strings and imported only when asked for, so nothing here pulls an analysis'
code into another one's cache key (keys hash the modules a module imports; see cache.code_version).

Adding an analysis: write its module (with `ANALYSIS = Analysis(...)`), its template and its test,
and add one line to ANALYSES.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

# Each module defines ANALYSIS. Stages run in this order (a stage may use the results of those
# before it); page sections appear in this order in the header and on the index.
ANALYSES = [
    "generator.analyses.oip_stage",
    "generator.analyses.firing",
    "generator.analyses.shown_patterns",
    "generator.analyses.diversity",
    "generator.analyses.centre_nodes",
    "generator.analyses.trust",
    "generator.analyses.nodes",
    "generator.analyses.kernels",
    "generator.analyses.evaluation",
    "generator.analyses.ablation",
    "generator.analyses.influence",
    "generator.analyses.connections",
    "generator.analyses.image_set_stage",
    "generator.analyses.separation",
    "generator.analyses.confusion",
    "generator.analyses.attributions",
    "generator.analyses.dreams",
    "generator.pages.guide",
]


@dataclass(frozen=True)
class Analysis:
    """What one analysis contributes to a build. Every part is optional.

    check(cfg, root): raise a UserError naming the key, before any data is read or model trained.
    check_data(cfg, dataset): the same, for checks that need the data (e.g. image numbers in range).
    run(build): compute (or reuse) the results and leave them in build.results.
    section: the module whose SECTION draws the analysis' pictures, describes its pages and may add
      panels to other sections' pages (Section.panels).
    """
    name: str
    settings: str | None = None  # the Config section it reads, for the README and error messages
    check: Callable[..., None] | None = None
    check_data: Callable[..., None] | None = None
    run: Callable[[Any], Any] | None = None
    section: str | None = None


def analyses() -> list[Analysis]:
    return [importlib.import_module(module).ANALYSIS for module in ANALYSES]


def get(name: str) -> Analysis | None:
    return next((a for a in analyses() if a.name == name), None)


def section_module(name: str):
    """The page-section module of the analysis called `name` (or of the section called `name`)."""
    for analysis in analyses():
        if analysis.section is None:
            continue
        module = importlib.import_module(analysis.section)
        if name in (analysis.name, module.SECTION.name):
            return module
    return None


def sections() -> list[tuple[str, Any]]:
    """(module name, Section) of every analysis that has pages or pictures, in registry order."""
    return [(a.section, importlib.import_module(a.section).SECTION) for a in analyses() if a.section]


def panels(where: str, build, *args) -> list:
    """Every enabled section's panels for one page: `where` is "map-top" (beside a map's patterns),
    "map" (end of a map page) or "layer" (a layer page), args (layer[, map]); "node" (a dense node's
    page) or "node-layer" (a dense layer's page), args (layer[, node]); "comparison" (a comparison
    page), args (its position in the config's comparisons,); "set-image" (an image-set image's page),
    args (test image number,)."""
    return [p for _, s in sections() if where in s.panels and s.enabled(build) for p in s.panels[where](build, *args)]
