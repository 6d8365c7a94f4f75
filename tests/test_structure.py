"""The structure: no import cycles, cache keys that follow only what a part uses, the registry."""
from __future__ import annotations

from pathlib import Path

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
    confusion = _reached("generator.pages.confusion")
    assert not any(m.startswith(("generator.analyses.oip", "generator.ascent")) for m in confusion), confusion
    assert "generator.registry" not in _reached("generator.pages.layers")  # adding an analysis redraws nothing


def test_every_registered_analysis_is_declared_once_and_sections_resolve_by_name():
    names = [a.name for a in registry.analyses()]
    assert len(names) == len(set(names)) == len(registry.ANALYSES)
    assert {"oip", "kernels", "evaluation", "sets", "confusion", "dreams"} <= set(names)
    for module, section in registry.sections():
        assert registry.section_module(section.name).SECTION is section
    assert registry.section_module("no such section") is None
