"""nncourse.datasets.synthetic: the chapters' small data sets, checked against their recipes."""

import numpy as np
import pytest

from nncourse.datasets import line_data, line_samples, noisy_plane_blocks, sin_data


def test_plane_blocks_grid_and_targets():
    blocks = noisy_plane_blocks(noise=0.0)
    assert len(blocks) == 3
    expected_ranges = [((0, 5), (0, 5)), ((0, 5), (6, 11)), ((6, 11), (0, 5))]
    for (X, y), ((x1_lo, x1_hi), (x2_lo, x2_hi)) in zip(blocks, expected_ranges, strict=True):
        assert X.shape == (36, 2) and y.shape == (36,)
        grid = {(x1, x2) for x1 in range(x1_lo, x1_hi + 1) for x2 in range(x2_lo, x2_hi + 1)}
        assert {tuple(point) for point in X.astype(int)} == grid
        for (x1, x2), target in zip(X, y, strict=True):
            assert target == pytest.approx(0.3 * x1 + 0.7 * x2 + 1, abs=1e-12)
    assert tuple(blocks[0][0][1]) == (0.0, 1.0)  # x1 varies slowest, as in the post


def test_plane_blocks_noise_is_bounded_and_has_three_decimals():
    clean = noisy_plane_blocks(noise=0.0)
    for (_, y), (_, y_clean) in zip(noisy_plane_blocks(seed=3, noise=0.1), clean, strict=True):
        noise = y - y_clean
        assert np.all(np.abs(noise) <= 0.1 + 1e-12)
        np.testing.assert_allclose(noise * 1000, np.round(noise * 1000), atol=1e-6)
        assert np.std(noise) > 0.02  # really noisy, not all zero


def test_plane_blocks_reproducible_by_seed():
    first, again, other = (noisy_plane_blocks(seed=s) for s in (7, 7, 8))
    for (X1, y1), (X2, y2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(X1, X2)
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(first[0][1], other[0][1])


def test_line_samples_are_the_worked_example():
    x, y = line_samples()
    np.testing.assert_array_equal(x, [2.0, -1.0])
    np.testing.assert_array_equal(y, [1.0, -5.0])
    np.testing.assert_array_equal(y, 2 * x - 3)


def test_line_data():
    x, y = line_data(n=40, seed=1)
    assert x.shape == y.shape == (40,)
    assert np.all((-5 <= x) & (x <= 5))
    np.testing.assert_allclose(y, 2 * x - 3)
    x_noisy, y_noisy = line_data(n=2000, seed=1, noise=0.5)
    assert np.std(y_noisy - (2 * x_noisy - 3)) == pytest.approx(0.5, rel=0.1)
    np.testing.assert_array_equal(line_data(seed=4, noise=1.0)[1], line_data(seed=4, noise=1.0)[1])
    assert not np.array_equal(line_data(seed=4)[0], line_data(seed=5)[0])


def test_sin_data():
    x, y = sin_data()
    assert x.shape == y.shape == (2000,)
    assert (x[0], x[-1]) == (-np.pi, np.pi)
    assert np.all(np.diff(x) > 0)
    np.testing.assert_allclose(y, np.sin(x))
    assert sin_data(n=11)[0][5] == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: noisy_plane_blocks(noise=-1), "noise"),
        (lambda: line_data(n=0), "n must"),
        (lambda: line_data(noise=-0.1), "noise"),
        (lambda: sin_data(n=1), "n must"),
    ],
)
def test_invalid_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
