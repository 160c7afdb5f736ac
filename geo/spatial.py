"""Spatial rules every module shares: which area holds a point.

This module owns point-in-area placement on plain coordinates (no shapely point objects,
so a million incidents cost arrays, not objects). The tie-break where areas overlap is
documented once, here: the **first** area in the frame's order that covers the point wins
(a point on a shared edge belongs to the first of the two). Callers that want the innermost
of nested levels pass the innermost areas first, or only them.
"""

from __future__ import annotations

import numpy as np
import shapely

#: Points are located in blocks of this many candidates at a time (bounded memory).
_BLOCK = 2_000_000


def locate_points(x: np.ndarray, y: np.ndarray, geoms) -> np.ndarray:
    """Index of the first geometry that covers each point, or -1 where none does.

    Parameters
    ----------
    x, y : arrays of float
        Coordinates in the geometries' CRS; NaN for a point without a place.
    geoms : sequence of shapely geometries
        Area polygons in their priority order (``None`` or empty ones hold nothing).

    Returns
    -------
    numpy.ndarray of int
        Position in ``geoms`` per point, ``-1`` for points outside every geometry.

    Examples
    --------
    >>> a, b = shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)
    >>> locate_points(np.array([5.0, 10.0, 15.0, 50.0, np.nan]),
    ...               np.array([5.0, 5.0, 5.0, 5.0, 5.0]), [a, b]).tolist()
    [0, 0, 1, -1, -1]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out = np.full(len(x), -1, dtype=np.intp)
    if not len(x):
        return out
    todo = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(np.where(todo, x, np.inf), kind="stable")
    xs = x[order]
    n_located = int(todo.sum())
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        x0, y0, x1, y1 = shapely.bounds(geom)
        lo = np.searchsorted(xs[:n_located], x0, "left")
        hi = np.searchsorted(xs[:n_located], x1, "right")
        if lo >= hi:
            continue
        shapely.prepare(geom)
        for start in range(lo, hi, _BLOCK):
            cand = order[start : min(hi, start + _BLOCK)]
            cand = cand[(out[cand] < 0) & (y[cand] >= y0) & (y[cand] <= y1)]
            if cand.size:
                out[cand[shapely.intersects_xy(geom, x[cand], y[cand])]] = i
    return out
