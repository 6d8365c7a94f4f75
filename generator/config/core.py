"""Config sections of the spine: data, model training, site."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Union

from .schema import bounded


@dataclass(frozen=True)
class DataConfig:
    # mnist, fashion and cifar10 are found offline (data/, keras's cache) or downloaded; `custom`
    # needs `path`. Images N×H×W or N×H×W×C (1 or 3 channels), uint8 0..255 or floats 0..1.
    dataset: Literal["mnist", "fashion", "cifar10", "custom"] = "mnist"
    # A keras-layout .npz (x_train, y_train, x_test, y_test) or a folder of the four IDX .gz files;
    # tried before data/ and keras's cache.
    path: Optional[str] = None
    # Names of the classes 0..K−1 (default: the data set's own, else "0".."K−1").
    class_names: Optional[list[str]] = None
    title: Optional[str] = None   # how pages name the data set (default: the data set's name)
    credit: Optional[str] = None  # a line of credit shown on every page
    # With no MNIST found and no network, build from the bundled sample (and say so) instead of stopping.
    fallback: bool = True
    # Use the small real-MNIST sample that ships inside the package (quick builds and tests).
    sample: bool = False
    train_limit: Optional[int] = bounded(None, min=10)
    test_limit: Optional[int] = bounded(None, min=10)


@dataclass(frozen=True)
class InputStats:
    """An explicit input contract: x = (pixel − mean) / std per channel (one value: every channel), on
    the stored 0..255 scale; ImageNet's, say, is mean [123.675, 116.28, 103.53], std [58.395, 57.12, 57.375]."""
    mean: list[float] = bounded([0.0], min=-1e6, max=1e6, min_len=1)
    std: list[float] = bounded([1.0], min=1e-9, max=1e6, min_len=1)


@dataclass(frozen=True)
class ModelConfig:
    # A saved Keras model to load instead of training the seed network.
    path: Optional[str] = None
    # How the stored pixels (0..255) become the model's input: raw (as stored), unit (0..1),
    # symmetric (−1..1), standardize (the training pixels' mean and std: the seed network's), or
    # {mean: [...], std: [...]}. Left out: the seed network is standardized; a loaded model gets
    # the candidate it is most accurate with on a slice of the test set (said on the model card).
    input: Optional[Union[Literal["raw", "unit", "symmetric", "standardize"], InputStats]] = None
    # Of a model with several outputs, the one to show (the name of the layer that makes it; default:
    # the first of class scores). Given models only.
    output: Optional[str] = None
    # A module that registers the model's custom layers (keras.saving.register_keras_serializable),
    # imported before the model is loaded: an importable module name or a .py file relative to the
    # project folder. Given models only.
    custom_objects_module: Optional[str] = None
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
