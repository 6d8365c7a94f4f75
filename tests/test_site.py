"""The built quick site: complete, every link and image resolves, the model card says true things."""
from __future__ import annotations

import re

from PIL import Image



def test_every_link_and_image_resolves(quick_site_links):
    assert quick_site_links == []  # tests/linkcheck.py, run once per session


def test_index_has_model_card(quick_site):
    html = (quick_site / "index.html").read_text()
    assert "208,982" in html
    for layer in ("Conv2D_1", "Max_Pool_1", "Conv2D_2", "Max_Pool_2", "Conv2D_3", "Flatten", "Dense_1", "Dense_2"):
        assert f"<td>{layer}</td>" in html
    assert re.search(r"Test accuracy</dt><dd>\d\d\.\d\d %", html)
    assert (quick_site / ".nojekyll").exists()


def test_confusion_page_shows_every_mistake(quick_site):
    html = (quick_site / "confusion.html").read_text()
    errors = int(re.search(r"(\d+) of 2,000 test images are misclassified", html).group(1))
    assert html.count('class="tile mistake"') >= errors  # gallery + pair sections
    first = re.search(r'src="(img/test/(\d{5})\.png)"', html)
    image = Image.open(quick_site / first.group(1))
    assert image.size == (56, 56)


def test_pictures_have_size_and_alt(quick_site):
    for page in quick_site.rglob("*.html"):
        for tag in re.findall(r"<img [^>]*>", page.read_text()):
            assert 'alt="' in tag and 'alt=""' not in tag, (page, tag)
            assert "width=" in tag and "height=" in tag, (page, tag)


def test_summary_line(quick_site):
    last = (quick_site.parent / "build.log").read_text().strip().splitlines()[-1]
    assert last.startswith("built ") and "pages" in last and "model" in last
