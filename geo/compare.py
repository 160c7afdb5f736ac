"""Before/after evaluation of zones: rate ratios, displacement (WDQ) and WDD.

This module owns every statistic of the "Före/efter" comparison (DESIGN.md §4,
docs/before-after.md):

* :class:`Period` — an inclusive date range with its length in days, and the presets
  :func:`promise_year_presets` and :func:`same_months_year_apart`.
* :func:`rate_ratio_test` — the exact conditional binomial test of the after/before rate
  ratio with a Clopper–Pearson based 95 % interval.
* :func:`wdq` — Bowers & Johnson's (2003) Success and Buffer terms, the Weighted
  Displacement Quotient and the total net effect.
* :func:`wdd` — Wheeler & Ratcliffe's (2018) Weighted Displacement Difference with its
  standard error, z and p.
* :func:`compare_zones` — everything above per zone plus one row per area, with a
  plain-Swedish verdict and warnings.
* :func:`change_grid` and :func:`trend` — the change map per grid cell and the trend
  series per zone.

Data caveats: tests count incidents (rows), not their ``weight``; a period selects
incidents by their local clock time (Europe/Stockholm), from 00:00 on the first day to
24:00 on the last, so a night that straddles the boundary is split by the clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from scipy import stats

from geo import schema
from geo.errors import InputError
from geo.timewin import filter_incidents

#: Rates are expressed per this many days.
RATE_DAYS = 30
#: Significance level of every test behind a verdict.
ALPHA = 0.05
#: Below this many incidents (before + after) in a zone nothing is said about change.
MIN_TOTAL_COUNT = 10
#: Default width of the buffer ring around each zone, metres.
DEFAULT_BUFFER_M = 250.0

# Where the zones came from; "before_hotspots" triggers the regression-to-the-mean warning.
ZONE_SOURCES = ("before_hotspots", "file", "drawn", "other")

#: A control with fewer incidents than this in either period cannot show the general trend.
MIN_CONTROL_COUNT = 10
#: How p-values are adjusted across the zones of one comparison (Holm 1979).
CORRECTION = "holm"

# --- verdicts (Swedish headlines, shown as they are) -------------------------------------
DECREASE = "minskning"
INCREASE = "ökning"
DISPLACEMENT = "förskjutning till närområdet"
DIFFUSION = "spridning av positiva effekter"
NO_CHANGE = "ingen säker förändring"
NO_NET = "ingen säker nettoeffekt"
TOO_FEW = "för få händelser"
UNCONTROLLED = "minskning utan jämförelse"
VERDICTS = (DECREASE, INCREASE, DISPLACEMENT, DIFFUSION, NO_CHANGE, NO_NET, TOO_FEW, UNCONTROLLED)

#: Plural nouns for the verdict sentence when one category is compared.
CATEGORY_NOUNS = {
    schema.VIOLENCE: "våldsbrott",
    "rån": "rån",
    "narkotikabrott": "narkotikabrott",
    "skadegörelse": "fall av skadegörelse",
    "inbrott": "inbrott",
    "stöld": "stölder",
    "ordningsstörning": "ordningsstörningar",
    "trafikbrott": "trafikbrott",
}

# --- output columns ---------------------------------------------------------------------
KIND = "kind"  # "zon" or "område"
BEFORE_PERIOD = "before_period"  # the days with data that were compared, "START:END"
AFTER_PERIOD = "after_period"
BEFORE_COUNT = "before_count"
AFTER_COUNT = "after_count"
BEFORE_DAYS = "before_days"
AFTER_DAYS = "after_days"
BEFORE_RATE = "before_rate_30d"
AFTER_RATE = "after_rate_30d"
CHANGE_PCT = "change_pct"
RATE_RATIO = "rate_ratio"
RR_CI_LOW = "rr_ci_low"
RR_CI_HIGH = "rr_ci_high"
P_VALUE = "p_value"
P_ADJ = "p_value_adj"  # Holm-adjusted across the zones
BUFFER_BEFORE = "buffer_before"
BUFFER_AFTER = "buffer_after"
CONTROL_BEFORE = "control_before"
CONTROL_AFTER = "control_after"
CONTROL_NAME = "control_area"
CONTROL_BUFFER_BEFORE = "control_buffer_before"
CONTROL_BUFFER_AFTER = "control_buffer_after"
SUCCESS = "success"
BUFFER_TERM = "buffer_term"
WDQ = "wdq"
WDQ_NOTE = "wdq_note"
NET_EFFECT = "net_effect"
BUFFER_P = "buffer_p_value"
BUFFER_P_ADJ = "buffer_p_value_adj"
SUCCESS_P = "success_p_value"  # did the zone change differently from the control?
SUCCESS_P_ADJ = "success_p_value_adj"
NET_RATIO = "net_ratio"  # (zone + ring) after/before divided by the control's after/before
NET_P = "net_p_value"
NET_P_ADJ = "net_p_value_adj"
NET_TEST = "net_test"  # "WDD" or "kvottest": which test stands behind the net verdict
CONTROL_STATE = "control_state"  # "ok", "för litet", "stort"
WDD = "wdd"
WDD_SE = "wdd_se"
WDD_Z = "wdd_z"
WDD_P = "wdd_p"
WDD_FORM = "wdd_form"
VERDICT = "verdict"
VERDICT_TEXT = "verdict_text"
WARNINGS = "warnings"
#: WDD is read only when the control had at most this many times the zone and ring's
#: before-count; beyond it a warning says the raw difference is dominated by the control.
WDD_COMPARABLE_FACTOR = 3

#: Swedish labels for the comparison table (page, CSV and PDF).
COLUMN_LABELS_SV = {
    schema.ZONE_ID: "Zon-id",
    schema.NAME: "Namn",
    KIND: "Typ",
    BEFORE_PERIOD: "Före (dagar med data)",
    AFTER_PERIOD: "Efter (dagar med data)",
    BEFORE_COUNT: "Antal före",
    AFTER_COUNT: "Antal efter",
    BEFORE_DAYS: "Dagar före",
    AFTER_DAYS: "Dagar efter",
    BEFORE_RATE: "Per 30 dagar före",
    AFTER_RATE: "Per 30 dagar efter",
    CHANGE_PCT: "Förändring %",
    RATE_RATIO: "Kvot efter/före",
    RR_CI_LOW: "Kvot 95 % KI låg",
    RR_CI_HIGH: "Kvot 95 % KI hög",
    P_VALUE: "p-värde",
    P_ADJ: "p-värde justerat (Holm)",
    BUFFER_BEFORE: "Närområde före",
    BUFFER_AFTER: "Närområde efter",
    CONTROL_BEFORE: "Kontroll före",
    CONTROL_AFTER: "Kontroll efter",
    CONTROL_NAME: "Kontrollområde",
    CONTROL_BUFFER_BEFORE: "Kontrollens närområde före",
    CONTROL_BUFFER_AFTER: "Kontrollens närområde efter",
    SUCCESS: "Success (B&J)",
    BUFFER_TERM: "Buffer (B&J)",
    WDQ: "WDQ",
    WDQ_NOTE: "WDQ-kommentar",
    NET_EFFECT: "Nettoeffekt (händelser)",
    BUFFER_P: "p-värde närområde mot kontroll",
    BUFFER_P_ADJ: "p-värde närområde mot kontroll, justerat",
    SUCCESS_P: "p-värde zon mot kontroll",
    SUCCESS_P_ADJ: "p-värde zon mot kontroll, justerat",
    CONTROL_STATE: "Kontrollområdets storlek",
    NET_RATIO: "Nettokvot (zon + närområde mot kontroll)",
    NET_TEST: "Nettotest",
    NET_P: "p-värde netto",
    NET_P_ADJ: "p-värde netto, justerat",
    WDD: "WDD",
    WDD_SE: "WDD medelfel",
    WDD_Z: "WDD z",
    WDD_P: "WDD p-värde",
    WDD_FORM: "WDD-formel",
    VERDICT: "Bedömning",
    VERDICT_TEXT: "Bedömning i klartext",
    WARNINGS: "Varningar",
}

_ZONE_KIND = "zon"
_AREA_KIND = "område"
_RTM_WARNING = (
    "Regression mot medelvärdet: zonerna valdes ut ur samma före-period som de bedöms på. "
    "Platser som var ovanligt belastade då blir ofta lugnare av sig själva, så en del av "
    "minskningen kan vara slump."
)


# =========================================================================================
# Periods
# =========================================================================================


@dataclass(frozen=True)
class Period:
    """An inclusive date range ``start`` … ``end``.

    Parameters
    ----------
    start, end : datetime.date
        First and last day, both included (local Europe/Stockholm dates).

    Raises
    ------
    TypeError
        If a bound is not a ``datetime.date``.
    InputError
        If ``end`` is before ``start``.

    Examples
    --------
    >>> from datetime import date
    >>> p = Period(date(2018, 1, 1), date(2018, 12, 31))
    >>> p.days
    365
    >>> str(Period.parse("2018-03-01:2018-03-31"))
    '2018-03-01:2018-03-31'
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        for label, value in (("start", self.start), ("end", self.end)):
            if isinstance(value, pd.Timestamp):
                object.__setattr__(self, label, value.date())
            elif not isinstance(value, date):
                raise TypeError(
                    f"Period `{label}` was {type(value).__name__} {value!r} "
                    "but is expected to be a datetime.date"
                )
            elif hasattr(value, "date") and callable(value.date):  # a datetime
                object.__setattr__(self, label, value.date())
        if self.end < self.start:
            raise InputError(
                f"Perioden {self.start.isoformat()}:{self.end.isoformat()} slutar innan den "
                "börjar; ange START:SLUT där SLUT är samma dag som START eller senare."
            )

    @property
    def days(self) -> int:
        """Length in days, both ends included."""
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start.isoformat()}:{self.end.isoformat()}"

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``"YYYY-MM-DD:YYYY-MM-DD"``.

        Raises
        ------
        InputError
            If the text is not two ISO dates separated by a colon, or ends before it starts.
        """
        parts = str(text).strip().split(":")
        if len(parts) != 2:
            raise InputError(
                f'Perioden "{text}" är inte START:SLUT; skriv ÅÅÅÅ-MM-DD:ÅÅÅÅ-MM-DD, '
                't.ex. "2017-01-01:2017-12-31".'
            )
        try:
            start, end = (date.fromisoformat(p.strip()) for p in parts)
        except ValueError:
            raise InputError(
                f'Perioden "{text}" har ett datum som inte är ÅÅÅÅ-MM-DD; '
                'skriv t.ex. "2017-01-01:2017-12-31".'
            ) from None
        return cls(start, end)

    def bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Local start (inclusive) and end (exclusive) instants in Europe/Stockholm."""
        start = pd.Timestamp(self.start).tz_localize(schema.TZ)
        end = pd.Timestamp(self.end + timedelta(days=1)).tz_localize(schema.TZ)
        return start, end


