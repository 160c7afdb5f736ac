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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo import schema
from geo.timewin import DAY_NAMES, hour_of_week, peak_hours

#: A gazetteer place within this distance (metres) of a zone names it outright.
NAME_WITHIN_M = 400.0
#: Beyond NAME_WITHIN_M but within this distance the name is "nära <place>".
NEAR_WITHIN_M = 1500.0
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


def _empty_zones(crs) -> gpd.GeoDataFrame:
    cols = {c: pd.Series(dtype=object) for c in ZONE_COLUMNS}
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


def _names(zones: gpd.GeoDataFrame, gazetteer: gpd.GeoDataFrame | None, centres=None) -> list[str]:
    """Place nearest the zone's centre within NAME_WITHIN_M; else "nära <place>"; else area.

    ``centres`` (points) default to each zone's representative point.
    """
    names = zones[schema.AREA_NAME].fillna(zones[schema.AREA_ID]).astype(str).tolist()
    if gazetteer is None or gazetteer.empty:
        return names
    gaz = gazetteer.to_crs(zones.crs) if gazetteer.crs != zones.crs else gazetteer
    tree = shapely.STRtree(gaz.geometry.values)
    geoms = shapely.point_on_surface(zones.geometry.values) if centres is None else centres
    idx = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    (zi, gi), dist = idx
    place = gaz[schema.PLACE_NAME].astype(str).to_numpy()
    for z, g, d in zip(zi, gi, dist, strict=True):
        if d <= NAME_WITHIN_M:
            names[z] = place[g]
        elif d <= NEAR_WITHIN_M:
            names[z] = f"nära {place[g]}"
    return names


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

    Returns
    -------
    GeoDataFrame
        Columns ``ZONE_COLUMNS`` + geometry, sorted by area and rank.

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
    ('A', 2, 66.7)
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
    profiles = _profiles(inc[schema.OCCURRED_AT].iloc[member], mw, zone_of, k_zones)
    columns[schema.PEAK_HOURS] = [
        peak_hours(profiles[k]) if sizes[k] else "" for k in range(k_zones)
    ]
    rows = pd.DataFrame(columns)
    out = gpd.GeoDataFrame(rows, geometry=list(polys), crs=polygons.crs)
    out = out.sort_values(
        [schema.AREA_ID, schema.SCORE, schema.INCIDENT_COUNT],
        ascending=[True, False, False],
        kind="stable",
    ).reset_index(drop=True)
    out[schema.RANK] = out.groupby(schema.AREA_ID).cumcount() + 1
    cum = out.groupby(schema.AREA_ID)["_weight"].cumsum()
    out[schema.HIT_RATE] = np.where(
        out["_total"] > 0, cum / out["_total"].where(out["_total"] > 0, 1), 0.0
    )
    out[schema.ZONE_ID] = out[schema.AREA_ID] + "-" + out[schema.RANK].astype(str)
    out[schema.NAME] = _names(out, gazetteer, out["_centre"].to_numpy())
    return out[[*ZONE_COLUMNS, "geometry"]]


def _polygon_parts(geom) -> list:
    return [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]


def zones_from_cells(
    cells: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    dialogue: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    min_bin: int = 2,
) -> gpd.GeoDataFrame:
    """Zones from significant hot cells: edge-touching cells with ``gi_bin >= min_bin`` merge.

    Cells merge only within their area; the zone polygon is the union of its cells.
    See :func:`describe_zones` for the columns.

    Examples
    --------
    >>> import pandas as pd
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[shapely.box(0, 0, 300, 100)], crs=3006)
    >>> cells = gpd.GeoDataFrame({"area_id": ["a"] * 3, "gi_bin": [3, 2, 0]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100),
    ...               shapely.box(200, 0, 300, 100)], crs=3006)
    >>> inc = gpd.GeoDataFrame({"category": ["rån"], "weight": [1.0],
    ...     "occurred_at": pd.to_datetime(["2018-03-16 23:00"]).tz_localize("Europe/Stockholm")},
    ...     geometry=shapely.points([50], [50]), crs=3006)
    >>> z = zones_from_cells(cells, inc, areas)
    >>> len(z), float(z.loc[0, "area_km2"])   # the two hot cells: one zone of 0.02 km²
    (1, 0.02)
    """
    _check_gdf(cells, "cells", (schema.AREA_ID, schema.GI_BIN))
    if not isinstance(min_bin, int | np.integer) or not 1 <= min_bin <= 3:
        raise ValueError(f"`min_bin` was {min_bin!r} but is expected to be 1, 2 or 3")
    hot = cells[cells[schema.GI_BIN] >= min_bin]
    recs_area, recs_geom = [], []
    for aid, group in hot.groupby(hot[schema.AREA_ID].astype(str), sort=True):
        for part in _polygon_parts(shapely.union_all(group.geometry.values)):
            recs_area.append(aid)
            recs_geom.append(part)
    polygons = gpd.GeoDataFrame({schema.AREA_ID: recs_area}, geometry=recs_geom, crs=cells.crs)
    return describe_zones(polygons, incidents, areas, dialogue=dialogue, gazetteer=gazetteer)


def zones_from_labels(
    incidents: gpd.GeoDataFrame,
    labels,
    areas: gpd.GeoDataFrame,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    dialogue: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Zones from cluster labels: per cluster and area, the buffered convex hull.

    A cluster that spans two areas gives one zone in each (clipped to the area).

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
    frame = pd.DataFrame({"lab": lab[keep], "area": inc_area[keep].astype(str)})
    group = frame.groupby(["lab", "area"], sort=True).ngroup().to_numpy()
    group_area = frame.groupby(["lab", "area"], sort=True)["area"].first().to_numpy()
    hulls = _group_hulls(x, y, group, len(group_area))
    polys = shapely.buffer(hulls, max(buffer_m, 1.0))
    recs_area, recs_geom = [], []
    for aid, poly in zip(group_area, polys, strict=True):
        if aid in area_geom:
            poly = shapely.intersection(poly, area_geom[aid])
        for part in _polygon_parts(poly):
            recs_area.append(aid)
            recs_geom.append(part)
    polygons = gpd.GeoDataFrame({schema.AREA_ID: recs_area}, geometry=recs_geom, crs=incidents.crs)
    return describe_zones(polygons, incidents, areas, dialogue=dialogue, gazetteer=gazetteer)


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
    _check_gdf(zones, "zones", (schema.ZONE_ID, schema.AREA_ID))
    _check_gdf(incidents, "incidents")
    _check_gdf(areas, "areas", (schema.AREA_ID,))
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
    min_mentions: int = 2,
    quiet_quantile: float = 0.5,
    named_within_m: float = GAP_NAMED_WITHIN_M,
) -> gpd.GeoDataFrame:
    """Where felt unsafety and incidents disagree, per cell.

    * **upplevt otryggt, få brott**: cells with at least ``min_mentions`` dialogue mentions
      whose incident count is at most the ``quiet_quantile`` of the area's non-empty cells
      and that are not significant hot spots (``gi_bin <= 0``).
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
    felt = (dcount >= min_mentions) & (count <= limit) & (cells[schema.GI_BIN].to_numpy() <= 0)
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
        with_names = out.assign(**{schema.AREA_NAME: out[schema.AREA_ID]})
        out[schema.NAME] = _names(with_names, gazetteer)
    else:
        out[schema.NAME] = pd.Series(dtype=object)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=cells.crs)
