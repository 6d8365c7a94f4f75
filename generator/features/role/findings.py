"""What the index says about the maps the decision needs, by rule, from the ablation result."""
from __future__ import annotations

import numpy as np

from generator.features.role.ablation import NAME
from generator.pages import urls
from generator.pages.model import Finding

INDISPENSABLE = 1.0  # points of test accuracy: below this, no single map is one the decision cannot lose


def findings(build) -> list[Finding]:
    art = build.results.get(NAME)
    if art is None or art.meta.get("unsupported"):
        return []
    total = int(art.arrays["per_class"].sum())
    worst = None  # (points, images, layer, map)
    per_layer = {}  # layer -> mean test images lost per map switched off
    for layer in build.cfg.oip.layers:
        zero = art.arrays.get(f"{layer}.zero")
        if zero is None:
            continue
        lost = int(zero[-1].sum()) - zero[:-1].sum(axis=1)  # test images no longer right, per map
        per_layer[layer] = float(lost.mean())
        m = int(np.argmax(lost))
        if worst is None or lost[m] > worst[1]:
            worst = (100 * lost[m] / total, int(lost[m]), layer, m)
    if worst is None:
        return []
    points, images, layer, m = worst
    if images <= 0:
        layers = [layer for layer in build.cfg.oip.layers if f"{layer}.zero" in art.arrays]
        return [Finding(f"No map is needed alone: switching off any single map of {', '.join(layers)} costs no "
                        f"test image ({total:,} test images).", urls.layer(layers[0]) + "#ablation",
                        f"{layers[0]}'s ablation", order=20)]
    if points < INDISPENSABLE:
        text = (f"No single map is indispensable: switching off the one it needs most, {layer} map {m}, costs "
                f"{points:.2f} points of test accuracy ({images} of {total:,} test images).")
    else:
        text = (f"It leans on single maps: switching off {layer} map {m} alone costs {points:.2f} points of test "
                f"accuracy ({images} of {total:,} test images).")
    return [Finding(text, urls.map_page(layer, m), f"{layer} map {m}", order=20)] + _layers(per_layer, total)


def _layers(per_layer: dict[str, float], total: int) -> list[Finding]:
    """Which layer's maps the decision needs most one by one, and which it can lose most easily: said
    when there are two layers to compare and the most needed costs at least twice the least per map."""
    if len(per_layer) < 2:
        return []
    most, least = max(per_layer, key=per_layer.get), min(per_layer, key=per_layer.get)
    if per_layer[most] <= 0 or per_layer[most] < 2 * max(per_layer[least], 0.0):
        return []
    points = lambda layer: 100 * per_layer[layer] / total  # noqa: E731
    return [Finding(f"Switched off one at a time, {most}'s maps cost the decision most ({points(most):.3f} points "
                    f"of test accuracy per map on average) and {least}'s least ({points(least):.3f}): {least} is the "
                    f"most redundant layer.", urls.layer(least) + "#ablation", f"{least}'s ablation", order=21)]