def check_periods(before: Period, after: Period) -> None:
    """Check that ``before`` ends before ``after`` starts.

    Raises
    ------
    TypeError
        If either is not a :class:`Period`.
    InputError
        If the periods overlap or come in the wrong order.

    Examples
    --------
    >>> check_periods(Period.parse("2017-01-01:2017-12-31"), Period.parse("2018-01-01:2018-12-31"))
    """
    for label, value in (("before", before), ("after", after)):
        if not isinstance(value, Period):
            raise TypeError(f"`{label}` was {type(value).__name__} but is expected to be a Period")
    if after.start <= before.end:
        raise InputError(
            f"Föreperioden {before} och efterperioden {after} överlappar eller kommer i fel "
            "ordning; efterperioden måste börja efter att föreperioden slutat."
        )


def shift_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (28 February for 29 February in other years).

    Examples
    --------
    >>> shift_years(date(2020, 2, 29), -1)
    datetime.date(2019, 2, 28)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Coverage:
    """The days the incident data covers: ``first`` … ``last``, both included.

    ``source`` says where ``last`` comes from: ``"data"`` (the last incident in the file) or
    ``"user"`` (a "data t.o.m." date the user set, e.g. the day the extract was taken).

    Examples
    --------
    >>> str(Coverage(date(2017, 1, 1), date(2018, 12, 31)))
    '2017-01-01 – 2018-12-31'
    """

    first: date
    last: date
    source: str = "data"

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InputError(
                f"Datan t.o.m. {self.last.isoformat()} ligger före första händelsen "
                f"({self.first.isoformat()}); ange ett senare datum."
            )

    def __str__(self) -> str:
        return f"{self.first.isoformat()} – {self.last.isoformat()}"

    def describe(self) -> str:
        """ "data 2017-01-01 – 2018-12-31 (första och sista händelsen i filen)"."""
        why = (
            "första händelsen och datan t.o.m. enligt användaren"
            if self.source == "user"
            else "första och sista händelsen i filen"
        )
        return f"data {self} ({why})"


def data_coverage(incidents: pd.DataFrame, *, until: date | None = None) -> Coverage:
    """The data's coverage: first and last incident date (local), or ``until`` as the end.

    Parameters
    ----------
    incidents : DataFrame
        With ``occurred_at`` (tz-aware): the whole loaded file, before any filter.
    until : datetime.date, optional
        The user's "data t.o.m." date; replaces the last incident's date.

    Raises
    ------
    InputError
        If there are no incidents, or ``until`` is before the first incident.

    Examples
    --------
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(["2018-03-01 00:30", "2018-12-31 23:59"])
    ...     .tz_localize(schema.TZ)})
    >>> str(data_coverage(f)), str(data_coverage(f, until=date(2019, 1, 31)))
    ('2018-03-01 – 2018-12-31', '2018-03-01 – 2019-01-31')
    """
    if schema.OCCURRED_AT not in incidents.columns:
        raise InputError(
            f"Händelserna saknar kolumnen `{schema.OCCURRED_AT}`; läs in dem med geo.io."
        )
    times = incidents[schema.OCCURRED_AT].dropna()
    if times.empty:
        raise InputError("Händelsefilen har inga händelser med tid; det finns inget att jämföra.")
    local = times.dt.tz_convert(schema.TZ)
    first, last = local.min().date(), local.max().date()
    if until is not None:
        if not isinstance(until, date):
            raise TypeError(f"`until` was {type(until).__name__} but is expected to be a date")
        until = until.date() if isinstance(until, pd.Timestamp) else until
        return Coverage(first, until, "user")
    return Coverage(first, last, "data")


@dataclass(frozen=True)
class CoveredPeriods:
    """The periods asked for, the parts of them the data covers, and what to say about it."""

    before: Period
    after: Period
    requested_before: Period
    requested_after: Period
    coverage: Coverage
    warnings: tuple[str, ...] = ()

    @property
    def cut(self) -> bool:
        """Whether a period was cut to the data."""
        return (self.before, self.after) != (self.requested_before, self.requested_after)


def cover_periods(before: Period, after: Period, coverage: Coverage) -> CoveredPeriods:
    """Cut both periods to the days the data covers, and say so.

    Counts over days without data would be zeros that never happened: a period reaching
    past the data is cut to its covered days (rates then use those days only) and a Swedish
    warning names the period asked for, the days used and the data's coverage.

    Raises
    ------
    InputError
        If the periods overlap, or one lies wholly outside the data.

    Examples
    --------
    >>> cov = Coverage(date(2017, 1, 1), date(2018, 12, 31))
    >>> c = cover_periods(Period.parse("2017-03-01:2018-02-28"),
    ...     Period.parse("2018-03-01:2019-02-28"), cov)
    >>> str(c.after), c.after.days, c.cut
    ('2018-03-01:2018-12-31', 306, True)
    >>> print(c.warnings[0])
    Efterperioden 2018-03-01 – 2019-02-28 når utanför datan (2017-01-01 – 2018-12-31): jämförelsen använder 2018-03-01 – 2018-12-31, 306 av 365 dagar, och räknar antal per 30 dagar på de dagarna.
    """
    check_periods(before, after)
    if not isinstance(coverage, Coverage):
        raise TypeError(
            f"`coverage` was {type(coverage).__name__} but is expected to be a Coverage"
        )
    cut = []
    warnings: list[str] = []
    for label, period in (("Föreperioden", before), ("Efterperioden", after)):
        start, end = max(period.start, coverage.first), min(period.end, coverage.last)
        if start > end:
            side = "efter sista" if period.start > coverage.last else "före första"
            raise InputError(
                f"{label} {_span(period)} ligger helt {side} dagen med data ({coverage}); "
                "välj en period inom datan."
            )
        used = Period(start, end)
        if used != period:
            warnings.append(
                f"{label} {_span(period)} når utanför datan ({coverage}): jämförelsen använder "
                f"{_span(used)}, {used.days} av {period.days} dagar, och räknar antal per "
                "30 dagar på de dagarna."
            )
        cut.append(used)
    if warnings and cut[0].days != cut[1].days:
        warnings.append(
            f"Perioderna har nu olika många dagar med data ({cut[0].days} före, {cut[1].days} "
            "efter), så olika årstider kan skilja dem åt. Jämför hellre samma dagar ett år isär."
        )
    return CoveredPeriods(cut[0], cut[1], before, after, coverage, tuple(warnings))


def _span(period: Period) -> str:
    return f"{period.start.isoformat()} – {period.end.isoformat()}"


def promise_year_presets(
    promise_start: date, *, coverage: Coverage | None = None
) -> tuple[Period, Period]:
    """The year before the promise and the promise year, never past the data.

    Parameters
    ----------
    promise_start : datetime.date
        The day the medborgarlöfte's actions started.
    coverage : Coverage, optional
        The data's coverage. When the promise year reaches past its last day, the after
        period ends there and the before period is the same days one year earlier (so both
        hold the same season).

    Returns
    -------
    (before, after) : tuple of Period
        ``before`` is the 12 months up to the day before ``promise_start``; ``after`` the
        12 months from it.

    Raises
    ------
    InputError
        If the data ends before ``promise_start``.

    Examples
    --------
    >>> from datetime import date
    >>> [str(p) for p in promise_year_presets(date(2018, 3, 1))]
    ['2017-03-01:2018-02-28', '2018-03-01:2019-02-28']
    >>> cov = Coverage(date(2017, 1, 1), date(2018, 12, 31))
    >>> [str(p) for p in promise_year_presets(date(2018, 3, 1), coverage=cov)]
    ['2017-03-01:2017-12-31', '2018-03-01:2018-12-31']
    """
    if not isinstance(promise_start, date):
        raise TypeError(
            f"`promise_start` was {type(promise_start).__name__} but is expected to be a date"
        )
    end = shift_years(promise_start, 1) - timedelta(days=1)
    if coverage is not None and end > coverage.last:
        return same_months_year_apart(promise_start, end, coverage=coverage)
    before = Period(shift_years(promise_start, -1), promise_start - timedelta(days=1))
    after = Period(promise_start, end)
    return before, after


