"""Test images as small PNGs, shared by every section that shows them."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from .. import imaging
from . import urls

SCALE = 2  # 56 px: small, and nearest-neighbour keeps the pixels honest


def draw_test_images(build, out: Path, indices: Iterable[int]) -> None:
    images = build.dataset.x_test
    for index in sorted(set(int(i) for i in indices)):
        image = images[index]  # uint8, or float32 on the 0..255 scale (data given as floats 0..1)
        pixels = image if image.dtype == np.uint8 else np.clip(np.round(image), 0, 255).astype(np.uint8)
        imaging.save_png(out / urls.test_image(index), pixels[..., 0] if pixels.ndim == 3 and pixels.shape[-1] == 1
                         else pixels, scale=SCALE)
