"""Emerging hotspots: a space-time cube, Gi* over space-time neighbours, Mann–Kendall trends
and ArcGIS Emerging Hot Spot Analysis categories.

This module owns the cube (the patrol-scale grid of :mod:`geo.grid` × time steps of a month,
week or quarter), the space-time Gi* z-scores with FDR per step, the Mann–Kendall trend test
(tie-corrected variance) and the classification of every cell into one of ArcGIS's sixteen
categories or "no pattern". See docs/space-time.md for the rules and where published
implementations disagree.

Data caveats: steps are calendar months, ISO weeks (Monday–Sunday) or quarters of the
Stockholm wall clock; a first or last step the data covers only in part is reported in the
messages (an unfinished last month looks like a drop). Incidents with a span
(``occurred_until``) are spread over the steps their span covers (aoristic weights,
:mod:`geo.aoristic`); date-only data is binned by its date, which is exact for steps of a
week or longer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from geo import schema
from geo.grid import (
    LATTICE_COL,
    LATTICE_ROW,
    MIN_AREA_INCIDENTS,
    Choice,
    _bin,
    _check_frame,
    _grid_cells,
    _point_xy,
    band_sums,
    choose_band,
    choose_cell_size,
    confidence_bins,
    disk_kernel,
    gistar_z,
    two_sided_p,
)

#: Time steps of the cube: key -> pandas period frequency.
STEPS = {"month": "M", "week": "W-SUN", "quarter": "Q-DEC"}
STEP_LABELS = {"month": "månad", "week": "vecka", "quarter": "kvartal"}
STEP_PLURALS = {"month": "månader", "week": "veckor", "quarter": "kvartal"}
#: ArcGIS asks for at least ten time steps; fewer are analysed with a note.
RECOMMENDED_STEPS = 10
#: Fewest steps analysed at all (Mann–Kendall needs three values for a variance).
MIN_STEPS = 3
#: Share of steps a cell must be hot (cold) in for the "90 %" categories.
MOST_STEPS_SHARE = 0.9

STEP = "step"
STEP_START = "step_start"
CATEGORY = "category"
MK_TAU = "mk_tau"
MK_Z = "mk_z"
MK_P = "mk_p"
HOT_STEPS = "hot_steps"
COLD_STEPS = "cold_steps"
PLACE = "place"

_KINDS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
NO_PATTERN = "no_pattern"
#: English keys (files, CLI, JSON): hot categories, their cold mirrors, then no pattern.
CATEGORIES = (
    *(f"{k}_hotspot" for k in _KINDS),
    *(f"{k}_coldspot" for k in _KINDS),
    NO_PATTERN,
)
_KIND_SV = {
    "new": "ny",
    "consecutive": "sammanhängande",
    "intensifying": "ökande",
    "persistent": "ihållande",
    "diminishing": "avtagande",
    "sporadic": "sporadisk",
    "oscillating": "växlande",
    "historical": "historisk",
}
#: Swedish labels for the UI.
CATEGORY_LABELS = {
    **{f"{k}_hotspot": f"{v} hotspot" for k, v in _KIND_SV.items()},
    **{f"{k}_coldspot": f"{v} kallfläck" for k, v in _KIND_SV.items()},
    NO_PATTERN: "inget mönster",
}
#: Plain-Swedish explanation of each category (Om, legend, tooltips).
CATEGORY_HELP = {
    "new_hotspot": "het bara i sista perioden, aldrig signifikant förut",
    "consecutive_hotspot": "het i en obruten följd av de sista perioderna (minst två), aldrig förut",
    "intensifying_hotspot": "het i minst 90 % av perioderna och i den sista, och allt hetare",
    "persistent_hotspot": "het i minst 90 % av perioderna och i den sista, utan trend",
    "diminishing_hotspot": "het i minst 90 % av perioderna och i den sista, men allt svalare",
    "sporadic_hotspot": "het i sista perioden och av och till förut, aldrig kall",
    "oscillating_hotspot": "het i sista perioden men kall någon gång förut",
    "historical_hotspot": "het i minst 90 % av perioderna, men inte i den sista",
    NO_PATTERN: "inget av mönstren ovan",
}
CATEGORY_HELP.update(
    {
        k.replace("hotspot", "coldspot"): v.replace("hetare", "kallare")
        .replace("svalare", "varmare")
        .replace("het ", "kall ")
        .replace("kall någon", "het någon")
        .replace("aldrig kall", "aldrig het")
        for k, v in CATEGORY_HELP.items()
        if k.endswith("hotspot")
    }
)
#: Map colours (hot: reds, cold: blues, no pattern: none).
CATEGORY_COLOURS = {
    "new_hotspot": "#ff00c8",
    "consecutive_hotspot": "#ff6e00",
    "intensifying_hotspot": "#b30000",
    "persistent_hotspot": "#e34a33",
    "diminishing_hotspot": "#fdbb84",
    "sporadic_hotspot": "#fee8c8",
    "oscillating_hotspot": "#c994c7",
    "historical_hotspot": "#bdbdbd",
    "new_coldspot": "#00c8ff",
    "consecutive_coldspot": "#006eff",
    "intensifying_coldspot": "#08306b",
    "persistent_coldspot": "#3182bd",
    "diminishing_coldspot": "#9ecae1",
    "sporadic_coldspot": "#deebf7",
    "oscillating_coldspot": "#a1d99b",
    "historical_coldspot": "#d9d9d9",
    NO_PATTERN: "#ffffff",
}


# --- Mann–Kendall ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MannKendall:
    """Mann–Kendall trend test results, one value per series (arrays of the same length).

    Attributes
    ----------
    s : array of float
        ``S = Σ_{i<j} sign(x_j − x_i)``.
    var_s : array of float
        ``(n(n−1)(2n+5) − Σ_g t_g(t_g−1)(2t_g+5)) / 18`` over the groups ``g`` of tied values.
    z, p : arrays of float
        ``(S ∓ 1)/√var`` (continuity-corrected unless asked not to) and its two-sided p.
    tau : array of float
        Kendall's tau-b between the series and time (as ``scipy.stats.kendalltau``).
    """

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray


def mann_kendall(series: np.ndarray, *, continuity: bool = True) -> MannKendall:
    """Mann–Kendall test of a monotonic trend for each row of ``series`` (vectorised).

    Parameters
    ----------
    series : (m, n) or (n,) array of float
        ``m`` series of ``n ≥ 3`` values in time order, without NaN.
    continuity : bool, default True
        Move ``S`` one towards 0 before dividing by its standard deviation (Kendall 1975,
        as pymannkendall and ArcGIS). ``False`` gives scipy's ``kendalltau`` p-value.

    Returns
    -------
    MannKendall

    Examples
    --------
    >>> r = mann_kendall(np.array([1.0, 2.0, 2.0, 4.0]))
    >>> # S = 5 (6 pairs, one tie); ties: one group of 2 → var = (4·3·13 − 2·1·9)/18 = 7.667
    >>> float(r.s[0]), round(float(r.var_s[0]), 3), round(float(r.z[0]), 4)
    (5.0, 7.667, 1.4446)
    """
    x = np.atleast_2d(np.asarray(series, dtype=float))
    m, n = x.shape
    if n < MIN_STEPS:
        raise ValueError(f"Mann–Kendall needs at least {MIN_STEPS} values per series, got {n}.")
    if np.isnan(x).any():
        raise ValueError("`series` holds NaN; fill or drop them before the trend test.")
    s = np.zeros(m)
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    # Tie groups: with c_i the size of the group of x_i, Σ_g f(t_g) = Σ_i f(c_i) / c_i.
    ties = np.zeros(m)
    tied_pairs = np.zeros(m)  # Σ_g t_g(t_g−1)/2, for tau-b
    for start in range(0, m, 2048):
        block = x[start : start + 2048]
        c = (block[:, :, None] == block[:, None, :]).sum(axis=2).astype(float)
        ties[start : start + 2048] = (c * (c - 1) * (2 * c + 5) / c).sum(axis=1)
        tied_pairs[start : start + 2048] = ((c - 1) / 2).sum(axis=1)
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    num = s - np.sign(s) if continuity else s
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var_s > 0, num / np.sqrt(var_s), 0.0)
        pairs = n * (n - 1) / 2
        tau = np.where(tied_pairs < pairs, s / np.sqrt(pairs * (pairs - tied_pairs)), 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return MannKendall(s, var_s, z, p, tau)


# --- classification --------------------------------------------------------------------------


def _final_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True at the end of each row."""
    rev = flags[:, ::-1]
    broken = ~rev
    first_false = np.where(broken.any(axis=1), broken.argmax(axis=1), flags.shape[1])
    return first_false


