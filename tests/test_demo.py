"""The seeded demo data (geo.demo) and its committed files in data/.

The planted truths are checked on the committed files, the way other modules use them,
with plain geopandas/numpy/scipy/esda as independent references.
"""

from __future__ import annotations

import itertools
import tomllib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.stats import binomtest

from geo import demo, schema
from geo.cli import main

PATHS = demo.demo_paths()
STATION = demo.PLANTED["jakobsberg_station"]
DISPLACED = demo.PLANTED["displacement"]


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=schema.CRS_WGS84
    ).to_crs(schema.CRS_METRIC)


def _metric_point(lon: float, lat: float) -> shapely.Point:
    return _points(pd.DataFrame({"lon": [lon], "lat": [lat]})).geometry.iloc[0]


@pytest.fixture(scope="module")
def incidents() -> gpd.GeoDataFrame:
    frame = pd.read_csv(PATHS["incidents"], dtype={schema.ID: str})
    points = _points(frame)
    points["t"] = pd.to_datetime(frame[schema.OCCURRED_AT], utc=True).dt.tz_convert(schema.TZ)
    categories = tomllib.loads(PATHS["category_map"].read_text("utf-8"))["categories"]
    points[schema.CATEGORY] = frame[demo.RAW_CATEGORY_COLUMN].map(categories)
    return points


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    return gpd.read_file(PATHS["areas"]).to_crs(schema.CRS_METRIC)


@pytest.fixture(scope="module")
def dialogue() -> gpd.GeoDataFrame:
    return _points(pd.read_csv(PATHS["dialogue"]))


@pytest.fixture(scope="module")
def gazetteer() -> gpd.GeoDataFrame:
    return _points(pd.read_csv(PATHS["gazetteer"])).set_index(schema.PLACE_NAME)


def _evening_night(t: pd.Series) -> pd.Series:
    # kväll 18–22 + natt 22–06
    return (t.dt.hour >= 18) | (t.dt.hour < 6)


# --- determinism and files ------------------------------------------------------------------


def test_same_seed_gives_identical_frames_and_another_seed_differs():
    a, b = demo.generate(seed=1, scale=0.1), demo.generate(seed=1, scale=0.1)
    pd.testing.assert_frame_equal(a.incidents, b.incidents)
    pd.testing.assert_frame_equal(a.dialogue, b.dialogue)
    assert a.areas.geometry.equals(b.areas.geometry)
    c = demo.generate(seed=2, scale=0.1)
    n = min(len(a.incidents), len(c.incidents))
    assert not np.array_equal(a.incidents["lon"][:n], c.incidents["lon"][:n])


def test_regenerating_with_the_default_seed_reproduces_the_committed_files(tmp_path):
    # If a library upgrade (numpy's random streams, GDAL's GeoJSON writer, PROJ) changes the
    # bytes, regenerate with `lagesbild demo-data --out data` and re-check data/README.md.
    assert demo.generate(out_dir=tmp_path).seed == demo.DEFAULT_SEED
    for key, committed in PATHS.items():
        fresh = demo.demo_paths(tmp_path)[key]
        assert fresh.read_bytes() == committed.read_bytes(), key


def test_file_columns_are_the_contract():
    expected = {
        "incidents": demo.INCIDENT_COLUMNS,
        "dialogue": demo.DIALOGUE_COLUMNS,
        "gazetteer": demo.GAZETTEER_COLUMNS,
        "calendar_jarfalla": demo.CALENDAR_COLUMNS,
        "calendar_stockholm": demo.CALENDAR_COLUMNS,
    }
    assert demo.INCIDENT_COLUMNS == ("id", "occurred_at", "brottstyp", "lon", "lat")
    for key, columns in expected.items():
        assert tuple(pd.read_csv(PATHS[key], nrows=0).columns) == columns, key
    shared = demo.DATA_DIR.parent.parent / "shared" / "data" / "calendar"
    if (shared / "jarfalla_lasarsdata_transcribed.csv").exists():
        reference = pd.read_csv(shared / "jarfalla_lasarsdata_transcribed.csv", nrows=0)
        assert tuple(reference.columns) == demo.CALENDAR_COLUMNS


