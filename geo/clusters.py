"""Density clusters in projected metres: weighted DBSCAN and HDBSCAN*.

This module owns the clustering of incident points. Both functions take coordinates in a
metric CRS (EPSG:3006 inside Lägesbild) and optional non-negative weights, and return one
integer label per point (``-1`` = noise). Parameters are in metres and in (weighted) counts.

* :func:`dbscan_labels` is **exact** weighted DBSCAN, the same clusters as
  ``sklearn.cluster.DBSCAN(eps, min_samples=min_weight).fit(xy, sample_weight=weights)``:
  the same core points and the same clusters of core points; a border point (a non-core
  point within ``eps_m`` of a core point) joins the cluster of its *nearest* core point,
  where scikit-learn lets the first cluster that reaches it have it (either is DBSCAN).
  It works on a grid of cells of side ``eps_m / √2`` (any two points in one cell are
  within ``eps_m``), so a dense cell never builds per-point neighbourhoods; this is what
  keeps 1M points in seconds and in bounded memory.
* :func:`hdbscan_labels` is weighted HDBSCAN* (Campello, Moulavi & Sander 2013) with
  scikit-learn's defaults (excess-of-mass selection, no single cluster, no epsilon). The
  core distance of a point is the distance at which the weight within it (the point
  included) reaches ``min_samples``; a cluster must weigh ``min_cluster_weight``. The one
  approximation: the minimum spanning tree of the mutual-reachability graph is searched
  among the edges of the k-nearest-neighbour graph and the Delaunay triangulation instead
  of all pairs (scikit-learn's exact Prim is quadratic: 37 s at 100k points). The test
  suite measures agreement with scikit-learn's HDBSCAN (adjusted Rand index).

Identical coordinates are merged first, their weights summed (geocoded incidents often
share an address); the labels are then spread back to every input point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import Delaunay, QhullError, cKDTree

#: Pairs of points compared at once in the exact neighbourhood checks (memory bound).
_PAIR_CHUNK = 2_000_000

#: Distances below this (metres) count as this distance in HDBSCAN's lambda = 1/distance,
#: so that stacked points do not get infinite stability (coordinates are not that precise).
MIN_DISTANCE_M = 1e-3

#: The automatic ``eps_m`` never leaves this range (metres): below 50 m a cluster is one
#: address; above 250 m it spans several blocks of a town, not a place to act on (the
#: k-distance knee of urban incidents lies at the background spacing, often 350 m or more).
EPS_RANGE_M = (50.0, 250.0)

#: The radius (metres) at which HDBSCAN's automatic smallest cluster weight is measured
#: against the random background (HDBSCAN itself has no radius).
HDBSCAN_RADIUS_M = 100.0

#: Chance under spatial randomness that an ``eps_m`` disk reaches the automatic core weight.
DENSITY_ALPHA = 0.001

#: Smallest automatic core / cluster weight: the smallest count a public output shows.
MIN_WEIGHT_FLOOR = 5.0


# --- input checks -----------------------------------------------------------------------


def _check_points(xy, weights) -> tuple[np.ndarray, np.ndarray]:
    try:
        pts = np.asarray(xy, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`xy` must be an (n, 2) array of metres, got {type(xy).__name__}") from exc
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"`xy` must have shape (n, 2), got {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("`xy` contains NaN or infinite coordinates")
    if weights is None:
        w = np.ones(len(pts))
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(pts),):
            raise ValueError(f"`weights` must have shape ({len(pts)},), got {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("`weights` must be finite and >= 0")
    return pts, w


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"`{name}` must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0, got {value}")
    return float(value)


def _dedupe(pts: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique coordinates, index of each input point into them, and summed weights."""
    order = np.lexsort((pts[:, 1], pts[:, 0]))
    s = pts[order]
    new = np.empty(len(s), dtype=bool)
    new[:1] = True
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    group = np.cumsum(new) - 1
    inverse = np.empty(len(pts), dtype=np.intp)
    inverse[order] = group
    return s[new], inverse, np.bincount(group, weights=w[order])


def _renumber(labels: np.ndarray, first_key: np.ndarray) -> np.ndarray:
    """Renumber cluster labels 0..k-1 in the order of ``first_key`` (smallest first)."""
    out = np.full(len(labels), -1, dtype=np.intp)
    clustered = labels >= 0
    if not clustered.any():
        return out
    ids = np.unique(labels[clustered])
    key = np.full(ids.max() + 1, np.inf)
    np.minimum.at(key, labels[clustered], first_key[clustered])
    rank = np.empty(ids.max() + 1, dtype=np.intp)
    rank[ids[np.argsort(key[ids], kind="stable")]] = np.arange(len(ids))
    out[clustered] = rank[labels[clustered]]
    return out


# --- DBSCAN -----------------------------------------------------------------------------

#: Cell offsets that can hold points within eps of a point (cells of side eps/√2).
_STEPS = np.arange(-2, 3)
_OFFSETS = np.array([(dx, dy) for dx in _STEPS for dy in _STEPS], dtype=np.int64)

