"""Near-repeat patterns: the Knox test over bands of distance and days, as Ratcliffe's Near
Repeat Calculator does it, and per-incident chains (originator, near-repeat, repeat).

This module owns the pair counting (a k-d tree within the largest finite distance band: no n²
pairs are ever made), the Monte Carlo permutation of dates with locations fixed, the
observed/expected table with its p-values, the summary sentences, and the chains.

Bands (see docs/space-time.md for how they compare with the calculator's):

* distance: "same location" (d = 0), then ``(k−1)·s < d ≤ k·s`` for ``k = 1..N``, then "more
  than N·s"; Euclidean or Manhattan metres in EPSG:3006;
* time: ``(k−1)·τ ≤ Δt < k·τ`` days for ``k = 1..T`` (the calculator's "0 to τ", "τ+1 to 2τ"
  bands, which cover the same days), then "more than".

Data caveat: with date-only data (every time 00:00) Δt is a whole number of days, so the first
time band of τ days holds pairs 0..τ−1 days apart and "same day" means the same date; with
clock times Δt is the real elapsed time. Row and column totals do not change under a
permutation of the dates, which gives the "more than" cells without counting their pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo import schema

DISTANCES = ("euclidean", "manhattan")
DEFAULT_PERMUTATIONS = 99
#: A cell's risk is "elevated" when its p-value is at most this and observed > expected.
ALPHA = 0.05

SPACE_BAND = "space_band"
SPACE_LABEL = "space_label"
TIME_BAND = "time_band"
TIME_LABEL = "time_label"
OBSERVED = "observed"
EXPECTED = "expected"
RATIO = "ratio"
P_VALUE = "p"

ROLE = "role"
CHAIN_ID = "chain_id"
CHAIN_SIZE = "chain_size"
ROLES = ("originator", "near_repeat", "repeat", "none")
ROLE_LABELS = {
    "originator": "första i kedjan",
    "near_repeat": "nära upprepning",
    "repeat": "upprepning (samma plats)",
    "none": "ingen kedja",
}


@dataclass(frozen=True)
class KnoxResult:
    """The Knox table: one row per space × time cell.

    Attributes
    ----------
    table : DataFrame
        ``space_band`` (0 = same location, 1..N, N+1 = more), ``space_label``, ``time_band``
        (0..T−1, T = more), ``time_label``, ``observed``, ``expected``, ``ratio``
        (observed/expected, NaN where expected is 0), ``p``.
    permutations : int
    seed : int or None
    n : int
        Incidents analysed.
    space_band_m, time_band_days : float
    space_bands, time_bands : int
    distance : str
    """

    table: pd.DataFrame
    permutations: int
    seed: int | None
    n: int
    space_band_m: float
    space_bands: int
    time_band_days: float
    time_bands: int
    distance: str
    messages: list[str] = field(default_factory=list)

    def observed_matrix(self) -> np.ndarray:
        """Observed counts as a (N+2) × (T+1) array."""
        return self.table.pivot(index=SPACE_BAND, columns=TIME_BAND, values=OBSERVED).to_numpy()

    def summary(self) -> list[str]:
        """The calculator's summary sentences in Swedish (see :func:`summary_sentences`)."""
        return summary_sentences(self)

    def to_json_dict(self) -> dict:
        cells = [
            {
                "space_band": int(r[SPACE_BAND]),
                "space_label": r[SPACE_LABEL],
                "time_band": int(r[TIME_BAND]),
                "time_label": r[TIME_LABEL],
                "observed": int(r[OBSERVED]),
                "expected": round(float(r[EXPECTED]), 3),
                "ratio": None if not np.isfinite(r[RATIO]) else round(float(r[RATIO]), 3),
                "p": round(float(r[P_VALUE]), 4),
            }
            for _, r in self.table.iterrows()
        ]
        return {
            "incidents": self.n,
            "permutations": self.permutations,
            "seed": self.seed,
            "distance": self.distance,
            "space_band_m": self.space_band_m,
            "space_bands": self.space_bands,
            "time_band_days": self.time_band_days,
            "time_bands": self.time_bands,
            "cells": cells,
            "summary": self.summary(),
            "messages": list(self.messages),
        }


def _metres(v: float) -> str:
    return f"{v:g}".replace(".", ",")


def space_labels(band_m: float, bands: int) -> list[str]:
    """Swedish labels of the distance bands, as the calculator words them.

    Examples
    --------
    >>> space_labels(100, 2)
    ['samma plats', '1–100 m', '101–200 m', 'mer än 200 m']
    """
    out = ["samma plats"]
    for k in range(1, bands + 1):
        lo = (k - 1) * band_m + 1 if band_m >= 2 else (k - 1) * band_m
        out.append(f"{_metres(lo)}–{_metres(k * band_m)} m")
    return out + [f"mer än {_metres(bands * band_m)} m"]


