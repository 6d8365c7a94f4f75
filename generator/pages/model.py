"""Plain dataclasses the templates lay out; templates compute nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

D = TypeVar("D")


@dataclass(frozen=True)
class Link:
    label: str
    url: str  # relative to the site root; templates make it relative to the page


@dataclass(frozen=True)
class Finding:
    """One sentence the index says about this model, computed by a rule from its results: the number
    that supports it is in the sentence, and the link goes to the page that shows the evidence. A
    rule that does not hold for a model gives no Finding, so nothing is said."""
    text: str
    url: str
    link: str  # the link's words, e.g. "the confusion page"
    order: int = 50  # where it stands in the block: the decision first, then the parts


@dataclass
class Panel:
    """A block one analysis adds to another section's page (e.g. a map page), laid out by its own
    partial template with `p.data` (see the typed hooks of pages.section.Section)."""
    anchor: str
    title: str
    template: str  # e.g. "panels/kernels.html"
    data: object
    links: list[Link] = field(default_factory=list)
    colours: object | None = None  # a colour_keys.ColourKey when the panel shows pictures on that scale


@dataclass
class Page(Generic[D]):
    url: str
    template: str
    title: str
    crumbs: list[Link] = field(default_factory=list)
    data: D | None = None
    prev: Link | None = None
    next: Link | None = None
    description: str = ""
    section: str = ""


@dataclass
class Figure:
    """A small picture from this gallery in the guide."""
    image: str
    alt: str
    caption: str
    link: str | None = None
    scale: int = 1


@dataclass
class Topic:
    """One section of the guide, brought by the feature whose pages use its terms (Section.guide_topics)."""
    anchor: str
    title: str
    paragraphs: list[str]
    figures: list[Figure] = field(default_factory=list)


@dataclass(frozen=True)
class SiteContext:
    """What every page's header and footer show."""
    title: str
    config_hash: str
    credit: str
    built: str
    duration: str
    nav: list[tuple[str, str, str]]  # (label, url, section key)


def chain(pages: list[Page], label=lambda p: p.title) -> list[Page]:
    """Give each page of a sequence links to its neighbours (for buttons and the ← → keys)."""
    for before, after in zip(pages, pages[1:]):
        after.prev = Link(label(before), before.url)
        before.next = Link(label(after), after.url)
    return pages
