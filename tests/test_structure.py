"""The structure: no import cycles, cache keys that follow only what a part uses, the registry."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generator import cache, registry

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "generator"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every generator module and the generator modules it imports anywhere (deferred imports too)."""
    modules = {_module(p) for p in PACKAGE.rglob("*.py")}
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module(path)
        found = cache.imported_names(path, name if path.name == "__init__.py" else name.rpartition(".")[0])
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_anywhere_in_the_generator():
    graph = _imports()
    assert len(graph) > 30
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _reached(module: str) -> set[str]:
    seen, stack = set(), [module]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(cache._generator_imports(name) - seen)
    return seen


def test_pictures_of_a_section_do_not_hash_code_it_does_not_use():
    """Editing the OIP engine must not redraw the confusion page's pictures (it once did, through a cycle)."""
    confusion = _reached("generator.features.confusion.pages")
    assert not any(m.startswith(("generator.features.patterns.oip", "generator.ascent")) for m in confusion), confusion
    assert "generator.registry" not in _reached("generator.features.patterns.pages")  # adding an analysis redraws nothing


def _page_code(module: str) -> bool:
    """Page-side code: the pages shell, and a feature's pages, panels and page data modules."""
    leaf = module.rpartition(".")[2]
    return (module.startswith("generator.pages") or module == "generator.render"
            or leaf in ("pages", "panels") or leaf.startswith("page_") or leaf.endswith("_panels"))


def test_no_stage_cache_key_reaches_page_code():
    """A stage's result is keyed on its compute modules and what they import; rewording a page must
    not redo an ascent (shown_patterns once keyed on its own panel code, which imported 35 modules)."""
    for stage in registry.stages():
        reached = set().union(*(_reached(m) for m in stage.code_modules()))
        pages = sorted(m for m in reached if _page_code(m))
        assert not pages, f"stage {stage.name!r} is keyed on page code: {pages}"


def test_the_page_code_rule_catches_a_stage_keyed_on_pages():
    assert _page_code("generator.features.role.ablation_panels") and _page_code("generator.pages.urls")
    assert _page_code("generator.features.sets.page_data") and not _page_code("generator.features.role.ablation_core")
    assert any(_page_code(m) for m in _reached("generator.features.role.ablation_panels"))


def test_stages_run_after_what_they_require_and_a_cycle_is_refused():
    names = [s.name for s in registry.stages()]
    for stage in registry.stages():
        assert all(names.index(r) < names.index(stage.name) for r in stage.requires), stage
    a, b, c = (registry.Stage(n, requires=r) for n, r in (("a", ("c",)), ("b", ()), ("c", ("b",))))
    assert [s.name for s in registry.order([a, b, c])] == ["b", "c", "a"]
    with pytest.raises(ValueError, match="cycle: a → c → a"):
        registry.order([registry.Stage("a", requires=("c",)), registry.Stage("c", requires=("a",))])
    with pytest.raises(ValueError, match="requires 'x'"):
        registry.order([registry.Stage("a", requires=("x",))])


def test_a_stage_that_reads_a_result_it_did_not_require_stops_the_build(tmp_path):
    from generator.cache import Artifact
    from generator.context import RequiresError

    build = make_tiny_build(tmp_path)
    first = registry.Stage("first", compute=lambda b: Artifact("", {"v": np.arange(3)}), code=("generator.cache",))
    honest = registry.Stage("honest", compute=lambda b: Artifact("", {"w": b.results["first"].arrays["v"] + 1}),
                            requires=("first",), code=("generator.cache",))
    sneaky = registry.Stage("sneaky", compute=lambda b: Artifact("", {"w": b.results["first"].arrays["v"]}),
                            code=("generator.cache",))
    build.run_stage(first)
    assert list(build.run_stage(honest).arrays["w"]) == [1, 2, 3]
    with pytest.raises(RequiresError, match="stage 'sneaky' read the result 'first' of stage 'first' without"):
        build.run_stage(sneaky)
    per_layer = registry.Stage("probe", compute=lambda b, layer: Artifact("", {}), per_layer=True,
                               layers=lambda b: ["Conv2D_1"], code=("generator.cache",))
    assert set(build.run_stage(per_layer)) == {"Conv2D_1"} and "probe-conv2d_1" in build.results
    late = registry.Stage("late", compute=lambda b: Artifact("", {"p": np.zeros(1)}),
                          depends=lambda b: b.results.get("probe-conv2d_1") is None, code=("generator.cache",))
    with pytest.raises(RequiresError, match="'probe-conv2d_1' of stage 'probe'"):
        build.run_stage(late)  # reading in depends counts too


def make_tiny_build(tmp_path):
    from generator.cache import Store
    from generator.config import Config
    from generator.context import Build
    from generator.data import Dataset

    x = np.zeros((2, 28, 28), np.uint8)
    y = np.zeros(2, np.uint8)
    return Build(Config(), tmp_path, Store(tmp_path / "cache", log=lambda line: None), Dataset("mnist", x, y, x, y, "test", None),
                 log=lambda line: None)


def test_every_registered_stage_and_section_is_declared_once_and_sections_resolve_by_name():
    names = [s.name for s in registry.stages()]
    assert len(names) == len(set(names))
    assert {"oip", "firing", "kernels", "evaluation", "sets", "explanations", "dreams"} <= set(names)
    sections = [s.name for _, s in registry.sections()]
    assert len(sections) == len(set(sections))
    for module, section in registry.sections():
        assert registry.section_module(section.name).SECTION is section
    assert registry.section_module("no such section") is None
