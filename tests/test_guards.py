"""geo.guards: upload limits, zip bombs, enormous GeoJSON, retention; the importers use them."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import guards, io, schema
from geo.errors import InputError
from geo.exports import export_frame


@pytest.mark.parametrize(
    ("name", "size", "kind", "match"),
    [
        ("a.exe", 10, "incidents", r"filtyp som inte tas emot \(\.exe\)"),
        ("a.csv", 10, "areas", r"filtyp som inte tas emot \(\.csv\); tillåtna är geojson"),
        ("a", 10, None, r"ingen filändelse"),
        (
            "a.csv",
            100 * guards.MB + 1,
            "incidents",
            r"är 100,0 MB; största tillåtna storlek för \.csv är 100,0 MB",
        ),
    ],
    ids=["exe", "csv-as-areas", "no-suffix", "too-big"],
)
def test_check_upload_refuses(name, size, kind, match):
    with pytest.raises(InputError, match=match):
        guards.check_upload(name, size, kind=kind)


def test_check_upload_accepts_and_rejects_unknown_kind():
    guards.check_upload("Gränser.GeoJSON", 5 * guards.MB, kind="areas")
    with pytest.raises(ValueError, match="kind was 'photos'"):
        guards.check_upload("a.csv", 1, kind="photos")


def _zip(path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("members", "kwargs", "match"),
    [
        ({"a.shp": b"\0" * 3_000_000}, {}, r"zip-bomb: a\.shp packas upp \d+ gånger \(högst 100\)"),
        ({f"f{i}.txt": b"x" for i in range(5)}, {"max_members": 4}, r"har 5 filer; högst 4"),
        ({"../evil.shp": b"x"}, {}, r"otillåten sökväg: \.\./evil\.shp"),
        ({"/abs.shp": b"x"}, {}, r"otillåten sökväg"),
        ({"inner.zip": b"x"}, {}, r"packad fil \(inner\.zip\)"),
        # 3 stored (uncompressed) members of 1 MB each: 3 MB > 2 MB allowed in total
        (
            {f"m{i}.dbf": b"y" * guards.MB for i in range(3)},
            {"max_total_bytes": 2 * guards.MB},
            r"packas upp till 3,0 MB; högst 2,0 MB",
        ),
    ],
    ids=["ratio", "members", "dotdot", "absolute", "nested", "total"],
)
def test_check_zip_refuses(tmp_path, members, kwargs, match):
    method = zipfile.ZIP_STORED if "m0.dbf" in members else zipfile.ZIP_DEFLATED
    path = _zip(tmp_path / "x.zip", members, method)
    with pytest.raises(InputError, match=match):
        guards.check_zip(path, **kwargs)


def test_check_zip_accepts_a_shapefile_and_counts_bytes(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"name": ["a"]}, geometry=[shapely.Point(674000, 6590000)], crs=schema.CRS_METRIC
    )
    gdf.to_file(tmp_path / "p.shp")
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in tmp_path.glob("p.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    expected = sum(f.stat().st_size for f in tmp_path.glob("p.*") if f.suffix != ".zip")
    assert guards.check_zip(path) == expected


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match="ingen giltig zip-fil"):
        guards.check_zip(path)


def test_feature_count_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "_CHUNK", 7)  # tags straddle every chunk boundary
    feats = ", ".join('{"type": "Feature", "properties": {}}' for _ in range(13))
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [' + feats + "]}")
    assert guards.count_geojson_features(path) == 13


def test_enormous_geojson_refused_by_the_importer(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_GEOJSON_FEATURES", 2)
    feats = [
        {
            "type": "Feature",
            "properties": {"name": f"a{i}"},
            "geometry": {"type": "Point", "coordinates": [17.8, 59.4]},
        }
        for i in range(3)
    ]
    path = tmp_path / "g.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    with pytest.raises(InputError, match="Filen g.geojson har fler än 2 objekt"):
        io.load_gazetteer(path)


def test_zip_bomb_refused_by_the_importer(tmp_path):
    path = _zip(tmp_path / "b.zip", {"b.shp": b"\0" * 5_000_000})
    with pytest.raises(InputError, match="zip-bomb"):
        io.load_boundaries(path)


# --- retention -------------------------------------------------------------------------------
def _incidents(times: list[str]) -> gpd.GeoDataFrame:
    t = pd.to_datetime(times).tz_localize(schema.TZ)
    return gpd.GeoDataFrame(
        {schema.ID: [str(i) for i in range(len(t))], schema.OCCURRED_AT: t},
        geometry=shapely.points(range(len(t)), range(len(t))),
        crs=schema.CRS_METRIC,
    )


def test_purge_keeps_the_period_and_does_not_mutate():
    g = _incidents(["2024-01-01 10:00", "2024-12-01 10:00", "2024-12-30 23:00"])
    now = pd.Timestamp("2024-12-31 12:00", tz=schema.TZ).to_pydatetime()
    # cut-off 2024-12-31 12:00 - 30 days = 2024-12-01 12:00: the 10:00 incident is older
    kept, dropped = guards.purge_older_than(g, days=30, now=now)
    assert kept[schema.ID].tolist() == ["2"] and dropped == 2
    assert len(g) == 3


@pytest.mark.parametrize(
    ("raw", "match"), [("0", "'0'"), ("två år", "'två år'"), ("-5", "'-5'")], ids=str
)
def test_retention_env_must_be_positive_days(monkeypatch, raw, match):
    monkeypatch.setenv(guards.RETENTION_ENV, raw)
    with pytest.raises(InputError, match=f"LAGESBILD_RETENTION_DAYS var {match}"):
        guards.retention_days()


def test_retain_uses_env_and_skips_frames_without_times(monkeypatch):
    monkeypatch.setenv(guards.RETENTION_ENV, "36500")  # 100 years: keeps everything
    g = _incidents(["2020-01-01"])
    assert guards.retain(g)[1] == 0
    monkeypatch.setenv(guards.RETENTION_ENV, "1")
    assert guards.retain(g)[1] == 1
    monkeypatch.delenv(guards.RETENTION_ENV)
    assert guards.retain(g)[1] == 0
    areas = gpd.GeoDataFrame({"area_id": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)])
    assert guards.retain(areas, days=1)[1] == 0


def test_purge_rejects_bad_arguments():
    g = _incidents(["2020-01-01"])
    with pytest.raises(ValueError, match="days was 0"):
        guards.purge_older_than(g, days=0)
    with pytest.raises(ValueError, match="has no time zone"):
        guards.purge_older_than(g, days=1, now=pd.Timestamp("2024-01-01").to_pydatetime())


# --- public exports: suppressed counts, no incident points -----------------------------------
def test_public_export_suppresses_small_counts_and_has_no_points():
    zones = gpd.GeoDataFrame(
        {
            schema.ZONE_ID: ["z1", "z2"],
            schema.NAME: ["Jakobsbergs station", "Viksjö centrum"],
            schema.RANK: [1, 2],
            schema.INCIDENT_COUNT: [12, 4],
        },
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)],
        crs=schema.CRS_METRIC,
    )
    out = export_frame(zones, public=True)
    assert out[schema.INCIDENT_COUNT].tolist() == ["12", "<5"]  # 4 < 5 suppressed
    assert set(out.geom_type) <= {"Polygon", "MultiPolygon"}
    from geo.exports import to_geojson

    doc = json.loads(to_geojson(zones, public=True))
    assert {f["geometry"]["type"] for f in doc["features"]} == {"Polygon"}
    assert [f["properties"][schema.INCIDENT_COUNT] for f in doc["features"]] == ["12", "<5"]
