"""Class influence: which classes each map pushes the decision towards.

For a test image of class c, gradient × activation of class c's logit, summed over a map's positions,
is the first-order share of that logit the map contributes (what the logit would lose, to first
order, if the map were switched off). Averaged over the test images of each class it gives a
class × map table: a bar per class on each map page, a heat map on each layer page.
"""
from __future__ import annotations



from generator.registry import Stage
from generator.cache import Artifact

NAME = "influence"
CMAP = "RdBu_r"   # red: the map raises the class's logit, blue: it lowers it
UNITS = "logit units (gradient × activation, summed over the {unit}, mean over the class's test images)"


# ---- the stage ---------------------------------------------------------------------------------



def _compute(build) -> Artifact:
    from generator.model import taps
    from generator.features.role.influence_core import influence
    from generator.model.score import class_layer

    model = build.model
    if taps.chain(model) is None and class_layer(model) is None:
        return Artifact("", {}, {"layers": []})
    names = [i.name for i in taps.map_layers(model)] + [i.name for i in taps.node_layers(model)][:-1]
    arrays = influence(model, names, build.x_test(), build.dataset.y_test, build.dataset.n_classes)
    return Artifact("", arrays, {"layers": names})


# ---- pictures and panels -------------------------------------------------------------------------

STAGE = Stage(NAME, _compute)
