"""Aoristic weights: incidents known only as a time span ("mellan fredag 17:00 och måndag 07:00").

This module owns how an incident with a span (``occurred_at`` .. ``occurred_until``) counts
where time matters: its weight is spread evenly over the span (Ratcliffe 2002), so a span of
four hours puts a quarter of the incident in each hour. Durations are real elapsed time (UTC),
so a span across a DST change is as long as it really was; each real hour is labelled by the
Swedish wall clock (on the autumn night two real hours are "02").

* :func:`expand_hours` gives one row per (incident, hour of its span) with the share as weight:
  the input of hour-of-week profiles, peak hours and time-window shares.
* :func:`spread_over_edges` spreads each incident over arbitrary time bins (the steps of the
  space-time cube).
* Spans longer than ``MAX_SPAN`` (7 days) say nothing about the hour: they are reported and
  left out of hour-based results only (they still count in maps, zones and the cube).

A record without an end, or with an end at or before its start, is a moment: all its weight
sits at ``occurred_at`` (the loader rejects an end before the start).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo import schema

#: Spans longer than this are left out of hour-based results (and reported).
MAX_SPAN = pd.Timedelta(days=7)
_HOUR_NS = 3_600 * 10**9


def _ns(times: pd.Series) -> np.ndarray:
    """Instants as int64 nanoseconds since the epoch (UTC); NaT as the int64 minimum."""
    return pd.DatetimeIndex(times).as_unit("ns").tz_convert("UTC").asi8


def span_bounds(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start ns, end ns, has_span) per row; rows without a usable end get end = start."""
    start = _ns(frame[schema.OCCURRED_AT])
    if schema.OCCURRED_UNTIL not in frame.columns:
        return start, start.copy(), np.zeros(len(frame), bool)
    until = frame[schema.OCCURRED_UNTIL]
    end = _ns(until)
    has = until.notna().to_numpy() & (end > start)
    return start, np.where(has, end, start), has


@dataclass(frozen=True)
class SpanSummary:
    """How many incidents were spread, over how long, and how many were too long."""

    spread: int
    too_long: int
    median_hours: float
    max_span: pd.Timedelta = MAX_SPAN

    def text(self) -> str | None:
        """Swedish sentence for the UI, or None when no incident has a span.

        Examples
        --------
        >>> SpanSummary(12, 1, 9.5).text()
        '12 händelser anges som tidsintervall (median 9,5 timmar) och är utspridda jämnt över sina timmar; 1 med intervall över 7 dygn ingår inte i timresultaten.'
        """
        if not self.spread and not self.too_long:
            return None
        hours = f"{self.median_hours:.1f}".replace(".", ",")
        text = (
            f"{self.spread} händelser anges som tidsintervall (median {hours} timmar) och är "
            "utspridda jämnt över sina timmar"
        )
        if self.too_long:
            days = int(self.max_span / pd.Timedelta(days=1))
            text += f"; {self.too_long} med intervall över {days} dygn ingår inte i timresultaten"
        return text + "."


def summarise(frame: pd.DataFrame, *, max_span: pd.Timedelta = MAX_SPAN) -> SpanSummary:
    """Count the spans in ``frame`` (see :class:`SpanSummary`)."""
    start, end, has = span_bounds(frame)
    length = (end - start)[has]
    long = length > max_span.value
    ok = length[~long]
    median = float(np.median(ok) / _HOUR_NS) if ok.size else 0.0
    return SpanSummary(int((~long).sum()), int(long.sum()), median, max_span)


