"""Uploads that could take the server down (issue 18): each is refused with one Swedish
sentence, by a check before reading or by the reader's child process running out of its
time or memory, through the real paths (geo.io loaders, the CLI, the Före/efter and Data
pages, photos on inspection issues)."""

from __future__ import annotations

import json
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Point, box
from streamlit.testing.v1 import AppTest

from geo import guards, io
from geo.cli import main
from geo.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
X0, Y0 = 660_000.0, 6_590_000.0  # Järfälla, EPSG:3006


def _recursive_view_gpkg(path: Path) -> Path:
    """A real GeoPackage whose one layer is a view that never ends (the 72 KB attack file)."""
    gpd.GeoDataFrame(
        {"zone_id": ["z1"]}, geometry=[box(X0, Y0, X0 + 100, Y0 + 100)], crs=3006
    ).to_file(path, layer="base", driver="GPKG")
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE VIEW zoner AS
          WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r)
          SELECT r.i AS fid, b.geom AS geom, b.zone_id AS zone_id FROM r, base b;
        INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
          VALUES ('zoner', 'features', 'zoner', 3006);
        INSERT INTO gpkg_geometry_columns VALUES ('zoner', 'geom', 'POLYGON', 3006, 0, 0);
        DELETE FROM gpkg_contents WHERE table_name = 'base';
        DELETE FROM gpkg_geometry_columns WHERE table_name = 'base';
        """
    )
    con.commit()
    con.close()
    return path


def test_recursive_view_geopackage_refused_before_gdal(tmp_path):
    path = _recursive_view_gpkg(tmp_path / "zoner.gpkg")
    # refused within seconds: the count hits its row cap or its time budget, whichever first
    with pytest.raises(
        InputError, match="lagret zoner (har fler än 2000000 objekt|kunde inte räknas)"
    ):
        io.load_boundaries(path)


def test_recursive_view_on_the_fore_efter_page(tmp_path):
    path = _recursive_view_gpkg(tmp_path / "zoner.gpkg")
    before = set(Path(tempfile.gettempdir()).glob("lagesbild-*"))
    at = AppTest.from_file(str(ROOT / "views" / "fore_efter.py"), default_timeout=180)
    at.run()
    at.radio(key="fe_source").set_value("file")
    at.run()
    at.get("file_uploader")[0].set_value(
        ("zoner.gpkg", path.read_bytes(), "application/geopackage+sqlite3")
    )
    at.run()
    assert not at.exception
    assert any(e.value.startswith("Zonfilen: Filen zoner.gpkg") for e in at.error)
    assert any("lagret zoner" in e.value for e in at.error)
    # the upload was written to a private folder only while it was read, then removed
    assert set(Path(tempfile.gettempdir()).glob("lagesbild-*")) == before


def test_endless_view_that_never_yields_is_stopped_by_the_budget(tmp_path, monkeypatch):
    path = _recursive_view_gpkg(tmp_path / "loop.gpkg")
    con = sqlite3.connect(path)
    con.executescript(
        "DROP VIEW zoner; CREATE VIEW zoner AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL "
        "SELECT i + 1 FROM r) SELECT r.i AS fid, b.geom AS geom FROM r, base b WHERE r.i < 0;"
    )
    con.close()
    monkeypatch.setattr(guards, "GPKG_COUNT_BUDGET_S", 0.5)
    with pytest.raises(InputError, match="kunde inte räknas på 0,5 sekunder"):
        io.load_boundaries(path)


def _parquet_bomb(path: Path, rows: int, columns: int = 1) -> Path:
    # constant columns: run-length encoded, so millions of rows fit in a few kilobytes
    table = pa.table({f"c{i}": pa.repeat(pa.scalar(17.8), rows) for i in range(columns)})
    pq.write_table(table, path, row_group_size=rows)
    return path


def test_parquet_claiming_too_many_rows(tmp_path, capsys):
    path = _parquet_bomb(tmp_path / "bomb.parquet", 2_000_001)
    assert path.stat().st_size < 200_000  # small on disk, two million rows inside
    with pytest.raises(InputError, match="säger sig ha 2000001 rader; högst 2000000"):
        io.load_incidents(path)
    # the CLI reads the analyst's own files without the upload limits (issue 15): the two
    # million rows are read and the file is refused for what it lacks, exit code 2
    assert main(["validate", "incidents", str(path)]) == 2
    assert "saknar en tidskolumn" in capsys.readouterr().err


def test_reader_out_of_memory_is_refused_and_the_server_keeps_its_memory(tmp_path, monkeypatch):
    # 1.5 M rows x 12 float64 columns = 144 MB once read, from a file of a few kilobytes
    path = _parquet_bomb(tmp_path / "stor.parquet", 1_500_000, columns=12)
    monkeypatch.setenv(guards.READ_MEMORY_ENV, "64")  # a reader may add 64 MB here
    with pytest.raises(InputError, match="kräver mer än 64 MB minne att läsa och avbröts"):
        io.load_incidents(path)


def test_reader_out_of_time_is_killed(monkeypatch):
    with pytest.raises(InputError, match="tog för lång tid att läsa \\(mer än 0.5 s\\)"):
        guards.run_limited(_sleep, 60, name="seg.gpkg", timeout_s=0.5)


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _features(n: int, *, escaped: bool = False) -> str:
    tag = '"typ\\u0065": "Featur\\u0065"' if escaped else '"type": "Feature"'
    feats = [
        f'{{{tag}, "properties": {{"area_id": "a{i}", "area_name": "A{i}"}}, "geometry": '
        f'{{"type": "Polygon", "coordinates": [[[17.8, 59.4], [17.81, 59.4], [17.81, 59.41], '
        f"[17.8, 59.4]]]}}}}"
        for i in range(n)
    ]
    return '{"type": "FeatureCollection", "features": [' + ", ".join(feats) + "]}"


def test_escaped_type_tags_are_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_GEOJSON_FEATURES", 10)
    path = tmp_path / "gömd.geojson"
    path.write_text(_features(11, escaped=True), encoding="utf-8")
    assert len(gpd.read_file(path)) == 11  # GDAL reads them as features ...
    with pytest.raises(InputError, match="fler än 10 objekt"):  # ... so they count
        io.load_boundaries(path)


def test_zipped_geojson_gets_the_same_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_GEOJSON_FEATURES", 10)
    path = tmp_path / "områden.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("områden.geojson", _features(11))
    with pytest.raises(InputError, match="innehåller områden.geojson med fler än 10 objekt"):
        io.load_boundaries(path)


def test_zipped_member_over_its_size_limit(tmp_path, monkeypatch):
    monkeypatch.setitem(guards.MAX_BYTES, ".geojson", 50_000)  # plain limit for GeoJSON
    text = _features(400)  # ~23 KB per 100 features: ~92 KB
    path = tmp_path / "stor.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("stor.geojson", text)
    assert path.stat().st_size < 50_000  # small zipped, big unpacked
    with pytest.raises(InputError, match="packas upp till .*största tillåtna storlek för .geojson"):
        io.load_boundaries(path)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("w", "h"), [(10_000, 10_000), (20_000, 20_000)], ids=["100MP", "400MP"])
def test_decompression_bomb_photo_refused(w, h):
    from geo.inspections import validate_photo

    with pytest.raises(InputError, match="för många bildpunkter"):
        validate_photo(_png_header_only(w, h))


def test_fuzzed_bytes_still_one_sentence(tmp_path):
    # the child process passes the readers' own InputError through unchanged
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1 not really parquet PAR1")
    with pytest.raises(InputError, match="kan inte läsas som Parquet"):
        io.load_incidents(path)


def test_sandboxed_read_returns_the_same_frame(tmp_path):
    path = tmp_path / "punkter.geojson"
    gpd.GeoDataFrame(
        {"id": ["a", "b"], "occurred_at": ["2018-03-01 20:00", "2018-03-02 21:00"],
         "category": ["rån", "rån"]},
        geometry=[Point(17.83, 59.42), Point(17.84, 59.43)], crs=4326,
    ).to_file(path)  # fmt: skip
    result = io.load_incidents(path)
    assert result.loaded == 2 and json.loads(json.dumps(result.to_json_dict()))["rows"] == 2
