"""Zones: hotspots as named places people act on, and how well they capture incidents.

This module owns turning significant Gi* cells or density clusters into **zones** (one
polygon each, inside one area), describing them (rank, name, counts by category, dialogue
mentions, peak hours, hit rate, PAI) and evaluating a set of zones per area
(hit rate, PAI, concentration curve). It also lists the **perception gap**: places felt as
unsafe with few incidents, and places with many incidents nobody named.

Definitions (docs/zones.md):

* ``score`` = the weighted incident count inside the zone plus
  ``schema.DEFAULT_DIALOGUE_WEIGHT`` × the dialogue mentions inside it (a mention is
  evidence of felt unsafety, not a crime); zones are ranked by it within their area.
* ``share_of_area_incidents`` = n / N, the zone's incidents over its area's incidents.
* ``hit_rate`` = the share of the area's incidents inside the zones ranked 1..rank
  (cumulative, the hit-rate curve); for rank 1 it equals the share.
* ``pai`` = (n / N) / (a / A) (Chainey, Tompson & Uhlig 2008), a and A in km².

Incidents are counted by point in polygon (a point on a zone's edge counts in it).
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo import schema
from geo.grid import LATTICE_COL, LATTICE_ROW
from geo.timewin import DAY_NAMES, has_clock_times, hour_of_week, peak_hours

#: A gazetteer place within this distance (metres) of a zone names it outright.
NAME_WITHIN_M = 400.0
#: Beyond NAME_WITHIN_M but within this distance the name says how far and which way from
#: the place ("700 m nordost om Riddarplatsen").
NEAR_WITHIN_M = 1500.0
#: Largest zone by default (km²): about 500 × 500 m, what one patrol can cover.
DEFAULT_MAX_ZONE_KM2 = 0.25
#: A zone reaches at most this factor × the side of a square of the largest zone area from
#: the cell it grew from, so a zone stays compact rather than snaking along a street.
REACH_FACTOR = 1.0
#: Compass words (Swedish) for the eight directions, starting north, clockwise.
COMPASS = ("norr", "nordost", "öster", "sydost", "söder", "sydväst", "väster", "nordväst")
#: Default buffer around a cluster's hull (metres).
DEFAULT_BUFFER_M = 50.0
#: Up to this many areas, points are placed area by area on coordinates; beyond, by STRtree.
_AREAS_BY_LOOP = 64

#: perception_gap kinds (Swedish, shown to users).
GAP_FELT = "upplevt otryggt, få brott"
GAP_UNNAMED = "många brott, ingen nämnde platsen"
GAP_KIND = "kind"
#: A dialogue place within this distance (metres) of a hot cell counts as naming it.
GAP_NAMED_WITHIN_M = 150.0

SHARE_OF_AREA_KM2 = "share_of_area"
SHARE_OF_INCIDENTS = "share_of_incidents"

ZONE_COLUMNS = (
    schema.ZONE_ID,
    schema.AREA_ID,
    schema.AREA_NAME,
    schema.RANK,
    schema.NAME,
    schema.SCORE,
    schema.INCIDENT_COUNT,
    schema.DIALOGUE_MENTIONS,
    schema.SHARE_OF_AREA,
    schema.HIT_RATE,
    schema.PAI,
    schema.PEAK_HOURS,
    schema.AREA_KM2,
    *(f"n_{c}" for c in schema.CATEGORIES),
)


def _category_column(category: str) -> str:
    return f"n_{category}"


def _check_gdf(frame, name: str, need: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"`{name}` was {type(frame).__name__} but is expected to be a GeoDataFrame")
    if frame.crs is None or not frame.crs.is_projected:
        raise ValueError(f"`{name}` CRS was {frame.crs} but is expected to be metric (EPSG:3006)")
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ValueError(f"`{name}` lacks the column(s) {missing}; it has {list(frame.columns)}")
    return frame


_INT_COLUMNS = {schema.RANK, schema.INCIDENT_COUNT, schema.DIALOGUE_MENTIONS} | {
    f"n_{c}" for c in schema.CATEGORIES
}
_FLOAT_COLUMNS = {schema.SCORE, schema.SHARE_OF_AREA, schema.HIT_RATE, schema.PAI, schema.AREA_KM2}


def _to_metric(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``frame`` in EPSG:3006, reprojected with a warning when it came in another CRS.

    Comparing coordinates of two projected CRSs (SWEREF 99 TM and Stockholm's SWEREF 99
    18 00) would silently find nothing in common; reprojecting is the fix.
    """
    if frame.crs is not None and frame.crs.equals(schema.CRS_METRIC):
        return frame
    warnings.warn(
        f"`{name}` was in {frame.crs.to_string()}; reprojected to {schema.CRS_METRIC}.",
        UserWarning,
        stacklevel=3,
    )
    return frame.to_crs(schema.CRS_METRIC)


