"""Filters by period, category, area and time window; hour-of-week profiles.

This module owns the time rules of Lägesbild:

* Times are tz-aware Europe/Stockholm. Naive timestamps are refused, never guessed.
* **A night belongs to the evening it started.** Clock hours 00:00–05:59 belong to the
  previous day's evening: Friday 23:30 and Saturday 02:00 are both "Friday night"
  (:func:`evening_date`).
* Windows count **clock hours** (wall time). On the night clocks go forward
  (2018-03-25, 02:00 → 03:00) the hour 02 does not exist; on the night they go back
  (2018-10-28, 03:00 → 02:00) the hour 02 happens twice and both instances fall in a
  window that contains hour 02. A "22–06" night is therefore 7 or 9 real hours on those
  two nights, as a patrol roster would have it.
* Day filters (public holidays, lov) test the **evening date**: the night after
  julafton belongs to julafton.

Public holidays come from the ``holidays`` package (Sweden, categories "public" and
"de_facto"): the official helgdagar plus midsommarafton, julafton and nyårsafton, which are
de facto holidays (most workplaces closed, public life like a Sunday). Påskafton,
valborgsmässoafton and other "aftnar" are not included; use a custom window for them.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import tomllib
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

from geo import schema
from geo.errors import InputError

#: Swedish weekday abbreviations, Monday first (Python's weekday numbering).
DAY_NAMES = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")

#: Clock hours before this belong to the previous day's evening.
NIGHT_ENDS_HOUR = 6

_DAY_ALIASES = {
    **{name: i for i, name in enumerate(DAY_NAMES)},
    **{
        name: i
        for i, name in enumerate(
            ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
        )
    },
    "tors": 3,
}

_HOLIDAY_CHOICES = ("any", "only", "exclude")

#: Columns of a lov calendar CSV (the format of ../shared/data/calendar).
LOV_CALENDAR_COLUMNS = ("school_term", "date_start", "date_end", "kind", "label_sv", "source_url")
#: Calendar rows whose ``kind`` is one of these are school holidays.
LOV_KINDS = ("lov", "lovdag")

#: The calendar behind ``WINDOWS["lov"]``: the demo kommun's (Järfälla) lov dates.
DEFAULT_LOV_CALENDAR = (
    Path(__file__).resolve().parents[1] / "data" / "calendar" / "jarfalla_lov_2017_2018.csv"
)

_EXAMPLE = '"fre,lör 18-03" eller "mån-fre 22-06"'


# --- evening dates ----------------------------------------------------------------------


def _local_wall(times: pd.Series | pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Naive wall-clock times in Europe/Stockholm; refuse naive input."""
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        raise ValueError(
            "Tiderna saknar tidszon: Lägesbild kräver tider med tidszon (Europe/Stockholm), "
            f"fick t.ex. {index[0] if len(index) else 'en tom lista'!s}."
        )
    return index.tz_convert(schema.TZ).tz_localize(None)


def _evening_dates_wall(wall: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Midnight of the evening each naive wall time belongs to."""
    return (wall - pd.Timedelta(hours=NIGHT_ENDS_HOUR)).normalize()


def evening_date(ts: pd.Timestamp | pd.Series | pd.DatetimeIndex) -> dt.date | pd.Series:
    """The date of the evening a time belongs to.

    Clock times 00:00–05:59 (Europe/Stockholm) belong to the previous day's evening.

    Parameters
    ----------
    ts : pandas.Timestamp, Series or DatetimeIndex
        Tz-aware time(s); converted to Europe/Stockholm first.

    Returns
    -------
    datetime.date or pandas.Series
        One date for one timestamp; for a Series, a Series of ``datetime.date`` objects with
        the same index (for a DatetimeIndex, a Series with a default index).

    Raises
    ------
    ValueError
        If the times have no time zone.

    Examples
    --------
    >>> evening_date(pd.Timestamp("2018-03-17 02:00", tz="Europe/Stockholm"))  # a Saturday
    datetime.date(2018, 3, 16)
    >>> evening_date(pd.Timestamp("2018-03-16 23:30", tz="Europe/Stockholm"))
    datetime.date(2018, 3, 16)
    """
    if isinstance(ts, pd.Timestamp | dt.datetime):
        if ts.tzinfo is None:
            raise ValueError(
                f"Tiden {ts} saknar tidszon: Lägesbild kräver tider med tidszon (Europe/Stockholm)."
            )
        return _evening_dates_wall(_local_wall(pd.DatetimeIndex([ts])))[0].date()
    index = ts.index if isinstance(ts, pd.Series) else None
    dates = _evening_dates_wall(_local_wall(ts))
    return pd.Series(dates.date, index=index, name="evening_date")


# --- holidays and lov ---------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _swedish_holidays(year: int) -> frozenset[dt.date]:
    days = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))
    return frozenset(days)


def public_holidays(years: Iterable[int]) -> dict[dt.date, str]:
    """Swedish public holidays plus de facto ones (midsommar-, jul-, nyårsafton).

    Parameters
    ----------
    years : iterable of int

    Returns
    -------
    dict
        Date → Swedish name.

    Examples
    --------
    >>> days = public_holidays([2018])
    >>> days[dt.date(2018, 12, 24)], days[dt.date(2018, 6, 6)]
    ('Julafton', 'Nationaldagen')
    """
    years = sorted(set(years))
    if not years:
        return {}
    named = holidays.country_holidays(
        "SE", years=years, categories=("public", "de_facto"), language="sv"
    )
    return dict(sorted(named.items()))


def _is_holiday(dates: np.ndarray) -> np.ndarray:
    """Vectorised holiday test on datetime64[D] dates."""
    if dates.size == 0:
        return np.zeros(0, dtype=bool)
    years = pd.DatetimeIndex(dates).year
    lookup = set()
    for year in np.unique(years):
        lookup |= _swedish_holidays(int(year))
    days = np.array(sorted(lookup), dtype="datetime64[D]")
    return np.isin(dates, days)


def load_lov_calendar(path: str | Path) -> list[tuple[dt.date, dt.date, str]]:
    """Read a kommun's school calendar and keep its lov periods.

    The lov periods of :func:`read_lov_calendar` (rows with ``kind`` "lov" or "lovdag",
    and the holidays given only as the gap between one term's end and the next term's start:
    jullov, sommarlov). Use :func:`read_lov_calendar` for the dates the calendar covers too.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of (start_date, end_date, label)
        Sorted by start date.

    Raises
    ------
    InputError
        If the file is missing, lacks a column, or has a bad date (row number named).

    Examples
    --------
    >>> import tempfile, os
    >>> text = ("school_term,date_start,date_end,kind,label_sv,source_url\\n"
    ...         "HT2017,2017-10-30,2017-11-03,lov,Höstlov,x\\n"
    ...         "HT2017,2017-08-21,2017-08-21,term_start,Skolstart,x\\n")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "cal.csv")
    ...     _ = open(p, "w", encoding="utf-8").write(text)
    ...     load_lov_calendar(p)
    [(datetime.date(2017, 10, 30), datetime.date(2017, 11, 3), 'Höstlov')]
    """
    return list(read_lov_calendar(path).periods)


#: One lov period: first day, last day (both inclusive), Swedish label.
LovPeriod = tuple[dt.date, dt.date, str]
#: A span of days (both inclusive).
DaySpan = tuple[dt.date, dt.date]

# "HT2019" / "VT 2020": autumn (höst) and spring (vår) terms.
_TERM = re.compile(r"^\s*(HT|VT)\s*(\d{4})\s*$", re.IGNORECASE)
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class LovCalendar:
    """One kommun's lov periods and the days its calendar covers.

    Parameters
    ----------
    periods : sequence of (start, end, label)
        Lov periods, both ends inclusive.
    coverage : sequence of (start, end), optional
        The days the calendar speaks about (lov or school days). None: every day (a bare
        list of periods, as given in code). Outside it nobody can say whether a day was lov.

    Examples
    --------
    >>> cal = LovCalendar([(dt.date(2018, 2, 26), dt.date(2018, 3, 2), "Sportlov")],
    ...     coverage=[(dt.date(2018, 1, 9), dt.date(2018, 6, 13))])
    >>> days = np.array(["2018-02-27", "2018-05-02", "2018-08-01"], dtype="datetime64[D]")
    >>> [m.tolist() for m in cal.classify(days)]
    [[True, False, False], [True, True, False]]
    """

    periods: Sequence[LovPeriod]
    coverage: Sequence[DaySpan] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "periods", tuple(sorted(_lov_period(p) for p in self.periods)))
        if self.coverage is not None:
            spans = [tuple(pd.Timestamp(d).date() for d in span[:2]) for span in self.coverage]
            object.__setattr__(self, "coverage", _merge_spans(spans))

    def classify(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(in_lov, covered)`` for datetime64[D] evening dates."""
        days = np.asarray(days, dtype="datetime64[D]")
        covered = (
            np.ones(len(days), dtype=bool)
            if self.coverage is None
            else _in_periods(days, self.coverage)
        )
        return _in_periods(days, self.periods) & covered, covered

    def coverage_text(self) -> str:
        """The covered spans as "2019-08-22–2021-06-11, 2024-01-08–2025-06-12"."""
        if self.coverage is None:
            return "alla dagar"
        if not self.coverage:
            return "inga dagar"
        return ", ".join(f"{a.isoformat()}–{b.isoformat()}" for a, b in self.coverage)


