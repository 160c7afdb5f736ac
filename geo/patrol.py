"""Helgförstärkning: choosing patrol-focus zones and checking whether hotspots hold.

This module owns the planner's questions: *where* should the weekend reinforcement go
(greedy maximal coverage of the window's incidents over candidate zones), *when* in the
window (the peak 2–4 hour block per zone), *how stable* are those places (persistence:
look back, then forward), and the hand adjustments before export (drop a zone, draw one).

Candidates are the hotspot zones of `geo.analysis.run_hotspots` on the window-filtered
incidents: places a patrol can cover (at most 0.25 km² by default, with at least five
incidents), analysed within the areas chosen or, without a choice, the areas that hold the
window's incidents (also the A of PAI). With too few incidents for zones that hold, the plan
says so in ``warning`` (see `candidates_from_run`). The method is documented in docs/patrol.md.

Data caveats: incidents flagged ``at_area_centre`` (a geocoding fallback on an area's centre
point) are not places anyone can patrol and are left out of coverage; their number is
reported. Counts are weighted by ``weight`` (1.0 unless the file said otherwise).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from geo import schema as S
from geo.errors import InputError
from geo.timewin import date_only_note, has_clock_times, hour_of_week, peak_hours

#: Number of zones chosen when neither K nor a budget is given.
DEFAULT_K = 3
#: Open inspection issues are counted within this distance of a zone.
ISSUES_WITHIN_M = 150.0
#: Persistence labels: test share / training share at or above STABLE is "stabila", at or
#: above PARTLY "delvis stabila", below it "rörliga".
STABLE, PARTLY = 0.75, 0.5

# Columns this module adds to zones.
PICK = "pick"  # 1 = chosen first by the greedy step
NEW_INCIDENTS = "new_incidents"  # window incidents this zone added to the covered set
CUM_HIT_RATE = "cumulative_hit_rate"
CUM_AREA_KM2 = "cumulative_area_km2"
RECOMMENDED_HOURS = "recommended_hours"  # plain Swedish, e.g. "fre–lör 22–01"
OPEN_ISSUES = "open_issues_nearby"
SOURCE = "source"  # "zon", "cell" or "ritad"


# --------------------------------------------------------------------------------------
# membership
# --------------------------------------------------------------------------------------
def _placeable(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if S.AT_AREA_CENTRE in incidents.columns:
        return incidents[~incidents[S.AT_AREA_CENTRE].fillna(False).astype(bool)]
    return incidents


def _weights(incidents: gpd.GeoDataFrame) -> np.ndarray:
    if S.WEIGHT in incidents.columns:
        return incidents[S.WEIGHT].fillna(1.0).to_numpy(dtype=float)
    return np.ones(len(incidents))


def _members(zones: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> list[np.ndarray]:
    """For each zone (positional), the positions of the points inside or on its edge."""
    out: list[np.ndarray] = [np.empty(0, dtype=int) for _ in range(len(zones))]
    if not len(zones) or not len(points):
        return out
    tree = shapely.STRtree(points.geometry.values)
    zone_pos, point_pos = tree.query(zones.geometry.values, predicate="intersects")
    for z in np.unique(zone_pos):
        out[z] = np.unique(point_pos[zone_pos == z])
    return out


def _check_frames(candidates: object, incidents: object) -> None:
    for name, frame in (("candidates", candidates), ("incidents", incidents)):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise TypeError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
        if frame.crs is None or not frame.crs.equals(S.CRS_METRIC):
            raise ValueError(f"{name} must be in {S.CRS_METRIC}, got {frame.crs}")


# --------------------------------------------------------------------------------------
# zone figures
# --------------------------------------------------------------------------------------
def zone_figures(
    zones: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    study_area_km2: float | None = None,
    window: object | None = None,
    dialogue: gpd.GeoDataFrame | None = None,
    open_issues: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Figures for an ordered set of zones against the window incidents.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Polygons in EPSG:3006, in the order they are deployed (first = most important).
        Keeps ``zone_id``, ``name`` and any other columns; ``dialogue_mentions`` is kept
        when ``dialogue`` is not given.
    incidents : geopandas.GeoDataFrame
        The incidents to cover, already filtered to period, categories and time window.
    study_area_km2 : float, optional
        The whole study area A for PAI = (n/N)/(a/A); PAI is missing (NaN) without it.
    window : geo.timewin.TimeWindow, optional
        Limits the recommended hours to the window.
    dialogue : geopandas.GeoDataFrame, optional
        Dialogue places; mentions of places intersecting a zone are summed.
    open_issues : geopandas.GeoDataFrame, optional
        Open inspection issues (points); counted within ``ISSUES_WITHIN_M`` of each zone.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame with ``pick`` (1..n), ``area_km2``, ``incident_count``, ``new_incidents``,
        ``hit_rate``, ``cumulative_hit_rate``, ``cumulative_area_km2``, ``pai``,
        ``dialogue_mentions``, ``open_issues_nearby`` (only with ``open_issues``),
        ``recommended_hours`` and ``peak_hours``.

    Raises
    ------
    InputError
        If there are no incidents to cover.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)], crs="EPSG:3006")
    >>> t = pd.Timestamp("2025-01-03 22:00", tz="Europe/Stockholm")
    >>> pts = gpd.GeoDataFrame({"occurred_at": [t, t]}, crs="EPSG:3006",
    ...                        geometry=[Point(50, 50), Point(500, 500)])
    >>> f = zone_figures(z, pts, study_area_km2=1.0)
    >>> float(f["hit_rate"][0]), float(f["pai"][0])  # (1/2) / (0.01/1) = 50
    (0.5, 50.0)
    """
    _check_frames(zones, incidents)
    points = _placeable(incidents)
    if not len(points):
        raise InputError(
            "Det finns inga incidenter att täcka i vald period, kategorier och tidsfönster."
        )
    w = _weights(points)
    total = float(w.sum())
    members = _members(zones, points)
    out = zones.copy().reset_index(drop=True)
    out[PICK] = np.arange(1, len(out) + 1)
    area = out.geometry.area.to_numpy() / 1e6
    out[S.AREA_KM2] = area
    covered = np.zeros(len(points), dtype=bool)
    counts, new, cum = [], [], []
    for m in members:
        counts.append(float(w[m].sum()))
        fresh = m[~covered[m]]
        new.append(float(w[fresh].sum()))
        covered[m] = True
        cum.append(float(w[covered].sum()) / total)
    out[S.INCIDENT_COUNT] = counts
    out[NEW_INCIDENTS] = new
    out[S.HIT_RATE] = np.asarray(counts) / total
    out[CUM_HIT_RATE] = cum
    out[CUM_AREA_KM2] = np.cumsum(area)
    if study_area_km2 is not None and study_area_km2 > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[S.PAI] = out[S.HIT_RATE] / (area / study_area_km2)
    else:
        out[S.PAI] = np.nan
    if dialogue is not None:
        mentions = (
            dialogue[S.MENTIONS].fillna(1).to_numpy(dtype=float)
            if S.MENTIONS in dialogue.columns
            else np.ones(len(dialogue))
        )
        d = dialogue.to_crs(S.CRS_METRIC)
        tree = shapely.STRtree(d.geometry.values)
        zi, di = tree.query(out.geometry.values, predicate="intersects")
        out[S.DIALOGUE_MENTIONS] = np.bincount(zi, weights=mentions[di], minlength=len(out))
    elif S.DIALOGUE_MENTIONS not in out.columns:
        out[S.DIALOGUE_MENTIONS] = np.nan
    if open_issues is not None:
        tree = shapely.STRtree(open_issues.to_crs(S.CRS_METRIC).geometry.values)
        zi, _ = tree.query(out.geometry.values, predicate="dwithin", distance=ISSUES_WITHIN_M)
        out[OPEN_ISSUES] = np.bincount(zi, minlength=len(out))
    hours = [recommended_hours(points.iloc[m], window=window) for m in members]
    out[RECOMMENDED_HOURS] = hours
    out[S.PEAK_HOURS] = hours
    return out