def _empty_zones(crs) -> gpd.GeoDataFrame:
    cols = {
        c: pd.Series(
            dtype="int64" if c in _INT_COLUMNS else "float64" if c in _FLOAT_COLUMNS else object
        )
        for c in ZONE_COLUMNS
    }
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _members(polys: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Indices (ascending) of the points inside (or on the edge of) each polygon.

    The points are sorted by x once; each polygon then looks only at the slice of points
    within its x-range, so many zones over a million points stay cheap.
    """
    order = np.argsort(x, kind="stable")
    xs = x[order]
    out = []
    for poly in polys:
        x0, y0, x1, y1 = poly.bounds
        cand = order[np.searchsorted(xs, x0, "left") : np.searchsorted(xs, x1, "right")]
        cand = np.sort(cand[(y[cand] >= y0) & (y[cand] <= y1)])
        shapely.prepare(poly)
        out.append(cand[shapely.intersects_xy(poly, x[cand], y[cand])])
    return out


#: Directions of the 8 extreme points per group, counter-clockwise (see _maybe_on_hull).
_OCTAGON = np.array([(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)], float)


def _maybe_on_hull(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """False for points that cannot be a vertex of their group's convex hull.

    Akl–Toussaint: each group's extreme points in 8 directions span an octagon inside its
    hull; a point more than 1 mm inside every edge of it is not a hull vertex. The hull of
    the points left is the hull of all (fewer points for GEOS to take).

    Examples
    --------
    >>> x = np.array([0.0, 10, 10, 0, 5]); y = np.array([0.0, 0, 10, 10, 5])
    >>> _maybe_on_hull(x, y, np.zeros(5, int), 1).tolist()  # the centre goes
    [True, True, True, True, False]
    """
    order = np.argsort(group, kind="stable")
    gs = group[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    extremes = np.empty((n_groups, len(_OCTAGON)), dtype=np.intp)
    for j, (a, b) in enumerate(_OCTAGON):
        value = a * x[order] + b * y[order]
        top = np.maximum.reduceat(value, starts)
        at = np.flatnonzero(value == top[gs])
        extremes[gs[at], j] = order[at]
    vx, vy = x[extremes], y[extremes]  # (groups, 8) octagon vertices, counter-clockwise
    interior = np.ones(len(x), dtype=bool)
    for j in range(len(_OCTAGON)):
        k = (j + 1) % len(_OCTAGON)
        ex, ey = (vx[:, k] - vx[:, j])[group], (vy[:, k] - vy[:, j])[group]
        length = np.hypot(ex, ey)
        cross = ex * (y - vy[group, j]) - ey * (x - vx[group, j])
        interior &= (length == 0) | (cross > 1e-3 * length)
    keep = ~interior
    keep[extremes.ravel()] = True
    return keep


def _group_hulls(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Convex hull of the points of each group ``0..n_groups-1`` (every group non-empty).

    One vectorised call: the points become one multipoint per group straight from their
    coordinates (no point objects), then GEOS takes the hulls.

    Examples
    --------
    >>> h = _group_hulls(np.array([0.0, 2, 0, 5]), np.array([0.0, 0, 2, 5]),
    ...     np.array([0, 0, 0, 1]), 2)
    >>> [g.geom_type for g in h], float(h[0].area)
    (['Polygon', 'Point'], 2.0)
    """
    if n_groups == 0:
        return np.empty(0, dtype=object)
    keep = _maybe_on_hull(x, y, group, n_groups)
    x, y, group = x[keep], y[keep], group[keep]
    order = np.argsort(group, kind="stable")
    coords = np.column_stack([x[order], y[order]])
    multi = shapely.multipoints(coords, indices=group[order])
    if len(multi) != n_groups:
        raise ValueError(f"`group` must use every id 0..{n_groups - 1}; got {len(multi)} groups")
    return shapely.convex_hull(multi)


def _profiles(times: pd.Series, weights: np.ndarray, group: np.ndarray, n_groups: int) -> list:
    """``geo.timewin.hour_of_week`` of each group of rows, in one pass over the times.

    Same table per group (7 × 24, index mån..sön by the calendar day of the Swedish clock
    time, columns 0..23), from one time-zone conversion and one bincount instead of one
    per zone.

    Examples
    --------
    >>> t = pd.Series(pd.to_datetime(["2018-03-16 23:30", "2018-03-17 02:00"]).tz_localize(
    ...     "Europe/Stockholm"))
    >>> p = _profiles(t, np.ones(2), np.array([0, 1]), 2)
    >>> float(p[0].loc["fre", 23]), float(p[1].loc["lör", 2]), float(p[1].to_numpy().sum())
    (1.0, 1.0, 1.0)
    """
    if len(times):
        # A sample through hour_of_week itself keeps the naive-time refusal in one place.
        hour_of_week(pd.DataFrame({schema.OCCURRED_AT: times.iloc[:1]}))
    wall = pd.DatetimeIndex(times).tz_convert(schema.TZ)
    flat = np.asarray(wall.day_of_week) * 24 + np.asarray(wall.hour)
    counts = np.bincount(group * 168 + flat, weights=weights, minlength=n_groups * 168)
    index = pd.Index(DAY_NAMES, name="weekday")
    return [
        pd.DataFrame(c.reshape(7, 24), index=index, columns=range(24))
        for c in counts.reshape(n_groups, 168)
    ]


def _point_xy(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    geom = frame.geometry.values
    pts = geom if (shapely.get_type_id(geom) == 0).all() else shapely.point_on_surface(geom)
    return shapely.get_x(pts), shapely.get_y(pts)


def _compass(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Swedish compass word (8 directions) of each vector (dx east, dy north).

    Examples
    --------
    >>> _compass(np.array([0.0, 10, 0, -5]), np.array([10.0, 10, -3, 0])).tolist()
    ['norr', 'nordost', 'söder', 'väster']
    """
    bearing = np.degrees(np.arctan2(dx, dy)) % 360
    return np.array(COMPASS, dtype=object)[np.round(bearing / 45).astype(int) % 8]


def _nearest_places(centres: np.ndarray, gazetteer: gpd.GeoDataFrame | None, crs):
    """(place name or None, distance m, dx, dy) of the nearest gazetteer place per centre."""
    n = len(centres)
    place = np.full(n, None, dtype=object)
    dist = np.full(n, np.inf)
    dx = np.zeros(n)
    dy = np.zeros(n)
    if gazetteer is None or gazetteer.empty or not n:
        return place, dist, dx, dy
    gaz = gazetteer.to_crs(crs) if gazetteer.crs != crs else gazetteer
    geoms = gaz.geometry.values
    (zi, gi), d = shapely.STRtree(geoms).query_nearest(
        centres, return_distance=True, all_matches=False
    )
    names = gaz[schema.PLACE_NAME].astype(str).to_numpy()
    place[zi] = names[gi]
    dist[zi] = d
    dx[zi] = shapely.get_x(centres[zi]) - shapely.get_x(geoms[gi])
    dy[zi] = shapely.get_y(centres[zi]) - shapely.get_y(geoms[gi])
    return place, dist, dx, dy


def zone_names(
    centres: np.ndarray,
    area_ids: np.ndarray,
    area_names: np.ndarray,
    ranks: np.ndarray,
    gazetteer: gpd.GeoDataFrame | None,
    crs,
) -> list[str]:
    """Names that tell a police area's zones apart, from the nearest named places.

    * A place within ``NAME_WITHIN_M`` of the zone's centre names it: "Jakobsbergs station".
    * Within ``NEAR_WITHIN_M``: the distance and direction from the place,
      "700 m nordost om Riddarplatsen".
    * Otherwise (or without a gazetteer): "Zon <rank> – <area>".

    Two zones of one area never share a name: of zones that would, the best ranked keeps
    it; the others get their direction from the place ("norr om Jakobsbergs station"), and
    if that is still taken, their rank ("norr om Jakobsbergs station, zon 4").

    Parameters
    ----------
    centres : array of shapely Points
        Each zone's centre (incident-weighted), in ``crs``.
    area_ids, area_names, ranks : arrays
        Per zone.
    gazetteer : GeoDataFrame, optional
        Named places (``name``).
    crs
        The CRS of ``centres``.

    Examples
    --------
    >>> gaz = gpd.GeoDataFrame({"name": ["Torget"]}, geometry=[shapely.Point(0, 0)], crs=3006)
    >>> c = shapely.points([10, 30, 700, 5000], [0, 300, 700, 0])
    >>> zone_names(c, np.array(["a"] * 4), np.array(["A"] * 4), np.arange(1, 5), gaz, 3006)
    ['Torget', 'norr om Torget', '1000 m nordost om Torget', 'Zon 4 – A']
    """
    n = len(centres)
    place, dist, dx, dy = _nearest_places(np.asarray(centres, dtype=object), gazetteer, crs)
    names: list[str] = []
    for k in range(n):
        if place[k] is not None and dist[k] <= NAME_WITHIN_M:
            names.append(str(place[k]))
        elif place[k] is not None and dist[k] <= NEAR_WITHIN_M:
            metres = int(round(dist[k] / 100.0) * 100)
            names.append(f"{metres} m {_compass(dx[k : k + 1], dy[k : k + 1])[0]} om {place[k]}")
        else:
            names.append(f"Zon {int(ranks[k])} – {area_names[k]}")
    taken: set[tuple[str, str]] = set()
    for k in np.lexsort((np.asarray(ranks), np.asarray(area_ids, dtype=str))).tolist():
        aid = str(area_ids[k])
        if (aid, names[k]) in taken and place[k] is not None and dist[k] <= NAME_WITHIN_M:
            names[k] = f"{_compass(dx[k : k + 1], dy[k : k + 1])[0]} om {place[k]}"
        if (aid, names[k]) in taken:
            names[k] = f"{names[k]}, zon {int(ranks[k])}"
        taken.add((aid, names[k]))
    return names


def _place_labels(frame: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame | None) -> list[str]:
    """Where a cell lies, in words: the named place within ``NAME_WITHIN_M``, the distance
    and direction from one within ``NEAR_WITHIN_M``, else the area id."""
    centres = shapely.point_on_surface(frame.geometry.values)
    place, dist, dx, dy = _nearest_places(centres, gazetteer, frame.crs)
    way = _compass(dx, dy)
    fallback = frame[schema.AREA_ID].astype(str).to_numpy()
    out = []
    for k in range(len(frame)):
        if place[k] is not None and dist[k] <= NAME_WITHIN_M:
            out.append(str(place[k]))
        elif place[k] is not None and dist[k] <= NEAR_WITHIN_M:
            out.append(f"{int(round(dist[k] / 100.0) * 100)} m {way[k]} om {place[k]}")
        else:
            out.append(fallback[k])
    return out


def _area_lookup(areas: gpd.GeoDataFrame) -> pd.DataFrame:
    a = areas.set_index(areas[schema.AREA_ID].astype(str))
    names = a[schema.AREA_NAME] if schema.AREA_NAME in a.columns else a.index.to_series()
    return pd.DataFrame({"name": names.astype(str), "km2": a.geometry.area / 1e6})


def _incident_area_ids(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """The incidents' ``area_id`` column, or the first area each point lies in (else None)."""
    if schema.AREA_ID in incidents.columns:
        return incidents[schema.AREA_ID].astype(object).to_numpy()
    geoms = areas.to_crs(incidents.crs).geometry.values if areas.crs != incidents.crs else None
    geoms = areas.geometry.values if geoms is None else geoms
    ids = areas[schema.AREA_ID].astype(str).to_numpy(dtype=object)
    points = incidents.geometry.values
    if len(areas) <= _AREAS_BY_LOOP and (shapely.get_type_id(points) == 0).all():
        # Few areas: point in polygon on coordinates, area by area in frame order (the
        # first area holding a point wins), no point objects or tree needed.
        x, y = shapely.get_x(points), shapely.get_y(points)
        out = np.full(len(incidents), None, dtype=object)
        todo = np.isfinite(x) & np.isfinite(y)
        for aid, geom in zip(ids, geoms, strict=True):
            if geom is None or not todo.any():
                continue
            x0, y0, x1, y1 = geom.bounds
            cand = np.flatnonzero(todo & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
            shapely.prepare(geom)
            hit = cand[shapely.intersects_xy(geom, x[cand], y[cand])]
            out[hit] = aid
            todo[hit] = False
        return out
    tree = shapely.STRtree(geoms)
    pt, ar = tree.query(incidents.geometry.values, predicate="intersects")
    order = np.lexsort((ar, pt))
    pt, ar = pt[order], ar[order]
    first = np.unique(pt, return_index=True)[1]
    out = np.full(len(incidents), None, dtype=object)
    out[pt[first]] = ids[ar[first]]
    return out


def describe_zones(
    polygons: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    dialogue: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    dialogue_weight: float = schema.DEFAULT_DIALOGUE_WEIGHT,
    min_incidents: int = 1,
) -> gpd.GeoDataFrame:
    """Zones in the ``geo.zones`` layout from polygons with an ``area_id`` each.

    Parameters
    ----------
    polygons : GeoDataFrame
        One polygon per zone with ``area_id``, EPSG:3006.
    incidents, areas : GeoDataFrame
        The incidents counted (with ``occurred_at``, ``category``, ``weight``) and the areas.
    dialogue, gazetteer : GeoDataFrame, optional
        Dialogue places (``mentions``) and named places (``name``).
    dialogue_weight : float
        Weight of one mention in ``score``.
    min_incidents : int
        Polygons holding fewer incidents are not zones (default 1: a place that is hot only
        through dialogue mentions belongs to :func:`perception_gap`, not the incident
        ranking).

    Returns
    -------
    GeoDataFrame
        Columns ``ZONE_COLUMNS`` + geometry, sorted by area and rank (1 = highest
        ``score``). ``hit_rate`` is cumulative over the union of zones 1..rank (an incident
        inside two overlapping zones counts once).

    Examples
    --------
    >>> import pandas as pd
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000)], crs=3006)
    >>> inc = gpd.GeoDataFrame({"category": ["rån"] * 3, "weight": [1.0] * 3,
    ...     "occurred_at": pd.to_datetime(["2018-03-16 23:00"] * 3).tz_localize("Europe/Stockholm")},
    ...     geometry=shapely.points([50, 60, 900], [50, 60, 900]), crs=3006)
    >>> z = describe_zones(gpd.GeoDataFrame({"area_id": ["a"]},
    ...     geometry=[shapely.box(0, 0, 100, 100)], crs=3006), inc, areas)
    >>> # 2 of 3 incidents on 0.01 of 1 km²: PAI = (2/3) / 0.01 = 66.7
    >>> z.loc[0, "name"], int(z.loc[0, "incident_count"]), round(float(z.loc[0, "pai"]), 1)
    ('Zon 1 – A', 2, 66.7)
    """
    _check_gdf(polygons, "polygons", (schema.AREA_ID,))
    _check_gdf(incidents, "incidents", (schema.OCCURRED_AT, schema.CATEGORY))
    _check_gdf(areas, "areas", (schema.AREA_ID,))
    if polygons.empty:
        return _empty_zones(polygons.crs)
    lookup = _area_lookup(areas)
    inc = incidents.to_crs(polygons.crs) if incidents.crs != polygons.crs else incidents
    x, y = _point_xy(inc)
    w = inc[schema.WEIGHT].to_numpy(float) if schema.WEIGHT in inc else np.ones(len(inc))
    inc_area, area_names = pd.factorize(pd.Series(_incident_area_ids(inc, areas), dtype=object))
    area_total = pd.Series(
        np.bincount(inc_area[inc_area >= 0], weights=w[inc_area >= 0], minlength=len(area_names)),
        index=pd.Index(area_names).astype(str),
    )
    polys = polygons.geometry.values
    k_zones = len(polys)
    members = _members(polys, x, y)
    sizes = np.array([len(m) for m in members], dtype=np.intp)
    member = np.concatenate(members)
    zone_of = np.repeat(np.arange(k_zones), sizes)
    if dialogue is not None and not dialogue.empty:
        dia = dialogue.to_crs(polygons.crs) if dialogue.crs != polygons.crs else dialogue
        mentions = dia[schema.MENTIONS].to_numpy(float) if schema.MENTIONS in dia else None
        tree = shapely.STRtree(dia.geometry.values)
        zi, di = tree.query(polys, predicate="intersects")
        m = mentions[di] if mentions is not None else np.ones(len(di))
        dmentions = np.bincount(zi, weights=m, minlength=k_zones)
    else:
        dmentions = np.zeros(k_zones)
    aid = polygons[schema.AREA_ID].astype(str).to_numpy()
    mw = w[member]
    n_w = np.bincount(zone_of, weights=mw, minlength=k_zones)
    total = pd.Series(aid).map(area_total).fillna(0.0).to_numpy(float)
    a_km2 = shapely.area(polys) / 1e6
    big_a = pd.Series(aid).map(lookup["km2"]).to_numpy(float)
    share = np.divide(n_w, total, out=np.zeros(k_zones), where=total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pai = np.where((a_km2 > 0) & (big_a > 0), share / (a_km2 / big_a), np.nan)
    # Incident-weighted centre (weights nudged so an all-zero-weight zone still has one).
    cw = np.bincount(zone_of, weights=mw + 1e-12, minlength=k_zones)
    with np.errstate(divide="ignore", invalid="ignore"):
        cx = np.bincount(zone_of, weights=x[member] * (mw + 1e-12), minlength=k_zones) / cw
        cy = np.bincount(zone_of, weights=y[member] * (mw + 1e-12), minlength=k_zones) / cw
    centres = shapely.points(cx, cy)
    empty = sizes == 0
    centres[empty] = shapely.point_on_surface(polys[empty])
    columns = {
        schema.AREA_ID: aid,
        schema.AREA_NAME: [lookup["name"].get(a, a) for a in aid],
        schema.SCORE: n_w + dialogue_weight * dmentions,
        schema.INCIDENT_COUNT: sizes.astype(np.int64),
        schema.DIALOGUE_MENTIONS: np.round(dmentions).astype(np.int64),
        schema.SHARE_OF_AREA: share,
        schema.PAI: pai,
        schema.AREA_KM2: a_km2,
        "_centre": centres,
        "_weight": n_w,
        "_total": total,
    }
    # Only the incidents inside some zone are looked at from here on.
    values, uniques = pd.factorize(inc[schema.CATEGORY].iloc[member])
    known_code = {c: j for j, c in enumerate(schema.CATEGORIES)}
    lut = np.array([known_code.get(str(u), -1) for u in uniques] + [-1], dtype=np.intp)
    codes = lut[values]  # factorize's -1 (missing) picks the trailing -1
    known = codes >= 0
    n_cat = len(schema.CATEGORIES)
    by_cat = np.bincount(zone_of[known] * n_cat + codes[known], minlength=k_zones * n_cat).reshape(
        k_zones, n_cat
    )
    for j, c in enumerate(schema.CATEGORIES):
        columns[_category_column(c)] = by_cat[:, j].astype(np.int64)
    # Hour-of-week profiles of all zones at once: one bincount over (zone, hour of week).
    if schema.OCCURRED_UNTIL in inc.columns and inc[schema.OCCURRED_UNTIL].notna().any():
        # spans spread over their hours (geo.aoristic), as timewin.hour_of_week does
        from geo import aoristic

        times, share, rows = aoristic.expand_hours(inc.iloc[member], mw)
        profiles = _profiles(pd.Series(times), share, zone_of[rows], k_zones)
    else:
        profiles = _profiles(inc[schema.OCCURRED_AT].iloc[member], mw, zone_of, k_zones)
    # Dates without clock times (all 00:00) have no peak hours to tell.
    timed = has_clock_times(inc[schema.OCCURRED_AT])
    columns[schema.PEAK_HOURS] = [
        peak_hours(profiles[k]) if sizes[k] and timed else "" for k in range(k_zones)
    ]
    columns["_k"] = np.arange(k_zones)
    rows = pd.DataFrame(columns)
    out = gpd.GeoDataFrame(rows, geometry=list(polys), crs=polygons.crs)
    out = out[out[schema.INCIDENT_COUNT] >= max(int(min_incidents), 1)]
    out = out.sort_values(
        [schema.AREA_ID, schema.SCORE, schema.INCIDENT_COUNT],
        ascending=[True, False, False],
        kind="stable",
    ).reset_index(drop=True)
    if out.empty:
        return _empty_zones(polygons.crs)
    out[schema.RANK] = out.groupby(schema.AREA_ID).cumcount() + 1
    out[schema.HIT_RATE] = _cumulative_hit_rate(out, members, w)
    out[schema.ZONE_ID] = out[schema.AREA_ID] + "-" + out[schema.RANK].astype(str)
    out[schema.NAME] = zone_names(
        out["_centre"].to_numpy(),
        out[schema.AREA_ID].to_numpy(),
        out[schema.AREA_NAME].to_numpy(),
        out[schema.RANK].to_numpy(),
        gazetteer,
        polygons.crs,
    )
    return out[[*ZONE_COLUMNS, "geometry"]]


def _cumulative_hit_rate(out: pd.DataFrame, members: list[np.ndarray], w: np.ndarray):
    """Share of the area's incidents inside the union of its zones ranked 1..rank."""
    hit = np.zeros(len(out))
    covered = np.zeros(len(w), dtype=bool)
    touched: list[np.ndarray] = []
    running = 0.0
    area = out[schema.AREA_ID].to_numpy()
    for pos, (k, total) in enumerate(zip(out["_k"], out["_total"], strict=True)):
        if pos and area[pos] != area[pos - 1]:
            for m in touched:  # a new area: clear only what the last one covered
                covered[m] = False
            touched, running = [], 0.0
        fresh = members[k][~covered[members[k]]]
        covered[fresh] = True
        touched.append(fresh)
        running += float(w[fresh].sum())
        hit[pos] = running / total if total > 0 else 0.0
    return hit


def _lattice_neighbours(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index lookups of the 4 and the 8 lattice neighbours of each cell (-1 where none).

    Returns ``(four, eight)`` of shapes (n, 4) and (n, 8).
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    width = int(cols.max() - cols.min()) + 3
    key = (rows - rows.min() + 1) * width + (cols - cols.min() + 1)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    steps8 = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
    eight = np.full((len(rows), 8), -1, dtype=np.intp)
    for j, (dr, dc) in enumerate(steps8):
        want = key + dr * width + dc
        pos = np.minimum(np.searchsorted(sorted_key, want), len(sorted_key) - 1)
        hit = sorted_key[pos] == want
        eight[hit, j] = order[pos[hit]]
    four = eight[:, [1, 3, 4, 6]]
    return four, eight


def split_hot_cells(
    rows: np.ndarray,
    cols: np.ndarray,
    value: np.ndarray,
    cell_km2: np.ndarray,
    *,
    cell_size_m: float,
    max_zone_km2: float = DEFAULT_MAX_ZONE_KM2,
) -> np.ndarray:
    """Group hot cells into zones no larger than ``max_zone_km2``, grown around local peaks.

    A zone starts at the highest cell not yet taken — local peaks (no higher cell among
    the 8 around it) first, from the highest down — and grows over edge-sharing hot cells,
    always taking the highest cell on its rim next, while the zone stays within
    ``max_zone_km2`` and within ``REACH_FACTOR`` × the side of a square of that area from
    the cell it started at (so it stays compact). A hot region smaller than the cap becomes
    one zone; a larger one is split around its peaks into several.

    Parameters
    ----------
    rows, cols : arrays of int
        Lattice positions of the hot cells (of one area).
    value : array of float
        What peaks are read from (the Gi* z-score).
    cell_km2 : array of float
        Each cell's area (clipped cells are smaller).
    cell_size_m : float
        The lattice's cell width (metres).
    max_zone_km2 : float
        Largest zone.

    Returns
    -------
    numpy.ndarray of int
        A zone label 0, 1, ... per cell, in the order the zones were started.

    Examples
    --------
    >>> # A 1 × 6 strip of 100 m cells with peaks at both ends; cap 0.04 km² (4 cells, reach
    >>> # 200 m = 2 cells from the start): cells 0–2 grow from the 9, cells 3–5 from the 8.
    >>> split_hot_cells(np.zeros(6, int), np.arange(6), np.array([9., 5, 1, 2, 6, 8]),
    ...     np.full(6, 0.01), cell_size_m=100, max_zone_km2=0.04).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    import heapq

    n = len(rows)
    labels = np.full(n, -1, dtype=np.intp)
    if n == 0:
        return labels
    if not max_zone_km2 > 0:
        raise ValueError(f"`max_zone_km2` was {max_zone_km2!r} but is expected to be > 0")
    v = np.where(np.isfinite(value), np.asarray(value, float), -np.inf)
    four, eight = _lattice_neighbours(rows, cols)
    around = np.where(eight >= 0, v[np.maximum(eight, 0)], -np.inf)
    peak = v >= around.max(axis=1)
    by_value = np.argsort(-v, kind="stable")
    seeds = np.concatenate([by_value[peak[by_value]], by_value[~peak[by_value]]])
    reach = REACH_FACTOR * math.sqrt(max_zone_km2 * 1e6) / float(cell_size_m)
    reach2 = max(reach, 1.0) ** 2
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    label = 0
    for seed in seeds.tolist():
        if labels[seed] >= 0:
            continue
        area = 0.0
        heap = [(-v[seed], seed)]
        while heap:
            _, i = heapq.heappop(heap)
            if labels[i] >= 0:
                continue
            if area > 0 and area + cell_km2[i] > max_zone_km2 + 1e-12:
                continue
            if (r[i] - r[seed]) ** 2 + (c[i] - c[seed]) ** 2 > reach2:
                continue
            labels[i] = label
            area += cell_km2[i]
            for j in four[i]:
                if j >= 0 and labels[j] < 0:
                    heapq.heappush(heap, (-v[j], int(j)))
        label += 1
    return labels


def cap_polygon(poly, centre, max_zone_km2: float = DEFAULT_MAX_ZONE_KM2):
    """``poly`` cut to a disk around ``centre`` so that it is at most ``max_zone_km2``.

    A polygon within the cap comes back unchanged. Otherwise the disk's radius is found by
    bisection (the part of the polygon nearest its centre, usually the densest, is kept).

    Examples
    --------
    >>> p = cap_polygon(shapely.box(0, 0, 1000, 1000), shapely.Point(500, 500), 0.25)
    >>> 0.24 < p.area / 1e6 <= 0.25
    True
    """
    cap = max_zone_km2 * 1e6
    if poly.area <= cap:
        return poly
    lo, hi = 0.0, math.sqrt(cap / math.pi) * 4
    for _ in range(30):
        mid = (lo + hi) / 2
        if shapely.intersection(poly, centre.buffer(mid, quad_segs=16)).area <= cap:
            lo = mid
        else:
            hi = mid
    return shapely.intersection(poly, centre.buffer(lo, quad_segs=16))


def split_clusters(
    xy: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    buffer_m: float,
    max_zone_km2: float = DEFAULT_MAX_ZONE_KM2,
    recluster=None,
    max_depth: int = 4,
) -> np.ndarray:
    """Split every cluster whose zone (buffered hull) exceeds ``max_zone_km2`` at its peaks.

    Density clusters chain: at the density of a city centre a DBSCAN radius links block to
    block until one cluster covers a district. A cluster whose zone would be larger than the
    cap is clustered again on its own points by ``recluster(xy, weights, depth)`` (a
    smaller radius, or HDBSCAN within the cluster: its subtree), recursively, so each dense
    core becomes its own cluster and the thin links between them become noise. A cluster
    that still does not split is cut into parts around its peaks on a fine grid
    (:func:`split_hot_cells`); any remaining excess is cut later by :func:`cap_polygon`.

    Parameters
    ----------
    xy : (n, 2) array of float
    labels : (n,) array of int
        Cluster labels, -1 noise.
    weights : (n,) array of float, optional
    buffer_m : float
        The buffer the zones get around their hulls (counted in the zone's area).
    max_zone_km2 : float
    recluster : callable, optional
        ``recluster(xy, weights, depth) -> labels``; without it only the grid cut is used.
    max_depth : int
        Deepest recursion of ``recluster``.

    Returns
    -------
    numpy.ndarray of int
        New labels 0..k-1 (-1 noise).

    Examples
    --------
    >>> xy = np.array([[0, 0], [10, 0], [2000, 0], [2010, 0]], float)
    >>> split_clusters(xy, np.zeros(4, int), buffer_m=10, max_zone_km2=0.01,
    ...     recluster=lambda p, w, d: (p[:, 0] > 1000).astype(int)).tolist()
    [0, 0, 1, 1]
    """
    xy = np.asarray(xy, dtype=float)
    labels = np.asarray(labels)
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, float)
    out = np.full(len(xy), -1, dtype=np.intp)
    todo = [(np.flatnonzero(labels == k), 0) for k in np.unique(labels[labels >= 0])]
    next_label = 0
    while todo:
        idx, depth = todo.pop(0)
        if not idx.size:
            continue
        if _zone_km2(xy[idx], buffer_m) <= max_zone_km2 + 1e-12:
            out[idx] = next_label
            next_label += 1
            continue
        sub = None
        if recluster is not None and depth < max_depth:
            sub = np.asarray(recluster(xy[idx], w[idx], depth))
            kinds = np.unique(sub[sub >= 0])
            if not len(kinds) or (len(kinds) == 1 and (sub >= 0).all()):
                sub = None  # nothing new: no density peak inside at this scale
        if sub is None:
            sub = _grid_cut(xy[idx], w[idx], buffer_m, max_zone_km2)
            for k in np.unique(sub[sub >= 0]):
                out[idx[sub == k]] = next_label
                next_label += 1
            continue
        for k in np.unique(sub[sub >= 0]):
            todo.append((idx[sub == k], depth + 1))
    return out


def _disjoint(polys: np.ndarray, weight: np.ndarray, area_ids: np.ndarray) -> np.ndarray:
    """Zones of one area made disjoint: the heavier zone keeps an overlap.

    Buffered hulls of neighbouring clusters overlap; counted in both, one incident would
    make two zones. In order of weight, each zone loses what heavier zones of its area
    already cover (a zone left with nothing is empty and dropped later).

    Examples
    --------
    >>> p = _disjoint(np.array([shapely.box(0, 0, 2, 2), shapely.box(1, 0, 3, 2)]),
    ...     np.array([1.0, 5.0]), np.array(["a", "a"]))
    >>> [g.area for g in p]  # the heavier second box keeps the overlap
    [2.0, 4.0]
    """
    out = polys.copy()
    for aid in np.unique(area_ids.astype(str)):
        idx = np.flatnonzero(area_ids.astype(str) == aid)
        taken = None
        for k in idx[np.argsort(-weight[idx], kind="stable")]:
            if taken is not None and shapely.intersects(out[k], taken):
                out[k] = shapely.difference(out[k], taken)
            taken = out[k] if taken is None else shapely.union(taken, out[k])
    return out


def _zone_km2(xy: np.ndarray, buffer_m: float) -> float:
    hull = shapely.convex_hull(shapely.multipoints(xy))
    return float(shapely.area(shapely.buffer(hull, max(buffer_m, 1.0))) / 1e6)


def _grid_cut(xy: np.ndarray, w: np.ndarray, buffer_m: float, max_zone_km2: float) -> np.ndarray:
    """Parts of one point cluster around its density peaks, each about ``max_zone_km2``."""
    from scipy import ndimage

    side = math.sqrt(max_zone_km2 * 1e6)
    cell = max(side / 10, 10.0)
    # Room for the buffer: a square part of side L gets a zone of about (L + 2·buffer)².
    inner = max(side - 2 * buffer_m, cell)
    col = np.floor((xy[:, 0] - xy[:, 0].min()) / cell).astype(np.int64)
    row = np.floor((xy[:, 1] - xy[:, 1].min()) / cell).astype(np.int64)
    grid = np.zeros((row.max() + 1, col.max() + 1))
    np.add.at(grid, (row, col), w)
    smooth = ndimage.uniform_filter(grid, size=3, mode="constant") * 9
    occupied = np.unique(np.column_stack([row, col]), axis=0)
    parts = split_hot_cells(
        occupied[:, 0],
        occupied[:, 1],
        smooth[occupied[:, 0], occupied[:, 1]],
        np.full(len(occupied), cell * cell / 1e6),
        cell_size_m=cell,
        max_zone_km2=inner * inner / 1e6,
    )
    lookup = np.full(grid.shape, -1, dtype=np.intp)
    lookup[occupied[:, 0], occupied[:, 1]] = parts
    return lookup[row, col]


def _polygon_parts(geom) -> list:
    return [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]


def _cell_lattice(cells: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """Lattice rows, columns and the cell width of one area's cells."""
    bounds = shapely.bounds(cells.geometry.values)
    size = float(max(np.max(bounds[:, 2] - bounds[:, 0]), np.max(bounds[:, 3] - bounds[:, 1])))
    if LATTICE_ROW in cells.columns and LATTICE_COL in cells.columns:
        return cells[LATTICE_ROW].to_numpy(), cells[LATTICE_COL].to_numpy(), size
    centre = shapely.centroid(cells.geometry.values)
    cols = np.floor(shapely.get_x(centre) / size).astype(np.int64)
    rows = np.floor(shapely.get_y(centre) / size).astype(np.int64)
    return rows, cols, size


def zones_from_cells(
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    dialogue: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    min_bin: int = 2,
    max_zone_km2: float = DEFAULT_MAX_ZONE_KM2,
    min_incidents: int = 1,
    dialogue_weight: float = schema.DEFAULT_DIALOGUE_WEIGHT,
) -> gpd.GeoDataFrame:
    """Zones from significant hot cells (``gi_bin >= min_bin``), each at most ``max_zone_km2``.

    Within each area, edge-sharing hot cells are grouped by :func:`split_hot_cells`: a hot
    region smaller than the cap is one zone, a larger one is split around its Gi* peaks.
    The zone polygon is the union of its cells. Zones with fewer than ``min_incidents``
    incidents are left out (see :func:`describe_zones`).

    Examples
    --------
    >>> import pandas as pd
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[shapely.box(0, 0, 300, 100)], crs=3006)
    >>> cells = gpd.GeoDataFrame({"area_id": ["a"] * 3, "gi_bin": [3, 2, 0],
    ...     "gi_z": [3.5, 2.2, 0.1]}, geometry=[shapely.box(0, 0, 100, 100),
    ...     shapely.box(100, 0, 200, 100), shapely.box(200, 0, 300, 100)], crs=3006)
    >>> inc = gpd.GeoDataFrame({"category": ["rån"], "weight": [1.0],
    ...     "occurred_at": pd.to_datetime(["2018-03-16 23:00"]).tz_localize("Europe/Stockholm")},
    ...     geometry=shapely.points([50], [50]), crs=3006)
    >>> z = zones_from_cells(cells, inc, areas)
    >>> len(z), float(z.loc[0, "area_km2"])   # the two hot cells: one zone of 0.02 km²
    (1, 0.02)
    >>> len(zones_from_cells(cells, inc, areas, max_zone_km2=0.01))  # capped: the empty
    1
    """
    _check_gdf(cells, "cells", (schema.AREA_ID, schema.GI_BIN))
    if not isinstance(min_bin, int | np.integer) or not 1 <= min_bin <= 3:
        raise ValueError(f"`min_bin` was {min_bin!r} but is expected to be 1, 2 or 3")
    _check_cap(max_zone_km2)
    hot = cells[cells[schema.GI_BIN] >= min_bin]
    recs_area, recs_geom = [], []
    for aid, group in hot.groupby(hot[schema.AREA_ID].astype(str), sort=True):
        rows, cols, size = _cell_lattice(group)
        z = (
            group[schema.GI_Z].to_numpy(float)
            if schema.GI_Z in group
            else group[schema.GI_BIN].to_numpy(float)
        )
        labels = split_hot_cells(
            rows,
            cols,
            z,
            shapely.area(group.geometry.values) / 1e6,
            cell_size_m=size,
            max_zone_km2=max_zone_km2,
        )
        geoms = group.geometry.values
        for k in range(labels.max() + 1):
            for part in _polygon_parts(shapely.union_all(geoms[labels == k])):
                recs_area.append(aid)
                recs_geom.append(part)
    polygons = gpd.GeoDataFrame({schema.AREA_ID: recs_area}, geometry=recs_geom, crs=cells.crs)
    return describe_zones(
        polygons,
        incidents,
        areas,
        dialogue=dialogue,
        gazetteer=gazetteer,
        dialogue_weight=dialogue_weight,
        min_incidents=min_incidents,
    )


def _check_cap(max_zone_km2) -> None:
    if isinstance(max_zone_km2, bool) or not isinstance(max_zone_km2, int | float):
        raise TypeError(
            f"`max_zone_km2` was {type(max_zone_km2).__name__} but is expected to be a number"
        )
    if not (math.isfinite(max_zone_km2) and max_zone_km2 > 0):
        raise ValueError(f"`max_zone_km2` was {max_zone_km2!r} but is expected to be > 0")


def zones_from_labels(
    incidents: gpd.GeoDataFrame,
    labels,
    areas: gpd.GeoDataFrame,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    dialogue: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    max_zone_km2: float = DEFAULT_MAX_ZONE_KM2,
    recluster=None,
    min_incidents: int = 1,
    dialogue_weight: float = schema.DEFAULT_DIALOGUE_WEIGHT,
) -> gpd.GeoDataFrame:
    """Zones from cluster labels: per cluster and area, the buffered convex hull, capped.

    A cluster that spans two areas gives one zone in each (clipped to the area). A cluster
    whose zone would exceed ``max_zone_km2`` is split at its density peaks
    (:func:`split_clusters` with ``recluster``), and any zone still larger is cut to the
    cap around its densest part (:func:`cap_polygon`).

    Examples
    --------
    >>> import pandas as pd
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000)], crs=3006)
    >>> inc = gpd.GeoDataFrame({"category": ["rån"] * 4, "weight": [1.0] * 4,
    ...     "occurred_at": pd.to_datetime(["2018-03-16 23:00"] * 4).tz_localize("Europe/Stockholm")},
    ...     geometry=shapely.points([100, 200, 100, 900], [100, 100, 200, 900]), crs=3006)
    >>> z = zones_from_labels(inc, [0, 0, 0, -1], areas, buffer_m=10)
    >>> len(z), int(z.loc[0, "incident_count"])
    (1, 3)
    """
    _check_gdf(incidents, "incidents")
    _check_gdf(areas, "areas", (schema.AREA_ID,))
    _check_cap(max_zone_km2)
    lab = np.asarray(labels)
    if lab.shape != (len(incidents),):
        raise ValueError(
            f"`labels` must have one label per incident ({len(incidents)}), got {lab.shape}"
        )
    if not np.isfinite(buffer_m) or buffer_m < 0:
        raise ValueError(f"`buffer_m` was {buffer_m} but is expected to be a number >= 0")
    inc_area = pd.Series(_incident_area_ids(incidents, areas)).astype(object).to_numpy()
    area_geom = dict(zip(areas[schema.AREA_ID].astype(str), areas.geometry.values, strict=True))
    keep = (lab >= 0) & pd.notna(inc_area)
    x, y = _point_xy(incidents[keep] if not keep.all() else incidents)
    w = incidents[schema.WEIGHT].to_numpy(float)[keep] if schema.WEIGHT in incidents else None
    frame = pd.DataFrame({"lab": lab[keep], "area": inc_area[keep].astype(str)})
    group = frame.groupby(["lab", "area"], sort=True).ngroup().to_numpy()
    group = split_clusters(
        np.column_stack([x, y]),
        group,
        w,
        buffer_m=buffer_m,
        max_zone_km2=max_zone_km2,
        recluster=recluster,
    )
    clustered = group >= 0
    x, y, group = x[clustered], y[clustered], group[clustered]
    group_area = pd.Series(frame["area"].to_numpy()[clustered]).groupby(group).first()
    hulls = _group_hulls(x, y, group, len(group_area))
    polys = shapely.buffer(hulls, max(buffer_m, 1.0))
    wk = np.ones(len(x)) if w is None else w[clustered]
    cw = np.bincount(group, weights=wk, minlength=len(group_area)) + 1e-12
    centres = shapely.points(
        np.bincount(group, weights=x * wk, minlength=len(group_area)) / cw,
        np.bincount(group, weights=y * wk, minlength=len(group_area)) / cw,
    )
    capped = []
    for aid, poly, centre in zip(group_area.to_numpy(), polys, centres, strict=True):
        if aid in area_geom:
            poly = shapely.intersection(poly, area_geom[aid])
        capped.append(cap_polygon(poly, centre, max_zone_km2))
    capped = _disjoint(np.array(capped, dtype=object), cw, group_area.to_numpy())
    recs_area, recs_geom = [], []
    for aid, poly in zip(group_area.to_numpy(), capped, strict=True):
        for part in _polygon_parts(poly):
            recs_area.append(aid)
            recs_geom.append(part)
    polygons = gpd.GeoDataFrame({schema.AREA_ID: recs_area}, geometry=recs_geom, crs=incidents.crs)
    return describe_zones(
        polygons,
        incidents,
        areas,
        dialogue=dialogue,
        gazetteer=gazetteer,
        dialogue_weight=dialogue_weight,
        min_incidents=min_incidents,
    )


def evaluate_zones(
    zones: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hit rate and PAI of a set of zones, per area and per zone.

    Returns
    -------
    (DataFrame, DataFrame)
        Per area: ``area_id``, ``incidents`` (weighted N), ``in_zones`` (n), ``hit_rate``
        (n/N), ``zone_km2`` (a), ``area_km2`` (A), ``pai`` ((n/N)/(a/A)). Per zone:
        ``zone_id``, ``area_id``, ``incidents``, ``hit_rate``, ``area_km2``, ``pai``.
        Overlapping zones of one area are dissolved for the area row.

    Examples
    --------
    >>> import pandas as pd
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000)], crs=3006)
    >>> zones = gpd.GeoDataFrame({"zone_id": ["z"], "area_id": ["a"]},
    ...     geometry=[shapely.box(0, 0, 100, 100)], crs=3006)
    >>> inc = gpd.GeoDataFrame({"weight": [1.0] * 4},
    ...     geometry=shapely.points([10, 20, 500, 600], [10, 20, 500, 600]), crs=3006)
    >>> per_area, per_zone = evaluate_zones(zones, inc, areas)
    >>> # n/N = 2/4 = 0.5 on a/A = 0.01 / 1 km²: PAI = 50
    >>> per_area.loc[0, ["hit_rate", "pai"]].tolist()
    [0.5, 50.0]
    """
    zones = _to_metric(_check_gdf(zones, "zones", (schema.ZONE_ID, schema.AREA_ID)), "zones")
    incidents = _to_metric(_check_gdf(incidents, "incidents"), "incidents")
    areas = _to_metric(_check_gdf(areas, "areas", (schema.AREA_ID,)), "areas")
    lookup = _area_lookup(areas)
    x, y = _point_xy(incidents)
    w = incidents[schema.WEIGHT].to_numpy(float) if schema.WEIGHT in incidents else np.ones(len(x))
    inc_area = pd.Series(_incident_area_ids(incidents, areas)).astype(str).to_numpy()
    per_zone, per_area = [], []
    for aid, grp in zones.groupby(zones[schema.AREA_ID].astype(str), sort=True):
        in_area = inc_area == aid
        total = float(w[in_area].sum())
        big_a = float(lookup["km2"].get(aid, np.nan))
        ax, ay, aw = x[in_area], y[in_area], w[in_area]
        for zid, geom, idx in zip(
            grp[schema.ZONE_ID],
            grp.geometry.values,
            _members(grp.geometry.values, ax, ay),
            strict=True,
        ):
            n = float(aw[idx].sum())
            per_zone.append(
                _eval_row(
                    {schema.ZONE_ID: zid, schema.AREA_ID: aid}, n, total, geom.area / 1e6, big_a
                )
            )
        union = shapely.union_all(grp.geometry.values)
        n = float(aw[_members([union], ax, ay)[0]].sum())
        per_area.append(
            _eval_row(
                {schema.AREA_ID: aid, "incidents": total},
                n,
                total,
                union.area / 1e6,
                big_a,
                "in_zones",
            )
        )
    return pd.DataFrame(per_area), pd.DataFrame(per_zone)


def _eval_row(
    base: dict, n: float, total: float, a_km2: float, big_a: float, n_name: str = "incidents"
) -> dict:
    hit = n / total if total > 0 else 0.0
    pai = hit / (a_km2 / big_a) if a_km2 > 0 and big_a > 0 else np.nan
    key = "zone_km2" if n_name == "in_zones" else schema.AREA_KM2
    out = {**base, n_name: n, schema.HIT_RATE: hit, key: a_km2, schema.PAI: pai}
    if n_name == "in_zones":
        out[schema.AREA_KM2] = big_a
    return out


def concentration_curve(cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of incidents against share of area, cells from hottest down, per area ("80-20").

    Returns
    -------
    DataFrame
        ``area_id``, ``cells`` (cells taken), ``share_of_area``, ``share_of_incidents``,
        starting at (0, 0) for each area and ending at (1, 1) when it has incidents.

    Examples
    --------
    >>> cells = gpd.GeoDataFrame({"area_id": ["a"] * 4, "weight": [8.0, 2.0, 0.0, 0.0]},
    ...     geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)], crs=3006)
    >>> c = concentration_curve(cells)
    >>> # the hottest quarter of the area holds 8 of 10 incidents
    >>> c.loc[1, ["share_of_area", "share_of_incidents"]].tolist()
    [0.25, 0.8]
    """
    _check_gdf(cells, "cells", (schema.AREA_ID, schema.WEIGHT))
    parts = []
    for aid, grp in cells.groupby(cells[schema.AREA_ID].astype(str), sort=True):
        order = np.argsort(-grp[schema.WEIGHT].to_numpy(float), kind="stable")
        wts = grp[schema.WEIGHT].to_numpy(float)[order]
        area = grp.geometry.area.to_numpy()[order]
        tw, ta = wts.sum(), area.sum()
        parts.append(
            pd.DataFrame(
                {
                    schema.AREA_ID: aid,
                    "cells": np.arange(len(wts) + 1),
                    SHARE_OF_AREA_KM2: np.concatenate([[0.0], np.cumsum(area) / ta])
                    if ta > 0
                    else 0.0,
                    SHARE_OF_INCIDENTS: np.concatenate([[0.0], np.cumsum(wts) / tw])
                    if tw > 0
                    else 0.0,
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            columns=[schema.AREA_ID, "cells", SHARE_OF_AREA_KM2, SHARE_OF_INCIDENTS]
        )
    return pd.concat(parts, ignore_index=True)


def perception_gap(
    cells: gpd.GeoDataFrame,
    *,
    gazetteer: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    min_mentions: int = 2,
    quiet_quantile: float = 0.5,
    named_within_m: float = GAP_NAMED_WITHIN_M,
) -> gpd.GeoDataFrame:
    """Where felt unsafety and incidents disagree, per cell.

    * **upplevt otryggt, få brott**: cells with at least ``min_mentions`` dialogue mentions
      whose incident count is at most the ``quiet_quantile`` of the area's non-empty cells
      and that lie in no incident zone of ``zones`` (without ``zones``: that are not
      significant hot spots, ``gi_bin <= 0``). A place hot only through what residents
      said belongs here, not in the incident ranking.
    * **många brott, ingen nämnde platsen**: significant hot cells (``gi_bin >= 2``) with no
      dialogue mention within ``named_within_m`` of the cell's centre.

    Returns
    -------
    GeoDataFrame
        ``kind``, ``area_id``, ``cell_id``, ``count``, ``dialogue_count``, ``gi_z``,
        ``name`` (nearest gazetteer place, as for zones), geometry; felt first, then by
        mentions or z-score.

    Examples
    --------
    >>> cells = gpd.GeoDataFrame({"cell_id": ["a", "b", "c"], "area_id": ["x"] * 3,
    ...     "count": [0, 30, 1], "dialogue_count": [5, 0, 0], "gi_z": [-0.5, 4.0, 0.1],
    ...     "gi_bin": [0, 3, 0]},
    ...     geometry=[shapely.box(i * 1000, 0, i * 1000 + 100, 100) for i in range(3)], crs=3006)
    >>> perception_gap(cells)[["kind", "cell_id"]].values.tolist()
    [['upplevt otryggt, få brott', 'a'], ['många brott, ingen nämnde platsen', 'b']]
    """
    need = (
        schema.CELL_ID,
        schema.AREA_ID,
        schema.COUNT,
        schema.DIALOGUE_COUNT,
        schema.GI_Z,
        schema.GI_BIN,
    )
    _check_gdf(cells, "cells", need)
    if not 0 <= quiet_quantile <= 1:
        raise ValueError(f"`quiet_quantile` was {quiet_quantile} but is expected in [0, 1]")
    count = cells[schema.COUNT].to_numpy(float)
    dcount = cells[schema.DIALOGUE_COUNT].to_numpy(float)
    nonempty = pd.Series(np.where(count > 0, count, np.nan), index=cells.index)
    quiet_limit = nonempty.groupby(cells[schema.AREA_ID].astype(str).to_numpy()).quantile(
        quiet_quantile
    )
    limit = cells[schema.AREA_ID].astype(str).map(quiet_limit).fillna(0).to_numpy()
    if zones is None:
        outside_zones = cells[schema.GI_BIN].to_numpy() <= 0
    else:
        outside_zones = np.ones(len(cells), dtype=bool)
        if len(zones):
            zg = zones.to_crs(cells.crs).geometry.values if zones.crs != cells.crs else None
            zg = zones.geometry.values if zg is None else zg
            hit = shapely.STRtree(zg).query(
                shapely.point_on_surface(cells.geometry.values), predicate="intersects"
            )[0]
            outside_zones[hit] = False
    felt = (dcount >= min_mentions) & (count <= limit) & outside_zones
    cx, cy = _point_xy(gpd.GeoDataFrame(geometry=cells.geometry.centroid, crs=cells.crs))
    hot = cells[schema.GI_BIN].to_numpy() >= 2
    named = np.zeros(len(cells), dtype=bool)
    if (dcount > 0).any() and hot.any():
        tree = cKDTree(np.column_stack([cx[dcount > 0], cy[dcount > 0]]))
        d, _ = tree.query(np.column_stack([cx[hot], cy[hot]]), k=1)
        named[np.flatnonzero(hot)] = d <= named_within_m
    unnamed = hot & ~named
    out = cells.loc[felt | unnamed, [*need, "geometry"]].copy()
    out.insert(0, GAP_KIND, np.where(felt[felt | unnamed], GAP_FELT, GAP_UNNAMED))
    out["_key"] = np.where(
        out[GAP_KIND] == GAP_FELT, -out[schema.DIALOGUE_COUNT], -out[schema.GI_Z]
    )
    out = out.sort_values([GAP_KIND, "_key"], ascending=[False, True], kind="stable").drop(
        columns="_key"
    )
    out = out.drop(columns=schema.GI_BIN).reset_index(drop=True)
    if len(out):
        out[schema.NAME] = _place_labels(out, gazetteer)
    else:
        out[schema.NAME] = pd.Series(dtype=object)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=cells.crs)
