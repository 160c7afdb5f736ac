"""``lagesbild zones`` end to end on small synthetic files written per test."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from geo import schema as S
from geo.cli import main

# Jakobsbergs station and Viksjö centrum (DESIGN.md §5), in SWEREF 99 TM
STATION = gpd.GeoSeries.from_xy([17.8336], [59.4236], crs=S.CRS_WGS84).to_crs(S.CRS_METRIC)[0]
VIKSJO = gpd.GeoSeries.from_xy([17.8097], [59.4138], crs=S.CRS_WGS84).to_crs(S.CRS_METRIC)[0]


def _write_inputs(tmp_path, seed: int = 7):
    """60 Friday/Saturday-night violence incidents at the station, 30 at Viksjö, 40 scattered
    over 2025, plus 40 daytime thefts at the station (outside window and categories)."""
    rng = np.random.default_rng(seed)
    fridays = pd.date_range("2025-01-03", "2025-12-26", freq="7D")
    rows = []

    def add(centre, n, spread_m, category, hour_choices):
        for _ in range(n):
            day = fridays[rng.integers(len(fridays))] + pd.Timedelta(days=int(rng.integers(2)))
            hour = int(rng.choice(hour_choices))
            t = day + pd.Timedelta(hours=hour, minutes=int(rng.integers(60)))
            if hour < 6:
                t += pd.Timedelta(days=1)
            x = centre.x + rng.normal(0, spread_m)
            y = centre.y + rng.normal(0, spread_m)
            rows.append((t, category, x, y))

    add(STATION, 60, 40, "misshandel", [22, 23, 0, 1])
    add(VIKSJO, 30, 40, "misshandel", [19, 20, 21])
    add(STATION, 40, 40, "stöld", [11, 12, 13])
    for _ in range(40):
        day = fridays[rng.integers(len(fridays))]
        t = day + pd.Timedelta(hours=int(rng.integers(18, 24)))
        rows.append(
            (
                t,
                "misshandel",
                STATION.x + rng.uniform(-2500, 2500),
                STATION.y + rng.uniform(-2500, 2500),
            )
        )
    frame = pd.DataFrame(rows, columns=["t", "brott", "x", "y"])
    pts = gpd.GeoSeries.from_xy(frame.x, frame.y, crs=S.CRS_METRIC).to_crs(S.CRS_WGS84)
    csv = pd.DataFrame(
        {
            "id": [f"K{i}" for i in range(len(frame))],
            "occurred_at": frame.t.dt.strftime("%Y-%m-%d %H:%M"),
            "category": frame.brott,
            "lon": pts.x.round(6),
            "lat": pts.y.round(6),
        }
    )
    inc = tmp_path / "incidents.csv"
    csv.to_csv(inc, index=False)
    areas = gpd.GeoDataFrame(
        {"area_id": ["jkb"], "area_name": ["Jakobsberg"]},
        geometry=[box(STATION.x - 3000, STATION.y - 3000, STATION.x + 3000, STATION.y + 3000)],
        crs=S.CRS_METRIC,
    )
    bnd = tmp_path / "areas.geojson"
    areas.to_crs(S.CRS_WGS84).to_file(bnd)
    return inc, bnd


def _run(capsys, *args):
    code = main(["zones", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--window", "fredag kväll"], "Kunde inte tolka tidsfönstret"),
        (["--from", "2019-01-01", "--to", "2019-12-31"], "inga incidenter"),
        (["--categories", "inbrott"], "inga incidenter"),
        (["--categories", "mord"], "Okänd brottskategori 'mord'"),
    ],
    ids=["bad-window", "empty-period", "empty-category", "unknown-category"],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, extra, match):
    inc, bnd = _write_inputs(tmp_path)
    out = tmp_path / "z.geojson"
    code, _, err = _run(capsys, "--incidents", inc, "--boundaries", bnd, "--out", out, *extra)
    assert code == 2
    assert err.startswith("lagesbild: ") and match in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_suffix_stops_before_reading(tmp_path, capsys):
    code, _, err = _run(capsys, "--incidents", tmp_path / "nope.csv", "--out", tmp_path / "z.shp")
    assert code == 2 and 'okänt format ".shp"' in err


def test_k_larger_than_candidates(tmp_path, capsys):
    pytest.importorskip("geo.analysis")
    inc, bnd = _write_inputs(tmp_path)
    out = tmp_path / "z.csv"
    code, stdout, err = _run(
        capsys, "--incidents", inc, "--boundaries", bnd, "--k", 500, "--out", out, "--json"
    )
    assert code == 0, err
    info = json.loads(stdout)
    note = next(m for m in info["messages"] if "K = 500" in m)
    n = len(info["zones"])
    assert note.startswith(f"Bara {n} hotspotzon") and "väljs" in note
    assert out.exists()


@pytest.mark.parametrize("fmt", ["geojson", "kml", "gpkg", "csv", "pdf"])
def test_zones_end_to_end(tmp_path, capsys, fmt):
    pytest.importorskip("geo.analysis")
    inc, bnd = _write_inputs(tmp_path)
    out = tmp_path / f"zoner.{fmt}"
    code, stdout, err = _run(
        capsys,
        "--incidents",
        inc,
        "--boundaries",
        bnd,
        "--k",
        2,
        "--out",
        out,
        "--json",
        "--who",
        "planerare",
    )
    assert code == 0, err
    info = json.loads(stdout)
    assert len(info["zones"]) == 2
    # the station cluster (60 window incidents) is picked first, Viksjö (30) second
    first, second = info["zones"]
    first_pt = gpd.GeoSeries.from_xy([STATION.x], [STATION.y], crs=S.CRS_METRIC)
    assert info["parameters"]["window"] == "fre–lör 18–03"
    assert info["parameters"]["created_by"] == "planerare"
    assert first["incident_count"] >= second["incident_count"]
    assert 0 < first["hit_rate"] <= first["cumulative_hit_rate"] <= 1
    assert info["persistence"] is None or info["persistence"]["label"] in (
        "stabila",
        "delvis stabila",
        "rörliga",
    )
    assert out.exists()
    if fmt in ("geojson", "gpkg"):
        read = pyogrio.read_dataframe(out, layer=0 if fmt == "gpkg" else None).to_crs(S.CRS_METRIC)
        assert read.geometry.iloc[0].distance(first_pt.iloc[0]) < 150
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_forward_check_of_the_exported_zones(tmp_path, capsys):
    pytest.importorskip("geo.analysis")
    inc, bnd = _write_inputs(tmp_path)
    out = tmp_path / "zoner.geojson"
    args = ["--incidents", inc, "--boundaries", bnd, "--k", 2, "--out", out]
    code, stdout, err = _run(capsys, *args, "--from", "2025-01-01", "--to", "2025-06-30", "--json")
    assert code == 0, err
    info = json.loads(stdout)
    forward = info["forward"]
    table = pd.read_csv(inc)
    t = pd.to_datetime(table.occurred_at)
    # the following period is as long (181 days) but the data ends sooner: cut at its last day
    end = str((t.max().normalize() + pd.Timedelta(days=1)).date())
    assert forward["periods"]["test"] == ["2025-07-01", end]
    # independent reference: every "misshandel" lies in the Friday/Saturday-night window
    # (hours 18–01 on Friday or Saturday evening) and inside the area, so the share is the
    # second half's misshandel inside the exported zones over all of them
    zones = gpd.read_file(out).to_crs(S.CRS_METRIC)
    pts = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(table.lon, table.lat), crs=S.CRS_WGS84
    ).to_crs(S.CRS_METRIC)
    for period, lo, hi in (("test", "2025-07-01", end), ("train", "2025-01-01", "2025-07-01")):
        part = pts[(pts.category == "misshandel") & (t >= lo) & (t < hi)]
        inside = part.geometry.within(zones.union_all()).sum()
        share_key = f"{period}_share"
        np.testing.assert_allclose(forward[share_key], inside / len(part), atol=1e-4)
    assert forward["message"].startswith("Framåtkontroll: de exporterade zonerna fångade ")
    last = str((t.max().normalize()).date())
    assert f"under följande period 2025-07-01 – {last}" in forward["message"]
    stability = info["persistence"]["message"]
    assert stability.startswith("Stabilitetstest: zoner valda på första halvan av perioden")
    assert "inte de exporterade zonerna" in stability
    # without --json: both sentences on stdout, not repeated as OBS notes on stderr
    code, stdout, err = _run(capsys, *args, "--from", "2025-01-01", "--to", "2025-06-30")
    assert "Framåtkontroll:" in stdout and "Stabilitetstest:" in stdout
    assert "Framåtkontroll:" not in err


def test_no_following_period_is_said(tmp_path, capsys):
    pytest.importorskip("geo.analysis")
    inc, bnd = _write_inputs(tmp_path)
    out = tmp_path / "zoner.csv"
    code, stdout, err = _run(
        capsys, "--incidents", inc, "--boundaries", bnd, "--out", out, "--json"
    )
    assert code == 0, err
    info = json.loads(stdout)
    assert info["forward"] is None
    assert any(m.startswith("Framåtkontroll: data slutar 2025-12-") for m in info["messages"])


def test_zone_names_without_gazetteer_are_distinct(tmp_path, capsys):
    pytest.importorskip("geo.analysis")
    inc, bnd = _write_inputs(tmp_path)
    out = tmp_path / "zoner.csv"
    args = ["--incidents", inc, "--boundaries", bnd, "--k", 2, "--out", out, "--json"]
    code, stdout, err = _run(capsys, *args)
    assert code == 0, err
    info = json.loads(stdout)
    names = [z["name"] for z in info["zones"]]
    # both zones lie in the one area "Jakobsberg": numbered by their rank in it
    assert sorted(names) == ["Zon 1 – Jakobsberg", "Zon 2 – Jakobsberg"]
    assert any("--gazetteer" in m for m in info["messages"])
    gazetteer = tmp_path / "orter.csv"
    gazetteer.write_text(
        "name,kind,lon,lat\nJakobsbergs station,station,17.8336,59.4236\n"
        "Viksjö centrum,centrum,17.8097,59.4138\n",
        encoding="utf-8",
    )
    code, stdout, err = _run(capsys, *args, "--gazetteer", gazetteer)
    assert code == 0, err
    info = json.loads(stdout)
    assert [z["name"] for z in info["zones"]] == ["Jakobsbergs station", "Viksjö centrum"]
    assert not any("--gazetteer" in m for m in info["messages"])
