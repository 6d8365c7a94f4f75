"""Every URL of the site in one place, so links are stable between builds and never drift apart."""
from __future__ import annotations

from ..registry import layer_slug  # noqa: F401  (a layer's folder name: the cache's and the site's)

INDEX = "index.html"
CONFUSION = "confusion.html"
SETS = "sets/index.html"
DREAMS = "dreams/index.html"
GUIDE = "guide.html"
SEARCH_INDEX = "static/search-index.js"
SEARCH_NODES = "static/search-nodes.js"  # the dense nodes' entries, from their own section


def layer(name: str) -> str:
    return f"layers/{layer_slug(name)}/index.html"


def map_page(layer_name: str, index: int) -> str:
    return f"layers/{layer_slug(layer_name)}/map-{index:03d}.html"


def map_asset(layer_name: str, index: int, what: str) -> str:
    return f"layers/{layer_slug(layer_name)}/img/map-{index:03d}-{what}"


def node_page(layer_name: str, index: int) -> str:
    """A node of a hidden dense layer; the layer's page is layer(layer_name), like a map layer's."""
    return f"layers/{layer_slug(layer_name)}/node-{index:03d}.html"


def node_asset(layer_name: str, index: int, what: str) -> str:
    return f"layers/{layer_slug(layer_name)}/img/node-{index:03d}-{what}"


def test_image(index: int) -> str:
    return f"img/test/{index:05d}.png"


def image_set(slug: str) -> str:
    return f"sets/{slug}/index.html"


def set_image(slug: str, index: int) -> str:
    return f"sets/{slug}/image-{index:05d}.html"


def comparison(a: str, b: str) -> str:
    return f"compare/{a}-vs-{b}.html"


def dream(slug: str) -> str:
    return f"dreams/{slug}.html"