def classify(
    bins: np.ndarray,
    mk_z: np.ndarray,
    mk_p: np.ndarray,
    *,
    min_bin: int = 2,
    trend_alpha: float = 0.05,
) -> np.ndarray:
    """ArcGIS Emerging Hot Spot Analysis category per cell from its Gi* bins and trend.

    A step is **hot** (cold) for a cell when its FDR-corrected bin is ``≥ min_bin``
    (``≤ −min_bin``; 2 = 95 % confidence). With ``n`` steps, ``h`` hot and ``c`` cold steps,
    and the trend significant when ``mk_p < trend_alpha``, the first rule that holds wins:

    1. **new**: hot in the last step and in no other step significant (hot or cold).
    2. **consecutive**: the last ``r ≥ 2`` steps hot, no other step significant, ``h/n < 0.9``.
    3. **intensifying**: ``h/n ≥ 0.9``, hot in the last step, rising significant trend.
    4. **diminishing**: ``h/n ≥ 0.9``, hot in the last step, falling significant trend.
    5. **persistent**: ``h/n ≥ 0.9``, hot in the last step, no significant trend.
    6. **historical**: ``h/n ≥ 0.9``, not hot in the last step.
    7. **oscillating**: hot in the last step, ``h/n < 0.9``, cold in some step.
    8. **sporadic**: hot in the last step, ``h/n < 0.9``, never cold.

    then the same for cold spots (trend directions mirrored), else ``no_pattern``. Where R's
    sfdep and xarray-spatial differ, these rules follow ArcGIS's text: 90 % is ``h/n ≥ 0.9``
    exactly (xarray-spatial floors ``0.9·n``); sporadic needs the last step hot (sfdep does
    not); a cell hot in ≥ 90 % of steps but not the last is historical, not persistent
    (sfdep tries persistent first). See docs/space-time.md.

    Parameters
    ----------
    bins : (m, n) int array
        Gi* bins per cell and step (−3..3), oldest step first.
    mk_z, mk_p : (m,) arrays
        Mann–Kendall z (sign = direction) and p of each cell's Gi* z series.
    min_bin : int
        Bin that counts as significant (1, 2 or 3 for 90, 95, 99 %).
    trend_alpha : float
        Significance level of the trend.

    Returns
    -------
    numpy.ndarray of str
        One of :data:`CATEGORIES` per cell.

    Examples
    --------
    >>> b = np.array([[0] * 9 + [2], [2, 0] * 4 + [0, 2], [2] * 9 + [0]])
    >>> classify(b, np.zeros(3), np.ones(3)).tolist()
    ['new_hotspot', 'sporadic_hotspot', 'historical_hotspot']
    """
    bins = np.atleast_2d(np.asarray(bins))
    m, n = bins.shape
    mk_z = np.asarray(mk_z, dtype=float).reshape(m)
    mk_p = np.asarray(mk_p, dtype=float).reshape(m)
    if min_bin not in (1, 2, 3):
        raise ValueError(f"`min_bin` was {min_bin!r} but is expected to be in (1, 2, 3).")
    out = np.full(m, NO_PATTERN, dtype=object)
    trend = mk_p < trend_alpha
    done = np.zeros(m, bool)
    for sign, suffix in ((1, "hotspot"), (-1, "coldspot")):
        side = bins * sign >= min_bin
        other = bins * sign <= -min_bin
        k = side.sum(axis=1)
        last = side[:, -1]
        sig_elsewhere = (side | other)[:, :-1].sum(axis=1)
        run = _final_run(side)
        most = k >= MOST_STEPS_SHARE * n - 1e-9
        rising = trend & (mk_z * sign > 0)
        falling = trend & (mk_z * sign < 0)
        rules = (
            ("new", last & (sig_elsewhere == 0)),
            ("consecutive", last & (run >= 2) & (run == k) & ((side | other).sum(1) == k) & ~most),
            ("intensifying", most & last & rising),
            ("diminishing", most & last & falling),
            ("persistent", most & last & ~trend),
            ("historical", most & ~last),
            ("oscillating", last & ~most & other.any(axis=1)),
            ("sporadic", last & ~most & ~other.any(axis=1)),
        )
        for kind, hit in rules:
            take = hit & ~done
            out[take] = f"{kind}_{suffix}"
            done |= take
    return out


