"""The gallery's terms, each with its place in the guide: the first use of a term on a page links there.
Each section brings its own terms (Section.glossary), next to the guide topic that explains them.

`link_terms` runs over a page's rendered main content (base.html filters it): in text only, never inside a
tag, a link, a heading, a form control, code or an SVG; each term at most once per page.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from . import urls


@dataclass(frozen=True)
class Term:
    pattern: str  # a regular expression, matched case-insensitively at word boundaries
    anchor: str   # the guide's section (id) that explains it
    title: str    # the short meaning, shown on hover


# Elements whose text is never linked (their content is a name, a control, code or a picture).
_SKIP = {"a", "h1", "h2", "h3", "h4", "button", "label", "option", "select", "summary", "code", "pre", "svg",
         "script", "style", "title", "textarea", "nav", "span", "th"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")


@lru_cache(maxsize=8)
def _pattern(terms: tuple[Term, ...]) -> re.Pattern:
    return re.compile("|".join(f"(?P<t{i}>\\b(?:{t.pattern})\\b)" for i, t in enumerate(terms)), re.IGNORECASE)


def link_terms(html: str, page_url: str, terms: tuple[Term, ...]) -> Markup:
    """The html with the first use of each term linked to the guide (relative to the page at page_url);
    `terms` are the glossaries of the build's sections (registry.glossary)."""
    if page_url == urls.GUIDE or not terms:
        return Markup(html)
    guide = posixpath.relpath(urls.GUIDE, posixpath.dirname(page_url) or ".")
    used: set[int] = set()
    out, open_skips, pos = [], [], 0
    for tag in _TAG.finditer(html):
        out.append(_link_text(html[pos:tag.start()], guide, used, terms) if not open_skips else html[pos:tag.start()])
        out.append(tag.group(0))
        closing, name, selfclosing = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name in _SKIP and not selfclosing:
            if closing and name in open_skips:
                del open_skips[len(open_skips) - 1 - open_skips[::-1].index(name)]
            elif not closing:
                open_skips.append(name)
        pos = tag.end()
    out.append(_link_text(html[pos:], guide, used, terms) if not open_skips else html[pos:])
    return Markup("".join(out))


def _link_text(text: str, guide: str, used: set[int], terms: tuple[Term, ...]) -> str:
    def replace(match: re.Match) -> str:
        i = int(match.lastgroup[1:])
        if i in used:
            return match.group(0)
        used.add(i)
        term = terms[i]
        return f'<a class="term" href="{guide}#{term.anchor}" title="{escape(term.title)}">{match.group(0)}</a>'

    return _pattern(terms).sub(replace, text)
