"""Evidence from the test set: how often and where each map fires, its strongest images, and how far
its picture predicts the images it fires on.
"""

STAGES = (
    "generator.features.evidence.firing",
    "generator.features.evidence.trust",
)
SECTIONS = (
    "generator.features.evidence.pages",
    "generator.features.evidence.histogram_panels",
)
