"""geo.clusters against scikit-learn's DBSCAN / HDBSCAN and hand-checkable cases."""

import math

import numpy as np
import pytest
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN, HDBSCAN
from sklearn.metrics import adjusted_rand_score

from geo.clusters import (
    EPS_RANGE_M,
    MIN_WEIGHT_FLOOR,
    dbscan_labels,
    density_min_weight,
    hdbscan_labels,
    suggest_density,
    suggest_eps_m,
)


def _blobs(seed: int, n: int = 5000, rounded: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 5000, (8, 2))
    k = rng.integers(0, 8, n)
    xy = centres[k] + rng.normal(0, rng.uniform(30, 300, 8)[k, None], (n, 2))
    xy = np.vstack([xy, rng.uniform(0, 5000, (n // 5, 2))])
    return np.round(xy) if rounded else xy  # whole metres: duplicates and exact ties at eps


CASES = [
    (0, False, None, 40.0, 5),
    (1, True, None, 80.0, 10),
    (2, False, "mixed", 150.0, 20),
    (3, True, "mixed", 40.0, 5),
    # min_weight large against the weight per cell: most points are decided by the bounds
    # or counted one by one (k-d trees for few distinct weights, pair checks for many)
    (4, False, None, 60.0, 60),
    (5, True, "continuous", 60.0, 40),
    (6, False, "continuous", 150.0, 20),
]


@pytest.mark.parametrize(
    ("seed", "rounded", "weights", "eps", "min_w"),
    CASES,
    ids=[
        "plain",
        "whole-metres",
        "weighted",
        "weighted-whole-metres",
        "large-min-weight",
        "continuous-weights-whole-metres",
        "continuous-weights",
    ],
)
def test_dbscan_equals_sklearn(seed, rounded, weights, eps, min_w):
    xy = _blobs(seed, 10_000, rounded)
    w = None
    if weights == "mixed":
        w = np.random.default_rng(seed).choice([0.5, 1.0, 2.0], len(xy))
    elif weights == "continuous":
        w = np.random.default_rng(seed).uniform(0.2, 3.0, len(xy))
    sk = DBSCAN(eps=eps, min_samples=min_w).fit(xy, sample_weight=w)
    ours = dbscan_labels(xy, eps_m=eps, min_weight=min_w, weights=w)
    core = np.zeros(len(xy), dtype=bool)
    core[sk.core_sample_indices_] = True
    # Core points: the very same labels (clusters numbered by their first core point).
    np.testing.assert_array_equal(ours[core], sk.labels_[core])
    np.testing.assert_array_equal(ours == -1, sk.labels_ == -1)
    # Border points: either cluster that reaches them is DBSCAN; ours takes the nearest core.
    border = ~core & (sk.labels_ >= 0)
    tree = cKDTree(xy[core])
    for i in np.flatnonzero(border):
        reach = sk.labels_[core][tree.query_ball_point(xy[i], eps)]
        assert ours[i] in set(reach)
    assert adjusted_rand_score(sk.labels_, ours) >= 0.99


def test_dbscan_hand_case():
    # three points within 10 m of each other (weights 1+1+1 = 3 >= 3) and one far away
    labels = dbscan_labels([[0, 0], [0, 10], [10, 0], [500, 500]], eps_m=10, min_weight=3)
    np.testing.assert_array_equal(labels, [0, 0, 0, -1])


def test_dbscan_weight_makes_core():
    # one point of weight 5 is a core on its own; its neighbour 8 m away is a border point
    labels = dbscan_labels([[0, 0], [8, 0]], eps_m=10, min_weight=5, weights=[5, 0])
    np.testing.assert_array_equal(labels, [0, 0])


def test_dbscan_all_in_one_place_and_empty():
    np.testing.assert_array_equal(dbscan_labels(np.zeros((7, 2)), eps_m=1, min_weight=7), [0] * 7)
    assert dbscan_labels(np.empty((0, 2)), eps_m=1, min_weight=1).shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"xy": [[0, 0, 0]], "eps_m": 1, "min_weight": 1}, ValueError, "shape"),
        ({"xy": [[0, np.nan]], "eps_m": 1, "min_weight": 1}, ValueError, "NaN"),
        ({"xy": [[0, 0]], "eps_m": 0, "min_weight": 1}, ValueError, "eps_m"),
        ({"xy": [[0, 0]], "eps_m": "5", "min_weight": 1}, TypeError, "eps_m"),
        ({"xy": [[0, 0]], "eps_m": 1, "min_weight": 1, "weights": [-1]}, ValueError, ">= 0"),
        ({"xy": [[0, 0]], "eps_m": 1, "min_weight": 1, "weights": [1, 1]}, ValueError, "weights"),
    ],
    ids=["three-columns", "nan", "eps-zero", "eps-text", "negative-weight", "weight-length"],
)
def test_dbscan_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        dbscan_labels(kwargs.pop("xy"), **kwargs)


