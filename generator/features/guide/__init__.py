"""The guide: how to read the gallery.
"""

STAGES = ()
SECTIONS = (
    "generator.features.guide.pages",
)