def _merge_spans(spans: Iterable[DaySpan]) -> tuple[DaySpan, ...]:
    """Sorted spans with overlapping or adjacent ones joined."""
    merged: list[list[dt.date]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + _ONE_DAY:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


def _term_key(term: str) -> tuple[int, int] | None:
    """(year, 0 for VT / 1 for HT), or None for a label that is not a term."""
    match = _TERM.match(term or "")
    return None if match is None else (int(match[2]), 0 if match[1].upper() == "VT" else 1)


def _next_term(key: tuple[int, int]) -> tuple[int, int]:
    year, half = key
    return (year, 1) if half == 0 else (year + 1, 0)


def read_lov_calendar(path: str | Path) -> LovCalendar:
    """Read a kommun's school calendar: its lov periods and the days it covers.

    The CSV has the columns ``school_term, date_start, date_end, kind, label_sv,
    source_url`` (dates ``YYYY-MM-DD``, both inclusive; the format of
    ``../shared/data/calendar``). Lov is:

    * every row whose ``kind`` is "lov" or "lovdag";
    * the days **between** one term's ``term_end`` and the next term's ``term_start``, when
      the two terms follow each other (HT2019 → VT2020: jullov; VT2020 → HT2020: sommarlov).
      Kommuner publish jullov and sommarlov this way, as gaps, not as rows.

    The calendar covers each term from its first to its last dated row, and the gaps it
    fills; a missing term (VT2021 followed by VT2024) leaves the days between uncovered.
    Terms not named ``HT``/``VT`` + year cover their own rows only.

    Raises
    ------
    InputError
        If the file is missing, lacks a column, or has a bad date (row number named).

    Examples
    --------
    >>> import tempfile, os
    >>> text = ("school_term,date_start,date_end,kind,label_sv,source_url\\n"
    ...         "HT2019,2019-08-22,2019-08-22,term_start,Första dagen,x\\n"
    ...         "HT2019,2019-12-19,2019-12-19,term_end,Avslutning,x\\n"
    ...         "VT2020,2020-01-07,2020-01-07,term_start,Första dagen,x\\n")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "cal.csv")
    ...     _ = open(p, "w", encoding="utf-8").write(text)
    ...     cal = read_lov_calendar(p)
    >>> cal.periods  # the gap between the terms is jullov
    ((datetime.date(2019, 12, 20), datetime.date(2020, 1, 6), 'Jullov'),)
    >>> cal.coverage_text()
    '2019-08-22–2020-01-07'
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Lovkalendern {path} finns inte.")
    periods: list[LovPeriod] = []
    terms: dict[str, dict] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [
            c for c in ("date_start", "date_end", "kind") if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise InputError(
                f"Lovkalendern {path} saknar kolumnerna {', '.join(missing)}; "
                f"hittade {', '.join(reader.fieldnames or [])}, "
                f"väntade {', '.join(LOV_CALENDAR_COLUMNS)}."
            )
        for row_number, row in enumerate(reader, start=2):
            try:
                start = dt.date.fromisoformat((row["date_start"] or "").strip())
                end = dt.date.fromisoformat((row["date_end"] or "").strip())
            except (ValueError, AttributeError) as exc:
                raise InputError(
                    f"Lovkalendern {path}, rad {row_number}: datumet "
                    f'"{row["date_start"]}"–"{row["date_end"]}" är inte på formen ÅÅÅÅ-MM-DD.'
                ) from exc
            if end < start:
                raise InputError(
                    f"Lovkalendern {path}, rad {row_number}: slutdatum {end} före startdatum {start}."
                )
            kind = (row.get("kind") or "").strip().lower()
            term = terms.setdefault((row.get("school_term") or "").strip(), {"days": []})
            term["days"] += [start, end]
            if kind in LOV_KINDS:
                periods.append((start, end, (row.get("label_sv") or "lov").strip()))
            elif kind == "term_start":
                term["start"] = min(start, term.get("start", start))
            elif kind == "term_end":
                term["end"] = max(end, term.get("end", end))
    coverage = [(min(t["days"]), max(t["days"])) for t in terms.values()]
    by_key = {_term_key(name): t for name, t in terms.items() if _term_key(name) is not None}
    for key, term in by_key.items():
        following = by_key.get(_next_term(key))
        if following is None or "end" not in term or "start" not in following:
            continue
        first, last = term["end"] + _ONE_DAY, following["start"] - _ONE_DAY
        if first <= last:
            periods.append((first, last, "Jullov" if key[1] == 1 else "Sommarlov"))
            coverage.append((first, last))
    return LovCalendar(periods, coverage)


# --- lov per kommun -------------------------------------------------------------------------

#: The index of the demo kommuner's lov calendars (kommun code → calendar CSV).
DEFAULT_LOV_INDEX = DEFAULT_LOV_CALENDAR.parent / "lov_calendars.toml"

#: Optional column of a boundary frame with the SCB kommun code each area lies in.
KOMMUN_COLUMN = "kommun"

#: An area id that starts with a four-digit SCB kommun code: "0123", "0180-farsta".
_KOMMUN_CODE = re.compile(r"^(\d{4})(?:-|$)")


class LovCalendarWarning(UserWarning):
    """Some incidents were judged with another kommun's lov calendar (or none)."""


@dataclass(frozen=True, eq=False)
class LovCalendars:
    """Lov calendars by kommun, and the rules that find each area's kommun.

    Parameters
    ----------
    calendars : mapping of str to sequence of (start, end, label)
        Kommun code (SCB kommunkod, e.g. "0180") → its lov periods.
    names : mapping of str to str, optional
        Kommun code → name, for messages.
    area_kommun : mapping of str to str, optional
        Area id → kommun code, for areas whose id carries no code ("lpo-farsta" → "0180").
    default : str, optional
        The kommun whose calendar is used for incidents whose kommun is not known or has no
        calendar (with a :class:`LovCalendarWarning`); None: such incidents are not in lov.

    Examples
    --------
    >>> cal = LovCalendars({"0180": [(dt.date(2018, 2, 19), dt.date(2018, 2, 23), "Sportlov")]})
    >>> cal.kommun_codes(["0180-farsta", "lpo-x"])
    ['0180', None]
    """

    calendars: Mapping[str, Sequence[LovPeriod]]
    names: Mapping[str, str] = field(default_factory=dict)
    area_kommun: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None
    coverage: Mapping[str, Sequence[DaySpan] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        calendars = {
            str(code): tuple(sorted(_lov_period(p) for p in periods))
            for code, periods in self.calendars.items()
        }
        object.__setattr__(self, "calendars", calendars)
        coverage = {str(k): v for k, v in self.coverage.items() if v is not None}
        object.__setattr__(
            self,
            "coverage",
            {k: LovCalendar((), v).coverage for k, v in coverage.items() if k in calendars},
        )
        object.__setattr__(self, "names", {str(k): str(v) for k, v in self.names.items()})
        object.__setattr__(
            self, "area_kommun", {str(k): str(v) for k, v in self.area_kommun.items()}
        )
        if self.default is not None and self.default not in calendars:
            raise ValueError(
                f'`default` was "{self.default}" but is expected to be one of the calendars\' '
                f"kommun codes {sorted(calendars)}."
            )

    @classmethod
    def load(cls, index: str | Path = DEFAULT_LOV_INDEX) -> LovCalendars:
        """Read an index TOML (``default``, ``[kommuner."CODE"] name/file``, ``[areas]``).

        Calendar paths are relative to the index file. See ``data/calendar/lov_calendars.toml``.

        Raises
        ------
        InputError
            If the index or a calendar it names is missing or malformed (one sentence).

        Examples
        --------
        >>> cal = LovCalendars.load()
        >>> cal.default, sorted(cal.calendars), cal.area_kommun["lpo-farsta"]
        ('0123', ['0123', '0180'], '0180')
        """
        index = Path(index)
        if not index.is_file():
            raise InputError(f"Lovkalenderindexet {index} finns inte.")
        try:
            with index.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"Lovkalenderindexet {index} är inte giltig TOML: {exc}.") from None
        kommuner = data.get("kommuner", {})
        areas = data.get("areas", {})
        default = data.get("default")
        if not isinstance(kommuner, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("file"), str) for v in kommuner.values()
        ):
            raise InputError(
                f"Lovkalenderindexet {index}: varje kommun i [kommuner] behöver "
                f'file = "kalender.csv" (och gärna name).'
            )
        if not isinstance(areas, dict) or not all(isinstance(v, str) for v in areas.values()):
            raise InputError(
                f'Lovkalenderindexet {index}: [areas] ska para område och kommunkod, t.ex. "lpo-farsta" = "0180".'
            )
        if default is not None and default not in kommuner:
            raise InputError(
                f'Lovkalenderindexet {index}: default = "{default}" finns inte bland kommunerna '
                f"{', '.join(kommuner) or '(inga)'}."
            )
        read = {code: read_lov_calendar(index.parent / v["file"]) for code, v in kommuner.items()}
        return cls(
            {code: cal.periods for code, cal in read.items()},
            names={code: v.get("name", code) for code, v in kommuner.items()},
            area_kommun=areas,
            default=default,
            coverage={code: cal.coverage for code, cal in read.items()},
        )

    def with_calendar(
        self, code: str, calendar: str | Path | Iterable[tuple], *, name: str | None = None
    ) -> LovCalendars:
        """A new registry with ``code``'s calendar added or replaced (a CSV path or periods).

        Examples
        --------
        >>> cal = LovCalendars({}).with_calendar("0180", [(dt.date(2018, 2, 19),
        ...     dt.date(2018, 2, 23), "Sportlov")], name="Stockholm")
        >>> cal.periods("0180")[0][2], cal.label("0180")
        ('Sportlov', 'Stockholm (0180)')
        """
        code = str(code).strip()
        if not code:
            raise ValueError("`code` was empty; give the kommun code, e.g. 0180.")
        read = (
            read_lov_calendar(calendar)
            if isinstance(calendar, str | Path)
            else LovCalendar(list(calendar))  # bare periods: no coverage limit
        )
        names = {**self.names, code: name} if name else dict(self.names)
        coverage = {k: v for k, v in self.coverage.items() if k != code}
        if read.coverage is not None:
            coverage[code] = read.coverage
        return replace(
            self, calendars={**self.calendars, code: read.periods}, names=names, coverage=coverage
        )

    def with_default(self, code: str) -> LovCalendars:
        """A new registry whose fallback calendar is ``code``'s."""
        return replace(self, default=code)

    def periods(self, code: str) -> tuple[LovPeriod, ...]:
        """The lov periods of kommun ``code`` (KeyError naming the known codes)."""
        try:
            return self.calendars[code]
        except KeyError:
            raise KeyError(
                f"No lov calendar for kommun {code!r}; known: {sorted(self.calendars)}."
            ) from None

    def calendar(self, code: str) -> LovCalendar:
        """Kommun ``code``'s lov periods with the days its calendar covers (KeyError if none).

        Examples
        --------
        >>> default_lov_calendars().calendar("0123").coverage_text()
        '2016-12-22–2019-01-07'
        """
        return LovCalendar(self.periods(code), self.coverage.get(code))

    def calendar_for(
        self, area_ids: Iterable[object], areas: pd.DataFrame | None = None
    ) -> str | None:
        """The kommun code of the first area whose kommun has a calendar (None if none has).

        Examples
        --------
        >>> default_lov_calendars().calendar_for(["lpo-farsta"])
        '0180'
        """
        for code in self.kommun_codes(list(area_ids), areas):
            if code in self.calendars:
                return code
        return None

    def label(self, code: str) -> str:
        """ "Stockholm (0180)" for messages."""
        name = self.names.get(code)
        return f"{name} ({code})" if name and name != code else code

    def kommun_codes(
        self, area_ids: Iterable[object], areas: pd.DataFrame | None = None
    ) -> list[str | None]:
        """The kommun code of each area id (None where it cannot be found).

        For each area, the first rule that gives a code wins:

        1. the area's ``kommun`` column in ``areas`` (when present and filled);
        2. this registry's ``area_kommun`` (the index's ``[areas]`` table);
        3. an id that starts with a four-digit code ("0123", "0180-farsta"), or any id of an
           area of level "kommun";
        4. the area's ``parent_id`` chain in ``areas``;
        5. the areas whose parent it is, when they all give the same code (an LPO inside one
           kommun: lpo-farsta's stadsdelar are all "0180-...").

        Examples
        --------
        >>> import pandas as pd
        >>> areas = pd.DataFrame({"area_id": ["lpo-s", "s-1", "s-2", "k", "k-1"],
        ...     "level": ["lpo", "stadsdel", "stadsdel", "kommun", "kommundel"],
        ...     "parent_id": [None, "lpo-s", "lpo-s", None, "k"],
        ...     "kommun": [None, "0180", "0180", None, None]})
        >>> LovCalendars({}).kommun_codes(["s-1", "lpo-s", "k-1", "0123-x", None], areas)
        ['0180', '0180', 'k', '0123', None]
        """
        own: dict[str, str] = {}
        level: dict[str, str] = {}
        parent: dict[str, str] = {}
        children: dict[str, list[str]] = {}
        if areas is not None:
            _require(areas, schema.AREA_ID)
            ids = areas[schema.AREA_ID].astype(str).tolist()
            for col, store in (
                (KOMMUN_COLUMN, own),
                (schema.LEVEL, level),
                (schema.PARENT_ID, parent),
            ):
                if col in areas.columns:
                    for area, value in zip(ids, areas[col].tolist(), strict=True):
                        if pd.notna(value) and str(value).strip():
                            store[area] = str(value).strip()
            for area, up in parent.items():
                children.setdefault(up, []).append(area)

        def upward(area: str, seen: frozenset[str]) -> str | None:
            if area in own:
                return own[area]
            if area in self.area_kommun:
                return self.area_kommun[area]
            match = _KOMMUN_CODE.match(area)
            if match or level.get(area) == "kommun":
                return match[1] if match else area
            up = parent.get(area)
            return upward(up, seen | {area}) if up and up not in seen else None

        labels, uniques = _factorize(area_ids)
        found = []
        for area in map(str, uniques):
            code = upward(area, frozenset())
            if code is None:
                below = {upward(c, frozenset({area})) for c in children.get(area, [])}
                code = below.pop() if len(below) == 1 else None
            found.append(code)
        return np.array([*found, None], dtype=object)[labels].tolist()  # label -1: missing


