"""Time windows, evening dates, filters and hour-of-week profiles (geo.timewin)."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import schema
from geo.errors import InputError
from geo.timewin import (
    WINDOWS,
    LovCalendars,
    LovCalendarWarning,
    TimeWindow,
    default_lov_calendars,
    evening_date,
    filter_incidents,
    hour_of_week,
    load_lov_calendar,
    lov_check,
    lov_mask,
    lov_window,
    parse_window,
    peak_hours,
    public_holidays,
    read_lov_calendar,
    resolve_window,
)

SHARED_CALENDAR = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "calendar"
    / "jarfalla_lasarsdata_transcribed.csv"
)


def stockholm(*texts: str) -> pd.Series:
    """Tz-aware Stockholm times from wall-clock strings (unambiguous times only)."""
    return pd.Series(pd.to_datetime(list(texts)).tz_localize(schema.TZ))


def frame_at(times: pd.Series, **columns) -> pd.DataFrame:
    return pd.DataFrame({schema.OCCURRED_AT: times.to_numpy(), **columns})


# --- evening_date ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ("2018-03-16 23:30", dt.date(2018, 3, 16)),  # Friday 23:30 → Friday
        ("2018-03-17 02:00", dt.date(2018, 3, 16)),  # Saturday 02:00 → Friday night
        ("2018-03-17 05:59", dt.date(2018, 3, 16)),
        ("2018-03-17 06:00", dt.date(2018, 3, 17)),  # 06:00 starts the Saturday
        ("2018-03-17 00:00", dt.date(2018, 3, 16)),
    ],
    ids=["fri-2330", "sat-0200", "sat-0559", "sat-0600", "sat-midnight"],
)
def test_evening_date_scalar(wall, expected):
    assert evening_date(pd.Timestamp(wall, tz=schema.TZ)) == expected


def test_evening_date_series_keeps_index_and_converts_utc():
    # 2018-03-17 01:30 UTC is 02:30 in Stockholm (CET, +1): Friday night.
    times = pd.Series(
        pd.to_datetime(["2018-03-17 01:30", "2018-03-17 06:30"], utc=True), index=[7, 9]
    )
    result = evening_date(times)
    assert list(result.index) == [7, 9]
    assert list(result) == [dt.date(2018, 3, 16), dt.date(2018, 3, 17)]


def test_evening_date_refuses_naive_time():
    with pytest.raises(ValueError, match="saknar tidszon"):
        evening_date(pd.Timestamp("2018-03-17 02:00"))
    with pytest.raises(ValueError, match="saknar tidszon"):
        evening_date(pd.Series(pd.to_datetime(["2018-03-17 02:00"])))


# --- DST -------------------------------------------------------------------------------------


def test_spring_forward_night():
    # 2018-03-25 (Sunday) 02:00 CET jumps to 03:00 CEST; the night is Saturday's.
    times = pd.Series(
        pd.to_datetime(["2018-03-25 00:59:00Z", "2018-03-25 01:00:00Z", "2018-03-25 03:59:00Z"])
    ).dt.tz_convert(schema.TZ)  # 01:59 CET, 03:00 CEST, 05:59 CEST
    assert [t.hour for t in times] == [1, 3, 5]
    assert list(evening_date(times)) == [dt.date(2018, 3, 24)] * 3
    # "lör 18-03" ends before clock hour 03: 01:59 in, 03:00 out.
    assert parse_window("lör 18-03").mask(times).tolist() == [True, False, False]
    assert WINDOWS["natt"].mask(times).tolist() == [True, True, True]


def test_autumn_back_night_counts_both_hours_two():
    # 2018-10-28 (Sunday) 03:00 CEST goes back to 02:00 CET: wall hour 02 happens twice.
    times = pd.Series(
        pd.to_datetime(["2018-10-28 00:30:00Z", "2018-10-28 01:30:00Z", "2018-10-28 02:30:00Z"])
    ).dt.tz_convert(schema.TZ)  # 02:30 CEST, 02:30 CET, 03:30 CET
    assert [t.hour for t in times] == [2, 2, 3]
    assert parse_window("lör 22-03").mask(times).tolist() == [True, True, False]
    profile = hour_of_week(frame_at(times))
    assert profile.loc["sön", 2] == 2.0  # both 02:30s in one clock hour
    assert profile.to_numpy().sum() == 3.0


# --- parse_window ---------------------------------------------------------------------------


def _hours_of(window: TimeWindow) -> set[tuple[str, int]]:
    days, hours = np.nonzero(window.hour_mask)
    names = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")
    return {(names[d], int(h)) for d, h in zip(days, hours, strict=True)}


@pytest.mark.parametrize(
    ("text", "expected_hours", "label"),
    [
        ("lör 10-14", {("lör", h) for h in (10, 11, 12, 13)}, "lör 10–14"),
        # Night hours are keyed on the evening day: Saturday 00..02 sits in row "fre".
        (
            "fre,lör 18-03",
            {(d, h) for d in ("fre", "lör") for h in (*range(18, 24), 0, 1, 2)},
            "fre–lör 18–03",
        ),
        (
            "mån-fre 22-06",
            {
                (d, h)
                for d in ("mån", "tis", "ons", "tor", "fre")
                for h in (22, 23, 0, 1, 2, 3, 4, 5)
            },
            "mån–fre 22–06",
        ),
        # A span starting at 04 on Monday is Monday morning: clock hours 04, 05 belong to
        # Sunday's evening, 06 and 07 to Monday.
        ("mån 04-08", {("sön", 4), ("sön", 5), ("mån", 6), ("mån", 7)}, "mån 04–08"),
        (
            "alla 18-22",
            {
                (d, h)
                for d in ("mån", "tis", "ons", "tor", "fre", "lör", "sön")
                for h in range(18, 22)
            },
            "alla dagar 18–22",
        ),
        ("sön", {("sön", h) for h in range(6, 24)} | {("lör", h) for h in range(6)}, "sön 00–24"),
        ("fredag 22:00-02:00", {("fre", 22), ("fre", 23), ("fre", 0), ("fre", 1)}, "fre 22–02"),
        (
            "mån, ons 8-9; lör 10–11",
            {("mån", 8), ("ons", 8), ("lör", 10)},
            "mån, ons 08–09; lör 10–11",
        ),
    ],
    ids=[
        "day",
        "weekend-nights",
        "weekday-nights",
        "early-morning",
        "every-day",
        "whole-day",
        "long-names",
        "two-spans",
    ],
)
def test_parse_window(text, expected_hours, label):
    window = parse_window(text)
    assert _hours_of(window) == expected_hours
    assert window.label == label


def test_parse_window_friday_night_example():
    # "fre,lör 18-03": Friday 18:00–Saturday 03:00 and Saturday 18:00–Sunday 03:00.
    times = stockholm(
        "2018-03-16 17:59",
        "2018-03-16 18:00",
        "2018-03-17 02:59",
        "2018-03-17 03:00",
        "2018-03-17 12:00",
        "2018-03-17 23:00",
        "2018-03-18 02:00",
        "2018-03-18 18:00",
    )
    expected = [False, True, True, False, False, True, True, False]
    assert parse_window("fre,lör 18-03").mask(times).tolist() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fredagkväll 18-22", 'okänd dag "fredagkväll"'),
        ("fre 25-03", "timmen 25 finns inte"),
        ("fre 18-18", "samma timme"),
        ("fre 18.30-22", "hela timmar"),
        ("", "det är tomt"),
        ("fre-lör-sön 18-22", "inte en dag eller ett dagintervall"),
    ],
    ids=["unknown-day", "hour-25", "empty-span", "minutes", "empty", "bad-range"],
)
def test_parse_window_errors_name_text_and_example(text, message):
    with pytest.raises(ValueError, match=message) as info:
        parse_window(text)
    assert f'"{text}"' in str(info.value)
    assert '"fre,lör 18-03"' in str(info.value)


def test_parse_window_type_error():
    with pytest.raises(TypeError, match="must be a str"):
        parse_window(18)


def test_time_window_validates_shape_and_holidays():
    with pytest.raises(ValueError, match="7×24 boolean mask"):
        TimeWindow(np.ones((7, 23), dtype=bool), "x")
    with pytest.raises(ValueError, match='`holidays` was "some"'):
        TimeWindow(np.ones((7, 24), dtype=bool), "x", holidays="some")


def test_time_window_is_hashable_and_equal_by_content():
    assert parse_window("fre 18-22") == parse_window("fredag 18-22")
    assert len({parse_window("fre 18-22"), parse_window("fredag 18-22")}) == 1


def test_calendar_mask_moves_night_hours_to_the_next_day():
    mask = parse_window("sön 23-02").calendar_mask()
    # Sunday 23:00 and Monday 00:00, 01:00 (the week wraps around).
    assert set(zip(*np.nonzero(mask), strict=True)) == {(6, 23), (0, 0), (0, 1)}


# --- named windows ------------------------------------------------------------------------------

# Hand-made week 2018-03-12 (Mon) .. 2018-03-18 (Sun); no holidays that week.
WEEK = stockholm(
    "2018-03-12 12:00",  # mån dag
    "2018-03-12 19:00",  # mån kväll
    "2018-03-13 01:00",  # mån natt
    "2018-03-16 21:59",  # fre kväll
    "2018-03-17 05:59",  # fre natt
    "2018-03-17 06:00",  # lör morgon
    "2018-03-17 22:00",  # lör natt
    "2018-03-18 03:00",  # lör natt
    "2018-03-18 18:00",  # sön kväll
    "2018-03-19 02:00",  # sön natt (Monday 02:00)
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alla", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        ("kväll", [0, 1, 0, 1, 0, 0, 0, 0, 1, 0]),
        ("natt", [0, 0, 1, 0, 1, 0, 1, 1, 0, 1]),
        ("kväll och natt", [0, 1, 1, 1, 1, 0, 1, 1, 1, 1]),
        ("helgkvällar och helgnätter", [0, 0, 0, 1, 1, 0, 1, 1, 0, 0]),
        # Friday night (Sat 05:59) still belongs to Friday, a weekday; Monday 02:00 to Sunday.
        ("vardagar", [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]),
        ("helgdagar", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_named_windows_on_a_hand_made_week(name, expected):
    assert WINDOWS[name].mask(WEEK).astype(int).tolist() == expected


def test_helgdagar_and_vardagar_around_christmas_and_midsummer():
    times = stockholm(
        "2018-12-24 15:00",  # julafton (de facto holiday)
        "2018-12-25 03:00",  # the night after julafton belongs to julafton
        "2018-12-27 12:00",  # an ordinary Thursday
        "2018-06-22 23:00",  # midsommarafton (Friday)
        "2018-06-06 12:00",  # nationaldagen (Wednesday)
        "2018-03-31 20:00",  # påskafton: not included (documented)
    )
    assert WINDOWS["helgdagar"].mask(times).tolist() == [True, True, False, True, True, False]
    # vardagar: Mon–Fri evenings except holidays → only the Thursday.
    assert WINDOWS["vardagar"].mask(times).tolist() == [False, False, True, False, False, False]


def test_public_holidays_named_in_swedish():
    days = public_holidays([2018])
    assert days[dt.date(2018, 6, 22)] == "Midsommarafton"
    assert days[dt.date(2018, 12, 31)] == "Nyårsafton"
    assert dt.date(2018, 3, 31) not in days  # påskafton is left out
    assert public_holidays([]) == {}


# --- lov --------------------------------------------------------------------------------------


def test_lov_window_evening_rule_and_hours():
    sportlov = [(dt.date(2018, 2, 26), dt.date(2018, 3, 2), "Sportlov")]
    times = stockholm(
        "2018-02-25 23:00",
        "2018-02-26 12:00",
        "2018-03-02 23:00",
        "2018-03-03 02:00",
        "2018-03-03 12:00",
    )
    assert lov_window(sportlov).mask(times).tolist() == [False, True, True, True, False]
    evenings = lov_window(sportlov, hours=WINDOWS["kväll och natt"])
    assert evenings.mask(times).tolist() == [False, False, True, True, False]
    assert evenings.label == "lov, kvällar och nätter 18–06"


@pytest.mark.skipif(not SHARED_CALENDAR.is_file(), reason="shared Järfälla calendar absent")
def test_lov_with_the_shared_jarfalla_calendar():
    periods = load_lov_calendar(SHARED_CALENDAR)
    # lov and lovdag rows: 1 + 3 + 1 + 3 + 4 + 1 + 4 = 17 over the seven terms (studiedag,
    # term_start and term_end rows skipped), plus the 5 gaps between consecutive terms:
    # HT19→VT20, VT20→HT20, HT20→VT21 (VT21→VT24 is not consecutive), VT24→HT24, HT24→VT25.
    assert len(periods) == 22
    assert periods[0] == (dt.date(2019, 10, 28), dt.date(2019, 11, 1), "Läslov vecka 44")
    window = lov_window(SHARED_CALENDAR)
    times = stockholm(
        "2020-02-24 10:00",  # sportlov 2020, Monday
        "2020-02-29 01:00",  # Friday 28th's night: still sportlov
        "2020-02-29 10:00",  # Saturday after sportlov
        "2020-05-22 20:00",  # lovdag
        "2020-02-12 12:00",  # studiedag: not lov
    )
    assert window.mask(times).tolist() == [True, True, False, True, False]


@pytest.mark.skipif(not SHARED_CALENDAR.is_file(), reason="shared Järfälla calendar absent")
@pytest.mark.parametrize(
    ("when", "in_lov", "covered"),
    [
        ("2019-12-27 12:00", True, True),  # jullov: HT2019 ends 12-19, VT2020 starts 01-07
        ("2020-01-02 21:00", True, True),
        ("2020-01-07 12:00", False, True),  # first day of VT2020
        ("2020-07-01 12:00", True, True),  # sommarlov: VT2020 ends 06-11, HT2020 starts 08-20
        ("2020-06-11 12:00", False, True),  # läsårsavslutning is a school day
        ("2020-02-25 12:00", True, True),  # sportlov, a row of its own
        ("2020-02-12 12:00", False, True),  # studiedag: not lov
        ("2019-06-01 12:00", False, False),  # before HT2019: nothing known
        ("2022-03-01 12:00", False, False),  # between VT2021 and VT2024: terms missing
        ("2025-07-01 12:00", False, False),  # after VT2025's end
    ],
    ids=["jullov-dec", "jullov-jan", "term-start", "sommarlov", "term-end", "sportlov",
         "studiedag", "before", "gap-2021-2024", "after"],
)  # fmt: skip
def test_real_jarfalla_calendar_gaps_are_lov_and_coverage_is_known(when, in_lov, covered):
    cal = read_lov_calendar(SHARED_CALENDAR)
    day = np.array([when[:10]], dtype="datetime64[D]")
    assert [m.tolist() for m in cal.classify(day)] == [[in_lov], [covered]]


@pytest.mark.skipif(not SHARED_CALENDAR.is_file(), reason="shared Järfälla calendar absent")
def test_real_jarfalla_calendar_reports_incidents_outside_its_coverage():
    registry = LovCalendars({}).with_calendar("0123", SHARED_CALENDAR, name="Järfälla")
    incidents = lov_frame(
        ("2019-12-27 12:00", "0123-j"),  # jullov
        ("2020-03-10 12:00", "0123-j"),  # a school day
        ("2019-03-01 12:00", "0123-j"),  # before the calendar: 3 rows from 2019-03-01
        ("2019-05-05 12:00", "0123-j"),
        ("2022-01-02 12:00", "0123-j"),  # between VT2021 and VT2024
    )
    check = lov_check(incidents, calendars=registry)
    assert check.in_lov.tolist() == [True, False, False, False, False]
    assert check.uncovered.tolist() == [False, False, True, True, True]
    (note,) = check.notes
    assert "3 händelser i Järfälla (0123) från 2019-03-01 till 2022-01-02" in note
    assert "2019-08-22–2021-06-11, 2024-01-08–2025-06-12" in note
    notes: list[str] = []
    kept = filter_incidents(incidents, window="lov", lov_calendars=registry, lov_notes=notes)
    assert kept.index.tolist() == [0] and notes == [note]  # returned, not warned
    with pytest.warns(LovCalendarWarning, match="3 händelser i Järfälla"):
        lov_mask(incidents, calendars=registry)


def test_demo_calendar_coverage_ends_with_its_last_jullov():
    # 222 Järfälla incidents of 2019 used to be "not lov" in silence; now they are reported.
    incidents = lov_frame(("2019-01-07 12:00", "0123-j"), ("2019-01-08 12:00", "0123-j"))
    check = lov_check(incidents)
    assert check.in_lov.tolist() == [True, False]
    assert check.uncovered.tolist() == [False, True]
    assert "1 händelse i Järfälla (0123) från 2019-01-08" in check.notes[0]


def test_gap_lov_needs_consecutive_terms_with_start_and_end(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_text(
        "school_term,date_start,date_end,kind,label_sv,source_url\n"
        "VT2020,2020-01-07,2020-01-07,term_start,Start,x\n"
        "VT2020,2020-06-11,2020-06-11,term_end,Slut,x\n"
        "HT2020,2020-08-20,2020-08-20,term_start,Start,x\n"  # no term_end: no jullov after
        "VT2021,2021-01-07,2021-01-07,term_start,Start,x\n"
        "VT2021,2021-06-11,2021-06-11,term_end,Slut,x\n"
        "VT2023,2023-01-09,2023-01-09,term_start,Start,x\n",  # VT2021 → VT2023: a hole
        encoding="utf-8",
    )
    cal = read_lov_calendar(path)
    # sommarlov 2020: 2020-06-12 .. 2020-08-19 (69 days)
    assert cal.periods == ((dt.date(2020, 6, 12), dt.date(2020, 8, 19), "Sommarlov"),)
    assert cal.coverage == (
        (dt.date(2020, 1, 7), dt.date(2020, 8, 20)),
        (dt.date(2021, 1, 7), dt.date(2021, 6, 11)),
        (dt.date(2023, 1, 9), dt.date(2023, 1, 9)),
    )


def test_load_lov_calendar_errors(tmp_path):
    with pytest.raises(InputError, match="finns inte"):
        load_lov_calendar(tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("term,start,slut\nHT,2019-01-01,2019-01-02\n", encoding="utf-8")
    with pytest.raises(InputError, match="saknar kolumnerna date_start, date_end, kind"):
        load_lov_calendar(bad)
    bad.write_text(
        "school_term,date_start,date_end,kind,label_sv,source_url\n"
        "HT,2019-01-01,2019-01-02,term_start,x,y\n"
        "HT,2019-13-01,2019-13-05,lov,x,y\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="rad 3: datumet"):
        load_lov_calendar(bad)
    bad.write_text(
        "school_term,date_start,date_end,kind,label_sv,source_url\nHT,2019-01-05,2019-01-02,lov,x,y\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="rad 2: slutdatum 2019-01-02 före startdatum"):
        load_lov_calendar(bad)


def test_windows_lists_lov_name():
    assert list(WINDOWS) == [
        "alla",
        "kväll",
        "natt",
        "kväll och natt",
        "helgkvällar och helgnätter",
        "vardagar",
        "helgdagar",
        "lov",
    ]


# --- filter_incidents ---------------------------------------------------------------------------


@pytest.fixture
def incidents() -> pd.DataFrame:
    return frame_at(
        stockholm(
            "2016-12-31 23:30",
            "2017-01-01 00:30",
            "2017-06-10 23:00",
            "2017-12-31 23:59",
            "2018-01-01 00:01",
        ),
        category=["rån", schema.VIOLENCE, schema.VIOLENCE, "stöld", schema.VIOLENCE],
        area_id=["a", "a", "b", "b", "a"],
    )


def test_filter_by_inclusive_dates(incidents):
    kept = filter_incidents(incidents, start=dt.date(2017, 1, 1), end="2017-12-31")
    assert kept.index.tolist() == [1, 2, 3]  # calendar dates, both ends included


def test_filter_by_timestamps(incidents):
    kept = filter_incidents(incidents, start=pd.Timestamp("2017-01-01 00:30", tz=schema.TZ))
    assert kept.index.tolist() == [1, 2, 3, 4]


def test_filter_by_category_area_and_window_never_mutates(incidents):
    before = incidents.copy()
    kept = filter_incidents(
        incidents, categories=[schema.VIOLENCE], area_ids=["a"], window="kväll och natt"
    )
    assert kept.index.tolist() == [1, 4]
    pd.testing.assert_frame_equal(incidents, before)
    kept.loc[1, "category"] = "x"
    pd.testing.assert_frame_equal(incidents, before)


def test_filter_with_custom_window_text(incidents):
    # Sunday 2017-12-31 23:59 and Monday 2018-01-01 00:01 are the "sön 23-01" times.
    assert filter_incidents(incidents, window="sön 23-01").index.tolist() == [3, 4]
    assert filter_incidents(incidents, window=parse_window("sön 23-01")).index.tolist() == [3, 4]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"categories": ["mord"]},
            ValueError,
            "Okänd brottskategori 'mord'; tillåtna: våld på offentlig plats",
        ),
        ({"window": "ibland"}, ValueError, 'Okänt tidsfönster "ibland": välj ett av alla, kväll'),
        ({"window": 3}, TypeError, "must be a TimeWindow"),
        ({"start": "1 jan"}, ValueError, '`start` was "1 jan"'),
        ({"end": pd.Timestamp("2017-01-01")}, ValueError, "without a time zone"),
        ({"start": 2017}, TypeError, "`start` must be a date"),
    ],
    ids=["category", "window-name", "window-type", "start-text", "naive-end", "start-type"],
)
def test_filter_errors(incidents, kwargs, error, message):
    with pytest.raises(error, match=message):
        filter_incidents(incidents, **kwargs)


def test_filter_missing_column(incidents):
    with pytest.raises(ValueError, match="no column `area_id`"):
        filter_incidents(incidents.drop(columns="area_id"), area_ids=["a"])


def test_resolve_window_accepts_names_case_insensitively():
    assert resolve_window(" Natt ") is WINDOWS["natt"]


# --- hour_of_week and peak_hours ------------------------------------------------------------------


def test_hour_of_week_counts_and_weights():
    f = frame_at(
        stockholm("2018-03-16 23:30", "2018-03-17 02:00", "2018-03-17 02:10"),
        weight=[1.0, 2.0, 0.5],
    )
    counts = hour_of_week(f)
    assert counts.shape == (7, 24)
    assert counts.index.tolist() == ["mån", "tis", "ons", "tor", "fre", "lör", "sön"]
    assert counts.loc["lör", 2] == 2.0
    weighted = hour_of_week(f, weights="weight")
    assert weighted.loc["lör", 2] == 2.5  # 2.0 + 0.5
    assert hour_of_week(f, weights=[1, 1, 1]).to_numpy().sum() == 3
    with pytest.raises(ValueError, match="one weight per row"):
        hour_of_week(f, weights=[1, 2])


def _profile(**cells: float) -> pd.DataFrame:
    p = pd.DataFrame(
        0.0, index=["mån", "tis", "ons", "tor", "fre", "lör", "sön"], columns=range(24)
    )
    for key, value in cells.items():
        day, hour = key.split("_")
        p.loc[day, int(hour)] = value
    return p


@pytest.mark.parametrize(
    ("cells", "kwargs", "expected"),
    [
        # Sharp peak: best 2 h = 20 of best 4 h = 22 (≥ 80 %) → 2-hour block.
        ({"fre_23": 10, "lör_0": 10, "fre_22": 1, "lör_1": 1}, {}, "fre 23–01"),
        # Flat 4 h: 3 h holds 15 of 20 (< 80 %) → 4-hour block on two days, joined.
        (
            {
                "fre_22": 5,
                "fre_23": 5,
                "lör_0": 5,
                "lör_1": 5,
                "lör_22": 4,
                "lör_23": 4,
                "sön_0": 4,
                "sön_1": 4,
            },
            {},
            "fre–lör 22–02",
        ),
        # The week wraps: Sunday 23 + Monday 00.
        ({"sön_23": 3, "mån_0": 3}, {}, "sön 23–01"),
        # A second block below half of the first is left out (2 < 0.5 × 10).
        ({"tis_12": 5, "tis_13": 5, "ons_12": 1, "ons_13": 1}, {}, "tis 12–14"),
        # Inside a window only: the Tuesday noon peak is outside "kväll".
        ({"tis_12": 50, "tis_13": 50, "ons_19": 2, "ons_20": 2}, {"window": "kväll"}, "ons 19–21"),
        ({}, {}, ""),
    ],
    ids=["sharp", "flat-joined", "wraps-week", "min-share", "window", "empty"],
)
def test_peak_hours(cells, kwargs, expected):
    assert peak_hours(_profile(**cells), **kwargs) == expected


def test_peak_hours_errors():
    with pytest.raises(ValueError, match="must be 7×24"):
        peak_hours(pd.DataFrame(np.zeros((7, 23))))
    with pytest.raises(ValueError, match=r"`block_hours` was \(4, 2\)"):
        peak_hours(_profile(), block_hours=(4, 2))


DEMO_CALENDAR = (
    Path(__file__).resolve().parents[1] / "data" / "calendar" / "jarfalla_lov_2017_2018.csv"
)


@pytest.mark.skipif(not DEMO_CALENDAR.is_file(), reason="demo lov calendar not generated yet")
def test_named_lov_window_uses_the_demo_calendar():
    window = WINDOWS["lov"]
    assert window.lov == tuple((a, b) for a, b, _ in load_lov_calendar(DEMO_CALENDAR))
    # Every lov start date is inside the window at noon.
    starts = [a for a, _ in window.lov]
    noon = pd.Series([pd.Timestamp(f"{d} 12:00", tz=schema.TZ) for d in starts])
    assert window.mask(noon).all()


def test_empty_frame_profile_is_all_zero():
    empty = frame_at(stockholm("2018-01-01 12:00")).iloc[:0]
    assert hour_of_week(empty).to_numpy().sum() == 0
    assert filter_incidents(empty, window="natt").empty


# --- lov per kommun ---------------------------------------------------------------------------

# Demo calendars: Stockholm (0180) sportlov 2018-02-19..23 (week 8), Järfälla (0123)
# 2018-02-26..03-02 (week 9). Tuesdays at noon in each week:
WEEK_8, WEEK_9 = "2018-02-20 12:00", "2018-02-27 12:00"


def lov_frame(*rows: tuple[str, str | None]) -> pd.DataFrame:
    """Incidents from (wall time, area_id) pairs."""
    return frame_at(stockholm(*(t for t, _ in rows)), area_id=[a for _, a in rows])


@pytest.mark.parametrize(
    ("when", "expected"),
    [(WEEK_8, ["0180-farsta"]), (WEEK_9, ["0123-jakobsberg"])],
    ids=["week8-farsta-only", "week9-jarfalla-only"],
)
def test_lov_uses_each_incidents_own_kommun(when, expected):
    incidents = lov_frame((when, "0180-farsta"), (when, "0123-jakobsberg"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every kommun is known: no warning
        kept = filter_incidents(incidents, window="lov")
    assert kept[schema.AREA_ID].tolist() == expected


def test_lov_per_kommun_with_hours_and_the_lpo_alias():
    # lpo-farsta carries no kommun code; the index's [areas] table says 0180.
    incidents = lov_frame(
        ("2018-02-23 23:00", "lpo-farsta"),  # Friday of week 8, evening: in
        ("2018-02-24 01:00", "lpo-farsta"),  # the same Friday night: in
        ("2018-02-24 12:00", "lpo-farsta"),  # Saturday after sportlov: out
        ("2018-02-23 23:00", "0123"),  # Järfälla has no lov that Friday: out
    )
    window = lov_window(hours=WINDOWS["kväll och natt"])
    assert window.lov_per_kommun and window.label == "lov, kvällar och nätter 18–06"
    assert filter_incidents(incidents, window=window).index.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("area_id", "expected"),
    [
        ("s-own", "0180"),  # 1. own kommun column
        ("lpo-farsta", "0180"),  # 2. the registry's area table
        ("0123", "0123"),  # 3. four-digit code
        ("0123-jakobsberg", "0123"),  # 3. code prefix
        ("k", "k"),  # 3. level kommun
        ("k-del", "k"),  # 4. parent chain
        ("lpo-one", "0180"),  # 5. all children agree
        ("lpo-two", None),  # 5. children in two kommuner
        ("loop-a", None),  # parent cycle ends
        ("nowhere", None),
    ],
    ids=[
        "kommun-col",
        "alias",
        "code",
        "prefix",
        "level",
        "parent",
        "children",
        "mixed",
        "cycle",
        "unknown",
    ],
)
def test_kommun_codes_rules(area_id, expected):
    areas = pd.DataFrame(
        {
            "area_id": ["s-own", "k", "k-del", "lpo-one", "0180-a", "0180-b", "lpo-two", "0123-c", "0180-d", "loop-a", "loop-b"],
            "level": ["stadsdel", "kommun", "kommundel", "lpo", "stadsdel", "stadsdel", "lpo", "stadsdel", "stadsdel", "lpo", "lpo"],
            "parent_id": [None, None, "k", None, "lpo-one", "lpo-one", None, "lpo-two", "lpo-two", "loop-b", "loop-a"],
            "kommun": ["0180", None, None, None, None, None, None, None, None, None, None],
        }
    )  # fmt: skip
    registry = LovCalendars({}, area_kommun={"lpo-farsta": "0180"})
    assert registry.kommun_codes([area_id], areas) == [expected]


def test_lov_uses_the_kommun_found_from_the_areas_parents():
    # An LPO without code in its id, whose stadsdelar are all 0180: Stockholm's calendar.
    areas = pd.DataFrame(
        {"area_id": ["lpo-s", "0180-x"], "level": ["lpo", "stadsdel"], "parent_id": [None, "lpo-s"]}
    )
    incidents = lov_frame((WEEK_8, "lpo-s"), (WEEK_9, "lpo-s"))
    kept = filter_incidents(incidents, window="lov", areas=areas)
    assert kept.index.tolist() == [0]


def test_lov_places_incidents_without_area_id_in_the_areas():
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    areas = gpd.GeoDataFrame(
        # Two levels, as in the demo: Farsta has stadsdelar, Järfälla kommundelar.
        {"area_id": ["0180-a", "0123-b"], "level": ["stadsdel", "kommundel"]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
        crs=3006,
    )
    incidents = gpd.GeoDataFrame(
        {schema.OCCURRED_AT: stockholm(WEEK_8, WEEK_8).to_numpy()},
        geometry=shapely.points([5, 15], [5, 5]),
        crs=3006,
        index=[7, 7],  # a duplicated index does not confuse the placement
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # both incidents placed: no fallback
        kept = filter_incidents(incidents, window="lov", areas=areas)
    assert kept.geometry.x.tolist() == [5.0]  # Stockholm (week 8) yes, Järfälla no
    assert schema.AREA_ID not in kept.columns  # the input's columns, unchanged


def test_lov_without_kommun_falls_back_to_the_default_and_warns():
    incidents = frame_at(stockholm(WEEK_8, WEEK_9))  # no area_id at all
    with pytest.warns(LovCalendarWarning, match=r"2 av 2 händelser kommunen kunde inte"):
        kept = filter_incidents(incidents, window="lov")
    assert kept.index.tolist() == [1]  # the default (Järfälla, week 9)
    assert WINDOWS["lov"].mask(incidents[schema.OCCURRED_AT]).tolist() == [False, True]


def test_lov_for_a_kommun_without_calendar_warns_and_uses_the_default():
    incidents = lov_frame((WEEK_8, "0999-x"), (WEEK_9, "0999-x"), (WEEK_8, "0180-y"))
    with pytest.warns(
        LovCalendarWarning,
        match=r"2 av 3 händelser kommun 0999 saknar lovkalender; lovkalendern för Järfälla \(0123\)",
    ):
        kept = filter_incidents(incidents, window="lov")
    assert kept.index.tolist() == [1, 2]


def test_lov_without_default_leaves_unknown_kommuner_out():
    registry = LovCalendars(
        {"0180": load_lov_calendar(DEMO_CALENDAR.with_name("stockholm_lov_2017_2018.csv"))}
    )
    incidents = lov_frame((WEEK_8, "0180-a"), (WEEK_8, None))
    with pytest.warns(LovCalendarWarning, match="de räknas inte som lov"):
        assert lov_mask(incidents, calendars=registry).tolist() == [True, False]


def test_single_calendar_without_areas_is_used_silently():
    registry = LovCalendars(
        {"0180": [(dt.date(2018, 2, 19), dt.date(2018, 2, 23))]}, default="0180"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = lov_mask(frame_at(stockholm(WEEK_8, WEEK_9)), calendars=registry)
    assert mask.tolist() == [True, False]


@pytest.mark.skipif(not SHARED_CALENDAR.is_file(), reason="shared Järfälla calendar absent")
def test_shared_jarfalla_calendar_loads_into_the_registry():
    registry = default_lov_calendars().with_calendar("0123", SHARED_CALENDAR, name="Järfälla")
    assert registry.periods("0123")[0][:2] == (dt.date(2019, 10, 28), dt.date(2019, 11, 1))
    # Sportlov 2020 is week 9 in Järfälla (2020-02-24..28); Stockholm keeps its own calendar.
    incidents = lov_frame(("2020-02-25 12:00", "0123-jakobsberg"), ("2020-02-25 12:00", "0180-a"))
    with pytest.warns(LovCalendarWarning, match="1 händelse i Stockholm .* utanför"):
        # Stockholm's demo calendar ends 2019-01-07: 2020 is outside it, and said so.
        assert lov_mask(incidents, calendars=registry).tolist() == [True, False]
    assert default_lov_calendars().periods("0123")[0][0] == dt.date(2016, 12, 22)  # unchanged


def test_load_an_index_with_relative_paths(tmp_path):
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "x.csv").write_text(
        "school_term,date_start,date_end,kind,label_sv,source_url\n"
        "VT2018,2018-02-19,2018-02-23,lov,Sportlov,x\n",
        encoding="utf-8",
    )
    index = tmp_path / "index.toml"
    index.write_text('default = "9999"\n[kommuner."9999"]\nfile = "cal/x.csv"\n', encoding="utf-8")
    registry = LovCalendars.load(index)
    assert registry.periods("9999") == ((dt.date(2018, 2, 19), dt.date(2018, 2, 23), "Sportlov"),)
    assert registry.label("9999") == "9999" and registry.area_kommun == {}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (None, "finns inte"),
        ("default = [", "är inte giltig TOML"),
        ('[kommuner."0180"]\nname = "S"\n', "behöver file"),
        ('[areas]\n"lpo" = 180\n', r"\[areas\] ska para"),
        ('default = "0180"\n', 'default = "0180" finns inte bland kommunerna \\(inga\\)'),
        ('[kommuner."0180"]\nfile = "none.csv"\n', "Lovkalendern .*none.csv finns inte"),
    ],
    ids=["missing", "bad-toml", "no-file", "bad-areas", "bad-default", "missing-calendar"],
)
def test_load_index_errors(tmp_path, text, match):
    index = tmp_path / "index.toml"
    if text is not None:
        index.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        LovCalendars.load(index)


def test_lov_registry_and_window_argument_errors():
    registry = LovCalendars({"0180": []})
    with pytest.raises(ValueError, match=r'`default` was "0123" but is expected to be one of'):
        LovCalendars({"0180": []}, default="0123")
    with pytest.raises(ValueError, match="`code` was empty"):
        registry.with_calendar(" ", [])
    with pytest.raises(KeyError, match="No lov calendar for kommun '0123'; known: \\['0180'\\]"):
        registry.periods("0123")
    with pytest.raises(TypeError, match="`calendars` must be a LovCalendars, got dict"):
        lov_mask(lov_frame((WEEK_8, "0180-a")), calendars={"0180": []})
    with pytest.raises(ValueError, match="`lov_per_kommun` needs `lov`"):
        TimeWindow(np.ones((7, 24), dtype=bool), "x", lov_per_kommun=True)
    with pytest.raises(
        ValueError, match=r"`in_lov` has shape \(1,\); expected one value per time \(2\)"
    ):
        WINDOWS["lov"].mask(stockholm(WEEK_8, WEEK_9), in_lov=np.array([True]))
    assert registry.with_default("0180").default == "0180" and registry.default is None


def test_lov_calendar_option(tmp_path):
    import argparse

    from geo.commands._mapping import add_selection_arguments, lov_calendars_from_args

    parser = argparse.ArgumentParser()
    add_selection_arguments(parser)
    stockholm_csv = DEMO_CALENDAR.with_name("stockholm_lov_2017_2018.csv")
    # Järfälla given Stockholm's dates: a Järfälla incident in week 8 is now lov.
    args = parser.parse_args(["--window", "lov", "--lov-calendar", f"0123={stockholm_csv}"])
    registry = lov_calendars_from_args(args)
    incidents = lov_frame((WEEK_8, "0123-jakobsberg"), (WEEK_9, "0123-jakobsberg"))
    kept = filter_incidents(incidents, window=args.window, lov_calendars=registry)
    assert kept.index.tolist() == [0]
    index = tmp_path / "lov.toml"
    index.write_text(f'[kommuner."0180"]\nfile = "{stockholm_csv}"\n', encoding="utf-8")
    loaded = lov_calendars_from_args(parser.parse_args(["--lov-calendar", str(index)]))
    assert sorted(loaded.calendars) == ["0180"] and loaded.default is None
    with pytest.raises(InputError, match=r"--lov-calendar 0180=: skriv KOMMUNKOD=FIL"):
        lov_calendars_from_args(parser.parse_args(["--lov-calendar", "0180="]))


def test_peak_hours_lie_inside_the_window():
    from geo.timewin import DAY_NAMES, peak_hours

    p = pd.DataFrame(0.0, index=list(DAY_NAMES), columns=range(24))
    p.loc["fre", [17, 18, 19]] = 5  # the 17 is outside "fre,lör 18-03"
    assert peak_hours(p) == "fre 17–20"
    assert peak_hours(p, window="fre,lör 18-03") == "fre 18–20"
    p = pd.DataFrame(0.0, index=list(DAY_NAMES), columns=range(24))
    p.loc["fre", 22] = 3
    assert peak_hours(p, window="fre 22-23") == "fre 22–23"  # a 1-hour window: a 1-hour block


def test_date_only_data_is_filtered_by_day_and_said_so():
    from geo.timewin import date_only_note, filter_incidents, has_clock_times

    # Fri 6, Sat 7, Sun 8 July 2012, all at 00:00 (a date-only file)
    frame = pd.DataFrame(
        {
            schema.OCCURRED_AT: pd.to_datetime(
                ["2012-07-06", "2012-07-07", "2012-07-08"]
            ).tz_localize(schema.TZ)
        }
    )
    assert not has_clock_times(frame[schema.OCCURRED_AT])
    kept = filter_incidents(frame, window="fre,lör 18-03")
    # by calendar day: Friday and Saturday, not "Saturday 00:00 is Friday night"
    assert kept[schema.OCCURRED_AT].dt.day.tolist() == [6, 7]
    note = date_only_note(frame[schema.OCCURRED_AT], "fre,lör 18-03")
    assert note.startswith("Filen har bara datum") and "(fre, lör)" in note
    assert date_only_note(frame[schema.OCCURRED_AT] + pd.Timedelta(hours=22), "fre 18-03") is None
