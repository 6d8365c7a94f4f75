"""Batches of one fixed shape, so that each compiled call is traced once: the one place that pads."""
from __future__ import annotations

import numpy as np


def padded(rows: np.ndarray, size: int, value=None) -> np.ndarray:
    """`rows` grown along the first axis to `size`: with copies of the last row (a real input, which
    cannot change a maximum or make a NaN), or with `value` (e.g. label -1, which one_hot makes 0)."""
    pad = size - len(rows)
    if pad <= 0:
        return rows
    extra = np.repeat(rows[-1:], pad, axis=0) if value is None else np.full((pad,) + rows.shape[1:], value, rows.dtype)
    return np.concatenate([rows, extra])