def same_months_year_apart(
    start: date, end: date, *, coverage: Coverage | None = None
) -> tuple[Period, Period]:
    """The same calendar days one year earlier as the before period, never past the data.

    Parameters
    ----------
    start, end : datetime.date
        The after period (both included), at most one year long.
    coverage : Coverage, optional
        The data's coverage: an ``end`` after its last day becomes that day (and the before
        period follows).

    Returns
    -------
    (before, after) : tuple of Period

    Raises
    ------
    InputError
        If the after period is longer than a year (the two would overlap), or starts after
        the data ends.

    Examples
    --------
    >>> from datetime import date
    >>> [str(p) for p in same_months_year_apart(date(2018, 6, 1), date(2018, 8, 31))]
    ['2017-06-01:2017-08-31', '2018-06-01:2018-08-31']
    """
    if coverage is not None and end > coverage.last:
        if start > coverage.last:
            raise InputError(
                f"Efterperioden börjar {start.isoformat()}, efter sista dagen med data "
                f"({coverage.last.isoformat()}); välj en tidigare start."
            )
        end = coverage.last
    after = Period(start, end)
    before = Period(shift_years(after.start, -1), shift_years(after.end, -1))
    check_periods(before, after)
    return before, after


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values (Holm 1979); NaN stays NaN.

    With ``m`` defined p-values sorted ascending, ``p_adj(i) = max_{j ≤ i} min(1, (m − j + 1)
    · p(j))``. Rejecting where ``p_adj < α`` keeps the chance of **any** false "säker"
    finding among the zones at most ``α`` (family-wise error rate).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03, float("nan")]).round(2).tolist()  # 3·0.01, 2·0.03, max(0.06, 0.04)
    [0.03, 0.06, 0.06, nan]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    defined = np.flatnonzero(~np.isnan(p))
    if not len(defined):
        return out
    order = defined[np.argsort(p[defined], kind="stable")]
    m = len(order)
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out


# =========================================================================================
# Tests and measures on counts
# =========================================================================================


@dataclass(frozen=True)
class RateRatio:
    """After/before rate ratio with its exact two-sided p-value and confidence interval.

    Undefined values (no incidents at all) are ``nan``; an interval without an upper bound
    (no incidents before) has ``ci_high = inf``.
    """

    rate_ratio: float
    ci_low: float
    ci_high: float
    p_value: float


def _check_count(label: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"`{label}` was {value!r} but is expected to be a whole number ≥ 0")
    if value < 0:
        raise ValueError(f"`{label}` was {value} but is expected to be ≥ 0")
    return int(value)


def _check_positive(label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"`{label}` was {value!r} but is expected to be a number > 0")
    if not value > 0:
        raise ValueError(f"`{label}` was {value} but is expected to be > 0")
    return float(value)


def _odds_to_ratio(p: float, scale: float) -> float:
    return math.inf if p >= 1.0 else p / (1.0 - p) * scale


def rate_ratio_test(
    count_before: int,
    count_after: int,
    days_before: float,
    days_after: float,
    *,
    confidence: float = 0.95,
) -> RateRatio:
    """Exact conditional test of the after/before rate ratio.

    Given ``n = a + b`` (``a`` after, ``b`` before), ``a ~ Bin(n, p)`` with
    ``p = RR·t_a / (RR·t_a + t_b)``; under H0 (RR = 1) ``p0 = t_a / (t_a + t_b)``. The
    p-value is scipy's two-sided ``binomtest``; the interval is the Clopper–Pearson interval
    for ``p`` mapped to ``RR = p / (1 − p) · t_b / t_a``.

    Parameters
    ----------
    count_before, count_after : int
        Incidents in the before and after periods.
    days_before, days_after : float
        Lengths of the periods in days.
    confidence : float, default 0.95

    Returns
    -------
    RateRatio

    Raises
    ------
    TypeError, ValueError
        For counts that are not whole numbers ≥ 0, or lengths that are not > 0.

    Examples
    --------
    >>> r = rate_ratio_test(20, 10, 365, 365)  # 10/20 = 0.5
    >>> round(r.rate_ratio, 3), round(r.p_value, 4)
    (0.5, 0.0987)
    """
    b = _check_count("count_before", count_before)
    a = _check_count("count_after", count_after)
    t_b = _check_positive("days_before", days_before)
    t_a = _check_positive("days_after", days_after)
    if not 0 < confidence < 1:
        raise ValueError(f"`confidence` was {confidence} but is expected to be in (0, 1)")
    n = a + b
    if n == 0:
        return RateRatio(math.nan, math.nan, math.nan, math.nan)
    scale = t_b / t_a
    rate_ratio = math.inf if b == 0 else (a / t_a) / (b / t_b)
    p0 = t_a / (t_a + t_b)
    p_value = float(stats.binomtest(a, n, p0).pvalue)
    ci = stats.binomtest(a, n).proportion_ci(confidence_level=confidence, method="exact")
    return RateRatio(
        rate_ratio=float(rate_ratio),
        ci_low=_odds_to_ratio(float(ci.low), scale),
        ci_high=_odds_to_ratio(float(ci.high), scale),
        p_value=p_value,
    )


@dataclass(frozen=True)
class Displacement:
    """Bowers & Johnson (2003) measures; ``wdq`` is ``nan`` when undefined (see ``note``)."""

    success: float
    buffer: float
    wdq: float
    net_effect: float
    note: str


