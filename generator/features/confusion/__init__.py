"""Confusion: the network's predictions on the test set and which classes it mixes up.
"""

STAGES = (
    "generator.features.confusion.evaluation",
)
SECTIONS = (
    "generator.features.confusion.pages",
)
