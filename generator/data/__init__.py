"""Data: MNIST or Fashion-MNIST in canonical order, standardized with the training pixels' statistics."""
from .dataset import Dataset, load_dataset

__all__ = ["Dataset", "load_dataset"]
