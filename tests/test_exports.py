"""geo.exports: every format read back by GDAL (pyogrio) with the same zones and attributes."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Polygon, box

from geo import schema as S
from geo.errors import InputError
from geo.exports import (
    FORMATS,
    export_bytes,
    export_frame,
    export_zones,
    format_of,
    to_csv,
    to_geojson,
    to_kml,
    write_gpkg,
)

X0, Y0 = 660_000, 6_590_000  # near Jakobsberg, SWEREF 99 TM
PARAMS = {
    "window": "fre–lör 18–03",
    "categories": [S.VIOLENCE],
    "k": 2,
    "created_by": "analytiker",
    "created_at": "2026-03-06T10:00:00+01:00",
}


def zones() -> gpd.GeoDataFrame:
    # a square, and a square with a hole written clockwise (wrong way for RFC 7946)
    ring = [(X0 + 500, Y0), (X0 + 500, Y0 + 300), (X0 + 800, Y0 + 300), (X0 + 800, Y0)]
    hole = [(X0 + 600, Y0 + 100), (X0 + 700, Y0 + 100), (X0 + 700, Y0 + 200), (X0 + 600, Y0 + 200)]
    return gpd.GeoDataFrame(
        {
            S.ZONE_ID: ["z1", "z2"],
            S.NAME: ["Jakobsbergs station", 'Torget <b>&"stök"</b>'],
            "pick": [1, 2],
            "recommended_hours": ["fre–lör 22–01", "lör 23–02"],
            S.INCIDENT_COUNT: [12.0, 3.0],
            S.HIT_RATE: [0.4, 0.1],
            "cumulative_hit_rate": [0.4, 0.5],
            S.PAI: [40.0, 12.5],
            S.DIALOGUE_MENTIONS: [2.0, np.nan],
            S.AREA_KM2: [0.01, 0.08],
            "not_exported": ["x", "y"],
        },
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), Polygon(ring, [hole])],
        crs=S.CRS_METRIC,
    )


def _same_shapes(read: gpd.GeoDataFrame, tol_m: float = 0.05) -> None:
    got = read.to_crs(S.CRS_METRIC).geometry.values
    want = zones().geometry.values
    # symmetric difference area below tol_m × perimeter: equal up to coordinate rounding
    diff = shapely.area(shapely.symmetric_difference(got, want))
    assert (diff < tol_m * shapely.length(want)).all(), diff


def test_geojson_is_rfc7946_and_reads_back(tmp_path):
    text = to_geojson(zones(), params=PARAMS)
    doc = json.loads(text)
    assert "crs" not in doc
    assert doc["lagesbild"]["created_by"] == "analytiker"
    assert doc["lagesbild"]["parameters"]["window"] == "fre–lör 18–03"
    # right-hand rule: exterior counter-clockwise, holes clockwise
    poly = shapely.geometry.shape(doc["features"][1]["geometry"])
    assert poly.exterior.is_ccw and not poly.interiors[0].is_ccw
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 17 < lon < 18.5 and 59 < lat < 60  # lon/lat order, WGS 84
    path = tmp_path / "z.geojson"
    path.write_text(text, encoding="utf-8")
    read = pyogrio.read_dataframe(path)
    assert read.crs.to_epsg() == 4326
    assert read[S.NAME].tolist() == zones()[S.NAME].tolist()
    assert read["recommended_hours"].tolist() == ["fre–lör 22–01", "lör 23–02"]
    np.testing.assert_allclose(read[S.PAI], [40.0, 12.5])
    assert read[S.INCIDENT_COUNT].tolist() == [12, 3]
    assert "not_exported" not in read.columns
    _same_shapes(read)


def test_kml_reads_back_with_names_styles_and_escaped_text(tmp_path):
    text = to_kml(zones(), params=PARAMS)
    path = tmp_path / "z.kml"
    path.write_text(text, encoding="utf-8")
    read = pyogrio.read_dataframe(path)
    # the placemark name, unescaped back to what the user typed
    assert read["Name"].tolist() == ["Jakobsbergs station", 'Torget <b>&"stök"</b>']
    assert read[S.ZONE_ID].tolist() == ["z1", "z2"]
    assert read["recommended_hours"].tolist() == ["fre–lör 22–01", "lör 23–02"]
    assert "Rekommenderade timmar: fre–lör 22–01" in read["description"][0]
    assert "Händelser i fönstret: 12" in read["description"][0]
    np.testing.assert_allclose(read[S.PAI].astype(float), [40.0, 12.5])
    assert text.count("<PolyStyle") == 2
    assert "&lt;b&gt;" in text and "<b>" not in text
    assert "analytiker" in text and "fre–lör 18–03" in text
    _same_shapes(read)


def test_gpkg_has_zones_and_parameters_table(tmp_path):
    path = write_gpkg(zones(), tmp_path / "z.gpkg", params=PARAMS)
    layers = dict(pyogrio.list_layers(path))
    assert layers["zones"] == "Polygon" and layers["parameters"] is None
    read = pyogrio.read_dataframe(path, layer="zones")
    assert read.crs.to_epsg() == 3006
    assert read[S.NAME].tolist() == zones()[S.NAME].tolist()
    np.testing.assert_allclose(read[S.HIT_RATE], [0.4, 0.1])
    _same_shapes(read, tol_m=1e-6)
    params = pyogrio.read_dataframe(path, layer="parameters")
    table = dict(zip(params["key"], params["value"], strict=True))
    assert table["window"] == "fre–lör 18–03"
    assert table["created_by"] == "analytiker"
    assert table["categories"] == S.VIOLENCE
    # an ordinary SQLite reader sees the same table
    with sqlite3.connect(path) as con:
        assert con.execute("select value from parameters where key='k'").fetchone() == ("2",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["z.gpkg"]  # no temp files left


def test_csv_columns_and_centroids():
    text = to_csv(zones(), params=PARAMS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r[S.NAME] for r in rows] == zones()[S.NAME].tolist()
    centroid = gpd.GeoSeries(zones().centroid, crs=S.CRS_METRIC).to_crs(S.CRS_WGS84)
    np.testing.assert_allclose(
        [float(r["centroid_lat"]) for r in rows], centroid.y.to_numpy(), atol=1e-6
    )
    np.testing.assert_allclose(
        [float(r["centroid_lon"]) for r in rows], centroid.x.to_numpy(), atol=1e-6
    )
    assert rows[0]["recommended_hours"] == "fre–lör 22–01"
    assert rows[1][S.DIALOGUE_MENTIONS] == ""
    assert rows[0]["created_by"] == "analytiker"
    assert "window=fre–lör 18–03" in rows[0]["parameters"]


def test_public_suppresses_small_counts():
    frame = export_frame(zones(), public=True)
    assert frame[S.INCIDENT_COUNT].tolist() == ["12", "<5"]  # 3 < 5


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext missing")
def test_pdf_one_page_with_zone_names(tmp_path):
    areas = gpd.GeoDataFrame(
        {S.AREA_NAME: ["Jakobsberg"]},
        geometry=[box(X0 - 500, Y0 - 500, X0 + 1500, Y0 + 1000)],
        crs=S.CRS_METRIC,
    )
    path = export_zones(zones(), tmp_path / "brief.pdf", params=PARAMS, areas=areas)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.MULTILINE), info.stdout
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = set(text.split())
    for header in ("Händelser i fönstret", "Träffandel", "Kumulativ träffandel",
                   "Dialog-omnämnanden", "Rekommenderade timmar"):  # fmt: skip
        assert set(header.split()) <= words, header  # wrapped on spaces, never mid-word
    text = " ".join(text.split())  # table cells may wrap
    assert "Jakobsbergs station" in text
    assert 'Torget <b>&"stök"</b>' in text
    assert "INTERN / BEGRÄNSAD" in text
    assert "fre–lör 22–01" in text and "Tidsfönster fre–lör 18–03" in text


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMATS)
def test_every_format_via_export_zones(tmp_path, fmt):
    path = export_zones(zones(), tmp_path / f"z.{fmt}", params=PARAMS)
    assert path.stat().st_size > 0
    assert export_bytes(zones(), fmt, params=PARAMS)[:2] == path.read_bytes()[:2]
    if fmt in ("geojson", "kml", "gpkg"):
        assert len(pyogrio.read_dataframe(path, layer=0)) == 2
    assert [p.name for p in tmp_path.iterdir()] == [f"z.{fmt}"]


def test_failed_export_leaves_nothing(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr("geo.exports.to_pdf", boom)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        export_zones(zones(), tmp_path / "z.pdf")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda p: format_of(p / "z.shp"), InputError, r'okänt format "\.shp"'),
        (lambda p: export_zones(zones(), p / "nej" / "z.csv"), InputError, "finns inte"),
        (lambda p: export_zones(zones().iloc[:0], p / "z.csv"), InputError, "inga zoner"),
        (lambda p: export_bytes(zones(), "shp"), ValueError, 'fmt was "shp"'),
        (lambda p: export_frame(pd.DataFrame()), TypeError, "must be a GeoDataFrame"),
    ],
    ids=["suffix", "folder", "empty", "fmt", "type"],
)
def test_errors(tmp_path, call, error, match):
    with pytest.raises(error, match=match):
        call(tmp_path)