def wdq(
    r_before: float,
    r_after: float,
    d_before: float,
    d_after: float,
    c_before: float,
    c_after: float,
) -> Displacement:
    """Weighted Displacement Quotient (Bowers & Johnson 2003).

    ``Success = Ra/Ca − Rb/Cb`` (negative: the zone improved relative to the control),
    ``Buffer = Da/Ca − Db/Cb`` (positive: displacement; negative: diffusion of benefits),
    ``WDQ = Buffer / Success`` and the total net effect
    ``TNE = [Rb·Ca/Cb − Ra] + [Db·Ca/Cb − Da]`` (incidents prevented, net of displacement).

    Parameters
    ----------
    r_before, r_after : float
        Incidents in the treated zone R.
    d_before, d_after : float
        Incidents in the buffer ring D.
    c_before, c_after : float
        Incidents in the control area C.

    Returns
    -------
    Displacement
        ``wdq`` is ``nan`` with a Swedish ``note`` when it is undefined (Success = 0, or
        the control has no incidents) or not meaningful (Success > 0).

    Examples
    --------
    >>> d = wdq(100, 50, 40, 60, 1000, 1000)  # Success = 0.05-0.1, Buffer = 0.06-0.04
    >>> round(d.success, 3), round(d.buffer, 3), round(d.wdq, 3), round(d.net_effect, 1)
    (-0.05, 0.02, -0.4, 30.0)
    """
    values = [r_before, r_after, d_before, d_after, c_before, c_after]
    names = ["r_before", "r_after", "d_before", "d_after", "c_before", "c_after"]
    for name, value in zip(names, values, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise TypeError(f"`{name}` was {value!r} but is expected to be a number ≥ 0")
        if not value >= 0:
            raise ValueError(f"`{name}` was {value} but is expected to be ≥ 0")
    if c_before == 0 or c_after == 0:
        return Displacement(
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            "WDQ går inte att räkna: kontrollområdet saknar händelser i en av perioderna.",
        )
    success = r_after / c_after - r_before / c_before
    buffer = d_after / c_after - d_before / c_before
    growth = c_after / c_before
    net_effect = (r_before * growth - r_after) + (d_before * growth - d_after)
    if math.isclose(success, 0.0, abs_tol=1e-12):
        return Displacement(
            success,
            buffer,
            math.nan,
            net_effect,
            "WDQ är odefinierad: zonen förändrades exakt som kontrollområdet (Success = 0).",
        )
    quotient = buffer / success
    q = _comma(quotient)
    per_ten = round(10 * abs(quotient))
    if success > 0:
        note = (
            "WDQ tolkas inte: zonen klarade sig sämre än kontrollområdet, så det finns ingen "
            "minskning som kunde flytta."
        )
    elif quotient > 1:
        note = (
            f"Närområdet förbättrades ännu mer än zonen (WDQ {q}, över 1): effekten spred sig "
            "utanför zonen."
        )
    elif quotient > 0:
        note = (
            f"Närområdet förbättrades också, men mindre än zonen (WDQ {q}): för varje 10 färre "
            f"händelser i zonen blev det ungefär {per_ten} färre i närområdet, räknat mot "
            "kontrollområdet."
        )
    elif quotient == 0:
        note = "Närområdet förändrades som kontrollområdet (WDQ 0): ingen förskjutning och ingen spridning."
    elif quotient >= -1:
        note = (
            f"En del flyttade till närområdet, men mindre än zonen vann (WDQ {q}): för varje "
            f"10 färre händelser i zonen blev det ungefär {per_ten} fler i närområdet, räknat "
            "mot kontrollområdet."
        )
    else:
        note = (
            f"Mer flyttade till närområdet än zonen vann (WDQ {q}, under −1): räknat "
            "tillsammans blev det fler händelser."
        )
    return Displacement(success, buffer, quotient, net_effect, note)


@dataclass(frozen=True)
class WDDResult:
    """Wheeler & Ratcliffe (2018) Weighted Displacement Difference."""

    wdd: float
    se: float
    z: float
    p_value: float
    form: str  # which terms were used


def wdd(
    treated_before: float,
    treated_after: float,
    control_before: float,
    control_after: float,
    buffer_before: float | None = None,
    buffer_after: float | None = None,
    control_buffer_before: float | None = None,
    control_buffer_after: float | None = None,
    *,
    after_scale: float = 1.0,
) -> WDDResult:
    """Weighted Displacement Difference test (Wheeler & Ratcliffe 2018).

    ``WDD = ΔT − ΔC (+ ΔD − ΔDC)`` with ``Δ = after − before``; the variance is the sum of
    all counts involved (Poisson), ``z = WDD / SE`` and ``p`` two-sided normal. Give both
    buffer counts for the form with the buffer, and also both control-buffer counts for the
    full form. Periods of unequal length: ``after_scale = t_before / t_after`` expresses
    the after counts in before-period units, each after count adding ``after_scale²·count``
    to the variance.

    Parameters
    ----------
    treated_before, treated_after, control_before, control_after : float
    buffer_before, buffer_after, control_buffer_before, control_buffer_after : float, optional
    after_scale : float, default 1.0

    Returns
    -------
    WDDResult
        ``z`` and ``p_value`` are ``nan`` when every count is zero.

    Raises
    ------
    ValueError
        If only one of a before/after pair is given, or the control buffer without a buffer.

    Examples
    --------
    >>> r = wdd(100, 80, 100, 90)  # DESIGN.md: (80-100) - (90-100) = -10, SE = sqrt(370)
    >>> r.wdd, round(r.se, 2)
    (-10.0, 19.24)
    """
    scale = _check_positive("after_scale", after_scale)
    pairs = [("treated", treated_before, treated_after), ("control", control_before, control_after)]
    form = "ΔT − ΔC"
    if (buffer_before is None) != (buffer_after is None):
        raise ValueError("give both `buffer_before` and `buffer_after`, or neither")
    if (control_buffer_before is None) != (control_buffer_after is None):
        raise ValueError("give both `control_buffer_before` and `control_buffer_after`, or neither")
    if buffer_before is not None:
        pairs.append(("buffer", buffer_before, buffer_after))
        form = "ΔT − ΔC + ΔD"
    if control_buffer_before is not None:
        if buffer_before is None:
            raise ValueError("the control buffer needs the treated buffer counts too")
        pairs.append(("control_buffer", control_buffer_before, control_buffer_after))
        form = "ΔT − ΔC + ΔD − ΔDC"
    signs = {"treated": 1.0, "control": -1.0, "buffer": 1.0, "control_buffer": -1.0}
    total = 0.0
    variance = 0.0
    for name, before, after in pairs:
        for label, value in ((f"{name}_before", before), (f"{name}_after", after)):
            if not isinstance(value, int | float | np.integer | np.floating) or not value >= 0:
                raise ValueError(f"`{label}` was {value!r} but is expected to be a number ≥ 0")
        total += signs[name] * (scale * after - before)
        variance += before + scale**2 * after
    se = math.sqrt(variance)
    if se == 0:
        return WDDResult(total, se, math.nan, math.nan, form)
    z = total / se
    return WDDResult(total, se, z, float(2 * stats.norm.sf(abs(z))), form)


def buffer_vs_control_p(d_before: int, d_after: int, c_before: int, c_after: int) -> float:
    """Two-sided Fisher exact p-value: did the buffer change differently from the control?

    The conditional test of equal rate ratios in the 2×2 table
    ``[[Da, Db], [Ca, Cb]]``; ``nan`` when a row or column is empty.

    Examples
    --------
    >>> round(buffer_vs_control_p(10, 30, 1000, 1000), 4)
    0.0021
    """
    table = np.array([[d_after, d_before], [c_after, c_before]], dtype=np.int64)
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return math.nan
    return float(stats.fisher_exact(table).pvalue)


# =========================================================================================
# Frames
# =========================================================================================


_LABELS_SV = {
    "zones": "zonerna",
    "incidents": "händelserna",
    "control areas": "kontrollområdena",
    "areas": "områdena",
}


def _to_metric(frame: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(
            f"`{label}` was {type(frame).__name__} but is expected to be a GeoDataFrame"
        )
    if frame.crs is None:
        raise InputError(
            f"{_LABELS_SV.get(label, label).capitalize()} saknar koordinatsystem; Lägesbild behöver ett angivet koordinatsystem."
        )
    return frame if frame.crs.equals(schema.CRS_METRIC) else frame.to_crs(schema.CRS_METRIC)


def prepare_zones(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Normalise a zone frame to ``zone_id``, ``name``, ``geometry`` in EPSG:3006.

    Takes hotspot zones (``zone_id``/``name``), exported helgförstärkning zones, areas
    (``area_id``/``area_name``) or drawn shapes (no attributes: numbered from 1).

    Raises
    ------
    TypeError
        If ``zones`` is not a GeoDataFrame.
    InputError
        If it is empty, has no CRS, or holds geometries that are not polygons.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs="EPSG:3006")
    >>> prepare_zones(z)[["zone_id", "name"]].to_dict("records")
    [{'zone_id': '1', 'name': 'Zon 1'}]
    """
    metric = _to_metric(zones, "zones")
    if metric.empty:
        raise InputError("Zonlagret är tomt; ange minst en zonpolygon.")
    kinds = set(metric.geometry.geom_type.dropna())
    bad = kinds - {"Polygon", "MultiPolygon"}
    if bad or metric.geometry.isna().any():
        raise InputError(
            f"Zoner måste vara polygoner, men zonlagret innehåller {sorted(bad) or ['tomma rader']}."
        )
    ids = None
    for col in (schema.ZONE_ID, schema.AREA_ID, schema.ID, "zon_id", "zone"):
        if col in metric.columns:
            ids = metric[col].astype(str).to_numpy()
            break
    if ids is None:
        ids = np.array([str(i) for i in range(1, len(metric) + 1)])
    if len(set(ids)) != len(ids):
        raise InputError(f"Zonernas id måste vara unika; upprepade id finns bland {list(ids)}.")
    names = None
    for col in (schema.NAME, schema.AREA_NAME, "namn", "zone_name"):
        if col in metric.columns:
            names = metric[col].astype(str).to_numpy()
            break
    if names is None:
        names = np.array([f"Zon {i}" for i in ids])
    geometry = shapely.make_valid(metric.geometry.to_numpy())
    return gpd.GeoDataFrame(
        {schema.ZONE_ID: ids, schema.NAME: names},
        geometry=geometry,
        crs=schema.CRS_METRIC,
    )


def buffer_rings(
    zones: gpd.GeoDataFrame, *, buffer_m: float = DEFAULT_BUFFER_M
) -> gpd.GeoDataFrame:
    """The buffer ring D of each zone: the zone grown by ``buffer_m`` minus every zone.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_id": ["a"]}, geometry=[box(0, 0, 100, 100)], crs="EPSG:3006")
    >>> # 4 sides 100*10 + a circle of radius 10 (pi*100 = 314, drawn as a 32-gon: 312)
    >>> round(buffer_rings(z, buffer_m=10).area.iloc[0])
    4312
    """
    buffer_m = _check_positive("buffer_m", buffer_m)
    zone_frame = prepare_zones(zones)
    all_zones = _union(zone_frame.geometry)
    rings = [
        shapely.difference(shapely.buffer(g, buffer_m), all_zones) for g in zone_frame.geometry
    ]
    return gpd.GeoDataFrame(
        {schema.ZONE_ID: zone_frame[schema.ZONE_ID], schema.NAME: zone_frame[schema.NAME]},
        geometry=rings,
        crs=schema.CRS_METRIC,
    )


def drawn_zones(features: Sequence[Mapping[str, Any]] | None) -> gpd.GeoDataFrame:
    """Zones from shapes drawn on the map (GeoJSON Features in WGS 84, as from folium Draw).

    Polygons and rectangles are kept; points, lines and circles (a point with a radius) are
    left out. Zones are numbered "ritad-1", "ritad-2", … in drawing order.

    Examples
    --------
    >>> square = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
    ...     "coordinates": [[[17.83, 59.42], [17.84, 59.42], [17.84, 59.43], [17.83, 59.42]]]}}
    >>> z = drawn_zones([square, {"type": "Feature", "geometry": {"type": "Point",
    ...     "coordinates": [17.8, 59.4]}}])
    >>> z[["zone_id", "name"]].values.tolist(), z.crs.to_epsg()
    ([['ritad-1', 'Ritad zon 1']], 3006)
    """
    shapes = []
    for feature in features or []:
        geometry = (feature or {}).get("geometry")
        if geometry and geometry.get("type") in ("Polygon", "MultiPolygon"):
            shapes.append(shapely.geometry.shape(geometry))
    ids = [f"ritad-{i}" for i in range(1, len(shapes) + 1)]
    return gpd.GeoDataFrame(
        {schema.ZONE_ID: ids, schema.NAME: [f"Ritad zon {i}" for i in range(1, len(ids) + 1)]},
        geometry=shapes,
        crs=schema.CRS_WGS84,
    ).to_crs(schema.CRS_METRIC)


#: Layer chosen automatically from a GeoPackage with several (project exports name it so).
ZONES_LAYER = "zones"
# Zone contract (docs/ARCHITECTURE.md) first; area columns only when none of these is there.
_ZONE_ID_COLUMNS = (schema.ZONE_ID, "zon_id", "zone")
_ZONE_NAME_COLUMNS = (schema.NAME, "zone_name", "namn", "zon_namn")


def _layers(path: Path) -> list[str]:
    """Layer names of a GeoPackage (or other multi-layer vector file); [] when not one."""
    import pyogrio

    if path.suffix.lower() not in (".gpkg", ".sqlite", ".fgb", ".geojson", ".json"):
        return []
    try:
        return [str(x) for x in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # noqa: BLE001 - unreadable: let geo.io say why in its own words
        return []


def pick_layer(
    path: str | Path, layer: str | None, *, option: str, prefer: str | None = None
) -> tuple[str | None, list[str]]:
    """The layer to read from ``path`` and a Swedish note on an automatic choice.

    ``layer`` wins when given. A file with one layer needs none. With several, the layer
    named ``prefer`` is taken (and said so); otherwise the message names ``option``.

    Raises
    ------
    InputError
        If ``layer`` is not in the file, or the file has several layers and none is
        ``prefer``.

    Examples
    --------
    >>> import tempfile, os
    >>> from shapely.geometry import box
    >>> p = os.path.join(tempfile.mkdtemp(), "h.gpkg")
    >>> for name in ("cells", "zones"):
    ...     gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=3006).to_file(p, layer=name)
    >>> pick_layer(p, None, option="--zones-layer", prefer="zones")
    ('zones', ['h.gpkg har flera lager (cells, zones): lagret "zones" används (välj ett annat med --zones-layer).'])
    """
    path = Path(path)
    layers = _layers(path) if path.exists() else []
    if layer is not None:
        if layers and layer not in layers:
            raise InputError(
                f"Filen {path.name} har inget lager '{layer}'; lagren är: {', '.join(layers)}."
            )
        return layer, []
    if len(layers) <= 1:
        return None, []
    if prefer is not None and prefer in layers:
        return prefer, [
            f'{path.name} har flera lager ({", ".join(layers)}): lagret "{prefer}" används '
            f"(välj ett annat med {option})."
        ]
    raise InputError(
        f"Filen {path.name} har flera lager ({', '.join(layers)}); välj ett med {option}."
    )


def _fields(path: Path, layer: str | None) -> list[str]:
    import pyogrio

    try:
        return [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception:  # noqa: BLE001 - not a GDAL file (CSV, zip): geo.io guesses the columns
        return []


def load_zones(
    path: str | Path,
    *,
    id_col: str | None = None,
    name_col: str | None = None,
    layer: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a zone file and say what was chosen: ``(zones, notes)``.

    The layer is ``layer``, or ``"zones"`` in a GeoPackage with several layers (the
    hotspots and helgförstärkning exports), or the only one. The id is ``id_col`` or the
    first of ``zone_id``/``zon_id``/``zone``; the name is ``name_col`` or the first of
    ``name``/``zone_name``/``namn``/``zon_namn`` (the zone contract), so a zone named
    "Jakobsbergs station" in area "Jakobsberg" keeps its own name. Without these columns
    geo.io guesses (area id and name). ``notes`` are Swedish sentences for the user.

    Returns
    -------
    tuple of (GeoDataFrame, list of str)
        Zones from :func:`prepare_zones` and the notes.

    Raises
    ------
    InputError
        For an unreadable file, an unknown or missing layer choice, or one without polygons.

    Examples
    --------
    >>> import tempfile, os
    >>> from shapely.geometry import box
    >>> p = os.path.join(tempfile.mkdtemp(), "z.geojson")
    >>> gpd.GeoDataFrame({"zone_id": ["z1"], "name": ["Jakobsbergs station"],
    ...     "area_name": ["Jakobsberg"]}, geometry=[box(670000, 6580000, 670100, 6580100)], crs=3006).to_file(p)
    >>> load_zones(p)[0][["zone_id", "name"]].values.tolist()
    [['z1', 'Jakobsbergs station']]
    """
    from geo.guards import check_file
    from geo.io import load_boundaries

    path = Path(path)
    if path.exists():
        check_file(path)  # before GDAL lists its layers: endless views, bombs (issue 18)
    layer, notes = pick_layer(path, layer, option="--zones-layer", prefer=ZONES_LAYER)
    fields = _fields(path, layer) if path.exists() else []
    if id_col is None:
        id_col = next((c for c in _ZONE_ID_COLUMNS if c in fields), None)
    if name_col is None:
        name_col = next((c for c in _ZONE_NAME_COLUMNS if c in fields), None)
    result = load_boundaries(path, id_col=id_col, name_col=name_col, layer=layer)
    if result.frame.empty and len(result.rejected):
        reasons = "; ".join(
            f"rad {r.row}: {r.reason}" for r in result.rejected.head(3).itertuples(index=False)
        )
        raise InputError(f"Zonfilen {path.name} har ingen användbar polygon ({reasons}).")
    return prepare_zones(result.frame), notes