# --- the cube ---------------------------------------------------------------------------------


def space_time_gistar(
    values: np.ndarray, mask: np.ndarray, radius_cells: float, time_steps: int = 1
):
    """Gi* z-scores over space-time neighbours on a lattice cube (binary weights, self in).

    A bin's neighbours are the cells within ``radius_cells`` (lattice centres) in its own
    step and in the ``time_steps`` steps before it (ArcGIS's "neighborhood time step"); the
    mean and standard deviation are those of every bin of the cube, so ``z`` is esda's
    Gi* on the whole cube with those weights.

    Parameters
    ----------
    values : (T, rows, cols) array of float
    mask : (rows, cols) array of bool
    radius_cells : float
    time_steps : int

    Returns
    -------
    numpy.ndarray
        (T, rows, cols) z, NaN outside the mask and where undefined.

    Examples
    --------
    >>> v = np.zeros((3, 3, 3)); v[2, 1, 1] = 9.0
    >>> z = space_time_gistar(v, np.ones((3, 3), bool), 1, 1)
    >>> # 27 bins, x̄ = 1/3, s = √(81/27 − 1/9) = 1.6997; step 2 centre: k = 5 + 5, S = 9:
    >>> # z = (9 − 10/3) / (1.6997 · √((27·10 − 100)/26)) = 1.304; step 0 centre: k = 5,
    >>> # S = 0: z = −(5/3) / (1.6997 · √((135 − 25)/26)) = −0.477
    >>> round(float(z[2, 1, 1]), 3), round(float(z[0, 1, 1]), 3)
    (1.304, -0.477)
    """
    values = np.asarray(values, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if values.ndim != 3 or values.shape[1:] != mask.shape:
        raise ValueError(
            f"`values` {values.shape} must be (T, *mask.shape) with mask {mask.shape}."
        )
    if not (isinstance(time_steps, int | np.integer) and time_steps >= 0):
        raise ValueError(f"`time_steps` was {time_steps!r}; expected an integer ≥ 0.")
    kernel = disk_kernel(radius_cells)
    masked = np.where(mask[None], values, 0.0)
    space = np.stack([band_sums(masked[t], kernel) for t in range(len(values))])
    k_space = np.round(band_sums(mask.astype(float), kernel))
    y = masked[:, mask].ravel()
    z = np.full(values.shape, np.nan)
    for t in range(len(values)):
        first = max(0, t - time_steps)
        sums = space[first : t + 1].sum(axis=0)
        counts = k_space * (t + 1 - first)
        z[t][mask] = gistar_z(y, sums[mask], counts[mask])
    return z


@dataclass(frozen=True)
class TrendResult:
    """Emerging hotspots: cells with categories, bins per step, parameters and notes.

    Attributes
    ----------
    cells : GeoDataFrame
        One row per cell: ``cell_id, area_id, count, category, mk_tau, mk_z, mk_p,
        hot_steps, cold_steps, place, geometry`` (EPSG:3006).
    bins : DataFrame
        One row per cell and step: ``cell_id, area_id, step, step_start, count, gi_z, gi_p,
        gi_bin``.
    steps : list of str
        Step labels, oldest first ("2017-01", "2017-W05", "2017Q1").
    step : str
        "month", "week" or "quarter".
    choices : list of Choice
    messages : list of str
    """

    cells: gpd.GeoDataFrame
    bins: pd.DataFrame
    steps: list[str]
    step: str
    choices: list[Choice]
    messages: list[str] = field(default_factory=list)


def _periods(times: pd.Series, step: str) -> pd.PeriodIndex:
    wall = pd.DatetimeIndex(times.dt.tz_convert(schema.TZ)).tz_localize(None)
    return wall.to_period(STEPS[step])


def _step_label(period: pd.Period, step: str) -> str:
    if step == "week":
        year, week, _ = period.start_time.isocalendar()
        return f"{year}-V{week:02d}"
    if step == "quarter":
        return f"{period.year} kv{period.quarter}"
    return f"{period.year}-{period.month:02d}"


def _step_weights(frame: gpd.GeoDataFrame, periods: pd.PeriodIndex, step: str):
    """(row, step index, weight) triples: each incident's weight spread over the steps of
    its span (aoristic), or all in the step of its time."""
    from geo import aoristic

    weights = (
        frame[schema.WEIGHT].to_numpy(dtype=float)
        if schema.WEIGHT in frame.columns
        else np.ones(len(frame))
    )
    edges = pd.DatetimeIndex(
        [p.start_time for p in periods] + [periods[-1].end_time.ceil("D")]
    ).tz_localize(schema.TZ, nonexistent="shift_forward", ambiguous=False)
    return aoristic.spread_over_edges(frame, edges, weights)


def _check_step(step: str) -> None:
    if step not in STEPS:
        raise ValueError(f'`step` was "{step}" but is expected to be in {tuple(STEPS)}.')


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    step: str = "month",
    cell_size_m: float | None = None,
    band_m: float | None = None,
    start=None,
    end=None,
    time_steps: int = 1,
    min_bin: int = 2,
    trend_alpha: float = 0.05,
    fdr: bool = True,
    min_incidents: int = MIN_AREA_INCIDENTS,
    gazetteer: gpd.GeoDataFrame | None = None,
    include_centre_points: bool = False,
) -> TrendResult:
    """Emerging Hot Spot Analysis per area on the patrol-scale grid.

    For each area holding at least ``min_incidents`` incidents: the cell size and band are
    chosen from its incidents as the hotspot engine does (:func:`geo.grid.choose_cell_size`,
    :func:`geo.grid.choose_band` on the counts of the whole period) unless given; the cube
    counts incidents per cell and step (empty bins included); Gi* is computed over
    space-time neighbours (:func:`space_time_gistar`) and binned with FDR per step; each
    cell's z series gets a Mann–Kendall trend and a category (:func:`classify`).

    Parameters
    ----------
    incidents : GeoDataFrame
        Points with ``occurred_at`` (tz-aware), optional ``weight`` and ``occurred_until``.
    areas : GeoDataFrame
        One level of areas with ``area_id`` (``area_name`` for messages).
    step : {"month", "week", "quarter"}
    cell_size_m, band_m : float, optional
    start, end : date-like, optional
        First and last day of the cube (default: the incidents' first and last day).
    time_steps : int
        Earlier steps in a bin's neighbourhood (ArcGIS's neighborhood time step, 1).
    min_bin : int
        Bin that counts as hot/cold (2: 95 % after FDR).
    trend_alpha : float
        Significance of the Mann–Kendall trend (0.05).
    fdr : bool
        Benjamini–Hochberg per step and confidence level.
    min_incidents : int
        Areas with fewer incidents are listed, not analysed.
    gazetteer : GeoDataFrame, optional
        Named places: each cell's ``place`` ("Jakobsbergs station", "300 m norr om …").
    include_centre_points : bool
        Keep points stacked on an area's centre point (a geocoding fallback; left out by
        default, as the hotspot engine does, with a message).

    Returns
    -------
    TrendResult

    Raises
    ------
    TypeError, ValueError
        For bad frames or parameters, or fewer than three steps.
    """
    from geo.spatial import locate_points
    from geo.zones import _place_labels

    _check_step(step)
    incidents = _check_frame(incidents, "incidents", need=(schema.OCCURRED_AT,))
    areas = _check_frame(areas, "areas", need=(schema.AREA_ID,))
    if len(areas) == 0:
        raise ValueError("`areas` is empty: a grid needs a study area.")
    if not (isinstance(time_steps, int | np.integer) and time_steps >= 0):
        raise ValueError(f"`time_steps` was {time_steps!r}; expected an integer ≥ 0.")
    messages: list[str] = []
    if not include_centre_points:
        from geo.analysis import _without_centre_points

        incidents, notes = _without_centre_points(incidents, areas, False)
        messages += [n.replace("hotspotanalysen", "utvecklingen över tid") for n in notes]
    times = incidents[schema.OCCURRED_AT]
    if len(incidents) == 0:
        raise ValueError("Inga händelser i urvalet: utvecklingen över tid kan inte beräknas.")
    first_day = (
        pd.Timestamp(start).date()
        if start is not None
        else times.min().tz_convert(schema.TZ).date()
    )
    last_day = (
        pd.Timestamp(end).date() if end is not None else times.max().tz_convert(schema.TZ).date()
    )
    periods = pd.period_range(
        pd.Timestamp(first_day).to_period(STEPS[step]),
        pd.Timestamp(last_day).to_period(STEPS[step]),
        freq=STEPS[step],
    )
    n_steps = len(periods)
    unit = STEP_PLURALS[step]
    if n_steps < MIN_STEPS:
        raise ValueError(
            f"Perioden {first_day}–{last_day} ger {n_steps} {unit}; trendanalysen behöver minst "
            f"{MIN_STEPS}. Välj en längre period eller kortare tidssteg."
        )
    if n_steps < RECOMMENDED_STEPS:
        messages.append(
            f"Bara {n_steps} {unit}: ArcGIS rekommenderar minst {RECOMMENDED_STEPS} tidssteg för "
            "en tillförlitlig trend."
        )
    if pd.Timestamp(first_day) > periods[0].start_time:
        messages.append(
            f"Första {STEP_LABELS[step]}en ({_step_label(periods[0], step)}) täcks bara delvis av "
            f"perioden (från {first_day}): den ser lugnare ut än den var."
        )
    if pd.Timestamp(last_day) < periods[-1].end_time.normalize():
        messages.append(
            f"Sista {STEP_LABELS[step]}en ({_step_label(periods[-1], step)}) täcks bara delvis av "
            f"perioden (till {last_day}): en nedgång i den kan bero på att den inte är slut."
        )
    rows, step_idx, step_w, aoristic_note = _step_weights(incidents, periods, step)
    if aoristic_note:
        messages.append(aoristic_note)
    xy = _point_xy(incidents)
    where = locate_points(xy[:, 0], xy[:, 1], areas.geometry.values)
    held = np.bincount(where[where >= 0], minlength=len(areas))
    names = (
        areas[schema.AREA_NAME] if schema.AREA_NAME in areas.columns else areas[schema.AREA_ID]
    ).astype(str)
    labels = [_step_label(p, step) for p in periods]
    cell_parts, bin_parts, choices = [], [], []
    few = [i for i in range(len(areas)) if 0 < held[i] < min_incidents]
    for i in [i for i in range(len(areas)) if held[i] >= min_incidents]:
        area = areas.iloc[[i]]
        aid = str(area[schema.AREA_ID].iloc[0])
        study = area.geometry.values[0]
        mine = where == i
        if cell_size_m is None:
            size_choice = choose_cell_size(xy[mine], study.area)
        else:
            size_choice = Choice(
                "cell_size_m",
                float(cell_size_m),
                f"Rutstorlek {cell_size_m:g} m, vald av användaren.",
            )
        size = size_choice.value
        lattice, mask, cells, edge = _grid_cells(area, size, None, study)
        take = mine[rows]
        cube = np.zeros((n_steps, *mask.shape))
        counts = np.zeros((n_steps, *mask.shape))
        for t in range(n_steps):
            sel = take & (step_idx == t)
            r = rows[sel]
            c, s, _ = _bin(lattice, mask, study, xy[r], step_w[sel], edge)
            cube[t] = s
            counts[t] = c
        if band_m is None:
            band_choice = choose_band(cube.sum(axis=0), mask, size, xy=xy[mine])
        else:
            if not band_m >= size:
                raise ValueError(
                    f"`band_m` was {band_m!r}; expected at least the cell size ({size:g} m)."
                )
            band_choice = Choice(
                "band_m", float(band_m), f"Avståndsband {band_m:g} m, valt av användaren."
            )
        choices += [
            Choice(size_choice.name, size_choice.value, size_choice.reason, aid),
            Choice(band_choice.name, band_choice.value, band_choice.reason, aid),
        ]
        z = space_time_gistar(cube, mask, band_choice.value / size, time_steps)
        order = (cells[LATTICE_ROW].to_numpy(), cells[LATTICE_COL].to_numpy())
        zc = z[:, order[0], order[1]].T  # cells × steps
        pc = two_sided_p(zc)
        bc = np.stack(
            [confidence_bins(zc[:, t], pc[:, t], fdr=fdr) for t in range(n_steps)], axis=1
        )
        defined = np.isfinite(zc).all(axis=1)
        mk = mann_kendall(np.where(np.isfinite(zc), zc, 0.0))
        category = classify(bc, mk.z, mk.p, min_bin=min_bin, trend_alpha=trend_alpha)
        category[~defined] = NO_PATTERN
        out = gpd.GeoDataFrame(
            {
                schema.CELL_ID: cells[schema.CELL_ID].to_numpy(),
                schema.AREA_ID: aid,
                schema.COUNT: cube[:, order[0], order[1]].sum(axis=0),
                CATEGORY: category,
                MK_TAU: np.where(defined, mk.tau, np.nan),
                MK_Z: np.where(defined, mk.z, np.nan),
                MK_P: np.where(defined, mk.p, np.nan),
                HOT_STEPS: (bc >= min_bin).sum(axis=1),
                COLD_STEPS: (bc <= -min_bin).sum(axis=1),
            },
            geometry=cells.geometry.values,
            crs=schema.CRS_METRIC,
        )
        cell_parts.append(out)
        nc = len(out)
        bin_parts.append(
            pd.DataFrame(
                {
                    schema.CELL_ID: np.repeat(out[schema.CELL_ID].to_numpy(), n_steps),
                    schema.AREA_ID: aid,
                    STEP: np.tile(labels, nc),
                    STEP_START: np.tile([p.start_time.date() for p in periods], nc),
                    schema.COUNT: cube[:, order[0], order[1]].T.ravel(),
                    schema.GI_Z: zc.ravel(),
                    schema.GI_P: pc.ravel(),
                    schema.GI_BIN: bc.ravel().astype(np.int8),
                }
            )
        )
    if few:
        listed = ", ".join(f"{names.iloc[i]} ({held[i]})" for i in few[:10])
        messages.insert(
            0,
            f"{len(few)} område(n) har färre än {min_incidents} händelser och analyseras inte: {listed}.",
        )
    outside = int((where < 0).sum())
    if outside:
        messages.append(f"{outside} händelse(r) ligger utanför områdena och ingår inte i kuben.")
    if not cell_parts:
        raise ValueError(
            f"Inget område har minst {min_incidents} händelser i urvalet: utvecklingen över tid "
            "kan inte beräknas. Välj en längre period eller fler kategorier."
        )
    cells_out = gpd.GeoDataFrame(pd.concat(cell_parts, ignore_index=True), crs=schema.CRS_METRIC)
    named = np.asarray(_place_labels(cells_out, gazetteer), dtype=object)
    # no named place nearby: the cell itself ("ruta E661800N6589200"), not the area's id
    far = named == cells_out[schema.AREA_ID].astype(str).to_numpy()
    named[far] = "ruta " + cells_out.loc[far, schema.CELL_ID].astype(str).to_numpy()
    cells_out[PLACE] = named
    bins_out = pd.concat(bin_parts, ignore_index=True)
    choices += [
        Choice("step", float(n_steps), f"{n_steps} {unit} ({labels[0]}–{labels[-1]})."),
        Choice(
            "time_steps",
            float(time_steps),
            f"Grannar i tid: rutans egen {STEP_LABELS[step]} och {time_steps} före.",
        ),
        Choice(
            "hot_level",
            float(min_bin),
            f"En ruta räknas som het/kall i ett tidssteg vid {dict(((1, 90), (2, 95), (3, 99)))[min_bin]} % "
            "konfidens efter FDR-korrigering per tidssteg.",
        ),
        Choice(
            "trend_alpha",
            float(trend_alpha),
            f"Trenden (Mann–Kendall) räknas som signifikant vid p < {trend_alpha:g}.",
        ),
    ]
    return TrendResult(cells_out, bins_out, labels, step, choices, messages)


