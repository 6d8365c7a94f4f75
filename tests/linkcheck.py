"""Find every href, src, srcset and CSS url() in a built site and report the ones that do not resolve to a file."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        # A link a reader follows out of the site on purpose (rel="external": the blog the gallery grows
        # from) is navigation, not a file the page needs; every other reference must resolve inside.
        outward = tag == "a" and "external" in (dict(attrs).get("rel") or "").split()
        for name, value in attrs:
            if name in ("href", "src") and value is not None and not (outward and urlsplit(value).scheme == "https"):
                self.refs.append((tag, value))
            if name == "srcset" and value:
                self.refs += [(tag, part.split()[0]) for part in value.split(",") if part.strip()]
            if name == "id" and value:
                self.ids.add(value)


def parse(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def css_urls(sheet: Path) -> list[str]:
    """The url(...) references of a stylesheet (data: URIs left out)."""
    found = re.findall(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""", sheet.read_text(encoding="utf-8"))
    return [u for u in found if not u.startswith("data:")]


def broken_links(site: Path) -> list[str]:
    problems = []
    for sheet in sorted(site.rglob("*.css")):
        for ref in css_urls(sheet):
            target = (sheet.parent / unquote(urlsplit(ref).path)).resolve()
            if urlsplit(ref).scheme or not target.is_file() or site.resolve() not in target.parents:
                problems.append(f"{sheet.relative_to(site)}: url({ref}) does not resolve")
    for page in sorted(site.rglob("*.html")):
        for tag, ref in parse(page).refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//"):
                problems.append(f"{page.relative_to(site)}: external {tag} {ref}")
                continue
            if not parts.path:
                continue  # same-page anchor
            if parts.path.startswith("/"):
                problems.append(f"{page.relative_to(site)}: root-absolute {ref} breaks on a sub-path")
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_file() or site.resolve() not in target.parents:
                problems.append(f"{page.relative_to(site)}: {tag} {ref} does not resolve")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in parse(target).ids:
                problems.append(f"{page.relative_to(site)}: anchor #{parts.fragment} missing in {parts.path}")
    return problems
