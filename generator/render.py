"""Lay the page model out with Jinja2 (autoescape on) and copy the static assets."""
from __future__ import annotations

import json
import posixpath
import shutil
from pathlib import Path
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup
from PIL import Image

from .errors import StageFailed
from .pages.glossary import link_terms
from .pages.model import Page, SiteContext

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# A feature's own fragments live in its package and are named by it: "evidence/examples.html".
FEATURES = Path(__file__).resolve().parent / "features"


class ImageIndex:
    """Sizes of every picture in the staged site, so each <img> gets width and height,
    and a page that names a picture that was never drawn fails the build instead of shipping broken."""

    def __init__(self, site: Path):
        self.site = site
        self.sizes: dict[str, tuple[int, int]] = {}

    def size(self, url: str) -> tuple[int, int]:
        if url not in self.sizes:
            path = self.site / url
            if not path.is_file():
                raise StageFailed(f"page refers to a picture that was not drawn: {url}")
            with Image.open(path) as image:
                self.sizes[url] = image.size
        return self.sizes[url]


def environment(images: ImageIndex, terms: tuple = ()) -> Environment:
    env = Environment(loader=FileSystemLoader([TEMPLATES, FEATURES]), autoescape=select_autoescape(["html", "js"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["rel"] = _rel
    env.filters["pct"] = lambda v, digits=2: f"{100 * v:.{digits}f} %"
    env.filters["num"] = lambda v, digits=3: f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"
    env.globals["img"] = _img_tag(images)
    env.filters["terms"] = pass_context(lambda context, html: link_terms(str(html), context["page"].url, terms))
    env.filters["tojs"] = lambda v: Markup(json.dumps(v).replace("</", "<\\/"))
    return env


@pass_context
def _rel(context, url: str) -> str:
    """A root-relative URL as seen from the page being rendered (works from file:// and sub-paths);
    an in-page anchor stays as it is."""
    if url.startswith("#"):
        return url
    here = posixpath.dirname(context["page"].url)
    return posixpath.relpath(url, here or ".")


def _img_tag(images: ImageIndex):
    @pass_context
    def img(context, url: str, alt: str, cls: str = "", lazy: bool = True, zoom: bool = True,
            scale: float = 1.0) -> Markup:
        width, height = images.size(url)
        attrs = {"src": _rel(context, url), "alt": alt, "width": round(width * scale),
                 "height": round(height * scale), "class": cls or None,
                 "loading": "lazy" if lazy else None, "decoding": "async", "data-zoom": "" if zoom else None}
        parts = [f'{k}="{Markup.escape(v)}"' if v != "" else k for k, v in attrs.items() if v is not None]
        return Markup(f"<img {' '.join(parts)}>")

    return img


def render_pages(pages: list[Page], site: Path, images: ImageIndex, common: SiteContext, terms: tuple = ()) -> None:
    env = environment(images, terms)
    for page in pages:
        path = site / page.url
        path.parent.mkdir(parents=True, exist_ok=True)
        html = env.get_template(page.template).render(page=page, d=page.data, site=common)
        path.write_text(html, encoding="utf-8")


def copy_static(site: Path) -> None:
    shutil.copytree(TEMPLATES / "static", site / "static", dirs_exist_ok=True)
    (site / ".nojekyll").write_text("")