@pytest.mark.parametrize(
    ("seed", "mcs", "ms"), [(0, 10, None), (1, 25, 5), (2, 50, None)], ids=["10", "25-5", "50"]
)
def test_hdbscan_agrees_with_sklearn(seed, mcs, ms):
    xy = _blobs(seed)
    sk = HDBSCAN(min_cluster_size=mcs, min_samples=ms, copy=True).fit(xy).labels_
    ours = hdbscan_labels(xy, min_cluster_weight=mcs, min_samples=ms)
    # Ties in mutual reachability are broken differently; measured ARI 0.997–0.999.
    assert adjusted_rand_score(sk, ours) >= 0.99
    assert ours.max() == sk.max()


def test_hdbscan_integer_weights_equal_repeated_points():
    rng = np.random.default_rng(4)
    xy = np.vstack([rng.normal(0, 20, (40, 2)), rng.normal(800, 20, (40, 2))])
    w = rng.integers(1, 4, len(xy))
    repeated = np.repeat(xy, w, axis=0)
    sk = HDBSCAN(min_cluster_size=15, copy=True).fit(repeated).labels_
    ours = hdbscan_labels(xy, min_cluster_weight=15, weights=w)
    assert adjusted_rand_score(sk, np.repeat(ours, w)) >= 0.99


def test_hdbscan_too_little_weight_is_noise():
    np.testing.assert_array_equal(hdbscan_labels([[0, 0], [1, 1]], min_cluster_weight=5), [-1, -1])


def test_suggest_eps_follows_density():
    rng = np.random.default_rng(0)
    dense = rng.normal(0, 30, (2000, 2))
    sparse = rng.normal(0, 300, (2000, 2))
    e_dense, why = suggest_eps_m(dense, min_weight=10)
    e_sparse, _ = suggest_eps_m(sparse, min_weight=10)
    assert EPS_RANGE_M[0] <= e_dense < e_sparse <= EPS_RANGE_M[1]
    assert "k-avståndskurvan" in why


def _poisson_tail(k, mean):
    # P(X >= k) for X ~ Poisson(mean), summed by hand (independent of scipy)
    return 1.0 - sum(math.exp(i * math.log(mean) - mean - math.lgamma(i + 1)) for i in range(k))


@pytest.mark.parametrize(
    ("total", "area_m2", "eps_m"),
    [(1000, 1e6, 100), (1899, 73.8e6, 250), (50_000, 20e6, 150)],
    ids=["dense", "demo-like", "city"],
)
def test_density_min_weight_is_the_poisson_upper_quantile(total, area_m2, eps_m):
    w, mean = density_min_weight(total, area_m2, eps_m)
    np.testing.assert_allclose(mean, total * math.pi * eps_m**2 / area_m2)
    k = int(w)
    assert _poisson_tail(k, mean) <= 0.001 < _poisson_tail(k - 1, mean)


def test_density_min_weight_floor_and_errors():
    assert density_min_weight(10, 1e6, 100)[0] == MIN_WEIGHT_FLOOR  # mean 0.31: floor 5
    with pytest.raises(ValueError, match="area_m2"):
        density_min_weight(10, 0, 100)
    with pytest.raises(ValueError, match="alpha"):
        density_min_weight(10, 1e6, 100, alpha=1.5)


def test_suggest_density_follows_the_background():
    # 60 points in a 20 m blob and a uniform background over 2 km x 2 km
    rng = np.random.default_rng(0)
    blob = rng.normal(500, 20, (60, 2))
    sparse = suggest_density(np.vstack([blob, rng.uniform(0, 2000, (200, 2))]), area_m2=4e6)
    dense = suggest_density(np.vstack([blob, rng.uniform(0, 2000, (4000, 2))]), area_m2=4e6)
    for p, n in ((sparse, 260), (dense, 4060)):
        assert EPS_RANGE_M[0] <= p.eps_m <= EPS_RANGE_M[1]
        assert p.min_weight == density_min_weight(n, 4e6, p.eps_m)[0]  # a fixed point
    assert dense.min_weight > sparse.min_weight >= MIN_WEIGHT_FLOOR
    assert "slumpmässigt" in dense.min_weight_reason and "k-avstånd" in dense.eps_reason
    fixed = suggest_density(blob, area_m2=4e6, eps_m=100)
    assert fixed.eps_m == 100 and fixed.eps_reason == "angiven"
    assert fixed.min_weight == density_min_weight(60, 4e6, 100)[0]