def _factorize(values: Iterable[object]) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels (-1 for missing) and the distinct values, in order of appearance."""
    if not isinstance(values, pd.Series | np.ndarray | pd.Index):
        values = list(values)
    return pd.factorize(pd.Series(values, dtype=object))


def _lov_period(period: Sequence) -> LovPeriod:
    start, end = pd.Timestamp(period[0]).date(), pd.Timestamp(period[1]).date()
    return (start, end, str(period[2]) if len(period) > 2 else "lov")


@functools.lru_cache(maxsize=1)
def default_lov_calendars() -> LovCalendars:
    """The demo kommuner's calendars (``data/calendar/lov_calendars.toml``), read once.

    Examples
    --------
    >>> default_lov_calendars().label("0180")
    'Stockholm (0180)'
    """
    return LovCalendars.load(DEFAULT_LOV_INDEX)


def _in_periods(days: np.ndarray, periods: Iterable[Sequence]) -> np.ndarray:
    """True where the datetime64[D] ``days`` fall inside one of the inclusive periods."""
    inside = np.zeros(len(days), dtype=bool)
    for period in periods:
        start, end = np.datetime64(period[0], "D"), np.datetime64(period[1], "D")
        inside |= (days >= start) & (days <= end)
    return inside


@dataclass(frozen=True)
class LovCheck:
    """Which incidents are on lov, which dates no calendar covers, and what to tell the user.

    ``in_lov`` and ``uncovered`` are boolean arrays, one value per incident; an uncovered
    incident is never in lov (nobody can say), and ``notes`` says how many there are and
    from when, per kommun, in Swedish.
    """

    in_lov: np.ndarray
    uncovered: np.ndarray
    notes: tuple[str, ...] = ()


def lov_check(
    frame: pd.DataFrame,
    *,
    areas: pd.DataFrame | None = None,
    calendars: LovCalendars | None = None,
) -> LovCheck:
    """Test each incident's evening date against **its own kommun's** lov calendar.

    Each row's kommun comes from its ``area_id`` (:meth:`LovCalendars.kommun_codes`, using
    ``areas`` for ``kommun`` / ``level`` / ``parent_id``). A frame without ``area_id`` but
    with geometry is placed in ``areas`` first (``geo.io.assign_areas``, in the finest level
    that holds it). Rows whose kommun is unknown or has no calendar use the registry's
    default calendar (none: not lov), with a note naming how many rows. Rows whose date lies
    outside the calendar's coverage (:class:`LovCalendar`) are ``uncovered``: not in lov, and
    a note says how many and from when to when.

    Parameters
    ----------
    frame : DataFrame
        With ``occurred_at`` (tz-aware) and ideally ``area_id``.
    areas : DataFrame, optional
        Boundaries with ``area_id`` (and ``level``, ``parent_id``, ``kommun``).
    calendars : LovCalendars, optional
        Default: :func:`default_lov_calendars` (the demo kommuner).

    Returns
    -------
    LovCheck

    Examples
    --------
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(["2018-02-27 12:00", "2019-03-01 12:00"])
    ...     .tz_localize("Europe/Stockholm"), "area_id": ["0123-jakobsberg"] * 2})
    >>> check = lov_check(f)  # the demo calendar ends 2019-01-07
    >>> check.in_lov.tolist(), check.uncovered.tolist()
    ([True, False], [False, True])
    >>> print(check.notes[0])
    Lov: 1 händelse i Järfälla (0123) från 2019-03-01 till 2019-03-01 ligger utanför lovkalenderns täckning (2016-12-22–2019-01-07); om de var på lov går inte att säga, så de är inte med bland lovhändelserna.
    """
    calendars = default_lov_calendars() if calendars is None else calendars
    if not isinstance(calendars, LovCalendars):
        raise TypeError(f"`calendars` must be a LovCalendars, got {type(calendars).__name__}.")
    _require(frame, schema.OCCURRED_AT)
    days = _evening_dates_wall(_local_wall(frame[schema.OCCURRED_AT])).values.astype(
        "datetime64[D]"
    )
    area_ids = _incident_area_ids(frame, areas)
    labels, uniques = _factorize([] if area_ids is None else area_ids)
    if area_ids is None:
        labels = np.full(len(frame), -1)
    codes = calendars.kommun_codes(uniques, areas)  # one per distinct area id
    inside = np.zeros(len(frame), dtype=bool)
    uncovered = np.zeros(len(frame), dtype=bool)
    unknown = np.ones(len(frame), dtype=bool)
    used = np.full(len(frame), None, dtype=object)  # the calendar each row was judged by
    for code in set(codes) & set(calendars.calendars):
        rows = np.isin(labels, [i for i, c in enumerate(codes) if c == code])
        used[rows] = code
        unknown[rows] = False
    notes: list[str] = []
    if unknown.any():
        fallback = calendars.default
        if fallback is not None:
            used[unknown] = fallback
        missing = sorted({codes[i] for i in np.unique(labels[unknown]) if i >= 0} - {None})
        if fallback is None or missing or len(calendars.calendars) > 1:
            notes.append(_lov_fallback_message(int(unknown.sum()), len(frame), missing, calendars))
    for code in sorted({c for c in used if c is not None}):
        rows = used == code
        cal = calendars.calendar(code)
        inside[rows], covered = cal.classify(days[rows])
        uncovered[rows] = ~covered
        if (~covered).any():
            outside = days[rows][~covered]
            n = int(len(outside))
            notes.append(
                f"Lov: {n} {'händelse' if n == 1 else 'händelser'} i {calendars.label(code)} "
                f"från {outside.min()} till {outside.max()} ligger utanför lovkalenderns "
                f"täckning ({cal.coverage_text()}); om de var på lov går inte att säga, så de "
                "är inte med bland lovhändelserna."
            )
    return LovCheck(inside, uncovered, tuple(notes))


def lov_mask(
    frame: pd.DataFrame,
    *,
    areas: pd.DataFrame | None = None,
    calendars: LovCalendars | None = None,
) -> np.ndarray:
    """True for each incident whose evening date is a lov day **of its own kommun**.

    :func:`lov_check`'s ``in_lov``; its notes (fallback calendars, dates outside a
    calendar's coverage) are issued as :class:`LovCalendarWarning`.

    Parameters
    ----------
    frame : DataFrame
        With ``occurred_at`` (tz-aware) and ideally ``area_id``.
    areas : DataFrame, optional
        Boundaries with ``area_id`` (and ``level``, ``parent_id``, ``kommun``).
    calendars : LovCalendars, optional
        Default: :func:`default_lov_calendars` (the demo kommuner).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(["2018-02-20 12:00"] * 2)
    ...     .tz_localize("Europe/Stockholm"), "area_id": ["0180-farsta", "0123-jakobsberg"]})
    >>> lov_mask(f).tolist()  # Stockholm's sportlov is week 8, Järfälla's week 9
    [True, False]
    """
    check = lov_check(frame, areas=areas, calendars=calendars)
    for note in check.notes:
        warnings.warn(note, LovCalendarWarning, stacklevel=2)
    return check.in_lov


def _incident_area_ids(frame: pd.DataFrame, areas: pd.DataFrame | None) -> list | None:
    """Each row's area id: its ``area_id``, or placed in ``areas`` by location; None."""
    if schema.AREA_ID in frame.columns:
        return frame[schema.AREA_ID].tolist()
    if areas is not None and hasattr(frame, "geometry") and hasattr(areas, "geometry"):
        from geo.io import assign_areas

        if schema.AREA_NAME not in areas.columns:  # assign_areas copies the name too
            areas = areas.assign(**{schema.AREA_NAME: areas[schema.AREA_ID]})
        # Finest level first, then coarser ones for the rest: in the demo Järfälla has
        # kommundelar and Farsta stadsdelar, and each incident needs the finest that holds it.
        present = areas[schema.LEVEL].tolist() if schema.LEVEL in areas.columns else []
        levels = [lvl for lvl in reversed(schema.AREA_LEVELS) if lvl in present] or [None]
        ids = np.full(len(frame), None, dtype=object)
        for level in levels:
            todo = np.flatnonzero(pd.isna(ids))
            if not len(todo):
                break
            placed, _outside = assign_areas(frame.iloc[todo], areas, level=level)
            ids[todo] = placed[schema.AREA_ID].to_numpy(dtype=object)
        return ids
    return None


