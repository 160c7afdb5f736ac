"""Hotspots and patrol zones on a real incident pattern, not the planted demo.

San Francisco's incidents of July–December 2012 moved onto Farsta
(``../shared/data/incidents/sf-2012``, see its PROVENANCE.md) with the real boundaries in
``../shared/data/boundaries``: no boundaries (the incidents' hull), Stockholm's stadsdelar,
and Sweden's 290 kommuner. Whatever the method and the areas, every zone must be a place a
patrol can cover, hold incidents, and have PAI equal to an independent recount against the
area it was analysed in. Skipped when ../shared is absent.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import io, schema
from geo.analysis import MIN_ZONE_INCIDENTS, run_hotspots
from geo.grid import AUTO_CELL_RANGE_M, MAX_AUTO_BAND_M
from geo.patrol import study_area
from geo.zones import DEFAULT_MAX_ZONE_KM2, evaluate_zones

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SF = SHARED / "incidents" / "sf-2012" / "sf2012_moved_to_farsta_sweref99tm.csv"
STADSDELAR = SHARED / "boundaries" / "stockholm-stadsdelar" / "geojson" / "fullsize"
KOMMUNER = SHARED / "boundaries" / "se-kommuner-scb" / "kommun.geojson"
MAPPING = {"x": "x", "y": "y", "time": "datum", "category": "brottstyp", "id": "arendenummer"}

pytestmark = [
    pytest.mark.skipif(not SF.exists(), reason="../shared/data (real incidents) is absent"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def incidents():
    return io.load_incidents(SF, mapping=MAPPING, crs="EPSG:3006").frame


@pytest.fixture(scope="module")
def boundaries(incidents):
    return {
        "inga": study_area(incidents, buffer_m=250),
        "stadsdelar": io.load_boundaries(STADSDELAR / "stadsdelar.geo.json").frame,
        "kommuner": io.load_boundaries(
            KOMMUNER, id_col="kommun_kod", name_col="kommun", level="kommun"
        ).frame,
    }


RUNS = [(b, m) for b in ("inga", "stadsdelar", "kommuner") for m in ("gistar", "dbscan", "hdbscan")]


@pytest.fixture(scope="module")
def runs(incidents, boundaries):
    cache = {}

    def get(areas_key, method):
        if (areas_key, method) not in cache:
            areas = boundaries[areas_key]
            cache[areas_key, method] = run_hotspots(
                io.flag_centre_points(incidents, areas), areas, method=method
            )
        return cache[areas_key, method]

    return get


@pytest.mark.parametrize(("areas_key", "method"), RUNS, ids=[f"{b}-{m}" for b, m in RUNS])
def test_every_zone_is_a_place_a_patrol_can_cover(runs, areas_key, method):
    zones = runs(areas_key, method).zones
    assert len(zones) >= 5
    assert zones.geometry.area.max() / 1e6 <= DEFAULT_MAX_ZONE_KM2 + 1e-9
    assert (zones[schema.INCIDENT_COUNT] >= MIN_ZONE_INCIDENTS).all()  # none without incidents
    assert zones.geometry.is_valid.all()
    # zones of one area never overlap (one incident, one zone)
    for _, grp in zones.groupby(schema.AREA_ID):
        union = shapely.union_all(grp.geometry.values)
        assert union.area == pytest.approx(grp.geometry.area.sum(), rel=1e-6)


@pytest.mark.parametrize(("areas_key", "method"), RUNS, ids=[f"{b}-{m}" for b, m in RUNS])
def test_automatic_scale_is_patrol_scale(runs, areas_key, method):
    run = runs(areas_key, method)
    cells = [c for c in run.choices if c.name == "cell_size_m"]
    bands = [c for c in run.choices if c.name == "band_m"]
    assert cells and len(cells) == len(bands)
    assert all(AUTO_CELL_RANGE_M[0] <= c.value <= AUTO_CELL_RANGE_M[1] for c in cells)
    assert all(c.value * 2 <= b.value <= MAX_AUTO_BAND_M for c, b in zip(cells, bands, strict=True))
    # the range edge is never called a peak
    assert not any("första topp" in b.reason and b.value == MAX_AUTO_BAND_M for b in bands)
    # one scale per analysed area, each named
    assert len({c.area_id for c in cells}) == len(cells)
    assert set(run.cells[schema.AREA_ID]) == {c.area_id for c in cells}
    if method == "dbscan":
        eps = [c.value for c in run.choices if c.name == "eps_m"]
        assert eps and all(50 <= e <= 250 for e in eps)


@pytest.mark.parametrize(("areas_key", "method"), RUNS, ids=[f"{b}-{m}" for b, m in RUNS])
def test_pai_equals_a_recount_against_the_area_analysed(
    runs, incidents, boundaries, areas_key, method
):
    run = runs(areas_key, method)
    zones = run.zones
    areas = boundaries[areas_key].set_index(schema.AREA_ID)
    # The incidents the run analysed (centre-point stacks left out), placed by sjoin.
    used = io.flag_centre_points(incidents, boundaries[areas_key])
    used = used[~used[schema.AT_AREA_CENTRE]]
    placed = gpd.sjoin(used, boundaries[areas_key][[schema.AREA_ID, "geometry"]], how="inner")
    for _, z in zones.head(20).iterrows():
        in_area = placed[placed[schema.AREA_ID] == z[schema.AREA_ID]]
        n = int(in_area.within(z.geometry).sum() + in_area.touches(z.geometry).sum())
        big_n = len(in_area.index.unique())
        a, big_a = z.geometry.area / 1e6, areas.loc[z[schema.AREA_ID]].geometry.area / 1e6
        assert z[schema.INCIDENT_COUNT] == n
        assert z[schema.PAI] == pytest.approx((n / big_n) / (a / big_a), rel=1e-6)


def test_only_the_kommuner_that_hold_the_incidents_are_analysed(runs):
    run = runs("kommuner", "gistar")
    analysed = {c.area_id for c in run.choices if c.name == "cell_size_m"}
    # The moved pattern covers Stockholm, Huddinge and Haninge; Nacka holds too few.
    assert {"0180", "0126"} <= analysed and len(analysed) <= 5
    assert any("färre än 30 händelser" in m and "Nacka" in m for m in run.messages)


def test_top_zone_names_are_distinct_within_each_area(runs):
    zones = runs("stadsdelar", "gistar").zones
    assert not zones.duplicated([schema.AREA_ID, schema.NAME]).any()


def test_evaluate_zones_reprojects_another_projected_crs(runs, incidents, boundaries):
    zones = runs("stadsdelar", "gistar").zones
    areas = boundaries["stadsdelar"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same, _ = evaluate_zones(zones, incidents, areas)
    with pytest.warns(UserWarning, match="reprojected to EPSG:3006"):
        other, _ = evaluate_zones(zones.to_crs(3011), incidents.to_crs(3011), areas)
    assert same["in_zones"].sum() > 0  # not the silent zeros of old
    np.testing.assert_allclose(other["hit_rate"], same["hit_rate"], rtol=1e-6)


def _best_single_cells(points: gpd.GeoDataFrame, k: int = 5, size: float = 250.0) -> int:
    xy = shapely.get_coordinates(points.geometry.values)
    _, counts = np.unique(np.floor(xy / size), axis=0, return_counts=True)
    return int(np.sort(counts)[-k:].sum())


def test_cli_zones_k5_beat_the_five_best_single_cells(tmp_path, capsys, incidents):
    from geo.cli import main

    out = tmp_path / "zoner.geojson"
    code = main(
        [
            "zones", "--incidents", str(SF), "--x-col", "x", "--y-col", "y",
            "--crs", "EPSG:3006", "--time-col", "datum", "--category-col", "brottstyp",
            "--id-col", "arendenummer", "--boundaries", str(KOMMUNER),
            "--area-id-col", "kommun_kod", "--area-name-col", "kommun", "--k", "5",
            "--categories", "rån,narkotikabrott,skadegörelse", "--window", "alla",
            "--out", str(out), "--json",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    info = json.loads(captured.out)
    zones = info["zones"]
    assert len(zones) == 5
    assert max(z["area_km2"] for z in zones) <= DEFAULT_MAX_ZONE_KM2 + 1e-9
    # PAI against the kommuner analysed, stated with its figure, not the whole country
    analysed = info["parameters"]["areas"]
    assert "km² i " in analysed and "Stockholm" in analysed and "Kiruna" not in analysed
    km2 = float(analysed.split(" km²")[0].replace(",", "."))
    assert 300 < km2 < 1500  # a few kommuner around Farsta, not Sweden's 450 000 km²
    # date-only file: no hours recommended, and it says why
    assert all(z["recommended_hours"] == "–" for z in zones)
    window = incidents[incidents[schema.CATEGORY].isin(["rån", "narkotikabrott", "skadegörelse"])]
    covered = round(zones[-1]["cumulative_hit_rate"] * len(window))
    assert covered >= _best_single_cells(window)


def test_cli_hotspots_default_on_the_real_pattern(tmp_path, capsys):
    from geo.cli import main

    out = tmp_path / "h.gpkg"
    args = ["hotspots", "--incidents", str(SF), "--x-col", "x", "--y-col", "y",
            "--crs", "EPSG:3006", "--time-col", "datum", "--category-col", "brottstyp",
            "--id-col", "arendenummer", "--out", str(out), "--json"]  # fmt: skip
    assert main(args) == 0
    info = json.loads(capsys.readouterr().out)
    params = {p["name"]: p for p in info["parameters"]}
    assert 50 <= params["cell_size_m"]["value"] <= 250
    assert params["band_m"]["value"] <= 1000 and "första topp" not in params["band_m"]["reason"]
    zones = gpd.read_file(out, layer="zones")
    assert (zones.to_crs(3006).area / 1e6).max() <= DEFAULT_MAX_ZONE_KM2 + 1e-6
    assert (zones[schema.INCIDENT_COUNT] > 0).all()