#: Points handled at once in the core test (memory bound: 25 neighbour cells each).
_POINT_CHUNK = 100_000

#: Column of the cell itself in ``_OFFSETS`` (offset (0, 0)).
_SELF = 12

#: Undecided points are counted by one k-d tree per distinct weight when the weights take
#: at most this many values (all ones; ones plus a few dialogue weights); else by pairs.
_MAX_TREE_WEIGHTS = 8


@dataclass(frozen=True)
class _Grid:
    """Points sorted into square cells; cells addressed by a sortable integer key."""

    pts: np.ndarray  # (n, 2) points, sorted by cell
    cell_xy: np.ndarray  # (n, 2) int cell coordinates of each sorted point
    frac: np.ndarray  # (n, 2) position inside the cell, in cell sides, [0, 1)
    keys: np.ndarray  # sorted unique cell keys
    start: np.ndarray  # first sorted point of each cell
    end: np.ndarray  # one past the last
    cell: np.ndarray  # cell index of each sorted point
    stride: int

    @classmethod
    def build(cls, pts: np.ndarray, side: float) -> tuple[_Grid, np.ndarray]:
        scaled = (pts - pts.min(axis=0)) / side
        cxy = np.floor(scaled).astype(np.int64)
        stride = int(cxy[:, 1].max()) + 8
        key = (cxy[:, 0] + 4) * stride + (cxy[:, 1] + 4)
        order = np.argsort(key, kind="stable")
        skey = key[order]
        new = np.empty(len(skey), dtype=bool)
        new[:1] = True
        np.not_equal(skey[1:], skey[:-1], out=new[1:])
        start = np.flatnonzero(new)
        cell = np.cumsum(new) - 1
        end = np.append(start[1:], len(order))
        cxy = cxy[order]
        frac = np.clip(scaled[order] - cxy, 0.0, 1.0)
        return cls(pts[order], cxy, frac, skey[start], start, end, cell, stride), order

    def lookup(self, cxy: np.ndarray) -> np.ndarray:
        """Cell index of integer cell coordinates, -1 where no point lies."""
        key = (cxy[..., 0] + 4) * self.stride + (cxy[..., 1] + 4)
        idx = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        return np.where(self.keys[idx] == key, idx, -1)

    def neighbours(self, cells: np.ndarray) -> np.ndarray:
        """(len(cells), 25) indices of the cells at ``_OFFSETS`` from ``cells`` (-1: empty)."""
        return self.lookup(self.cell_xy[self.start[cells]][:, None, :] + _OFFSETS[None, :, :])


