"""Input patterns (OIPs): what drives each map hardest, from noise and from test images; the
pattern a map is shown by, three distinct patterns per map, the central position's pattern, and the
first layer's filter weights. Owns the layer and map pages.
"""

STAGES = (
    "generator.features.patterns.oip_stage",
    "generator.features.patterns.shown_patterns",
    "generator.features.patterns.diversity",
    "generator.features.patterns.centre_nodes",
    "generator.features.patterns.kernels",
)
SECTIONS = (
    "generator.features.patterns.pages",
    "generator.features.patterns.shown_panels",
    "generator.features.patterns.diversity_panels",
    "generator.features.patterns.kernels_panels",
)
