"""Plain dataclasses the templates lay out; templates compute nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Link:
    label: str
    url: str  # relative to the site root; templates make it relative to the page


@dataclass
class Page:
    url: str
    template: str
    title: str
    crumbs: list[Link] = field(default_factory=list)
    data: Any = None
    prev: Link | None = None
    next: Link | None = None
    description: str = ""
    section: str = ""


def chain(pages: list[Page], label=lambda p: p.title) -> list[Page]:
    """Give each page of a sequence links to its neighbours (for buttons and the ← → keys)."""
    for before, after in zip(pages, pages[1:]):
        after.prev = Link(label(before), before.url)
        before.next = Link(label(after), after.url)
    return pages
