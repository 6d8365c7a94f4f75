"""The data the dream pages lay out, and the words each kind of dream says about itself."""
from __future__ import annotations

from dataclasses import dataclass, field

from generator.pages.model import Link

KINDS = {"carve": "pattern carving", "tiled": "tiled dream", "layer": "layer dream"}
# Per kind of dream: how it is made (with {map}, {layer} and {tile}, the model's input size, filled in), the name of one step, how
# the animation and the final picture were drawn, and the label of its pager link.
KIND_WORDS = {
    "layer": dict(lead="The classic DeepDream on the picture: gradient ascent on the objective below, octave by "
                       "octave from a small copy to the full size, the dream's change carried up from one octave "
                       "to the next.",
                  step="octave", steps="Octaves", anim="The picture, then every octave", final="Final picture",
                  pager="Layer dream: {name}"),
    "tiled": dict(lead="Every {tile} tile of a larger copy of the picture runs the input-pattern ascent for map {map} "
                       "of {layer}, all tiles (and all chosen maps) in one batch; the tiles move by a random offset "
                       "each round so no seams show.",
                  step="round", steps="Rounds", anim="The picture, then every round (one contrast stretch for all "
                                                      "frames)",
                  final="Final picture, contrast-adjusted", pager="{layer} map {map} (tiled)"),
    "carve": dict(lead="The picture scaled down to {tile} runs the input-pattern ascent for map {map} of {layer}; the "
                       "result is scaled up and the detail lost by the downscaling is added back, round after round.",
                  step="round", steps="Rounds", anim="The picture, then every round (one contrast stretch for all "
                                                      "frames)",
                  final="Final picture, contrast-adjusted", pager="{layer} map {map}"),
}


def kind_words(kind: str, layer: str | None = None, m: int | None = None, name: str = "",
               tile: str = "") -> dict[str, str]:
    words = {k: v.format(map=m, layer=layer, name=name, tile=tile) for k, v in KIND_WORDS[kind].items()}
    words["card"] = f"map {m}" if m is not None else name
    return words


@dataclass
class Frame:
    """One round (carving) or octave (layer dream) of a dream."""
    label: str
    images: list[tuple[str, str, bool]]   # (url, alt, shown at the picture's size)
    before: float
    after: float


@dataclass
class DreamView:
    kind: str
    kind_label: str
    slug: str
    url: str
    title: str
    summary: str
    thumb: str
    anim: str
    final: str
    diff: str
    picture: str
    columns: list[str]
    frames: list[Frame]
    measure: str
    settings: list[tuple[str, str]]
    layer: str | None = None
    map: int | None = None
    map_page: str | None = None
    oip: list[tuple[str, str]] = field(default_factory=list)
    match: str = ""
    siblings: list[Link] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)  # what this kind of dream says; see KIND_WORDS
    diff_words: str = ""  # how the difference picture sums a colour picture's channels, if it does
    colours: list = field(default_factory=list)  # ColourKeys of the page's coloured pictures


@dataclass
class IndexData:
    picture: str
    picture_label: str
    picture_kind: str     # "gray" or "colour"
    picture_px: str       # its size as the alt text says it: "224 px", "224×168 px"
    picture_dims: str     # "224×224"
    tile: str             # the model's input size, the carving tile: "28×28"
    layer: str
    rule: str
    maps: list[int]
    timings: list[str]
    match: str
    groups: list[tuple[str, str, list[DreamView]]]   # (anchor, heading, dreams)