# --- words for the commander -----------------------------------------------------------------

_NUMBERS = {
    1: "En",
    2: "Två",
    3: "Tre",
    4: "Fyra",
    5: "Fem",
    6: "Sex",
    7: "Sju",
    8: "Åtta",
    9: "Nio",
}
_SEASONS = {12: "vintern", 1: "vintern", 2: "vintern", 3: "våren", 4: "våren", 5: "våren",
            6: "sommaren", 7: "sommaren", 8: "sommaren", 9: "hösten", 10: "hösten", 11: "hösten"}  # fmt: skip


#: A group of cells is named in the commander's sentence when its cells hold at least this
#: many incidents over the period (a single stray incident is not a hotspot to act on).
MIN_PLACE_INCIDENTS = 5
#: A group of cells larger than this (the default zone cap, km²) is named with its size.
ZONE_KM2 = 0.25
AREA_KM2 = "km2"


def places(cells: pd.DataFrame, *, min_incidents: float = MIN_PLACE_INCIDENTS) -> pd.DataFrame:
    """Groups of touching cells (one category) as places: ``place`` (of the cell with most
    incidents), ``cells``, ``count``, ``cell_ids``; largest count first, small ones left out.

    Examples
    --------
    >>> c = gpd.GeoDataFrame({"cell_id": ["a", "b", "c"], "count": [4.0, 3.0, 1.0],
    ...     "place": ["Torget", "Parken", "Ängen"]}, geometry=[shapely.box(0, 0, 1, 1),
    ...     shapely.box(1, 0, 2, 1), shapely.box(5, 5, 6, 6)], crs=3006)
    >>> places(c)[["place", "cells", "count"]].to_dict("records")
    [{'place': 'Torget', 'cells': 2, 'count': 7.0}]
    """
    if len(cells) == 0:
        return pd.DataFrame(columns=[PLACE, "cells", schema.COUNT, AREA_KM2, "cell_ids"])
    geoms = cells.geometry.values
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(len(cells), len(cells)))
    _, group = connected_components(graph, directed=False)
    frame = pd.DataFrame(
        {
            "group": group,
            schema.COUNT: cells[schema.COUNT].to_numpy(dtype=float),
            PLACE: cells[PLACE].astype(str).to_numpy(),
            schema.CELL_ID: cells[schema.CELL_ID].astype(str).to_numpy(),
        }
    )
    frame["km2"] = shapely.area(geoms) / 1e6
    rows = []
    for _, g in frame.groupby("group", sort=False):
        top = g.sort_values(schema.COUNT, ascending=False, kind="stable").iloc[0]
        rows.append(
            (top[PLACE], len(g), float(g[schema.COUNT].sum()), float(g["km2"].sum()),
             list(g[schema.CELL_ID]))
        )  # fmt: skip
    out = pd.DataFrame(rows, columns=[PLACE, "cells", schema.COUNT, AREA_KM2, "cell_ids"])
    out = out[out[schema.COUNT] >= min_incidents]
    return out.sort_values(schema.COUNT, ascending=False, kind="stable").reset_index(drop=True)


