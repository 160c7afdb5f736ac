"""The whole hotspot pipeline that pages and the CLI call: :func:`run_hotspots`.

From a loaded incident frame (filtered by the caller with ``geo.timewin``) and the areas:
leave out the points stacked on an area's centre point (a geocoding fallback, flagged by
``geo.io.flag_centre_points``), compute the Gi* grid (``geo.grid``), optionally density
clusters (``geo.clusters``), and turn either into ranked, named zones (``geo.zones``),
with every automatic parameter reported as a :class:`geo.grid.Choice` and notes in Swedish.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import clusters as C
from geo import schema
from geo import zones as Z
from geo.grid import Choice
from geo.io import CENTRE_TOLERANCE_M, flag_centre_points

METHODS = ("gistar", "dbscan", "hdbscan")
CLUSTER = "cluster"
#: Fewest incidents in a zone: the smallest count a public output shows.
MIN_ZONE_INCIDENTS = 5
#: `iter_hotspots` analyses groups of areas holding about this many incidents at a time,
BATCH_INCIDENTS = 1_000_000
#: and at most this many areas in a group (a rural kommun's grid can be a million cells).
BATCH_AREAS = 50


@dataclass(frozen=True)
class HotspotRun:
    """Result of :func:`run_hotspots`.

    Attributes
    ----------
    cells : GeoDataFrame
        Gi* cells (``geo.grid`` layout), always computed.
    zones : GeoDataFrame
        Zones in the ``geo.zones`` layout, ranked within each area.
    clusters : GeoDataFrame or None
        For the density methods: one hull per cluster (``cluster``, ``incident_count``,
        ``weight``); None for ``"gistar"``.
    choices : list of Choice
        Every parameter used, with its reason.
    messages : list of str
        Swedish notes for the user.
    gaps : GeoDataFrame or None
        :func:`geo.zones.perception_gap` of the cells.
    cells_analysed : int or None
        Cells in the analysis (more than ``len(cells)`` with ``cells="occupied"``).
    """

    cells: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame | None
    choices: list[Choice]
    messages: list[str] = field(default_factory=list)
    gaps: gpd.GeoDataFrame | None = None
    cells_analysed: int | None = None


def _stack_places(stacked: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> str:
    """Where the stacked points sit, stack by stack, largest first (Swedish, for messages).

    Each stack is named by the areas whose centre point lies within ``CENTRE_TOLERANCE_M``
    (every level: a kommun and its LPO often share one), with its SWEREF 99 TM coordinate.
    """
    x, y = Z._point_xy(stacked)
    key, counts = np.unique(np.column_stack([np.round(x), np.round(y)]), axis=0, return_counts=True)
    geoms = areas.to_crs(stacked.crs).geometry.values if areas.crs != stacked.crs else None
    geoms = areas.geometry.values if geoms is None else geoms
    centres = np.concatenate([shapely.centroid(geoms), shapely.point_on_surface(geoms)])
    near = shapely.STRtree(centres).query(
        shapely.points(key), predicate="dwithin", distance=CENTRE_TOLERANCE_M
    )
    names = areas[schema.AREA_NAME if schema.AREA_NAME in areas else schema.AREA_ID].astype(str)
    levels = areas[schema.LEVEL].astype(str) if schema.LEVEL in areas else None
    parts = []
    for s in np.argsort(-counts, kind="stable"):
        hits = np.unique(near[1][near[0] == s] % len(areas))
        by_name: dict[str, list[str]] = {}
        for i in hits:
            by_name.setdefault(names.iloc[i], []).extend([] if levels is None else [levels.iloc[i]])
        label = ", ".join(f"{n} ({', '.join(lv)})" if lv else n for n, lv in by_name.items())
        where = f"E {key[s, 0]:.0f}, N {key[s, 1]:.0f}"
        parts.append(f"{counts[s]} vid {where}" + (f", mittpunkten för {label}" if label else ""))
    return "; ".join(parts)


def _without_centre_points(incidents, areas, include: bool) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Leave out points flagged ``at_area_centre``; flag them first against all ``areas``.

    An existing column (set by the loader on the whole data set, before any filter) is
    used as it is: in a small selection a stack may no longer reach the loader's count.
    """
    if schema.AT_AREA_CENTRE not in incidents.columns:
        incidents = flag_centre_points(incidents, areas)
    flagged = incidents[schema.AT_AREA_CENTRE].fillna(False).to_numpy(dtype=bool)
    if not flagged.any():
        return incidents, []
    n = int(flagged.sum())
    where = _stack_places(incidents[flagged], areas)
    lies = "händelse ligger staplad" if n == 1 else "händelser ligger staplade"
    if include:
        return incidents, [
            f"{n} {lies} på ett områdes mittpunkt (en reservkoordinat, "
            f"inte platsen) och är med i analysen eftersom du valde det: {where}."
        ]
    return incidents[~flagged], [
        f"{n} {lies} på ett områdes mittpunkt (en reservkoordinat, inte "
        f"platsen) och är inte med i hotspotanalysen: {where}. Många händelser på en verklig "
        "adress (en station, ett köpcentrum) är kvar."
    ]


