"""geo.patrol: greedy maximal coverage, persistence and hand adjustments on tiny data."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box, mapping

from geo import schema as S
from geo.errors import InputError
from geo.patrol import (
    CUM_HIT_RATE,
    NEW_INCIDENTS,
    OPEN_ISSUES,
    RECOMMENDED_HOURS,
    add_drawn_zone,
    candidates_from_run,
    choose_zones,
    drop_zone,
    persistence,
    polygon_from_geojson,
    zone_figures,
)
from geo.timewin import DAY_NAMES, parse_window

FRI_22 = pd.Timestamp("2025-01-03 22:30", tz=S.TZ)  # a Friday


def incidents(xy, times=None, weights=None) -> gpd.GeoDataFrame:
    n = len(xy)
    return gpd.GeoDataFrame(
        {
            S.ID: [str(i) for i in range(n)],
            S.OCCURRED_AT: times if times is not None else [FRI_22] * n,
            S.CATEGORY: [S.VIOLENCE] * n,
            S.WEIGHT: weights if weights is not None else [1.0] * n,
        },
        geometry=[Point(x, y) for x, y in xy],
        crs=S.CRS_METRIC,
    )


def candidates() -> gpd.GeoDataFrame:
    # three 100 m squares (0.01 km² each) in a row, B overlapping A's right half, and a
    # large 200 m square D far away (0.04 km²)
    return gpd.GeoDataFrame(
        {
            S.ZONE_ID: ["a", "b", "c", "d"],
            S.NAME: ["A", "B", "C", "D"],
            S.DIALOGUE_MENTIONS: [2, 0, 1, 0],
        },
        geometry=[
            box(0, 0, 100, 100),
            box(50, 0, 150, 100),
            box(300, 0, 400, 100),
            box(1000, 0, 1200, 200),
        ],
        crs=S.CRS_METRIC,
    )


# A holds x=10,20,60,70 (4); B holds 60,70,120 (3); C holds 310,320 (2); D holds 1100 x3 (3)
POINTS = [(10, 50), (20, 50), (60, 50), (70, 50), (120, 50), (310, 50), (320, 50)] + [
    (1100, 100)
] * 3


def test_greedy_picks_most_uncovered_then_recounts():
    chosen = choose_zones(candidates(), incidents(POINTS), k=3, study_area_km2=1.0)
    # step 1: A (4). step 2: B adds only 120 (1), C adds 2, D adds 3 -> D.
    # step 3: C adds 2 > B adds 1 -> C.
    assert chosen[S.NAME].tolist() == ["A", "D", "C"]
    assert chosen[NEW_INCIDENTS].tolist() == [4.0, 3.0, 2.0]
    # hit rate = own count / 10; cumulative = 4/10, 7/10, 9/10
    np.testing.assert_allclose(chosen[S.HIT_RATE], [0.4, 0.3, 0.2])
    np.testing.assert_allclose(chosen[CUM_HIT_RATE], [0.4, 0.7, 0.9])
    # PAI = hit rate / (zone km² / 1 km²): 0.4/0.01 = 40, 0.3/0.04 = 7.5, 0.2/0.01 = 20
    np.testing.assert_allclose(chosen[S.PAI], [40.0, 7.5, 20.0])
    assert chosen[S.DIALOGUE_MENTIONS].tolist() == [2, 0, 1]


def test_weights_drive_the_choice():
    # weight 5 on C's two points: C (10) beats A (4) in the first step
    w = [1.0] * 5 + [5.0, 5.0] + [1.0] * 3
    chosen = choose_zones(candidates(), incidents(POINTS, weights=w), k=1)
    assert chosen[S.NAME].tolist() == ["C"]
    np.testing.assert_allclose(chosen[S.HIT_RATE], [10 / 18])


def test_tie_goes_to_smaller_then_to_rank():
    cand = candidates()
    # A: 1 point, D (4× larger): 1 point, C: 1 point -> A (smaller than D, before C)
    pts = incidents([(10, 10), (1100, 100), (310, 10)])
    assert choose_zones(cand, pts, k=1)[S.NAME].tolist() == ["A"]
    # same with A removed: C (0.01 km²) beats D (0.04 km²) though D comes later anyway,
    # and B (0 points) is never taken
    assert choose_zones(cand.iloc[[3, 1, 2]], pts, k=2)[S.NAME].tolist() == ["C", "D"]


def test_budget_skips_what_does_not_fit():
    # budget 0.025 km²: A (0.01) first, D (0.04) never fits, C (0.01) next, then
    # B (0.01) would leave 0.005 but adds 1 incident: 0.03 > 0.025 -> stop
    chosen = choose_zones(candidates(), incidents(POINTS), budget_km2=0.025)
    assert chosen[S.NAME].tolist() == ["A", "C"]
    assert chosen[S.AREA_KM2].sum() <= 0.025


def test_stops_when_nothing_more_to_cover():
    pts = incidents([(10, 50)])
    chosen = choose_zones(candidates(), pts, k=3)
    assert chosen[S.NAME].tolist() == ["A"]


def test_recommended_hours_inside_the_window():
    # Friday 22:00-23:59 and Saturday 00:00-00:59 in A; a Tuesday 10:00 one outside the window
    t = pd.to_datetime(
        ["2025-01-03 22:10", "2025-01-03 23:10", "2025-01-04 00:10", "2025-01-07 10:00"]
    ).tz_localize(S.TZ)
    pts = incidents([(10, 50)] * 4, times=list(t))
    window = parse_window("fre,lör 18-03")
    hours = zone_figures(candidates().iloc[[0]], pts, window=window)[RECOMMENDED_HOURS]
    assert hours.tolist() == ["fre 22–01"]


def test_inputs_are_not_mutated():
    cand, pts = candidates(), incidents(POINTS)
    before_c, before_p = cand.copy(), pts.copy()
    choose_zones(cand, pts, k=2)
    pd.testing.assert_frame_equal(cand, before_c)
    pd.testing.assert_frame_equal(pts, before_p)


def test_area_centre_incidents_are_left_out():
    pts = incidents(POINTS)
    pts[S.AT_AREA_CENTRE] = [False] * 9 + [True]
    chosen = choose_zones(candidates(), pts, k=1)
    # 9 placeable incidents; A holds 4 of them
    np.testing.assert_allclose(chosen[S.HIT_RATE], [4 / 9])


def test_open_issues_within_150_m():
    issues = gpd.GeoDataFrame(
        geometry=[Point(50, 240), Point(50, 260), Point(5000, 0)], crs=S.CRS_METRIC
    )
    # A's top edge is y=100: 140 m and 160 m away -> 1 within 150 m
    f = zone_figures(candidates().iloc[[0]], incidents(POINTS), open_issues=issues)
    assert f[OPEN_ISSUES].tolist() == [1]


def test_dialogue_frame_counts_mentions():
    dialogue = gpd.GeoDataFrame(
        {S.MENTIONS: [3, 4]}, geometry=[Point(10, 10), Point(5000, 0)], crs=S.CRS_METRIC
    )
    f = zone_figures(candidates().iloc[[0, 2]], incidents(POINTS), dialogue=dialogue)
    assert f[S.DIALOGUE_MENTIONS].tolist() == [3.0, 0.0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"k": 5}, InputError, "K = 5 .* bara 4"),
        ({"k": 0}, ValueError, "k must be a whole number >= 1, got 0"),
        ({"k": 2, "budget_km2": 1.0}, ValueError, "either k or budget_km2"),
        ({"budget_km2": -1}, ValueError, "budget_km2 must be > 0"),
        ({"budget_km2": 0.001}, InputError, "Ytbudgeten 0.001 km² är mindre"),
    ],
    ids=["k-too-large", "k-zero", "both", "negative-budget", "budget-too-small"],
)
def test_choice_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        choose_zones(candidates(), incidents(POINTS), **kwargs)


def test_no_incidents_and_no_candidates():
    with pytest.raises(InputError, match="inga incidenter att täcka"):
        choose_zones(candidates(), incidents([]), k=1)
    with pytest.raises(InputError, match="inga kandidatzoner"):
        choose_zones(candidates().iloc[:0], incidents(POINTS), k=1)
    with pytest.raises(InputError, match="Inga kandidatzoner innehåller"):
        choose_zones(candidates(), incidents([(5000, 5000)]), k=1)
    with pytest.raises(ValueError, match="must be in EPSG:3006"):
        choose_zones(candidates().to_crs(S.CRS_WGS84), incidents(POINTS))
    with pytest.raises(TypeError, match="must be a GeoDataFrame"):
        choose_zones(pd.DataFrame(), incidents(POINTS))


def test_candidates_from_run_are_the_zones_never_cells():
    zones = candidates().assign(**{S.RANK: [2, 1, 3, 4]})
    from_zones = candidates_from_run(SimpleNamespace(zones=zones))
    assert from_zones[S.NAME].tolist() == ["B", "A", "C", "D"]
    assert set(from_zones["source"]) == {"zon"}
    # two zones stay two zones: single grid cells are never offered as patrol targets
    few = candidates_from_run(SimpleNamespace(zones=zones.iloc[:2]))
    assert few[S.NAME].tolist() == ["B", "A"]
    with pytest.raises(InputError, match="inga hotspotzoner.*längre period"):
        candidates_from_run(SimpleNamespace(zones=zones.iloc[:0]))


def _two_periods() -> gpd.GeoDataFrame:
    # training (first half 2025): 3 in A, 1 elsewhere; test (second half): 1 in A, 3 elsewhere
    t = pd.to_datetime(["2025-02-07 22:00"] * 4 + ["2025-09-05 22:00"] * 4).tz_localize(S.TZ)
    xy = [(10, 10)] * 3 + [(5000, 0)] + [(10, 10)] + [(5000, 0)] * 3
    return incidents(xy, times=list(t))


def test_persistence_look_back_then_forward():
    p = persistence(
        candidates().iloc[[0]],
        _two_periods(),
        train=("2025-01-01", "2025-07-01"),
        test=("2025-07-01", "2026-01-01"),
    )
    # 3/4 = 0.75 then 1/4 = 0.25; 0.25 / 0.75 = 0.33 < 0.5 -> "rörliga"
    assert (p.train_share, p.test_share, p.label) == (0.75, 0.25, "rörliga")
    assert p.table["train_count"].tolist() == [3.0]
    assert p.table["test_count"].tolist() == [1.0]
    assert "75 %" in p.message and "25 %" in p.message


@pytest.mark.parametrize(
    ("train", "test", "match"),
    [
        (("2024-01-01", "2024-07-01"), ("2025-07-01", "2026-01-01"), "inga incidenter i träning"),
        (("2025-01-01", "2025-07-01"), ("2027-01-01", "2027-07-01"), "inga incidenter i uppfölj"),
    ],
    ids=["empty-train", "empty-test"],
)
def test_persistence_empty_period(train, test, match):
    with pytest.raises(InputError, match=match):
        persistence(candidates().iloc[[0]], _two_periods(), train=train, test=test)


def _in_jakobsberg(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    # move the synthetic layout near Jakobsberg (SWEREF 99 TM) so lon/lat lie in Sweden
    return frame.set_geometry(frame.translate(660_000, 6_590_000))


def test_drop_and_draw():
    pts = _in_jakobsberg(incidents(POINTS))
    chosen = choose_zones(_in_jakobsberg(candidates()), pts, k=3, study_area_km2=1.0)
    dropped = drop_zone(chosen, "d", pts, study_area_km2=1.0)
    assert dropped[S.NAME].tolist() == ["A", "C"]
    np.testing.assert_allclose(dropped[CUM_HIT_RATE], [0.4, 0.6])  # 4/10, (4+2)/10
    # draw B's square back in lon/lat: it adds x=120 (1 new incident)
    drawn = gpd.GeoSeries([box(50, 0, 150, 100)], crs=S.CRS_METRIC)
    drawn = drawn.translate(660_000, 6_590_000).to_crs(S.CRS_WGS84)
    feature = {"type": "Feature", "properties": {}, "geometry": mapping(drawn.iloc[0])}
    added = add_drawn_zone(dropped, feature, pts, name="Torget", study_area_km2=1.0)
    assert added[S.NAME].tolist() == ["A", "C", "Torget"]
    assert added["source"].tolist()[-1] == "ritad"
    assert added[S.ZONE_ID].tolist()[-1] == "ritad-1"
    np.testing.assert_allclose(added[S.INCIDENT_COUNT], [4, 2, 3])
    np.testing.assert_allclose(added[CUM_HIT_RATE], [0.4, 0.6, 0.7])
    np.testing.assert_allclose(added[S.AREA_KM2].iloc[-1], 0.01, rtol=1e-6)
    with pytest.raises(InputError, match="Zonen x finns inte"):
        drop_zone(chosen, "x", pts)


@pytest.mark.parametrize(
    ("feature", "match"),
    [
        ("{not json", "inte giltig GeoJSON"),
        ({"type": "Point", "coordinates": [17.8, 59.4]}, "måste vara en polygon"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
            "utanför Sverige",
        ),
        ({"type": "Polygon", "coordinates": "x"}, "inte giltig GeoJSON"),
        (42, "ska vara ett GeoJSON-objekt"),
    ],
    ids=["bad-json", "point", "outside", "malformed", "number"],
)
def test_drawn_zone_errors(feature, match):
    with pytest.raises(InputError, match=match):
        polygon_from_geojson(feature)


# --- plans on the demo: any area level, hours inside the window, honest about few data --

DEMO = Path(__file__).resolve().parents[1] / "data"
NO_DEMO = pytest.mark.skipif(
    not (DEMO / "incidents" / "demo_incidents.csv").exists(), reason="no demo data"
)


@pytest.fixture(scope="module")
def demo_inputs():
    from geo import demo, io

    paths = demo.demo_paths()
    areas = io.load_boundaries(paths["areas"]).frame
    inc = io.load_incidents(paths["incidents"], category_map=paths["category_map"]).frame
    return io.flag_centre_points(inc, areas), areas, io.load_gazetteer(paths["gazetteer"]).frame


@NO_DEMO
def test_a_kommundel_gives_patrol_zones_from_inside_it(demo_inputs):
    from geo.patrol import plan_zones

    inc, areas, gaz = demo_inputs
    plan = plan_zones(
        inc, areas, area_ids=["0123-jakobsberg"], window="fre,lör 18-03", gazetteer=gaz,
        start="2017-01-01", end="2017-12-31",
    )  # fmt: skip
    zones = plan.zones
    jakobsberg = areas.set_index(S.AREA_ID).geometry["0123-jakobsberg"]
    assert zones.geometry.within(jakobsberg.buffer(1)).all()
    assert (zones[S.AREA_KM2] <= 0.25 + 1e-9).all() and (zones[S.INCIDENT_COUNT] >= 5).all()
    assert zones[S.NAME].iloc[0] == "Jakobsbergs station"
    assert plan.params["areas"].endswith("km² i Jakobsberg")
    # PAI against Jakobsberg's own 8.8 km², not the whole file
    assert plan.study_area_km2 == pytest.approx(jakobsberg.area / 1e6)
    window = parse_window("fre,lör 18-03").calendar_mask()
    for hours in zones[RECOMMENDED_HOURS]:  # e.g. "lör 21–01, fre 22–02, fre 18–22"
        for block in hours.split(", "):
            days, span = block.rsplit(" ", 1)
            start = int(span.split("–")[0])
            day = DAY_NAMES.index(days.split("–")[0].split(",")[0])
            assert window[day, start], block


@NO_DEMO
def test_too_few_incidents_for_zones_that_hold_is_said_plainly(demo_inputs):
    from geo.patrol import plan_zones

    inc, areas, gaz = demo_inputs
    # narcotics on weekend nights in one kommundel, 2017: 70 incidents, and each half year
    # has fewer than the 30 an analysis needs, so the zones cannot be shown to hold
    plan = plan_zones(
        inc, areas, area_ids=["0123-jakobsberg"], window="fre,lör 18-03",
        categories=["narkotikabrott"], start="2017-01-01", end="2017-12-31", gazetteer=gaz,
    )  # fmt: skip
    assert plan.params["window_incidents"] == 70 and plan.persistence is None
    assert plan.warning.startswith("Underlaget räcker inte för zoner som håller")
    assert "längre period" in plan.warning and "fler brottskategorier" in plan.warning


def test_date_only_data_gets_no_recommended_hours():
    from geo.patrol import recommended_hours

    days = pd.to_datetime(["2012-07-06", "2012-07-07"]).tz_localize(S.TZ)
    assert recommended_hours(incidents([(0, 0), (1, 1)], times=list(days))) == "–"
    # one Friday 22:30 with a clock time: a 2-hour block around it
    assert recommended_hours(incidents([(0, 0)]), window=parse_window("fre 18-03")) == "fre 21–23"
