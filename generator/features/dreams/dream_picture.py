"""The picture a dream starts from, and the arithmetic of carving: scale down, keep the lost detail,
scale up, add the detail back; and cutting a picture into tiles of the model's input size at a
random offset.

Everything here is plain numpy on float64 pixel arrays (0..255 for a picture): (H, W) gray or
(H, W, 3) colour. Resizing is Pillow's bicubic filter on 32-bit float images, channel by channel,
so no value is rounded to 8 bits on the way.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from generator.errors import UserError

DEFAULT_PICTURE = "grace_hopper.jpg"  # matplotlib's sample data; public domain (US Navy photograph)
DEFAULT_LABEL = "Grace Hopper (matplotlib sample grace_hopper.jpg, public domain)"
SQUARE_GRAY = (1, 1, 1)  # a model input shape (H, W, C) that asks for a square gray picture


def picture_path(name: str | None, root: Path) -> Path:
    """The configured picture, relative names taken from the project root; None means the bundled one."""
    if not name:
        from matplotlib import cbook

        return Path(cbook.get_sample_data(DEFAULT_PICTURE, asfileobj=False))
    path = Path(name).expanduser()
    return path if path.is_absolute() else root / path


def picture_shape(size: int, tile: tuple) -> tuple:
    """The shape of the picture a model with (H, W, C) inputs dreams on: the tile's aspect ratio,
    its longer side `size` pixels; (h, w) gray for C = 1, (h, w, 3) colour for C = 3."""
    th, tw, channels = tile
    h, w = (size, max(1, round(size * tw / th))) if th >= tw else (max(1, round(size * th / tw)), size)
    return pixels_shape((h, w, channels))


def pixels_shape(shape: tuple) -> tuple:
    """How pictures of model input shape (H, W, C) are held here: (H, W) gray, (H, W, C) colour."""
    return tuple(shape[:2]) if shape[2] == 1 else tuple(shape)


def load_picture(name: str | None, size: int, root: Path, tile: tuple = SQUARE_GRAY) -> np.ndarray:
    """The picture for a model with (H, W, C) inputs (float64, 0..255), shaped by `picture_shape`:
    EXIF orientation applied, alpha flattened (on white), made gray for C = 1 (kept in colour for
    C = 3), the central crop of the tile's aspect ratio taken, then resized with a bicubic filter.
    Anything that is not a readable JPEG or PNG, or is larger than Pillow's pixel limit (read from
    the header, before any pixel is decoded), raises a one-line UserError naming the file."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = picture_path(name, root)
    if path.is_dir():
        raise UserError(f"dreams.picture: {path} is a folder, not a JPEG or PNG file")
    if not path.is_file():
        raise UserError(f"dreams.picture: no such file: {path}")
    try:
        with _open_within_limit(path) as image:
            if image.format not in ("JPEG", "PNG", "MPO"):
                raise UserError(f"dreams.picture: {path} is a {image.format or 'unknown'} image, not a JPEG or PNG")
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                flat.alpha_composite(rgba)
                image = flat
            pixels = image.convert("L" if tile[2] == 1 else "RGB")
            pixels.load()
    except UserError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise UserError(f"dreams.picture: {path} is not a readable JPEG or PNG image "
                        f"({err.__class__.__name__})") from None
    return to_shape(np.asarray(pixels, dtype=np.float64), picture_shape(size, tile)[:2])


def _open_within_limit(path: Path):
    """Image.open, with both of Pillow's size alarms as one UserError: its warning (more than
    MAX_IMAGE_PIXELS, which would still be decoded, slowly and into gigabytes) and its
    DecompressionBombError (more than twice that). Only the header has been read at this point."""
    import warnings

    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UserError(f"dreams.picture: {path} is too large: more than {limit:,} pixels "
                        f"(about {limit // 1_000_000} megapixels); scale it down") from None


def to_shape(pixels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Crop the central part of the target's aspect ratio (a portrait keeps a little more of its
    top, where faces are) and resize it to (h, w)."""
    h, w = pixels.shape[:2]
    if w * shape[0] > h * shape[1]:  # wider than the target: full height
        ch, cw = h, max(1, round(h * shape[1] / shape[0]))
    else:
        ch, cw = max(1, round(w * shape[0] / shape[1])), w
    top, left = (h - ch) // 3, (w - cw) // 2
    return np.clip(resize(pixels[top:top + ch, left:left + cw], shape), 0.0, 255.0)


def picture_hash(picture: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(picture, dtype=np.float64).tobytes()).hexdigest()[:16]


def resize(a: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Bicubic resize of a float array (H, W) or (H, W, C) to size×size (or (height, width)), in float
    precision, channel by channel."""
    from PIL import Image

    h, w = (size, size) if isinstance(size, int) else tuple(size)[:2]
    a = np.asarray(a, dtype=np.float64)
    if a.shape[:2] == (h, w):
        return a.copy()
    if a.ndim == 3:
        return np.stack([resize(a[..., c], (h, w)) for c in range(a.shape[-1])], axis=-1)
    image = Image.fromarray(a.astype(np.float32), mode="F")
    return np.asarray(image.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float64)


def split_detail(picture: np.ndarray, small: int | tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(the picture scaled down to `small`, the detail that scaling loses): the picture minus its
    down-and-up-scaled copy, so that `add_detail(down, detail)` gives the picture back exactly."""
    down = resize(picture, small)
    return down, picture - resize(down, picture.shape)


def add_detail(small: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """Scale a (dreamt) small picture up to the detail's size and add the detail back."""
    return resize(small, detail.shape) + detail


def _sides(tile) -> tuple[int, int]:
    return (tile, tile) if isinstance(tile, (int, np.integer)) else (int(tile[0]), int(tile[1]))


def random_offsets(rounds: int, seed: int, tile: int | tuple) -> np.ndarray:
    """One (dy, dx) shift per round, dy in 0..th-1 and dx in 0..tw-1 for a th×tw tile, so tile seams
    fall somewhere new every round."""
    return np.random.default_rng(seed).integers(0, np.asarray(_sides(tile)), size=(rounds, 2))


def cut_tiles(image: np.ndarray, offset, tile: int | tuple) -> np.ndarray:
    """Shift the image (H, W[, C]) by `offset` (wrapping around) and cut it into th×tw pieces, row by
    row: (pieces, th, tw[, C]). The image's sides must be multiples of the tile's."""
    h, w = image.shape[:2]
    th, tw = _sides(tile)
    if h % th or w % tw:
        raise ValueError(f"image {h}×{w} is not a whole number of {th}×{tw} tiles")
    rest = image.shape[2:]
    shifted = np.roll(image, (-int(offset[0]), -int(offset[1])), axis=(0, 1))
    return shifted.reshape((h // th, th, w // tw, tw) + rest).swapaxes(1, 2).reshape((-1, th, tw) + rest)


def join_tiles(tiles: np.ndarray, shape: tuple[int, int], offset=(0, 0)) -> np.ndarray:
    """The inverse of `cut_tiles`: put the pieces back and undo the shift."""
    h, w = shape[:2]
    tiles = np.asarray(tiles)
    th, tw, rest = tiles.shape[1], tiles.shape[2], tiles.shape[3:]
    grid = tiles.reshape((h // th, w // tw, th, tw) + rest).swapaxes(1, 2).reshape((h, w) + rest)
    return np.roll(grid, (int(offset[0]), int(offset[1])), axis=(0, 1))
