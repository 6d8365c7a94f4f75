"""The features of a build and the two contracts they meet.

**Stage**: a computation whose result is cached. It names the stages whose results it reads
(`requires`; the registry orders stages from it, fails on a cycle, and the build stops a stage that
reads a result it did not require), its config section, its checks, and a compute function; the
core does the per-layer naming and looping, and keys the cache on the stage's compute-only modules
(`code`, never page code), the weights, the data and what `depends` returns.

**Section** (generator.pages.section): the pictures and pages of a feature, and its panels on the
pages other features own, through typed, optional hooks (`map_panels(build, layer, m)`, ...).

Each feature is a package under generator/features/ whose __init__ names its stage and section
modules as strings, so nothing here imports a feature's code until it is asked for (cache keys hash
the modules a module imports; see cache.code_version). Adding an analysis: its module (with
`STAGE = Stage(...)` and/or `SECTION = Section(...)`), its fragment, its test, and one line in its
feature's __init__ (or one line here for a new feature).
"""
from __future__ import annotations

import hashlib
import importlib
import re
from dataclasses import dataclass, replace
from typing import Any, Callable

# Features in the order their pages appear in the header and on the index.
FEATURES = [
    "generator.features.patterns",
    "generator.features.evidence",
    "generator.features.role",
    "generator.features.sets",
    "generator.features.confusion",
    "generator.features.explain",
    "generator.features.dreams",
    "generator.features.guide",
]


def _default_layers(build) -> list[str]:
    return list(build.cfg.oip.layers or ())


@dataclass(frozen=True)
class Stage:
    """One cached computation. Every part but the name is optional.

    compute(build) -> Artifact, or compute(build, layer) when per_layer (one result per layer of
      layers(build), stored as f"{name}-{layer.lower()}"); depends(build[, layer]): what the result
      depends on besides its code, the weights and the data.
    requires: names of the stages whose results it reads (to compute, or in depends).
    enabled(build): whether it runs in this build; after(build, results): e.g. a summary line.
    code: the modules whose source (and the generator modules they import) keys the cache; empty:
      the module that declares the stage. Page code never belongs here.
    check(cfg, root) / check_data(cfg, dataset): raise a UserError naming the key, before any data is
      read or model trained / before training.
    settings: the Config section it reads, for the README and error messages.
    """
    name: str
    compute: Callable[..., Any] | None = None
    depends: Callable[..., Any] = lambda build, *layer: {}
    requires: tuple[str, ...] = ()
    per_layer: bool = False
    layers: Callable[[Any], list[str]] = _default_layers
    enabled: Callable[[Any], bool] = lambda build: True
    after: Callable[[Any, Any], None] | None = None
    code: tuple[str, ...] = ()
    settings: str | None = None
    check: Callable[..., None] | None = None
    check_data: Callable[..., None] | None = None
    module: str = ""  # filled in by the registry: where the stage is declared

    def result_name(self, layer: str | None = None) -> str:
        return self.name if layer is None else layer_result(self.name, layer)

    def code_modules(self) -> tuple[str, ...]:
        return self.code or (self.module or self.compute.__module__,)


def layer_result(stage: str, layer: str) -> str:
    """The results key of a per-layer stage's result for one layer."""
    return f"{stage}-{layer_slug(layer)}"  # also a cache folder: a name made safe


def layer_slug(layer: str) -> str:
    """A layer's folder name: its name in lower case, a nested layer's path separator "." as "--"
    (opening.SEPARATOR). Keras allows any character but "/" in a name; any other character outside
    a-z 0-9 _ - becomes "-" and a short hash of the name is added, so no two names share a folder
    and none climbs out of it ("..")."""
    slug = layer.lower().replace(".", "--")
    safe = re.sub(r"[^a-z0-9_-]", "-", slug)
    if safe == slug:
        return slug
    return f"{safe}-{hashlib.sha256(layer.encode()).hexdigest()[:6]}"


def stage_of(result: str) -> str:
    """The stage whose result a results key names: layer_result read backwards (stage names have no "-")."""
    return result.split("-", 1)[0]


