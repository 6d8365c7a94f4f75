"""Explanations: per-image attributions of the decision, their faithfulness and the randomization check.
"""

STAGES = (
    "generator.features.explain.attributions",
)
SECTIONS = (
    "generator.features.explain.pages",
)