def _places(groups: pd.DataFrame, limit: int = 3) -> str:
    # a group wider than a patrol zone says so: it is a region, not a place
    wide = groups[AREA_KM2] > ZONE_KM2
    named = groups[PLACE].where(
        ~wide, groups[PLACE] + groups[AREA_KM2].map(lambda a: f" ({a:.1f} km²)".replace(".", ","))
    )
    names = list(dict.fromkeys(named))
    shown = names[:limit]
    text = " och ".join(", ".join(shown).rsplit(", ", 1)) if len(shown) > 1 else shown[0]
    return text + (f" med flera ({len(names)} platser)" if len(names) > limit else "")


def _count_word(n: int) -> str:
    return _NUMBERS.get(n, str(n))


def commander_summary(result: TrendResult) -> str:
    """One or two Swedish sentences for the commander: new, intensifying and diminishing
    hotspots, by place ("Två nya hotspots sedan våren 2018: X och Y.").

    A place is a group of touching cells of those categories holding at least
    ``MIN_PLACE_INCIDENTS`` incidents (:func:`places`), named as zones are.

    Examples
    --------
    >>> cells = gpd.GeoDataFrame({"cell_id": ["a", "b", "c"],
    ...     "category": ["new_hotspot", "new_hotspot", "no_pattern"],
    ...     "count": [5, 6, 1], "place": ["Torget", "Parken", "x"]},
    ...     geometry=[shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6), shapely.box(9, 9, 10, 10)],
    ...     crs=3006)
    >>> r = TrendResult(cells, pd.DataFrame(), ["2018-01", "2018-02", "2018-03"], "month", [])
    >>> commander_summary(r)
    'Två nya hotspots i mars 2018: Parken och Torget.'
    """
    cells = result.cells
    last = result.steps[-1]
    parts = []

    def group(keys):
        return places(cells[cells[CATEGORY].isin(keys)])

    new = group(["new_hotspot", "consecutive_hotspot"])
    if len(new):
        n = new[PLACE].nunique()
        new_cells = cells[cells[schema.CELL_ID].isin([c for ids in new["cell_ids"] for c in ids])]
        word = "ny hotspot" if n == 1 else "nya hotspots"
        parts.append(f"{_count_word(n)} {word} {_since(result, new_cells)}: {_places(new)}.")
    up = group(["intensifying_hotspot"])
    if len(up):
        n = up[PLACE].nunique()
        verb = "hotspot blir" if n == 1 else "hotspots blir"
        parts.append(f"{_count_word(n)} {verb} allt hetare: {_places(up)}.")
    down = group(["diminishing_hotspot", "historical_hotspot"])
    if len(down):
        n = down[PLACE].nunique()
        verb = "hotspot har" if n == 1 else "hotspots har"
        parts.append(f"{_count_word(n)} {verb} svalnat: {_places(down)}.")
    if not parts:
        steady = group(["persistent_hotspot"])
        if len(steady):
            return (
                f"Inga nya hotspots; {_count_word(steady[PLACE].nunique()).lower()} plats(er) är "
                f"ihållande heta: {_places(steady)}."
            )
        return f"Inga nya, ökande eller avtagande hotspots fram till {last}."
    return " ".join(parts)


