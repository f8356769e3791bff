"""Small seeded data sets used by the chapters' worked examples."""

import numpy as np

_PLANE_WEIGHTS = np.array([0.3, 0.7])
_PLANE_BIAS = 1.0
_PLANE_BLOCKS = (((0, 6), (0, 6)), ((0, 6), (6, 12)), ((6, 12), (0, 6)))  # (x1 range, x2 range)


def noisy_plane_blocks(seed: int = 0, noise: float = 0.1) -> list[tuple[np.ndarray, np.ndarray]]:
    """Three blocks of points on an integer grid under a noisy plane (the first chapter's data).

    y = 0.3·x1 + 0.7·x2 + 1 + e, with e uniform in [-noise, noise] rounded to 3 decimals.
    Block 1 has x1, x2 in 0..5; block 2 x1 in 0..5, x2 in 6..11; block 3 x1 in 6..11,
    x2 in 0..5. Within a block x1 varies slowest.

    Parameters
    ----------
    seed : int, default 0
        Seed of the noise.
    noise : float, default 0.1
        Half-width of the noise interval; 0 gives points exactly on the plane.

    Returns
    -------
    list of 3 tuples (X, y)
        X : ndarray of shape (36, 2), y : ndarray of shape (36,), both float64.

    Examples
    --------
    >>> X, y = noisy_plane_blocks(noise=0.0)[1]
    >>> X[0], round(float(y[0]), 9)  # 0.3*0 + 0.7*6 + 1
    (array([0., 6.]), 5.2)
    """
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    blocks = []
    for (x1_lo, x1_hi), (x2_lo, x2_hi) in _PLANE_BLOCKS:
        x1, x2 = np.meshgrid(np.arange(x1_lo, x1_hi), np.arange(x2_lo, x2_hi), indexing="ij")
        X = np.column_stack([x1.ravel(), x2.ravel()]).astype(float)
        e = np.round(rng.uniform(-noise, noise, size=len(X)), 3)
        blocks.append((X, X @ _PLANE_WEIGHTS + _PLANE_BIAS + e))
    return blocks


def line_samples() -> tuple[np.ndarray, np.ndarray]:
    """The two samples of the backprop worked example on y = 2x - 3.

    Returns
    -------
    x : ndarray of shape (2,)
        ``[2.0, -1.0]``.
    y : ndarray of shape (2,)
        ``[1.0, -5.0]``.
    """
    return np.array([2.0, -1.0]), np.array([1.0, -5.0])


def line_data(n: int = 50, seed: int = 0, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Points on the line y = 2x - 3, with optional Gaussian noise.

    y = 2·x - 3 + noise·z, x uniform in [-5, 5], z standard normal.

    Parameters
    ----------
    n : int, default 50
        Number of points.
    seed : int, default 0
        Seed of x and of the noise.
    noise : float, default 0.0
        Standard deviation of the noise added to y.

    Returns
    -------
    x : ndarray of shape (n,)
    y : ndarray of shape (n,)

    Examples
    --------
    >>> x, y = line_data(n=3)
    >>> bool(np.allclose(y, 2 * x - 3))
    True
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of points, got {n}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-5.0, 5.0, size=n)
    return x, 2.0 * x - 3.0 + noise * rng.standard_normal(n)


def sin_data(n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced samples of sin(x) on [-pi, pi], the target of the cubic fit.

    Parameters
    ----------
    n : int, default 2000
        Number of points, both ends included.

    Returns
    -------
    x : ndarray of shape (n,)
        ``np.linspace(-pi, pi, n)``.
    y : ndarray of shape (n,)
        ``sin(x)``.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2 to span [-pi, pi], got {n}")
    x = np.linspace(-np.pi, np.pi, n)
    return x, np.sin(x)