def _lov_fallback_message(
    unknown: int, total: int, missing: Sequence[str], calendars: LovCalendars
) -> str:
    why = (
        f"kommun {', '.join(missing)} saknar lovkalender"
        if missing
        else "kommunen kunde inte bestämmas från området"
    )
    used = (
        f"lovkalendern för {calendars.label(calendars.default)} användes för dem"
        if calendars.default is not None
        else "de räknas inte som lov"
    )
    return (
        f"Lov: för {unknown} av {total} händelser {why}; {used}. "
        f"Kända kalendrar: {', '.join(calendars.label(c) for c in sorted(calendars.calendars))}."
    )


# --- windows ------------------------------------------------------------------------------


def _frozen_mask(mask: np.ndarray) -> tuple[tuple[bool, ...], ...]:
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (7, 24):
        raise ValueError(f"`hours` must be a 7×24 boolean mask, got shape {mask.shape}.")
    return tuple(tuple(bool(v) for v in row) for row in mask)


@dataclass(frozen=True)
class TimeWindow:
    """A set of clock hours of the week, plus optional day filters.

    ``hours[d, h]`` is True when clock hour ``h`` belongs to the window on evenings of
    weekday ``d`` (Monday = 0). Hours before 06:00 are keyed on the **evening** day:
    ``hours[4, 1]`` (fre, 01) is Saturday 01:00–01:59, "Friday night".

    Parameters
    ----------
    hours : 7×24 array-like of bool
        Stored as a tuple of tuples so the window is hashable (usable as a cache key).
    label : str
        Swedish text shown to users.
    holidays : {"any", "only", "exclude"}
        Keep all days, only Swedish public holidays, or no public holidays (tested on the
        evening date).
    lov : tuple of (start_date, end_date) or None
        If given, only evening dates inside one of these inclusive periods.
    lov_per_kommun : bool
        The lov periods depend on each incident's kommun: :func:`filter_incidents` then
        tests lov with :func:`lov_mask` (each incident against its own kommun's calendar)
        and ``lov`` holds only the fallback periods that :meth:`mask` uses on bare times.

    Examples
    --------
    >>> w = parse_window("fre 22-02")
    >>> times = pd.to_datetime(["2018-03-16 23:30", "2018-03-17 01:59", "2018-03-17 02:00"])
    >>> w.mask(times.tz_localize("Europe/Stockholm")).tolist()
    [True, True, False]
    """

    hours: tuple[tuple[bool, ...], ...]
    label: str
    holidays: str = "any"
    lov: tuple[tuple[dt.date, dt.date], ...] | None = None
    name: str = field(default="", compare=False)
    lov_per_kommun: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hours", _frozen_mask(np.asarray(self.hours)))
        if self.holidays not in _HOLIDAY_CHOICES:
            raise ValueError(
                f'`holidays` was "{self.holidays}" but is expected to be in {_HOLIDAY_CHOICES}.'
            )
        if self.lov_per_kommun and self.lov is None:
            raise ValueError("`lov_per_kommun` needs `lov` (the fallback periods); got None.")
        if self.lov is not None:
            object.__setattr__(
                self,
                "lov",
                tuple((pd.Timestamp(a).date(), pd.Timestamp(b).date()) for a, b in self.lov),
            )

    @property
    def hour_mask(self) -> np.ndarray:
        """The 7×24 boolean array keyed on the evening weekday."""
        return np.array(self.hours, dtype=bool)

    def calendar_mask(self) -> np.ndarray:
        """The 7×24 mask keyed on the calendar weekday of the clock time.

        Ignores the day filters. Used to shade an hour-of-week profile.

        Examples
        --------
        >>> m = parse_window("fre 22-02").calendar_mask()
        >>> bool(m[4, 23]), bool(m[5, 1]), bool(m[4, 1])
        (True, True, False)
        """
        evening = self.hour_mask
        calendar = evening.copy()
        night = slice(0, NIGHT_ENDS_HOUR)
        calendar[:, night] = np.roll(evening[:, night], 1, axis=0)
        return calendar

    def mask(
        self, times: pd.Series | pd.DatetimeIndex | Sequence, *, in_lov: np.ndarray | None = None
    ) -> np.ndarray:
        """True for each time inside the window (vectorised).

        Parameters
        ----------
        times : Series, DatetimeIndex or sequence of tz-aware timestamps
        in_lov : array of bool, optional
            For a window with lov: whether each time is a lov day (e.g. from
            :func:`lov_mask`, per kommun), used instead of the window's own ``lov`` periods.

        Returns
        -------
        numpy.ndarray of bool

        Raises
        ------
        ValueError
            If the times have no time zone.
        """
        wall = _local_wall(times)
        if _all_midnight(wall):
            # Dates without clock times: no hour can be tested, so the window keeps the
            # days it has evenings on (by calendar date); see date_only_note.
            days = wall.normalize().tz_localize(None).values.astype("datetime64[D]")
            keep = self.hour_mask.any(axis=1)[np.asarray(wall.day_of_week)]
        else:
            evenings = _evening_dates_wall(wall)
            keep = self.hour_mask[np.asarray(evenings.day_of_week), np.asarray(wall.hour)]
            days = evenings.values.astype("datetime64[D]")
        if self.holidays != "any":
            on_holiday = _is_holiday(days)
            keep &= on_holiday if self.holidays == "only" else ~on_holiday
        if self.lov is not None:
            if in_lov is None:
                in_lov = _in_periods(days, self.lov)
            elif np.shape(in_lov) != (len(days),):
                raise ValueError(
                    f"`in_lov` has shape {np.shape(in_lov)}; expected one value per time ({len(days)})."
                )
            keep &= np.asarray(in_lov, dtype=bool)
        return keep