# --------------------------------------------------------------------------------------
# recommended hours
# --------------------------------------------------------------------------------------
def recommended_hours(incidents: gpd.GeoDataFrame, *, window: object | None = None) -> str:
    """The peak 2–4 hour block of ``incidents`` inside ``window``, as plain Swedish text.

    Uses `geo.timewin.peak_hours` (the project's one definition of peak blocks).
    An empty frame gives ``"–"`` (no incidents, no hours to recommend).

    Examples
    --------
    >>> import geopandas as gpd
    >>> recommended_hours(gpd.GeoDataFrame(geometry=[], crs="EPSG:3006"))
    '–'
    """
    if not len(incidents) or not has_clock_times(incidents[S.OCCURRED_AT]):
        return "–"  # nothing, or dates only: no hours to recommend
    weights = S.WEIGHT if S.WEIGHT in incidents.columns else None
    text = peak_hours(hour_of_week(incidents, weights=weights), window=window)
    return text or "–"


# --------------------------------------------------------------------------------------
# greedy choice
# --------------------------------------------------------------------------------------
def choose_zones(
    candidates: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    k: int | None = None,
    budget_km2: float | None = None,
    study_area_km2: float | None = None,
    window: object | None = None,
    dialogue: gpd.GeoDataFrame | None = None,
    open_issues: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Choose patrol zones by greedy maximal coverage of the window incidents.

    Each step takes the candidate that covers the most (weighted) incidents not yet covered
    by the zones already chosen. Ties go to the smaller candidate (more incidents per km²),
    then to the candidate that came first in ``candidates`` (its rank). The choice stops
    after ``k`` zones, when no remaining candidate fits the area budget, or when no
    candidate adds any uncovered incident. With a budget, candidates larger than what is
    left are skipped, so a smaller one may still be added after a large one did not fit.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Candidate zones or cells (polygons, EPSG:3006), best first.
    incidents : geopandas.GeoDataFrame
        Window incidents (already filtered to period, categories and window), EPSG:3006.
    k : int, optional
        Number of zones. Without ``k`` and ``budget_km2``: ``min(DEFAULT_K, candidates)``.
    budget_km2 : float, optional
        Total area the chosen zones may cover, in km². Exclusive with ``k``.
    study_area_km2, window, dialogue, open_issues
        Passed to `zone_figures`.

    Returns
    -------
    geopandas.GeoDataFrame
        The chosen zones in pick order with the columns of `zone_figures`.

    Raises
    ------
    InputError
        If ``k`` exceeds the number of candidates, there are no candidates, no incidents, or
        the budget is smaller than every candidate.
    ValueError
        If ``k`` < 1, ``budget_km2`` <= 0, or both are given.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> cand = gpd.GeoDataFrame({"name": ["A", "B", "C"]}, crs="EPSG:3006",
    ...     geometry=[box(0, 0, 10, 10), box(5, 0, 15, 10), box(100, 0, 110, 10)])
    >>> t = pd.Timestamp("2025-01-03 22:00", tz="Europe/Stockholm")
    >>> pts = gpd.GeoDataFrame({"occurred_at": [t] * 6}, crs="EPSG:3006",
    ...                        geometry=[Point(x, 5) for x in (1, 2, 7, 8, 12, 101)])
    >>> list(choose_zones(cand, pts, k=2)["name"])  # A: 4; then B and C add 1 each, B first
    ['A', 'B']
    """
    _check_frames(candidates, incidents)
    if k is not None and budget_km2 is not None:
        raise ValueError("give either k or budget_km2, not both")
    if k is not None and (not isinstance(k, (int, np.integer)) or k < 1):
        raise ValueError(f"k must be a whole number >= 1, got {k!r}")
    if budget_km2 is not None and not budget_km2 > 0:
        raise ValueError(f"budget_km2 must be > 0, got {budget_km2!r}")
    n = len(candidates)
    if n == 0:
        raise InputError("Det finns inga kandidatzoner (inga hotspots) i området och perioden.")
    if k is not None and k > n:
        raise InputError(f"K = {k} är fler än kandidatzonerna: det finns bara {n} att välja bland.")
    points = _placeable(incidents)
    if not len(points):
        raise InputError(
            "Det finns inga incidenter att täcka i vald period, kategorier och tidsfönster."
        )
    areas = candidates.geometry.area.to_numpy() / 1e6
    if budget_km2 is not None and areas.min() > budget_km2:
        raise InputError(
            f"Ytbudgeten {budget_km2:g} km² är mindre än den minsta kandidatzonen "
            f"({areas.min():.3f} km²)."
        )
    limit = k if k is not None else (n if budget_km2 is not None else min(DEFAULT_K, n))
    w = _weights(points)
    members = _members(candidates, points)
    covered = np.zeros(len(points), dtype=bool)
    left = budget_km2 if budget_km2 is not None else math.inf
    remaining = list(range(n))
    picked: list[int] = []
    while remaining and len(picked) < limit:
        best, best_key = None, None
        for c in remaining:
            if areas[c] > left + 1e-12:
                continue
            m = members[c]
            gain = float(w[m[~covered[m]]].sum())
            key = (-gain, areas[c], c)  # most new incidents, then smaller, then rank order
            if best_key is None or key < best_key:
                best, best_key = c, key
        if best is None or -best_key[0] <= 0:
            break
        picked.append(best)
        covered[members[best]] = True
        left -= areas[best]
        remaining.remove(best)
    if not picked:
        raise InputError(
            "Inga kandidatzoner innehåller incidenter från tidsfönstret; välj fler kategorier, "
            "en längre period eller ett annat fönster."
        )
    chosen = candidates.iloc[picked]
    return zone_figures(
        chosen,
        incidents,
        study_area_km2=study_area_km2,
        window=window,
        dialogue=dialogue,
        open_issues=open_issues,
    )


def candidates_from_run(run: object) -> gpd.GeoDataFrame:
    """Candidate zones from a `geo.analysis.HotspotRun`: its zones, best ranked first.

    The run's zones are already places a patrol can cover (each at most the zone cap, with
    at least `geo.analysis.MIN_ZONE_INCIDENTS` incidents); single grid cells are never
    offered as targets. The column ``source`` is ``"zon"``.

    Raises
    ------
    InputError
        If the run has no zones, with what to try instead.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from types import SimpleNamespace
    >>> from shapely.geometry import box
    >>> zones = gpd.GeoDataFrame({"name": ["B", "A"], "rank": [2, 1]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:3006")
    >>> list(candidates_from_run(SimpleNamespace(zones=zones))["name"])
    ['A', 'B']
    """
    zones = run.zones
    if zones is None or not len(zones):
        raise InputError(
            "Det finns inga hotspotzoner för vald period, kategorier och tidsfönster: "
            "händelserna är för få eller för utspridda för att peka ut platser. Välj en längre "
            "period, fler brottskategorier, ett bredare tidsfönster eller ett större område."
        )
    out = zones.copy()
    sort = [c for c in (S.AREA_ID, S.RANK) if c in out.columns]
    if S.RANK in out.columns:
        # Best ranked of every area first (rank 1s, then rank 2s, ...), then by score.
        keys = [S.RANK] + ([S.SCORE] if S.SCORE in out.columns else [])
        out = out.sort_values(keys, ascending=[True] + [False] * (len(keys) - 1), kind="stable")
    elif sort:
        out = out.sort_values(sort, kind="stable")
    out[SOURCE] = "zon"
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# persistence
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Persistence:
    """How the same zones capture incidents in a training and a following test period.

    ``table`` has one row per zone (``zone_id``, ``name``, ``train_count``, ``train_share``,
    ``test_count``, ``test_share``); the totals are over the union of the zones.
    """

    table: pd.DataFrame
    train_n: float
    test_n: float
    train_share: float
    test_share: float
    label: str
    message: str
    periods: dict = field(default_factory=dict)


def persistence(
    zones: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    train: tuple,
    test: tuple,
) -> Persistence:
    """Look back, then forward: the share of window incidents the same zones capture.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Zones in EPSG:3006 (normally chosen on the training period).
    incidents : geopandas.GeoDataFrame
        Window incidents over both periods, with ``occurred_at``.
    train, test : tuple of (start, end)
        Half-open periods ``[start, end)``; anything `pandas.Timestamp` accepts; naive times
        are read as Europe/Stockholm.

    Returns
    -------
    Persistence
        Shares per zone and for all zones together, and a Swedish verdict: ``"stabila"``
        when the test share is at least ``STABLE`` (75 %) of the training share,
        ``"delvis stabila"`` at least ``PARTLY`` (50 %), else ``"rörliga"``.

    Raises
    ------
    InputError
        If either period has no incidents.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:3006")
    >>> t = pd.to_datetime(["2025-01-03 22:00", "2025-01-10 22:00", "2025-07-04 22:00",
    ...     "2025-07-11 22:00"]).tz_localize("Europe/Stockholm")
    >>> pts = gpd.GeoDataFrame({"occurred_at": t}, crs="EPSG:3006",
    ...     geometry=[Point(5, 5), Point(50, 5), Point(5, 5), Point(6, 6)])
    >>> p = persistence(z, pts, train=("2025-01-01", "2025-07-01"), test=("2025-07-01", "2026-01-01"))
    >>> p.train_share, p.test_share, p.label  # 1 of 2, then 2 of 2
    (0.5, 1.0, 'stabila')
    """
    _check_frames(zones, incidents)
    points = _placeable(incidents)
    times = points[S.OCCURRED_AT]
    bounds = {}
    parts = {}
    for name, (start, end) in (("train", train), ("test", test)):
        lo, hi = _ts(start), _ts(end)
        if not lo < hi:
            raise ValueError(f"{name} period must have start < end, got {start} – {end}")
        bounds[name] = (lo, hi)
        parts[name] = points[(times >= lo) & (times < hi)]
        if not len(parts[name]):
            label = "träningsperioden" if name == "train" else "uppföljningsperioden"
            raise InputError(
                f"Det finns inga incidenter i {label} {lo:%Y-%m-%d} – {hi:%Y-%m-%d}; "
                "välj en period med data."
            )
    table = pd.DataFrame(
        {
            S.ZONE_ID: zones[S.ZONE_ID].to_numpy()
            if S.ZONE_ID in zones
            else range(1, len(zones) + 1),
            S.NAME: zones[S.NAME].to_numpy() if S.NAME in zones else None,
        }
    )
    shares = {}
    totals = {}
    for name, part in parts.items():
        w = _weights(part)
        members = _members(zones.reset_index(drop=True), part)
        table[f"{name}_count"] = [float(w[m].sum()) for m in members]
        table[f"{name}_share"] = table[f"{name}_count"] / w.sum()
        union = np.unique(np.concatenate(members)) if members else np.empty(0, dtype=int)
        totals[name] = float(w.sum())
        shares[name] = float(w[union].sum() / w.sum())
    ratio = shares["test"] / shares["train"] if shares["train"] > 0 else 0.0
    label = "stabila" if ratio >= STABLE else ("delvis stabila" if ratio >= PARTLY else "rörliga")
    message = (
        f"Zonerna fångade {shares['train']:.0%} av fönstrets incidenter under "
        f"{bounds['train'][0]:%Y-%m-%d} – {bounds['train'][1]:%Y-%m-%d} och "
        f"{shares['test']:.0%} under {bounds['test'][0]:%Y-%m-%d} – {bounds['test'][1]:%Y-%m-%d}: "
        f"hotspotsen är {label}."
    ).replace("%", " %")
    return Persistence(
        table=table,
        train_n=totals["train"],
        test_n=totals["test"],
        train_share=shares["train"],
        test_share=shares["test"],
        label=label,
        message=message,
        periods=bounds,
    )


def _ts(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize(S.TZ) if ts.tzinfo is None else ts.tz_convert(S.TZ)


# --------------------------------------------------------------------------------------
# hand adjustments
# --------------------------------------------------------------------------------------
def drop_zone(
    zones: gpd.GeoDataFrame, zone_id: object, incidents: gpd.GeoDataFrame, **figures
) -> gpd.GeoDataFrame:
    """Remove one zone by ``zone_id`` and recompute the figures of the rest.

    ``figures`` go to `zone_figures` (``study_area_km2``, ``window``, ...).

    Raises
    ------
    InputError
        If no zone has that id.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> z = gpd.GeoDataFrame({"zone_id": ["a", "b"]}, crs="EPSG:3006",
    ...     geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)])
    >>> t = pd.Timestamp("2025-01-03 22:00", tz="Europe/Stockholm")
    >>> pts = gpd.GeoDataFrame({"occurred_at": [t, t]}, crs="EPSG:3006",
    ...                        geometry=[Point(5, 5), Point(25, 5)])
    >>> drop_zone(z, "a", pts)["cumulative_hit_rate"].tolist()
    [0.5]
    """
    ids = zones[S.ZONE_ID].astype(str)
    if str(zone_id) not in set(ids):
        raise InputError(f"Zonen {zone_id} finns inte; zonerna är {', '.join(ids)}.")
    kept = zones[ids != str(zone_id)]
    if not len(kept):
        raise InputError("Minst en zon måste finnas kvar.")
    return zone_figures(kept, incidents, **figures)


def polygon_from_geojson(feature: Mapping | str) -> shapely.Geometry:
    """A Polygon in EPSG:3006 from a drawn GeoJSON Feature or geometry (WGS 84 lon/lat).

    Raises
    ------
    InputError
        If it is not a valid polygon in Sweden.

    Examples
    --------
    >>> f = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
    ...      "coordinates": [[[17.83, 59.42], [17.84, 59.42], [17.84, 59.43], [17.83, 59.42]]]}}
    >>> round(polygon_from_geojson(f).area / 1e6, 2)  # ½ × 567 m × 1113 m ≈ 0.32 km²
    0.32
    """
    if isinstance(feature, str):
        try:
            feature = json.loads(feature)
        except json.JSONDecodeError as exc:
            raise InputError(f"Den ritade zonen är inte giltig GeoJSON: {exc.msg}.") from exc
    if not isinstance(feature, Mapping):
        raise InputError(
            f"Den ritade zonen ska vara ett GeoJSON-objekt, fick {type(feature).__name__}."
        )
    geom_json = feature.get("geometry", feature)
    try:
        geom = shape(geom_json)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise InputError(f"Den ritade zonen är inte giltig GeoJSON: {exc}.") from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(f"En zon måste vara en polygon (rita en yta), fick {geom.geom_type}.")
    minx, miny, maxx, maxy = geom.bounds
    lo_lon, lo_lat, hi_lon, hi_lat = S.SWEDEN_BOUNDS_LONLAT
    if not (lo_lon <= minx and maxx <= hi_lon and lo_lat <= miny and maxy <= hi_lat):
        raise InputError("Den ritade zonen ligger utanför Sverige (lon/lat i WGS 84 väntas).")
    metric = gpd.GeoSeries([shapely.make_valid(geom)], crs=S.CRS_WGS84).to_crs(S.CRS_METRIC)
    poly = metric.iloc[0]
    if poly.is_empty or poly.area <= 0:
        raise InputError("Den ritade zonen har ingen yta.")
    return poly


def add_drawn_zone(
    zones: gpd.GeoDataFrame,
    feature: Mapping | str,
    incidents: gpd.GeoDataFrame,
    *,
    name: str | None = None,
    **figures,
) -> gpd.GeoDataFrame:
    """Append a polygon drawn on the map (GeoJSON, WGS 84) as a zone and recompute figures.

    The new zone gets ``zone_id`` ``"ritad-<n>"``, ``source`` ``"ritad"`` and ``name`` (default
    ``"Ritad zon <n>"``). ``figures`` go to `zone_figures`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> z = gpd.GeoDataFrame({"zone_id": ["a"], "name": ["A"]}, crs="EPSG:3006",
    ...     geometry=[box(0, 0, 10, 10)])
    >>> t = pd.Timestamp("2025-01-03 22:00", tz="Europe/Stockholm")
    >>> pts = gpd.GeoDataFrame({"occurred_at": [t]}, geometry=[Point(5, 5)], crs="EPSG:3006")
    >>> f = {"type": "Polygon", "coordinates": [[[17.83, 59.42], [17.84, 59.42],
    ...      [17.84, 59.43], [17.83, 59.42]]]}
    >>> add_drawn_zone(z, f, pts)["name"].tolist()
    ['A', 'Ritad zon 1']
    """
    poly = polygon_from_geojson(feature)
    existing = zones[SOURCE].eq("ritad").sum() if SOURCE in zones.columns else 0
    n = int(existing) + 1
    row = gpd.GeoDataFrame(
        {
            S.ZONE_ID: [f"ritad-{n}"],
            S.NAME: [name.strip() if name and name.strip() else f"Ritad zon {n}"],
            SOURCE: ["ritad"],
        },
        geometry=[poly],
        crs=S.CRS_METRIC,
    )
    base = (
        zones.drop(columns=[S.DIALOGUE_MENTIONS], errors="ignore")
        if figures.get("dialogue") is not None
        else zones
    )
    merged = pd.concat([base, row], ignore_index=True)
    return zone_figures(
        gpd.GeoDataFrame(merged, geometry="geometry", crs=S.CRS_METRIC), incidents, **figures
    )


# --------------------------------------------------------------------------------------
# the whole planning step (CLI and page)
# --------------------------------------------------------------------------------------
#: The default helgförstärkning window: Friday and Saturday evenings into the night.
DEFAULT_WINDOW = "fre,lör 18-03"
#: The default categories: violence in public places.
DEFAULT_CATEGORIES = (S.VIOLENCE,)
#: The default period: this many months back from the newest incident.
DEFAULT_MONTHS = 12
#: Without boundaries, the study area is the incidents' convex hull buffered this much.
HULL_BUFFER_M = 500.0


@dataclass(frozen=True)
class PatrolPlan:
    """Everything the page and the CLI show about one helgförstärkning plan.

    Attributes
    ----------
    zones : GeoDataFrame
        Chosen zones in pick order (columns of `zone_figures`), EPSG:3006.
    candidates : GeoDataFrame
        The candidate zones or cells the choice was made from.
    areas : GeoDataFrame
        The study area(s) used (boundaries, or the incidents' buffered hull).
    window_incidents : GeoDataFrame
        Incidents in the period, categories, areas and window.
    profile : DataFrame
        7×24 hour-of-week counts of the period's incidents in the chosen categories and
        areas (all hours, so the window can be set from it).
    persistence : Persistence or None
        The stability test: zones re-chosen on the first half of the period (not the
        exported zones), checked on the second half; ``message`` starts "Stabilitetstest:".
    forward : Persistence or None
        The forward check of the exported zones: their share of the planning period's
        window incidents (``train_share``) and of the following period's (``test_share``),
        when the data reaches past the period; ``message`` starts "Framåtkontroll:".
    params : dict
        The parameters used, as plain values (for exports and the audit trail).
    messages : list of str
        Swedish notes for the user (automatic choices, what was left out).
    study_area_km2 : float
        A in PAI: the areas analysed (the chosen ones, or those holding the window's
        incidents), never a whole boundary file.
    window : geo.timewin.TimeWindow
        The window used.
    warning : str or None
        A plain-Swedish warning when the zones should not be used as they are (too few
        incidents in the window for zones that hold: the stability test says they move),
        with what to change.
    """

    zones: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    window_incidents: gpd.GeoDataFrame
    profile: pd.DataFrame
    persistence: Persistence | None
    params: dict
    messages: list[str]
    study_area_km2: float
    window: object = None
    forward: Persistence | None = None
    warning: str | None = None

    def figures(self) -> dict:
        """Keyword arguments for `zone_figures`, `drop_zone` and `add_drawn_zone`."""
        return {"study_area_km2": self.study_area_km2, "window": self.window}


def default_period(incidents: pd.DataFrame, *, months: int = DEFAULT_MONTHS):
    """(start, end) dates: the last ``months`` months of the data, both ends inclusive.

    Never before the first incident: six months of data give a six-month period (so its
    halves, for the stability test, both hold data).

    Examples
    --------
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(["2024-03-01 12:00",
    ...     "2025-03-31 23:00"]).tz_localize("Europe/Stockholm")})
    >>> default_period(f)
    (datetime.date(2024, 4, 1), datetime.date(2025, 3, 31))
    >>> default_period(pd.DataFrame({"occurred_at": pd.to_datetime(["2024-10-05",
    ...     "2025-03-31"]).tz_localize("Europe/Stockholm")}))
    (datetime.date(2024, 10, 5), datetime.date(2025, 3, 31))
    """
    if not len(incidents):
        raise InputError("Filen innehåller inga incidenter.")
    times = incidents[S.OCCURRED_AT]
    end = times.max().tz_convert(S.TZ).date()
    first = times.min().tz_convert(S.TZ).date()
    start = (pd.Timestamp(end) - pd.DateOffset(months=months) + pd.Timedelta(days=1)).date()
    return max(start, first), end


def study_area(incidents: gpd.GeoDataFrame, *, buffer_m: float = HULL_BUFFER_M):
    """A one-row area frame: the incidents' convex hull buffered by ``buffer_m`` metres.

    Used for PAI and the hotspot grid when no boundaries are given.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1000, 0), Point(0, 1000)],
    ...                        crs="EPSG:3006")
    >>> study_area(pts)["area_name"].iloc[0]
    'Studieområde (incidenternas utbredning)'
    """
    geoms = incidents.geometry.values
    if (shapely.get_type_id(geoms) == 0).all():
        # From the coordinates: no union of a million points.
        xy = shapely.get_coordinates(geoms)
        hull = shapely.convex_hull(shapely.multipoints(xy))
    else:
        hull = shapely.convex_hull(shapely.union_all(geoms))
    return gpd.GeoDataFrame(
        {
            S.AREA_ID: ["studieomrade"],
            S.AREA_NAME: ["Studieområde (incidenternas utbredning)"],
            S.LEVEL: ["kommundel"],
            S.PARENT_ID: [None],
        },
        geometry=[hull.buffer(buffer_m)],
        crs=S.CRS_METRIC,
    )


def _as_window(window):
    from geo.timewin import resolve_window

    try:
        return resolve_window(window)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None


def _candidates_for(incidents, areas, dialogue, gazetteer, max_zone_km2=None):
    from geo.analysis import run_hotspots
    from geo.zones import DEFAULT_MAX_ZONE_KM2

    run = run_hotspots(
        incidents,
        areas,
        dialogue=dialogue,
        gazetteer=gazetteer,
        max_zone_km2=DEFAULT_MAX_ZONE_KM2 if max_zone_km2 is None else max_zone_km2,
    )
    return candidates_from_run(run), list(getattr(run, "messages", []) or [])


def plan_zones(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None = None,
    *,
    window: object = DEFAULT_WINDOW,
    categories: Sequence[str] | None = DEFAULT_CATEGORIES,
    start: object = None,
    end: object = None,
    area_ids: Sequence[str] | None = None,
    k: int | None = None,
    budget_km2: float | None = None,
    dialogue: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    open_issues: gpd.GeoDataFrame | None = None,
    check_persistence: bool = True,
    who: str | None = None,
    lov_calendars: object = None,
    max_zone_km2: float | None = None,
) -> PatrolPlan:
    """Plan helgförstärkning zones: filter, find hotspots, choose, check persistence.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Validated incidents from `geo.io.load_incidents` (EPSG:3006).
    areas : geopandas.GeoDataFrame, optional
        Boundaries; without them the study area is `study_area` of the period's incidents.
    window : TimeWindow or str, default "fre,lör 18-03"
        The time window (see `geo.timewin.parse_window`).
    categories : sequence of str, default (våld på offentlig plats,)
        Lägesbild categories; ``None`` keeps all.
    start, end : date or "YYYY-MM-DD", optional
        Inclusive period; default the last 12 months of the data (`default_period`).
    area_ids : sequence of str, optional
        Only these areas of ``areas``.
    k, budget_km2
        Number of zones or area budget, as in `choose_zones`.
    dialogue, gazetteer
        Passed to `geo.analysis.run_hotspots` (dialogue weights, zone names).
    open_issues : geopandas.GeoDataFrame, optional
        Open inspection issues, counted near each zone.
    check_persistence : bool, default True
        Choose zones on the first half of the period and measure them on the second half.
    who : str, optional
        Who made the plan; recorded in ``params``.
    lov_calendars : geo.timewin.LovCalendars, optional
        School-holiday calendars per kommun for a window that uses lov (default: the bundled
        ones); each incident uses its own kommun's calendar.
    max_zone_km2 : float, optional
        Largest zone (default `geo.zones.DEFAULT_MAX_ZONE_KM2`, 0.25 km²).

    Returns
    -------
    PatrolPlan

    Raises
    ------
    InputError
        For a window that does not parse, an unknown category, a period or area without
        incidents, an area without hotspots, or K larger than the number of candidates.
    """
    window_obj = _as_window(window)
    if areas is not None and area_ids:
        wanted = {str(a) for a in area_ids}
        unknown = wanted - set(areas[S.AREA_ID].astype(str))
        if unknown:
            raise InputError(
                f"Okänt område {', '.join(sorted(unknown))}; områdena är "
                f"{', '.join(areas[S.AREA_ID].astype(str))}."
            )
        areas = areas[areas[S.AREA_ID].astype(str).isin(wanted)]
    if start is None or end is None:
        d_start, d_end = default_period(incidents)
        start = d_start if start is None else start
        end = d_end if end is None else end
    from geo.timewin import filter_incidents

    try:
        base = filter_incidents(incidents, start=start, end=end, categories=categories)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    if areas is not None:
        inside = shapely.STRtree(areas.geometry.values).query(
            base.geometry.values, predicate="intersects"
        )[0]
        base = base.iloc[np.unique(inside)]
    cats = ", ".join(categories) if categories else "alla kategorier"
    if not len(base):
        raise InputError(
            f"Det finns inga incidenter ({cats}) i perioden {start} – {end} i valt område."
        )
    win = filter_incidents(base, window=window_obj, areas=areas, lov_calendars=lov_calendars)
    if not len(win):
        raise InputError(
            f"Det finns inga incidenter ({cats}) i tidsfönstret {window_obj.label} "
            f"under {start} – {end}."
        )
    if areas is None:
        areas = study_area(base)
    elif not area_ids:
        areas = _areas_holding(areas, win)
    from geo.analysis import innermost_areas

    inner, _ = innermost_areas(areas)
    study_km2 = float(shapely.area(inner.geometry.values).sum() / 1e6)
    weights = S.WEIGHT if S.WEIGHT in base.columns else None
    profile = hour_of_week(base, weights=weights)
    candidates, messages = _candidates_for(win, areas, dialogue, gazetteer, max_zone_km2)
    if gazetteer is None:
        messages.append(
            'Zonerna har inga platsnamn och heter därför "Zon N – område"; en ortslista '
            "(--gazetteer FIL på kommandoraden) namnger dem efter närmaste plats, "
            't.ex. "Jakobsbergs station".'
        )
    wanted = k if k is not None else (DEFAULT_K if budget_km2 is None else None)
    if wanted is not None and wanted > len(candidates):
        n = len(candidates)
        messages.append(
            f"Bara {n} hotspotzon{'er' if n != 1 else ''} i valet, färre än K = {wanted}: "
            f"{'alla väljs' if n != 1 else 'den väljs'}. Fler zoner kräver fler händelser "
            "(en längre period, fler kategorier eller ett större område)."
        )
        k = n if k is not None else None
    undated = date_only_note(base[S.OCCURRED_AT], window_obj)
    if undated:
        messages.append(undated)
    zones = choose_zones(
        candidates,
        win,
        k=k,
        budget_km2=budget_km2,
        study_area_km2=study_km2,
        window=window_obj,
        open_issues=open_issues,
    )
    pers = None
    if check_persistence:
        pers, note = _split_persistence(
            win,
            areas,
            start,
            end,
            k=k,
            budget_km2=budget_km2,
            dialogue=dialogue,
            gazetteer=gazetteer,
            max_zone_km2=max_zone_km2,
        )
        if note:
            messages.append(note)
    forward = None
    if check_persistence:
        forward, note = _forward_check(
            zones, win, incidents, areas, start, end, categories=categories, window=window_obj
        )
        messages.append(note)
    warning = _unreliable(pers, len(win), cats) if check_persistence else None
    area_text = _area_text(inner, study_km2)
    params = {
        "window": window_obj.label,
        "categories": list(categories) if categories else list(S.CATEGORIES),
        "start": str(start),
        "end": str(end),
        "areas": area_text,
        "k": k,
        "budget_km2": budget_km2,
        "candidates": f"{len(candidates)} zoner",
        "window_incidents": int(len(win)),
        "study_area_km2": round(study_km2, 3),
        "method": "girig maximal täckning (greedy maximal coverage)",
        "created_at": pd.Timestamp.now(tz=S.TZ).isoformat(timespec="seconds"),
        "created_by": who or "",
    }
    return PatrolPlan(
        zones=zones,
        candidates=candidates,
        areas=areas,
        window_incidents=win,
        profile=profile,
        persistence=pers,
        params=params,
        messages=messages,
        study_area_km2=study_km2,
        window=window_obj,
        forward=forward,
        warning=warning,
    )


def _areas_holding(areas: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The areas that hold at least one of ``incidents`` (a national file: a few kommuner)."""
    from geo.spatial import locate_points

    xy = shapely.get_coordinates(incidents.geometry.values)
    geoms = areas.geometry.values
    held = np.zeros(len(areas), dtype=bool)
    where = locate_points(xy[:, 0], xy[:, 1], geoms)
    held[np.unique(where[where >= 0])] = True
    # Nested levels: an enclosing area holds them too (locate_points gives the first).
    inner = np.flatnonzero(held)
    if len(inner):
        hits = shapely.STRtree(geoms).query(
            shapely.point_on_surface(geoms[inner]), predicate="within"
        )[1]
        held[hits] = True
    return areas[held]


