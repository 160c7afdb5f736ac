"""`lagesbild validate`: human and JSON output, exit codes, rejected-rows CSV."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geo.cli import main

REPO = Path(__file__).resolve().parents[1]
ROWS = (
    "id,tid,brottstyp,lon,lat\n"
    "1,2018-03-02 23:30,misshandel,17.8336,59.4236\n"
    "2,igår,rån,17.8336,59.4236\n"
    "3,2018-03-03 01:10,rån,2.35,48.86\n"
)


@pytest.fixture
def incidents_csv(tmp_path: Path) -> Path:
    path = tmp_path / "händelser.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def test_json_output(incidents_csv: Path, capsys) -> None:
    assert main(["validate", "incidents", str(incidents_csv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert out == {
        "rows": 3,
        "loaded": 1,
        "rejected": 2,
        "reasons": {"ogiltig tid": 1, "utanför Sverige": 1},
        "warnings": [],
        "crs": "EPSG:4326",
        "time_range": ["2018-03-02T23:30:00+01:00", "2018-03-02T23:30:00+01:00"],
    }


def test_human_output_and_rejected_csv(incidents_csv: Path, tmp_path: Path, capsys) -> None:
    out_csv = tmp_path / "avvisade.csv"
    assert main(["validate", "incidents", str(incidents_csv), "--rejected", str(out_csv)]) == 0
    text = capsys.readouterr().out
    for line in (
        "Rader lästa: 3",
        "Inlästa: 1",
        "Avvisade: 2",
        "  ogiltig tid: 1",
        "  utanför Sverige: 1",
        "Koordinatsystem i filen: EPSG:4326",
        "Tidsperiod: 2018-03-02 23:30 – 2018-03-02 23:30",
        "  - kolumnen 'tid' tolkad som tidpunkt",
        f"Avvisade rader skrivna till {out_csv}",
    ):
        assert line in text.splitlines(), line
    rejected = pd.read_csv(out_csv, dtype=str, encoding="utf-8-sig")
    assert rejected[["row", "reason", "tid"]].values.tolist() == [
        ["3", "ogiltig tid", "igår"],
        ["4", "utanför Sverige", "2018-03-03 01:10"],
    ]


def test_column_options(tmp_path: Path, capsys) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Nr;När;Brott;Öst;Nord\nK1;02.03.2018 23:30;0312;661000;6590000\n")
    cmap = tmp_path / "koder.toml"
    cmap.write_text('[categories]\n"0312" = "rån"\n')
    argv = ["validate", "incidents", str(path), "--x-col", "Öst", "--y-col", "Nord",
            "--crs", "EPSG:3006", "--time-col", "När", "--time-format", "%d.%m.%Y %H:%M",
            "--category-col", "Brott", "--category-map", str(cmap), "--id-col", "Nr", "--json"]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["loaded"], out["crs"], out["time_range"][0]) == (
        1,
        "EPSG:3006",
        "2018-03-02T23:30:00+01:00",
    )


def test_mapping_file_and_strict_categories(tmp_path: Path, capsys) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Nr,När,Brott,lon,lat\nK1,2018-03-02 23:30,0312,17.83,59.42\nK2,2018-03-02 23:40,9999,17.83,59.42\n"
    )
    toml = tmp_path / "mappning.toml"
    toml.write_text(
        '[columns]\nid = "Nr"\ntime = "När"\ncategory = "Brott"\n[categories]\n"0312" = "rån"\n'
    )
    assert main(["validate", "incidents", str(path), "--mapping", str(toml), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["loaded"], out["rejected"]) == (2, 0)
    assert out["warnings"] == [
        "1 händelse har en kategori som saknas i kategorimappningen och fick kategorin övrigt: '9999' (1)."
    ]
    argv = [
        "validate",
        "incidents",
        str(path),
        "--mapping",
        str(toml),
        "--strict-categories",
        "--json",
    ]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["reasons"] == {"okänd kategori": 1}


def test_boundaries_with_level_and_layer(tmp_path: Path, capsys) -> None:
    import geopandas as gpd
    import shapely

    path = tmp_path / "ytor.gpkg"
    frame = gpd.GeoDataFrame(
        {"namn": ["A"]}, geometry=[shapely.box(17.8, 59.4, 17.9, 59.5)], crs=4326
    )
    frame.to_file(path, layer="a")
    frame.to_file(path, layer="b")
    assert (
        main(["validate", "boundaries", str(path), "--layer", "b", "--level", "kommun", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["loaded"] == 1


def test_structural_error_exits_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "händelser.csv"
    path.write_text("a,b,c\n1,2,3\n")
    assert main(["validate", "incidents", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        err == "lagesbild: Filen händelser.csv saknar en tidskolumn; hittade kolumnerna: a, b, c.\n"
    )


def test_subprocess_exit_codes(incidents_csv: Path, tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "geo", "validate", "incidents", str(incidents_csv), "--json"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rejected"] == 2
    empty = tmp_path / "tom.csv"
    empty.write_text("")
    bad = subprocess.run(
        [sys.executable, "-m", "geo", "validate", "dialogue", str(empty)],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", "lagesbild: Filen tom.csv är tom.\n")


def test_demo_incidents_validate_cleanly(capsys) -> None:
    path = REPO / "data" / "incidents" / "demo_incidents.csv"
    if not path.exists():
        pytest.skip("demo data not generated yet")
    assert main(["validate", "incidents", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rejected"] == 0 and out["loaded"] == out["rows"]
    assert any("exakt samma koordinat" in w for w in out["warnings"])