def expand_hours(
    frame: pd.DataFrame,
    weights: np.ndarray | None = None,
    *,
    max_span: pd.Timedelta = MAX_SPAN,
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """One entry per (incident, hour of its span): representative time, weight, source row.

    A moment keeps its own time and weight. A span ``[a, b)`` gives an entry for every clock
    hour it touches, at the later of ``a`` and the hour's start, weighted by the share of the
    span inside that hour. Spans longer than ``max_span`` give no entries.

    Parameters
    ----------
    frame : DataFrame
        With ``occurred_at`` and optionally ``occurred_until`` (tz-aware).
    weights : array of float, optional
        Per row (default 1).
    max_span : Timedelta

    Returns
    -------
    (DatetimeIndex in Europe/Stockholm, weights, row positions)

    Examples
    --------
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(["2018-03-16 22:00"]).tz_localize(
    ...     "Europe/Stockholm"), "occurred_until": pd.to_datetime(["2018-03-17 02:00"]
    ...     ).tz_localize("Europe/Stockholm")})
    >>> t, w, r = expand_hours(f)
    >>> [x.strftime("%a %H") for x in t], w.tolist()  # 4 hours, a quarter each
    (['Fri 22', 'Fri 23', 'Sat 00', 'Sat 01'], [0.25, 0.25, 0.25, 0.25])
    """
    n = len(frame)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    start, end, has = span_bounds(frame)
    too_long = has & ((end - start) > max_span.value)
    point = ~has
    span = has & ~too_long
    rows_p = np.flatnonzero(point)
    idx = np.flatnonzero(span)
    first_h = start[idx] // _HOUR_NS
    last_h = (end[idx] - 1) // _HOUR_NS
    counts = (last_h - first_h + 1).astype(np.int64)
    rows_s = np.repeat(idx, counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    hour = (np.repeat(first_h, counts) + offset) * _HOUR_NS
    lo = np.maximum(hour, start[rows_s])
    hi = np.minimum(hour + _HOUR_NS, end[rows_s])
    share = (hi - lo) / (end[rows_s] - start[rows_s])
    ns = np.concatenate([start[rows_p], lo])
    weight = np.concatenate([w[rows_p], w[rows_s] * share])
    rows = np.concatenate([rows_p, rows_s])
    times = pd.DatetimeIndex(ns.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(schema.TZ)
    return times, weight, rows


def window_share(frame: pd.DataFrame, window, *, max_span: pd.Timedelta = MAX_SPAN) -> np.ndarray:
    """Share of each incident inside a time window: 0/1 for a moment, the share of its span's
    duration for a span, 0 for a span longer than ``max_span`` (its hour is unknown).

    Examples
    --------
    >>> from geo.timewin import parse_window
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(["2018-03-16 22:00"]).tz_localize(
    ...     "Europe/Stockholm"), "occurred_until": pd.to_datetime(["2018-03-17 02:00"]
    ...     ).tz_localize("Europe/Stockholm")})
    >>> window_share(f, parse_window("fre 18-24")).tolist()  # 22–24 of 22–02
    [0.5]
    """
    from geo.timewin import resolve_window

    chosen = resolve_window(window)
    times, weight, rows = expand_hours(frame, max_span=max_span)
    inside = chosen.mask(times)
    return np.bincount(rows, weights=weight * inside, minlength=len(frame))


def spread_over_edges(
    frame: pd.DataFrame, edges: pd.DatetimeIndex, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
    """Spread each incident over time bins ``[edges[k], edges[k+1])`` by the share of its span.

    Returns ``(rows, bin index, weight, note)``; parts of a span outside the edges are lost
    (the incident lies partly outside the period). No span limit applies: bins of a week or
    longer do not need the hour. ``note`` says how many incidents were spread (or None).

    Examples
    --------
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(["2018-01-31 18:00", "2018-01-05 00:00"]
    ...     ).tz_localize("Europe/Stockholm"), "occurred_until": pd.to_datetime(
    ...     ["2018-02-01 06:00", None]).tz_localize("Europe/Stockholm")})
    >>> e = pd.DatetimeIndex(["2018-01-01", "2018-02-01", "2018-03-01"]).tz_localize(
    ...     "Europe/Stockholm")
    >>> r, k, w, _ = spread_over_edges(f, e)
    >>> r.tolist(), k.tolist(), w.tolist()  # 6 h in January, 6 h in February
    ([1, 0, 0], [0, 0, 1], [1.0, 0.5, 0.5])
    """
    n = len(frame)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    e = _ns(edges)
    start, end, has = span_bounds(frame)
    point = np.flatnonzero(~has)
    k = np.searchsorted(e, start[point], "right") - 1
    ok = (k >= 0) & (k < len(e) - 1)
    rows = [point[ok]]
    bins = [k[ok]]
    ws = [w[point[ok]]]
    idx = np.flatnonzero(has)
    if idx.size:
        first = np.clip(np.searchsorted(e, start[idx], "right") - 1, 0, len(e) - 2)
        last = np.clip(np.searchsorted(e, end[idx], "left") - 1, 0, len(e) - 2)
        counts = np.maximum(last - first + 1, 0)
        r = np.repeat(idx, counts)
        kk = np.repeat(first, counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        lo = np.maximum(e[kk], start[r])
        hi = np.minimum(e[kk + 1], end[r])
        share = np.clip(hi - lo, 0, None) / (end[r] - start[r])
        keep = share > 0
        rows.append(r[keep])
        bins.append(kk[keep])
        ws.append(w[r[keep]] * share[keep])
    note = None
    if idx.size:
        s = summarise(frame, max_span=pd.Timedelta(days=10**5))
        hours = f"{s.median_hours:.1f}".replace(".", ",")
        note = (
            f"{idx.size} händelser anges som tidsintervall (median {hours} timmar) och är "
            "fördelade över de tidssteg intervallet täcker."
        )
    return np.concatenate(rows), np.concatenate(bins), np.concatenate(ws), note
