"""Grid hotspots: square cells in EPSG:3006 and the Getis-Ord Gi* statistic on them.

This module owns the grid (``make_grid``), the Gi* z-scores, p-values and ArcGIS-style
confidence bins with False Discovery Rate correction (``gistar_cells``), and the automatic
choice of cell size and distance band (reported as :class:`Choice`).

The statistic is esda's ``G_Local(y, w, transform="B", star=True)``: binary weights, the
cell itself included. On a regular lattice the neighbour sums are a 2-D convolution of the
cell values with a disk, which is what makes a million cells take well under a second.
Neighbours are found between **lattice centres** (not the centroids of clipped cells), so
every cell's neighbourhood is the same disk, cut only by the edge of the study area.

Data caveat: incidents are binned by their coordinates; a point exactly on a cell edge goes
to the cell above/right of the edge, and a point exactly on the outer edge of the study
area to the cell inside it (never lost). Points outside the study area are counted and
reported in ``GridResult.messages``, not analysed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage, special

from geo import schema

#: Automatic cell sizes stay in this range (metres): patrol scale. Below 50 m a cell is one
#: address (geocoding is not more precise than that); above 250 m it spans several blocks.
AUTO_CELL_RANGE_M = (50.0, 250.0)
#: An automatic grid for one area gets at most this many cells; only when the largest
#: patrol-scale cell still gives more (an area the size of a county analysed as one) is the
#: cell enlarged past ``AUTO_CELL_RANGE_M``, with a note.
MAX_AUTO_CELLS = 1_000_000
#: The automatic distance band is at most this (metres): a patrol's neighbourhood.
MAX_AUTO_BAND_M = 1000.0
#: Without a peak of Moran's I, the band is the distance within which a typical incident
#: location has this many other incident locations (see :func:`choose_band`).
FALLBACK_BAND_NEIGHBOURS = 10
#: Automatic bands are never narrower than this many cell widths (12 neighbours + itself).
MIN_AUTO_BAND_CELLS = 2
#: Conditional permutations are offered up to this many cells (they cost n × permutations).
MAX_PERMUTATION_CELLS = 50_000
#: Radii (in cells) tried when the band is chosen automatically.
AUTO_BAND_RADII = tuple(range(1, 16))
#: Kernels up to this many cells are summed directly; larger ones by FFT.
_DIRECT_KERNEL_CELLS = 49

LATTICE_ROW = "lattice_row"
LATTICE_COL = "lattice_col"
GI_P_SIM = "gi_p_sim"


@dataclass(frozen=True)
class Choice:
    """One parameter of an analysis, with the reason it has its value.

    Attributes
    ----------
    name : str
        Parameter name, e.g. ``"cell_size_m"``.
    value : float
        The value used.
    reason : str
        Swedish text for users: why this value (given by the user, or how it was chosen).
    area_id : str, optional
        The area the value was chosen for, when each area is analysed on its own
        (:func:`gistar_by_area`); None when it holds for the whole analysis.
    """

    name: str
    value: float
    reason: str
    area_id: str | None = None


@dataclass(frozen=True)
class GridResult:
    """Cells with Gi* results, the parameters used, and notes for the user.

    Attributes
    ----------
    cells : GeoDataFrame
        One row per cell, EPSG:3006; see :func:`gistar_cells`.
    choices : list of Choice
        Cell size, band and the other parameters actually used.
    messages : list of str
        Swedish notes (points outside the study area, undefined z-scores, ...).
    cells_analysed : int
        Cells in the analysis (more than ``len(cells)`` when only occupied cells are kept).
    """

    cells: gpd.GeoDataFrame
    choices: list[Choice]
    messages: list[str] = field(default_factory=list)
    cells_analysed: int | None = None


# --- the statistic ------------------------------------------------------------------------


def gistar_z(y: np.ndarray, neighbour_sums: np.ndarray, neighbour_counts: np.ndarray) -> np.ndarray:
    """Getis-Ord Gi* z-scores from the band sums (binary weights, self included).

    With ``n`` values, mean ``x̄`` and population standard deviation ``s`` of all ``y``,
    a cell with ``k`` neighbours (itself included) whose values sum to ``S`` has

        z = (S − k·x̄) / (s · √((n·k − k²) / (n − 1)))

    which is esda's ``(G − E[G]) / √Var[G]`` with ``G = S / Σy``, ``E[G] = k / n`` and
    ``Var[G] = k(n − k) / (n − 1) / n² · s² / x̄²`` rearranged (and ArcGIS's Gi* formula).

    Parameters
    ----------
    y : array of float
        Every value of the analysis (all cells, empty ones too).
    neighbour_sums, neighbour_counts : arrays of the same shape
        ``S`` and ``k`` per cell to score.

    Returns
    -------
    numpy.ndarray
        z per cell; NaN where it is undefined: all values equal (``s = 0``, e.g. no
        incidents at all) or the cell neighbours every cell (``k = n``).

    Examples
    --------
    >>> y = np.array([0.0, 0.0, 3.0])
    >>> # cell 2 alone (k=1, S=3): x̄=1, s=√2, z = (3 − 1) / (√2 · √((3−1)/2)) = √2
    >>> float(gistar_z(y, np.array([3.0]), np.array([1.0]))[0])
    1.414213562373095
    """
    y = np.asarray(y, dtype=float)
    sums = np.asarray(neighbour_sums, dtype=float)
    counts = np.asarray(neighbour_counts, dtype=float)
    n = y.size
    mean = y.mean() if n else 0.0
    sd = math.sqrt(max(float(np.mean(y**2)) - mean**2, 0.0)) if n else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.sqrt((n * counts - counts**2) / (n - 1)) if n > 1 else np.zeros_like(counts)
        z = (sums - counts * mean) / (sd * spread)
    # s = 0 up to rounding (all values equal) or k = n leaves nothing to compare with.
    undefined = (sd <= 1e-12 * max(abs(mean), 1.0)) | (spread == 0) | ~np.isfinite(z)
    return np.where(undefined, np.nan, z)


def gistar_points(xy: np.ndarray, y: np.ndarray, band_m: float) -> np.ndarray:
    """Gi* z-scores for arbitrary points with a fixed distance band (the generic path).

    Neighbours are the points within ``band_m`` (distance ≤ band, as libpysal's
    ``DistanceBand``), the point itself included.

    Parameters
    ----------
    xy : (n, 2) array of float
        Coordinates in metres.
    y : (n,) array of float
    band_m : float

    Returns
    -------
    numpy.ndarray
        z per point, NaN where undefined (see :func:`gistar_z`).

    Examples
    --------
    The esda reference vector (DESIGN.md §4):

    >>> xy = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], float)
    >>> np.round(gistar_points(xy, np.array([2, 3, 3.2, 5, 8, 7]), 15), 6).tolist()
    [-1.397276, -0.289178, 0.65065, -0.289178, 1.234521, 2.024243]
    """
    from scipy.spatial import cKDTree

    xy = np.asarray(xy, dtype=float)
    y = np.asarray(y, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] != y.shape[0]:
        raise ValueError(f"`xy` must be (n, 2) matching `y` (n={y.shape[0]}), got {xy.shape}.")
    pairs = cKDTree(xy).query_pairs(r=band_m, output_type="ndarray")
    sums = y.copy()
    counts = np.ones(len(y))
    np.add.at(sums, pairs[:, 0], y[pairs[:, 1]])
    np.add.at(sums, pairs[:, 1], y[pairs[:, 0]])
    np.add.at(counts, pairs.ravel(), 1)
    return gistar_z(y, sums, counts)


def disk_kernel(radius_cells: float) -> np.ndarray:
    """Binary disk of lattice offsets with distance ≤ ``radius_cells`` (centre included).

    Examples
    --------
    >>> disk_kernel(1).astype(int).tolist()
    [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    >>> int(disk_kernel(2).sum())  # offsets with dr² + dc² ≤ 4
    13
    """
    if not radius_cells >= 0:
        raise ValueError(f"`radius_cells` was {radius_cells}; expected a number ≥ 0.")
    reach = int(math.floor(radius_cells + 1e-9))
    offsets = np.arange(-reach, reach + 1)
    dist2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    return dist2 <= radius_cells**2 * (1 + 1e-9)


def band_sums(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over a symmetric ``kernel`` around each lattice cell (zero outside).

    Small kernels are summed directly (scipy.ndimage), large ones by FFT (what
    scipy.signal.fftconvolve does, on scipy.fft: scipy.signal costs half a second to
    import); FFT round-off (~1e-12 of the largest sum) is removed for integer input by
    rounding.

    Examples
    --------
    >>> v = np.arange(400.0).reshape(20, 20)
    >>> k = disk_kernel(4.0)  # 49+ cells: the FFT path
    >>> bool(np.allclose(band_sums(v, k), ndimage.correlate(v, k, mode="constant")))
    True
    """
    values = np.asarray(values, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if kernel.size <= _DIRECT_KERNEL_CELLS:
        return ndimage.correlate(values, kernel, mode="constant", cval=0.0)
    out = _fft_same(values, kernel)
    if np.all(values == np.round(values)):
        out = np.round(out)
    return out


def _fft_same(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``scipy.signal.fftconvolve(values, kernel, mode="same")`` for 2-D arrays."""
    from scipy import fft

    full = [a + b - 1 for a, b in zip(values.shape, kernel.shape, strict=True)]
    fast = [fft.next_fast_len(n, True) for n in full]
    spectrum = fft.rfft2(values, fast) * fft.rfft2(kernel, fast)
    out = fft.irfft2(spectrum, fast)
    r0 = (full[0] - values.shape[0]) // 2
    c0 = (full[1] - values.shape[1]) // 2
    return out[r0 : r0 + values.shape[0], c0 : c0 + values.shape[1]]


def gistar_lattice(values: np.ndarray, mask: np.ndarray, radius_cells: float) -> np.ndarray:
    """Gi* z-scores on a regular lattice: the fast path.

    Parameters
    ----------
    values : 2-D array of float
        Cell values (rows × cols); ignored outside ``mask``.
    mask : 2-D array of bool
        Cells that belong to the study area (empty ones included).
    radius_cells : float
        Distance band in cell widths, between lattice centres.

    Returns
    -------
    numpy.ndarray
        2-D z-scores, NaN outside the mask and where undefined. Equal to esda's
        ``G_Local(y, DistanceBand(centres, radius·cell), transform="B", star=True).Zs`` on
        the masked cells.

    Examples
    --------
    >>> v = np.zeros((3, 3)); v[1, 1] = 9.0
    >>> z = gistar_lattice(v, np.ones((3, 3), bool), 1)
    >>> round(float(z[1, 1]), 4)  # k=5, S=9, x̄=1, s=√8: (9−5)/(√8·√(20/8)) = 0.8944
    0.8944
    """
    values = np.asarray(values, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if values.shape != mask.shape or values.ndim != 2:
        raise ValueError(
            f"`values` {values.shape} and `mask` {mask.shape} must be 2-D of the same shape."
        )
    kernel = disk_kernel(radius_cells)
    masked = np.where(mask, values, 0.0)
    sums = band_sums(masked, kernel)
    counts = band_sums(mask.astype(float), kernel)
    z = np.full(values.shape, np.nan)
    z[mask] = gistar_z(masked[mask], sums[mask], np.round(counts[mask]))
    return z


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided p-values from the standard normal (NaN stays NaN).

    Examples
    --------
    >>> np.round(two_sided_p(np.array([1.959964, 0.0])), 4).tolist()
    [0.05, 1.0]
    """
    # the normal survival function as scipy.stats.norm.sf computes it, without importing
    # scipy.stats (half a second at start-up)
    return 2.0 * special.ndtr(-np.abs(np.asarray(z, dtype=float)))


def bh_threshold(p: np.ndarray, alpha: float) -> float:
    """Benjamini–Hochberg critical p-value: the largest p₍ₖ₎ with p₍ₖ₎ ≤ k·α/m.

    NaN p-values are left out of ``m``. Returns 0.0 when no test passes (then only p = 0
    would be significant, and p = 0 is also significant under any correction).

    Examples
    --------
    >>> # sorted p: .001 ≤ 1·.05/4=.0125 ✓, .02 ≤ .025 ✓, .04 > .0375 ✗, .3 > .05 ✗ → .02
    >>> bh_threshold(np.array([0.3, 0.02, 0.001, 0.04]), 0.05)
    0.02
    """
    p = np.asarray(p, dtype=float)
    p = np.sort(p[np.isfinite(p)])
    m = p.size
    if m == 0:
        return 0.0
    passed = np.flatnonzero(p <= np.arange(1, m + 1) * alpha / m)
    return float(p[passed[-1]]) if passed.size else 0.0


def confidence_bins(
    z: np.ndarray,
    p: np.ndarray,
    *,
    alpha_levels: tuple[float, ...] = (0.10, 0.05, 0.01),
    fdr: bool = True,
) -> np.ndarray:
    """ArcGIS ``Gi_Bin``: ±3/±2/±1 for 99/95/90 % confidence, 0 not significant.

    Without FDR a cell reaches a level when ``p ≤ α``. With FDR, as ArcGIS's Hot Spot
    Analysis does it, each level's critical p-value is lowered separately with the
    Benjamini–Hochberg procedure over all cells with a defined p, and a cell reaches a level
    when ``p`` is at most that level's threshold. The bin is the highest level reached,
    signed as z. Cells with undefined z get 0.

    Examples
    --------
    >>> z = np.array([3.0, 2.0, -1.8, 0.5, np.nan])
    >>> confidence_bins(z, two_sided_p(z), fdr=False).tolist()
    [3, 2, -1, 0, 0]
    """
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    levels = sorted(alpha_levels, reverse=True)  # 0.10 → bin 1, 0.05 → 2, 0.01 → 3
    if not all(0 < a < 1 for a in levels):
        raise ValueError(f"`alpha_levels` was {alpha_levels}; expected values between 0 and 1.")
    bins = np.zeros(z.shape, dtype=np.int8)
    defined = np.isfinite(p) & np.isfinite(z)
    for level, alpha in enumerate(levels, start=1):
        threshold = bh_threshold(p[defined], alpha) if fdr else alpha
        bins[defined & (p <= threshold)] = level
    return (bins * np.sign(np.where(defined, z, 0.0))).astype(np.int8)


# --- the grid -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lattice:
    """A regular lattice of square cells in EPSG:3006 (row 0 at the south edge)."""

    x0: float
    y0: float
    cell_size_m: float
    nrows: int
    ncols: int

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        col = np.floor((x - self.x0) / self.cell_size_m).astype(np.int64)
        row = np.floor((y - self.y0) / self.cell_size_m).astype(np.int64)
        return row, col


def _check_frame(frame, name: str, *, need: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"`{name}` must be a GeoDataFrame, got {type(frame).__name__}.")
    if frame.crs is None:
        raise ValueError(f"`{name}` has no CRS; Lägesbild works in {schema.CRS_METRIC}.")
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{name}` lacks the column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, frame.columns))}."
        )
    if frame.crs.to_epsg() != 3006:
        frame = frame.to_crs(schema.CRS_METRIC)
    return frame


def _lattice_for(bounds: tuple[float, ...], cell_size_m: float, origin) -> _Lattice:
    minx, miny, maxx, maxy = bounds
    if origin is None:
        # Snap to multiples of the cell size so the same cells come back run after run.
        x0 = math.floor(minx / cell_size_m) * cell_size_m
        y0 = math.floor(miny / cell_size_m) * cell_size_m
    else:
        x0, y0 = (float(v) for v in origin)
        if x0 > minx or y0 > miny:
            raise ValueError(
                f"`origin` {origin} lies above/right of the study area's lower-left corner "
                f"({minx:.1f}, {miny:.1f}); it must be at or below it."
            )
    # floor(...) + 1 pads one cell when the area ends exactly on a cell edge, so nothing on
    # the outer edge falls off the grid (STACK-NOTES).
    ncols = int(math.floor((maxx - x0) / cell_size_m)) + 1
    nrows = int(math.floor((maxy - y0) / cell_size_m)) + 1
    return _Lattice(x0, y0, float(cell_size_m), nrows, ncols)


@dataclass(frozen=True)
class _Mask:
    """Which lattice cells lie in the study area, and the clipped shape of the edge cells."""

    lattice: _Lattice
    keep: np.ndarray  # flat, bool: the cell overlaps the area with positive area
    edge: np.ndarray  # flat, bool: the area's boundary cuts the cell
    shapes: np.ndarray  # flat, object: the clipped polygon of a boundary cell, else None


def _grid_mask(study, cell_size_m: float, origin=None) -> _Mask:
    """The lattice over ``study`` and its mask, with box tests only near the boundary."""
    if not (
        isinstance(cell_size_m, int | float) and cell_size_m > 0 and math.isfinite(cell_size_m)
    ):
        raise ValueError(
            f"`cell_size_m` was {cell_size_m!r}; expected a positive number of metres."
        )
    lattice = _lattice_for(study.bounds, cell_size_m, origin)
    total = lattice.nrows * lattice.ncols
    if total > 5_000_000:
        raise ValueError(
            f"A {cell_size_m:g} m grid over this area has {total:,} cells (over 5 000 000); "
            "choose a larger cell size."
        )
    shapely.prepare(study)
    # Only cells the boundary may touch need a polygon test; every other cell lies wholly
    # inside or wholly outside, and its centre says which (no box objects for them).
    near = _boundary_cells(study, lattice).ravel()
    keep = np.zeros(total, dtype=bool)
    far = np.flatnonzero(~near)
    half = cell_size_m / 2
    rows, cols = np.divmod(far, lattice.ncols)
    keep[far] = shapely.intersects_xy(
        study, lattice.x0 + cols * cell_size_m + half, lattice.y0 + rows * cell_size_m + half
    )
    edge = np.zeros(total, dtype=bool)
    shapes = np.full(total, None, dtype=object)
    cand = np.flatnonzero(near)
    if cand.size:
        rows, cols = np.divmod(cand, lattice.ncols)
        x, y = lattice.x0 + cols * cell_size_m, lattice.y0 + rows * cell_size_m
        boxes = shapely.box(x, y, x + cell_size_m, y + cell_size_m)
        inside = shapely.contains_properly(study, boxes)
        cut = ~inside & shapely.intersects(study, boxes)
        clipped = shapely.intersection(boxes[cut], study)
        # Keep polygonal parts only; a cell that merely touches the area (a line) is not in it.
        clipped = np.array([_polygonal(g) for g in clipped], dtype=object)
        keep[cand[inside]] = True
        keep[cand[cut]] = ~shapely.is_empty(clipped)
        edge[cand[cut]] = keep[cand[cut]]
        shapes[cand[cut]] = clipped
    return _Mask(lattice, keep, edge, shapes)


def _cells_frame(grid: _Mask, flat: np.ndarray, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The cells at lattice positions ``flat`` (in that order) as a frame with geometry."""
    lat = grid.lattice
    rows, cols = np.divmod(flat, lat.ncols)
    x = lat.x0 + cols * lat.cell_size_m
    y = lat.y0 + rows * lat.cell_size_m
    geoms = shapely.box(x, y, x + lat.cell_size_m, y + lat.cell_size_m)
    cut = grid.edge[flat]
    geoms[cut] = grid.shapes[flat[cut]]
    cells = gpd.GeoDataFrame(
        {schema.CELL_ID: _cell_ids(x, y), LATTICE_ROW: rows, LATTICE_COL: cols},
        geometry=geoms,
        crs=schema.CRS_METRIC,
    )
    cells[schema.AREA_ID] = _cell_areas(cells, areas, lat)
    return cells


def _grid_cells(
    areas: gpd.GeoDataFrame, cell_size_m: float, origin=None, study=None
) -> tuple[_Lattice, np.ndarray, gpd.GeoDataFrame, np.ndarray]:
    """Lattice, mask, the clipped cells (in lattice order: row-major, south first) and the
    mask of edge cells (those the study area's boundary cuts)."""
    if len(areas) == 0:
        raise ValueError("`areas` is empty: a grid needs a study area.")
    if study is None:
        study = _study_area(areas)
    grid = _grid_mask(study, cell_size_m, origin)
    shape = (grid.lattice.nrows, grid.lattice.ncols)
    cells = _cells_frame(grid, np.flatnonzero(grid.keep), areas)
    return grid.lattice, grid.keep.reshape(shape), cells, grid.edge.reshape(shape)


def _boundary_cells(study, lattice: _Lattice) -> np.ndarray:
    """Mask of the lattice cells the study area's boundary may touch (a superset).

    The boundary is densified to vertices at most half a cell apart; a piece of boundary
    between two such vertices stays within the 3 × 3 cells around either, so the cells
    holding a vertex and their eight neighbours hold the whole boundary.
    """
    near = np.zeros((lattice.nrows, lattice.ncols), dtype=bool)
    line = shapely.segmentize(shapely.boundary(study), lattice.cell_size_m / 2)
    xy = shapely.get_coordinates(line)
    if not len(xy):
        return near
    row, col = lattice.cell_of(xy[:, 0], xy[:, 1])
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r, c = row + dr, col + dc
            ok = (r >= 0) & (r < lattice.nrows) & (c >= 0) & (c < lattice.ncols)
            near[r[ok], c[ok]] = True
    return near


def _study_area(areas: gpd.GeoDataFrame):
    """The union of the areas (one area: its own geometry, no union needed)."""
    geoms = areas.geometry.values
    return geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)


def _cell_ids(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ "E{x}N{y}" of each lower-left corner, rounded to whole metres."""
    east = np.round(x).astype(np.int64).tolist()
    north = np.round(y).astype(np.int64).tolist()
    return np.array([f"E{e}N{n}" for e, n in zip(east, north, strict=True)], dtype=object)


def _polygonal(geom):
    if geom.is_empty or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _cell_areas(cells: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, lattice: _Lattice) -> np.ndarray:
    """area_id of the area holding each cell's lattice centre, else of the largest overlap."""
    if len(areas) == 1:
        return np.full(len(cells), str(areas[schema.AREA_ID].iloc[0]), dtype=object)
    half = lattice.cell_size_m / 2
    centres = shapely.points(
        lattice.x0 + cells[LATTICE_COL].to_numpy() * lattice.cell_size_m + half,
        lattice.y0 + cells[LATTICE_ROW].to_numpy() * lattice.cell_size_m + half,
    )
    area_ids = areas[schema.AREA_ID].astype(str).to_numpy()
    tree = shapely.STRtree(areas.geometry.values)
    cell_idx, area_idx = tree.query(centres, predicate="within")
    result = np.full(len(cells), None, dtype=object)
    # Reverse so the first area in the frame wins where areas overlap.
    result[cell_idx[::-1]] = area_ids[area_idx[::-1]]
    todo = np.flatnonzero(pd.isna(result))
    if todo.size:
        geoms = cells.geometry.values[todo]
        c_idx, a_idx = tree.query(geoms, predicate="intersects")
        overlap = shapely.area(shapely.intersection(geoms[c_idx], areas.geometry.values[a_idx]))
        best = pd.DataFrame({"c": c_idx, "a": a_idx, "o": overlap}).sort_values(
            ["c", "o"], ascending=[True, False], kind="stable"
        )
        best = best.drop_duplicates("c")
        result[todo[best["c"].to_numpy()]] = area_ids[best["a"].to_numpy()]
    return result


def make_grid(
    areas: gpd.GeoDataFrame, cell_size_m: float, *, origin: tuple[float, float] | None = None
) -> gpd.GeoDataFrame:
    """Square cells on a regular lattice, clipped to the study area.

    Parameters
    ----------
    areas : GeoDataFrame
        With ``area_id``; the study area is the union of the geometries. Reprojected to
        EPSG:3006 if in another CRS.
    cell_size_m : float
        Cell width in metres.
    origin : (x, y), optional
        Lower-left corner of the lattice in EPSG:3006, at or below the area's corner. By
        default the corner snapped down to a multiple of the cell size, so two runs over
        the same area share their cells.

    Returns
    -------
    GeoDataFrame
        ``cell_id`` ("E{x}N{y}" of the lower-left corner), ``lattice_row``, ``lattice_col``
        (row 0 south, column 0 west), ``area_id`` (the area that holds the cell's centre,
        else the one it overlaps most) and the clipped square ``geometry``, EPSG:3006.
        Every cell that overlaps the area with positive area is there, empty or not.

    Raises
    ------
    TypeError, ValueError
        For a frame without CRS or ``area_id``, a bad cell size or origin, or a grid over
        5 000 000 cells.

    Examples
    --------
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"]},
    ...     geometry=[shapely.box(0, 0, 250, 100)], crs="EPSG:3006")
    >>> g = make_grid(areas, 100)
    >>> len(g), round(g.area.sum())  # 3 × 1 cells, the last one clipped to 50 m × 100 m
    (3, 25000)
    """
    areas = _check_frame(areas, "areas", need=(schema.AREA_ID,))
    _, _, cells, _ = _grid_cells(areas, cell_size_m, origin)
    return cells[[schema.CELL_ID, schema.AREA_ID, LATTICE_ROW, LATTICE_COL, "geometry"]]


# --- automatic parameters -------------------------------------------------------------------

_NICE_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5)


def _nice_metres(value: float) -> float:
    """Round up to 50, 75, 100, 125, 150, 200, 250, 300, 400, 500, ... metres.

    Examples
    --------
    >>> [_nice_metres(v) for v in (32, 62, 101, 180, 251)]
    [50.0, 75.0, 125.0, 200.0, 300.0]
    """
    value = max(float(value), AUTO_CELL_RANGE_M[0])
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (*_NICE_STEPS, 10.0):
        if step * magnitude >= value - 1e-9:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop ends at 10


def _distinct_rows(xy: np.ndarray) -> np.ndarray:
    """The distinct rows of an (n, 2) array, sorted by x then y (``np.unique(axis=0)``).

    A lexsort on the two columns: ``np.unique(axis=0)`` sorts a structured view, ~10×
    slower on a million points.

    Examples
    --------
    >>> _distinct_rows(np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0]])).tolist()
    [[0.0, 5.0], [1.0, 2.0]]
    """
    if len(xy) == 0:
        return xy.reshape(0, 2)
    xy = xy[np.lexsort((xy[:, 1], xy[:, 0]))]
    new = np.empty(len(xy), dtype=bool)
    new[0] = True
    np.any(xy[1:] != xy[:-1], axis=1, out=new[1:])
    return xy[new]


def _kth_neighbour_median(distinct: np.ndarray, k: int) -> float:
    """Median distance from each distinct location to its k-th nearest other one (metres)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(distinct, balanced_tree=False, compact_nodes=False)
    # Queried in the tree's own leaf order (neighbouring queries share nodes: faster); the
    # median does not depend on the order.
    dist, _ = tree.query(distinct[tree.indices], k=k + 1, workers=-1)
    return float(np.median(dist[:, k]))


def choose_cell_size(xy: np.ndarray, study_area_m2: float) -> Choice:
    """Cell size at patrol scale from the spacing of the incidents in the area analysed.

    The median distance from each distinct incident location to its nearest other one (as
    ArcGIS Optimized Hot Spot Analysis starts from), kept within ``AUTO_CELL_RANGE_M``
    (50–250 m: a cell is a block, not an address and not a district) and rounded up to a
    "nice" number of metres. Only the incidents matter, never the extent of a boundary
    file. If the area would get more than ``MAX_AUTO_CELLS`` cells even at 250 m, the cell
    is enlarged until it fits, with a note.

    Parameters
    ----------
    xy : (n, 2) array of float
        Incident coordinates (metres) inside the area analysed.
    study_area_m2 : float
        Area of the study area in m² (only for the cell cap).

    Returns
    -------
    Choice

    Examples
    --------
    >>> xy = np.array([[0, 0], [60, 0], [0, 60], [60, 60], [2000, 2000]], float)
    >>> choose_cell_size(xy, 4e6).value  # median nearest-neighbour distance 60 m → 75 m
    75.0
    >>> choose_cell_size(xy / 10, 4e6).value  # 6 m apart: never below 50 m
    50.0
    """
    low, high = AUTO_CELL_RANGE_M
    distinct = _distinct_rows(np.asarray(xy, dtype=float).reshape(-1, 2))
    if len(distinct) >= 2:
        nn = _kth_neighbour_median(distinct, 1)
        basis = f"medianavståndet till närmaste annan händelseplats är {nn:.0f} m"
        raw = min(max(nn, low), high)
        bounds_note = (
            f", hållet inom patrullskalan {low:.0f}–{high:.0f} m ({raw:.0f} m)" if raw != nn else ""
        )
    else:
        raw = 100.0
        basis = "för få olika händelseplatser för att mäta avstånd; 100 m (ett kvarter)"
        bounds_note = ""
    size = min(_nice_metres(raw), high)
    cap_note = ""
    while study_area_m2 / size**2 > MAX_AUTO_CELLS:
        size = _nice_metres(size * 1.01)
        cap_note = (
            f"; förstorad över {high:.0f} m så att rutnätet får högst "
            f"{MAX_AUTO_CELLS:,} rutor (området är mycket stort: välj mindre områden för "
            "patrullskala)"
        ).replace(",", " ")
    reason = (
        f"Automatisk rutstorlek {size:g} m: {basis}{bounds_note}, avrundat uppåt till jämna "
        f"meter{cap_note}."
    )
    return Choice("cell_size_m", float(size), reason)


def _moran_z(values: np.ndarray, mask: np.ndarray, kernel: np.ndarray) -> float:
    """Global Moran's I z-score (normality) with binary weights, self excluded."""
    y = values[mask]
    n = y.size
    dev = np.where(mask, values - y.mean(), 0.0)
    m2 = float((dev[mask] ** 2).sum())
    k = np.round(band_sums(mask.astype(float), kernel)[mask]) - 1  # neighbours, self excluded
    s0 = float(k.sum())
    if n < 3 or m2 == 0 or s0 == 0:
        return float("nan")
    lag = band_sums(dev, kernel)[mask] - dev[mask]
    moran = n / s0 * float((dev[mask] * lag).sum()) / m2
    s1 = 2 * s0  # symmetric binary weights: ½ Σ (w_ij + w_ji)² = 2 S0
    s2 = float((4 * k**2).sum())  # Σ_i (row sum + column sum)²
    expected = -1.0 / (n - 1)
    variance = (n**2 * s1 - n * s2 + 3 * s0**2) / ((n**2 - 1) * s0**2) - expected**2
    return (moran - expected) / math.sqrt(variance) if variance > 0 else float("nan")


def _moran_zs(values: np.ndarray, mask: np.ndarray, radii: list[int]) -> list[float]:
    """`_moran_z` for every radius in ``radii`` (cells), sharing the lattice's FFTs.

    The lattice's two spectra (mask and deviations) are taken once; each band then costs
    its kernel's spectrum and two inverse transforms instead of two whole convolutions.
    """
    from scipy import fft

    mask = np.asarray(mask, dtype=bool)
    y = values[mask]
    n = y.size
    if n < 3 or not radii:
        return [float("nan")] * len(radii)
    dev = np.where(mask, values - y.mean(), 0.0)
    m2 = float((dev[mask] ** 2).sum())
    widest = max(radii)
    fast = [fft.next_fast_len(d + 2 * widest, True) for d in mask.shape]
    spec_mask = fft.rfft2(mask.astype(float), fast)
    spec_dev = fft.rfft2(dev, fast)
    nrows, ncols = mask.shape
    out = []
    for r in radii:
        spec_k = fft.rfft2(disk_kernel(r), fast)
        k = np.round(fft.irfft2(spec_mask * spec_k, fast)[r : r + nrows, r : r + ncols][mask]) - 1
        s0 = float(k.sum())
        if m2 == 0 or s0 == 0:
            out.append(float("nan"))
            continue
        lag = fft.irfft2(spec_dev * spec_k, fast)[r : r + nrows, r : r + ncols][mask] - dev[mask]
        moran = n / s0 * float((dev[mask] * lag).sum()) / m2
        s1 = 2 * s0
        s2 = float((4 * k**2).sum())
        expected = -1.0 / (n - 1)
        variance = (n**2 * s1 - n * s2 + 3 * s0**2) / ((n**2 - 1) * s0**2) - expected**2
        out.append((moran - expected) / math.sqrt(variance) if variance > 0 else float("nan"))
    return out


def choose_band(
    values: np.ndarray,
    mask: np.ndarray,
    cell_size_m: float,
    *,
    xy: np.ndarray | None = None,
    max_band_m: float = MAX_AUTO_BAND_M,
) -> Choice:
    """Distance band at the first peak of spatial autocorrelation, within patrol scale.

    Global Moran's I (binary weights) is computed for bands of 1, 2, ... cell widths up to
    ``max_band_m`` (1 km: a patrol's neighbourhood, never the district) and at most half the
    area's shorter side; the band is the first distance where its z-score **peaks**: higher
    than at the band before and at the band after, and significant (z > 1.96), as ArcGIS's
    Incremental Spatial Autocorrelation reads it. The last band tried is never a peak (there
    is nothing after it to compare with).

    On real incident data Moran's I usually keeps rising with distance (clustering at every
    scale), so there is no peak. Then the band is the **median distance from each incident
    location to its 10th nearest other location** (``FALLBACK_BAND_NEIGHBOURS``): the
    distance within which a typical incident has ten others, i.e. the local scale of the
    pattern itself. It is rounded to whole cells and kept between 2 cell widths and
    ``max_band_m``. Without ``xy`` (or with too few locations) the fallback is 2 cell widths.

    Parameters
    ----------
    values, mask : 2-D arrays
        Cell values and the cells inside the study area.
    cell_size_m : float
    xy : (n, 2) array of float, optional
        Incident coordinates, for the fallback.
    max_band_m : float
        Widest band tried (metres).

    Returns
    -------
    Choice
        ``band_m`` with a Swedish reason that says whether a peak was found.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> v = rng.poisson(0.2, (40, 40)).astype(float)
    >>> v[10:14, 10:14] += 6  # one 4 × 4 hot block: autocorrelation peaks at a short band
    >>> c = choose_band(v, np.ones((40, 40), bool), 100.0)
    >>> c.value <= 400, "första topp" in c.reason
    (True, True)
    """
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("The grid has no cells inside the study area.")
    short = min(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    widest = max(int(math.floor(max_band_m / cell_size_m + 1e-9)), MIN_AUTO_BAND_CELLS)
    tried = [r for r in range(1, widest + 1) if r <= max(short / 2, MIN_AUTO_BAND_CELLS)]
    zs = _moran_zs(values, mask, tried)
    peak = None
    for i in range(len(zs) - 1):  # the last band has no band after it: never a peak
        before = zs[i - 1] if i > 0 else -np.inf
        if np.isfinite(zs[i]) and zs[i] > 1.96 and zs[i] > before and zs[i] > zs[i + 1]:
            peak = i
            break
    span = f"1–{tried[-1]} rutor ({cell_size_m:g}–{tried[-1] * cell_size_m:g} m)"
    if peak is not None:
        radius = tried[peak]
        reason = (
            f"Automatiskt avståndsband {radius * cell_size_m:g} m ({radius} rutor): där den "
            f"rumsliga autokorrelationen (Morans I, z = {zs[peak]:.1f}) har sin första topp bland "
            f"band på {span}."
        )
        return Choice("band_m", float(radius * cell_size_m), reason)
    if all(np.isfinite(z) for z in zs) and len(zs) > 1 and all(np.diff(zs) > 0):
        shape = "stiger med avståndet utan topp (klustring på alla skalor, vanligt för brott)"
    else:
        shape = "har ingen tydlig topp"
    distinct = None if xy is None else _distinct_rows(np.asarray(xy, float).reshape(-1, 2))
    k = FALLBACK_BAND_NEIGHBOURS
    if distinct is not None and len(distinct) > k:
        reach = _kth_neighbour_median(distinct, k)
        radius = int(round(reach / cell_size_m))
        radius = min(max(radius, MIN_AUTO_BAND_CELLS), widest)
        basis = (
            f"avståndet inom vilket en typisk händelseplats har {k} andra ({reach:.0f} m), "
            f"avrundat till hela rutor och hållet mellan {MIN_AUTO_BAND_CELLS} rutor och "
            f"{widest * cell_size_m:g} m"
        )
    else:
        radius = MIN_AUTO_BAND_CELLS
        basis = f"{MIN_AUTO_BAND_CELLS} rutor (12 grannar och rutan själv)"
    reason = (
        f"Automatiskt avståndsband {radius * cell_size_m:g} m ({radius} rutor): den rumsliga "
        f"autokorrelationen (Morans I) {shape} bland band på {span}, så bandet är {basis}."
    )
    return Choice("band_m", float(radius * cell_size_m), reason)


# --- the whole cell analysis -----------------------------------------------------------------


def _point_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    """x, y per row: the point itself, or a point on the surface of a polygon or line.

    Rows without a geometry (missing or empty) get NaN and are reported as outside.
    """
    if len(frame) == 0:
        return np.zeros((0, 2))
    geoms = np.array(frame.geometry.array, dtype=object)  # a copy: filled in below
    geoms[shapely.is_empty(geoms)] = None  # GEOS cannot take x of an empty point
    not_point = shapely.get_type_id(geoms) > 0
    if not_point.any():
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])


def _bin(
    lattice: _Lattice,
    mask: np.ndarray,
    study,
    xy: np.ndarray,
    weights: np.ndarray,
    edge: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Count and sum points per lattice cell; returns (counts, sums, points outside).

    A point counts only where the study area holds it: in an ``edge`` cell (one the area's
    boundary cuts) a point in the part of the square outside the area is outside, not in
    the clipped cell.
    """
    counts = np.zeros(mask.shape)
    sums = np.zeros(mask.shape)
    if len(xy) == 0:
        return counts, sums, 0
    located = np.isfinite(xy).all(axis=1)
    off_grid = (lattice.x0 - lattice.cell_size_m, lattice.y0 - lattice.cell_size_m)
    xy = np.where(located[:, None], xy, off_grid)  # no place: one cell off the grid
    row, col = lattice.cell_of(xy[:, 0], xy[:, 1])
    on_grid = located & (row >= 0) & (row < lattice.nrows) & (col >= 0) & (col < lattice.ncols)
    ok = on_grid.copy()
    ok[on_grid] = mask[row[on_grid], col[on_grid]]
    if edge is not None and ok.any():
        at_edge = np.flatnonzero(ok)
        at_edge = at_edge[edge[row[at_edge], col[at_edge]]]
        if at_edge.size:
            shapely.prepare(study)
            ok[at_edge] = shapely.intersects_xy(study, xy[at_edge, 0], xy[at_edge, 1])
    # A point exactly on the area's outer (top/right) edge lands in the cell beyond it: move
    # it to the cell below/left when the area covers it.
    lost = np.flatnonzero(~ok)
    lost = lost[located[lost]]
    if lost.size:
        shapely.prepare(study)
        covered = shapely.intersects_xy(study, xy[lost, 0], xy[lost, 1])
        for i in lost[covered]:
            x, y = xy[i]
            r = int(math.ceil((y - lattice.y0) / lattice.cell_size_m)) - 1
            c = int(math.ceil((x - lattice.x0) / lattice.cell_size_m)) - 1
            for rr, cc in ((row[i], c), (r, col[i]), (r, c)):
                if 0 <= rr < lattice.nrows and 0 <= cc < lattice.ncols and mask[rr, cc]:
                    row[i], col[i], ok[i] = rr, cc, True
                    break
    flat = row[ok] * lattice.ncols + col[ok]
    size = lattice.nrows * lattice.ncols
    counts = np.bincount(flat, minlength=size).astype(float).reshape(mask.shape)
    sums = np.bincount(flat, weights=weights[ok], minlength=size).reshape(mask.shape)
    return counts, sums, int((~ok).sum())


def _permutation_p(
    values: np.ndarray, sums: np.ndarray, counts: np.ndarray, permutations: int, rng
) -> np.ndarray:
    """Pseudo p-values by conditional randomisation (esda's ``p_sim``).

    For each cell, its own value stays and ``k − 1`` values drawn without replacement from
    the other cells stand in for its neighbours. ``p = (min(larger, P − larger) + 1) /
    (P + 1)`` where ``larger`` counts draws with a sum ≥ the observed one (as esda).
    """
    n = values.size
    k_max = int(counts.max()) - 1
    if n < 2 or k_max < 1:
        return np.full(n, np.nan)
    # One draw of k_max ids among n − 1 "others" per permutation, shared by all cells and
    # shifted past the cell itself (esda's crand scheme).
    draws = np.stack([rng.choice(n - 1, size=k_max, replace=False) for _ in range(permutations)])
    p = np.empty(n)
    for i in range(n):
        k = int(counts[i]) - 1
        ids = draws[:, :k]
        ids = ids + (ids >= i)
        simulated = values[i] + values[ids].sum(axis=1)
        larger = int((simulated >= sums[i] - 1e-9).sum())
        larger = min(larger, permutations - larger)
        p[i] = (larger + 1) / (permutations + 1)
    return p


def gistar_cells(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    cell_size_m: float | None = None,
    band_m: float | None = None,
    dialogue: gpd.GeoDataFrame | None = None,
    dialogue_weight: float = schema.DEFAULT_DIALOGUE_WEIGHT,
    permutations: int = 0,
    random_state: int | np.random.Generator | None = None,
    fdr: bool = True,
    alpha_levels: tuple[float, ...] = (0.10, 0.05, 0.01),
    origin: tuple[float, float] | None = None,
    cells: str = "all",
) -> GridResult:
    """Getis-Ord Gi* hotspots on a square grid over the study area.

    Each cell's analysed value is ``y = weight + dialogue_weight × dialogue_count``: the
    weighted sum of its incidents plus the dialogue mentions inside it, each worth
    ``dialogue_weight`` of an incident (a mention is evidence of felt unsafety, not a crime).
    Empty cells take part with ``y = 0``. Neighbours are the cells whose lattice centres lie
    within ``band_m`` (binary weights, the cell itself included), so ``gi_z`` equals
    ``esda.G_Local(y, w, transform="B", star=True).Zs`` for ``w`` a libpysal
    ``DistanceBand(centres, band_m)``.

    Parameters
    ----------
    incidents : GeoDataFrame
        Points (EPSG:3006, or reprojected), optional ``weight`` (1.0 when absent).
    areas : GeoDataFrame
        Boundaries with ``area_id``; the study area is their union.
    cell_size_m, band_m : float, optional
        Chosen from the data when None (see :func:`choose_cell_size`, :func:`choose_band`).
        ``band_m`` must be at least ``cell_size_m`` (else a cell has no neighbours).
    dialogue : GeoDataFrame, optional
        Dialogue places; polygons count at a point on their surface; ``mentions`` (1 when
        absent) is the number of mentions.
    dialogue_weight : float
        Worth of one mention relative to one incident (≥ 0).
    permutations : int
        If > 0, also ``gi_p_sim`` by conditional randomisation (grids ≤ 50 000 cells).
    random_state : int or numpy Generator, optional
        Seed for the permutations.
    fdr : bool
        Correct the bins for multiple testing (Benjamini–Hochberg per confidence level).
    alpha_levels : tuple of float
        Significance levels of bins 1, 2, 3.
    origin : (x, y), optional
        Lattice corner, see :func:`make_grid`.
    cells : {"all", "occupied"}
        Which cells the result holds. Every cell takes part in the statistic either way
        (empty cells included, FDR over all of them); ``"occupied"`` returns only the cells
        with incidents or dialogue mentions or a significant bin, so a large, mostly empty
        area (a northern kommun) costs arrays, not a polygon per empty cell.

    Returns
    -------
    GridResult
        ``cells`` with ``cell_id, area_id, count, weight, dialogue_count, gi_z, gi_p,
        gi_bin`` (+ ``gi_p_sim``), ``lattice_row``, ``lattice_col``, ``geometry``;
        ``choices`` for every parameter; ``messages`` in Swedish. ``gi_z``/``gi_p`` are NaN
        where undefined (all cells equal, e.g. no incidents), and then ``gi_bin`` is 0.

    Raises
    ------
    TypeError, ValueError
        For frames of the wrong type or without CRS, missing columns, or bad parameters.

    Examples
    --------
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:3006")
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([450.0] * 8, [450.0] * 8),
    ...     crs="EPSG:3006")
    >>> r = gistar_cells(pts, areas, cell_size_m=100, band_m=150)
    >>> # 100 cells, 8 incidents in one: x̄ = 0.08, s = √(64/100 − 0.08²) = 0.796; the 9
    >>> # cells whose 3 × 3 neighbourhood holds the hot cell have S = 8, k = 9:
    >>> # z = (8 − 9·0.08) / (0.796 · √((100·9 − 81)/99)) = 3.18, p = 0.0015
    >>> cells = r.cells.set_index("cell_id")
    >>> round(float(cells.loc["E400N400", "gi_z"]), 2), int(cells["count"].sum())
    (3.18, 8)
    >>> # FDR: 9 tests at p = 0.0015 pass 95 % (≤ 9·0.05/100) but not 99 % (> 9·0.01/100)
    >>> cells["gi_bin"].value_counts().sort_index().to_dict()
    {0: 91, 2: 9}
    """
    incidents = _check_frame(incidents, "incidents")
    areas = _check_frame(areas, "areas", need=(schema.AREA_ID,))
    if dialogue is not None:
        dialogue = _check_frame(dialogue, "dialogue")
    if not (isinstance(dialogue_weight, int | float) and dialogue_weight >= 0):
        raise ValueError(f"`dialogue_weight` was {dialogue_weight!r}; expected a number ≥ 0.")
    if not (isinstance(permutations, int | np.integer) and permutations >= 0):
        raise ValueError(f"`permutations` was {permutations!r}; expected an integer ≥ 0.")
    if len(areas) == 0:
        raise ValueError("`areas` is empty: a grid needs a study area.")

    study = _study_area(areas)
    xy = _point_xy(incidents)
    weights = (
        incidents[schema.WEIGHT].to_numpy(dtype=float)
        if schema.WEIGHT in incidents.columns
        else np.ones(len(incidents))
    )
    choices: list[Choice] = []
    messages: list[str] = []

    inside = None
    if cell_size_m is None or band_m is None:
        shapely.prepare(study)
        # For a point, "intersects" is "covers"; the _xy form builds no point objects.
        located = np.isfinite(xy).all(axis=1) if len(xy) else np.zeros(0, bool)
        inside = np.zeros(len(xy), bool)
        inside[located] = shapely.intersects_xy(study, xy[located, 0], xy[located, 1])
    if cell_size_m is None:
        choice = choose_cell_size(xy[inside], study.area)
    else:
        choice = Choice(
            "cell_size_m", float(cell_size_m), f"Rutstorlek {cell_size_m:g} m, vald av användaren."
        )
    choices.append(choice)
    size = choice.value

    grid = _grid_mask(study, size, origin)
    lattice = grid.lattice
    shape = (lattice.nrows, lattice.ncols)
    mask, edge = grid.keep.reshape(shape), grid.edge.reshape(shape)
    counts, sums, outside = _bin(lattice, mask, study, xy, weights, edge)
    if outside:
        messages.append(
            f"{outside} händelse(r) ligger utanför analysområdet eller saknar plats och ingår inte "
            "i rutnätet."
        )
    dialogue_grid = np.zeros(mask.shape)
    if dialogue is not None and len(dialogue):
        mentions = (
            dialogue[schema.MENTIONS].fillna(1).to_numpy(dtype=float)
            if schema.MENTIONS in dialogue.columns
            else np.ones(len(dialogue))
        )
        _, dialogue_grid, d_outside = _bin(
            lattice, mask, study, _point_xy(dialogue), mentions, edge
        )
        if d_outside:
            messages.append(
                f"{d_outside} dialogplats(er) ligger utanför analysområdet eller saknar plats."
            )
    values = sums + dialogue_weight * dialogue_grid

    if band_m is None:
        band_choice = choose_band(values, mask, size, xy=xy[inside])
    else:
        if not (isinstance(band_m, int | float) and band_m >= size):
            raise ValueError(
                f"`band_m` was {band_m!r}; expected at least the cell size ({size:g} m), "
                "otherwise no cell has a neighbour."
            )
        band_choice = Choice(
            "band_m", float(band_m), f"Avståndsband {band_m:g} m, valt av användaren."
        )
    choices.append(band_choice)
    radius = band_choice.value / size

    z_grid = gistar_lattice(values, mask, radius)
    flat = np.flatnonzero(grid.keep)
    analysed = len(flat)
    z = z_grid.ravel()[flat]
    p = two_sided_p(z)
    bins = confidence_bins(z, p, alpha_levels=alpha_levels, fdr=fdr)
    p_sim = None
    if permutations:
        if analysed > MAX_PERMUTATION_CELLS:
            raise ValueError(
                f"`permutations` needs a grid of at most {MAX_PERMUTATION_CELLS} cells; this one "
                f"has {analysed}. Use a larger cell size or permutations=0."
            )
        kernel = disk_kernel(radius)
        band_total = band_sums(np.where(mask, values, 0.0), kernel).ravel()[flat]
        band_count = np.round(band_sums(mask.astype(float), kernel).ravel()[flat])
        rng = np.random.default_rng(random_state)
        p_sim = _permutation_p(values.ravel()[flat], band_total, band_count, permutations, rng)
    if cells not in ("all", "occupied"):
        raise ValueError(f"`cells` was {cells!r} but is expected to be 'all' or 'occupied'")
    if cells == "occupied":
        chosen = (counts.ravel()[flat] > 0) | (dialogue_grid.ravel()[flat] > 0) | (bins != 0)
        flat, z, p, bins = flat[chosen], z[chosen], p[chosen], bins[chosen]
        p_sim = None if p_sim is None else p_sim[chosen]
    frame = _cells_frame(grid, flat, areas)
    out = frame[[schema.CELL_ID, schema.AREA_ID]].copy()
    out[schema.COUNT] = counts.ravel()[flat].astype(np.int64)
    out[schema.WEIGHT] = sums.ravel()[flat]
    out[schema.DIALOGUE_COUNT] = dialogue_grid.ravel()[flat]
    out[schema.GI_Z] = z
    out[schema.GI_P] = p
    out[schema.GI_BIN] = bins
    if p_sim is not None:
        out[GI_P_SIM] = p_sim
    out[LATTICE_ROW] = frame[LATTICE_ROW].to_numpy()
    out[LATTICE_COL] = frame[LATTICE_COL].to_numpy()
    out = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=schema.CRS_METRIC)
    out = out.reset_index(drop=True)

    choices.append(
        Choice(
            "dialogue_weight",
            float(dialogue_weight),
            f"Ett omnämnande i medborgardialogen väger {f'{dialogue_weight:g}'.replace('.', ',')} "
            "av en händelse (upplevd otrygghet, inte brott).",
        )
    )
    choices.append(
        Choice(
            "fdr",
            float(bool(fdr)),
            "Signifikansnivåerna är korrigerade för många samtidiga test (FDR, Benjamini–Hochberg)."
            if fdr
            else "Ingen korrigering för många samtidiga test (FDR av).",
        )
    )
    undefined = int(np.isnan(z_grid.ravel()[grid.keep]).sum())
    if undefined:
        messages.append(
            f"Gi* är odefinierat i {undefined} ruta(or) (t.ex. inga händelser alls, eller alla "
            "rutor lika): de visas utan z-värde och som ej signifikanta."
        )
    return GridResult(out, choices, messages, analysed)


#: An area with fewer incidents than this is not analysed on its own (too few for a
#: hotspot analysis: ArcGIS's Optimized Hot Spot Analysis asks for at least 30 as well).
MIN_AREA_INCIDENTS = 30


def few_incidents_message(names, counts, min_incidents: int = MIN_AREA_INCIDENTS) -> str:
    """The note listing areas left out for holding fewer than ``min_incidents`` incidents.

    Examples
    --------
    >>> print(few_incidents_message(["B"], [3]))
    1 område har färre än 30 händelser i urvalet och analyseras inte: B (3).
    """
    names, counts = list(names), list(counts)
    listed = ", ".join(f"{n} ({c})" for n, c in zip(names[:10], counts[:10], strict=True))
    more = f" och {len(names) - 10} till" if len(names) > 10 else ""
    word = "område har" if len(names) == 1 else "områden har"
    return (
        f"{len(names)} {word} färre än {min_incidents} händelser i urvalet och analyseras "
        f"inte: {listed}{more}."
    )


def gistar_by_area(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    cell_size_m: float | None = None,
    band_m: float | None = None,
    dialogue: gpd.GeoDataFrame | None = None,
    dialogue_weight: float = schema.DEFAULT_DIALOGUE_WEIGHT,
    permutations: int = 0,
    random_state: int | np.random.Generator | None = None,
    fdr: bool = True,
    alpha_levels: tuple[float, ...] = (0.10, 0.05, 0.01),
    min_incidents: int = MIN_AREA_INCIDENTS,
    progress=None,
    cells: str = "all",
) -> GridResult:
    """Gi* for each area on its own grid, at its own scale, with its own FDR correction.

    Each area that holds at least ``min_incidents`` incidents gets :func:`gistar_cells`
    over that area alone: the cell size and band are chosen from *its* incidents (unless
    given), and the confidence bins are corrected over *its* cells. An incident belongs to
    the first area in ``areas`` that covers it (:func:`geo.spatial.locate_points`), so pass
    non-overlapping areas (one level). Areas with fewer incidents are listed in a message,
    not analysed.

    Parameters
    ----------
    incidents, areas, cell_size_m, band_m, dialogue, dialogue_weight, permutations,
    random_state, fdr, alpha_levels
        As :func:`gistar_cells`; ``cell_size_m`` and ``band_m``, when given, apply to every
        area.
    min_incidents : int
        Fewest incidents for an area to be analysed (default ``MIN_AREA_INCIDENTS``).
    progress : callable, optional
        Wraps the iterable of areas (e.g. ``tqdm.tqdm``) for a progress bar.
    cells : {"all", "occupied"}
        Which cells the result holds (:func:`gistar_cells`).

    Returns
    -------
    GridResult
        The cells of every analysed area (``area_id`` set), each area's ``cell_size_m`` and
        ``band_m`` choices with their ``area_id``, and the notes.

    Examples
    --------
    >>> areas = gpd.GeoDataFrame({"area_id": ["a", "b"], "area_name": ["A", "B"]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(5000, 0, 6000, 1000)],
    ...     crs="EPSG:3006")
    >>> rng = np.random.default_rng(1)
    >>> xy = np.vstack([rng.normal(300, 20, (40, 2)), rng.uniform(0, 1000, (20, 2)),
    ...                 [[5500, 500]] * 3])  # 60 incidents in A, 3 in B
    >>> pts = gpd.GeoDataFrame(geometry=shapely.points(xy), crs="EPSG:3006")
    >>> r = gistar_by_area(pts, areas)
    >>> sorted(set(r.cells["area_id"])), [c.area_id for c in r.choices][:2]
    (['a'], ['a', 'a'])
    >>> print(r.messages[0])
    1 område har färre än 30 händelser i urvalet och analyseras inte: B (3).
    """
    from geo.spatial import locate_points

    incidents = _check_frame(incidents, "incidents")
    areas = _check_frame(areas, "areas", need=(schema.AREA_ID,))
    if dialogue is not None:
        dialogue = _check_frame(dialogue, "dialogue")
    if not (isinstance(min_incidents, int | np.integer) and min_incidents >= 1):
        raise ValueError(f"`min_incidents` was {min_incidents!r}; expected an integer ≥ 1.")
    if len(areas) == 0:
        raise ValueError("`areas` is empty: a grid needs a study area.")
    geoms = areas.geometry.values
    xy = _point_xy(incidents)
    where = locate_points(xy[:, 0], xy[:, 1], geoms)
    d_where = None
    if dialogue is not None and len(dialogue):
        dxy = _point_xy(dialogue)
        d_where = locate_points(dxy[:, 0], dxy[:, 1], geoms)
    held = np.bincount(where[where >= 0], minlength=len(areas))
    names = (
        areas[schema.AREA_NAME] if schema.AREA_NAME in areas.columns else areas[schema.AREA_ID]
    ).astype(str)
    few = [i for i in range(len(areas)) if 0 < held[i] < min_incidents]
    todo = [i for i in range(len(areas)) if held[i] >= min_incidents]
    rng = np.random.default_rng(random_state) if permutations else None
    parts, choices, messages = [], [], []
    analysed = 0
    steps = progress(todo) if progress is not None else todo
    for i in steps:
        area = areas.iloc[[i]]
        aid = str(area[schema.AREA_ID].iloc[0])
        result = gistar_cells(
            incidents.iloc[np.flatnonzero(where == i)],
            area,
            cell_size_m=cell_size_m,
            band_m=band_m,
            dialogue=None if d_where is None else dialogue.iloc[np.flatnonzero(d_where == i)],
            dialogue_weight=dialogue_weight,
            permutations=permutations,
            random_state=rng,
            fdr=fdr,
            alpha_levels=alpha_levels,
            cells=cells,
        )
        analysed += result.cells_analysed
        parts.append(result.cells.assign(**{schema.AREA_ID: aid}))
        for c in result.choices:
            if c.name in ("cell_size_m", "band_m"):
                choices.append(Choice(c.name, c.value, c.reason, aid))
            elif not any(o.name == c.name for o in choices):
                choices.append(c)
        if len(todo) > 1:
            messages += [f"{names.iloc[i]}: {m}" for m in result.messages]
        else:
            messages += list(result.messages)
    if few:
        messages.insert(0, few_incidents_message(names.iloc[few], held[few], min_incidents))
    outside = int((where < 0).sum())
    if outside:
        messages.append(
            f"{outside} händelse(r) ligger utanför områdena eller saknar plats och ingår inte "
            "i rutnäten."
        )
    if parts:
        frame = pd.concat(parts, ignore_index=True)
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=schema.CRS_METRIC)
    else:
        frame = gistar_cells(
            incidents.iloc[:0], areas.iloc[[0]], cell_size_m=cell_size_m or 100.0, band_m=band_m
        ).cells.iloc[:0]
    return GridResult(frame, choices, messages, analysed)
