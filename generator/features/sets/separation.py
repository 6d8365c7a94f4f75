"""What separates two image sets, by measured effect: the seed's 4-vs-9 question.

For a comparison of set A with set B and its two classes (the commonest label of each set; when both
sets share it, B's other class is the one B's images give most probability to after it), the *gap*
is the mean over A of (logit of A's class − logit of B's class) minus the same mean over B: how far
the network holds the sets apart. Each map of every map layer and each node of the hidden dense layers
is set to its test-set mean (per position, as the gentle ablation does) for the sets' images alone,
and the rest of the network is run on (ablation_core): the units whose loss closes the gap most are
the ones the decision uses to tell the sets apart. A panel on each comparison page ranks them.
"""
from __future__ import annotations


import numpy as np

from generator.registry import Stage
from generator.cache import Artifact

NAME = "separation"
TOP = 8  # units shown per layer


def _depends(build) -> list:
    sets, abl = build.results.get("sets"), build.results.get("ablation")
    return [sets.key if sets else None, abl.key if abl else None]


def classes_of(y_a: np.ndarray, y_b: np.ndarray, probs_b: np.ndarray) -> tuple[int, int, str]:
    """The comparison's two classes and why: each set's commonest label, or B's runner-up class."""
    ca, cb = int(np.bincount(y_a).argmax()), int(np.bincount(y_b).argmax())
    if ca != cb:
        return ca, cb, "the commonest label of each set"
    mean = probs_b.mean(axis=0)
    mean[ca] = -1.0
    return ca, int(mean.argmax()), "both sets' label, and the class the second set's images give most probability to after it"


def _compute(build) -> Artifact:
    from generator.features.sets.stage import set_key
    from generator.features.role import ablation_core

    sets, abl = build.results.get("sets"), build.results.get("ablation")
    if sets is None or abl is None or not sets.meta.get("comparisons"):
        return Artifact("", {}, {"comparisons": []})
    model, x, y = build.model, build.x_test(), build.dataset.y_test
    probs = build.results["evaluation"].arrays["probs"]
    arrays, meta = {}, []
    for position, c in enumerate(sets.meta["comparisons"]):
        ia, ib = (sets.arrays[set_key(c[k], "indices")] for k in ("a_slug", "b_slug"))
        ca, cb, why = classes_of(y[ia], y[ib], probs[ib])
        both = np.concatenate([ia, ib])
        for layer in abl.meta["layers"]:
            logits = ablation_core.refilled_logits(model, layer, x[both], abl.arrays[f"{layer}.fill_mean"])
            if logits is None:
                continue
            margin = logits[:, :, ca] - logits[:, :, cb]                   # (C + 1, n)
            arrays[f"{position}/{layer}/a"] = margin[:, :len(ia)].mean(axis=1)
            arrays[f"{position}/{layer}/b"] = margin[:, len(ia):].mean(axis=1)
        meta.append({"classes": [ca, cb], "why": why})
    return Artifact("", arrays, {"comparisons": meta, "layers": list(abl.meta["layers"])})


# ---- the comparison page's panel ---------------------------------------------------------------

STAGE = Stage(NAME, _compute, _depends, requires=("sets", "ablation", "evaluation"))
