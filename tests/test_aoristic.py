"""Aoristic weights on hand-made spans: midnight, DST changes, windows, profiles, limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import aoristic, schema, timewin


def _frame(pairs, weight=None):
    start = pd.DatetimeIndex([a for a, _ in pairs]).tz_localize(schema.TZ, ambiguous=True)
    end = pd.DatetimeIndex([b for _, b in pairs]).tz_localize(schema.TZ, ambiguous=False)
    f = pd.DataFrame({schema.OCCURRED_AT: start, schema.OCCURRED_UNTIL: end})
    if weight is not None:
        f[schema.WEIGHT] = weight
    return f


def test_friday_22_to_saturday_02_puts_half_in_the_friday_evening_window():
    # 4 hours, 22–24 inside "fre 18-24": 2/4 = 0.5
    f = _frame([("2018-03-16 22:00", "2018-03-17 02:00")])
    np.testing.assert_allclose(aoristic.window_share(f, timewin.parse_window("fre 18-24")), [0.5])
    kept = timewin.filter_incidents(f, window="fre 18-24")
    assert len(kept) == 1 and kept[schema.WEIGHT].tolist() == [0.5]


def test_span_across_midnight_spreads_over_both_days_of_the_profile():
    f = _frame([("2018-03-16 23:00", "2018-03-17 01:00")])  # fre 23, lör 00: ½ each
    p = timewin.hour_of_week(f)
    assert p.loc["fre", 23] == 0.5 and p.loc["lör", 0] == 0.5 and p.to_numpy().sum() == 1.0


def test_partial_hours_are_weighted_by_minutes():
    f = _frame([("2018-03-16 21:30", "2018-03-16 23:00")])  # 30 + 60 minutes of 90
    p = timewin.hour_of_week(f)
    np.testing.assert_allclose([p.loc["fre", 21], p.loc["fre", 22]], [1 / 3, 2 / 3])


def test_spring_dst_night_has_two_real_hours_between_01_and_04():
    # 2018-03-25: clocks jump 02:00 → 03:00; 01:00–04:00 wall time is 2 real hours
    f = _frame([("2018-03-25 01:00", "2018-03-25 04:00")])
    t, w, _ = aoristic.expand_hours(f)
    assert [x.hour for x in t] == [1, 3] and w.tolist() == [0.5, 0.5]


def test_autumn_dst_night_counts_the_repeated_hour_twice():
    # 2018-10-28: 03:00 summer time → 02:00 winter time; 01:00 (CEST) to 04:00 (CET) = 4 h
    start = pd.Timestamp("2018-10-28 01:00", tz=schema.TZ)
    end = pd.Timestamp("2018-10-28 04:00", tz=schema.TZ)
    f = pd.DataFrame({schema.OCCURRED_AT: [start], schema.OCCURRED_UNTIL: [end]})
    p = timewin.hour_of_week(f)
    # sön 01 ¼, sön 02 ½ (two real hours), sön 03 ¼
    np.testing.assert_allclose(p.loc["sön", [1, 2, 3]].to_numpy(), [0.25, 0.5, 0.25])


def test_moments_and_spans_mix_and_weights_carry():
    f = _frame([("2018-03-16 22:00", "2018-03-16 22:00"), ("2018-03-16 20:00", "2018-03-16 22:00")],
               weight=[1.0, 2.0])  # fmt: skip
    p = timewin.hour_of_week(f, weights=schema.WEIGHT)
    assert p.loc["fre", 22] == 1.0 and p.loc["fre", 20] == 1.0 and p.loc["fre", 21] == 1.0


def test_spans_over_seven_days_are_left_out_of_hours_but_reported():
    f = _frame([("2018-03-01 00:00", "2018-03-09 00:00"), ("2018-03-16 22:00", "2018-03-17 02:00")])
    p = timewin.hour_of_week(f)
    assert p.to_numpy().sum() == pytest.approx(1.0)  # only the 4-hour span
    s = aoristic.summarise(f)
    assert (s.spread, s.too_long, s.median_hours) == (1, 1, 4.0)
    assert "1 med intervall över 7 dygn ingår inte i timresultaten" in s.text()
    # without a window the long span stays (maps, zones); with a window its hour is unknown
    assert len(timewin.filter_incidents(f)) == 2
    assert len(timewin.filter_incidents(f, window="fre 18-24")) == 1


def test_spread_over_month_edges_keeps_the_total():
    f = _frame([("2018-01-31 18:00", "2018-02-01 06:00"), ("2018-02-10 10:00", "2018-02-10 10:00")])
    e = pd.DatetimeIndex(["2018-01-01", "2018-02-01", "2018-03-01"]).tz_localize(schema.TZ)
    rows, k, w, note = aoristic.spread_over_edges(f, e)
    assert sorted(zip(rows.tolist(), k.tolist(), w.tolist(), strict=True)) == [
        (0, 0, 0.5),
        (0, 1, 0.5),
        (1, 1, 1.0),
    ]
    assert note.startswith("1 händelser anges som tidsintervall")


def test_loader_reads_an_end_time_column_and_rejects_an_end_before_the_start(tmp_path):
    from geo.io import load_incidents

    p = tmp_path / "spann.csv"
    p.write_text(
        "id,tid,tid_till,brottstyp,lon,lat\n"
        "1,2018-03-16 17:00,2018-03-19 07:00,inbrott,17.83,59.42\n"
        "2,2018-03-16 22:00,,misshandel,17.83,59.42\n"
        "3,2018-03-16 22:00,2018-03-16 21:00,inbrott,17.83,59.42\n"
        "4,2018-03-16 22:00,igår,inbrott,17.83,59.42\n",
        encoding="utf-8",
    )
    res = load_incidents(p)
    assert res.loaded == 2 and res.reasons == {"ogiltig sluttid": 2}
    assert res.rejected["rad"].tolist() == [4, 5] if "rad" in res.rejected else True
    until = res.frame[schema.OCCURRED_UNTIL]
    assert str(until.iloc[0]) == "2018-03-19 07:00:00+01:00" and pd.isna(until.iloc[1])
    assert any("tid_till" in n for n in res.notes)


def test_zone_peak_hours_spread_spans():
    # one zone of 12 burglaries, each Friday 20:00–Saturday 00:00: the peak is fre 20–00,
    # not the start hour alone
    import geopandas as gpd
    import shapely

    from geo.zones import describe_zones

    starts = pd.date_range("2018-03-02 20:00", periods=12, freq="7D").tz_localize(schema.TZ)
    inc = gpd.GeoDataFrame(
        {
            schema.OCCURRED_AT: starts,
            schema.OCCURRED_UNTIL: starts + pd.Timedelta(hours=4),
            schema.CATEGORY: "inbrott",
            schema.WEIGHT: 1.0,
        },
        geometry=gpd.points_from_xy([100.0] * 12, [100.0] * 12),
        crs=schema.CRS_METRIC,
    )
    zones = gpd.GeoDataFrame(
        {schema.ZONE_ID: ["z"], schema.AREA_ID: ["a"]},
        geometry=[shapely.box(0, 0, 200, 200)],
        crs=schema.CRS_METRIC,
    )
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["a"], schema.AREA_NAME: ["A"]},
        geometry=[shapely.box(0, 0, 1000, 1000)],
        crs=schema.CRS_METRIC,
    )
    out = describe_zones(zones, inc, areas)
    assert out[schema.PEAK_HOURS].iloc[0] == "fre 20–00"  # start hours alone: "fre 20–22"