def test_row_counts_period_and_coordinates(incidents, dialogue):
    assert 20_000 <= len(incidents) <= 40_000
    assert 200 <= len(dialogue) <= 500
    assert incidents[schema.ID].is_unique
    assert incidents["t"].min() >= pd.Timestamp("2017-01-01", tz=schema.TZ)
    assert incidents["t"].max() < pd.Timestamp("2019-01-01", tz=schema.TZ)
    text = pd.read_csv(PATHS["incidents"], dtype=str)
    # 6 decimals, ISO 8601 with the offset Stockholm had at that moment
    assert text["lon"].str.fullmatch(r"\d+\.\d{6}").all()
    assert text[schema.OCCURRED_AT].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00[+]0[12]:00").all()
    local = incidents["t"]
    expected_offset = local.map(lambda ts: ts.strftime("%z")).str[:3] + ":00"
    assert (text[schema.OCCURRED_AT].str[-6:] == expected_offset).all()


def test_every_raw_name_maps_to_a_category_and_loads_without_a_map():
    table = tomllib.loads(PATHS["category_map"].read_text("utf-8"))["categories"]
    raw = set(pd.read_csv(PATHS["incidents"])[demo.RAW_CATEGORY_COLUMN])
    assert raw == set(table)
    assert set(table.values()) <= set(schema.CATEGORIES)
    # the same answer as the default map, so a loader without the TOML agrees
    assert {k: schema.DEFAULT_CATEGORY_MAP[k.lower()] for k in table} == table


# --- boundaries -----------------------------------------------------------------------------


def test_areas_levels_names_and_parents(areas):
    assert areas[schema.AREA_ID].is_unique
    assert areas["approximate"].all()
    assert areas.geometry.is_valid.all()
    by_level = areas.groupby(schema.LEVEL)[schema.AREA_NAME].apply(set)
    assert by_level["kommun"] == {"Järfälla"}
    assert by_level["lpo"] == {"Järfälla", "Farsta"}
    assert {"Jakobsberg", "Barkarby", "Kallhäll", "Viksjö", "Görväln"} <= by_level["kommundel"]
    assert len(by_level["stadsdel"]) == 14
    assert {"Farsta", "Hökarängen", "Högdalen", "Rågsved", "Hagsätra"} <= by_level["stadsdel"]
    kommun = areas[areas[schema.LEVEL] == "kommun"].iloc[0]
    assert kommun[schema.AREA_ID] == "0123"
    parents = set(areas[schema.PARENT_ID].dropna())
    assert parents == {"0123", demo.LPO_FARSTA_ID}


@pytest.mark.parametrize("parent_id", ["0123", demo.LPO_FARSTA_ID], ids=["jarfalla", "farsta"])
def test_children_tile_their_parent(areas, parent_id):
    geoms = areas.set_index(schema.AREA_ID).geometry
    children = areas[areas[schema.PARENT_ID] == parent_id].geometry.tolist()
    parent = geoms[parent_id]
    # inside the parent, and together the whole parent (≤ 1 m² of rounding in the file)
    for child in children:
        assert child.difference(parent).area < 1.0
    assert shapely.union_all(children).symmetric_difference(parent).area < 1.0
    for a, b in itertools.combinations(children, 2):
        assert a.intersection(b).area < 1.0


def test_every_point_lies_in_a_demo_area(incidents, dialogue, gazetteer, areas):
    outlines = areas[areas[schema.LEVEL] == "lpo"].union_all()
    for frame in (incidents, dialogue, gazetteer):
        assert frame.within(outlines).all()


# --- planted truths -------------------------------------------------------------------------