_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december")  # fmt: skip


def _since(result: TrendResult, cells: pd.DataFrame) -> str:
    """When the new hot cells first became hot, in words ("sedan i våras", "i mars 2018")."""
    labels = result.steps
    if result.bins.empty:
        first = len(labels) - 1
    else:
        hot = result.bins[
            result.bins[schema.CELL_ID].isin(cells[schema.CELL_ID])
            & (result.bins[schema.GI_BIN] >= 2)
        ]
        first = min(labels.index(s) for s in set(hot[STEP])) if len(hot) else len(labels) - 1
    label = labels[first]
    if result.step == "month":
        year, month = int(label[:4]), int(label[5:7])
        if first == len(labels) - 1:
            return f"i {_MONTHS[month - 1]} {year}"
        season = _SEASONS[month]
        return f"sedan {season} {year + 1 if month == 12 else year}"
    return f"sedan {label}"


def zone_categories(zones: gpd.GeoDataFrame, result: TrendResult) -> list[str]:
    """Each zone's category: of the cells it overlaps that have a pattern, the category whose
    cells hold most incidents (ties: the order of :data:`CATEGORIES`); else ``no_pattern``.

    Examples
    --------
    >>> cells = gpd.GeoDataFrame({"category": ["new_hotspot", "persistent_hotspot"],
    ...     "count": [2.0, 5.0]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
    ...     crs=3006)
    >>> r = TrendResult(cells, pd.DataFrame(), [], "month", [])
    >>> z = gpd.GeoDataFrame(geometry=[shapely.box(0.2, 0.2, 1.8, 0.8),
    ...     shapely.box(5, 5, 6, 6)], crs=3006)
    >>> zone_categories(z, r)
    ['persistent_hotspot', 'no_pattern']
    """
    cells = result.cells[result.cells[CATEGORY] != NO_PATTERN]
    zones = zones.to_crs(schema.CRS_METRIC)
    out = []
    if not len(cells):
        return [NO_PATTERN] * len(zones)
    tree = shapely.STRtree(cells.geometry.values)
    z_idx, c_idx = tree.query(zones.geometry.values, predicate="intersects")
    cats = cells[CATEGORY].to_numpy()
    counts = cells[schema.COUNT].to_numpy(dtype=float)
    order = {c: k for k, c in enumerate(CATEGORIES)}
    for k in range(len(zones)):
        hit = c_idx[z_idx == k]
        if not hit.size:
            out.append(NO_PATTERN)
            continue
        sums = pd.Series(counts[hit]).groupby(cats[hit]).sum()
        best = sorted(sums.items(), key=lambda kv: (-kv[1], order[kv[0]]))[0][0]
        out.append(str(best))
    return out


