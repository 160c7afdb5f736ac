"""`lagesbild trends` and `lagesbild nearrepeat` end to end on the demo files and small files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest

from geo import demo
from geo.cli import main

PATHS = demo.demo_paths()


def _run(capsys, *args):
    code = main([*map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_trends_on_the_demo_finds_the_planted_new_and_diminishing_hotspots(tmp_path, capsys):
    out_file = tmp_path / "trender.gpkg"
    code, out, err = _run(
        capsys, "trends", "--incidents", PATHS["incidents"], "--boundaries", PATHS["areas"],
        "--gazetteer", PATHS["gazetteer"], "--categories", "våld på offentlig plats",
        "--window", "kväll och natt", "--from", "2018-01-01", "--to", "2018-12-31",
        "--out", out_file, "--json",
    )  # fmt: skip
    assert code == 0, err
    info = json.loads(out)
    assert info["per_area"]["0180-skondal"].get("diminishing_hotspot", 0) >= 1
    assert info["per_area"]["0180-tallkrogen"].get("new_hotspot", 0) >= 1
    assert info["per_area"]["0123-jakobsberg"].get("diminishing_hotspot", 0) >= 1  # the drop
    assert info["steps"][0] == "2018-01" and len(info["steps"]) == 12
    assert "nya hotspots" in info["summary"] and "svalnat" in info["summary"]
    layers = [name for name, _ in pyogrio.list_layers(out_file)]
    assert layers == ["cells", "bins"]
    cells = pyogrio.read_dataframe(out_file, layer="cells")
    assert {"category", "mk_tau", "mk_p"} <= set(cells.columns)
    bins = pyogrio.read_dataframe(out_file, layer="bins")
    assert len(bins) == len(cells) * 12 and "gi_z" in bins.columns


def test_trends_refuses_a_bad_out_and_too_few_steps(tmp_path, capsys):
    code, _, err = _run(
        capsys, "trends", "--incidents", PATHS["incidents"], "--out", tmp_path / "x.csv"
    )
    assert code == 2 and 'okänt format ".csv", använd .gpkg' in err
    code, _, err = _run(capsys, "trends", "--incidents", PATHS["incidents"], "--from", "2018-11-01",
                        "--to", "2018-12-31", "--out", tmp_path / "x.gpkg")  # fmt: skip
    assert code == 2 and "trendanalysen behöver minst 3" in err


def _burglaries(tmp_path):
    # 30 pairs 40 m and 2 days apart, 200 scattered: the first cell must stand out
    rng = np.random.default_rng(4)
    lon = np.concatenate([rng.uniform(17.80, 17.86, 230)])
    lat = np.concatenate([rng.uniform(59.40, 59.44, 230)])
    day = rng.integers(0, 300, 230)
    lon[200:230] = lon[:30] + 0.0007  # ~40 m east
    lat[200:230] = lat[:30]
    day[200:230] = day[:30] + 2
    t = pd.Timestamp("2018-01-01 12:00") + pd.to_timedelta(day, unit="D")
    frame = pd.DataFrame({"id": [f"=B{i}" for i in range(230)], "tid": t.strftime("%Y-%m-%d %H:%M"),
                          "brottstyp": "Bostadsinbrott", "lon": lon, "lat": lat})  # fmt: skip
    path = tmp_path / "inbrott.csv"
    frame.to_csv(path, index=False)
    return path


def test_nearrepeat_json_has_every_cell_and_the_csv_is_defused(tmp_path, capsys):
    out_file = tmp_path / "kedjor.csv"
    code, out, err = _run(
        capsys, "nearrepeat", "--incidents", _burglaries(tmp_path), "--space-band", 100,
        "--space-bands", 2, "--time-band", 7, "--time-bands", 2, "--permutations", 99,
        "--seed", 3, "--out", out_file, "--json",
    )  # fmt: skip
    assert code == 0, err
    info = json.loads(out)
    assert info["permutations"] == 99 and info["incidents"] == 230
    assert len(info["cells"]) == (2 + 2) * (2 + 1)
    first = next(c for c in info["cells"] if c["space_band"] == 1 and c["time_band"] == 0)
    assert first["space_label"] == "1–100 m" and first["time_label"] == "0–7 dagar"
    assert first["observed"] >= 30 and first["p"] == pytest.approx(0.01)
    assert {"observed", "expected", "ratio", "p"} <= set(first)
    assert info["summary"][0].startswith("Inom 1–100 m är risken förhöjd")
    text = out_file.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("id,tidpunkt,kategori,lon,lat,roll,kedja")
    assert "'=B" in text and "=B" not in text.replace("'=B", "")


def test_nearrepeat_needs_its_bands(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(
            ["nearrepeat", "--incidents", str(PATHS["incidents"]), "--out", str(tmp_path / "x.csv")]
        )
    code, _, err = _run(capsys, "nearrepeat", "--incidents", _burglaries(tmp_path), "--space-band", 100,
                        "--space-bands", 2, "--time-band", 7, "--time-bands", 2, "--out",
                        tmp_path / "x.gpkg")  # fmt: skip
    assert code == 2 and "använd .csv" in err
