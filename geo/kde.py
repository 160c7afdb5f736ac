"""Kernel density surface (quartic kernel) for display.

A KDE surface shows where incidents concentrate; it is a picture, not a test (use
``geo.grid`` Gi* for significance). The kernel is the quartic (biweight) kernel that ArcGIS's
Kernel Density tool uses,

    K(d) = 3 / (π r²) · (1 − (d / r)²)²   for d < r, else 0,

with bandwidth ``r`` in metres, so each incident spreads its weight over a disk of radius
``r`` and the surface integrates to the sum of the weights. The default cell size is
ArcGIS's: the shorter side of the extent divided by 250.

Data caveat: points are first binned to the centres of the output cells and the binned
counts are convolved with the kernel sampled at the cell offsets (normalised so its cells
sum to exactly 1). A point is thus placed up to half a cell from where it is — invisible at
display scale, and it keeps the total mass exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from pyproj import Transformer
from scipy import signal

from geo import schema

#: ArcGIS's default: the shorter side of the extent divided by this.
DEFAULT_CELLS_ON_SHORT_SIDE = 250
#: Surfaces larger than this many cells are refused (choose a larger cell size).
MAX_KDE_CELLS = 16_000_000


@dataclass(frozen=True)
class KDEResult:
    """A density raster in EPSG:3006.

    Attributes
    ----------
    density_per_km2 : numpy.ndarray
        2-D, row 0 at the **north** edge (image order), column 0 at the west edge; weighted
        incidents per km².
    bounds : tuple of float
        (minx, miny, maxx, maxy) of the raster's outer edges in EPSG:3006 metres.
    cell_size_m : float
    bandwidth_m : float
    """

    density_per_km2: np.ndarray
    bounds: tuple[float, float, float, float]
    cell_size_m: float
    bandwidth_m: float

    @property
    def total(self) -> float:
        """The integral of the surface: the sum of the weights that fell on it."""
        return float(self.density_per_km2.sum() * (self.cell_size_m / 1000.0) ** 2)

    def bounds_wgs84(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((south, west), (north, east)) in WGS84 degrees, for ``folium.raster_layers.ImageOverlay``.

        The raster is a rectangle in EPSG:3006; this is the lon/lat box around its four
        corners, close enough for display at municipal scale.

        Examples
        --------
        >>> r = KDEResult(np.zeros((2, 2)), (660000.0, 6590000.0, 662000.0, 6592000.0), 1000.0, 500.0)
        >>> (s, w), (n, e) = r.bounds_wgs84()
        >>> round(s, 2), round(w, 2), round(n, 2), round(e, 2)
        (59.42, 17.82, 59.44, 17.86)
        """
        to_wgs = Transformer.from_crs(schema.CRS_METRIC, schema.CRS_WGS84, always_xy=True)
        minx, miny, maxx, maxy = self.bounds
        lon, lat = to_wgs.transform([minx, minx, maxx, maxx], [miny, maxy, miny, maxy])
        return (min(lat), min(lon)), (max(lat), max(lon))


def quartic_kernel(distance_m: np.ndarray, bandwidth_m: float) -> np.ndarray:
    """The quartic kernel per m²: 3/(π r²)·(1 − (d/r)²)² inside the bandwidth, 0 outside.

    Examples
    --------
    >>> k = quartic_kernel(np.array([0.0, 50.0, 100.0]), 100.0)
    >>> np.round(k * np.pi * 100**2 / 3, 4).tolist()  # (1 − 0)², (1 − ¼)² = 0.5625, 0
    [1.0, 0.5625, 0.0]
    """
    ratio2 = (np.asarray(distance_m, dtype=float) / bandwidth_m) ** 2
    return np.where(ratio2 < 1.0, 3.0 / (math.pi * bandwidth_m**2) * (1.0 - ratio2) ** 2, 0.0)


def _coordinates(points) -> np.ndarray:
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        if points.crs is None:
            raise ValueError(f"`points` has no CRS; Lägesbild works in {schema.CRS_METRIC}.")
        if points.crs.to_epsg() != 3006:
            points = points.to_crs(schema.CRS_METRIC)
        geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if len(geoms) and not (geoms.geom_type == "Point").all():
            raise ValueError("`points` must hold Point geometries only.")
        return geoms.get_coordinates().to_numpy(dtype=float)
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise TypeError(
            "`points` must be a GeoDataFrame/GeoSeries of points or an (n, 2) array of "
            f"EPSG:3006 metres, got shape {xy.shape}."
        )
    return xy


