"""The site's fixed colour scales, each with the colour bar that explains it: drawn once per section that
shows it, described here once, so a page and the guide say the same about the same colours."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import imaging


@dataclass(frozen=True)
class ColourKey:
    image: str    # the colour bar picture, relative to the site root
    cmap: str
    vmin: float
    vmax: float
    label: str    # under the bar: what its numbers are
    alt: str      # the colour bar in words
    caption: str  # what the colours mean on the pictures beside it

    def draw(self, out: Path) -> None:
        if self.image:  # a key without a bar (RGB patterns) is only its caption
            imaging.colorbar(out / self.image, self.cmap, self.vmin, self.vmax, self.label)


# Patterns in colour (map pages, layer thumbnails): one fixed scale in pixel units for every map.
PATTERN = ColourKey("layers/img/colorbar-pixels.png", "viridis", 0, 255, "pixel value (0 black … 255 white)",
                    "colour bar: viridis from dark purple at pixel value 0 to yellow at 255",
                    "Colour view: the pattern's pixel values, 0 (dark purple) to 255 (yellow), the same scale on "
                    "every map.")

# A colour model's patterns are drawn in their own colours: no scale to read, only the words.
RGB_PATTERN = ColourKey("", "", 0, 255, "", "",
                        "The patterns are in their own colours: red, green and blue each from 0 to 255, as the model's "
                        "input sees them (no colour map).")


def pattern_key(build) -> ColourKey:
    """The key of the patterns' colour view: viridis 0–255 for a gray model, their own colours for RGB."""
    return PATTERN if build.dataset.image_shape[-1] == 1 else RGB_PATTERN


# A test image in colour beside its gray view (image-set pages).
INPUT = ColourKey("sets/img/colorbar-input.png", "viridis", 0, 255, "pixel value (0 black … 255 white)",
                  "colour bar: viridis from dark purple at pixel value 0 to yellow at 255",
                  "The colour view shows the same pixel values on the site's one colour scale, viridis: "
                  "0 dark purple to 255 yellow.")

# Heat over a test image: relative to that image's strongest position.
HEAT = ColourKey("layers/img/colorbar-heat.png", "inferno", 0, 1, "activation ÷ the image's strongest position",
                 "colour bar: inferno from black at 0 to pale yellow at the image's strongest position",
                 "Heat: the map's activation at each position over the gray digit, from 0 (no colour) to the "
                 "image's strongest position (pale yellow; its value is under the picture). A second colour "
                 "scale, inferno, so that the heat stands apart from the gray digit beneath it.")


def draw(out: Path, *keys: ColourKey) -> None:
    for key in keys:
        key.draw(out)
