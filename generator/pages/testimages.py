"""Test images as small PNGs, shared by every section that shows them."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .. import imaging
from . import urls

SCALE = 2  # 56 px: small, and nearest-neighbour keeps the pixels honest


def draw_test_images(build, out: Path, indices: Iterable[int]) -> None:
    images = build.dataset.x_test
    for index in sorted(set(int(i) for i in indices)):
        imaging.save_png(out / urls.test_image(index), images[index], scale=SCALE)