def _density_input(incidents, dialogue, dialogue_weight):
    x, y = Z._point_xy(incidents)
    w = incidents[schema.WEIGHT].to_numpy(float) if schema.WEIGHT in incidents else np.ones(len(x))
    if dialogue is None or dialogue.empty or dialogue_weight == 0:
        return np.column_stack([x, y]), w
    dia = dialogue.to_crs(incidents.crs) if dialogue.crs != incidents.crs else dialogue
    dx, dy = Z._point_xy(dia)
    m = dia[schema.MENTIONS].to_numpy(float) if schema.MENTIONS in dia else np.ones(len(dx))
    xy = np.vstack([np.column_stack([x, y]), np.column_stack([dx, dy])])
    return xy, np.concatenate([w, m * dialogue_weight])


def _cluster_hulls(incidents, labels, buffer_m) -> gpd.GeoDataFrame:
    w = (
        incidents[schema.WEIGHT].to_numpy(float)
        if schema.WEIGHT in incidents
        else np.ones(len(labels))
    )
    clustered = labels >= 0
    ids, group = np.unique(labels[clustered], return_inverse=True)
    x, y = Z._point_xy(incidents)
    hulls = Z._group_hulls(x[clustered], y[clustered], group, len(ids))
    polys = list(shapely.buffer(hulls, max(buffer_m, 1.0)))
    frame = pd.DataFrame(
        {
            CLUSTER: ids.astype(int),
            schema.INCIDENT_COUNT: np.bincount(group, minlength=len(ids)),
            schema.WEIGHT: np.bincount(group, weights=w[clustered], minlength=len(ids)),
        },
        columns=[CLUSTER, schema.INCIDENT_COUNT, schema.WEIGHT],
    )
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(polys, crs=incidents.crs), crs=incidents.crs
    )


