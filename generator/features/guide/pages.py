"""How to read this gallery: one page that explains every term, method and colour scale the other pages
use, with small pictures from this very gallery, linked from every page's header.

The explanations are built from the build's own settings and results (its noise scales, its layers,
the map it shows as an example), so they never describe another network than the one on the pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


from generator import imaging
from generator.pages import urls
from generator.pages.glossary import Term
from generator.pages.model import Figure, Link, Page, Topic
from generator.pages.section import Section

NAME = "guide"
COLOURBAR_DIVERGING = "guide/img/rdbu.png"
COLOURBAR_GRAY = "guide/img/gray.png"


# The blog series the gallery grows from (activation grids, OIPs, carving); a search of the blog for the
# series, so the link holds whichever of its posts a reader wants first.
BLOG = Link("“A simple CNN for the MNIST dataset”, a blog series on the anracom Linux blog",
            "https://linux-blog.anracon.de/?s=simple+CNN+MNIST+dataset")


@dataclass
class GuideData:
    topics: list[Topic]
    origin: Link = BLOG  # where the gallery's ideas come from
    start: str = urls.INDEX + "#start"  # the index's "Start here" path


def enabled(build) -> bool:
    return True


def depends(build):
    return []


def draw(build, out: Path) -> None:
    imaging.colorbar(out / COLOURBAR_DIVERGING, "RdBu_r", -1, 1, "negative · zero · positive")
    imaging.colorbar(out / COLOURBAR_GRAY, "gray", 0, 255, "pixel value: black 0, white 255")


def _colour_topic() -> Topic:
    return Topic("colours", "Colour scales", [
        "Viridis (dark purple to yellow): patterns in pixel units and activations, low to high.",
        "Blue–white–red: signed numbers — kernel weights and what a dream changed (blue negative or darker, red "
        "positive or brighter, white zero).",
        "Gray: images as they are, black 0 to white 255; and contrast-enhanced patterns.",
        "Inferno (black to pale yellow): only the heat maps over test images, so that the heat stands apart "
        "from the gray digit beneath it; 0 is no colour, pale yellow the image's strongest position.",
    ], [Figure(COLOURBAR_DIVERGING, "the blue–white–red colour scale for signed numbers",
               "Signed numbers: blue negative, white zero, red positive."),
        Figure(COLOURBAR_GRAY, "the gray scale, black to white", "Images: black 0, white 255.")])


def page_data(build) -> GuideData:
    """Every enabled feature's topics (Section.guide_topics), in the order of the features."""
    from generator import registry

    return GuideData(registry.guide_topics(build))


def glossary() -> list:
    return [Term(r"contrast-enhanced", "colours", "stretched between the picture's own 1st and 99th percentile")]


def pages(build) -> list[Page]:
    return [Page(urls.GUIDE, "guide.html", "How to read this gallery", [Link("Index", urls.INDEX)],
                 page_data(build), section=NAME,
                 description="What the gallery's input patterns, ratios, statuses, grids and colours mean.")]


SECTION = Section(NAME, depends, draw, pages, enabled=enabled, nav=("How to read", urls.GUIDE),
                  guide_topics=lambda build: [_colour_topic()], glossary=glossary)
