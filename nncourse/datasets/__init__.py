"""Data sets: MNIST and Fashion-MNIST from IDX files, and the chapters' synthetic data."""

from nncourse.datasets.idx import DatasetError, read_idx
from nncourse.datasets.mnist import load_fashion_mnist, load_mnist
from nncourse.datasets.synthetic import line_data, line_samples, noisy_plane_blocks, sin_data

__all__ = [
    "DatasetError",
    "line_data",
    "line_samples",
    "load_fashion_mnist",
    "load_mnist",
    "noisy_plane_blocks",
    "read_idx",
    "sin_data",
]
