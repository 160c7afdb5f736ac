"""Tests for `lagesbild compare`: period errors, JSON, CSV and PDF output, demo data."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from shapely.geometry import Point, box

from geo import compare, schema
from geo.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO_INCIDENTS = ROOT / "data" / "incidents" / "demo_incidents.csv"
DEMO_CATEGORY_MAP = ROOT / "data" / "incidents" / "category_map.toml"
DEMO_AREAS = ROOT / "data" / "boundaries" / "demo_areas.geojson"

# A local origin in Järfälla (EPSG:3006 metres) so the lon/lat written to CSV is in Sweden.
X0, Y0 = 660_000.0, 6_590_000.0


def write_inputs(tmp_path):
    """Zone 0..100 m, incidents at (50,50) zone, (200,50) ring, (2000,2000) control."""
    spec = [
        (50, 50, "2017-06-01T12:00:00+02:00", 40),
        (50, 50, "2018-06-01T12:00:00+02:00", 10),
        (200, 50, "2017-06-01T12:00:00+02:00", 10),
        (200, 50, "2018-06-01T12:00:00+02:00", 30),
        (2000, 2000, "2017-06-01T12:00:00+02:00", 200),
        (2000, 2000, "2018-06-01T12:00:00+02:00", 200),
        # outside the kommun: they only make the data cover 2017-01-01 .. 2018-12-31
        (20_000, 0, "2017-01-01T12:00:00+01:00", 1),
        (20_000, 0, "2018-12-31T12:00:00+01:00", 1),
    ]
    rows = [(X0 + x, Y0 + y, t) for x, y, t, n in spec for _ in range(n)]
    points = gpd.GeoSeries([Point(x, y) for x, y, _ in rows], crs=schema.CRS_METRIC)
    lonlat = points.to_crs(schema.CRS_WGS84)
    incidents = pd.DataFrame(
        {
            "id": [f"h{i}" for i in range(len(rows))],
            "occurred_at": [t for _, _, t in rows],
            "brottstyp": "Misshandel",
            "lon": lonlat.x.round(7),
            "lat": lonlat.y.round(7),
        }
    )
    paths = {
        "incidents": tmp_path / "händelser.csv",
        "zones": tmp_path / "zoner.geojson",
        "areas": tmp_path / "områden.geojson",
    }
    incidents.to_csv(paths["incidents"], index=False)
    gpd.GeoDataFrame(
        {"zone_id": ["z1"], "name": ["Stationen"]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100)],
        crs=schema.CRS_METRIC,
    ).to_crs(schema.CRS_WGS84).to_file(paths["zones"])
    gpd.GeoDataFrame(
        {"area_id": ["k"], "area_name": ["Kommunen"], "level": ["kommun"]},
        geometry=[box(X0 - 3000, Y0 - 3000, X0 + 3000, Y0 + 3000)],
        crs=schema.CRS_METRIC,
    ).to_file(paths["areas"])
    return paths


def base_args(paths):
    return [
        "compare",
        "--incidents",
        str(paths["incidents"]),
        "--zones",
        str(paths["zones"]),
        "--zone-id-col",
        "zone_id",
        "--boundaries",
        str(paths["areas"]),
        "--before",
        "2017-01-01:2017-12-31",
        "--after",
        "2018-01-01:2018-12-31",
    ]


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ("2017-01-01", "2018-01-01:2018-12-31", "är inte START:SLUT"),
        ("2017-01-01:2017-13-01", "2018-01-01:2018-12-31", "inte är ÅÅÅÅ-MM-DD"),
        ("2017-12-31:2017-01-01", "2018-01-01:2018-12-31", "slutar innan den börjar"),
        ("2017-01-01:2018-03-01", "2018-01-01:2018-12-31", "överlappar"),
    ],
    ids=["unparseable", "bad-date", "end-before-start", "overlapping"],
)
def test_bad_periods_exit_2(tmp_path, capsys, before, after, message):
    code = main(
        [
            "compare",
            "--incidents",
            str(tmp_path / "x.csv"),
            "--zones",
            str(tmp_path / "z.geojson"),
            "--before",
            before,
            "--after",
            after,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_bad_out_suffix_exit_2(tmp_path, capsys):
    paths = write_inputs(tmp_path)
    assert main([*base_args(paths), "--out", str(tmp_path / "x.docx")]) == 2
    assert 'okänt format ".docx", använd .csv eller .pdf' in capsys.readouterr().err


def test_unknown_category_exit_2(tmp_path, capsys):
    paths = write_inputs(tmp_path)
    assert main([*base_args(paths), "--categories", "kaffe"]) == 2
    assert "kaffe" in capsys.readouterr().err


def test_json_one_object_per_zone(tmp_path, capsys):
    paths = write_inputs(tmp_path)
    assert main([*base_args(paths), "--json", "--zones-from-before"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["kind"] for r in records] == ["zon", "område"]
    zone = records[0]
    assert (zone["zone_id"], zone["name"]) == ("z1", "Stationen")
    assert (zone["before_count"], zone["after_count"]) == (40, 10)
    assert (zone["buffer_before"], zone["buffer_after"]) == (10, 30)
    assert (zone["control_before"], zone["control_after"]) == (200, 200)
    np.testing.assert_allclose(zone["rate_ratio"], 0.25)
    np.testing.assert_allclose(zone["p_value"], stats.binomtest(10, 50, 0.5).pvalue)
    # WDQ = (30/200 - 10/200) / (10/200 - 40/200) = -2/3; WDD = -30 + 20 = -10, SE sqrt(490)
    np.testing.assert_allclose([zone["wdq"], zone["wdd"]], [-2 / 3, -10])
    np.testing.assert_allclose(zone["wdd_se"], math.sqrt(490))
    assert zone["verdict"] == compare.DISPLACEMENT
    assert any("Regression mot medelvärdet" in w for w in zone["warnings"])
    assert records[1]["wdq"] is None
    assert set(compare.COLUMN_LABELS_SV) <= set(zone)  # every figure is there


def test_table_output_and_csv(tmp_path, capsys):
    paths = write_inputs(tmp_path)
    out = tmp_path / "resultat.csv"
    assert main([*base_args(paths), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Stationen" in printed and "förskjutning till närområdet" in printed
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert table["Antal före"].tolist() == [40, 250]
    assert table["Bedömning"].iloc[0] == compare.DISPLACEMENT


def test_buffer_and_window_options(tmp_path, capsys):
    paths = write_inputs(tmp_path)
    # a 50 m ring (x 100..150) leaves the incidents at x = 200 in the control
    assert main([*base_args(paths), "--buffer-m", "50", "--json"]) == 0
    zone = json.loads(capsys.readouterr().out)[0]
    assert (zone["buffer_before"], zone["control_before"]) == (0, 210)
    # all incidents are at 12:00: the night window keeps none
    assert main([*base_args(paths), "--window", "natt", "--json"]) == 0
    zone = json.loads(capsys.readouterr().out)[0]
    assert zone["before_count"] == 0 and zone["verdict"] == compare.TOO_FEW


def test_pdf_output(tmp_path):
    paths = write_inputs(tmp_path)
    out = tmp_path / "rapport.pdf"
    assert main([*base_args(paths), "--out", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in ("Före/efter-utvärdering", "INTERN / BEGRÄNSAD", "Stationen", "250 m"):
        assert expected in text


@pytest.mark.skipif(not DEMO_INCIDENTS.is_file(), reason="demo data not generated")
def test_demo_data_station(tmp_path, capsys):
    station = gpd.GeoSeries.from_xy([17.8336], [59.4236], crs=schema.CRS_WGS84)
    zones = tmp_path / "station.geojson"
    gpd.GeoDataFrame(
        {"zone_id": ["js"], "name": ["Jakobsbergs station"]},
        geometry=station.to_crs(schema.CRS_METRIC).buffer(200).to_numpy(),
        crs=schema.CRS_METRIC,
    ).to_file(zones)
    code = main(
        [
            "compare",
            "--incidents",
            str(DEMO_INCIDENTS),
            "--category-map",
            str(DEMO_CATEGORY_MAP),
            "--zones",
            str(zones),
            "--zone-id-col",
            "zone_id",
            "--boundaries",
            str(DEMO_AREAS),
            "--before",
            "2017-03-01:2017-12-31",
            "--after",
            "2018-03-01:2018-12-31",
            "--categories",
            "våld på offentlig plats,narkotikabrott",
            "--json",
        ]
    )
    assert code == 0
    records = json.loads(capsys.readouterr().out)
    zone = records[0]
    assert zone["p_value"] < 0.001 and zone["rr_ci_high"] < 1
    assert zone["wdq"] < 0 and zone["buffer_term"] > 0
    assert zone["verdict"] == compare.DISPLACEMENT
    # area rows only for the areas that hold the zone, Järfälla's not Farsta's
    assert all("Farsta" not in r["name"] for r in records[1:])


def test_zones_from_an_exported_geopackage(tmp_path, capsys):
    from geo.exports import write_gpkg

    paths = write_inputs(tmp_path)
    gpkg = tmp_path / "helg.gpkg"
    write_gpkg(
        gpd.GeoDataFrame(
            {"zone_id": ["k-1"], "name": ["Stationen"], "area_name": ["Kommunen"]},
            geometry=[box(X0, Y0, X0 + 100, Y0 + 100)],
            crs=schema.CRS_METRIC,
        ),
        gpkg,
        params={"k": 1},
    )
    args = [*base_args(paths), "--json"]
    args[args.index("--zones") + 1] = str(gpkg)
    assert main(args) == 0
    captured = capsys.readouterr()
    zone = json.loads(captured.out)[0]
    assert (zone["zone_id"], zone["name"]) == ("k-1", "Stationen")  # not "Kommunen"
    assert (zone["before_count"], zone["after_count"]) == (40, 10)
    assert 'helg.gpkg har flera lager (zones, parameters): lagret "zones" används' in captured.err


def test_zones_from_the_hotspots_geopackage(tmp_path, capsys):
    paths = write_inputs(tmp_path)
    hot = tmp_path / "hot.gpkg"
    assert (
        main(
            [
                "hotspots",
                "--incidents",
                str(paths["incidents"]),
                "--boundaries",
                str(paths["areas"]),
                "--out",
                str(hot),
            ]
        )
        == 0
    )
    expected = gpd.read_file(hot, layer="zones")
    assert len(expected)  # the 450 incidents at (2000, 2000) and 50 at the station are hot
    capsys.readouterr()
    args = [a for a in base_args(paths) if a not in ("--zone-id-col", "zone_id")]
    args[args.index("--zones") + 1] = str(hot)
    assert main([*args, "--json"]) == 0
    records = [r for r in json.loads(capsys.readouterr().out) if r["kind"] == "zon"]
    assert [r["name"] for r in records] == expected["name"].tolist()
    assert [r["zone_id"] for r in records] == expected["zone_id"].astype(str).tolist()
    # an explicit layer that is not there is a structural error naming --zones-layer's choices
    assert main([*args, "--zones-layer", "zoner"]) == 2
    assert "inget lager 'zoner'; lagren är: cells, zones" in capsys.readouterr().err


def test_control_layer_of_a_geopackage(tmp_path, capsys):
    paths = write_inputs(tmp_path)
    control = tmp_path / "kontroll.gpkg"
    for layer, x in (("nara", 1500), ("fjarran", 1900)):
        gpd.GeoDataFrame(
            {"area_id": [layer], "area_name": [layer]},
            geometry=[box(X0 + x, Y0 + x, X0 + x + 200, Y0 + x + 200)],
            crs=schema.CRS_METRIC,
        ).to_file(control, layer=layer)
    assert main([*base_args(paths), "--control", str(control)]) == 2
    assert "välj ett med --control-layer" in capsys.readouterr().err
    code = main(
        [*base_args(paths), "--control", str(control), "--control-layer", "fjarran", "--json"]
    )
    assert code == 0
    zone = json.loads(capsys.readouterr().out)[0]
    # (2000, 2000) lies in 1900..2100: 200 before and 200 after
    assert (zone["control_before"], zone["control_after"]) == (200, 200)
    assert zone["control_area"] == "fjarran"


def test_after_period_past_the_data_warns_in_json_table_and_pdf(tmp_path, capsys):
    paths = write_inputs(tmp_path)  # data 2017-01-01 .. 2018-12-31
    args = [
        a if a != "2018-01-01:2018-12-31" else "2018-01-01:2019-06-30" for a in base_args(paths)
    ]
    assert main([*args, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    zone = records[0]
    # cut to 2018-01-01 .. 2018-12-31: 365 covered days of the 546 asked for
    assert (zone["after_period"], zone["after_days"]) == ("2018-01-01:2018-12-31", 365)
    assert zone["requested_after_period"] == "2018-01-01:2019-06-30"
    assert zone["data_last"] == "2018-12-31"
    assert all(any("365 av 546 dagar" in w for w in r["warnings"]) for r in records)
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "Efter: 2018-01-01:2018-12-31 (365 dagar)" in captured.out
    assert "når utanför datan" in captured.err
    out = tmp_path / "kortad.pdf"
    assert main([*args, "--out", str(out)]) == 0
    capsys.readouterr()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        assert "begärt 2018-01-01 – 2019-06-30" in " ".join(text.split())
    # the user's "data t.o.m." cuts further
    assert main([*args, "--data-until", "2018-09-30", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["after_period"] == "2018-01-01:2018-09-30"
    assert main([*args, "--data-until", "30/9"]) == 2
    assert "--data-until" in capsys.readouterr().err
