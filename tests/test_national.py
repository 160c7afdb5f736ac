"""National scale (issue 15): local file limits, areas analysed in groups into one
GeoPackage, the progress bar beside ``--json``, and the lean command line."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest

from geo import cli, guards
from geo import io as gio

ROOT = Path(__file__).resolve().parents[1]
KOMMUNER = ROOT.parent / "shared/data/boundaries/se-kommuner-scb/kommun.parquet"
needs_kommuner = pytest.mark.skipif(not KOMMUNER.exists(), reason="../shared data absent")
#: Järfälla, Sollentuna, Sundbyberg: three real kommuner side by side.
CODES = ["0123", "0163", "0183"]
MAPPING = ["--x-col", "x", "--y-col", "y", "--crs", "EPSG:3006", "--time-col", "tid",
           "--category-col", "brottstyp"]  # fmt: skip


def _national(path: Path, n: int, codes=CODES) -> Path:
    spec = importlib.util.spec_from_file_location(
        "make_national", ROOT / "benchmarks/make_national.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.make(n, path, seed=3, codes=codes)
    return path


def _csv(path: Path, rows: int = 3) -> Path:
    lines = ["id,tid,brottstyp,lon,lat"] + [
        f"{i},2018-03-0{1 + i % 9} 23:30,misshandel,17.83,59.4{i % 10}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- file limits ---------------------------------------------------------------------------
def test_cli_reads_a_file_over_the_upload_limit(tmp_path, monkeypatch, capsys):
    f = _csv(tmp_path / "h.csv")
    monkeypatch.setitem(guards.MAX_BYTES, ".csv", 10)  # the upload limit: 10 bytes
    with pytest.raises(Exception, match="största tillåtna storlek för .csv"):
        gio.load_incidents(f)  # an upload (no local_files): refused
    assert cli.main(["validate", "incidents", str(f)]) == 0  # the analyst's own file: read
    assert "Inlästa: 3" in capsys.readouterr().out


@pytest.mark.parametrize("how", ["option", "env"], ids=["--max-file-mb", "env"])
def test_local_limit_from_option_or_env(tmp_path, monkeypatch, capsys, how):
    f = _csv(tmp_path / "h.csv", rows=50)  # ~2 KB
    argv = ["validate", "incidents", str(f)]
    if how == "option":
        argv = ["--max-file-mb", "0,001", *argv]
        source = "--max-file-mb 0.001"
    else:
        monkeypatch.setenv(guards.MAX_FILE_ENV, "0.001")
        source = f"{guards.MAX_FILE_ENV}=0.001"
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("lagesbild: Filen h.csv är ") and "största tillåtna storlek är 0,0 MB" in err
    )
    assert source in err and "Traceback" not in err


def test_bad_limit_is_one_sentence(monkeypatch, capsys):
    monkeypatch.setenv(guards.MAX_FILE_ENV, "mycket")
    assert cli.main(["validate", "incidents", "x.csv"]) == 2
    assert capsys.readouterr().err.strip() == (
        "lagesbild: LAGESBILD_MAX_FILE_MB var 'mycket'; ange ett positivt tal."
    )
    with pytest.raises(SystemExit):
        cli.main(["--max-file-mb", "0", "validate", "incidents", "x.csv"])
    assert "måste vara större än 0 MB" in capsys.readouterr().err


def test_parquet_rows_over_the_upload_cap_read_locally(tmp_path, monkeypatch):
    p = tmp_path / "h.parquet"
    n = 12
    pq.write_table(
        pa.table({"x": np.full(n, 660_000.0) + np.arange(n), "y": np.full(n, 6_590_000.0),
                  "tid": [f"2018-03-02 23:{i:02d}" for i in range(n)], "brottstyp": ["rån"] * n}),
        p,
    )  # fmt: skip
    limits = {"max_rows": 10, "max_uncompressed_bytes": guards.MAX_PARQUET_UNCOMPRESSED_BYTES}
    monkeypatch.setattr(guards.check_parquet, "__kwdefaults__", limits)  # uploads: 10 rows
    opts = {"mapping": {"x": "x", "y": "y", "time": "tid", "category": "brottstyp"}, "crs": 3006}
    with pytest.raises(Exception, match="säger sig ha 12 rader; högst 10"):
        gio.load_incidents(p, **opts)
    with guards.local_files():
        assert gio.load_incidents(p, **opts).loaded == n


def test_zip_bombs_are_refused_locally_too(tmp_path):
    import zipfile

    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.shp", b"\0" * 2_000_000)
    with guards.local_files(), pytest.raises(Exception, match="zip-bomb"):
        guards.check_file(p)


# --- national: every area on its own grid, one GeoPackage ---------------------------------
@needs_kommuner
def test_groups_of_areas_give_the_same_answer_as_one_run(tmp_path, capsys):
    src = _national(tmp_path / "n.parquet", 9_000)
    base = ["hotspots", "--incidents", str(src), *MAPPING, "--boundaries", str(KOMMUNER),
            "--cells", "all", "--json"]  # fmt: skip
    assert cli.main([*base, "--out", str(tmp_path / "one.gpkg")]) == 0
    one = json.loads(capsys.readouterr().out)
    assert cli.main([*base, "--out", str(tmp_path / "grp.gpkg"), "--batch-incidents", "2500"]) == 0
    grouped = json.loads(capsys.readouterr().out)
    cells = {
        k: pyogrio.read_dataframe(tmp_path / f"{k}.gpkg", layer="cells") for k in ("one", "grp")
    }
    zones = {
        k: pyogrio.read_dataframe(tmp_path / f"{k}.gpkg", layer="zones") for k in ("one", "grp")
    }
    # all three kommuner, each on its own grid at patrol scale, in one file
    assert sorted(set(cells["grp"]["area_id"])) == sorted(CODES)
    sizes = {p["area_id"]: p["value"] for p in grouped["parameters"] if p["name"] == "cell_size_m"}
    assert sorted(sizes) == sorted(CODES) and all(50 <= v <= 250 for v in sizes.values())
    assert all(
        v <= 1000 for p in grouped["parameters"] if p["name"] == "band_m" for v in [p["value"]]
    )
    # the same cells and zones as one run over all areas
    key = ["area_id", "cell_id"]
    a = cells["one"].sort_values(key).reset_index(drop=True)
    b = cells["grp"].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert grouped["counts"]["cells"] == one["counts"]["cells"] == len(a)
    assert grouped["counts"]["zones"] == one["counts"]["zones"] == len(zones["grp"]) > 0
    assert grouped["top_zones"] == one["top_zones"]
    assert (zones["grp"]["area_km2"] <= 0.25 + 1e-9).all()
    assert (zones["grp"]["incident_count"] >= 5).all()


@needs_kommuner
def test_occupied_cells_only_when_grouped(tmp_path, capsys):
    src = _national(tmp_path / "n.parquet", 6_000)
    out = tmp_path / "o.gpkg"
    argv = ["hotspots", "--incidents", str(src), *MAPPING, "--boundaries", str(KOMMUNER),
            "--out", str(out), "--batch-incidents", "2500", "--json"]  # fmt: skip
    assert cli.main(argv) == 0
    info = json.loads(capsys.readouterr().out)
    cells = pyogrio.read_dataframe(out, layer="cells")
    assert len(cells) == info["counts"]["cells_written"] < info["counts"]["cells"]
    assert ((cells["count"] > 0) | (cells["gi_bin"] != 0) | (cells["dialogue_count"] > 0)).all()
    assert any("Lagret cells har de" in m for m in info["messages"])
    # every hot cell is written: zones can be drawn from the file
    assert (cells["gi_bin"] >= 2).sum() == info["counts"]["hot_cells"]


def test_bad_batch_size_is_one_sentence(tmp_path, capsys):
    f = _csv(tmp_path / "h.csv")
    argv = ["hotspots", "--incidents", str(f), "--out", str(tmp_path / "o.gpkg"),
            "--batch-incidents", "0"]  # fmt: skip
    assert cli.main(argv) == 2
    assert "--batch-incidents var 0; ange ett positivt antal händelser." in capsys.readouterr().err


@needs_kommuner
def test_progress_bar_on_a_terminal_leaves_json_clean(tmp_path, monkeypatch, capsys):
    src = _national(tmp_path / "n.parquet", 6_000)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    argv = ["hotspots", "--incidents", str(src), *MAPPING, "--boundaries", str(KOMMUNER),
            "--out", str(tmp_path / "o.gpkg"), "--batch-incidents", "2500", "--json"]  # fmt: skip
    assert cli.main(argv) == 0
    info = json.loads(capsys.readouterr().out)  # stdout is the JSON and nothing else
    assert info["counts"]["zones"] > 0
    bar = term.getvalue()
    assert "Områden analyseras" in bar and "3/3" in bar  # the three kommuner with incidents


# --- lean command line -----------------------------------------------------------------
def test_a_command_imports_only_its_own_module():
    code = (
        "import sys; from geo.cli import build_parser; build_parser(['hotspots', '--help'][:1]);"
        "print(sorted(m for m in sys.modules if m.startswith('geo.commands.')));"
        "print(any(m in sys.modules for m in ('geopandas', 'sqlalchemy', 'scipy.stats', 'reportlab')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.splitlines()
    assert out == ["['geo.commands._mapping', 'geo.commands.hotspots']", "False"]


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert all(name.replace("_", "-") in text or name in text for name in cli.COMMANDS)
    assert "--max-file-mb" in text


# --- lean reading ------------------------------------------------------------------------
def test_parquet_reads_only_the_mapped_columns(tmp_path):
    p = tmp_path / "h.parquet"
    n = 4
    pq.write_table(
        pa.table({"x": [660_000.0 + i for i in range(n)], "y": [6_590_000.0] * n,
                  "tid": ["2018-03-02 23:30"] * n, "brottstyp": ["rån"] * n,
                  "fritext": ["lång anteckning " * 50] * n}),
        p,
    )  # fmt: skip
    roles = ("id", "lon", "lat", "x", "y", "time", "date", "clock", "category", "weight")
    explicit = {"x": "x", "y": "y"}
    assert sorted(gio._parquet_columns(p, roles, explicit)) == ["brottstyp", "tid", "x", "y"]
    res = gio.load_incidents(p, mapping=explicit, crs=3006)
    assert res.loaded == n and "fritext" not in res.frame.columns
    # without coordinates the whole file is read, so the message lists every column
    with pytest.raises(Exception, match="hittade kolumnerna: tid, brottstyp, fritext"):
        pq.write_table(pa.table({"tid": ["2018-03-02"], "brottstyp": ["rån"], "fritext": ["a"]}), p)
        gio.load_incidents(p)