def test_stacked_coordinates(incidents, gazetteer):
    lon, lat = demo.stacked_centre_lonlat()
    at_centre = (incidents["lon"] == lon) & (incidents["lat"] == lat)
    assert at_centre.sum() == demo.PLANTED["stacked_centre"]["count"]
    address = demo.PLANTED["stacked_address"]
    place = gazetteer.loc[address["place"]]
    at_address = (incidents["lon"] == place["lon"]) & (incidents["lat"] == place["lat"])
    assert at_address.sum() == address["count"]
    assert (incidents.loc[at_address, demo.RAW_CATEGORY_COLUMN] == address["raw_category"]).all()
    # nowhere else is anything stacked: at most a chance pair on one coordinate
    others = incidents[~at_centre & ~at_address].groupby(["lon", "lat"]).size()
    assert others.max() <= 2


def test_time_patterns(incidents):
    t = incidents["t"]
    violence = incidents[schema.CATEGORY] == schema.VIOLENCE
    assert _evening_night(t[violence]).mean() > 0.65
    evening_weekday = (t - pd.Timedelta(hours=6)).dt.day_of_week
    weekend = evening_weekday[violence & _evening_night(t)].isin([4, 5]).mean()
    assert weekend > 0.45  # Friday and Saturday nights: 2 of 7 evenings would be 0.29
    daily = incidents[violence].groupby(t[violence].dt.date).size()
    nyar = [pd.Timestamp(d).date() for d in ("2017-12-31", "2018-01-01")]
    assert daily.loc[nyar].sum() > 2.5 * daily.mean()  # nyårsafton and the night after
    damage = incidents[incidents[schema.CATEGORY] == "skadegörelse"]
    days = damage["t"].dt.tz_localize(None).dt.normalize()
    cal = pd.read_csv(PATHS["calendar_jarfalla"], parse_dates=["date_start", "date_end"])
    lov = cal[cal["kind"] == "lov"]
    in_lov = np.zeros(len(days), dtype=bool)
    lov_days = 0
    for start, end in zip(lov["date_start"], lov["date_end"], strict=True):
        in_lov |= ((days >= start) & (days <= end)).to_numpy()
        lov_days += len(pd.date_range(max(start, pd.Timestamp("2017-01-01")),
                                      min(end, pd.Timestamp("2018-12-31"))))  # fmt: skip
    per_day_lov = in_lov.sum() / lov_days
    per_day_school = (~in_lov).sum() / (730 - lov_days)
    assert per_day_lov > 1.15 * per_day_school


def test_jakobsberg_station_is_jarfallas_top_place_for_evening_night_violence_2017(
    incidents, gazetteer, areas
):
    kommun = areas.set_index(schema.AREA_ID).geometry["0123"]
    sel = incidents[
        (incidents[schema.CATEGORY] == schema.VIOLENCE)
        & _evening_night(incidents["t"])
        & (incidents["t"].dt.year == 2017)
    ]
    station = gazetteer.geometry["Jakobsbergs station"]
    places = gazetteer[gazetteer.within(kommun)]
    # places at least 600 m apart from the station, so the 300 m circles do not overlap
    apart = places[places.distance(station) >= 600]
    within_300 = {name: int((sel.distance(p) <= 300).sum()) for name, p in apart.geometry.items()}
    at_station = int((sel.distance(station) <= 300).sum())
    assert at_station > 3 * max(within_300.values())


