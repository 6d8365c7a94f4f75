"""Map role: what each map and dense node is for — dense-node patterns and pages, ablation, class
influence and the strongest connections.
"""

STAGES = (
    "generator.features.role.nodes",
    "generator.features.role.ablation",
    "generator.features.role.influence",
    "generator.features.role.connections",
)
SECTIONS = (
    "generator.features.role.pages",
    "generator.features.role.ablation_panels",
    "generator.features.role.influence_panels",
    "generator.features.role.connections_panels",
)
