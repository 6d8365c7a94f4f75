"""The built quick site in a real browser (Debian's chromium, driven by Playwright), opened from file://.

One walk: index → filter over every map → a layer (keyboard) → a map → next and previous map with the
→ and ← keys → the large view (click and keyboard, Escape closes) → an image-set image page and a dream
page when the build has them; on every page visited no console error and no broken picture. Then the
dark theme and a phone-sized window, and one page of every kind at 390 and 1400 px: none scrolls sideways,
no text under 11 px, no table wider than its column at 1400 px, the predicted class in view on a phone,
crops and heat maps at least 56 px.

Skipped, with the reason, when Playwright or a chromium binary is missing (`.ci/run` installs chromium).
BROWSER_TEST_SITE=/path/to/site checks another built site (e.g. a default build) instead of the quick one.
"""
from __future__ import annotations

import os
import re
import shutil
from fnmatch import fnmatch
from pathlib import Path

import pytest
from PIL import Image
from conftest import search_entries

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

# Every <img> loaded (lazy ones made eager first): the src of those that did not decode.
BROKEN_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = "eager"; });
  const settle = i => i.complete ? null : new Promise(r => {
    i.addEventListener("load", r); i.addEventListener("error", r); setTimeout(r, 10000); });
  await Promise.all(imgs.map(settle));
  return imgs.filter(i => !(i.naturalWidth > 0)).map(i => i.getAttribute("src"));
}"""


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def site(request) -> Path:
    override = os.environ.get("BROWSER_TEST_SITE")
    return Path(override).resolve() if override else request.getfixturevalue("quick_site").resolve()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium binary (apt-get install chromium, or set CHROMIUM=/path/to/chrome)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        yield browser
        browser.close()


class Visit:
    """A page that records console errors and uncaught exceptions; check() asserts none and no broken image."""

    def __init__(self, browser, site: Path, **context):
        self.site = site
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"{self.page.url}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"{self.page.url}: {e}"))
        self.checked: list[str] = []

    def url(self, rel: str) -> str:
        return (self.site / rel).as_uri()

    def open(self, rel: str) -> None:
        self.page.goto(self.url(rel))
        self.check()

    def at(self, rel: str) -> None:
        self.page.wait_for_url(self.url(rel))
        self.check()

    def check(self) -> None:
        self.page.wait_for_load_state("load")
        broken = self.page.evaluate(BROKEN_IMAGES)
        assert broken == [], f"broken images on {self.page.url}: {broken}"
        assert self.errors == [], self.errors
        self.checked.append(self.page.url)

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()

    def close(self) -> None:
        self.context.close()


def gallery(site: Path) -> dict[str, list[str]]:
    """Layer folder → its map pages, from the built files."""
    layers = sorted(p for p in (site / "layers").glob("*") if (p / "index.html").is_file())
    return {p.name: sorted(m.name for m in p.glob("map-*.html")) for p in layers}


def crumbs(visit: Visit) -> list[str]:
    return visit.page.locator("nav.crumbs a").all_inner_texts()


def test_walk_the_gallery(browser, site):
    maps = gallery(site)
    assert maps, f"the site has no layer pages: {site}"
    layer, pages = next(iter(maps.items()))
    assert len(pages) >= 3, pages
    v = Visit(browser, site, viewport={"width": 1280, "height": 900})
    try:
        # The index: headline figures, and the filter over every map of every layer (embedded index).
        v.open("index.html")
        assert v.count(".figures .figure") >= 3
        total = v.page.evaluate("window.GALLERY_INDEX.filter(e => e.k !== 'node').length")
        assert total == sum(len(p) for p in maps.values())
        search = v.page.locator("#find input[type=search]")
        search.fill(f"{layer} 2")
        found = v.page.locator("#found a.mapcard")
        assert found.count() == 1
        assert found.first.get_attribute("href") == f"layers/{layer}/map-002.html"
        search.fill("")
        name = v.page.evaluate("l => window.GALLERY_INDEX.find(e => e.l.toLowerCase() === l).l", layer)
        v.page.select_option("#find select[name=layer]", name)
        assert found.count() == min(len(pages), 120)
        v.page.select_option("#find select[name=status]", "ratio<1")
        low = v.page.evaluate("l => window.GALLERY_INDEX.filter(e => e.l.toLowerCase() === l && e.r !== null"
                              " && e.r < 1).length", layer)
        assert found.count() == low
        v.page.select_option("#find select[name=layer]", "")
        v.page.select_option("#find select[name=status]", "")
        search.fill("dead")
        dead = v.page.evaluate("window.GALLERY_INDEX.filter(e => e.s === 'dead').length")
        assert found.count() == min(dead, 120)
        assert ("no map matches" in v.page.inner_text("#find .count")) == (dead == 0)
        search.fill("")
        assert v.page.locator("#found").is_hidden()
        v.check()  # the thumbnails the filter drew load too

        # index → layer, with the keyboard
        link = v.page.locator(f'.glance a[href="layers/{layer}/index.html"]')
        link.focus()
        v.page.keyboard.press("Enter")
        v.at(f"layers/{layer}/index.html")
        assert crumbs(v) == ["Index"]
        assert v.count("nav.layer-tabs a") == len(maps)
        assert v.page.locator("nav.layer-tabs a[aria-current]").inner_text().lower() == layer

        # the layer's own filter, then → the map, with the keyboard
        v.page.fill("[data-filter-for] input[type=search]", "1")
        visible = v.page.locator("#maps a.mapcard:visible")
        assert visible.count() == 1
        visible.first.focus()
        v.page.keyboard.press("Enter")
        v.at(f"layers/{layer}/{pages[1]}")
        assert crumbs(v) == ["Index", v.page.locator("nav.layer-tabs a[aria-current]").inner_text()]

        # → next map, ← back (the keys follow <link rel=next/prev>)
        v.page.keyboard.press("ArrowRight")
        v.at(f"layers/{layer}/{pages[2]}")
        v.page.keyboard.press("ArrowLeft")
        v.at(f"layers/{layer}/{pages[1]}")

        # the large view: click opens it, pixels sharp; → stays on the page; Escape closes it
        first = v.page.locator("main img[data-zoom]").first
        first.click()
        box = v.page.locator(".lightbox")
        assert box.is_visible()
        big = box.locator("img")
        v.page.wait_for_function("() => document.querySelector('.lightbox img').naturalWidth > 0")
        assert big.evaluate("i => getComputedStyle(i).imageRendering") == "pixelated"
        shown = big.bounding_box()
        natural = big.evaluate("i => i.naturalWidth")
        assert shown["width"] >= natural, "the large view is not larger than the picture"
        assert big.get_attribute("alt") == first.get_attribute("alt") != ""
        v.page.keyboard.press("ArrowRight")
        assert v.page.url == v.url(f"layers/{layer}/{pages[1]}")
        v.page.keyboard.press("Escape")
        assert box.is_hidden()
        # the same with the keyboard only: focus the picture, Enter opens, Escape closes, focus returns
        first.focus()
        v.page.keyboard.press("Enter")
        assert box.is_visible()
        v.page.keyboard.press("Escape")
        assert box.is_hidden()
        assert first.evaluate("i => document.activeElement === i")
        v.check()

        # image pages and dream pages (when the build has them): → goes to the next one
        for pattern in ("sets/*/image-*.html", "dreams/*.html"):
            chained = [p for p in sorted(site.glob(pattern)) if 'rel="next"' in p.read_text(encoding="utf-8")]
            if chained:
                v.open(chained[0].relative_to(site).as_posix())
                assert crumbs(v)[0] == "Index"
                following = v.page.locator('link[rel="next"]').get_attribute("href")
                v.page.keyboard.press("ArrowRight")
                v.at((chained[0].parent / following).resolve().relative_to(site).as_posix())
        assert len(v.checked) >= 6
    finally:
        v.close()


def test_every_page_has_breadcrumbs_and_sized_pictures(site):
    """Static check of the built files: crumbs on every page but the index, width/height and alt on every img,
    loading=lazy on gallery pictures (all but the first few of a page)."""
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        rel = page.relative_to(site).as_posix()
        if rel != "index.html":
            assert 'class="crumbs"' in html, f"{rel} has no breadcrumbs"
        for tag in re.findall(r"<img [^>]*>", html):
            assert re.search(r'\balt="[^"]+"', tag) and "width=" in tag and "height=" in tag, (rel, tag)
            assert 'loading="lazy"' in tag, (rel, tag)


def test_dark_theme_and_phone(browser, site):
    maps = gallery(site)
    dark = Visit(browser, site, viewport={"width": 1280, "height": 900}, color_scheme="dark")
    try:
        dark.open("index.html")
        rgb = dark.page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert sum(int(x) for x in re.findall(r"\d+", rgb)[:3]) < 150, f"dark theme not applied: {rgb}"
    finally:
        dark.close()
    phone = Visit(browser, site, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        layer, pages = next(iter(maps.items())) if maps else (None, [])
        for rel in ["index.html"] + ([f"layers/{layer}/index.html", f"layers/{layer}/{pages[0]}"] if layer else []):
            phone.open(rel)  # its width: test_no_page_scrolls_sideways_at_phone_or_desktop_width, every kind of page
        # keyboard focus is visible: a focused link gets an outline
        phone.page.keyboard.press("Tab")
        outline = phone.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none"), outline
    finally:
        phone.close()


def test_search_index_is_embedded_and_resolves(site):
    """static/search-index.js lists every map page once, and its pages and thumbnails exist."""
    maps = gallery(site)
    script = site / "static" / "search-index.js"
    if not maps:
        assert not script.exists()
        return
    entries = search_entries(script)
    listed = sorted(e["u"] for e in entries)
    assert listed == sorted(f"layers/{layer}/{page}" for layer, pages in maps.items() for page in pages)
    for e in entries:
        assert (site / e["t"]).is_file(), e
        assert e["s"] in ("live", "rare", "silent", "dead", "failed"), e
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<script src="static/search-index.js"></script>' in index


# One page of each kind (the first that exists; BROWSER_TEST_SITE may lack some kinds).
PAGE_KINDS = ["index.html", "layers/*/index.html", "layers/*/map-*.html", "layers/dense_*/index.html",
              "layers/*/node-*.html", "sets/index.html", "sets/*/index.html",
              "sets/*/image-*.html", "compare/*.html", "confusion.html", "dreams/index.html",
              "dreams/carve-*.html", "dreams/layer-*.html",  # a tiled dream page is laid out as a carved one
              "guide.html", "explain/index.html", "images/test-*.html"]
WIDTHS = {390: {"is_mobile": True, "has_touch": True}, 1400: {}}
MIN_TEXT_PX = 11  # no text smaller, at either width
MIN_PICTURE_PX = 56  # crops, heat maps and pattern tiles are drawn at least this wide
# Crops and heat maps: a map page's examples (digit, where the map fires, the receptive-field crop), the
# attribution overlays, and the pattern tiles of a gallery.
CROPS_AND_HEAT = ".tile.example .pair img, .overlays img, .gallery .tile img"
# What the width test reads from a page, in one round trip: the document's width; pixel pictures outside
# a smoothing thumbnail view that are not at a whole multiple of their own pixels; the confusion
# matrix's font sizes; map grids, the first map number's visibility and the last grid cell's link; the size
# on the screen of every chart's text (its font size scaled as the chart is). With every <details> open:
# the elements with visible text under 11 px; tables wider than their box; the predicted class's cells
# (.predicted) and how far they are from being in view, sideways (the window and any box that clips them);
# crops and heat maps narrower than 56 px.
LAYOUT = """([minText, minPicture, cropsAndHeat]) => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const b = document.querySelector('.grid-cells b'), links = document.querySelectorAll('.grid-cells a');
  const shown = el => { const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility === 'visible' && parseFloat(cs.opacity) > 0; };
  const small = new Map(), texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (texts.nextNode()) {
    const el = texts.currentNode.parentElement;
    if (!texts.currentNode.textContent.trim() || small.has(el) || el.closest('svg, script, style, title')) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < minText && shown(el)) small.set(el, `<${el.tagName.toLowerCase()} class="${el.className}"> `
      + `${JSON.stringify(el.textContent.trim().slice(0, 30))} at ${size.toFixed(1)} px`);
  }
  const room = box => { const cs = getComputedStyle(box);  // a table-wrap's width, or the column's
    return box.classList.contains('table-wrap') ? box.clientWidth
      : box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight); };
  const clipped = el => {  // how many px of el are out of view sideways: the window, or a box that clips it
    const r = el.getBoundingClientRect();
    let left = 0, right = window.innerWidth;
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX === 'visible') continue;
      const c = box.getBoundingClientRect(); left = Math.max(left, c.left); right = Math.min(right, c.right);
    }
    return Math.max(0, left - r.left, r.right - right);
  };
  return {
    width: document.documentElement.scrollWidth,
    fractional: Array.from(document.querySelectorAll('figure.grid .hover-grid img, .grid-wrap img'))
      .filter(i => !i.closest('.side') && i.naturalWidth > 0)
      .map(i => [i.getAttribute('src'), i.getBoundingClientRect().width / i.naturalWidth, getComputedStyle(i).imageRendering])
      // narrower than drawn is allowed only smoothly filtered (a phone); otherwise a whole-number scale
      .filter(([src, r, how]) => r < 0.99 ? how === 'pixelated' : Math.abs(r - Math.round(r)) > 0.01)
      .map(([src, r, how]) => `${src} at ${r.toFixed(2)}× (${how})`),
    small_text: Array.from(small.values()),
    wide_tables: Array.from(document.querySelectorAll('table')).filter(shown)
      .filter(t => t.scrollWidth > room(t.parentElement) + 1)
      .map(t => `table.${t.className.trim().replace(/ +/g, '.') || '(no class)'} is ${t.scrollWidth} px in ${room(t.parentElement)} px`),
    predicted: Array.from(document.querySelectorAll('.predicted')).filter(shown)
      .map(el => [el.textContent.trim(), clipped(el)]),
    small_pictures: Array.from(document.querySelectorAll(cropsAndHeat)).filter(shown)
      .map(i => [i.getAttribute('src'), i.getBoundingClientRect().width]).filter(([src, w]) => w < minPicture - 0.5)
      .map(([src, w]) => `${src} at ${w.toFixed(0)} px`),
    matrix: Array.from(document.querySelectorAll('table.matrix td')).map(td => parseFloat(getComputedStyle(td).fontSize)),
    map_grids: document.querySelectorAll('[data-grid*=" map "]').length,
    svg_text: Array.from(document.querySelectorAll('svg text')).map(t => {
      const svg = t.ownerSVGElement, box = svg.viewBox.baseVal;
      const k = box && box.width ? svg.getBoundingClientRect().width / box.width : 1;
      return [t.textContent, parseFloat(getComputedStyle(t).fontSize) * k]; }),
    number_shown: b ? getComputedStyle(b).visibility === 'visible' : null,
    link: links.length ? links[links.length - 1].getAttribute('href') : null,
  };
}"""


def one_page_per_kind(site: Path) -> list[str]:
    found = [next(iter(sorted(site.glob(pattern))), None) for pattern in PAGE_KINDS]
    # a map no test image fires (dead or silent) has a page of its own kind: no examples, other words
    found.append(next((p for p in sorted(site.glob("layers/*/map-*.html"))
                       if re.search(r'class="badge (dead|silent)"', p.read_text(encoding="utf-8"))), None))
    return [p.relative_to(site).as_posix() for p in found if p is not None]


def test_no_page_scrolls_sideways_at_phone_or_desktop_width(browser, site):
    """At 390 px (a phone, touch) and 1400 px no page is wider than the window. No text is under 11 px
    (chart text as shown on the screen, every other element's font size); at 1400 px every table fits its
    column (a phone stacks a wide table's rows or scrolls it inside its box); on a phone the predicted
    class's cells are in view without scrolling sideways (set image pages must mark it: .predicted); crops
    and heat maps are at least 56 px wide. The confusion matrix keeps readable numbers on the phone, grids
    keep a whole-number scale or, narrower than drawn, are smoothed, and on the touch screen every map shows
    its number and links to its page."""
    pages = one_page_per_kind(site)
    assert len(pages) >= 8, f"too few kinds of page in {site}: {pages}"
    wide, other = [], []
    for width, touch in WIDTHS.items():
        v = Visit(browser, site, viewport={"width": width, "height": 900}, **touch)
        try:
            for rel in pages:
                v.page.goto(v.url(rel), wait_until="domcontentloaded")  # every img has its size: layout is final
                got = v.page.evaluate(LAYOUT, [MIN_TEXT_PX, MIN_PICTURE_PX, CROPS_AND_HEAT])
                # Against the width asked for: in mobile emulation innerWidth grows to the content.
                if got["width"] > width + 1:
                    wide.append(f"{rel} is {got['width']} px wide at {width} px")
                other += [f"{rel} at {width} px: pixel grid {f}" for f in got["fractional"]]
                if rel == "confusion.html" and width == 390 and min(got["matrix"] or [0]) < 11:
                    other.append(f"confusion matrix numbers at {min(got['matrix'] or [0])} px (0: none as text)")
                other += grid_cell_problems(got, site, rel, width, bool(touch))
                other += [f"{rel} at {width} px: chart text {text!r} at {size:.1f} px" for text, size in got["svg_text"]
                          if size < MIN_TEXT_PX]
                other += [f"{rel} at {width} px: text {t}" for t in got["small_text"]]
                other += [f"{rel} at {width} px: {p} (a crop or heat map)" for p in got["small_pictures"]]
                if width == 1400:
                    other += [f"{rel} at {width} px: {t}" for t in got["wide_tables"]]
                if fnmatch(rel, "sets/*/image-*.html") and not got["predicted"]:
                    other.append(f"{rel}: no predicted class marked (.predicted)")
                if width == 390:
                    other += [f"{rel} at {width} px: the predicted class {text!r} is {px:.0f} px out of view"
                              for text, px in got["predicted"] if px > 1]
            assert v.errors == [], v.errors
        finally:
            v.close()
    assert wide == [], "pages that scroll sideways: " + "; ".join(wide)
    assert other == [], "; ".join(other)


def grid_cell_problems(got: dict, site: Path, rel: str, width: int, touch: bool) -> list[str]:
    """Map grids: numbers shown on a touch screen (hover shows them elsewhere), links to map pages that exist."""
    if got["number_shown"] is None:
        return [f"{rel}: no map numbers on its grids"] if got["map_grids"] else []
    if got["number_shown"] != touch:
        return [f"{rel} at {width} px: map numbers {'hidden' if touch else 'shown'}"]
    if got["link"] and not ((site / rel).parent / got["link"]).resolve().is_file():
        return [f"{rel}: a grid cell links to {got['link']}, which is not there"]
    return []


def test_colour_bars_are_transparent_around_the_bar(site):
    """A colour bar on an opaque white figure is a white box on the dark theme."""
    bars = sorted(site.glob("sets/img/colorbar-*.png"))
    for path in bars:
        with Image.open(path) as bar:
            assert bar.mode == "RGBA" and bar.getpixel((0, 0))[3] == 0, f"{path.name} has an opaque background"