def test_jakobsberg_station_is_the_top_gistar_cell(incidents, areas):
    from esda import G_Local
    from libpysal.weights import DistanceBand

    cell_m = 150.0
    kommun = areas.set_index(schema.AREA_ID).geometry["0123"]
    sel = incidents[
        (incidents[schema.CATEGORY] == schema.VIOLENCE)
        & _evening_night(incidents["t"])
        & (incidents["t"].dt.year == 2017)
    ]
    minx, miny, maxx, maxy = kommun.bounds
    xs, ys = np.arange(minx, maxx + cell_m, cell_m), np.arange(miny, maxy + cell_m, cell_m)
    counts, _, _ = np.histogram2d(sel.geometry.x, sel.geometry.y, bins=[xs, ys])
    cx, cy = np.meshgrid((xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2, indexing="ij")
    keep = shapely.contains_xy(kommun, cx, cy)
    centres = np.column_stack([cx[keep], cy[keep]])
    weights = DistanceBand(centres, threshold=2.01 * cell_m, binary=True, silence_warnings=True)
    z = G_Local(counts[keep], weights, transform="B", star=True, permutations=0).Zs
    station = _metric_point(STATION["lon"], STATION["lat"])
    top = centres[np.argmax(z)]
    assert np.hypot(top[0] - station.x, top[1] - station.y) < 300


@pytest.fixture(scope="module")
def before_after(incidents, areas):
    """Violence + narcotics in R (≤ 200 m), D (200–450 m), C (rest of Järfälla)."""
    target = incidents[incidents[schema.CATEGORY].isin(demo.TARGET_CATEGORIES)]
    kommun = areas.set_index(schema.AREA_ID).geometry["0123"]
    target = target[target.within(kommun)]
    distance = target.distance(_metric_point(STATION["lon"], STATION["lat"]))
    inner, outer = STATION["buffer_ring_m"]
    zone = np.where(distance <= inner, "R", np.where(distance <= outer, "D", "C"))
    t = target["t"]
    # same months a year apart: 306 days each
    before = (t >= pd.Timestamp("2017-03-01", tz=schema.TZ)) & (
        t < pd.Timestamp("2018-01-01", tz=schema.TZ)
    )
    after = t >= pd.Timestamp(demo.PROMISE_START, tz=schema.TZ)
    return {
        z: {"b": int((before & (zone == z)).sum()), "a": int((after & (zone == z)).sum())}
        for z in "RDC"
    }


def test_planted_drop_is_a_significant_decrease(before_after):
    r = before_after["R"]
    assert 0.5 < r["a"] / r["b"] < 0.75  # planted −40 % on the hotspot, diluted by background
    # conditional binomial: equal periods, so under "no change" after ~ Bin(a + b, 1/2)
    test = binomtest(r["a"], r["a"] + r["b"], 0.5, alternative="less")
    assert test.pvalue < 1e-6


def test_planted_displacement_shows_in_the_buffer(before_after):
    r, d, c = before_after["R"], before_after["D"], before_after["C"]
    assert 0.9 < c["a"] / c["b"] < 1.1  # a stable control
    assert d["a"] / d["b"] > 1.25
    success = r["a"] / c["a"] - r["b"] / c["b"]
    buffer = d["a"] / c["a"] - d["b"] / c["b"]
    assert success < 0 < buffer  # Bowers & Johnson: WDQ < 0 means displacement
    assert before_after == {
        z: {"b": v["before"], "a": v["after"]}
        for z, v in demo.treatment_figures(demo.generate()).items()
    }


@pytest.mark.parametrize("place", demo.PLANTED["perception_gaps"], ids=lambda p: p.split()[0])
def test_perception_gap_places_are_named_but_quiet(place, incidents, dialogue, gazetteer):
    point = gazetteer.geometry[place]
    mentions = dialogue.loc[dialogue.distance(point) <= 150, schema.MENTIONS].sum()
    crimes = int((incidents.distance(point) <= 150).sum())
    station = gazetteer.geometry["Jakobsbergs station"]
    station_ratio = dialogue.loc[dialogue.distance(station) <= 150, schema.MENTIONS].sum() / (
        (incidents.distance(station) <= 150).sum()
    )
    assert mentions >= 30
    assert mentions / max(crimes, 1) > 20 * station_ratio


def test_unnamed_hotspot_has_crime_but_no_dialogue(incidents, dialogue, gazetteer):
    point = gazetteer.geometry[demo.PLANTED["unnamed_hotspot"]]
    assert (incidents.distance(point) <= 300).sum() > 100
    assert (dialogue.distance(point) <= 300).sum() == 0


@pytest.mark.parametrize(
    "key", ["jakobsberg_station", "displacement"], ids=["station", "displaced"]
)
def test_planted_places_are_gazetteer_places(key, gazetteer):
    planted = demo.PLANTED[key]
    place = gazetteer.loc[planted["place"]]
    assert (place["lon"], place["lat"]) == (planted["lon"], planted["lat"])


def test_displacement_site_is_in_the_buffer_ring(gazetteer):
    # 350 m due south: outside the 200 m zone, inside the 450 m ring
    distance = gazetteer.geometry["Söderhöjden"].distance(gazetteer.geometry["Jakobsbergs station"])
    assert STATION["buffer_ring_m"][0] < distance < STATION["buffer_ring_m"][1]
    np.testing.assert_allclose(distance, DISPLACED["distance_from_station_m"], atol=5)


def test_dialogue_values(dialogue):
    assert set(dialogue[schema.REASON_CATEGORY]) <= set(schema.REASON_CATEGORIES)
    assert set(dialogue[schema.TIME_OF_DAY]) <= set(schema.TIMES_OF_DAY)
    assert (dialogue[schema.MENTIONS] >= 1).all()
    assert dialogue[schema.ID].is_unique


# --- API and CLI ----------------------------------------------------------------------------


def test_demo_paths_point_into_data():
    assert set(PATHS) >= {"areas", "incidents", "category_map", "dialogue", "gazetteer"}
    assert PATHS["areas"] == demo.DATA_DIR / "boundaries" / "demo_areas.geojson"
    assert all(path.exists() for path in PATHS.values())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seed": "1"}, TypeError, r"`seed` was '1' \(str\) but must be an int"),
        ({"seed": True}, TypeError, r"`seed` was True"),
        ({"scale": 0}, ValueError, r"`scale` was 0 but must be a positive number"),
        ({"scale": float("nan")}, ValueError, r"`scale` was nan"),
    ],
    ids=["seed-str", "seed-bool", "scale-zero", "scale-nan"],
)
def test_generate_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        demo.generate(**kwargs)


