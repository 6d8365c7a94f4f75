"""Ablation: what each map is *for* — test accuracy and per-class recall with the map switched off.

Two ways to switch a map off: set its output to 0 (its own "silent" value after a ReLU) or to its mean
over the test set, per position (the gentler choice: the rest of the network still gets the map's
average contribution and loses only what varies from image to image). Every map of every map layer is
ablated over the whole test set, all maps at once (see ablation_core). The map page says the accuracy
change and the classes that suffer; the layer page lists every map by the harm its loss does.
"""
from __future__ import annotations



from generator.registry import Stage
from generator.features.role import ablation_core

NAME = "ablation"
MODES = ("zero", "mean")
MODE_WORDS = {"zero": "set to 0", "mean": "set to its test-set mean"}
WORST = 3  # classes named on a map page, maps named per class on a layer page


# ---- the stage ---------------------------------------------------------------------------------



# ---- numbers for the pages -----------------------------------------------------------------------

# Keyed on the arithmetic's code only (not on the panels' words).
STAGE = Stage(NAME, lambda build: ablation_core.compute(build, MODES),
              lambda build: {"modes": MODES, "layers": list(build.cfg.oip.layers or ())},
              code=("generator.features.role.ablation_core",))
