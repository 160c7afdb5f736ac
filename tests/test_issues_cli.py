"""`lagesbild issues export|import` against SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from geo.cli import main
from geo.inspections import create_issue, create_round, issues_frame, set_status
from geo.store import AuditEntry, Store

pytest_plugins = ("dbfixtures",)  # the db_url and store fixtures

CENTRE = (17.8336, 59.4236)


@pytest.fixture
def filled(db_url):
    """A round (id 1) with three issues: 1 ny/kommun, 2 åtgärd beställd/SL, 3 ny/SL."""
    store = Store(db_url)
    rid = create_round(
        store, name="R", held_on=dt.date(2026, 4, 2), area_name="A", created_by="anna"
    )
    for cat, resp in [("belysning", "kommun"), ("klotter", "SL"), ("nedskräpning", "SL")]:
        create_issue(
            store,
            round_id=rid,
            lon=CENTRE[0],
            lat=CENTRE[1],
            category=cat,
            severity=2,
            responsible=resp,
            marked_by="anna",
        )
    set_status(store, 2, "åtgärd beställd", expected_version=1, editor="bo")
    store.close()
    return db_url


def run(db_url, *args) -> int:
    return main(["issues", "--database", db_url, *args])


def test_export_csv_filtered_by_status(filled, tmp_path, capsys):
    out = tmp_path / "ny.csv"
    assert run(filled, "export", "--format", "csv", "--status", "ny", "--out", str(out)) == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert table["id"].tolist() == [1, 3]
    assert set(table["status"]) == {"ny"}
    assert "2 brister skrivna till" in capsys.readouterr().out
    store = Store(filled)
    with store.read_session() as s:
        entry = s.query(AuditEntry).filter_by(action="inspection_issue.export").one()
    assert entry.params["status"] == ["ny"] and entry.params["rows"] == 2
    store.close()


def test_export_geojson(filled, tmp_path):
    out = tmp_path / "all.geojson"
    assert run(filled, "export", "--format", "geojson", "--out", str(out)) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [f["properties"]["id"] for f in data["features"]] == [1, 2, 3]


def test_export_pdf_needs_responsible(filled, tmp_path, capsys):
    out = tmp_path / "sl.pdf"
    assert run(filled, "export", "--format", "pdf", "--out", str(out)) == 2
    assert "--format pdf behöver --responsible" in capsys.readouterr().err
    assert not out.exists()
    assert run(filled, "export", "--format", "pdf", "--responsible", "SL", "--out", str(out)) == 0
    assert out.read_bytes().startswith(b"%PDF-")


def test_import_reports_rejected_rows(filled, tmp_path, capsys):
    path = tmp_path / "falt.csv"
    path.write_text(
        "lon,lat,category,severity,responsible,description\n"
        f"{CENTRE[0]},{CENTRE[1]},klotter,1,SL,ny klotter\n"
        f"{CENTRE[0]},{CENTRE[1]},,1,SL,ingen kategori\n",
        encoding="utf-8",
    )
    assert run(filled, "import", str(path), "--round", "1", "--by", "cia") == 1
    captured = capsys.readouterr()
    assert "Rader lästa: 2, importerade: 1, avvisade: 1" in captured.out
    assert "rad 3: Välj en kategori" in captured.err
    store = Store(filled)
    frame = issues_frame(store)
    assert frame["marked_by"].tolist()[-1] == "cia"
    assert len(frame) == 4
    store.close()


def test_import_all_good_exits_zero(filled, tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(
        "lon,lat,category,severity,responsible,round_id\n"
        f"{CENTRE[0]},{CENTRE[1]},klotter,hög,SL,1\n",
        encoding="utf-8",
    )
    assert run(filled, "import", str(path)) == 0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["import", "MISSING"], "finns inte"),
        (["export", "--format", "csv", "--out", "/nonexistent/dir/x.csv"], "finns inte"),
    ],
    ids=["missing-file", "missing-folder"],
)
def test_structural_errors_exit_2(filled, tmp_path, capsys, args, match):
    args = [str(tmp_path / a) if a == "MISSING" else a for a in args]
    assert run(filled, *args) == 2
    assert match in capsys.readouterr().err


def test_bad_database_url_exit_2(capsys, tmp_path):
    out = tmp_path / "x.csv"
    assert (
        main(
            [
                "issues",
                "--database",
                "mysql://u@h/db",
                "export",
                "--format",
                "csv",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert 'backend was "mysql"' in capsys.readouterr().err