def _area_text(areas: gpd.GeoDataFrame, km2: float) -> str:
    """ "54 km² i Järfälla" (names shortened past four)."""
    names = (areas[S.AREA_NAME] if S.AREA_NAME in areas else areas[S.AREA_ID]).astype(str)
    shown = ", ".join(names.iloc[:4]) + (f" och {len(names) - 4} till" if len(names) > 4 else "")
    return f"{km2:.1f} km² i {shown}".replace(".", ",")


def _unreliable(pers: Persistence | None, n_window: int, cats: str) -> str | None:
    """The plan's plain warning when its zones would not hold, else None."""
    if pers is not None and pers.label != "rörliga":
        return None
    why = (
        f"zoner valda på periodens första halva fångade {_pct(pers.test_share)} av andra "
        f"halvans händelser mot {_pct(pers.train_share)} av första halvans"
        if pers is not None
        else "stabilitetstestet kunde inte göras"
    )
    return (
        f"Underlaget räcker inte för zoner som håller: {n_window} "
        f"{'händelse' if n_window == 1 else 'händelser'} i tidsfönstret "
        f"({cats}), och {why}. Använd zonerna med försiktighet; välj en längre period, fler "
        "brottskategorier eller ett bredare tidsfönster för ett säkrare val."
    )


def _pct(share: float) -> str:
    return f"{share:.0%}".replace("%", " %")


