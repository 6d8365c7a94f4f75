"""The picture a dream starts from, and the arithmetic of carving: scale down, keep the lost detail,
scale up, add the detail back; and cutting a picture into 28×28 tiles at a random offset.

Everything here is plain numpy on float64 pixel arrays (0..255 for a picture); resizing is Pillow's
bicubic filter on 32-bit float images, so no value is rounded to 8 bits on the way.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..errors import UserError

DEFAULT_PICTURE = "grace_hopper.jpg"  # matplotlib's sample data; public domain (US Navy photograph)
DEFAULT_LABEL = "Grace Hopper (matplotlib sample grace_hopper.jpg, public domain)"
TILE = 28


def picture_path(name: str | None, root: Path) -> Path:
    """The configured picture, relative names taken from the project root; None means the bundled one."""
    if not name:
        from matplotlib import cbook

        return Path(cbook.get_sample_data(DEFAULT_PICTURE, asfileobj=False))
    path = Path(name).expanduser()
    return path if path.is_absolute() else root / path


def load_picture(name: str | None, size: int, root: Path) -> np.ndarray:
    """A square gray picture of size×size pixels (float64, 0..255): EXIF orientation applied, colour
    and alpha flattened (on white), the central square cropped, then resized with a bicubic filter.
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
            gray = image.convert("L")
            gray.load()
    except UserError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise UserError(f"dreams.picture: {path} is not a readable JPEG or PNG image "
                        f"({err.__class__.__name__})") from None
    return to_square(np.asarray(gray, dtype=np.float64), size)


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


def to_square(pixels: np.ndarray, size: int) -> np.ndarray:
    """Crop the central square (a portrait keeps a little more of its top, where faces are) and resize."""
    h, w = pixels.shape
    side = min(h, w)
    top = (h - side) // 3 if h > w else 0
    left = (w - side) // 2
    return np.clip(resize(pixels[top:top + side, left:left + side], size), 0.0, 255.0)


def picture_hash(picture: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(picture, dtype=np.float64).tobytes()).hexdigest()[:16]


def resize(a: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Bicubic resize of a 2-D float array to size×size (or (height, width)), in float precision."""
    from PIL import Image

    h, w = (size, size) if isinstance(size, int) else size
    a = np.asarray(a, dtype=np.float64)
    if a.shape == (h, w):
        return a.copy()
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


def random_offsets(rounds: int, seed: int, tile: int = TILE) -> np.ndarray:
    """One (dy, dx) shift per round, each in 0..tile-1, so tile seams fall somewhere new every round."""
    return np.random.default_rng(seed).integers(0, tile, size=(rounds, 2))


def cut_tiles(image: np.ndarray, offset=(0, 0), tile: int = TILE) -> np.ndarray:
    """Shift the image by `offset` (wrapping around) and cut it into tile×tile pieces, row by row.
    The image's sides must be multiples of `tile`."""
    h, w = image.shape
    if h % tile or w % tile:
        raise ValueError(f"image {h}×{w} is not a whole number of {tile}-pixel tiles")
    shifted = np.roll(image, (-int(offset[0]), -int(offset[1])), axis=(0, 1))
    return shifted.reshape(h // tile, tile, w // tile, tile).swapaxes(1, 2).reshape(-1, tile, tile)


def join_tiles(tiles: np.ndarray, shape: tuple[int, int], offset=(0, 0)) -> np.ndarray:
    """The inverse of `cut_tiles`: put the pieces back and undo the shift."""
    h, w = shape
    tile = tiles.shape[-1]
    grid = np.asarray(tiles).reshape(h // tile, w // tile, tile, tile).swapaxes(1, 2).reshape(h, w)
    return np.roll(grid, (int(offset[0]), int(offset[1])), axis=(0, 1))