def _feature(name: str):
    return importlib.import_module(name)


def _declared(attribute: str, kind: str) -> list[tuple[str, Any]]:
    out = []
    for feature in FEATURES:
        for module in getattr(_feature(feature), attribute, ()):
            out.append((module, getattr(importlib.import_module(module), kind)))
    return out


def stages() -> list[Stage]:
    """Every stage, ordered so that each runs after the stages it requires (else in declaration order)."""
    return order([replace(stage, module=module) for module, stage in _declared("STAGES", "STAGE")])


def order(declared: list[Stage]) -> list[Stage]:
    by_name = {s.name: s for s in declared}
    if len(by_name) != len(declared):
        raise ValueError("two stages share a name: " + ", ".join(s.name for s in declared))
    for stage in declared:
        for need in stage.requires:
            if need not in by_name:
                raise ValueError(f"stage {stage.name!r} requires {need!r}, which no feature declares")
    done: list[Stage] = []
    placed: set[str] = set()
    visiting: list[str] = []

    def place(stage: Stage) -> None:
        if stage.name in placed:
            return
        if stage.name in visiting:
            cycle = visiting[visiting.index(stage.name):] + [stage.name]
            raise ValueError("stages require each other in a cycle: " + " → ".join(cycle))
        visiting.append(stage.name)
        for need in stage.requires:
            place(by_name[need])
        visiting.pop()
        placed.add(stage.name)
        done.append(stage)

    for stage in declared:
        place(stage)
    return done


def get(name: str) -> Stage | None:
    return next((s for s in stages() if s.name == name), None)


def sections() -> list[tuple[str, Any]]:
    """(module name, Section) of every feature's pages and panels, in FEATURES order."""
    return _declared("SECTIONS", "SECTION")


def section_module(name: str):
    """The page-section module of the section called `name`, or None."""
    for module, section in sections():
        if section.name == name:
            return importlib.import_module(module)
    return None


# The typed panel hooks: each returns every enabled section's panels for one place on one page.
def _collect(hook: str, build, *args) -> list:
    return [p for _, s in sections() if getattr(s, hook, None) is not None and s.enabled(build)
            for p in getattr(s, hook)(build, *args)]


def map_top_panels(build, layer: str, m: int) -> list:
    """Beside a map's input patterns."""
    return _collect("map_top_panels", build, layer, m)


def map_panels(build, layer: str, m: int) -> list:
    """On a map's page, after its patterns."""
    return _collect("map_panels", build, layer, m)


def layer_panels(build, layer: str) -> list:
    return _collect("layer_panels", build, layer)


def node_panels(build, layer: str, node: int) -> list:
    """On a dense node's page."""
    return _collect("node_panels", build, layer, node)


def node_layer_panels(build, layer: str) -> list:
    """On a dense layer's page."""
    return _collect("node_layer_panels", build, layer)


def image_panels(build, image: int) -> list:
    """On the page of an image-set image (test image number `image`)."""
    return _collect("image_panels", build, image)


def findings(build) -> list:
    """Every enabled section's findings about this model, in their stated order (then FEATURES order)."""
    return sorted(_collect("findings", build), key=lambda f: f.order)


def tour(build) -> list:
    """The "Start here" steps every enabled section offers (model.Finding), in their stated order."""
    return sorted(_collect("tour", build), key=lambda f: f.order)


def guide_topics(build) -> list:
    """Every enabled section's guide topics, in FEATURES order."""
    return [t for _, s in sections() if getattr(s, "guide_topics", None) is not None and s.enabled(build)
            for t in s.guide_topics(build) if t is not None]


def glossary(build=None) -> tuple:
    """The terms pages link to the guide: every section's (only the enabled ones' with a build)."""
    return tuple(t for _, s in sections() if getattr(s, "glossary", None) is not None
                 and (build is None or s.enabled(build)) for t in s.glossary())


def comparison_panels(build, position: int) -> list:
    """On a comparison page (its position in the config's comparisons)."""
    return _collect("comparison_panels", build, position)