def _forward_check(zones, win, incidents, areas, start, end, *, categories, window):
    """The exported zones on the period after [start, end] (as long, cut at the newest data).

    ``win`` are the planning period's window incidents; ``incidents`` all of the input.

    Returns ``(Persistence or None, Swedish note)``; None when the data stops at ``end``.
    """
    from geo.timewin import filter_incidents

    lo = pd.Timestamp(str(start)).tz_localize(S.TZ)
    hi = pd.Timestamp(str(end)).tz_localize(S.TZ) + pd.Timedelta(days=1)
    newest = incidents[S.OCCURRED_AT].max()
    if not newest >= hi:
        return None, (
            f"Framåtkontroll: data slutar {newest:%Y-%m-%d}, så det finns ingen period efter "
            f"{end} att pröva zonerna på; välj en tidigare period för att se hur de håller."
        )
    next_hi = min(hi + (hi - lo), (newest + pd.Timedelta(days=1)).normalize())
    last_day = (next_hi - pd.Timedelta(days=1)).date()
    after = filter_incidents(
        incidents, start=hi.date(), end=last_day, categories=categories, window=window
    )
    if areas is not None:
        tree = shapely.STRtree(areas.geometry.values)
        after = after.iloc[np.unique(tree.query(after.geometry.values, predicate="intersects")[0])]
    if not len(after):
        return None, (
            f"Framåtkontroll: inga händelser i fönstret under följande period "
            f"{hi:%Y-%m-%d} – {last_day}; zonerna kan inte prövas framåt."
        )
    both = pd.concat([win, after])
    pers = persistence(zones, both, train=(lo, hi), test=(hi, next_hi))
    message = (
        f"Framåtkontroll: de exporterade zonerna fångade {_pct(pers.test_share)} av fönstrets "
        f"händelser under följande period {hi:%Y-%m-%d} – {last_day} "
        f"({_pct(pers.train_share)} under planeringsperioden {lo:%Y-%m-%d} – {end}): "
        f"hotspotsen är {pers.label}."
    )
    return replace(pers, message=message), message