def innermost_areas(areas: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The innermost areas of a file with nested levels (kommun ⊃ kommundel), with a note.

    An area is dropped when it holds the representative point of a smaller area (a larger
    area may hold a smaller one's point, as a kommun's centre may lie in a kommundel; of
    two equal areas, such as a kommun and its LPO, the first is kept). One level: unchanged.
    """
    if schema.LEVEL not in areas.columns or areas[schema.LEVEL].nunique() <= 1:
        return areas, []
    geoms = areas.geometry.values
    holder, held = shapely.STRtree(shapely.point_on_surface(geoms)).query(
        geoms, predicate="contains"
    )
    size = shapely.area(geoms)
    same = np.isclose(size[holder], size[held])
    bigger = (size[holder] > size[held]) & ~same
    container = np.zeros(len(areas), dtype=bool)
    container[holder[(holder != held) & (bigger | (same & (holder > held)))]] = True
    inner = areas[~container]
    note = (
        "Områdena har flera nivåer; analysen använder de innersta: "
        + ", ".join(sorted(set(inner[schema.LEVEL].astype(str))))
        + "."
    )
    return inner, [note]


def _recluster(method: str, eps_m: float | None, min_weight: float, min_samples: float):
    """How an oversized cluster is clustered again on its own points (geo.zones.split_clusters).

    DBSCAN: the same core weight within half the radius (a denser core), halved again each
    level; HDBSCAN: HDBSCAN on the cluster's own points (its part of the hierarchy).
    """
    if method == "dbscan":

        def again(xy, w, depth):
            eps = float(eps_m) / 2 ** (depth + 1)
            if eps < C.EPS_RANGE_M[0] / 4:
                return np.zeros(len(xy), dtype=int)  # no finer scale: cut on the grid
            return C.dbscan_labels(xy, eps_m=eps, min_weight=min_weight, weights=w)

    else:

        def again(xy, w, depth):
            if w.sum() < 2 * min_weight:
                return np.zeros(len(xy), dtype=int)
            return C.hdbscan_labels(
                xy, min_cluster_weight=min_weight, min_samples=min_samples, weights=w
            )

    return again


def run_hotspots(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    dialogue: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    method: str = "gistar",
    cell_size_m: float | None = None,
    band_m: float | None = None,
    eps_m: float | None = None,
    min_weight: float | None = None,
    min_samples: float | None = None,
    buffer_m: float | None = None,
    min_bin: int = 2,
    max_zone_km2: float = Z.DEFAULT_MAX_ZONE_KM2,
    min_zone_incidents: int = MIN_ZONE_INCIDENTS,
    include_centre_points: bool = False,
    dialogue_weight: float = schema.DEFAULT_DIALOGUE_WEIGHT,
    permutations: int = 0,
    random_state: int | None = None,
    progress=None,
    cells: str = "all",
) -> HotspotRun:
    """Hotspot cells, clusters and ranked zones per area, with the parameters used.

    Each area is analysed on its own (:func:`geo.grid.gistar_by_area`): its own grid,
    cell size and band (or density parameters) chosen from *its* incidents, its own FDR
    correction; areas with fewer than ``geo.grid.MIN_AREA_INCIDENTS`` incidents and areas
    without any are not analysed (a message lists them). Zones are places a patrol can
    cover: at most ``max_zone_km2`` each (a hot region or a cluster larger than that is
    split around its peaks), with at least ``min_zone_incidents`` incidents, ranked within
    their area by ``score``.

    Parameters
    ----------
    incidents : GeoDataFrame
        Loaded (and filtered) incidents, EPSG:3006.
    areas : GeoDataFrame
        Study areas with ``area_id`` (and ``area_name``): the areas the user chose, or every
        area of a boundary file (then only those holding incidents are analysed).
    dialogue, gazetteer : GeoDataFrame, optional
        Dialogue places (weighted by ``dialogue_weight`` per mention) and named places.
    method : {"gistar", "dbscan", "hdbscan"}
        Zones from significant Gi* cells, or from density clusters.
    cell_size_m, band_m : float, optional
        Gi* grid parameters for every area; chosen per area from the data when omitted
        (patrol scale: cells 50–250 m, bands at most 1 km).
    eps_m, min_weight : float, optional
        DBSCAN radius (metres) and core weight; HDBSCAN uses ``min_weight`` as the minimum
        cluster weight. Chosen per area from the data when omitted
        (``geo.clusters.suggest_density``: ``min_weight`` well above a random background in
        the area, ``eps_m`` the k-distance knee in 50–250 m).
    min_samples : float, optional
        HDBSCAN core weight (default: ``min_weight``, at most 5).
    buffer_m : float, optional
        Buffer around a cluster's hull, metres (default: half of ``eps_m``, or 50 m).
    min_bin : int
        Cells with ``gi_bin >= min_bin`` form zones (2 = 95 % confidence).
    max_zone_km2 : float
        Largest zone, km² (default 0.25: about 500 × 500 m).
    min_zone_incidents : int
        Fewest incidents in a zone (default 5, the smallest count a public output shows);
        places hot only through dialogue mentions are in ``gaps``, not among the zones.
    include_centre_points : bool
        Keep points flagged ``at_area_centre`` (left out by default, with a message).
    dialogue_weight : float
        Weight of one dialogue mention relative to one incident.
    permutations, random_state : int, optional
        Passed to ``geo.grid.gistar_cells``.
    progress : callable, optional
        Wraps the iterable of areas (e.g. ``tqdm.tqdm``) for a progress bar.
    cells : {"all", "occupied"}
        ``"occupied"``: ``cells`` holds only the cells with incidents or dialogue mentions
        or a significant bin (``geo.grid.gistar_cells``); zones and the perception gap are
        the same either way.

    Returns
    -------
    HotspotRun

    Raises
    ------
    TypeError, ValueError
        For frames of the wrong type or CRS, or an unknown method.

    Examples
    --------
    >>> import pandas as pd
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"], "level": ["kommun"]},
    ...     geometry=[shapely.box(0, 0, 2000, 2000)], crs=3006)
    >>> rng = np.random.default_rng(0)
    >>> xy = np.vstack([rng.normal(500, 30, (60, 2)), rng.uniform(0, 2000, (40, 2))])
    >>> inc = gpd.GeoDataFrame({"category": ["rån"] * 100, "weight": 1.0,
    ...     "occurred_at": pd.Timestamp("2018-03-16 23:00", tz="Europe/Stockholm")},
    ...     geometry=shapely.points(xy), crs=3006)
    >>> run = run_hotspots(inc, areas, cell_size_m=100, band_m=200)
    >>> int(run.zones.loc[0, "rank"]), bool(run.zones.loc[0, "geometry"].contains(
    ...     shapely.Point(500, 500))), bool(run.zones["area_km2"].max() <= 0.25)
    (1, True, True)
    """
    from geo.grid import gistar_by_area
    from geo.spatial import locate_points

    for name, frame in (("incidents", incidents), ("areas", areas)):
        Z._check_gdf(frame, name)
    if method not in METHODS:
        raise ValueError(f"`method` was {method!r} but is expected to be in {METHODS}")
    Z._check_cap(max_zone_km2)
    # Centre points first, against every level: a stack on a kommun's centre point is not
    # near any kommundel's centre, so checking only the innermost areas would miss it.
    used, messages = _without_centre_points(incidents, areas, include_centre_points)
    # Nested levels would count each incident once per level: keep the innermost areas.
    areas, notes = innermost_areas(areas)
    messages += notes
    # The caller's area_id may be of another level: place the points in these areas.
    x, y = Z._point_xy(used)
    where = locate_points(x, y, areas.geometry.values)
    ids = areas[schema.AREA_ID].astype(str).to_numpy(dtype=object)
    placed = np.where(where >= 0, ids[np.maximum(where, 0)], None)
    used = used.assign(**{schema.AREA_ID: placed})
    outside = int((where < 0).sum())
    if outside:
        messages.append(
            f"{outside} {'händelse ligger' if outside == 1 else 'händelser ligger'} utanför de "
            "valda områdena och räknas inte."
        )
        used = used[where >= 0]
    grid = gistar_by_area(
        used,
        areas,
        cell_size_m=cell_size_m,
        band_m=band_m,
        dialogue=dialogue,
        dialogue_weight=dialogue_weight,
        permutations=permutations,
        random_state=random_state,
        progress=progress,
        cells=cells,
    )
    choices = list(grid.choices)
    messages += list(grid.messages)
    analysed = set(grid.cells[schema.AREA_ID].astype(str))
    zone_rules = [
        Choice(
            "max_zone_km2",
            float(max_zone_km2),
            f"En zon är högst {max_zone_km2:g} km² (ungefär ".replace(".", ",")
            + f"{1000 * max_zone_km2**0.5:.0f} × {1000 * max_zone_km2**0.5:.0f} m), en plats "
            + "en patrull kan täcka; större heta områden delas kring sina toppar",
        ),
        Choice(
            "min_zone_incidents",
            float(min_zone_incidents),
            f"En zon rymmer minst {min_zone_incidents} händelser; platser som bara är heta "
            "genom dialogomnämnanden står i listan över upplevd otrygghet",
        ),
    ]
    clusters = None
    if method == "gistar":
        zones = Z.zones_from_cells(
            grid.cells,
            used,
            areas,
            dialogue=dialogue,
            gazetteer=gazetteer,
            min_bin=min_bin,
            max_zone_km2=max_zone_km2,
            min_incidents=min_zone_incidents,
            dialogue_weight=dialogue_weight,
        )
        choices.append(
            Choice("min_bin", float(min_bin), f"celler med gi_bin ≥ {min_bin} bildar zoner")
        )
    else:
        zones, clusters, more = _density_zones(
            used,
            areas[areas[schema.AREA_ID].astype(str).isin(analysed)],
            method=method,
            dialogue=dialogue,
            gazetteer=gazetteer,
            eps_m=eps_m,
            min_weight=min_weight,
            min_samples=min_samples,
            buffer_m=buffer_m,
            max_zone_km2=max_zone_km2,
            min_zone_incidents=min_zone_incidents,
            dialogue_weight=dialogue_weight,
        )
        choices += more
    choices += zone_rules
    if zones.empty:
        messages.append("Inga zoner: inget område har en signifikant koncentration av händelser.")
    gaps = Z.perception_gap(grid.cells, gazetteer=gazetteer, zones=zones)
    return HotspotRun(grid.cells, zones, clusters, choices, messages, gaps, grid.cells_analysed)


def _density_zones(
    used,
    areas,
    *,
    method,
    dialogue,
    gazetteer,
    eps_m,
    min_weight,
    min_samples,
    buffer_m,
    max_zone_km2,
    min_zone_incidents,
    dialogue_weight,
):
    """DBSCAN / HDBSCAN zones, area by area, each with its own automatic parameters."""
    from geo.spatial import locate_points

    zone_parts, hull_parts, choices = [], [], []
    d_where = None
    if dialogue is not None and len(dialogue):
        dia = dialogue.to_crs(used.crs) if dialogue.crs != used.crs else dialogue
        dx, dy = Z._point_xy(dia)
        d_where = locate_points(dx, dy, areas.geometry.values)
    area_of = used[schema.AREA_ID].astype(str).to_numpy()
    for i, aid in enumerate(areas[schema.AREA_ID].astype(str)):
        area = areas.iloc[[i]]
        inc = used[area_of == aid]
        dia = None if d_where is None else dialogue.iloc[np.flatnonzero(d_where == i)]
        xy, w = _density_input(inc, dia, dialogue_weight)
        # HDBSCAN has no radius: its smallest cluster is what a random disk of
        # HDBSCAN_RADIUS_M would hold only by a 0.1 % chance (suggest_density's own radius
        # grows with the weight in a small, dense area until no two clusters fit).
        fixed_eps = eps_m if method == "dbscan" else C.HDBSCAN_RADIUS_M
        mw, auto = min_weight, None
        if mw is None:
            auto = C.suggest_density(
                xy, area_m2=float(area.geometry.area.iloc[0]), weights=w, eps_m=fixed_eps
            )
            mw, why = auto.min_weight, auto.min_weight_reason
        else:
            why = "angiven"
        choices.append(Choice("min_weight", float(mw), why, aid))
        n = len(inc)
        eps, ms = None, None
        if method == "dbscan":
            if eps_m is None:
                eps, reason = (
                    (auto.eps_m, auto.eps_reason)
                    if auto is not None
                    else C.suggest_eps_m(xy, min_weight=mw)
                )
            else:
                eps, reason = eps_m, "angiven"
            choices.append(Choice("eps_m", float(eps), reason, aid))
            labels = C.dbscan_labels(xy, eps_m=eps, min_weight=mw, weights=w)[:n]
        else:
            ms = min(mw, C.MIN_WEIGHT_FLOOR) if min_samples is None else min_samples
            choices.append(
                Choice(
                    "min_samples",
                    float(ms),
                    "angiven"
                    if min_samples
                    else f"min_weight, högst {C.MIN_WEIGHT_FLOOR:.0f}: lite utjämning, så "
                    "klustren behåller sin form; min_weight avgör vad som är en koncentration",
                    aid,
                )
            )
            labels = C.hdbscan_labels(xy, min_cluster_weight=mw, min_samples=ms, weights=w)[:n]
        buf = buffer_m
        if buf is None:
            buf = float(eps) / 2 if method == "dbscan" else Z.DEFAULT_BUFFER_M
            why_buf = "halva eps_m" if method == "dbscan" else "standard"
        else:
            why_buf = "angiven"
        choices.append(Choice("buffer_m", float(buf), why_buf, aid))
        ix, iy = Z._point_xy(inc)
        labels = Z.split_clusters(
            np.column_stack([ix, iy]),
            labels,
            w[:n],
            buffer_m=buf,
            max_zone_km2=max_zone_km2,
            recluster=_recluster(method, eps, mw, ms if ms is not None else mw),
        )
        hull_parts.append(_cluster_hulls(inc, labels, buf).assign(**{schema.AREA_ID: aid}))
        zone_parts.append(
            Z.zones_from_labels(
                inc,
                labels,
                area,
                buffer_m=buf,
                dialogue=dia,
                gazetteer=gazetteer,
                max_zone_km2=max_zone_km2,
                min_incidents=min_zone_incidents,
                dialogue_weight=dialogue_weight,
            )
        )
    crs = used.crs
    zone_parts = [z for z in zone_parts if len(z)]
    zones = (
        gpd.GeoDataFrame(pd.concat(zone_parts, ignore_index=True), geometry="geometry", crs=crs)
        if zone_parts
        else Z._empty_zones(crs)
    )
    clusters = (
        gpd.GeoDataFrame(pd.concat(hull_parts, ignore_index=True), geometry="geometry", crs=crs)
        if hull_parts
        else _cluster_hulls(used.iloc[:0], np.zeros(0, int), 1.0)
    )
    return zones, clusters, choices


def iter_hotspots(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    max_batch_incidents: int = BATCH_INCIDENTS,
    max_batch_areas: int = BATCH_AREAS,
    progress=None,
    plan=None,
    **options,
) -> Iterator[HotspotRun]:
    """:func:`run_hotspots` over groups of areas, one group at a time (national scale).

    Each area is analysed on its own grid and scale either way, so analysing the areas in
    groups gives the same cells and zones as one call; what changes is memory: only one
    group's incidents, cells and zones exist at a time. Areas are grouped in file order
    until a group holds more than ``max_batch_incidents`` incidents (an area larger than
    that is a group of its own). When everything fits in one group this is exactly one
    :func:`run_hotspots` call.

    Notes that concern the whole run (nested levels, incidents outside every area, areas
    with too few incidents) come once, in the first result's ``messages``.

    Parameters
    ----------
    incidents, areas
        As :func:`run_hotspots`.
    max_batch_incidents, max_batch_areas : int
        Incidents and areas per group (defaults ``BATCH_INCIDENTS``, ``BATCH_AREAS``).
    progress : callable, optional
        Wraps each group's iterable of areas (see :func:`run_hotspots`).
    plan : callable, optional
        Called once with the number of areas that will be analysed (for a progress bar's
        total) when the run is split into groups.
    **options
        Passed to :func:`run_hotspots`.

    Yields
    ------
    HotspotRun
        One per group; zones are ranked within their area.

    Examples
    --------
    >>> import pandas as pd
    >>> areas = gpd.GeoDataFrame({"area_id": ["a", "b"], "area_name": ["A", "B"]},
    ...     geometry=[shapely.box(0, 0, 2000, 2000), shapely.box(5000, 0, 7000, 2000)], crs=3006)
    >>> rng = np.random.default_rng(0)
    >>> xy = np.vstack([rng.normal(500, 30, (60, 2)), rng.uniform(0, 2000, (40, 2))])
    >>> xy = np.vstack([xy, xy + [5000, 0]])
    >>> inc = gpd.GeoDataFrame({"category": ["rån"] * 200, "weight": 1.0,
    ...     "occurred_at": pd.Timestamp("2018-03-16 23:00", tz="Europe/Stockholm")},
    ...     geometry=shapely.points(xy), crs=3006)
    >>> runs = list(iter_hotspots(inc, areas, max_batch_incidents=100, cell_size_m=100,
    ...     band_m=200))
    >>> [sorted(set(r.cells["area_id"])) for r in runs]
    [['a'], ['b']]
    """
    from geo.grid import MIN_AREA_INCIDENTS, few_incidents_message
    from geo.spatial import locate_points

    for name, frame in (("incidents", incidents), ("areas", areas)):
        Z._check_gdf(frame, name)
    for name, value in (("max_batch_incidents", max_batch_incidents),
                        ("max_batch_areas", max_batch_areas)):  # fmt: skip
        if not (isinstance(value, int | np.integer) and value >= 1):
            raise ValueError(f"`{name}` was {value!r}; expected an integer ≥ 1.")
    if len(incidents) <= max_batch_incidents and len(areas) <= max_batch_areas:
        yield run_hotspots(incidents, areas, progress=progress, **options)
        return
    inner, notes = innermost_areas(areas)
    x, y = Z._point_xy(incidents)
    where = locate_points(x, y, inner.geometry.values)
    held = np.bincount(where[where >= 0], minlength=len(inner))
    minimum = MIN_AREA_INCIDENTS
    few = np.flatnonzero((held > 0) & (held < minimum))
    names = inner[schema.AREA_NAME if schema.AREA_NAME in inner else schema.AREA_ID].astype(str)
    if len(few):
        notes.append(few_incidents_message(names.iloc[few], held[few], minimum))
    outside = int((where < 0).sum())
    if outside:
        notes.append(f"{outside} händelser ligger utanför de valda områdena och räknas inte.")
    # incident positions grouped by area, in one sort (no mask per area over all incidents)
    order = np.argsort(where, kind="stable")
    starts = np.searchsorted(where[order], np.arange(len(inner) + 1))
    groups, group, count = [], [], 0
    for i in np.flatnonzero(held >= minimum):
        group.append(i)
        count += held[i]
        if count >= max_batch_incidents or len(group) >= max_batch_areas:
            groups.append(group)
            group, count = [], 0
    if group:
        groups.append(group)
    if len(groups) <= 1:  # one group (or nothing to analyse): one ordinary run
        yield run_hotspots(incidents, areas, progress=progress, **options)
        return
    if plan is not None:
        plan(sum(len(g) for g in groups))
    for k, group in enumerate(groups):
        rows = np.concatenate([order[starts[i] : starts[i + 1]] for i in group])
        rows.sort()
        part = run_hotspots(incidents.iloc[rows], inner.iloc[group], progress=progress, **options)
        if k == 0 and notes:
            part = dataclasses.replace(part, messages=notes + part.messages)
        yield part
