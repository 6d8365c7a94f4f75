"""What the index says about maps that never fire, by rule, from the map statuses (map_truth) and,
when the build has it, the ablation of those maps."""
from __future__ import annotations

import numpy as np

from generator.features.evidence.map_truth import fires_on
from generator.pages import urls
from generator.pages.model import Finding


def findings(build, states: dict[str, np.ndarray]) -> list[Finding]:
    """states: each layer's map statuses (patterns.pages.statuses)."""
    if not states:
        return []
    quiet = {layer: np.flatnonzero([not fires_on(s) for s in status]) for layer, status in states.items()}
    total, n = sum(len(s) for s in states.values()), sum(len(q) for q in quiet.values())
    if n == 0:
        return [Finding(f"Every one of its {total} maps fires on some test image: none is dead.",
                        urls.INDEX + "#layers", "the layers at a glance", order=30)]
    dead = sum(int(np.sum(states[layer][q] == "dead")) for layer, q in quiet.items())
    where = ", ".join(f"{layer} {len(q)}" for layer, q in quiet.items() if len(q))
    text = (f"{n} of its {total} maps never {'fires' if n == 1 else 'fire'} on a test image ({where}); "
            + (f"{dead} of them {'is' if dead == 1 else 'are'} dead: no start of the ascent wakes "
               f"{'it' if dead == 1 else 'them'} either." if dead else "the ascent wakes each of them."))
    unchanged = _ablation_unchanged(build, quiet)
    if unchanged is not None:
        them = "it" if n == 1 else "any of them"
        text += (f" Switching {them} off leaves every class's right answers as they were." if unchanged else
                 " Some still shift decisions when switched off: their output is not 0 (an activation other than ReLU).")
    worst = max(quiet, key=lambda layer: len(quiet[layer]))
    return [Finding(text, urls.layer(worst), f"{worst}'s maps", order=30)]


def _ablation_unchanged(build, quiet: dict) -> bool | None:
    """Whether zeroing each quiet map leaves every class's right answers as they were (None: no ablation)."""
    ablation = build.results.get("ablation")
    if ablation is None:
        return None
    counts = [(ablation.arrays[f"{layer}.zero"], q) for layer, q in quiet.items()
              if len(q) and f"{layer}.zero" in ablation.arrays]
    if not counts:
        return None
    return all(np.array_equal(zero[m], zero[-1]) for zero, q in counts for m in q)