def _all_midnight(wall: pd.DatetimeIndex) -> bool:
    return bool(len(wall)) and bool(
        ((wall.hour == 0) & (wall.minute == 0) & (wall.second == 0)).all()
    )


def has_clock_times(times: pd.Series | pd.DatetimeIndex | Sequence) -> bool:
    """False when every time is 00:00 local: the data has dates only, no time of day.

    Files that store only a date (a DBF date field, an export without the hour) give
    00:00 for every incident; hour-of-week profiles, peak hours and time windows then say
    nothing about the hour, and Lägesbild does not pretend they do.

    Examples
    --------
    >>> t = pd.to_datetime(["2012-07-01", "2012-07-02"]).tz_localize("Europe/Stockholm")
    >>> has_clock_times(t), has_clock_times(t + pd.Timedelta(hours=22))
    (False, True)
    """
    if not len(times):
        return True
    return not _all_midnight(_local_wall(times))


def date_only_note(times, window: TimeWindow | str | None) -> str | None:
    """Swedish note when ``window`` limits hours but the data has dates only (else None).

    Examples
    --------
    >>> t = pd.to_datetime(["2012-07-06"]).tz_localize("Europe/Stockholm")
    >>> print(date_only_note(t, "fre,lör 18-03"))
    Filen har bara datum (alla tider är 00:00), så tidsfönstret fre–lör 18–03 väljer bara dagarna (fre, lör), inte timmarna, och inga timmar rekommenderas.
    >>> date_only_note(t, "alla") is None
    True
    """
    if window is None or has_clock_times(times):
        return None
    win = resolve_window(window)
    mask = win.hour_mask
    if mask.all(axis=1)[mask.any(axis=1)].all():
        return None  # whole days only: nothing is lost
    days = [DAY_NAMES[d] for d in np.flatnonzero(mask.any(axis=1))]
    return (
        f"Filen har bara datum (alla tider är 00:00), så tidsfönstret {win.label} väljer bara "
        f"dagarna ({', '.join(days)}), inte timmarna, och inga timmar rekommenderas."
    )


