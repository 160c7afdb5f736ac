"""`lagesbild hotspots` end to end on small files written here."""

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest

from geo.cli import main


def _write_incidents(tmp_path):
    rng = np.random.default_rng(0)
    n_hot, n_bg = 80, 60
    lon = np.concatenate([17.8336 + rng.normal(0, 0.0004, n_hot), rng.uniform(17.80, 17.87, n_bg)])
    lat = np.concatenate([59.4236 + rng.normal(0, 0.0002, n_hot), rng.uniform(59.40, 59.45, n_bg)])
    frame = pd.DataFrame(
        {
            "Nr": [f"K{i}" for i in range(len(lon))],
            "Lon": lon,
            "Lat": lat,
            "Tid": "2018-03-16 23:30",
            "Brott": "misshandel",
        }
    )
    path = tmp_path / "brott.csv"
    frame.to_csv(path, index=False)
    return path


def _run(capsys, *args):
    code = main(["hotspots", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("method", ["gistar", "dbscan"])
def test_writes_layers_and_json(tmp_path, capsys, method):
    inc = _write_incidents(tmp_path)
    out = tmp_path / "hot.gpkg"
    code, stdout, _ = _run(
        capsys,
        "--incidents", inc,
        "--lon-col", "Lon", "--lat-col", "Lat", "--time-col", "Tid",
        "--category-col", "Brott", "--id-col", "Nr",
        "--method", method,
        "--out", out,
        "--json",
    )  # fmt: skip
    assert code == 0
    layers = [name for name, _ in pyogrio.list_layers(out)]
    assert layers[:2] == ["cells", "zones"] and (("clusters" in layers) == (method == "dbscan"))
    info = json.loads(stdout)
    assert info["counts"]["incidents_loaded"] == 140
    assert info["counts"]["zones"] >= 1
    assert {p["name"] for p in info["parameters"]} >= {"cell_size_m", "band_m"}
    assert all(p["reason"] for p in info["parameters"])
    top = info["top_zones"]["studieomrade"][0]
    assert top["rank"] == 1 and top["incident_count"] >= 40


def test_bad_suffix(tmp_path, capsys):
    code, _, err = _run(capsys, "--incidents", tmp_path / "x.csv", "--out", tmp_path / "x.shp")
    assert code == 2 and "okänt format" in err


def test_bad_window_is_one_line(tmp_path, capsys):
    inc = _write_incidents(tmp_path)
    code, _, err = _run(
        capsys, "--incidents", inc, "--lon-col", "Lon", "--lat-col", "Lat", "--time-col", "Tid",
        "--window", "blå timmen", "--out", tmp_path / "h.gpkg",
    )  # fmt: skip
    assert code == 2 and err.startswith("lagesbild:") and err.count("\n") == 1
    assert not (tmp_path / "h.gpkg").exists()
