"""Settings of activation grids, image sets and their comparisons."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from .schema import bounded


@dataclass(frozen=True)
class SetRule:
    # first: first N of `label`; most/least_confident: by the network's probability for `label`;
    # misclassified: images of `label` predicted otherwise; closest_to: images of `label` rated
    # highest for class `other`.
    kind: Literal["first", "most_confident", "least_confident", "misclassified", "closest_to"] = "first"
    label: int = bounded(0, min=0, max=9)
    other: Optional[int] = bounded(None, min=0, max=9)
    count: int = bounded(6, min=1, max=64)


@dataclass(frozen=True)
class ImageSetConfig:
    # `name` identifies the set in comparisons and, through image_sets.slug(), in file names and
    # URLs; `title` is what pages show (the name when empty). Give `indices` or `rule`, not both.
    name: str = ""
    title: str = ""
    indices: Optional[list[int]] = bounded(None, min=0)
    rule: Optional[SetRule] = None


@dataclass(frozen=True)
class ComparisonConfig:
    a: str = ""
    b: str = ""


@dataclass(frozen=True)
class ActivationsConfig:
    image_sets: list[ImageSetConfig] = field(default_factory=list)
    comparisons: list[ComparisonConfig] = field(default_factory=list)
    # A point counts as active when above this fraction of its layer's largest value on the page.
    threshold: float = bounded(0.2, min=0.0, max=1.0)
    colormap: str = "viridis"
    scaling: Literal["raw", "standardized"] = "raw"