def read_zones(
    path: str | Path,
    *,
    id_col: str | None = None,
    name_col: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """The zones of :func:`load_zones` without the notes.

    Raises
    ------
    InputError
        For an unreadable file or one without polygons (io's message).

    Examples
    --------
    >>> import tempfile, os
    >>> from shapely.geometry import box
    >>> p = os.path.join(tempfile.mkdtemp(), "z.geojson")
    >>> gpd.GeoDataFrame({"namn": ["A"]}, geometry=[box(670000, 6580000, 670009, 6580009)], crs=3006).to_file(p)
    >>> read_zones(p)[["zone_id", "name"]].values.tolist()
    [['A', 'A']]
    """
    return load_zones(path, id_col=id_col, name_col=name_col, layer=layer)[0]


def _filter(
    incidents: gpd.GeoDataFrame,
    categories: Sequence[str] | None,
    window: Any,
    *,
    areas: gpd.GeoDataFrame | None = None,
    lov_calendars: Any = None,
    notes: list[str] | None = None,
) -> gpd.GeoDataFrame:
    metric = _to_metric(incidents, "incidents")
    for col in (schema.OCCURRED_AT, schema.CATEGORY):
        if col not in metric.columns:
            raise InputError(f"Händelserna saknar kolumnen `{col}`; läs in dem med geo.io.")
    if categories is None and window is None:
        return metric
    # areas let the "lov" window use each incident's own kommun's calendar
    return filter_incidents(
        metric,
        categories=categories,
        window=window,
        areas=areas,
        lov_calendars=lov_calendars,
        lov_notes=notes,
    )


def _period_masks(times: pd.Series, before: Period, after: Period) -> tuple[np.ndarray, np.ndarray]:
    check_periods(before, after)
    masks = []
    for period in (before, after):
        lo, hi = period.bounds()
        masks.append(((times >= lo) & (times < hi)).to_numpy())
    return masks[0], masks[1]


def _union(geoms: Iterable[Any]) -> Any:
    return shapely.union_all(np.asarray(list(geoms), dtype=object))


def _inside(points: np.ndarray, geom: Any) -> np.ndarray:
    if geom is None or shapely.is_empty(geom):
        return np.zeros(len(points), dtype=bool)
    shapely.prepare(geom)
    return shapely.intersects(geom, points)


def _relevant_areas(areas: gpd.GeoDataFrame, zones: Any) -> gpd.GeoDataFrame:
    """The areas that hold part of a zone (all areas when none does)."""
    hit = shapely.intersects(areas.geometry.to_numpy(), zones)
    return areas[hit] if hit.any() else areas


def _root_ids(areas: gpd.GeoDataFrame) -> list[str]:
    """Each area's outermost ancestor, following ``parent_id`` up (itself when it has none)."""
    ids = areas[schema.AREA_ID].astype(str).tolist()
    parents = areas[schema.PARENT_ID].tolist() if schema.PARENT_ID in areas else [None] * len(ids)
    parent_of = {i: str(p) for i, p in zip(ids, parents, strict=True) if isinstance(p, str) and p}
    roots = []
    for area_id in ids:
        seen = {area_id}
        while area_id in parent_of and parent_of[area_id] in ids and parent_of[area_id] not in seen:
            area_id = parent_of[area_id]
            seen.add(area_id)
        roots.append(area_id)
    return roots


def top_areas(zones: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """The top-level area (kommun / LPO) that holds each zone: the default control's base.

    Top-level areas are those without a parent in ``areas`` (``parent_id`` followed up).
    Of those that hold the zone's representative point the largest is taken (so a
    kommundel given without ``parent_id`` still yields its kommun); a zone outside every
    area gets the one it overlaps most, and one touching none gets every area.

    Returns
    -------
    DataFrame
        ``zone_id``, ``area_id``, ``area_name`` and ``geometry`` (a shapely geometry) per
        zone, in zone order.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["k1", "d1", "k2"], "area_name": ["K1", "D1", "K2"],
    ...     "parent_id": [None, "k1", None]}, crs=3006,
    ...     geometry=[box(0, 0, 100, 100), box(0, 0, 50, 50), box(200, 0, 300, 100)])
    >>> z = gpd.GeoDataFrame({"zone_id": ["a", "b"]}, crs=3006,
    ...     geometry=[box(10, 10, 20, 20), box(210, 10, 220, 20)])
    >>> top_areas(z, areas)[["zone_id", "area_id"]].values.tolist()
    [['a', 'k1'], ['b', 'k2']]
    """
    zone_frame = prepare_zones(zones)
    metric = _to_metric(areas, "areas").reset_index(drop=True)
    roots = _root_ids(metric)
    ids = metric[schema.AREA_ID].astype(str)
    tops = metric[ids.isin(set(roots))].reset_index(drop=True)
    tops_geom = tops.geometry.to_numpy()
    sizes = shapely.area(tops_geom)
    names = tops[schema.AREA_NAME].astype(str) if schema.AREA_NAME in tops else ids
    records = []
    for zone_id, geom in zip(zone_frame[schema.ZONE_ID], zone_frame.geometry, strict=True):
        holds = shapely.contains(tops_geom, shapely.point_on_surface(geom))
        if not holds.any():
            overlap = shapely.area(shapely.intersection(tops_geom, geom))
            holds = overlap == overlap.max() if overlap.max() > 0 else holds
        if holds.any():
            i = int(np.flatnonzero(holds)[np.argmax(sizes[holds])])
            top = (str(tops[schema.AREA_ID].iloc[i]), str(names.iloc[i]), tops_geom[i])
        else:
            top = ("alla", "alla områden", _union(metric.geometry))
        records.append(
            {
                schema.ZONE_ID: zone_id,
                schema.AREA_ID: top[0],
                schema.AREA_NAME: top[1],
                schema.GEOMETRY: top[2],
            }  # fmt: skip
        )
    return pd.DataFrame.from_records(records)


def _area_rows(
    points: np.ndarray, areas: gpd.GeoDataFrame | None
) -> list[tuple[str, str, np.ndarray]]:
    if areas is None:
        return [("alla", "Alla händelser", np.ones(len(points), dtype=bool))]
    rows = []
    for i, area in enumerate(areas.to_dict("records"), start=1):
        area_id = str(area.get(schema.AREA_ID, i))
        name = str(area.get(schema.AREA_NAME, area_id))
        if schema.LEVEL in area and isinstance(area[schema.LEVEL], str):
            name = f"{name} ({area[schema.LEVEL]})"
        rows.append((area_id, name, _inside(points, area[schema.GEOMETRY])))
    return rows


def _names(frame: gpd.GeoDataFrame) -> list[str]:
    if schema.AREA_NAME in frame:
        return list(dict.fromkeys(frame[schema.AREA_NAME].astype(str)))
    return [f"{len(frame)} kontrollpolygoner"]


def _default_controls(
    zone_frame: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    points: np.ndarray,
    in_treated: np.ndarray,
) -> list[tuple[np.ndarray, str]]:
    """Per zone: the rest of its top-level area outside every zone and ring, and its name."""
    tops = top_areas(zone_frame, areas)
    masks: dict[str, np.ndarray] = {}
    out = []
    for area_id, name, geom in zip(
        tops[schema.AREA_ID], tops[schema.AREA_NAME], tops[schema.GEOMETRY], strict=True
    ):
        if area_id not in masks:
            masks[area_id] = _inside(points, geom) & ~in_treated
        out.append((masks[area_id], f"resten av {name}"))
    return out


def _count_pair(mask: np.ndarray, in_before: np.ndarray, in_after: np.ndarray) -> tuple[int, int]:
    return int((mask & in_before).sum()), int((mask & in_after).sum())


def _rate_columns(b: int, a: int, before: Period, after: Period) -> dict[str, Any]:
    rr = rate_ratio_test(b, a, before.days, after.days)
    before_rate = b / before.days * RATE_DAYS
    after_rate = a / after.days * RATE_DAYS
    change = (after_rate / before_rate - 1) * 100 if b > 0 else math.nan
    return {
        BEFORE_COUNT: b,
        AFTER_COUNT: a,
        BEFORE_DAYS: before.days,
        AFTER_DAYS: after.days,
        BEFORE_RATE: before_rate,
        AFTER_RATE: after_rate,
        CHANGE_PCT: change,
        RATE_RATIO: rr.rate_ratio,
        RR_CI_LOW: rr.ci_low,
        RR_CI_HIGH: rr.ci_high,
        P_VALUE: rr.p_value,
    }


def _comma(value: float) -> str:
    return f"{value:.2f}".replace(".", ",").replace("-", "−")


def category_noun(categories: Sequence[str] | None) -> str:
    """The plural noun of the verdict sentence: "våldsbrott" for one category, else "händelser".

    Examples
    --------
    >>> category_noun(["våld på offentlig plats"]), category_noun(None)
    ('våldsbrott', 'händelser')
    """
    if categories is not None and len(categories) == 1:
        return CATEGORY_NOUNS.get(categories[0], "händelser")
    return "händelser"


@dataclass(frozen=True)
class Verdict:
    """A headline (one of :data:`VERDICTS`), the sentence a commander can repeat, warnings."""

    headline: str
    sentence: str
    warnings: list[str]


def _significant(row: Mapping[str, Any], adjusted: str, raw: str, alpha: float) -> bool:
    value = row.get(adjusted, math.nan)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = row.get(raw, math.nan)
    return value is not None and bool(value < alpha)


def control_state(c_before: int, c_after: int, zone_and_ring_before: int) -> str:
    """ "för litet" (a period under :data:`MIN_CONTROL_COUNT`), "stort" (more than
    :data:`WDD_COMPARABLE_FACTOR` times the zone and ring), or "ok".

    Examples
    --------
    >>> control_state(4, 1, 80), control_state(200, 200, 50), control_state(60, 50, 40)
    ('för litet', 'stort', 'ok')
    """
    if min(c_before, c_after) < MIN_CONTROL_COUNT:
        return "för litet"
    if c_before > WDD_COMPARABLE_FACTOR * max(zone_and_ring_before, 1):
        return "stort"
    return "ok"


def verdict(row: Mapping[str, Any], *, noun: str = "händelser", alpha: float = ALPHA) -> Verdict:
    """The plain-Swedish verdict for one comparison row: headline, sentence and warnings.

    Every clause of the sentence stands on one test, so headline, sentence and numbers
    agree (docs/before-after.md). For zones the p-values are the Holm-adjusted ones
    (``*_adj``) when present.

    1. Fewer than :data:`MIN_TOTAL_COUNT` incidents before and after → "för få händelser".
    2. Rate-ratio test not significant → "ingen säker förändring".
    3. Significant rise → "ökning" (the sentence says whether the control rose as much).
    4. Significant fall (zone rows):
       a control with too few incidents → "minskning utan jämförelse";
       the ring rose relative to the control (Fisher test) → "förskjutning till
       närområdet", with the net clause;
       the ring fell relative to the control and the net test (zone + ring against the
       control) is significant → "spridning av positiva effekter";
       the net test significant → "minskning"; otherwise "ingen säker nettoeffekt".
    5. Area rows: 1–3 and "minskning".

    Examples
    --------
    >>> v = verdict({"before_count": 3, "after_count": 2, "p_value": 1.0, "rate_ratio": 0.7})
    >>> v.headline, v.sentence
    ('för få händelser', 'För få händelser i zonen (5 före och efter sammanlagt) för att säga något säkert.')
    """
    warnings: list[str] = []
    place = "zonen" if row.get(KIND, _ZONE_KIND) == _ZONE_KIND else str(row.get(schema.NAME))
    total = int(row[BEFORE_COUNT]) + int(row[AFTER_COUNT])
    if total < MIN_TOTAL_COUNT:
        warnings.append(
            f"För få händelser ({total} före och efter sammanlagt) för att säga något säkert; "
            f"minst {MIN_TOTAL_COUNT} behövs."
        )
        return Verdict(
            TOO_FEW,
            f"För få {noun} i {place} ({total} före och efter sammanlagt) för att säga något säkert.",
            warnings,
        )
    if not _significant(row, P_ADJ, P_VALUE, alpha):
        return Verdict(
            NO_CHANGE,
            f"Ingen säker förändring av antalet {noun} i {place}: skillnaden mellan före och "
            "efter ryms inom slumpen.",
            warnings,
        )
    is_zone = row.get(KIND, _ZONE_KIND) == _ZONE_KIND and CONTROL_BEFORE in row
    state = row.get(CONTROL_STATE, "ok")
    control = f"kontrollområdet ({row.get(CONTROL_NAME) or 'resten av området'})"
    beats_control = _significant(row, SUCCESS_P_ADJ, SUCCESS_P, alpha)
    if row[RATE_RATIO] > 1:
        if is_zone and state != "för litet" and not beats_control:
            sentence = (
                f"Fler {noun} i zonen, men lika mycket fler i {control}: zonen följde den "
                "allmänna utvecklingen."
            )
        else:
            sentence = f"Fler {noun} i {place} efter insatserna: en säker ökning."
        return Verdict(INCREASE, sentence, warnings)
    if not is_zone:
        return Verdict(DECREASE, f"Färre {noun} i {place}: en säker minskning.", warnings)
    if state == "för litet":
        return Verdict(
            UNCONTROLLED,
            f"Färre {noun} i zonen, men {control} har för få händelser för att visa om det var "
            "insatserna eller den allmänna utvecklingen.",
            warnings,
        )
    success = row.get(SUCCESS, math.nan)
    buffer = row.get(BUFFER_TERM, math.nan)
    ring_differs = success < 0 and _significant(row, BUFFER_P_ADJ, BUFFER_P, alpha)
    falls = (
        row.get(WDD, math.nan) < 0
        if row.get(NET_TEST) == "WDD"
        else row.get(NET_RATIO, math.nan) < 1
    )
    net_down = _significant(row, NET_P_ADJ, NET_P, alpha) and bool(falls)
    if not net_down:
        test = row.get(NET_TEST) or "nettotestet"
        p = row.get(NET_P_ADJ, row.get(NET_P, math.nan))
        p_text = "" if p is None or math.isnan(p) else f" (p = {_comma(p)})"
        warnings.append(
            f"Zon och närområde tillsammans minskade inte säkert mer än kontrollområdet "
            f"({test}{p_text}): en del av minskningen kan ha flyttat till närområdet eller "
            "följa den allmänna utvecklingen."
        )
    if ring_differs and buffer > 0:
        tail = (
            "; räknat tillsammans ändå en säker nettominskning."
            if net_down
            else ": ingen säker nettoeffekt."
        )
        return Verdict(DISPLACEMENT, f"Färre {noun} i zonen, men fler i närområdet{tail}", warnings)
    if ring_differs and buffer < 0 and net_down:
        return Verdict(
            DIFFUSION,
            f"Färre {noun} både i zonen och i närområdet: en säker nettominskning, och "
            "effekten spred sig utanför zonen.",
            warnings,
        )
    if net_down:
        return Verdict(
            DECREASE,
            f"Färre {noun} i zonen, utan tecken på att de flyttat till närområdet: en säker "
            "nettominskning.",
            warnings,
        )
    if ring_differs:  # the ring fell too, but not clearly more than the control
        sentence = (
            f"Färre {noun} i zonen och i närområdet, men inte säkert mer än i {control}: "
            "ingen säker nettoeffekt."
        )
    elif not beats_control:
        sentence = (
            f"Färre {noun} i zonen, men lika mycket färre i {control}: ingen säker effekt av "
            "insatserna."
        )
    else:
        sentence = f"Färre {noun} i zonen, men lika många i närområdet: ingen säker nettoeffekt."
    return Verdict(NO_NET, sentence, warnings)


def compare_zones(
    incidents: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    before: Period,
    after: Period,
    buffer_m: float = DEFAULT_BUFFER_M,
    control: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    categories: Sequence[str] | None = None,
    window: Any = None,
    zones_source: str = "other",
    lov_calendars: Any = None,
    coverage: Coverage | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Compare each zone's before and after periods, with displacement measures.

    For each zone R: the buffer ring D is the zone grown by ``buffer_m`` minus every zone;
    the control C is ``control`` (if given, the same for every zone) or else, per zone, the
    rest of the top-level area (kommun / LPO, see :func:`top_areas`) that holds the zone
    (or, without areas, everywhere the incidents are), minus every zone and every buffer
    ring; ``control_area`` names it. With a
    user control, the control's own ring DC (grown by ``buffer_m``, minus C, zones and
    rings) enters the full WDD; otherwise WDD takes the form ``ΔT − ΔC + ΔD``.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents as from ``geo.io.load_incidents`` (EPSG:3006, ``occurred_at``,
        ``category``).
    zones : GeoDataFrame
        Zone polygons (see :func:`prepare_zones`).
    before, after : Period
        Non-overlapping periods; rates are per 30 days so the lengths may differ.
    buffer_m : float, default 250
        Width of the buffer ring in metres.
    control : GeoDataFrame, optional
        Control area polygons.
    areas : GeoDataFrame, optional
        Areas (any levels). Those that hold part of a zone (all, if none does) give one
        total row each, named "name (level)"; each zone's top-level area, less the zones
        and rings, is its default control.
    categories : sequence of str, optional
        Only these categories.
    window : str or TimeWindow, optional
        A time window (``geo.timewin.WINDOWS`` name) applied to both periods.
    zones_source : {"before_hotspots", "file", "drawn", "other"}
        Where the zones came from; "before_hotspots" adds the regression-to-the-mean warning.
    lov_calendars : geo.timewin.LovCalendars, optional
        School-holiday calendars per kommun for the "lov" window (default: the bundled ones);
        each incident uses its own kommun's calendar, found through ``areas``; incidents
        outside a calendar's coverage are named in the warnings.
    coverage : Coverage, optional
        The days the data covers (default: first and last incident of ``incidents``, see
        :func:`data_coverage`). Periods reaching past it are cut to it (:func:`cover_periods`):
        counts and rates use covered days only, and every row's warnings say so.
    alpha : float, default 0.05
        Significance level. With several zones every test behind a verdict is Holm-adjusted
        across the zones (:func:`holm`; columns ``*_adj``), so the chance of any false "säker"
        finding among them stays at most ``alpha``. Area rows are single tests, not adjusted.

    Returns
    -------
    DataFrame
        One row per zone then one per area (``kind`` "zon"/"område"), with the columns named
        in :data:`COLUMN_LABELS_SV`. ``before_period``/``after_period`` are the covered
        periods; ``verdict`` the headline, ``verdict_text`` the sentence; ``warnings`` is a
        list of Swedish strings.

    Raises
    ------
    TypeError, ValueError, InputError
        For wrong types, a non-positive buffer, bad periods or unknown categories.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> pts = [Point(5, 5)] * 30 + [Point(5, 5)] * 10 + [Point(2000, 2000)] * 40
    >>> times = ["2017-06-01"] * 30 + ["2018-06-01"] * 10 + ["2017-06-01"] * 20 + ["2018-06-01"] * 20
    >>> inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(times).tz_localize(schema.TZ),
    ...     "category": "rån"}, geometry=pts, crs="EPSG:3006")
    >>> z = gpd.GeoDataFrame({"zone_id": ["a"]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:3006")
    >>> out = compare_zones(inc, z, before=Period.parse("2017-01-01:2017-12-31"),
    ...     after=Period.parse("2018-01-01:2018-12-31"),
    ...     coverage=Coverage(date(2017, 1, 1), date(2018, 12, 31)))
    >>> [str(v) for v in out.loc[0, ["before_count", "after_count", "verdict"]]]
    ['30', '10', 'minskning']
    >>> print(out.loc[0, "verdict_text"])
    Färre händelser i zonen, utan tecken på att de flyttat till närområdet: en säker nettominskning.
    """
    if zones_source not in ZONE_SOURCES:
        raise ValueError(
            f'`zones_source` was "{zones_source}" but is expected to be in {ZONE_SOURCES}'
        )
    buffer_m = _check_positive("buffer_m", buffer_m)
    zone_frame = prepare_zones(zones)
    if coverage is None:
        coverage = data_coverage(_to_metric(incidents, "incidents"))
    periods = cover_periods(before, after, coverage)
    before, after = periods.before, periods.after
    notes: list[str] = list(periods.warnings)
    events = _filter(
        incidents, categories, window, areas=areas, lov_calendars=lov_calendars, notes=notes
    )
    in_before, in_after = _period_masks(events[schema.OCCURRED_AT], before, after)
    points = events.geometry.to_numpy()
    control_frame = None if control is None else _to_metric(control, "control areas")
    noun = category_noun(None if categories is None else list(categories))

    zone_geoms = list(zone_frame.geometry)
    all_zones = _union(zone_geoms)
    rings = list(buffer_rings(zone_frame, buffer_m=buffer_m).geometry)
    area_frame = None if areas is None else _relevant_areas(_to_metric(areas, "areas"), all_zones)
    all_rings = _union(rings)
    treated = _union([all_zones, all_rings])
    if control_frame is not None:
        control_geom = shapely.difference(_union(control_frame.geometry), treated)
        control_ring = shapely.difference(
            shapely.buffer(control_geom, buffer_m), _union([control_geom, treated])
        )
        in_control = _inside(points, control_geom)
        in_control_ring = _inside(points, control_ring) & ~in_control
        controls = [(in_control, ", ".join(_names(control_frame)))] * len(zone_frame)
    else:
        in_treated = _inside(points, treated)
        in_control_ring = None
        if area_frame is not None:
            controls = _default_controls(zone_frame, areas, points, in_treated)
        else:
            controls = [(~in_treated, "alla händelser utanför zonerna")] * len(zone_frame)
    in_any_zone = _inside(points, all_zones)

    records = []
    scale = before.days / after.days
    for zone, zone_geom, ring, (in_control, control_name) in zip(
        zone_frame.itertuples(index=False), zone_geoms, rings, controls, strict=True
    ):
        c_b, c_a = _count_pair(in_control, in_before, in_after)
        in_zone = _inside(points, zone_geom)
        in_ring = _inside(points, ring) & ~in_any_zone
        r_b, r_a = _count_pair(in_zone, in_before, in_after)
        d_b, d_a = _count_pair(in_ring, in_before, in_after)
        row: dict[str, Any] = {
            schema.ZONE_ID: getattr(zone, schema.ZONE_ID),
            schema.NAME: getattr(zone, schema.NAME),
            KIND: _ZONE_KIND,
        }
        row.update(_rate_columns(r_b, r_a, before, after))
        state = control_state(c_b, c_a, r_b + d_b)
        disp = wdq(r_b, r_a, d_b, d_a, c_b, c_a)
        if state == "för litet" and not math.isnan(disp.wdq):
            disp = Displacement(
                disp.success, disp.buffer, math.nan, disp.net_effect,
                f"WDQ räknas inte: kontrollområdet har för få händelser ({c_b} före, {c_a} "
                f"efter; minst {MIN_CONTROL_COUNT} i varje period behövs) för att visa den "
                "allmänna utvecklingen.",
            )  # fmt: skip
        row.update(
            {
                BUFFER_BEFORE: d_b,
                BUFFER_AFTER: d_a,
                CONTROL_BEFORE: c_b,
                CONTROL_AFTER: c_a,
                CONTROL_NAME: control_name,
                CONTROL_STATE: state,
                SUCCESS: disp.success,
                BUFFER_TERM: disp.buffer,
                WDQ: disp.wdq,
                WDQ_NOTE: disp.note,
                NET_EFFECT: disp.net_effect,
                BUFFER_P: buffer_vs_control_p(d_b, d_a, c_b, c_a),
                SUCCESS_P: buffer_vs_control_p(r_b, r_a, c_b, c_a),
                NET_RATIO: _ratio_of_ratios(r_b + d_b, r_a + d_a, c_b, c_a),
            }
        )
        if in_control_ring is not None:
            dc_b, dc_a = _count_pair(in_control_ring, in_before, in_after)
            row[CONTROL_BUFFER_BEFORE], row[CONTROL_BUFFER_AFTER] = dc_b, dc_a
            result = wdd(r_b, r_a, c_b, c_a, d_b, d_a, dc_b, dc_a, after_scale=scale)
        else:
            result = wdd(r_b, r_a, c_b, c_a, d_b, d_a, after_scale=scale)
        row.update({WDD: result.wdd, WDD_SE: result.se, WDD_Z: result.z, WDD_P: result.p_value})
        row[WDD_FORM] = result.form
        if state == "ok":
            # Wheeler & Ratcliffe's WDD: raw differences, for a control of the zone's size.
            row[NET_TEST] = "WDD"
            row[NET_P] = result.p_value
        else:
            # A control many times busier than the zone swamps raw differences: compare the
            # after/before ratio of zone + ring with the control's (exact, Fisher).
            row[NET_TEST] = "kvottest"
            row[NET_P] = buffer_vs_control_p(r_b + d_b, r_a + d_a, c_b, c_a)
        row[WARNINGS] = _control_warnings(state, control_name, c_b, c_a, r_b + d_b)
        records.append(row)

    for family, adjusted in ((P_VALUE, P_ADJ), (SUCCESS_P, SUCCESS_P_ADJ),
                             (BUFFER_P, BUFFER_P_ADJ), (NET_P, NET_P_ADJ)):  # fmt: skip
        for row, value in zip(records, holm([r[family] for r in records]), strict=True):
            row[adjusted] = float(value)
    for row in records:
        found = verdict(row, noun=noun, alpha=alpha)
        row[VERDICT], row[VERDICT_TEXT] = found.headline, found.sentence
        warnings = notes + found.warnings + row[WARNINGS]
        if zones_source == "before_hotspots":
            warnings.append(_RTM_WARNING)
        row[WARNINGS] = warnings

    for area_id, name, in_area in _area_rows(points, area_frame):
        b, a = _count_pair(in_area, in_before, in_after)
        row = {schema.ZONE_ID: area_id, schema.NAME: name, KIND: _AREA_KIND}
        row.update(_rate_columns(b, a, before, after))
        found = verdict(row, noun=noun, alpha=alpha)
        row[VERDICT], row[VERDICT_TEXT] = found.headline, found.sentence
        row[WARNINGS] = notes + found.warnings
        records.append(row)

    for row in records:
        row[BEFORE_PERIOD], row[AFTER_PERIOD] = str(before), str(after)
    columns = [c for c in COLUMN_LABELS_SV]
    return pd.DataFrame.from_records(records).reindex(columns=columns)


def _ratio_of_ratios(t_before: int, t_after: int, c_before: int, c_after: int) -> float:
    """(t_after / t_before) / (c_after / c_before); NaN when a count it divides by is 0."""
    if t_before == 0 or c_before == 0 or c_after == 0:
        return math.nan
    return (t_after / t_before) / (c_after / c_before)


def _control_warnings(state: str, name: str, c_b: int, c_a: int, treated_b: int) -> list[str]:
    if state == "för litet":
        return [
            f"Kontrollområdet ({name}) har för få händelser ({c_b} före, {c_a} efter; minst "
            f"{MIN_CONTROL_COUNT} i varje period behövs) för att visa den allmänna "
            "utvecklingen: bedömningen säger bara hur zonen själv förändrades. Välj ett större "
            "kontrollområde, eller färre eller mindre zoner."
        ]
    if state == "stort":
        # WDD differences raw counts (Wheeler & Ratcliffe 2018): with a control much busier
        # than the zone, the control's own change swamps the figure.
        return [
            f"Kontrollområdet hade {c_b / max(treated_b, 1):.0f} gånger fler händelser före än "
            "zonen och närområdet. WDD jämför råa antal och förutsätter ett kontrollområde av "
            "ungefär zonens storlek, så WDD tolkas inte här: nettobedömningen jämför i stället "
            "kvoten efter/före för zon och närområde med kontrollområdets (kvottest)."
        ]
    return []


# =========================================================================================
# Change map and trend
# =========================================================================================

BEFORE_LABEL = "before_label"
AFTER_LABEL = "after_label"
DIFF_RATE = "diff_per_30d"
SUPPRESSED = "suppressed"
PERIOD_START = "period_start"
PARTIAL = "partial"
TREND_FREQS = {"W": "W-SUN", "MS": "M"}


def _suppress_label(count: int) -> str:
    return f"<{schema.SUPPRESS_BELOW}" if count < schema.SUPPRESS_BELOW else str(count)


def change_grid(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    before: Period,
    after: Period,
    cell_size_m: float,
    categories: Sequence[str] | None = None,
    window: Any = None,
) -> gpd.GeoDataFrame:
    """Per grid cell counts before and after, and the change in rate per 30 days.

    Cells come from ``geo.grid.make_grid(areas, cell_size_m)``. A cell whose counts are
    both below ``schema.SUPPRESS_BELOW`` is ``suppressed``: its ``diff_per_30d`` is ``nan``
    and its labels read "<5", so the map shows it as suppressed rather than as a change.

    Parameters
    ----------
    incidents : GeoDataFrame
    areas : GeoDataFrame
    before, after : Period
    cell_size_m : float
        Side of a square cell in metres.
    categories, window : optional
        As in :func:`compare_zones`.

    Returns
    -------
    GeoDataFrame
        ``cell_id``, ``area_id``, ``before_count``, ``after_count``, ``before_rate_30d``,
        ``after_rate_30d``, ``diff_per_30d``, ``suppressed``, ``before_label``,
        ``after_label``, ``geometry`` (EPSG:3006).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> areas = gpd.GeoDataFrame({"area_id": ["k"], "area_name": ["K"]},
    ...     geometry=[box(0, 0, 200, 100)], crs="EPSG:3006")
    >>> inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(["2017-05-01"] * 6
    ...     + ["2018-05-01"] * 2).tz_localize(schema.TZ), "category": "rån"},
    ...     geometry=[Point(50, 50)] * 8, crs="EPSG:3006")
    >>> g = change_grid(inc, areas, before=Period.parse("2017-01-01:2017-12-31"),
    ...     after=Period.parse("2018-01-01:2018-12-31"), cell_size_m=100)
    >>> g[["before_count", "after_count", "suppressed"]].values.tolist()
    [[6, 2, False], [0, 0, True]]
    """
    from geo.grid import make_grid  # lazy: keeps this module importable on its own

    cell_size_m = _check_positive("cell_size_m", cell_size_m)
    # lov notes are compare_zones' to give (its rows' warnings): not repeated here
    events = _filter(incidents, categories, window, areas=areas, notes=[])
    in_before, in_after = _period_masks(events[schema.OCCURRED_AT], before, after)
    cells = make_grid(_to_metric(areas, "areas"), cell_size_m)
    keep = events.loc[in_before | in_after, [schema.GEOMETRY]].copy()
    keep["_after"] = in_after[in_before | in_after]
    joined = gpd.sjoin(keep, cells[[schema.GEOMETRY]], how="inner", predicate="intersects")
    # a point on a shared edge touches two cells: count it once
    joined = joined[~joined.index.duplicated(keep="first")]
    positions = cells.index.get_indexer(joined["index_right"])
    n_cells = len(cells)
    after_counts = np.bincount(positions[joined["_after"].to_numpy()], minlength=n_cells)
    before_counts = np.bincount(positions[~joined["_after"].to_numpy()], minlength=n_cells)
    before_rate = before_counts / before.days * RATE_DAYS
    after_rate = after_counts / after.days * RATE_DAYS
    suppressed = (before_counts < schema.SUPPRESS_BELOW) & (after_counts < schema.SUPPRESS_BELOW)
    out = gpd.GeoDataFrame(
        {
            schema.CELL_ID: cells[schema.CELL_ID].to_numpy(),
            schema.AREA_ID: cells[schema.AREA_ID].to_numpy()
            if schema.AREA_ID in cells.columns
            else None,
            BEFORE_COUNT: before_counts,
            AFTER_COUNT: after_counts,
            BEFORE_RATE: before_rate,
            AFTER_RATE: after_rate,
            DIFF_RATE: np.where(suppressed, np.nan, after_rate - before_rate),
            SUPPRESSED: suppressed,
            BEFORE_LABEL: [_suppress_label(int(c)) for c in before_counts],
            AFTER_LABEL: [_suppress_label(int(c)) for c in after_counts],
        },
        geometry=cells.geometry.to_numpy(),
        crs=schema.CRS_METRIC,
    )
    return out


def trend(
    incidents: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    freq: str = "W",
    start: date | None = None,
    end: date | None = None,
    categories: Sequence[str] | None = None,
    window: Any = None,
    coverage: Coverage | None = None,
) -> pd.DataFrame:
    """Incidents per week or month in each zone, empty periods included.

    Parameters
    ----------
    incidents, zones : GeoDataFrame
    freq : {"W", "MS"}, default "W"
        Weeks (Monday–Sunday, labelled by their Monday) or calendar months (labelled by
        their first day).
    start, end : datetime.date, optional
        The span to cover; by default the first and last incident.
    categories, window : optional
        As in :func:`compare_zones`.
    coverage : Coverage, optional
        The data's coverage: ``start`` and ``end`` are cut to it, so a line never falls to
        zero where there is no data.

    Returns
    -------
    DataFrame
        Long form: ``zone_id``, ``name``, ``period_start`` (naive local date-time), ``count``,
        ``partial`` (the week or month is only partly inside the span: its count is low
        because days are missing, not because less happened).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(["2018-01-03", "2018-03-09"]
    ...     ).tz_localize(schema.TZ), "category": "rån"}, geometry=[Point(1, 1)] * 2,
    ...     crs="EPSG:3006")
    >>> z = gpd.GeoDataFrame({"zone_id": ["a"]}, geometry=[box(0, 0, 5, 5)], crs="EPSG:3006")
    >>> trend(inc, z, freq="MS")["count"].tolist()
    [1, 0, 1]
    """
    if freq not in TREND_FREQS:
        raise ValueError(f'`freq` was "{freq}" but is expected to be in {list(TREND_FREQS)}')
    zone_frame = prepare_zones(zones)
    if coverage is not None:
        start = coverage.first if start is None else max(start, coverage.first)
        end = coverage.last if end is None else min(end, coverage.last)
    events = _filter(incidents, categories, window, notes=[])
    local = events[schema.OCCURRED_AT].dt.tz_convert(schema.TZ).dt.tz_localize(None)
    keep = np.ones(len(local), dtype=bool)
    if start is not None:
        keep &= (local >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (local < pd.Timestamp(end + timedelta(days=1))).to_numpy()
    period = local[keep].dt.to_period(TREND_FREQS[freq])
    if start is not None or end is not None or len(period):
        first = pd.Period(start, TREND_FREQS[freq]) if start is not None else period.min()
        last = pd.Period(end, TREND_FREQS[freq]) if end is not None else period.max()
        index = pd.period_range(first, last, freq=TREND_FREQS[freq])
    else:
        index = pd.PeriodIndex([], freq=TREND_FREQS[freq])
    span_start = pd.Timestamp(start) if start is not None else None
    span_end = pd.Timestamp(end) if end is not None else None
    partial = np.zeros(len(index), dtype=bool)
    if span_start is not None:
        partial |= np.asarray(index.start_time < span_start)
    if span_end is not None:
        partial |= np.asarray(index.end_time.normalize() > span_end)
    points = events.geometry.to_numpy()[keep]
    parts = []
    for zone in zone_frame.itertuples(index=False):
        inside = _inside(points, zone.geometry)
        counts = period[inside].value_counts().reindex(index, fill_value=0)
        parts.append(
            pd.DataFrame(
                {
                    schema.ZONE_ID: getattr(zone, schema.ZONE_ID),
                    schema.NAME: getattr(zone, schema.NAME),
                    PERIOD_START: index.start_time,
                    schema.COUNT: counts.to_numpy(dtype=np.int64),
                    PARTIAL: partial,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
