"""Numbers in words on the pages: one way to write a signed change."""
from __future__ import annotations


def signed(value: float, digits: int = 2) -> str:
    """'+1.25', '−0.40', and '0.00' for anything that rounds to nothing: a change too small to show is
    no change, never '−0.00'. The minus is the typographic one."""
    rounded = round(float(value), digits) + 0.0  # + 0.0 turns −0.0 into 0.0
    if rounded == 0:
        return f"{0:.{digits}f}"
    return f"{rounded:+.{digits}f}".replace("-", "−")


def number(value: float, digits: int = 2) -> str:
    """'0.05', '−0.02' (the typographic minus), and '0.00' for anything that rounds to nothing."""
    return f"{round(float(value), digits) + 0.0:.{digits}f}".replace("-", "−")
