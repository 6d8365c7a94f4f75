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
    for layer in build.cfg.oip.layers:
        zero = art.arrays.get(f"{layer}.zero")
        if zero is None:
            continue
        lost = int(zero[-1].sum()) - zero[:-1].sum(axis=1)  # test images no longer right, per map
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
    return [Finding(text, urls.map_page(layer, m), f"{layer} map {m}", order=20)]
