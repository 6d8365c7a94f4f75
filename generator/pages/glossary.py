"""The gallery's terms, each with its place in the guide: the first use of a term on a page links there.

`link_terms` runs over a page's rendered main content (base.html filters it): in text only, never inside a
tag, a link, a heading, a form control, code or an SVG; each term at most once per page.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from . import urls


@dataclass(frozen=True)
class Term:
    pattern: str  # a regular expression, matched case-insensitively at word boundaries
    anchor: str   # the guide's section (id) that explains it
    title: str    # the short meaning, shown on hover


TERMS = [
    Term(r"OIPs?|original input patterns?|input patterns?", "oip",
         "original input pattern: an input made by gradient ascent to drive one map hardest"),
    Term(r"super-stimulus|ratio", "ratio",
         "the best pattern's mean activation divided by the best test image's"),
    Term(r"live|rare|silent|dead|failed", "statuses", "a map's status: whether and how often it fires"),
    Term(r"node patterns?|one pattern per node", "nodes", "the input that drives one position of a map hardest"),
    Term(r"heat maps?|heat", "heat", "where on an image a map fires, position by position"),
    Term(r"receptive fields?", "receptive-field", "the patch of the input one position of a layer sees"),
    Term(r"ablation", "ablation", "the map's output replaced, the rest of the network run unchanged"),
    Term(r"contrast-enhanced", "colours", "stretched between the picture's own 1st and 99th percentile"),
    Term(r"activation grids?", "grids", "every map of a layer for one image, one small square per map"),
]
_WORDS = re.compile("|".join(f"(?P<t{i}>\\b(?:{t.pattern})\\b)" for i, t in enumerate(TERMS)), re.IGNORECASE)
# Elements whose text is never linked (their content is a name, a control, code or a picture).
_SKIP = {"a", "h1", "h2", "h3", "h4", "button", "label", "option", "select", "summary", "code", "pre", "svg",
         "script", "style", "title", "textarea", "nav", "span", "th"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")


def link_terms(html: str, page_url: str) -> Markup:
    """The html with the first use of each term linked to the guide (relative to the page at page_url)."""
    if page_url == urls.GUIDE:
        return Markup(html)
    guide = posixpath.relpath(urls.GUIDE, posixpath.dirname(page_url) or ".")
    used: set[int] = set()
    out, open_skips, pos = [], [], 0
    for tag in _TAG.finditer(html):
        out.append(_link_text(html[pos:tag.start()], guide, used) if not open_skips else html[pos:tag.start()])
        out.append(tag.group(0))
        closing, name, selfclosing = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name in _SKIP and not selfclosing:
            if closing and name in open_skips:
                del open_skips[len(open_skips) - 1 - open_skips[::-1].index(name)]
            elif not closing:
                open_skips.append(name)
        pos = tag.end()
    out.append(_link_text(html[pos:], guide, used) if not open_skips else html[pos:])
    return Markup("".join(out))


def _link_text(text: str, guide: str, used: set[int]) -> str:
    def replace(match: re.Match) -> str:
        i = int(match.lastgroup[1:])
        if i in used:
            return match.group(0)
        used.add(i)
        term = TERMS[i]
        return f'<a class="term" href="{guide}#{term.anchor}" title="{escape(term.title)}">{match.group(0)}</a>'

    return _WORDS.sub(replace, text)
