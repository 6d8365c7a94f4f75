"""The data the image-set pages lay out: sets, images, layers and comparisons between two sets."""
from __future__ import annotations

from dataclasses import dataclass, field

from generator.pages.colour_keys import INPUT, ColourKey
from generator.pages.model import Link, Panel


@dataclass
class LayerView:
    name: str
    anchor: str
    title: str
    legend: str
    colorbar: str
    colorbar_alt: str
    layout: str      # "W H cols h w sep count unit" of the unscaled grid, for the hover labels
    vmin: float      # the shared colour range, in raw activation units
    vmax: float
    map_page: str | None = None  # map 0's page when the build has the layer's map pages; map k's differs in k


@dataclass
class ImageView:
    index: int
    position: int
    url: str
    thumb: str
    gray: str
    colour: str  # the input in the site's colour scale (colour_keys.INPUT)
    chart: str
    true: str
    predicted: str
    confidence: float
    true_prob: float
    correct: bool
    probs: list[float]
    grids: dict[str, str]


@dataclass
class SetView:
    name: str
    slug: str
    title: str
    url: str
    how: str
    download: str
    images: list[ImageView]
    comparisons: list[Link] = field(default_factory=list)


@dataclass
class Unit:
    number: int
    url: str | None  # the map's OIP page, when the gallery is built


@dataclass
class UnitRow:
    number: int
    only_a: int
    only_b: int
    common: int
    mean_a: float
    mean_b: float
    url: str | None
    distinct: int  # only_a + only_b: the points of this unit that tell the sets apart


@dataclass
class LayerComparison:
    layer: LayerView
    overlay: str
    unit: str
    points: int
    only_a: int
    only_b: int
    common: int
    cutoff: float
    top: list[UnitRow]
    units_a: list[Unit]      # maps (or nodes) holding points only A activates, most first
    units_b: list[Unit]
    units_common: list[Unit]
    words: dict[str, str] = field(default_factory=dict)  # the counts and unit names in words, see _words


@dataclass
class ComparisonView:
    title: str
    url: str
    a: SetView
    b: SetView
    threshold: float
    layers: list[LayerComparison]
    key_layers: list[LayerComparison]
    linked: bool
    scale_note: str
    class_names: list[str]
    panels: list = field(default_factory=list)  # other analyses' panels (registry "comparison" hook)


@dataclass
class SetPageData:
    set: SetView
    layers: list[LayerView]
    class_names: list[str]
    scale_note: str


@dataclass
class ImagePageData:
    set: SetView
    image: ImageView
    row: int
    layers: list[LayerView]
    class_names: list[str]
    scale_note: str
    input_colours: ColourKey = INPUT  # the colour view's scale
    panels: list[Panel] = field(default_factory=list)  # other analyses' panels (registry "set-image")


@dataclass
class SetsIndexData:
    sets: list[SetView]
    comparisons: list[ComparisonView]
    threshold: float
    scaling: str
    colormap: str
    key_note: str = ""
