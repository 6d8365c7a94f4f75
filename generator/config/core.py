"""Config sections of the spine: data, model training, site."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from .schema import bounded


@dataclass(frozen=True)
class DataConfig:
    dataset: Literal["mnist", "fashion"] = "mnist"
    # A keras-layout .npz or a folder of the four IDX .gz files; tried before data/ and keras's cache.
    path: Optional[str] = None
    # Use the small real-MNIST sample that ships inside the package (quick builds and tests).
    sample: bool = False
    train_limit: Optional[int] = bounded(None, min=10)
    test_limit: Optional[int] = bounded(None, min=10)


@dataclass(frozen=True)
class ModelConfig:
    # A saved .keras model to load (checked against the seed architecture) instead of training.
    path: Optional[str] = None
    epochs: int = bounded(15, min=1, max=500)
    batch_size: int = bounded(64, min=1, max=4096)
    learning_rate: float = bounded(0.05, min=1e-6, max=10.0)
    momentum: float = bounded(0.9, min=0.0, max=0.999)
    schedule: Literal["cosine", "exponential", "constant"] = "cosine"
    decay_rate: float = bounded(0.9, min=0.01, max=1.0, doc="per epoch, for 'exponential'")
    l2: float = bounded(5e-4, min=0.0, max=1.0)
    # Random shifts of up to this many pixels; 0 trains on the images as they are.
    shift_pixels: int = bounded(0, min=0, max=6)


@dataclass(frozen=True)
class SiteConfig:
    title: str = "Inside a simple CNN"
    misclassified_limit: int = bounded(400, min=0, max=10000)
