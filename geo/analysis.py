"""The whole hotspot pipeline that pages and the CLI call: :func:`run_hotspots`.

From a loaded incident frame (filtered by the caller with ``geo.timewin``) and the areas:
leave out the points stacked on an area's centre point (a geocoding fallback, flagged by
``geo.io.flag_centre_points``), compute the Gi* grid (``geo.grid``), optionally density
clusters (``geo.clusters``), and turn either into ranked, named zones (``geo.zones``),
with every automatic parameter reported as a :class:`geo.grid.Choice` and notes in Swedish.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import clusters as C
from geo import schema
from geo import zones as Z
from geo.grid import Choice, gistar_cells
from geo.io import CENTRE_TOLERANCE_M, flag_centre_points

METHODS = ("gistar", "dbscan", "hdbscan")
CLUSTER = "cluster"


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
    """

    cells: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame | None
    choices: list[Choice]
    messages: list[str] = field(default_factory=list)
    gaps: gpd.GeoDataFrame | None = None


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
    if include:
        return incidents, [
            f"{n} händelser ligger staplade på ett områdes mittpunkt (en reservkoordinat, "
            f"inte platsen) och är med i analysen eftersom du valde det: {where}."
        ]
    return incidents[~flagged], [
        f"{n} händelser ligger staplade på ett områdes mittpunkt (en reservkoordinat, inte "
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
    include_centre_points: bool = False,
    dialogue_weight: float = schema.DEFAULT_DIALOGUE_WEIGHT,
    permutations: int = 0,
    random_state: int | None = None,
) -> HotspotRun:
    """Hotspot cells, clusters and ranked zones per area, with the parameters used.

    Parameters
    ----------
    incidents : GeoDataFrame
        Loaded (and filtered) incidents, EPSG:3006.
    areas : GeoDataFrame
        Study areas with ``area_id`` (and ``area_name``).
    dialogue, gazetteer : GeoDataFrame, optional
        Dialogue places (weighted by ``dialogue_weight`` per mention) and named places.
    method : {"gistar", "dbscan", "hdbscan"}
        Zones from merged significant Gi* cells, or from density clusters.
    cell_size_m, band_m : float, optional
        Gi* grid parameters; chosen from the data when omitted.
    eps_m, min_weight : float, optional
        DBSCAN radius (metres) and core weight; HDBSCAN uses ``min_weight`` as the minimum
        cluster weight. Chosen from the data when omitted (``geo.clusters.suggest_density``:
        ``min_weight`` well above a random background in ``areas``, ``eps_m`` the
        k-distance knee in 50–250 m).
    min_samples : float, optional
        HDBSCAN core weight (default: ``min_weight``, at most 5).
    buffer_m : float, optional
        Buffer around a cluster's hull, metres (default: half of ``eps_m``, or 50 m).
    min_bin : int
        Cells with ``gi_bin >= min_bin`` form zones (2 = 95 % confidence).
    include_centre_points : bool
        Keep points flagged ``at_area_centre`` (left out by default, with a message).
    dialogue_weight : float
        Weight of one dialogue mention relative to one incident.
    permutations, random_state : int, optional
        Passed to ``geo.grid.gistar_cells``.

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
    ...     shapely.Point(500, 500)))
    (1, True)
    """
    for name, frame in (("incidents", incidents), ("areas", areas)):
        Z._check_gdf(frame, name)
    if method not in METHODS:
        raise ValueError(f"`method` was {method!r} but is expected to be in {METHODS}")
    # Centre points first, against every level: a stack on a kommun's centre point is not
    # near any kommundel's centre, so checking only the innermost areas would miss it.
    used, messages = _without_centre_points(incidents, areas, include_centre_points)
    if schema.LEVEL in areas.columns and areas[schema.LEVEL].nunique() > 1:
        # Nested levels would count each incident once per level: keep the innermost areas
        # (those that hold no smaller area's representative point; a larger area may hold
        # a smaller one's point, as a kommun's centre may lie in a kommundel; of two equal
        # areas, such as a kommun and its LPO, the first is kept).
        geoms = areas.geometry.values
        holder, held = shapely.STRtree(shapely.point_on_surface(geoms)).query(
            geoms, predicate="contains"
        )
        size = shapely.area(geoms)
        same = np.isclose(size[holder], size[held])
        bigger = (size[holder] > size[held]) & ~same
        container = np.zeros(len(areas), dtype=bool)
        container[holder[(holder != held) & (bigger | (same & (holder > held)))]] = True
        areas = areas[~container]
        messages.append(
            "Områdena har flera nivåer; analysen använder de innersta: "
            + ", ".join(sorted(set(areas[schema.LEVEL].astype(str))))
            + "."
        )
    # The caller's area_id may be of another level: place the points in these areas.
    placed = Z._incident_area_ids(used.drop(columns=schema.AREA_ID, errors="ignore"), areas)
    used = used.assign(**{schema.AREA_ID: placed})
    outside = int(pd.isna(used[schema.AREA_ID]).sum())
    if outside:
        messages.append(f"{outside} händelser ligger utanför de valda områdena och räknas inte.")
        used = used[pd.notna(used[schema.AREA_ID])]
    grid = gistar_cells(
        used,
        areas,
        cell_size_m=cell_size_m,
        band_m=band_m,
        dialogue=dialogue,
        dialogue_weight=dialogue_weight,
        permutations=permutations,
        random_state=random_state,
    )
    choices = list(grid.choices)
    messages += list(grid.messages)
    clusters = None
    if method == "gistar":
        zones = Z.zones_from_cells(
            grid.cells, used, areas, dialogue=dialogue, gazetteer=gazetteer, min_bin=min_bin
        )
        choices.append(
            Choice("min_bin", float(min_bin), f"celler med gi_bin ≥ {min_bin} bildar zoner")
        )
    else:
        xy, w = _density_input(used, dialogue, dialogue_weight)
        fixed_eps = eps_m if method == "dbscan" else None
        if min_weight is None:
            area_m2 = float(shapely.area(areas.geometry.values).sum())
            auto = C.suggest_density(xy, area_m2=area_m2, weights=w, eps_m=fixed_eps)
            min_weight, why = auto.min_weight, auto.min_weight_reason
        else:
            auto, why = None, "angiven"
        choices.append(Choice("min_weight", float(min_weight), why))
        n = len(used)
        if method == "dbscan":
            if eps_m is None:
                eps_m, reason = (
                    (auto.eps_m, auto.eps_reason)
                    if auto is not None
                    else C.suggest_eps_m(xy, min_weight=min_weight)
                )
            else:
                reason = "angiven"
            choices.append(Choice("eps_m", float(eps_m), reason))
            labels = C.dbscan_labels(xy, eps_m=eps_m, min_weight=min_weight, weights=w)[:n]
        else:
            ms = min(min_weight, C.MIN_WEIGHT_FLOOR) if min_samples is None else min_samples
            choices.append(
                Choice(
                    "min_samples",
                    float(ms),
                    "angiven"
                    if min_samples
                    else f"min_weight, högst {C.MIN_WEIGHT_FLOOR:.0f}: lite utjämning, så "
                    "klustren behåller sin form; min_weight avgör vad som är en koncentration",
                )
            )
            labels = C.hdbscan_labels(xy, min_cluster_weight=min_weight, min_samples=ms, weights=w)[
                :n
            ]
        if buffer_m is None:
            buffer_m = float(eps_m) / 2 if method == "dbscan" else Z.DEFAULT_BUFFER_M
            choices.append(
                Choice("buffer_m", buffer_m, "halva eps_m" if method == "dbscan" else "standard")
            )
        else:
            choices.append(Choice("buffer_m", float(buffer_m), "angiven"))
        clusters = _cluster_hulls(used, labels, buffer_m)
        zones = Z.zones_from_labels(
            used, labels, areas, buffer_m=buffer_m, dialogue=dialogue, gazetteer=gazetteer
        )
    if zones.empty:
        messages.append("Inga zoner: inget område har en signifikant koncentration av händelser.")
    gaps = Z.perception_gap(grid.cells, gazetteer=gazetteer)
    return HotspotRun(grid.cells, zones, clusters, choices, messages, gaps)