def time_labels(band_days: float, bands: int) -> list[str]:
    """Swedish labels of the time bands (``[(k−1)τ, kτ)`` days apart).

    Examples
    --------
    >>> time_labels(7, 3)
    ['0–7 dagar', '8–14 dagar', '15–21 dagar', 'mer än 21 dagar']
    """
    out = []
    for k in range(1, bands + 1):
        lo = 0 if k == 1 else (k - 1) * band_days + 1
        out.append(f"{_metres(lo)}–{_metres(k * band_days)} dagar")
    return out + [f"mer än {_metres(bands * band_days)} dagar"]


def _check_positive(value, name: str, integer: bool = False) -> None:
    ok = (
        isinstance(value, int | np.integer)
        if integer
        else isinstance(value, int | float | np.number)
    )
    if not ok or not value > 0 or (not integer and not math.isfinite(value)):
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"`{name}` was {value!r}; expected {kind}.")


def _close_pairs(
    xy: np.ndarray, reach_m: float, distance: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) within ``reach_m`` and their distances, from a k-d tree."""
    p = 2 if distance == "euclidean" else 1
    tree = cKDTree(xy)
    pairs = tree.query_pairs(r=reach_m, p=p, output_type="ndarray")
    i = pairs[:, 0].astype(np.int32)
    j = pairs[:, 1].astype(np.int32)
    diff = xy[i] - xy[j]
    d = np.hypot(diff[:, 0], diff[:, 1]) if p == 2 else np.abs(diff).sum(axis=1)
    return i, j, d


def _space_bins(d: np.ndarray, band_m: float, bands: int) -> np.ndarray:
    k = np.ceil(d / band_m - 1e-9).astype(np.int64)
    return np.where(d == 0, 0, np.clip(k, 1, bands))


def _time_band_totals(days: np.ndarray, band_days: float, bands: int) -> np.ndarray:
    """Pairs of all incidents per time band (T + 1 values), from sorted times: O(n log n)."""
    t = np.sort(days)
    n = len(t)
    idx = np.arange(n)
    below = [0]
    for k in range(1, bands + 1):
        upto = np.searchsorted(t, t + k * band_days, "left")  # j with t_j < t_i + kτ
        below.append(int((upto - idx - 1).sum()))
    total = n * (n - 1) // 2
    cum = np.array(below + [total], dtype=np.int64)
    return np.diff(cum)


def knox_table(
    xy: np.ndarray,
    days: np.ndarray,
    *,
    space_band_m: float,
    space_bands: int,
    time_band_days: float,
    time_bands: int,
    distance: str = "euclidean",
    permutations: int | np.ndarray = DEFAULT_PERMUTATIONS,
    seed: int | None = None,
) -> KnoxResult:
    """Knox test over bands of distance and days, with Monte Carlo expected counts.

    Every pair of incidents is counted in one space × time cell. The expected count of each
    cell is the mean over ``permutations`` random reassignments of the dates to the
    locations (locations fixed, seeded), and ``p = (1 + #{simulated ≥ observed}) / (R + 1)``.

    Parameters
    ----------
    xy : (n, 2) array of float
        Locations in metres (EPSG:3006).
    days : (n,) array of float
        Times in days (any origin), e.g. ``(occurred_at − t0) / 1 day``.
    space_band_m, space_bands, time_band_days, time_bands
        Band width and number of finite bands.
    distance : {"euclidean", "manhattan"}
    permutations : int or (R, n) array of int
        Number of permutations, or the permutations themselves (each row an order of the
        dates), e.g. to reproduce another program's random stream.
    seed : int, optional

    Returns
    -------
    KnoxResult

    Examples
    --------
    >>> xy = np.array([[0, 0], [0, 0], [50, 0], [1000, 0]], float)
    >>> r = knox_table(xy, np.array([0.0, 1.0, 2.0, 30.0]), space_band_m=100, space_bands=1,
    ...                time_band_days=7, time_bands=1, permutations=9, seed=1)
    >>> r.observed_matrix().tolist()  # same place 1 day; 50 m 1, 2 days; 3 pairs > 100 m
    [[1, 0], [2, 0], [0, 3]]
    """
    xy = np.asarray(xy, dtype=float)
    days = np.asarray(days, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) != len(days):
        raise ValueError(f"`xy` must be (n, 2) matching `days` (n={len(days)}), got {xy.shape}.")
    if not (np.isfinite(xy).all() and np.isfinite(days).all()):
        raise ValueError("`xy` and `days` must be finite (drop incidents without place or time).")
    _check_positive(space_band_m, "space_band_m")
    _check_positive(time_band_days, "time_band_days")
    _check_positive(space_bands, "space_bands", integer=True)
    _check_positive(time_bands, "time_bands", integer=True)
    if distance not in DISTANCES:
        raise ValueError(f'`distance` was "{distance}" but is expected to be in {DISTANCES}.')
    n = len(xy)
    if isinstance(permutations, np.ndarray):
        orders = np.asarray(permutations, dtype=np.int64)
        if orders.ndim != 2 or orders.shape[1] != n:
            raise ValueError(f"`permutations` as an array must be (R, {n}), got {orders.shape}.")
        n_perm = len(orders)
    else:
        _check_positive(permutations, "permutations", integer=True)
        orders = None
        n_perm = int(permutations)
    S, T = int(space_bands), int(time_bands)
    i, j, d = _close_pairs(xy, S * space_band_m, distance)
    sb = _space_bins(d, space_band_m, S)
    row_total = np.bincount(sb, minlength=S + 1).astype(np.int64)  # finite space bands
    col_total = _time_band_totals(days, time_band_days, T)

    # Pairs sorted by their first incident: t[i] becomes a sequential repeat, not a gather.
    order_pairs = np.lexsort((j, i))
    i, j, sb = i[order_pairs], j[order_pairs], sb[order_pairs]
    first, per_first = np.unique(i, return_counts=True)
    key_base = (sb * (T + 1)).astype(np.int32)  # one column more: "more than" gets counted
    cells = (S + 1) * (T + 1)
    dt = np.empty(len(i))
    band = np.empty(len(i), dtype=np.int32)

    def finite_counts(t: np.ndarray) -> np.ndarray:
        # |t_i − t_j| / τ, truncated (≥ 0, so floor), capped at T: a few passes, no masks
        np.subtract(np.repeat(t[first], per_first), t[j], out=dt)
        np.abs(dt, out=dt)
        np.divide(dt, time_band_days, out=dt)
        np.minimum(dt, T, out=dt)
        band[:] = dt
        np.add(band, key_base, out=band)
        return np.bincount(band, minlength=cells).reshape(S + 1, T + 1)[:, :T]

    def full(finite: np.ndarray) -> np.ndarray:
        out = np.zeros((S + 2, T + 1), dtype=np.int64)
        out[: S + 1, :T] = finite
        out[: S + 1, T] = row_total - finite.sum(axis=1)
        out[S + 1, :] = col_total - out[: S + 1, :].sum(axis=0)
        return out

    observed = full(finite_counts(days))
    rng = np.random.default_rng(seed)
    ge = np.zeros_like(observed)
    total = np.zeros(observed.shape, dtype=float)
    for r in range(n_perm):
        order = orders[r] if orders is not None else rng.permutation(n)
        sim = full(finite_counts(days[order]))
        ge += sim >= observed
        total += sim
    expected = total / n_perm
    p = (1 + ge) / (n_perm + 1)
    slabels = space_labels(space_band_m, S)
    tlabels = time_labels(time_band_days, T)
    srow, tcol = np.meshgrid(np.arange(S + 2), np.arange(T + 1), indexing="ij")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    table = pd.DataFrame(
        {
            SPACE_BAND: srow.ravel(),
            SPACE_LABEL: [slabels[k] for k in srow.ravel()],
            TIME_BAND: tcol.ravel(),
            TIME_LABEL: [tlabels[k] for k in tcol.ravel()],
            OBSERVED: observed.ravel(),
            EXPECTED: expected.ravel(),
            RATIO: ratio.ravel(),
            P_VALUE: p.ravel(),
        }
    )
    messages = []
    if n_perm < 99:
        messages.append(
            f"Bara {n_perm} permutationer: p-värden under {1 / (n_perm + 1):.2f} går inte att få; "
            "använd minst 99."
        )
    return KnoxResult(
        table, n_perm, seed, n, float(space_band_m), S, float(time_band_days), T, distance, messages
    )


def summary_sentences(result: KnoxResult, *, alpha: float = ALPHA) -> list[str]:
    """Sentences like the calculator's: for each distance band where the risk is elevated in
    the first time band, how long it stays elevated and by how much.

    A cell is elevated when ``p ≤ alpha`` and observed > expected; the run of elevated time
    bands from the first one gives "i upp till X dagar", and the percentage is
    ``Σ observed / Σ expected − 1`` over that run.
    """
    t = result.table
    out = []
    for s in range(result.space_bands + 1):
        rows = t[(t[SPACE_BAND] == s) & (t[TIME_BAND] < result.time_bands)].sort_values(TIME_BAND)
        elevated = ((rows[P_VALUE] <= alpha) & (rows[OBSERVED] > rows[EXPECTED])).to_numpy()
        run = int(np.argmin(elevated)) if not elevated.all() else len(elevated)
        if run == 0:
            continue
        part = rows.iloc[:run]
        pct = (part[OBSERVED].sum() / part[EXPECTED].sum() - 1) * 100
        upto = _metres(run * result.time_band_days)
        where = "På samma plats" if s == 0 else f"Inom {rows[SPACE_LABEL].iloc[0]}"
        out.append(
            f"{where} är risken förhöjd i upp till {upto} dagar efter en händelse, ungefär "
            f"{pct:.0f} % högre än om tid och plats vore oberoende."
        )
    if not out:
        out.append(
            "Ingen förhöjd risk nära i tid och rum: händelserna följer inte på varandra oftare "
            "än slumpen ger (på signifikansnivån 5 %)."
        )
    return out


def chains(
    xy: np.ndarray,
    days: np.ndarray,
    *,
    link_m: float,
    link_days: float,
    distance: str = "euclidean",
) -> pd.DataFrame:
    """Per incident: its role and chain. Two incidents are linked when at most ``link_m``
    apart and less than ``link_days`` apart; a chain is a connected group of linked
    incidents. In each chain, an incident with no linked incident before it (earlier time,
    then earlier row) is an **originator**; the others are a **repeat** when linked to an
    earlier one at the same location, else a **near_repeat**. Incidents in no chain: none.

    Returns
    -------
    DataFrame
        ``role``, ``chain_id`` (1, 2, ... by the chain's first time; 0 = none),
        ``chain_size`` per input row, in input order.

    Examples
    --------
    >>> xy = np.array([[0, 0], [0, 0], [80, 0], [5000, 0]], float)
    >>> chains(xy, np.array([0.0, 2.0, 3.0, 1.0]), link_m=100, link_days=7).to_dict("list")
    {'role': ['originator', 'repeat', 'near_repeat', 'none'], 'chain_id': [1, 1, 1, 0], 'chain_size': [3, 3, 3, 1]}
    """
    xy = np.asarray(xy, dtype=float)
    days = np.asarray(days, dtype=float)
    n = len(xy)
    i, j, d = _close_pairs(xy, link_m, distance)
    near_t = np.abs(days[i] - days[j]) < link_days
    i, j, d = i[near_t], j[near_t], d[near_t]
    graph = sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    size = np.bincount(comp, minlength=comp.max() + 1 if n else 0)[comp] if n else np.zeros(0, int)
    # order: time, then row
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), days))] = np.arange(n)
    later = np.where(rank[i] > rank[j], i, j)
    earlier_same = np.zeros(n, bool)
    has_earlier = np.zeros(n, bool)
    has_earlier[later] = True
    earlier_same[later[d == 0]] = True
    role = np.full(n, "none", dtype=object)
    member = size >= 2
    role[member] = "originator"
    role[member & has_earlier] = "near_repeat"
    role[member & earlier_same] = "repeat"
    chain_id = np.zeros(n, dtype=np.int64)
    if member.any():
        comps = np.unique(comp[member])
        start = pd.Series(days[member]).groupby(comp[member]).min().loc[comps]
        order = comps[np.argsort(start.to_numpy(), kind="stable")]
        number = {c: k + 1 for k, c in enumerate(order)}
        chain_id[member] = [number[c] for c in comp[member]]
    return pd.DataFrame({ROLE: role, CHAIN_ID: chain_id, CHAIN_SIZE: np.where(member, size, 1)})


@dataclass(frozen=True)
class NearRepeatResult:
    """Knox table, the incidents with role and chain, and notes."""

    knox: KnoxResult
    incidents: gpd.GeoDataFrame
    link_m: float
    link_days: float
    messages: list[str] = field(default_factory=list)

    def chain_summary(self) -> str:
        """How many chains, how many incidents in them (Swedish)."""
        inc = self.incidents
        n_chains = int(inc[CHAIN_ID].max()) if len(inc) else 0
        if not n_chains:
            return "Inga kedjor av händelser nära varandra i tid och rum."
        members = int((inc[CHAIN_ID] > 0).sum())
        biggest = int(inc[CHAIN_SIZE].max())
        word = "kedja" if n_chains == 1 else "kedjor"
        return (
            f"{n_chains} {word} med sammanlagt {members} händelser (inom {_metres(self.link_m)} m "
            f"och under {_metres(self.link_days)} dagar från varandra); den största har {biggest}."
        )


def _days(times: pd.Series) -> np.ndarray:
    t = pd.DatetimeIndex(times).as_unit("ns").tz_convert("UTC")
    return (t.asi8 - t.asi8.min()) / 86_400e9 if len(t) else np.zeros(0)


def near_repeat(
    incidents: gpd.GeoDataFrame,
    *,
    space_band_m: float = 100.0,
    space_bands: int = 5,
    time_band_days: float = 7.0,
    time_bands: int = 4,
    distance: str = "euclidean",
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | None = None,
    link_m: float | None = None,
    link_days: float | None = None,
) -> NearRepeatResult:
    """The Knox table and the chains for a frame of incidents (EPSG:3006, ``occurred_at``).

    ``link_m`` and ``link_days`` (what links two incidents into a chain) default to the first
    distance band and the first time band. Date-only data is measured in whole days (see the
    module docstring); the returned ``messages`` say so.
    """
    from geo.grid import _check_frame, _point_xy
    from geo.timewin import has_clock_times

    incidents = _check_frame(incidents, "incidents", need=(schema.OCCURRED_AT,))
    xy = _point_xy(incidents)
    ok = np.isfinite(xy).all(axis=1) & incidents[schema.OCCURRED_AT].notna().to_numpy()
    frame = incidents.loc[ok].copy()
    messages = []
    if (~ok).sum():
        messages.append(f"{int((~ok).sum())} händelse(r) utan plats eller tid ingår inte.")
    if len(frame) < 2:
        raise ValueError("Near repeat-analysen behöver minst två händelser med plats och tid.")
    days = _days(frame[schema.OCCURRED_AT])
    if not has_clock_times(frame[schema.OCCURRED_AT]):
        messages.append(
            "Filen har bara datum: avstånd i tid räknas i hela dagar, så första tidsbandet på "
            f"{_metres(time_band_days)} dagar rymmer par 0–{_metres(time_band_days - 1)} dagar isär "
            "och ”samma dag” betyder samma datum."
        )
    knox = knox_table(
        xy[ok],
        days,
        space_band_m=space_band_m,
        space_bands=space_bands,
        time_band_days=time_band_days,
        time_bands=time_bands,
        distance=distance,
        permutations=permutations,
        seed=seed,
    )
    lm = float(space_band_m if link_m is None else link_m)
    ld = float(time_band_days if link_days is None else link_days)
    roles = chains(xy[ok], days, link_m=lm, link_days=ld, distance=distance)
    for col in roles.columns:
        frame[col] = roles[col].to_numpy()
    return NearRepeatResult(knox, frame, lm, ld, messages + knox.messages)


#: Swedish headers of the chain CSV (through geo.safecsv).
CSV_LABELS = {
    schema.ID: "id",
    schema.OCCURRED_AT: "tidpunkt",
    schema.CATEGORY: "kategori",
    "lon": "lon",
    "lat": "lat",
    ROLE: "roll",
    CHAIN_ID: "kedja",
    CHAIN_SIZE: "händelser i kedjan",
}


def chains_csv_frame(result: NearRepeatResult) -> pd.DataFrame:
    """The incidents in chains as a plain frame for the CSV (WGS 84 lon/lat, Swedish roles)."""
    inc = result.incidents
    inc = inc[inc[CHAIN_ID] > 0].sort_values([CHAIN_ID, schema.OCCURRED_AT])
    ll = inc.geometry.to_crs(schema.CRS_WGS84)
    out = pd.DataFrame(
        {
            schema.ID: inc[schema.ID].astype(str).to_numpy()
            if schema.ID in inc
            else np.arange(len(inc)),
            schema.OCCURRED_AT: inc[schema.OCCURRED_AT].astype(str).to_numpy(),
            schema.CATEGORY: inc[schema.CATEGORY].to_numpy() if schema.CATEGORY in inc else "",
            "lon": ll.x.round(6).to_numpy(),
            "lat": ll.y.round(6).to_numpy(),
            ROLE: [ROLE_LABELS[r] for r in inc[ROLE]],
            CHAIN_ID: inc[CHAIN_ID].to_numpy(),
            CHAIN_SIZE: inc[CHAIN_SIZE].to_numpy(),
        }
    )
    return out


def chains_csv(result: NearRepeatResult) -> bytes:
    """The chain CSV, defused against formulas (`geo.safecsv`), Swedish headers."""
    from geo import safecsv

    return safecsv.to_csv_bytes(chains_csv_frame(result), labels=CSV_LABELS)