def kde_surface(
    points,
    *,
    bandwidth_m: float,
    cell_size_m: float | None = None,
    weights: np.ndarray | str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> KDEResult:
    """Quartic kernel density of points, as a raster in EPSG:3006.

    Parameters
    ----------
    points : GeoDataFrame, GeoSeries or (n, 2) array
        Points; frames are reprojected to EPSG:3006, an array is taken as EPSG:3006 metres.
    bandwidth_m : float
        Kernel radius (search radius) in metres.
    cell_size_m : float, optional
        Output cell width; default ArcGIS's min(width, height) / 250 of the extent (the
        ``bounds``, or else the points' bounding box).
    weights : array, column name or None
        One weight per point (e.g. ``"weight"``); 1 each by default.
    bounds : (minx, miny, maxx, maxy), optional
        Extent of the raster in EPSG:3006. Default: the points' bounding box widened by the
        bandwidth on every side, so no kernel is cut and the surface holds every weight.
        Points outside given bounds are left out.

    Returns
    -------
    KDEResult

    Raises
    ------
    TypeError, ValueError
        For bad points, a non-positive bandwidth or cell size, no points and no bounds, or
        a raster over 16 000 000 cells.

    Examples
    --------
    >>> r = kde_surface(np.array([[500.0, 500.0]]), bandwidth_m=100, cell_size_m=10,
    ...                 bounds=(0, 0, 1000, 1000))
    >>> r.density_per_km2.shape, round(r.total, 6)  # 100 × 100 cells; one point's mass
    ((100, 100), 1.0)
    """
    if not (isinstance(bandwidth_m, int | float) and bandwidth_m > 0):
        raise ValueError(
            f"`bandwidth_m` was {bandwidth_m!r}; expected a positive number of metres."
        )
    xy = _coordinates(points)
    if isinstance(weights, str):
        if not isinstance(points, gpd.GeoDataFrame) or weights not in points.columns:
            raise ValueError(f"`weights` names the column {weights!r}, which `points` lacks.")
        values = points[weights].to_numpy(dtype=float)
    elif weights is None:
        values = np.ones(len(xy))
    else:
        values = np.asarray(weights, dtype=float)
        if values.shape != (len(xy),):
            raise ValueError(f"`weights` has shape {values.shape}; expected ({len(xy)},).")

    if bounds is None:
        if len(xy) == 0:
            raise ValueError("No points and no `bounds`: nothing to draw a surface over.")
        minx, miny = xy.min(axis=0)
        maxx, maxy = xy.max(axis=0)
        extent = (minx, miny, maxx, maxy)
        pad = bandwidth_m
    else:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        if not (maxx > minx and maxy > miny):
            raise ValueError(
                f"`bounds` was {bounds}; expected (minx, miny, maxx, maxy) with max > min."
            )
        extent = (minx, miny, maxx, maxy)
        pad = 0.0
    if cell_size_m is None:
        short = min(extent[2] - extent[0], extent[3] - extent[1])
        cell_size_m = short / DEFAULT_CELLS_ON_SHORT_SIDE if short > 0 else bandwidth_m / 10
    if not (isinstance(cell_size_m, int | float) and cell_size_m > 0):
        raise ValueError(
            f"`cell_size_m` was {cell_size_m!r}; expected a positive number of metres."
        )
    cell = float(cell_size_m)

    x0, y0 = extent[0] - pad, extent[1] - pad
    ncols = max(int(math.ceil((extent[2] + pad - x0) / cell)), 1)
    nrows = max(int(math.ceil((extent[3] + pad - y0) / cell)), 1)
    if nrows * ncols > MAX_KDE_CELLS:
        raise ValueError(
            f"A {cell:g} m surface over this extent has {nrows * ncols:,} cells (over "
            f"{MAX_KDE_CELLS:,}); choose a larger `cell_size_m`."
        )

    col = np.floor((xy[:, 0] - x0) / cell).astype(np.int64)
    row = np.floor((xy[:, 1] - y0) / cell).astype(np.int64)
    # Points on the far edge of the extent belong to the last cell, not beyond it.
    col = np.where(xy[:, 0] == x0 + ncols * cell, ncols - 1, col)
    row = np.where(xy[:, 1] == y0 + nrows * cell, nrows - 1, row)
    inside = (col >= 0) & (col < ncols) & (row >= 0) & (row < nrows)
    binned = np.zeros((nrows, ncols))
    np.add.at(binned, (row[inside], col[inside]), values[inside])

    reach = int(math.ceil(bandwidth_m / cell))
    offsets = np.arange(-reach, reach + 1) * cell
    distance = np.hypot(offsets[:, None], offsets[None, :])
    kernel = quartic_kernel(distance, bandwidth_m)
    if kernel.sum() > 0:
        kernel = kernel / kernel.sum()  # each cell of the kernel: share of the point's weight
    else:
        kernel = np.ones((1, 1))  # bandwidth below half a cell: the weight stays in its cell
    surface = signal.fftconvolve(binned, kernel, mode="same") if kernel.size > 1 else binned
    surface = np.clip(surface, 0.0, None)  # FFT round-off can dip just below zero
    density = surface / (cell / 1000.0) ** 2
    x1, y1 = x0 + ncols * cell, y0 + nrows * cell
    return KDEResult(np.flipud(density), (x0, y0, x1, y1), cell, float(bandwidth_m))
