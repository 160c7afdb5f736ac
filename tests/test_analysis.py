"""geo.analysis.run_hotspots on synthetic data and on the demo data."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import schema
from geo.analysis import HotspotRun, run_hotspots

CRS = "EPSG:3006"
DATA = Path(__file__).resolve().parents[1] / "data"


def _areas():
    return gpd.GeoDataFrame(
        {schema.AREA_ID: ["a"], schema.AREA_NAME: ["A"], schema.LEVEL: ["kommun"]},
        geometry=[shapely.box(0, 0, 2000, 2000)],
        crs=CRS,
    )


def _incidents(xy, centre=None):
    n = len(xy)
    frame = gpd.GeoDataFrame(
        {
            schema.CATEGORY: [schema.VIOLENCE] * n,
            schema.WEIGHT: 1.0,
            schema.OCCURRED_AT: pd.Timestamp("2018-03-16 23:00", tz=schema.TZ),
        },
        geometry=shapely.points(xy),
        crs=CRS,
    )
    if centre is not None:
        frame[schema.AT_AREA_CENTRE] = centre
    return frame


def _hot(seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(500, 30, (80, 2)), rng.uniform(0, 2000, (60, 2))])


@pytest.mark.parametrize("method", ["gistar", "dbscan", "hdbscan"])
def test_one_hotspot_found_by_every_method(method):
    kw = {"cell_size_m": 100, "band_m": 200}
    if method == "dbscan":
        kw.update(eps_m=60, min_weight=8)
    run = run_hotspots(_incidents(_hot()), _areas(), method=method, **kw)
    assert isinstance(run, HotspotRun)
    top = run.zones.iloc[0]
    assert top[schema.RANK] == 1 and top.geometry.contains(shapely.Point(500, 500))
    assert (run.clusters is None) == (method == "gistar")
    names = [c.name for c in run.choices]
    assert "cell_size_m" in names and (method == "gistar" or "min_weight" in names)


def test_automatic_density_parameters_are_reported():
    run = run_hotspots(_incidents(_hot()), _areas(), method="dbscan")
    eps = next(c for c in run.choices if c.name == "eps_m")
    assert 25 <= eps.value <= 500 and "k-avstånd" in eps.reason


def test_centre_points_left_out_with_message():
    xy = _hot()
    stack = np.tile([[1500.0, 1500.0]], (50, 1))  # 50 points on the area's "centre"
    inc = _incidents(np.vstack([xy, stack]), centre=[False] * len(xy) + [True] * 50)
    run = run_hotspots(inc, _areas(), cell_size_m=100, band_m=200)
    assert any("mittpunkt" in m and "inte med" in m for m in run.messages)
    assert not any(z.contains(shapely.Point(1500, 1500)) for z in run.zones.geometry)
    kept = run_hotspots(inc, _areas(), cell_size_m=100, band_m=200, include_centre_points=True)
    assert any(z.contains(shapely.Point(1500, 1500)) for z in kept.zones.geometry)


def _kommun_with_kommundelar():
    # Kommun K = 0..3000 x 0..3000, centre (1500, 1500). Kommundelar A = 0..1000 and
    # B = 1000..3000 (centre (2000, 1500), 500 m from K's): the stack at K's centre lies
    # in B but near no kommundel's centre, so only K's own centre point can flag it.
    return gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["k", "k-a", "k-b"],
            schema.AREA_NAME: ["K", "A", "B"],
            schema.LEVEL: ["kommun", "kommundel", "kommundel"],
        },
        geometry=[
            shapely.box(0, 0, 3000, 3000),
            shapely.box(0, 0, 1000, 3000),
            shapely.box(1000, 0, 3000, 3000),
        ],
        crs=CRS,
    )


def _with_stack(n_stack):
    rng = np.random.default_rng(1)
    spread = np.vstack([rng.normal(500, 30, (80, 2)), rng.uniform(0, 3000, (60, 2))])
    return _incidents(np.vstack([spread, np.tile([[1500.0, 1500.0]], (n_stack, 1))]))


def _cell_total(run):
    return float(run.cells[schema.COUNT].sum())


def test_stack_on_kommun_centre_left_out_though_kommundelar_are_used():
    inc, areas = _with_stack(30), _kommun_with_kommundelar()
    run = run_hotspots(inc, areas, cell_size_m=100, band_m=200)
    note = next(m for m in run.messages if "mittpunkt" in m)
    assert "30 händelser" in note and "inte med" in note
    assert "30 vid E 1500, N 1500, mittpunkten för K (kommun)" in note
    assert any("innersta" in m for m in run.messages)  # the kommundelar were used
    kept = run_hotspots(inc, areas, cell_size_m=100, band_m=200, include_centre_points=True)
    assert "är med i analysen" in next(m for m in kept.messages if "mittpunkt" in m)
    assert _cell_total(kept) - _cell_total(run) == 30  # all 140 + 30 lie inside K


def test_flag_set_on_the_whole_data_is_kept_for_a_small_selection():
    from geo import io

    areas = _kommun_with_kommundelar()
    flagged = io.flag_centre_points(_with_stack(30), areas)  # the loader, before filters
    small = flagged.iloc[list(range(140)) + list(range(140, 145))]  # 5 of the 30 stacked
    # Flagged again on its own, 5 points are no stack (fewer than io.CENTRE_MIN_COUNT = 10):
    assert not io.flag_centre_points(small.drop(columns=schema.AT_AREA_CENTRE), areas)[
        schema.AT_AREA_CENTRE
    ].any()
    run = run_hotspots(small, areas, cell_size_m=100, band_m=200)
    assert any(m.startswith("5 händelser") and "inte med" in m for m in run.messages)


def test_unknown_method():
    with pytest.raises(ValueError, match="method"):
        run_hotspots(_incidents(_hot()), _areas(), method="kmeans")


def test_arguments_not_mutated():
    inc = _incidents(_hot())
    before = inc.copy()
    run_hotspots(inc, _areas(), cell_size_m=100, band_m=200)
    pd.testing.assert_frame_equal(inc, before)


NO_DEMO = pytest.mark.skipif(
    not (DATA / "incidents" / "demo_incidents.csv").exists(), reason="no demo"
)


def _demo():
    """Demo incidents (flagged by the loader's centre-point check, as the CLI and UI do),
    areas of every level, gazetteer, dialogue, and the evening violence of 2017."""
    from geo import demo, io, timewin

    paths = demo.demo_paths()
    areas = io.load_boundaries(paths["areas"]).frame
    inc = io.load_incidents(paths["incidents"], category_map=paths["category_map"]).frame
    inc = io.flag_centre_points(inc, areas)
    chosen = timewin.filter_incidents(
        inc,
        start="2017-01-01",
        end="2017-12-31",
        categories=[schema.VIOLENCE],
        window="kväll och natt",
    )
    gaz = io.load_gazetteer(paths["gazetteer"]).frame
    dia = io.load_dialogue(paths["dialogue"]).frame
    return inc, areas, gaz, dia, chosen


@NO_DEMO
def test_demo_jakobsberg_station_tops_jarfalla_for_evening_violence_2017():
    _, areas, gaz, dia, chosen = _demo()
    jarfalla = areas[areas[schema.AREA_NAME].eq("Järfälla") & areas[schema.LEVEL].eq("kommun")]
    for dialogue in (None, dia):
        run = run_hotspots(chosen, jarfalla, dialogue=dialogue, gazetteer=gaz)
        top = run.zones.sort_values(schema.RANK).iloc[0]
        assert top[schema.NAME] == "Jakobsbergs station"
        assert top[schema.AREA_NAME] == "Järfälla"


@NO_DEMO
def test_demo_stack_on_jarfalla_centre_left_out_of_all_incidents():
    inc, areas, *_ = _demo()  # areas: kommun, lpo, kommundel, stadsdel
    inc = inc.drop(columns=schema.AT_AREA_CENTRE)  # run_hotspots flags them itself
    assert len(inc) == 28_359  # data/README.md
    run = run_hotspots(inc, areas, cell_size_m=200, band_m=400)
    note = next(m for m in run.messages if "mittpunkt" in m)
    assert note.startswith("150 händelser") and "inte med" in note
    assert "mittpunkten för Järfälla (kommun, lpo)" in note
    kept = run_hotspots(inc, areas, cell_size_m=200, band_m=400, include_centre_points=True)
    assert "är med i analysen" in next(m for m in kept.messages if "mittpunkt" in m)
    assert _cell_total(kept) - _cell_total(run) == 150


@NO_DEMO
@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_demo_automatic_density_zones_are_places_not_whole_areas(method):
    _, areas, gaz, _, chosen = _demo()
    run = run_hotspots(chosen, areas, gazetteer=gaz, method=method)
    mw = next(c for c in run.choices if c.name == "min_weight")
    assert mw.value > 5 and "slumpmässigt" in mw.reason  # above the floor: follows density
    if method == "dbscan":
        eps = next(c for c in run.choices if c.name == "eps_m")
        assert 50 <= eps.value <= 250 and "k-avstånd" in eps.reason
    zones = run.zones[run.zones[schema.AREA_ID].eq("0123-jakobsberg")]
    top = zones.sort_values(schema.RANK).iloc[0]
    station = gaz[gaz[schema.NAME].eq("Jakobsbergs station")].to_crs(CRS).geometry.iloc[0]
    assert top[schema.NAME] == "Jakobsbergs station" or top.geometry.distance(station) <= 300
    assert top[schema.SHARE_OF_AREA] < 0.75  # was 457 of 458 with eps 375 / min 5
    assert top.geometry.area < 0.25 * areas.set_index(schema.AREA_ID).area["0123-jakobsberg"]


@NO_DEMO
@pytest.mark.parametrize("method", ["gistar", "dbscan", "hdbscan"])
def test_demo_planted_centres_are_found(method):
    """Recall of the ten busiest planted hotspots (all of 2017, all categories): ≥ 9 of 10
    have a zone within 300 m of their place, each area analysed at its own scale."""
    from geo import demo, io, timewin

    paths = demo.demo_paths()
    areas = io.load_boundaries(paths["areas"]).frame
    inc = io.load_incidents(paths["incidents"], category_map=paths["category_map"]).frame
    inc = io.flag_centre_points(inc, areas)
    year = timewin.filter_incidents(inc, start="2017-01-01", end="2017-12-31")
    gaz = io.load_gazetteer(paths["gazetteer"]).frame
    places = []
    for source in sorted(demo._HOTSPOTS, key=lambda s: -s.annual):
        if source.before > 0 and source.place not in places:
            places.append(source.place)
    run = run_hotspots(year, areas, method=method, gazetteer=gaz)
    where = gaz.set_index(schema.NAME).geometry
    found = [p for p in places[:10] if run.zones.distance(where[p]).min() <= 300]
    assert len(found) >= 9, sorted(set(places[:10]) - set(found))
    assert run.zones.geometry.area.max() <= 0.25e6 + 1