def _span_mask(days: Iterable[int], start_hour: int, end_hour: int) -> np.ndarray:
    """Evening-keyed mask for spans starting on calendar ``days`` at ``start_hour``."""
    mask = np.zeros((7, 24), dtype=bool)
    length = (end_hour - start_hour) % 24 or 24
    for day in days:
        for step in range(length):
            absolute = day * 24 + start_hour + step  # hours since Monday 00:00 of the week
            cal_day, hour = divmod(absolute, 24)
            evening_day = cal_day - 1 if hour < NIGHT_ENDS_HOUR else cal_day
            mask[evening_day % 7, hour] = True
    return mask


_ALL_DAYS = tuple(range(7))
_WEEKDAYS = tuple(range(5))


def _parse_days(text: str, original: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if part == "alla":
            days.extend(_ALL_DAYS)
            continue
        bounds = re.split(r"\s*[-–]\s*", part)
        try:
            idx = [_DAY_ALIASES[b] for b in bounds]
        except KeyError as exc:
            raise ValueError(
                f'Kunde inte tolka tidsfönstret "{original}": okänd dag "{exc.args[0]}" '
                f"(dagar: {', '.join(DAY_NAMES)} eller alla). Skriv t.ex. {_EXAMPLE}."
            ) from None
        if len(idx) == 1:
            days.append(idx[0])
        elif len(idx) == 2:
            first, last = idx
            days.extend((first + k) % 7 for k in range((last - first) % 7 + 1))
        else:
            raise ValueError(
                f'Kunde inte tolka tidsfönstret "{original}": "{part}" är inte en dag eller '
                f"ett dagintervall. Skriv t.ex. {_EXAMPLE}."
            )
    return sorted(set(days))


_SPAN = re.compile(
    r"^(?P<days>[^\d]*?)\s*(?:(?P<start>\d{1,2})(?::00)?\s*[-–]\s*(?P<end>\d{1,2})(?::00)?)?$"
)


def parse_window(text: str) -> TimeWindow:
    """Read a time window written in Swedish.

    The form is ``DAYS HH-HH``: days as abbreviations (``mån tis ons tor fre lör sön``),
    lists (``fre,lör``), ranges (``mån-fre``) or ``alla``; whole clock hours 0–24, the end
    exclusive. An end at or before the start runs past midnight into the next day: the
    named day is the day the span **starts**. Without hours the whole day (00–24) is meant;
    without days, every day. Several spans join with ``;``.

    Parameters
    ----------
    text : str
        For example "fre,lör 18-03", "mån-fre 22-06", "lör 10-14", "alla 18-22".

    Returns
    -------
    TimeWindow

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    ValueError
        In Swedish, naming the text received and an example of the allowed form.

    Examples
    --------
    >>> w = parse_window("fre,lör 18-03")
    >>> w.label
    'fre–lör 18–03'
    >>> int(w.hour_mask.sum())  # 2 evenings × 9 hours (18..23, 00..02)
    18
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str like {_EXAMPLE}, got {type(text).__name__}.")
    spans = [s.strip().lower() for s in text.split(";") if s.strip()]
    if not spans:
        raise ValueError(
            f'Kunde inte tolka tidsfönstret "{text}": det är tomt. Skriv t.ex. {_EXAMPLE}.'
        )
    mask = np.zeros((7, 24), dtype=bool)
    labels = []
    for span in spans:
        match = _SPAN.match(span)
        if match is None or not (match["days"].strip() or match["start"]):
            raise ValueError(
                f'Kunde inte tolka tidsfönstret "{text}": "{span}" ska vara dagar och hela '
                f"timmar (0–24). Skriv t.ex. {_EXAMPLE}."
            )
        days_text = match["days"].strip()
        days = _parse_days(days_text, text) if days_text else list(_ALL_DAYS)
        if not days:
            raise ValueError(
                f'Kunde inte tolka tidsfönstret "{text}": inga dagar. Skriv t.ex. {_EXAMPLE}.'
            )
        if match["start"] is None:
            start, end = 0, 24
        else:
            start, end = int(match["start"]), int(match["end"])
            if start > 23 or end > 24:
                raise ValueError(
                    f'Kunde inte tolka tidsfönstret "{text}": timmen {max(start, end)} finns inte '
                    f"(start 0–23, slut 0–24). Skriv t.ex. {_EXAMPLE}."
                )
            if start == end % 24 and not (start == 0 and end == 24):
                raise ValueError(
                    f'Kunde inte tolka tidsfönstret "{text}": start och slut är samma timme '
                    f"({start}); skriv 0-24 för hela dygnet. Skriv t.ex. {_EXAMPLE}."
                )
        mask |= _span_mask(days, start, end)
        labels.append(f"{_days_label(days)} {start:02d}–{end:02d}")
    return TimeWindow(mask, "; ".join(labels), name=text)


def _days_label(days: Sequence[int]) -> str:
    """ "mån–fre", "fre–lör", "mån, ons", "alla dagar" for weekday numbers."""
    days = sorted(set(days))
    if len(days) == 7:
        return "alla dagar"
    if len(days) >= 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAY_NAMES[days[0]]}–{DAY_NAMES[days[-1]]}"
    return ", ".join(DAY_NAMES[d] for d in days)


def lov_window(
    calendar: str | Path | Iterable[tuple] | None = None, *, hours: TimeWindow | None = None
) -> TimeWindow:
    """A window for the school holidays (lov): per kommun, or from one fixed calendar.

    Parameters
    ----------
    calendar : path, iterable of (start_date, end_date[, label]) or None
        None (default): each incident's own kommun's lov (``lov_per_kommun``; the calendars
        are given to :func:`filter_incidents` as ``lov_calendars``, the demo ones by
        default). A calendar CSV (see :func:`load_lov_calendar`) or periods: these dates for
        every incident, whatever its kommun.
    hours : TimeWindow, optional
        Restrict to these hours (e.g. ``WINDOWS["kväll och natt"]``); all hours by default.

    Returns
    -------
    TimeWindow
        The evening date must fall inside a lov period: the night after the last lov day
        still counts (it started on a lov evening).

    Examples
    --------
    >>> w = lov_window([(dt.date(2018, 2, 26), dt.date(2018, 3, 2), "Sportlov")])
    >>> times = pd.to_datetime(["2018-03-02 23:00", "2018-03-03 02:00", "2018-03-03 12:00"])
    >>> w.mask(times.tz_localize("Europe/Stockholm")).tolist()
    [True, True, False]
    """
    per_kommun = calendar is None
    if per_kommun:
        registry = default_lov_calendars()
        periods = registry.periods(registry.default) if registry.default is not None else []
    elif isinstance(calendar, str | Path):
        periods = load_lov_calendar(calendar)
    else:
        periods = list(calendar)
    spans = tuple((p[0], p[1]) for p in periods)
    base = hours if hours is not None else _ALL_HOURS
    label = "lov" if hours is None else f"lov, {base.label}"
    return TimeWindow(
        base.hours, label, holidays=base.holidays, lov=spans, name="lov", lov_per_kommun=per_kommun
    )


_ALL_HOURS = TimeWindow(np.ones((7, 24), dtype=bool), "hela dygnet", name="alla")


def _named_windows() -> dict[str, TimeWindow]:
    evenings = _span_mask(_ALL_DAYS, 18, 22)
    nights = _span_mask(_ALL_DAYS, 22, 6)
    weekend_nights = _span_mask((4, 5), 18, 6)
    weekdays = np.zeros((7, 24), dtype=bool)
    weekdays[list(_WEEKDAYS)] = True
    return {
        "alla": _ALL_HOURS,
        "kväll": TimeWindow(evenings, "kvällar 18–22", name="kväll"),
        "natt": TimeWindow(nights, "nätter 22–06", name="natt"),
        "kväll och natt": TimeWindow(
            evenings | nights, "kvällar och nätter 18–06", name="kväll och natt"
        ),
        "helgkvällar och helgnätter": TimeWindow(
            weekend_nights,
            "helgkvällar och helgnätter (fre och lör 18–06)",
            name="helgkvällar och helgnätter",
        ),
        "vardagar": TimeWindow(
            weekdays, "vardagar (mån–fre utom helgdagar)", holidays="exclude", name="vardagar"
        ),
        "helgdagar": TimeWindow(
            np.ones((7, 24), dtype=bool),
            "helgdagar (röda dagar, midsommar-, jul- och nyårsafton)",
            holidays="only",
            name="helgdagar",
        ),
    }


class _Windows(Mapping[str, TimeWindow]):
    """Named windows; "lov" (per kommun) reads the demo calendars on first use."""

    def __init__(self) -> None:
        self._fixed = _named_windows()
        self._lov: TimeWindow | None = None

    def __getitem__(self, key: str) -> TimeWindow:
        if key == "lov":
            if self._lov is None:
                self._lov = lov_window()
            return self._lov
        return self._fixed[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._fixed
        yield "lov"

    def __len__(self) -> int:
        return len(self._fixed) + 1


#: Named windows: alla, kväll, natt, kväll och natt, helgkvällar och helgnätter, vardagar,
#: helgdagar, lov (each incident's kommun's lov, see :func:`lov_mask`; on bare times, as in
#: ``WINDOWS["lov"].mask(times)``, the default kommun's calendar: Järfälla in the demo).
WINDOWS: Mapping[str, TimeWindow] = _Windows()


def resolve_window(window: TimeWindow | str) -> TimeWindow:
    """A TimeWindow from a window, a name in :data:`WINDOWS`, or text for :func:`parse_window`.

    Examples
    --------
    >>> resolve_window("natt").label
    'nätter 22–06'
    >>> resolve_window("lör 10-14").label
    'lör 10–14'
    """
    if isinstance(window, TimeWindow):
        return window
    if not isinstance(window, str):
        raise TypeError(
            f"`window` must be a TimeWindow or a name in {list(WINDOWS)}, got {type(window).__name__}."
        )
    key = window.strip().lower()
    if key in WINDOWS:
        return WINDOWS[key]
    try:
        return parse_window(window)
    except ValueError as exc:
        raise ValueError(
            f'Okänt tidsfönster "{window}": välj ett av {", ".join(WINDOWS)} eller skriv egna '
            f"timmar, t.ex. {_EXAMPLE}. ({exc})"
        ) from None


# --- filtering ------------------------------------------------------------------------------


def _as_bound(value, name: str) -> pd.Timestamp | dt.date:
    if isinstance(value, pd.Timestamp | dt.datetime):
        if value.tzinfo is None:
            raise ValueError(
                f"`{name}` was {value} without a time zone; give a date or a tz-aware timestamp."
            )
        return pd.Timestamp(value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f'`{name}` was "{value}" but is expected as a date YYYY-MM-DD.'
            ) from None
    raise TypeError(
        f"`{name}` must be a date, a 'YYYY-MM-DD' string or a tz-aware timestamp, "
        f"got {type(value).__name__}."
    )


def filter_incidents(
    frame: pd.DataFrame,
    *,
    start: dt.date | pd.Timestamp | str | None = None,
    end: dt.date | pd.Timestamp | str | None = None,
    categories: Iterable[str] | None = None,
    area_ids: Iterable[str] | None = None,
    window: TimeWindow | str | None = None,
    areas: pd.DataFrame | None = None,
    lov_calendars: LovCalendars | None = None,
    lov_notes: list[str] | None = None,
) -> pd.DataFrame:
    """Keep the incidents inside a period, categories, areas and time window.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        With ``occurred_at`` (tz-aware), and ``category`` / ``area_id`` when filtering on them.
    start, end : date, 'YYYY-MM-DD' or tz-aware Timestamp, optional
        Inclusive. A date compares with the Stockholm calendar date of ``occurred_at``
        (``end=2017-12-31`` keeps all of New Year's Eve); a timestamp compares exactly.
    categories : iterable of str, optional
        Lägesbild categories (``schema.CATEGORIES``).
    area_ids : iterable of str, optional
        Keep rows whose ``area_id`` is one of these.
    window : TimeWindow or str, optional
        A window, a name in :data:`WINDOWS`, or text for :func:`parse_window`. With "lov"
        (or any window with ``lov_per_kommun``) each incident is tested against its own
        kommun's lov calendar (:func:`lov_mask`).
    areas : DataFrame, optional
        Boundaries (``area_id``, ``level``, ``parent_id``, optional ``kommun``) used only to
        find each incident's kommun for lov; incidents without ``area_id`` are placed in
        them by location.
    lov_calendars : LovCalendars, optional
        The kommuner's lov calendars; default :func:`default_lov_calendars` (the demo ones).
    lov_notes : list, optional
        When given, the lov notes of :func:`lov_check` (fallback calendars, incidents outside
        a calendar's coverage) are appended to it instead of being warned.

    Returns
    -------
    DataFrame
        A new frame of the same type with the kept rows (original index kept); the input is
        never changed.

    Raises
    ------
    ValueError
        For an unknown category (the allowed ones listed), a missing column, naive times or
        an unknown window.

    Warns
    -----
    LovCalendarWarning
        When some incidents' kommun is unknown or has no lov calendar (see :func:`lov_mask`).

    Examples
    --------
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(
    ...     ["2017-03-03 23:00", "2017-03-04 12:00"]).tz_localize("Europe/Stockholm"),
    ...     "category": ["rån", "stöld"]})
    >>> len(filter_incidents(f, window="natt")), len(filter_incidents(f, categories=["stöld"]))
    (1, 1)
    """
    keep = np.ones(len(frame), dtype=bool)
    factor = None
    if start is not None or end is not None or window is not None:
        _require(frame, schema.OCCURRED_AT)
        times = frame[schema.OCCURRED_AT]
        local_dates = None
        for value, name in ((start, "start"), (end, "end")):
            if value is None:
                continue
            bound = _as_bound(value, name)
            if isinstance(bound, pd.Timestamp):
                side = times >= bound if name == "start" else times <= bound
            else:
                if local_dates is None:
                    local_dates = _local_wall(times).normalize().values.astype("datetime64[D]")
                day = np.datetime64(bound, "D")
                side = local_dates >= day if name == "start" else local_dates <= day
            keep &= np.asarray(side, dtype=bool)
        if window is not None:
            chosen = resolve_window(window)
            in_lov = None
            if chosen.lov_per_kommun and lov_notes is not None:
                check = lov_check(frame, areas=areas, calendars=lov_calendars)
                in_lov = check.in_lov
                lov_notes.extend(check.notes)
            elif chosen.lov_per_kommun:
                in_lov = lov_mask(frame, areas=areas, calendars=lov_calendars)
            in_window = chosen.mask(times, in_lov=in_lov)
            share = _span_shares(frame, chosen, in_lov)
            if share is None:
                keep &= in_window
            else:
                # a span counts with the share of its duration inside the window (aoristic)
                spans = np.isfinite(share)
                keep &= np.where(spans, np.nan_to_num(share) > 0, in_window)
                factor = np.where(spans, share, 1.0)
    if categories is not None:
        wanted = [categories] if isinstance(categories, str) else list(categories)
        unknown = [c for c in wanted if c not in schema.CATEGORIES]
        if unknown:
            raise ValueError(
                f"Okänd brottskategori {', '.join(repr(c) for c in unknown)}; "
                f"tillåtna: {', '.join(schema.CATEGORIES)}."
            )
        _require(frame, schema.CATEGORY)
        keep &= frame[schema.CATEGORY].isin(wanted).to_numpy()
    if area_ids is not None:
        _require(frame, schema.AREA_ID)
        wanted_areas = [area_ids] if isinstance(area_ids, str) else [str(a) for a in area_ids]
        keep &= frame[schema.AREA_ID].astype(str).isin(wanted_areas).to_numpy()
    out = frame.loc[keep].copy()
    if factor is not None:
        base = out[schema.WEIGHT].to_numpy(dtype=float) if schema.WEIGHT in out else 1.0
        out[schema.WEIGHT] = base * factor[keep]
    return out


def _span_shares(frame: pd.DataFrame, window: TimeWindow, in_lov) -> np.ndarray | None:
    """Share of each spanned incident inside the window (NaN for moments), or None when no
    row has a span. Spans over ``geo.aoristic.MAX_SPAN`` get 0: their hour is unknown."""
    from geo import aoristic

    if schema.OCCURRED_UNTIL not in frame.columns:
        return None
    _, _, has = aoristic.span_bounds(frame)
    if not has.any():
        return None
    times, weight, rows = aoristic.expand_hours(frame)
    lov = None if in_lov is None else np.asarray(in_lov, dtype=bool)[rows]
    inside = window.mask(times, in_lov=lov)
    share = np.bincount(rows, weights=weight * inside, minlength=len(frame))
    return np.where(has, share, np.nan)


def _require(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        raise ValueError(
            f"The frame has no column `{column}`; it has {', '.join(map(str, frame.columns))}."
        )


# --- hour-of-week profiles --------------------------------------------------------------------


def hour_of_week(
    frame: pd.DataFrame, *, weights: str | Sequence[float] | np.ndarray | None = None
) -> pd.DataFrame:
    """Count incidents per weekday and clock hour.

    An incident with a span (``occurred_until``) is spread evenly over the hours of its
    span (aoristic weights, :mod:`geo.aoristic`); spans longer than ``MAX_SPAN`` (7 days)
    are left out.

    Rows are the **calendar** weekday of the clock time (Saturday 02:00 counts in row
    "lör", column 2), so the table reads left to right in time; :func:`peak_hours` joins
    hours across midnight, so Friday 22:00–Saturday 02:00 reads "fre 22–02". On the autumn
    DST night hour 02 holds both clock hours 02:00–02:59.

    Parameters
    ----------
    frame : DataFrame
        With ``occurred_at`` (tz-aware).
    weights : str, array-like or None
        A column name (e.g. ``"weight"``) or one weight per row; None counts rows.

    Returns
    -------
    DataFrame
        7×24 floats, index ``mån``..``sön``, columns 0..23.

    Examples
    --------
    >>> f = pd.DataFrame({"occurred_at": pd.to_datetime(
    ...     ["2018-03-16 23:30", "2018-03-17 02:00"]).tz_localize("Europe/Stockholm")})
    >>> p = hour_of_week(f)
    >>> p.loc["fre", 23], p.loc["lör", 2], p.to_numpy().sum()
    (np.float64(1.0), np.float64(1.0), np.float64(2.0))
    """
    _require(frame, schema.OCCURRED_AT)
    wall = _local_wall(frame[schema.OCCURRED_AT])
    if weights is None:
        values = np.ones(len(frame))
    elif isinstance(weights, str):
        _require(frame, weights)
        values = frame[weights].to_numpy(dtype=float)
    else:
        values = np.asarray(weights, dtype=float)
        if values.shape != (len(frame),):
            raise ValueError(
                f"`weights` has shape {values.shape}; expected one weight per row ({len(frame)})."
            )
    if schema.OCCURRED_UNTIL in frame.columns and frame[schema.OCCURRED_UNTIL].notna().any():
        # spans spread over their hours; spans over aoristic.MAX_SPAN left out (see there)
        from geo import aoristic

        times, values, _rows = aoristic.expand_hours(frame, values)
        wall = _local_wall(times)
    flat = np.asarray(wall.day_of_week) * 24 + np.asarray(wall.hour)
    counts = np.bincount(flat, weights=values, minlength=168).reshape(7, 24)
    return pd.DataFrame(counts, index=pd.Index(DAY_NAMES, name="weekday"), columns=range(24))


def peak_hours(
    profile: pd.DataFrame,
    *,
    window: TimeWindow | str | None = None,
    block_hours: tuple[int, int] = (2, 4),
    max_blocks: int = 3,
    min_share: float = 0.5,
    keep_share: float = 0.8,
) -> str:
    """The peak hours of an hour-of-week profile as plain Swedish text.

    The block length is the shortest length in ``block_hours`` whose best block holds at
    least ``keep_share`` of what the best block of the longest length holds (a short block
    when the peak is sharp, a long one when it is broad). Then up to ``max_blocks``
    non-overlapping blocks of that length are taken, best first, while each holds at least
    ``min_share`` of the best one. Blocks with the same hours on several days are joined:
    "fre–lör 22–02".

    Parameters
    ----------
    profile : DataFrame
        7×24 from :func:`hour_of_week` (calendar weekday rows).
    window : TimeWindow or str, optional
        Only hours inside this window (its day filters are ignored: the profile has none).
    block_hours : (int, int)
        Shortest and longest block length in hours (1–24).
    max_blocks : int
        How many blocks at most.
    min_share, keep_share : float
        See above.

    Returns
    -------
    str
        For example "fre–lör 22–02"; an empty string when the profile (inside the window)
        holds nothing.

    Examples
    --------
    >>> p = pd.DataFrame(0.0, index=list(DAY_NAMES), columns=range(24))
    >>> p.loc["fre", [22, 23]] = 5; p.loc["lör", [0, 1]] = 5
    >>> p.loc["lör", [22, 23]] = 4; p.loc["sön", [0, 1]] = 4
    >>> peak_hours(p)
    'fre–lör 22–02'
    """
    values = np.asarray(profile, dtype=float)
    if values.shape != (7, 24):
        raise ValueError(f"`profile` must be 7×24 (from hour_of_week), got shape {values.shape}.")
    shortest, longest = block_hours
    if not 1 <= shortest <= longest <= 24:
        raise ValueError(
            f"`block_hours` was {block_hours}; expected (shortest, longest) within 1..24."
        )
    inside = np.ones(168, dtype=bool)
    if window is not None:
        inside = resolve_window(window).calendar_mask().ravel()
        values = np.where(inside.reshape(7, 24), values, 0.0)
    flat = values.ravel()
    if not np.any(flat > 0):
        return ""
    cyclic = np.concatenate([flat, flat[:longest]])
    cumulative = np.concatenate([[0.0], np.cumsum(cyclic)])
    cyclic_in = np.concatenate([inside, inside[:longest]]).astype(float)
    cumulative_in = np.concatenate([[0.0], np.cumsum(cyclic_in)])

    def block_sums(length: int) -> np.ndarray:
        # A block lies wholly inside the window, or it is not a block ("fre 17–20" is not
        # a recommendation for a window that starts at 18).
        sums = cumulative[length : length + 168] - cumulative[:168]
        fits = cumulative_in[length : length + 168] - cumulative_in[:168] == length
        return np.where(fits, sums, -np.inf)

    def fits(length: int) -> bool:
        return bool(np.isfinite(block_sums(length)).any())

    while shortest > 1 and not fits(shortest):
        shortest -= 1  # a window shorter than the shortest block
    while longest > shortest and not fits(longest):
        longest -= 1

    best_long = block_sums(longest).max()
    length = next(
        n for n in range(shortest, longest + 1) if block_sums(n).max() >= keep_share * best_long
    )
    sums = block_sums(length)
    taken = np.zeros(168, dtype=bool)
    blocks: list[tuple[int, int]] = []  # (start hour of week, length)
    top = sums.max()
    for start in np.argsort(-sums, kind="stable"):
        if len(blocks) >= max_blocks or not sums[start] > 0 or sums[start] < min_share * top:
            break
        cover = (start + np.arange(length)) % 168
        if taken[cover].any():
            continue
        taken[cover] = True
        blocks.append((int(start), length))
    by_hours: dict[tuple[int, int], list[int]] = {}
    for start, n in blocks:
        day, hour = divmod(start, 24)
        by_hours.setdefault((hour, (hour + n) % 24), []).append(day)
    order = sorted(
        by_hours.items(), key=lambda item: -max(sums[d * 24 + item[0][0]] for d in item[1])
    )
    parts = [f"{_days_label(days)} {a:02d}–{b:02d}" for (a, b), days in order]
    return ", ".join(parts)
