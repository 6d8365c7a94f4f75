"""What the index says about the set comparisons, by rule: how sharply the last convolution layer and
the hidden dense layer after it tell each compared pair of sets apart (compare.compare_layer's points
active in every image of one set and in none of the other, as a share of the layer's points)."""
from __future__ import annotations

from generator.features.sets.compare import compare_layer
from generator.pages import urls
from generator.pages.model import Finding

SHARPER = 1.5  # one layer's share of separating points at least this many times the other's: "more sharply"


def findings(build, art, set_arrays, title) -> list[Finding]:
    """art: the sets stage's result; set_arrays(art, slug) -> (indices, {layer: activations}) and
    title(art, name) come from the sets' page module."""
    kinds = {row["name"]: row["type"] for row in build.model_info["summary"]}
    layers = art.meta["layers"]
    convs = [name for name in layers if kinds.get(name) in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")]
    dense = [name for name in layers[:-1] if kinds.get(name) == "Dense" and (not convs or layers.index(name) >
                                                                             layers.index(convs[-1]))]
    if not convs or not dense:
        return []
    conv, node = convs[-1], dense[0]
    groups: dict[str, list[str]] = {}
    for c in art.meta["comparisons"]:
        a, b = set_arrays(art, c["a_slug"])[1], set_arrays(art, c["b_slug"])[1]
        (dc, pc), (dn, pn) = (_separating(a[name], b[name], build.cfg.activations.threshold) for name in (conv, node))
        sc, sn = dc / pc, dn / pn
        how = ("more sharply than" if sn >= SHARPER * sc and dn else "less sharply than" if sc >= SHARPER * sn and dc
               else "about as sharply as")
        groups.setdefault(how, []).append(
            f"{title(art, c['a'])} vs {title(art, c['b'])}: {dn} of {pn} nodes ({sn:.1%}) against {dc:,} of "
            f"{pc:,} points ({sc:.1%})")
    return [Finding(f"{node} tells {'these' if len(pairs) > 1 else 'this'} compared pair{'s' if len(pairs) > 1 else ''} "
                    f"of image sets apart {how} {conv} (points or nodes active in every image of one set and in none "
                    f"of the other): {'; '.join(pairs)}.", urls.SETS, "the image sets", order=35)
            for how, pairs in groups.items()]


def _separating(a, b, threshold: float) -> tuple[int, int]:
    """(points active in every image of one set and none of the other, the layer's points)."""
    counts = compare_layer(a, b, threshold)["counts"]
    return counts["only_a"] + counts["only_b"], counts["points"]
