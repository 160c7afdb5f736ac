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


# --- zones a patrol can cover ------------------------------------------------------------


def _strip_cells(z_values, area="a"):
    """A 1 × n strip of 100 m hot cells with the given Gi* z-scores."""
    n = len(z_values)
    return gpd.GeoDataFrame(
        {schema.AREA_ID: [area] * n, schema.GI_BIN: [3] * n, schema.GI_Z: z_values},
        geometry=[shapely.box(i * 100, 0, i * 100 + 100, 100) for i in range(n)],
        crs=CRS,
    )


def test_a_hot_region_larger_than_the_cap_is_split_around_its_peaks():
    # 10 hot cells in a row (0.1 km²) with peaks at cells 1 and 8; cap 0.05 km², so a zone
    # reaches √0.05 km² = 224 m (2 cells) from where it starts: zone A grows from cell 1
    # (cells 0–3), zone B from cell 8 (cells 6–9); cells 4–5 hold no incident, no zone.
    cells = _strip_cells([5.0, 9, 6, 4, 3, 3, 4, 6, 8, 5])
    inc = _incidents([150] * 6 + [850] * 4, [50] * 10)
    z = zones_from_cells(cells, inc, _areas(), max_zone_km2=0.05)
    assert len(z) == 2
    np.testing.assert_allclose(sorted(z[schema.AREA_KM2]), [0.04, 0.04])
    assert z[schema.INCIDENT_COUNT].tolist() == [6, 4]  # ranked by score
    one = zones_from_cells(cells, inc, _areas(), max_zone_km2=1.0)  # fits (reach 1 km): one
    assert len(one) == 1 and one[schema.AREA_KM2].iloc[0] == pytest.approx(0.1)


def test_zones_without_enough_incidents_are_left_out():
    cells = _strip_cells([9.0, 8, 0.5, 7, 6])
    cells.loc[2, schema.GI_BIN] = 0  # two hot regions: cells 0–1 and 3–4
    inc = _incidents([50, 60, 150, 160, 170, 350], [50] * 6)  # 5 in the first, 1 in the second
    assert len(zones_from_cells(cells, inc, _areas())) == 2
    z = zones_from_cells(cells, inc, _areas(), min_incidents=5)
    assert z[schema.INCIDENT_COUNT].tolist() == [5]


def test_a_zone_hot_only_through_dialogue_is_a_perception_gap_not_a_zone():
    cells = gpd.GeoDataFrame(
        {
            schema.CELL_ID: ["p", "q", "r"],
            schema.AREA_ID: ["a"] * 3,
            schema.COUNT: [0, 12, 1],
            schema.DIALOGUE_COUNT: [106, 0, 0],
            schema.GI_Z: [5.0, 4.0, 0.1],
            schema.GI_BIN: [3, 3, 0],
        },
        geometry=[shapely.box(i * 300, 0, i * 300 + 100, 100) for i in range(3)],
        crs=CRS,
    )
    inc = _incidents([350] * 12 + [650], [50] * 13)
    zones = zones_from_cells(cells, inc, _areas())
    assert zones[schema.INCIDENT_COUNT].tolist() == [12]  # the 106-mention cell is no zone
    gaps = perception_gap(cells, zones=zones)
    felt = gaps[gaps["kind"] == GAP_FELT]
    assert felt[schema.CELL_ID].tolist() == ["p"]


def test_names_tell_the_zones_of_an_area_apart():
    gaz = gpd.GeoDataFrame(
        {schema.PLACE_NAME: ["Stationen"]}, geometry=[shapely.Point(500, 500)], crs=CRS
    )
    # four zones around one station: the best keeps its name, the next two get their
    # direction from it, the fourth (north again) its rank as well
    centres = shapely.points([520, 500, 820, 500], [500, 800, 500, 850])
    names = Z.zone_names(
        centres, np.array(["a"] * 4), np.array(["A"] * 4), np.array([1, 2, 3, 4]), gaz, CRS
    )
    assert names == ["Stationen", "norr om Stationen", "öster om Stationen",
                     "norr om Stationen, zon 4"]  # fmt: skip
    # the same place in another area is no clash
    other = Z.zone_names(
        centres[:2], np.array(["a", "b"]), np.array(["A", "B"]), np.array([1, 1]), gaz, CRS
    )
    assert other == ["Stationen", "Stationen"]


def test_cumulative_hit_rate_counts_overlapping_zones_once():
    # Two overlapping density clusters: their buffered hulls are made disjoint, so the
    # incident in the overlap counts in the heavier zone only.
    # zone 0 = hull 100–130 + 30 m = 70–160; zone 1 = hull 150–185 + 30 m = 120–215: the
    # overlap 120–160 (120, 130, 150) goes to the heavier zone 0 (4 points).
    inc = _incidents([100, 110, 120, 130, 150, 175, 185, 900], [100] * 8)
    labels = np.array([0, 0, 0, 0, 1, 1, 1, -1])
    z = zones_from_labels(inc, labels, _areas(), buffer_m=30)
    assert z.geometry.area.sum() == pytest.approx(shapely.union_all(z.geometry.values).area)
    assert z[schema.INCIDENT_COUNT].tolist() == [5, 2]  # 7 of 8 incidents, none twice
    np.testing.assert_allclose(z[schema.HIT_RATE], [5 / 8, 7 / 8])


def test_split_clusters_reclusters_a_chained_cluster():
    # One label over two dense groups 1 km apart: its zone (hull + buffer) is far over the
    # cap, so it is clustered again and each group becomes its own cluster.
    rng = np.random.default_rng(3)
    xy = np.vstack([rng.normal(0, 20, (30, 2)), rng.normal((1000, 0), 20, (30, 2))])
    again = Z.split_clusters(
        xy,
        np.zeros(60, int),
        buffer_m=50,
        max_zone_km2=0.1,  # the joint zone is 0.23 km²
        recluster=lambda p, w, d: (p[:, 0] > 500).astype(int),
    )
    assert set(again[:30]) == {0} and set(again[30:]) == {1}
    # without a way to recluster, the grid cut still keeps every part within the cap
    cut = Z.split_clusters(xy, np.zeros(60, int), buffer_m=50, max_zone_km2=0.1)
    assert len(np.unique(cut[cut >= 0])) >= 2
    for k in np.unique(cut[cut >= 0]):
        assert Z._zone_km2(xy[cut == k], 50) <= 0.1 + 1e-9


def test_evaluate_zones_refuses_nothing_and_reprojects():
    zones = gpd.GeoDataFrame(
        {schema.ZONE_ID: ["z"], schema.AREA_ID: ["a"]},
        geometry=[shapely.box(0, 0, 100, 100)],
        crs=CRS,
    )
    inc = gpd.GeoDataFrame(
        {schema.WEIGHT: [1.0] * 2}, geometry=shapely.points([10, 500], [10, 500]), crs=CRS
    )
    with pytest.warns(UserWarning, match="`zones` was in EPSG:3011; reprojected"):
        per_area, _ = evaluate_zones(zones.to_crs(3011), inc, _areas())
    assert per_area["in_zones"].iloc[0] == pytest.approx(1.0)
