"""geo.zones on tiny hand-made areas, cells and incidents."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import schema
from geo import zones as Z
from geo.timewin import hour_of_week
from geo.zones import (
    GAP_FELT,
    GAP_UNNAMED,
    concentration_curve,
    evaluate_zones,
    perception_gap,
    zones_from_cells,
    zones_from_labels,
)

CRS = "EPSG:3006"


def _areas():
    return gpd.GeoDataFrame(
        {schema.AREA_ID: ["a", "b"], schema.AREA_NAME: ["Norr", "Söder"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(0, -1000, 1000, 0)],
        crs=CRS,
    )


def _incidents(xs, ys, cats=None, when="2018-03-16 23:00"):
    n = len(xs)
    return gpd.GeoDataFrame(
        {
            schema.CATEGORY: cats or [schema.VIOLENCE] * n,
            schema.WEIGHT: [1.0] * n,
            schema.OCCURRED_AT: pd.to_datetime([when] * n).tz_localize(schema.TZ),
        },
        geometry=shapely.points(xs, ys),
        crs=CRS,
    )


def _cells(bins, area="a"):
    return gpd.GeoDataFrame(
        {schema.AREA_ID: [area] * len(bins), schema.GI_BIN: bins},
        geometry=[shapely.box(i * 100, 0, i * 100 + 100, 100) for i in range(len(bins))],
        crs=CRS,
    )


def test_touching_hot_cells_merge_and_rank():
    # cells 0-1 hot (one zone, 3 incidents), cell 3 hot alone (1 incident), cell 2 cold
    cells = _cells([3, 2, 0, 2])
    inc = _incidents([10, 150, 160, 350, 250, 900], [10, 50, 60, 50, 50, 900])
    z = zones_from_cells(cells, inc, _areas())
    assert z[schema.RANK].tolist() == [1, 2]
    assert z[schema.INCIDENT_COUNT].tolist() == [3, 1]
    # area a has all 6 incidents: share 3/6 = 0.5, then cumulative hit rate (3+1)/6
    np.testing.assert_allclose(z[schema.SHARE_OF_AREA], [0.5, 1 / 6])
    np.testing.assert_allclose(z[schema.HIT_RATE], [0.5, 4 / 6])
    # zone 1 is 0.02 km² of 1 km²: PAI = 0.5 / 0.02 = 25
    np.testing.assert_allclose(z[schema.PAI].iloc[0], 25.0)
    assert z[schema.ZONE_ID].tolist() == ["a-1", "a-2"]
    assert z[f"n_{schema.VIOLENCE}"].tolist() == [3, 1]
    assert z[schema.PEAK_HOURS].iloc[0].startswith("fre")


def test_no_hot_cells_no_zones():
    z = zones_from_cells(_cells([0, 1, 0]), _incidents([10], [10]), _areas())
    assert z.empty and schema.RANK in z.columns


def test_min_bin_error():
    with pytest.raises(ValueError, match="min_bin"):
        zones_from_cells(_cells([3]), _incidents([10], [10]), _areas(), min_bin=5)


def test_names_from_gazetteer():
    gaz = gpd.GeoDataFrame(
        {schema.PLACE_NAME: ["Torget", "Skolan"], schema.PLACE_KIND: ["torg", "skola"]},
        geometry=shapely.points([60, 3000], [60, 3000]),
        crs=CRS,
    )
    z = zones_from_cells(_cells([3]), _incidents([50], [50]), _areas(), gazetteer=gaz)
    assert z[schema.NAME].tolist() == ["Torget"]
    far = gaz.assign(geometry=shapely.points([1000, 3000], [1000, 3000]))
    # ~1345 m from the incident centre (50, 50): within 1500 m -> distance and direction
    z = zones_from_cells(_cells([3]), _incidents([50], [50]), _areas(), gazetteer=far)
    assert z[schema.NAME].tolist() == ["1300 m sydväst om Torget"]
    z = zones_from_cells(_cells([3]), _incidents([50], [50]), _areas())
    assert z[schema.NAME].tolist() == ["Zon 1 – Norr"]


def test_dialogue_counts_apart_and_in_score():
    dia = gpd.GeoDataFrame({schema.MENTIONS: [4]}, geometry=shapely.points([50], [50]), crs=CRS)
    z = zones_from_cells(_cells([3]), _incidents([50, 60], [50, 60]), _areas(), dialogue=dia)
    # score = 2 incidents + 0.5 * 4 mentions = 4
    assert z[schema.DIALOGUE_MENTIONS].tolist() == [4]
    assert z[schema.INCIDENT_COUNT].tolist() == [2]
    np.testing.assert_allclose(z[schema.SCORE], [4.0])


def test_zones_from_labels_split_by_area():
    # one cluster straddling the a/b border (y = 0) gives a zone in each area
    inc = _incidents([100, 120, 110, 500], [50, 40, -60, 500])
    z = zones_from_labels(inc, [0, 0, 0, -1], _areas(), buffer_m=20)
    assert sorted(z[schema.AREA_ID]) == ["a", "b"]
    assert z.set_index(schema.AREA_ID)[schema.INCIDENT_COUNT].to_dict() == {"a": 2, "b": 1}


def test_zones_from_labels_errors():
    with pytest.raises(ValueError, match="one label per incident"):
        zones_from_labels(_incidents([1], [1]), [0, 0], _areas())
    with pytest.raises(ValueError, match="buffer_m"):
        zones_from_labels(_incidents([1], [1]), [0], _areas(), buffer_m=-1)


def test_evaluate_zones():
    zones = gpd.GeoDataFrame(
        {schema.ZONE_ID: ["z1", "z2"], schema.AREA_ID: ["a", "a"]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(500, 500, 600, 600)],
        crs=CRS,
    )
    inc = _incidents([10, 20, 550, 900, 50], [10, 20, 550, 900, -50])
    per_area, per_zone = evaluate_zones(zones, inc, _areas())
    # area a: N = 4, in zones 3 -> hit rate 0.75 on 0.02 of 1 km²: PAI 37.5
    row = per_area.set_index(schema.AREA_ID).loc["a"]
    np.testing.assert_allclose([row[schema.HIT_RATE], row[schema.PAI]], [0.75, 37.5])
    np.testing.assert_allclose(per_zone[schema.PAI], [0.5 / 0.01, 0.25 / 0.01])


def test_concentration_curve():
    cells = _cells([0, 0, 0, 0]).assign(**{schema.WEIGHT: [1.0, 6.0, 3.0, 0.0]})
    c = concentration_curve(cells)
    # sorted 6, 3, 1, 0 of 10 on quarters of the area
    np.testing.assert_allclose(c["share_of_incidents"], [0, 0.6, 0.9, 1.0, 1.0])
    np.testing.assert_allclose(c["share_of_area"], [0, 0.25, 0.5, 0.75, 1.0])


def test_perception_gap_both_kinds():
    cells = _cells([0, 3, 3, 0]).assign(
        **{
            schema.CELL_ID: ["c0", "c1", "c2", "c3"],
            schema.COUNT: [0, 40, 30, 2],
            schema.DIALOGUE_COUNT: [0, 0, 3, 0],
            schema.GI_Z: [0.0, 4.0, 3.5, 0.1],
        }
    )
    cells.loc[0, schema.DIALOGUE_COUNT] = 6  # named, no incidents
    gap = perception_gap(cells, named_within_m=50)
    # c0: 6 mentions, 0 incidents -> felt; c1 hot, nearest named cell c2 is 100 m away -> unnamed;
    # c2 hot but named itself
    assert gap[["kind", schema.CELL_ID]].values.tolist() == [[GAP_FELT, "c0"], [GAP_UNNAMED, "c1"]]
    with pytest.raises(ValueError, match="quiet_quantile"):
        perception_gap(cells, quiet_quantile=2)


def test_zone_profiles_equal_hour_of_week_per_zone():
    # random times over a year (both DST changes) in 3 zones: the one-pass profiles equal
    # geo.timewin.hour_of_week of each zone's rows
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2018-01-01", tz="Europe/Stockholm")
    times = pd.Series(start + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, 500), unit="min"))
    group = rng.integers(0, 3, 500)
    w = rng.uniform(0.5, 2.0, 500)
    profiles = Z._profiles(times, w, group, 3)
    for k in range(3):
        expected = hour_of_week(
            pd.DataFrame({schema.OCCURRED_AT: times[group == k]}), weights=w[group == k]
        )
        pd.testing.assert_frame_equal(profiles[k], expected)
