"""Data sets used by the book."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["RegressionData", "synthetic"]


class RegressionData(NamedTuple):
    """A regression data set with a fixed train/test split.

    ``x_train`` has shape ``(n, features)``, ``y_train`` shape ``(n,)``; likewise
    for the test set. ``name`` says which data set this is.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str


def synthetic(n: int = 100, n_test: int = 100, noise_sd: float = 0.1, seed: int = 0) -> RegressionData:
    """The synthetic regression data of the paper: ``x ~ U(0, 4)``, ``y ~ N(cos 2x, noise_sd^2)``.

    The test set is drawn the same way, independently, from the same seed.
    """
    for label, v in (("n", n), ("n_test", n_test)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{label} must be a positive integer; got {v!r}")
    if not np.isfinite(noise_sd) or noise_sd < 0:
        raise ValueError(f"noise_sd must be non-negative and finite; got {noise_sd!r}")
    rng = np.random.default_rng(seed)

    def draw(m):
        x = rng.uniform(0.0, 4.0, size=(int(m), 1))
        return x, np.cos(2.0 * x[:, 0]) + noise_sd * rng.standard_normal(int(m))

    x_train, y_train = draw(n)
    x_test, y_test = draw(n_test)
    return RegressionData(x_train, y_train, x_test, y_test, "synthetic cos(2x)")