def test_cli_writes_the_files(tmp_path, capsys):
    assert main(["demo-data", "--out", str(tmp_path), "--seed", "3", "--scale", "0.05"]) == 0
    assert "(seed 3)" in capsys.readouterr().out
    assert all(path.exists() for path in demo.demo_paths(tmp_path).values())


def test_cli_refuses_a_file_as_out(tmp_path, capsys):
    target = tmp_path / "x.csv"
    target.write_text("", encoding="utf-8")
    assert main(["demo-data", "--out", str(target)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


def test_files_load_with_the_importer_without_mappings():
    io = pytest.importorskip("geo.io")
    results = {
        "incidents": io.load_incidents(PATHS["incidents"]),
        "dialogue": io.load_dialogue(PATHS["dialogue"]),
        "areas": io.load_boundaries(PATHS["areas"]),
        "gazetteer": io.load_gazetteer(PATHS["gazetteer"]),
    }
    for key, result in results.items():
        assert len(result.rejected) == 0, key
        assert len(result.frame) == result.rows, key
    assert results["incidents"].rows == len(pd.read_csv(PATHS["incidents"]))
    incidents = results["incidents"].frame
    assert set(incidents[schema.CATEGORY]) <= set(schema.CATEGORIES)
    flagged = io.flag_centre_points(incidents, results["areas"].frame)[schema.AT_AREA_CENTRE]
    # the kommun centre stack is a fallback; the 80 at Barkarby station's address are real
    assert flagged.sum() == demo.PLANTED["stacked_centre"]["count"]