def _expand(start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ranges ``start[i] + range(length[i])`` and the owner ``i`` of each."""
    owner = np.repeat(np.arange(len(start)), length)
    first = np.repeat(np.cumsum(length) - length, length)
    return np.repeat(start, length) + (np.arange(len(owner)) - first), owner


def _pairs(a_idx: np.ndarray, b_start: np.ndarray, b_len: np.ndarray):
    """Yield (a, b) index pairs: each ``a_idx[i]`` against ``b_start[i] + range(b_len[i])``.

    In chunks of about ``_PAIR_CHUNK`` pairs, so memory stays bounded.
    """
    total = np.cumsum(b_len)
    begin = 0
    while begin < len(a_idx):
        base = total[begin - 1] if begin else 0
        stop = max(int(np.searchsorted(total, base + _PAIR_CHUNK, side="right")), begin + 1)
        b, owner = _expand(b_start[begin:stop], b_len[begin:stop])
        yield a_idx[begin:stop][owner], b
        begin = stop


def _gaps(frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared min and max distance (in cell sides) from points to the 25 offset cells.

    Separable: along one axis, a point at ``u`` in [0, 1) is ``max(d - u, u - d - 1, 0)``
    from the cell ``d`` steps away and at most ``max(|u - d|, |u - d - 1|)``.
    """
    near, far = [], []
    for axis in (0, 1):
        u = frac[:, axis, None]
        near.append(np.maximum(np.maximum(_STEPS - u, u - _STEPS - 1), 0.0) ** 2)
        far.append(np.maximum(np.abs(u - _STEPS), np.abs(u - _STEPS - 1)) ** 2)
    n = len(frac)
    near2 = (near[0][:, :, None] + near[1][:, None, :]).reshape(n, 25)
    far2 = (far[0][:, :, None] + far[1][:, None, :]).reshape(n, 25)
    return near2, far2


#: Column of the cell itself in ``_OFFSETS`` (offset (0, 0)).
_SELF = 12

#: The radius counts of undecided points go through a k-d tree per distinct weight when
#: the weights take at most this many distinct values (all ones, or ones plus a few
#: dialogue weights); otherwise through exact pair checks.
_MAX_TREE_WEIGHTS = 8


def _core_mask(grid: _Grid, w: np.ndarray, eps: float, min_weight: float) -> np.ndarray:
    """Exact weighted core test for sorted points ``grid.pts`` with weights ``w``.

    Each point in a cell lighter than ``min_weight`` gets two bounds from whole cells:
    the lower bound adds its own cell and the neighbour cells entirely within ``eps`` of
    it, the upper bound also the cells its circle cuts. A lower bound that reaches
    ``min_weight`` makes a core point, an upper bound below it a non-core point; only the
    points in between have the weight within ``eps`` counted point by point: with few
    distinct weights by k-d trees (:func:`_tree_counts`), else by exact pair checks
    against the cut cells, starting from the lower bound.
    """
    cell_w = np.bincount(grid.cell, weights=w)
    core = cell_w[grid.cell] >= min_weight  # a cell's points are all within eps of each other
    rest = np.flatnonzero(cell_w < min_weight)
    if len(rest) == 0:
        return core
    nb = grid.neighbours(rest)
    upper = np.where(nb >= 0, cell_w[np.maximum(nb, 0)], 0.0).sum(axis=1)
    keep = upper >= min_weight  # the 25 cells cannot reach min_weight: not core
    rest, nb = rest[keep], nb[keep]
    if len(rest) == 0:
        return core
    weight_values = np.unique(w[w > 0])
    by_tree = len(weight_values) <= _MAX_TREE_WEIGHTS
    pts_idx, owner = _expand(grid.start[rest], grid.end[rest] - grid.start[rest])
    side2 = 2.0  # eps^2 in cell sides^2 (side = eps / sqrt 2); margins below are slack
    undecided = []
    for lo in range(0, len(pts_idx), _POINT_CHUNK):
        idx, own = pts_idx[lo : lo + _POINT_CHUNK], owner[lo : lo + _POINT_CHUNK]
        p_nb = nb[own]
        near2, far2 = _gaps(grid.frac[idx])
        valid = p_nb >= 0
        inside = valid & (far2 <= side2 * (1 - 1e-6))
        inside[:, _SELF] = True  # the own cell is within eps by construction
        partial = valid & ~inside & (near2 <= side2 * (1 + 1e-6))
        nb_w = cell_w[np.maximum(p_nb, 0)]
        total = np.where(inside, nb_w, 0.0).sum(axis=1)
        upper = total + np.where(partial, nb_w, 0.0).sum(axis=1)
        core[idx] = total >= min_weight
        open_ = (total < min_weight) & (upper >= min_weight)
        if by_tree:
            undecided.append(idx[open_])
            continue
        idx, total, p_nb, partial = idx[open_], total[open_], p_nb[open_], partial[open_]
        row, col = np.nonzero(partial)
        cells = p_nb[row, col]
        for a, b in _pairs(row, grid.start[cells], grid.end[cells] - grid.start[cells]):
            hit = ((grid.pts[idx[a]] - grid.pts[b]) ** 2).sum(axis=1) <= eps * eps
            total += np.bincount(a[hit], weights=w[b[hit]], minlength=len(total))
        core[idx] = total >= min_weight
    if by_tree and undecided:
        todo = np.concatenate(undecided)
        core[todo] = _tree_counts(grid.pts, w, weight_values, todo, eps) >= min_weight
    return core


def _tree_counts(
    pts: np.ndarray, w: np.ndarray, weight_values: np.ndarray, todo: np.ndarray, eps: float
) -> np.ndarray:
    """Weight within ``eps`` (distance ≤ eps, the point included) of the points ``todo``.

    One k-d tree per distinct weight counts the points within the radius in C
    (``query_ball_point(return_length=True)``, no neighbour lists, memory in proportion
    to the points); the weight is the sum over weights of weight × count.

    Examples
    --------
    >>> pts = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])  # 5 m apart in a row
    >>> w = np.array([1.0, 0.5, 1.0])
    >>> _tree_counts(pts, w, np.array([0.5, 1.0]), np.array([0, 1]), 5.0).tolist()
    [1.5, 2.5]
    """
    total = np.zeros(len(todo))
    if len(todo) == 0:
        return total
    for value in weight_values:
        tree = cKDTree(pts[w == value], balanced_tree=False, compact_nodes=False)
        total += value * tree.query_ball_point(pts[todo], eps, return_length=True, workers=-1)
    return total


def _extreme_points(
    pts, core_pts, cstart, cell_of_core, direction
) -> tuple[np.ndarray, np.ndarray]:
    """For each core cell, its core point farthest along ``direction`` and against it."""
    val = pts[core_pts] @ np.asarray(direction, dtype=np.float64)
    picks = []
    for reduce in (np.maximum, np.minimum):
        at = np.flatnonzero(val == reduce.reduceat(val, cstart)[cell_of_core])
        pick = np.empty(len(cstart), dtype=np.intp)
        pick[cell_of_core[at]] = core_pts[at]
        picks.append(pick)
    return picks[0], picks[1]


def _cell_components(grid: _Grid, core: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the core cells: (core cell indices, component of each)."""
    eps2 = eps * eps
    core_pts = np.flatnonzero(core)  # sorted by cell
    core_cells, cstart = np.unique(grid.cell[core_pts], return_index=True)
    cend = np.append(cstart[1:], len(core_pts))
    pos_of_cell = np.full(len(grid.keys), -1, dtype=np.intp)
    pos_of_cell[core_cells] = np.arange(len(core_cells))
    nb = grid.neighbours(core_cells)
    nb_pos = np.where(nb >= 0, pos_of_cell[np.maximum(nb, 0)], -1)
    cell_of_core = np.repeat(np.arange(len(core_cells)), cend - cstart)
    extremes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    pair_a, pair_b, linked = [], [], []
    for j, (ox, oy) in enumerate(_OFFSETS):
        if (ox, oy) <= (0, 0):  # each unordered pair of cells once
            continue
        a_pos = np.flatnonzero(nb_pos[:, j] >= 0)
        b_pos = nb_pos[a_pos, j]
        # Witness guess: A's core point farthest towards B against B's farthest towards A.
        g = math.gcd(int(ox), int(oy))
        d = (int(ox) // g, int(oy) // g)
        if d not in extremes:
            extremes[d] = _extreme_points(grid.pts, core_pts, cstart, cell_of_core, d)
        pa = extremes[d][0][a_pos]
        pb = extremes[d][1][b_pos]
        pair_a.append(a_pos)
        pair_b.append(b_pos)
        linked.append(((grid.pts[pa] - grid.pts[pb]) ** 2).sum(axis=1) <= eps2)
    n_cc = len(core_cells)
    pa_all, pb_all, ok_all = map(np.concatenate, (pair_a, pair_b, linked))
    comp = _components(n_cc, pa_all[ok_all], pb_all[ok_all])
    todo = ~ok_all & (comp[pa_all] != comp[pb_all])
    if todo.any():
        ua, ub = pa_all[todo], pb_all[todo]
        found = _exact_links(grid, core_pts, cstart, cend, ua, ub, eps2)
        comp = _components(
            n_cc,
            np.concatenate([pa_all[ok_all], ua[found]]),
            np.concatenate([pb_all[ok_all], ub[found]]),
        )
    return core_cells, comp


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = sparse.coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return csgraph.connected_components(graph, directed=False)[1]


def _exact_links(grid, core_pts, cstart, cend, ua, ub, eps2) -> np.ndarray:
    """Whether any core point of core cell ``ua[i]`` is within eps of one of ``ub[i]``."""
    found = np.zeros(len(ua), dtype=bool)
    a_idx, a_owner = _expand(cstart[ua], cend[ua] - cstart[ua])
    for lo in range(0, len(a_idx), _POINT_CHUNK):
        ai, own = a_idx[lo : lo + _POINT_CHUNK], a_owner[lo : lo + _POINT_CHUNK]
        for a, b in _pairs(np.arange(len(ai)), cstart[ub[own]], cend[ub[own]] - cstart[ub[own]]):
            d2 = ((grid.pts[core_pts[ai[a]]] - grid.pts[core_pts[b]]) ** 2).sum(axis=1)
            found[own[a[d2 <= eps2]]] = True
    return found


def dbscan_labels(xy, *, eps_m: float, min_weight: float, weights=None) -> np.ndarray:
    """Weighted DBSCAN labels of points in metres (exact; -1 = noise).

    A point is a core point when the weight within ``eps_m`` of it, its own included,
    is at least ``min_weight``; clusters are the core points linked by steps of at most
    ``eps_m`` plus the border points within ``eps_m`` of them. The result equals
    ``sklearn.cluster.DBSCAN(eps=eps_m, min_samples=min_weight)`` with
    ``sample_weight=weights`` (clusters numbered the same way: by their first core point),
    except that a border point within reach of two clusters joins its nearest core point's.

    Parameters
    ----------
    xy : array-like of shape (n, 2)
        Coordinates in metres (a projected CRS such as EPSG:3006).
    eps_m : float
        Neighbourhood radius in metres, > 0.
    min_weight : float
        Weight (a count when all weights are 1) that makes a core point, > 0.
    weights : array-like of shape (n,), optional
        Non-negative weight per point; 1 for every point when omitted.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        Cluster label per point, 0..k-1, or -1 for noise.

    Raises
    ------
    TypeError, ValueError
        For coordinates not of shape (n, 2), non-finite values, negative weights, or a
        parameter that is not a number > 0.

    Examples
    --------
    >>> dbscan_labels([[0, 0], [0, 10], [10, 0], [500, 500]], eps_m=15, min_weight=3)
    array([ 0,  0,  0, -1])
    """
    pts, w = _check_points(xy, weights)
    eps = _positive("eps_m", eps_m)
    min_w = _positive("min_weight", min_weight)
    n = len(pts)
    if n == 0:
        return np.empty(0, dtype=np.intp)
    # Shrunk a hair so that two points in one cell are within eps despite rounding.
    grid, order = _Grid.build(pts, eps / math.sqrt(2.0) * (1.0 - 1e-9))
    sw = w[order]
    core = _core_mask(grid, sw, eps, min_w)
    labels_sorted = np.full(len(sw), -1, dtype=np.intp)
    if core.any():
        core_cells, comp = _cell_components(grid, core, eps)
        comp_of_cell = np.full(len(grid.keys), -1, dtype=np.intp)
        comp_of_cell[core_cells] = comp
        labels_sorted[core] = comp_of_cell[grid.cell[core]]
        border = ~core
        if border.any():
            core_idx = np.flatnonzero(core)
            tree = cKDTree(grid.pts[core_idx], balanced_tree=False, compact_nodes=False)
            dist, nearest = tree.query(
                grid.pts[border], k=1, distance_upper_bound=np.nextafter(eps, np.inf)
            )
            hit = np.isfinite(dist) & (dist <= eps)
            bl = np.full(len(dist), -1, dtype=np.intp)
            bl[hit] = labels_sorted[core_idx[nearest[hit]]]
            labels_sorted[border] = bl
    labels = np.empty(n, dtype=np.intp)
    labels[order] = labels_sorted
    is_core = np.empty(n, dtype=bool)
    is_core[order] = core
    # Number clusters by their first core point in input order, as scikit-learn does.
    first = np.where(is_core, np.arange(n), n + np.arange(n)).astype(np.float64)
    return _renumber(labels, first)


# --- HDBSCAN* -------------------------------------------------------------------------


def _core_distances(
    tree: cKDTree, w: np.ndarray, min_samples: float
) -> tuple[np.ndarray, np.ndarray]:
    """Distance at which the weight within (the point included) reaches ``min_samples``.

    Also returns the first round's k-nearest-neighbour indices (k = ``min_samples``).
    """
    n = len(w)
    core = np.full(n, np.inf)
    todo = np.arange(n)
    k = int(min(n, max(2, math.ceil(min_samples))))
    knn = None
    while len(todo):
        dist, idx = tree.query(tree.data[todo], k=k, workers=-1)
        dist, idx = dist.reshape(len(todo), k), idx.reshape(len(todo), k)
        knn = idx if knn is None else knn
        reached = np.cumsum(w[idx], axis=1) >= min_samples * (1 - 1e-12)
        done = reached.any(axis=1)
        core[todo[done]] = dist[done, reached[done].argmax(axis=1)]
        if k >= n:
            break
        todo, k = todo[~done], min(n, 2 * k)
    return core, knn


def _candidate_edges(pts: np.ndarray, knn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each edge once (a < b) of the k-nearest-neighbour graph and the Delaunay triangulation.

    An MST edge no longer than the larger core distance of its ends links a point to one
    of its k nearest; a longer one is a Euclidean-MST-like edge, which Delaunay holds.
    """
    n = len(pts)
    a = [np.repeat(np.arange(n), knn.shape[1])]
    b = [knn.ravel()]
    try:
        tri = Delaunay(pts).simplices
        for i, j in ((0, 1), (1, 2), (0, 2)):
            a.append(tri[:, i])
            b.append(tri[:, j])
    except (QhullError, ValueError):
        # Collinear or too few points: the Euclidean MST is the path along the line.
        along = np.argsort(pts @ (pts[-1] - pts[0]) if n > 1 else np.zeros(n), kind="stable")
        a.append(along[:-1])
        b.append(along[1:])
    a, b = np.concatenate(a), np.concatenate(b)
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    # Each edge once, sorted by (a, b): scipy's COO → CSR conversion is a counting sort
    # by row (much quicker than sorting 10M pair keys); duplicates are then merged.
    graph = sparse.coo_matrix((np.ones(len(lo), dtype=np.int8), (lo, hi)), shape=(n, n)).tocsr()
    graph.sum_duplicates()
    rows = np.repeat(np.arange(n), np.diff(graph.indptr))
    return rows, graph.indices.astype(np.intp)


def _single_linkage(n: int, a, b, dist, w) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge tree from MST edges: (left, right, distance, weight) per merge, sorted."""
    order = np.argsort(dist, kind="stable")
    a, b, dist = a[order].tolist(), b[order].tolist(), dist[order]
    parent = list(range(2 * n - 1))
    left = np.empty(n - 1, dtype=np.intp)
    right = np.empty(n - 1, dtype=np.intp)
    size = np.concatenate([w, np.zeros(n - 1)])
    for m in range(n - 1):
        ra, rb = a[m], b[m]
        while parent[ra] != ra:
            parent[ra] = parent[parent[ra]]
            ra = parent[ra]
        while parent[rb] != rb:
            parent[rb] = parent[parent[rb]]
            rb = parent[rb]
        node = n + m
        parent[ra] = parent[rb] = node
        left[m], right[m] = ra, rb
        size[node] = size[ra] + size[rb]
    return left, right, dist, size


def _eom_labels(n, left, right, dist, size, core, min_cluster_weight) -> np.ndarray:
    """Condensed tree, stability and excess-of-mass selection (scikit-learn's defaults)."""
    lam_of = 1.0 / np.maximum(dist, MIN_DISTANCE_M)
    lam_self = 1.0 / np.maximum(core, MIN_DISTANCE_M)
    leaf_cluster = np.full(n, -1, dtype=np.intp)  # cluster each point falls out of
    leaf_lambda = np.zeros(n)
    parent_of: list[int] = [-1]
    birth: list[float] = [0.0]
    stack = [(2 * n - 2, 0)]

    def fall(node: int, cluster: int, lam: float) -> None:
        todo = [node]
        while todo:
            x = todo.pop()
            if x < n:
                leaf_cluster[x], leaf_lambda[x] = cluster, lam
            else:
                todo += (left[x - n], right[x - n])

    while stack:
        node, cluster = stack.pop()
        if node < n:  # a single (merged) point carries the cluster on
            leaf_cluster[node], leaf_lambda[node] = cluster, lam_self[node]
            continue
        lft, rgt = int(left[node - n]), int(right[node - n])
        lam = lam_of[node - n]
        big_l, big_r = size[lft] >= min_cluster_weight, size[rgt] >= min_cluster_weight
        if big_l and big_r:
            for child in (lft, rgt):
                parent_of.append(cluster)
                birth.append(lam)
                stack.append((child, len(birth) - 1))
        else:
            for child, big in ((lft, big_l), (rgt, big_r)):
                if big:
                    stack.append((child, cluster))
                else:
                    fall(child, cluster, lam)
    n_cl = len(birth)
    parent_arr, birth_arr = np.array(parent_of), np.array(birth)
    child_size = np.bincount(parent_arr[1:] + 0, minlength=n_cl) if n_cl > 1 else np.zeros(1)
    del child_size
    stability = np.bincount(
        leaf_cluster, weights=(leaf_lambda - birth_arr[leaf_cluster]) * size[:n], minlength=n_cl
    )
    cl_weight = np.bincount(leaf_cluster, weights=size[:n], minlength=n_cl)
    for c in range(n_cl - 1, 0, -1):  # children are created after their parents
        cl_weight[parent_arr[c]] += cl_weight[c]
    for c in range(1, n_cl):
        stability[parent_arr[c]] += (birth_arr[c] - birth_arr[parent_arr[c]]) * cl_weight[c]
    selected = np.zeros(n_cl, dtype=bool)
    subtree = np.zeros(n_cl)
    for c in range(n_cl - 1, 0, -1):
        if subtree[c] > stability[c]:
            stability[c] = subtree[c]
        else:
            selected[c] = True
        subtree[parent_arr[c]] += stability[c]
    label_of = np.full(n_cl, -1, dtype=np.intp)
    for c in range(1, n_cl):  # parents before children: the topmost selection wins
        label_of[c] = (
            label_of[parent_arr[c]] if label_of[parent_arr[c]] >= 0 else (c if selected[c] else -1)
        )
    return label_of[leaf_cluster]


def hdbscan_labels(
    xy, *, min_cluster_weight: float, min_samples: float | None = None, weights=None
) -> np.ndarray:
    """Weighted HDBSCAN* labels of points in metres (-1 = noise).

    scikit-learn's ``HDBSCAN(min_cluster_size, min_samples)`` semantics (excess of mass,
    no single cluster), with weights: a point's core distance is where the weight within
    it (itself included) reaches ``min_samples``, and a cluster must weigh at least
    ``min_cluster_weight``. The minimum spanning tree of mutual reachability is searched
    among k-nearest-neighbour and Delaunay edges (see the module docstring).

    Parameters
    ----------
    xy : array-like of shape (n, 2)
        Coordinates in metres.
    min_cluster_weight : float
        Smallest (weighted) size of a cluster, > 0 (scikit-learn's ``min_cluster_size``).
    min_samples : float, optional
        Weight that makes a point's core distance; ``min_cluster_weight`` when omitted.
    weights : array-like of shape (n,), optional
        Non-negative weight per point; 1 for every point when omitted.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        Cluster label per point, 0..k-1 in order of each cluster's first point, or -1.

    Raises
    ------
    TypeError, ValueError
        As :func:`dbscan_labels`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> xy = np.vstack([rng.normal(0, 10, (30, 2)), rng.normal(1000, 10, (30, 2))])
    >>> labels = hdbscan_labels(xy, min_cluster_weight=10)
    >>> np.unique(labels[:30]).tolist(), np.unique(labels[30:]).tolist()
    ([0], [1])
    """
    pts, w = _check_points(xy, weights)
    mcw = _positive("min_cluster_weight", min_cluster_weight)
    ms = mcw if min_samples is None else _positive("min_samples", min_samples)
    n = len(pts)
    if n == 0:
        return np.empty(0, dtype=np.intp)
    upts, inverse, uw = _dedupe(pts, w)
    m = len(upts)
    if m < 2 or uw.sum() < mcw:
        return np.full(n, -1, dtype=np.intp)
    tree = cKDTree(upts)
    core, knn = _core_distances(tree, uw, ms)
    a, b = _candidate_edges(upts, knn)
    dx, dy = upts[a, 0] - upts[b, 0], upts[a, 1] - upts[b, 1]
    d = np.sqrt(dx * dx + dy * dy)
    mrd = np.maximum(d, np.maximum(core[a], core[b]))
    graph = sparse.coo_matrix((mrd + 1.0, (a, b)), shape=(m, m)).tocsr()  # +1: keep zeros
    mst = csgraph.minimum_spanning_tree(graph).tocoo()
    ea, eb, ed = mst.row, mst.col, mst.data - 1.0
    if len(ea) < m - 1:  # a forest: join the pieces at infinite distance
        _, comp = csgraph.connected_components(graph, directed=False)
        reps = np.unique(comp, return_index=True)[1]
        ea = np.concatenate([ea, np.full(len(reps) - 1, reps[0])])
        eb = np.concatenate([eb, reps[1:]])
        ed = np.concatenate([ed, np.full(len(reps) - 1, np.inf)])
    left, right, dist, size = _single_linkage(m, ea, eb, ed, uw)
    ulabels = _eom_labels(m, left, right, dist, size, core, mcw)
    labels = ulabels[inverse]
    return _renumber(labels, np.arange(n, dtype=np.float64))


# --- automatic parameters ---------------------------------------------------------------

#: Points whose k-distance is measured when choosing ``eps_m`` (a sample keeps it fast).
KDIST_SAMPLE = 20_000


def density_min_weight(
    total_weight: float, area_m2: float, eps_m: float, *, alpha: float = DENSITY_ALPHA
) -> tuple[float, float]:
    """Core weight well above the background: the Poisson upper quantile of a random disk.

    If the ``total_weight`` were spread at random over the study area (``area_m2``), a disk
    of radius ``eps_m`` would hold on average ``mean = total_weight * pi * eps_m**2 /
    area_m2``. The core weight is the smallest count ``m`` with ``P(X >= m) <= alpha`` for
    ``X ~ Poisson(mean)``, at least ``MIN_WEIGHT_FLOOR`` (5, the smallest count a public
    output shows): a core point then marks a concentration that randomness would give with
    less than ``alpha`` chance. Weights are treated as counts.

    Returns
    -------
    (float, float)
        The core weight and the expected weight in a random disk.

    Examples
    --------
    >>> # 1000 over 1 km2, eps 100 m: mean = 1000 * pi * 0.01 = 31.4; P(X >= 51) < 0.001
    >>> w, mean = density_min_weight(1000, 1e6, 100)
    >>> w, round(mean, 1)
    (51.0, 31.4)
    >>> density_min_weight(10, 1e6, 100)[0]   # sparse: the floor
    5.0
    """
    for name, value in (("total_weight", total_weight), ("area_m2", area_m2), ("eps_m", eps_m)):
        if not value > 0:
            raise ValueError(f"`{name}` was {value} but is expected to be > 0")
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` was {alpha} but is expected to be in (0, 1)")
    mean = float(total_weight) * math.pi * float(eps_m) ** 2 / float(area_m2)
    # isf(alpha) is the smallest k with P(X > k) <= alpha, so P(X >= k + 1) <= alpha.
    from scipy.stats import poisson  # here: scipy.stats costs half a second to import

    return float(max(MIN_WEIGHT_FLOOR, poisson.isf(alpha, mean) + 1)), mean


@dataclass(frozen=True)
class DensityParameters:
    """Automatic DBSCAN / HDBSCAN parameters with Swedish reasons (see :func:`suggest_density`)."""

    eps_m: float
    min_weight: float
    eps_reason: str
    min_weight_reason: str


def suggest_density(
    xy,
    *,
    area_m2: float,
    weights=None,
    eps_m: float | None = None,
    alpha: float = DENSITY_ALPHA,
    random_state: int = 0,
) -> DensityParameters:
    """``eps_m`` and ``min_weight`` that follow the density of the points.

    ``min_weight`` is :func:`density_min_weight` for the radius, and the radius is
    :func:`suggest_eps_m` (the k-distance knee, kept in ``EPS_RANGE_M``) with k =
    ``min_weight``. Each depends on the other: starting from k = 5 the two are updated in
    turn until ``min_weight`` stops changing (at most 10 rounds; in practice 2-3). A given
    ``eps_m`` is kept and only ``min_weight`` is chosen for it.

    Parameters
    ----------
    xy : array-like of shape (n, 2)
        Coordinates in metres.
    area_m2 : float
        The study area, square metres (the areas analysed, not the points' hull).
    weights : array-like of shape (n,), optional
        Weight per point (1 when omitted).
    eps_m : float, optional
        A radius chosen by the user (metres); chosen from the data when omitted.
    alpha : float, default 0.001
        Chance under spatial randomness that a disk reaches ``min_weight``.
    random_state : int, default 0
        Seed for the k-distance sample.

    Returns
    -------
    DensityParameters

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> xy = np.vstack([rng.normal(500, 20, (60, 2)), rng.uniform(0, 2000, (300, 2))])
    >>> p = suggest_density(xy, area_m2=4e6)
    >>> 50 <= p.eps_m <= 250, p.min_weight >= 5
    (True, True)
    """
    pts, w = _check_points(xy, weights)
    total = float(w.sum())
    area_m2 = _positive("area_m2", area_m2)
    lo = EPS_RANGE_M[0]
    if eps_m is None and (len(pts) < 3 or total <= 0):
        eps_why = f"för få punkter för k-avståndskurvan: minsta radien {lo:.0f} m"
        return DensityParameters(lo, MIN_WEIGHT_FLOOR, eps_why, "för få punkter: minst 5")
    if total <= 0:
        return DensityParameters(eps_m, MIN_WEIGHT_FLOOR, "angiven", "ingen vikt: minst 5")
    kdist = _KDistance(pts, random_state) if eps_m is None else None
    min_weight = MIN_WEIGHT_FLOOR
    for _ in range(10):
        if kdist is not None:
            eps, eps_why = kdist.eps(min_weight)
        else:
            eps, eps_why = _positive("eps_m", eps_m), "angiven"
        new, mean = density_min_weight(total, area_m2, eps, alpha=alpha)
        if new == min_weight:
            break
        min_weight = new
    why = (
        f"minsta vikt som en cirkel med radien {eps:.0f} m når med under "
        f"{alpha * 100:g} % sannolikhet om all vikt ({total:.0f}) låg slumpmässigt i "
        f"studieområdet ({area_m2 / 1e6:.1f} km²; i medel {mean:.1f} i en cirkel), "
        f"minst {MIN_WEIGHT_FLOOR:.0f}"
    ).replace(".", ",")
    return DensityParameters(eps, min_weight, eps_why, why)


def suggest_eps_m(xy, *, min_weight: float, random_state: int = 0) -> tuple[float, str]:
    """``eps_m`` from the knee of the sorted k-distance curve (Ester et al. 1996).

    For a sample of points, the distance to the k-th nearest point (k = ``min_weight``)
    is sorted; the knee (the point farthest below the chord, as in "kneedle") separates
    points inside dense places from the rest. Rounded to 5 m and kept in ``EPS_RANGE_M``.

    Returns
    -------
    (float, str)
        The radius in metres and the reason, in Swedish, for reports.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.random.default_rng(0).normal(0, 50, (500, 2))
    >>> eps, why = suggest_eps_m(xy, min_weight=5)
    >>> EPS_RANGE_M[0] <= eps <= EPS_RANGE_M[1]
    True
    """
    pts, _ = _check_points(xy, None)
    return _KDistance(pts, random_state).eps(_positive("min_weight", min_weight))


class _KDistance:
    """The k-distance curve of a sample of points, one k-d tree for every k asked."""

    def __init__(self, pts: np.ndarray, random_state: int) -> None:
        rng = np.random.default_rng(random_state)
        many = len(pts) > KDIST_SAMPLE
        self.n = len(pts)
        self.sample = pts[rng.choice(len(pts), KDIST_SAMPLE, False)] if many else pts
        # Unbalanced, uncompacted: quicker to build, queried only a few times.
        self.tree = cKDTree(pts, balanced_tree=False, compact_nodes=False) if len(pts) else None
        self.dist = np.zeros((len(self.sample), 0))

    def eps(self, min_weight: float) -> tuple[float, str]:
        lo, hi = EPS_RANGE_M
        if self.n < 3:
            return lo, f"för få punkter för k-avståndskurvan: minsta radien {lo:.0f} m"
        k = int(min(self.n, max(2, math.ceil(min_weight))))
        if k > self.dist.shape[1]:
            # Twice the k asked (the fixed point of suggest_density asks a few growing k):
            # one query serves the next rounds.
            more = min(self.n, 2 * k)
            self.dist = self.tree.query(self.sample, k=more, workers=-1)[0].reshape(-1, more)
        dist = np.sort(self.dist[:, k - 1])
        x = np.linspace(0.0, 1.0, len(dist))
        span = dist[-1] - dist[0]
        y = (dist - dist[0]) / span if span > 0 else np.zeros(len(dist))
        knee = dist[int(np.argmax(x - y))]
        eps = float(min(hi, max(lo, 5.0 * round(knee / 5.0))))
        return eps, (
            f"knä i k-avståndskurvan (avstånd till {k}:e närmaste punkt) vid {knee:.0f} m, "
            f"avrundat och begränsat till {lo:.0f}–{hi:.0f} m"
        )
