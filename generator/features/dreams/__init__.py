"""Dreams: maps carving their patterns into a picture, and multi-octave layer dreams.
"""

STAGES = (
    "generator.features.dreams.stage",
)
SECTIONS = (
    "generator.features.dreams.pages",
)