def _split_persistence(
    win, areas, start, end, *, k, budget_km2, dialogue, gazetteer, max_zone_km2=None
):
    """Zones chosen on the first half of [start, end], measured on the second half."""
    lo = pd.Timestamp(str(start)).tz_localize(S.TZ)
    hi = pd.Timestamp(str(end)).tz_localize(S.TZ) + pd.Timedelta(days=1)
    mid = (lo + (hi - lo) / 2).normalize()
    first = win[win[S.OCCURRED_AT] < mid]
    try:
        if not len(first):
            raise InputError("inga incidenter i periodens första halva")
        cand, _ = _candidates_for(first, areas, dialogue, gazetteer, max_zone_km2)
        k_half = None if k is None else min(k, len(cand))
        zones = choose_zones(cand, first, k=k_half, budget_km2=budget_km2)
        pers = persistence(zones, win, train=(lo, mid), test=(mid, hi))
    except InputError as exc:
        return None, f"Stabilitetstestet kunde inte göras: {exc}"
    last_day = (hi - pd.Timedelta(days=1)).date()
    message = (
        f"Stabilitetstest: zoner valda på första halvan av perioden ({lo:%Y-%m-%d} – "
        f"{(mid - pd.Timedelta(days=1)).date()}) fångade {_pct(pers.test_share)} av andra "
        f"halvans händelser ({mid:%Y-%m-%d} – {last_day}; {_pct(pers.train_share)} under "
        f"första halvan): hotspotsen är {pers.label}. Testet gäller zoner valda om på halva "
        "perioden, inte de exporterade zonerna."
    )
    return replace(pers, message=message), None


__all__: Sequence[str] = (
    "DEFAULT_K",
    "DEFAULT_WINDOW",
    "PatrolPlan",
    "default_period",
    "plan_zones",
    "study_area",
    "Persistence",
    "add_drawn_zone",
    "candidates_from_run",
    "choose_zones",
    "drop_zone",
    "persistence",
    "polygon_from_geojson",
    "recommended_hours",
    "zone_figures",
)