def step_series(result: TrendResult, cell_id: str) -> pd.DataFrame:
    """One cell's series for the chart: ``step, step_start, count, gi_z, gi_bin``."""
    b = result.bins
    out = b[b[schema.CELL_ID].astype(str) == str(cell_id)]
    if out.empty:
        raise ValueError(f"Rutan {cell_id!r} finns inte i resultatet.")
    return out[[STEP, STEP_START, schema.COUNT, schema.GI_Z, schema.GI_BIN]].reset_index(drop=True)


def category_counts(result: TrendResult) -> dict:
    """Counts of cells per category, overall and per area (the ``--json`` of ``trends``)."""
    cells = result.cells
    overall = {k: int(v) for k, v in cells[CATEGORY].value_counts().items()}
    per_area = {
        str(aid): {k: int(v) for k, v in grp[CATEGORY].value_counts().items()}
        for aid, grp in cells.groupby(schema.AREA_ID, sort=True)
    }
    return {"categories": overall, "per_area": per_area}


def cell_at(result: TrendResult, lat: float, lon: float) -> str | None:
    """cell_id of the cell under a clicked WGS 84 point, or None."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(schema.CRS_WGS84, schema.CRS_METRIC, always_xy=True).transform(
        lon, lat
    )
    hit = result.cells[result.cells.geometry.intersects(shapely.Point(x, y))]
    return None if hit.empty else str(hit[schema.CELL_ID].iloc[0])
