"""Image sets: every layer's activations for chosen test images, and what tells two sets apart.
"""

STAGES = (
    "generator.features.sets.stage",
    "generator.features.sets.separation",
)
SECTIONS = (
    "generator.features.sets.pages",
    "generator.features.sets.separation_panels",
)
