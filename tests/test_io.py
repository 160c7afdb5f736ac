"""Contracts and round trips of geo.io: every format, mappings, areas, centre-point stacks."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import io, schema
from geo.errors import InputError
from geo.mapping import build_category_map, guess_columns, read_mapping_toml

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "boundaries"
REPO = Path(__file__).resolve().parents[1]

INCIDENT_COLUMNS = [
    schema.ID,
    schema.OCCURRED_AT,
    schema.CATEGORY,
    schema.RAW_CATEGORY,
    schema.WEIGHT,
    schema.ROW,
    "geometry",
]


def incidents_3006() -> gpd.GeoDataFrame:
    """Three incidents near Jakobsbergs station, in EPSG:3006, times as ISO strings.

    Column names fit a shapefile's 10-character limit (so `tidpunkt`, not `occurred_at`).
    """
    return gpd.GeoDataFrame(
        {
            "id": ["A1", "A2", "A3"],
            "tidpunkt": ["2018-03-02 23:30", "2018-03-03 02:00", "2018-07-14T21:15:00+02:00"],
            "brottstyp": ["Misshandel", "rån", "klotter"],
            "vikt": [1.0, 2.0, 0.5],
        },
        geometry=shapely.points(
            [661000.0, 661250.5, 660900.25], [6590000.0, 6590100.5, 6589950.75]
        ),
        crs=schema.CRS_METRIC,
    )


EXPECTED_TIMES = [
    "2018-03-02 23:30:00+01:00",
    "2018-03-03 02:00:00+01:00",
    "2018-07-14 21:15:00+02:00",
]


def write_csv_lonlat(frame: gpd.GeoDataFrame, path: Path) -> None:
    ll = frame.to_crs(schema.CRS_WGS84)
    pd.DataFrame(frame.drop(columns="geometry")).assign(
        lon=[f"{v:.10f}" for v in ll.geometry.x], lat=[f"{v:.10f}" for v in ll.geometry.y]
    ).to_csv(path, index=False)


def write_csv_xy(frame: gpd.GeoDataFrame, path: Path) -> None:
    pd.DataFrame(frame.drop(columns="geometry")).assign(
        x=frame.geometry.x, y=frame.geometry.y
    ).to_csv(path, index=False)


def write_zip(frame: gpd.GeoDataFrame, path: Path) -> None:
    shp = path.with_suffix(".shp")
    frame.to_file(shp)
    with zipfile.ZipFile(path, "w") as zf:
        for part in shp.parent.glob(shp.stem + ".*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)


WRITERS = {
    "csv-lonlat": ("h.csv", write_csv_lonlat, {}),
    "csv-xy-3006": ("h.csv", write_csv_xy, {"crs": "EPSG:3006"}),
    "geojson": ("h.geojson", lambda f, p: f.to_crs(4326).to_file(p), {}),
    "gpkg": ("h.gpkg", lambda f, p: f.to_file(p, layer="brott"), {}),
    "shp": ("h.shp", lambda f, p: f.to_file(p), {}),
    "shp-zip": ("h.zip", write_zip, {}),
    "geoparquet": ("h.parquet", lambda f, p: f.to_parquet(p), {}),
    "geoparquet-3011": ("h.parquet", lambda f, p: f.to_crs(3011).to_parquet(p), {}),
}


@pytest.mark.parametrize("fmt", WRITERS.values(), ids=WRITERS.keys())
def test_incident_round_trip(fmt, tmp_path: Path) -> None:
    name, write, kwargs = fmt
    frame = incidents_3006()
    path = tmp_path / name
    write(frame, path)
    res = io.load_incidents(path, **kwargs)
    assert (res.rows, res.loaded, len(res.rejected), res.reasons) == (3, 3, 0, {})
    out = res.frame
    assert out.columns.tolist() == INCIDENT_COLUMNS
    assert out.crs.to_epsg() == 3006
    assert out[schema.ID].tolist() == ["A1", "A2", "A3"]
    assert [str(t) for t in out[schema.OCCURRED_AT]] == EXPECTED_TIMES
    assert str(out[schema.OCCURRED_AT].dt.tz) == schema.TZ
    assert out[schema.CATEGORY].tolist() == [schema.VIOLENCE, "rån", "skadegörelse"]
    assert out[schema.RAW_CATEGORY].tolist() == ["Misshandel", "rån", "klotter"]
    np.testing.assert_allclose(out[schema.WEIGHT], [1.0, 2.0, 0.5])
    # GeoJSON keeps 7 decimals of a degree (about 1 cm); the others are exact to a mm
    np.testing.assert_allclose(out.geometry.x, frame.geometry.x, atol=0.02)
    np.testing.assert_allclose(out.geometry.y, frame.geometry.y, atol=0.02)
    expected_rows = [2, 3, 4] if name.endswith(".csv") else [1, 2, 3]
    assert out[schema.ROW].tolist() == expected_rows


def test_plain_parquet_with_coordinate_columns(tmp_path: Path) -> None:
    frame = incidents_3006()
    ll = frame.to_crs(4326)
    table = pd.DataFrame(frame.drop(columns="geometry")).assign(
        lon=ll.geometry.x, lat=ll.geometry.y
    )
    table.to_parquet(tmp_path / "h.parquet")
    res = io.load_incidents(tmp_path / "h.parquet")
    assert res.loaded == 3
    np.testing.assert_allclose(res.frame.geometry.x, frame.geometry.x, atol=1e-3)


def test_datetime_columns_in_vector_files(tmp_path: Path) -> None:
    # GeoParquet keeps tz-aware datetimes: 22:30 UTC == 23:30 CET
    frame = incidents_3006().iloc[:1].copy()
    frame["tidpunkt"] = pd.to_datetime(["2018-03-02 22:30"]).tz_localize("UTC")
    frame.to_parquet(tmp_path / "h.parquet")
    res = io.load_incidents(tmp_path / "h.parquet")
    assert str(res.frame[schema.OCCURRED_AT].iloc[0]) == "2018-03-02 23:30:00+01:00"


def test_load_result_contract(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    write_csv_lonlat(incidents_3006(), path)
    with path.open("a") as f:
        f.write("A4,igår,rån,1,,59.42\n")
    res = io.load_incidents(path)
    assert res.to_json_dict() == {
        "rows": 4,
        "loaded": 3,
        "rejected": 1,
        "reasons": {"saknar koordinater": 1},
        "warnings": [],
        "crs": "EPSG:4326",
        "time_range": ["2018-03-02T23:30:00+01:00", "2018-07-14T21:15:00+02:00"],
    }
    assert res.notes == [
        "kolumnen 'id' tolkad som id",
        "kolumnen 'lon' tolkad som longitud",
        "kolumnen 'lat' tolkad som latitud",
        "kolumnen 'brottstyp' tolkad som kategori",
        "kolumnen 'vikt' tolkad som vikt",
        "kolumnen 'tidpunkt' tolkad som tidpunkt",
    ]
    assert res.rejected.columns[:2].tolist() == ["row", "reason"]


def test_loader_does_not_guess_when_mapped(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("Ärende,När,Typ,Öst,Nord\nK1,2018-03-02 23:30,0312,667000,6590000\n")
    res = io.load_incidents(
        path,
        mapping={"id": "Ärende", "time": "När", "category": "Typ", "x": "Öst", "y": "Nord"},
        category_map={"0312": "Rån"},
        crs=3006,
    )
    assert res.notes == []
    assert res.frame.loc[0, schema.CATEGORY] == "rån"
    assert res.frame.loc[0, schema.RAW_CATEGORY] == "0312"  # codes keep their leading zero


def test_toml_mapping_file(tmp_path: Path) -> None:
    toml = tmp_path / "mappning.toml"
    toml.write_text(
        '[columns]\nid = "Ärende"\ntime = "När"\ncategory = "Typ"\n\n'
        '[categories]\n"9301" = "rån"\n"skadegörelse" = ["0401", "Klotter, offentlig plats"]\n',
        encoding="utf-8",
    )
    columns, categories = read_mapping_toml(toml)
    assert columns == {"id": "Ärende", "time": "När", "category": "Typ"}
    assert categories == {
        "9301": "rån",
        "0401": "skadegörelse",
        "Klotter, offentlig plats": "skadegörelse",
    }
    path = tmp_path / "h.csv"
    path.write_text(
        "Ärende,När,Typ,lon,lat\n1,2018-03-02 23:30,  klotter,  OFFENTLIG plats ,17.83,59.42\n".replace(
            "  klotter,  OFFENTLIG plats ", '"  klotter,  OFFENTLIG plats "'
        )
    )
    res = io.load_incidents(path, mapping=toml)
    assert res.frame.loc[0, schema.CATEGORY] == "skadegörelse"


def test_bad_toml_and_unknown_category(tmp_path: Path) -> None:
    bad = tmp_path / "fel.toml"
    bad.write_text("[columns\n")
    with pytest.raises(InputError, match=r"^Mappningsfilen fel\.toml är inte giltig TOML: "):
        read_mapping_toml(bad)
    with pytest.raises(
        InputError, match=r"anger kategorier som inte finns: 'x' -> 'mord'; tillåtna: "
    ):
        build_category_map({"x": "mord"})


def test_unknown_mapping_role_and_missing_column() -> None:
    with pytest.raises(InputError, match=r"^Okänd roll i kolumnmappningen för h\.csv: färg; "):
        guess_columns(["a"], ["lon"], {"färg": "a"}, file_name="h.csv")
    with pytest.raises(
        InputError,
        match=r"^Filen h\.csv saknar kolumnen 'Lat' \(latitud\); hittade kolumnerna: a, b\.$",
    ):
        guess_columns(["a", "b"], ["lat"], {"lat": "Lat"}, file_name="h.csv")


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["Longitud", "Latitud"], {"lon": "Longitud", "lat": "Latitud"}),
        (["lng", "latitude"], {"lon": "lng", "lat": "latitude"}),
        (["x_wgs84", "y_wgs84"], {"lon": "x_wgs84", "lat": "y_wgs84"}),
        (["Ärendenummer", "Brottskod"], {"id": "Ärendenummer", "category": "Brottskod"}),
        (["diarienummer", "kategori"], {"id": "diarienummer", "category": "kategori"}),
        (["datum", "tid"], {"date": "datum", "clock": "tid"}),
        (["tidpunkt", "datum"], {"time": "tidpunkt"}),
        (["time"], {"time": "time"}),
        (["datum"], {"time": "datum"}),
    ],
    ids=[
        "svenska",
        "lng",
        "x_wgs84",
        "ärendenummer",
        "diarienummer",
        "datum+tid",
        "tidpunkt",
        "time",
        "bara-datum",
    ],  # fmt: skip
)
def test_column_guesses(columns, expected) -> None:
    roles = ("id", "lon", "lat", "time", "date", "clock", "category")
    found, notes = guess_columns(columns, roles)
    assert found == expected
    assert len(notes) == len(expected)


def test_only_dates_warns(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("datum,lon,lat\n2018-03-02,17.83,59.42\n2018-03-03,17.83,59.43\n")
    res = io.load_incidents(path)
    assert res.warnings[-1] == (
        "Alla tider är 00:00: filen verkar bara ha datum, så tid på dygnet kan inte analyseras."
    )


def test_weights(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("tid,lon,lat,vikt\n2018-03-02 10:00,17.83,59.42,\n2018-03-02 10:00,17.83,59.42,-1\n"
                    "2018-03-02 10:00,17.83,59.42,\"2,5\"\n")  # fmt: skip
    res = io.load_incidents(path)
    np.testing.assert_allclose(res.frame[schema.WEIGHT], [1.0, 2.5])  # blank -> 1.0
    assert res.reasons == {"ogiltig vikt": 1}
    assert res.frame[schema.ID].tolist() == ["rad-2", "rad-4"]


def test_crs_for_lonlat_is_ignored_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("tid,lon,lat\n2018-03-02 10:00,17.83,59.42\n")
    res = io.load_incidents(path, crs="EPSG:3011")
    assert res.crs == "EPSG:4326"
    assert "läses alltid som WGS 84" in res.warnings[0]


def test_mapping_must_be_dict_or_path(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="`mapping` was int but is expected to be a dict"):
        io.load_incidents(tmp_path / "h.csv", mapping=3)


# --- dialogue and gazetteer -----------------------------------------------------------------
def test_dialogue_csv(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "id,lon,lat,reason,reason_category,time_of_day,mentions,dialogue_round,dialogue_date\n"
        "D1,17.8336,59.4236,Mörk gångtunnel,dålig belysning,kväll,3,2018 vår,2018-03-15\n"
        "D2,17.8336,59.4236,Langning,Narkotika,Nattetid,,2018 vår,2018-03-15\n"
        "D3,17.8336,59.4236,Bilar kör fort,färg,middag,0,2018 vår,2018-03-15\n"
        "D4,17.8336,59.4236,,,,,2018 vår,den femtonde\n"
    )
    res = io.load_dialogue(path)
    f = res.frame
    assert res.reasons == {"ogiltigt antal omnämnanden": 1}  # D3: 0 mentions
    assert f[schema.ID].tolist() == ["D1", "D2", "D4"]
    assert f[schema.REASON_CATEGORY].tolist() == ["dålig belysning", "narkotika", "annat"]
    assert f[schema.TIME_OF_DAY].fillna("-").tolist() == ["kväll", "natt", "-"]
    assert f[schema.MENTIONS].tolist() == [3, 1, 1]
    assert str(f[schema.DIALOGUE_DATE].iloc[0]) == "2018-03-15 00:00:00+01:00"
    assert pd.isna(f[schema.DIALOGUE_DATE].iloc[2])
    assert any(w.startswith("1 platser har en okänd anledningskategori") for w in res.warnings)
    assert any(w.startswith("1 platser har en okänd tid på dygnet") for w in res.warnings)
    assert any(w.startswith("1 dialogdatum kunde inte tolkas") for w in res.warnings)


def test_dialogue_polygons_and_derived_reason(tmp_path: Path) -> None:
    path = tmp_path / "d.geojson"
    gpd.GeoDataFrame(
        {"anledning": ["Dålig belysning i parken", "Gäng samlas", "Vet ej"]},
        geometry=[shapely.box(17.83, 59.42, 17.84, 59.43), shapely.Point(17.83, 59.42),
                  shapely.Point(17.84, 59.42)],
        crs=4326,
    ).to_file(path)  # fmt: skip
    res = io.load_dialogue(path)
    assert res.frame.geom_type.tolist() == ["Polygon", "Point", "Point"]
    assert res.frame[schema.REASON_CATEGORY].tolist() == ["dålig belysning", "gäng", "annat"]
    assert "anledningskategori härledd ur fritexten i anledningen med nyckelord" in res.notes


def test_gazetteer(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text(
        "name,kind,lon,lat\nJakobsbergs station,station,17.8336,59.4236\n,torg,17.8,59.4\n"
    )
    res = io.load_gazetteer(path)
    assert res.frame.columns.tolist() == [
        schema.PLACE_NAME,
        schema.PLACE_KIND,
        schema.ROW,
        "geometry",
    ]
    assert res.reasons == {"saknar namn": 1}
    with pytest.raises(
        InputError, match=r"^Filen g2\.csv saknar en namnkolumn; hittade kolumnerna: lon, lat\.$"
    ):
        (tmp_path / "g2.csv").write_text("lon,lat\n17.8,59.4\n")
        io.load_gazetteer(tmp_path / "g2.csv")


# --- boundaries -------------------------------------------------------------------------------
def test_boundaries_contract(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    gpd.GeoDataFrame(
        {"kod": ["01", "02", "01"], "namn": ["Jakobsberg", "Barkarby", "Igen"],
         "level": ["kommundel", "kommundel", "kommundel"], "parent_id": ["0123"] * 3},
        geometry=[shapely.box(17.80, 59.41, 17.85, 59.44), shapely.box(17.85, 59.39, 17.89, 59.41),
                  shapely.box(17.70, 59.41, 17.75, 59.44)],
        crs=4326,
    ).to_file(path)  # fmt: skip
    res = io.load_boundaries(path)
    f = res.frame
    assert f.columns.tolist() == [
        schema.AREA_ID,
        schema.AREA_NAME,
        schema.LEVEL,
        schema.PARENT_ID,
        schema.ROW,
        "geometry",
    ]
    assert f[schema.AREA_ID].tolist() == ["01", "02"]
    assert res.rejected["reason"].tolist() == ["dubblett av rad 1"]
    assert f[schema.PARENT_ID].tolist() == ["0123", "0123"]
    assert res.loaded + len(res.rejected) == res.rows


def test_boundaries_bad_level() -> None:
    with pytest.raises(
        InputError,
        match=r"^Nivån 'län' finns inte; tillåtna nivåer: kommun, lpo, kommundel, stadsdel\.$",
    ):
        io.load_boundaries("x.geojson", level="län")


def test_boundaries_need_geometry(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("namn,lon,lat\nA,17.8,59.4\n")
    with pytest.raises(InputError, match=r"^Filen a\.csv har inga geometrier; "):
        io.load_boundaries(tmp_path / "a.csv")


# --- assign_areas and flag_centre_points -----------------------------------------------------
def two_levels() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.AREA_ID: ["K", "S1", "S2"], schema.AREA_NAME: ["Kommun", "Väst", "Öst"],
         schema.LEVEL: ["kommun", "stadsdel", "stadsdel"]},
        geometry=[shapely.box(0, 0, 2000, 1000), shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        crs=schema.CRS_METRIC,
    )  # fmt: skip


def points(xs, ys) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.ID: [f"p{i}" for i in range(len(xs))], schema.ROW: np.arange(len(xs)) + 2},
        geometry=shapely.points(xs, ys),
        crs=schema.CRS_METRIC,
    )


def test_assign_areas_finest_level_and_outside() -> None:
    pts = points([500, 1500, 5000], [500, 500, 500])
    before = pts.copy()
    framed, outside = io.assign_areas(pts, two_levels())
    assert framed[schema.AREA_ID].tolist() == ["S1", "S2", None]
    assert outside.to_dict("list") == {"row": [4], "id": ["p2"], "reason": ["utanför alla områden"]}
    pd.testing.assert_frame_equal(pts, before)  # the argument is not mutated
    framed, _ = io.assign_areas(pts, two_levels(), level="kommun")
    assert framed[schema.AREA_NAME].tolist() == ["Kommun", "Kommun", None]


def test_assign_areas_reprojects_and_checks_types() -> None:
    pts = points([500], [500]).to_crs(3011)
    framed, outside = io.assign_areas(pts, two_levels())
    assert framed[schema.AREA_ID].tolist() == ["S1"] and outside.empty
    with pytest.raises(
        TypeError, match="`areas` was DataFrame but is expected to be a GeoDataFrame"
    ):
        io.assign_areas(pts, pd.DataFrame())
    with pytest.raises(ValueError, match=r"`level` was 'län' but is expected to be in"):
        io.assign_areas(pts, two_levels(), level="län")


def test_flag_centre_points() -> None:
    areas = two_levels()  # S1's centroid is (500, 500); the kommun's is (1000, 500)
    xs = [500] * 12 + [1800] * 15 + [1000] * 9 + [540] + [300]
    ys = [500] * 12 + [900] * 15 + [500] * 9 + [500] + [300]
    pts = points(xs, ys)
    flagged = io.flag_centre_points(pts, areas)
    flags = flagged[schema.AT_AREA_CENTRE].to_numpy()
    # 12 stacked on S1's centre: flagged; 15 stacked at a "station" (1800, 900), 300 m from
    # S2's centre (1500, 500): not; 9 on the kommun centre: too few (min_count 10); singles: not
    np.testing.assert_array_equal(flags, [True] * 12 + [False] * (15 + 9 + 2))
    assert schema.AT_AREA_CENTRE not in pts.columns
    tight = io.flag_centre_points(pts, areas, tolerance_m=1000, min_count=9)
    assert tight[schema.AT_AREA_CENTRE].sum() == 12 + 15 + 9
    with pytest.raises(ValueError, match="`min_count` was 1 but is expected to be >= 2"):
        io.flag_centre_points(pts, areas, min_count=1)
    with pytest.raises(
        ValueError, match=r"`incidents` CRS was EPSG:4326 but is expected to be metric"
    ):
        io.flag_centre_points(pts.to_crs(4326), areas)


# --- real boundary files in ../shared/data -------------------------------------------------
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/boundaries absent")


@needs_shared
def test_real_kommuner_scb() -> None:
    res = io.load_boundaries(SHARED / "se-kommuner-scb" / "kommun.geojson")
    f = res.frame
    assert (res.rows, res.loaded, res.crs) == (290, 290, "EPSG:4326")
    assert f.set_index(schema.AREA_ID).loc["0123", schema.AREA_NAME] == "Järfälla"
    assert set(f[schema.LEVEL]) == {"kommun"}
    assert f.geometry.is_valid.all()
    # Jakobsbergs station lies in Järfälla
    station = gpd.GeoDataFrame(geometry=[shapely.Point(17.8336, 59.4236)], crs=4326).to_crs(3006)
    framed, outside = io.assign_areas(station, f)
    assert framed[schema.AREA_ID].tolist() == ["0123"] and outside.empty
    parquet = io.load_boundaries(SHARED / "se-kommuner-scb" / "kommun.parquet")
    assert sorted(parquet.frame[schema.AREA_ID]) == sorted(f[schema.AREA_ID])


@needs_shared
def test_real_stockholm_shapefile_3011_matches_geojson() -> None:
    shp = io.load_boundaries(
        SHARED / "stockholm-stadsdelar" / "shapefiles" / "fullsize" / "stadsdelar.shp"
    )
    gj = io.load_boundaries(
        SHARED / "stockholm-stadsdelar" / "geojson" / "fullsize" / "stadsdelar.geo.json"
    )
    assert shp.crs == "EPSG:3011" and gj.crs == "EPSG:4326"
    assert shp.loaded == gj.loaded == 117
    a = shp.frame.set_index(schema.AREA_NAME).sort_index()
    b = gj.frame.set_index(schema.AREA_NAME).sort_index()
    assert "FARSTA" in a.index
    shift_m = a.geometry.centroid.distance(b.geometry.centroid)
    assert shift_m.max() < 5, shift_m.sort_values().tail()
    np.testing.assert_allclose(a.geometry.area, b.geometry.area, rtol=1e-3)


@needs_shared
def test_real_okfse_municipalities() -> None:
    res = io.load_boundaries(
        SHARED / "se-kommuner-okfse-simplified" / "swedish_municipalities.geojson"
    )
    assert (res.rows, res.loaded) == (290, 290)
    f = res.frame.set_index(schema.AREA_ID)
    assert f.loc["0123", schema.AREA_NAME] == "Järfälla"
    assert set(f[schema.LEVEL]) == {"kommun"}


# --- the demo data of data/ (written by geo.demo) loads with no mapping -----------------------
DEMO = {
    "incidents": (io.load_incidents, REPO / "data" / "incidents" / "demo_incidents.csv"),
    "dialogue": (io.load_dialogue, REPO / "data" / "incidents" / "demo_dialogue.csv"),
    "areas": (io.load_boundaries, REPO / "data" / "boundaries" / "demo_areas.geojson"),
    "gazetteer": (io.load_gazetteer, REPO / "data" / "places" / "gazetteer.csv"),
}


@pytest.mark.parametrize("loader_path", DEMO.values(), ids=DEMO.keys())
def test_demo_data_loads_without_mapping(loader_path) -> None:
    loader, path = loader_path
    if not path.exists():
        pytest.skip(f"{path.name} not generated yet")
    res = loader(path)
    assert res.rows > 0 and res.loaded == res.rows, (res.reasons, res.warnings)


def test_demo_centre_stack_flagged_station_stack_kept() -> None:
    incidents_path = DEMO["incidents"][1]
    areas_path = DEMO["areas"][1]
    if not (incidents_path.exists() and areas_path.exists()):
        pytest.skip("demo data not generated yet")
    incidents = io.load_incidents(incidents_path).frame
    areas = io.load_boundaries(areas_path).frame
    flagged = io.flag_centre_points(incidents, areas)
    at_centre = flagged[flagged[schema.AT_AREA_CENTRE]]
    # data/README.md: exactly 150 at Järfälla's centroid; the 80 at Barkarby station stay
    assert len(at_centre) == 150
    lonlat = at_centre.geometry.to_crs(4326).iloc[0]
    np.testing.assert_allclose([lonlat.x, lonlat.y], [17.830011, 59.434022], atol=1e-6)


@pytest.mark.parametrize(
    ("suffix", "content"),
    [(".gpkg", b"garbage, not a GeoPackage\x00\x01"), (".geojson", b"\x00\x01\x02 not json")],
    ids=["gpkg", "geojson"],
)
def test_unreadable_vector_file_is_one_plain_swedish_sentence(tmp_path, suffix, content):
    path = tmp_path / f"skräp{suffix}"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        io.load_incidents(path)
    message = str(info.value)
    assert message.startswith(f"Filen skräp{suffix} kan inte läsas som geodata: ")
    # GDAL's own English advice about driver prefixes never reaches the user
    assert "driver" not in message and "\n" not in message


def test_assign_areas_gives_each_point_its_innermost_area_across_kommuner():
    # Kommun A (0..100) split into kommundelar; kommun B (200..300) split into stadsdelar.
    # The finest level in the file is "stadsdel", but a point in A must still get its
    # kommundel, not nothing and not the kommun.
    areas = gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["A", "A1", "B", "B1"],
            schema.AREA_NAME: ["Kommun A", "Del A1", "Kommun B", "Stadsdel B1"],
            schema.LEVEL: ["kommun", "kommundel", "kommun", "stadsdel"],
        },
        geometry=[
            shapely.box(0, 0, 100, 100),
            shapely.box(0, 0, 100, 100),
            shapely.box(200, 0, 300, 100),
            shapely.box(200, 0, 300, 100),
        ],
        crs=schema.CRS_METRIC,
    )
    pts = gpd.GeoDataFrame(
        {schema.ROW: [2, 3, 4]},
        geometry=shapely.points([50, 250, 150], [50, 50, 50]),
        crs=schema.CRS_METRIC,
    )
    framed, outside = io.assign_areas(pts, areas)
    assert framed[schema.AREA_ID].tolist() == ["A1", "B1", None]
    assert outside[schema.ROW].tolist() == [4]
    # an explicit level still restricts to that level
    framed, _ = io.assign_areas(pts, areas, level="kommun")
    assert framed[schema.AREA_ID].tolist() == ["A", "B", None]
