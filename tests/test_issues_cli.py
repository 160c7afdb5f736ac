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
    assert table["nr"].tolist() == [1, 3]  # Swedish headings
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
    rejected = tmp_path / "avvisade.csv"
    code = run(filled, "import", str(path), "--round", "1", "--by", "cia",
               "--rejected", str(rejected))  # fmt: skip
    assert code == 0  # the file loaded; its bad rows are reported, as in `validate`
    captured = capsys.readouterr()
    assert "Rader lästa: 2, importerade: 1, avvisade: 1" in captured.out
    assert "1 × Välj en kategori" in captured.out
    assert "rad 3: Välj en kategori" in captured.err
    table = pd.read_csv(rejected, encoding="utf-8-sig", keep_default_na=False)
    assert table[["row", "description"]].values.tolist() == [[3, "ingen kategori"]]
    assert table["reason"].str.startswith("Välj en kategori").all()
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


def _field_list(tmp_path, name="falt.csv", header="lon,lat,category,severity,responsible"):
    path = tmp_path / name
    path.write_text(
        f"{header}\n{CENTRE[0]},{CENTRE[1]},belysning,3,kommun\n"
        f"{CENTRE[0]},{CENTRE[1]},klotter,1,SL\n",
        encoding="utf-8",
    )
    return path


def test_round_create_on_a_fresh_database_then_import(db_url, tmp_path, capsys):
    args = ["round", "create", "--date", "2026-04-02", "--area", "Jakobsberg",
            "--team", "Anna, Bo", "--organisations", "kommun,polis,SL", "--by", "anna"]  # fmt: skip
    assert run(db_url, *args) == 0
    round_id = int(capsys.readouterr().out.strip())
    assert round_id == 1
    assert run(db_url, "import", str(_field_list(tmp_path)), "--round", str(round_id)) == 0
    assert "Rader lästa: 2, importerade: 2, avvisade: 0" in capsys.readouterr().out
    store = Store(db_url)
    try:
        frame = issues_frame(store)
        with store.read_session() as s:
            from geo.store import InspectionRound

            rnd = s.get(InspectionRound, round_id)
            stored = (rnd.name, rnd.held_on, rnd.area_name, rnd.team, rnd.organisations)
    finally:
        store.close()
    assert frame["category"].tolist() == ["belysning", "klotter"]
    assert stored == ("Trygghetsbesiktning Jakobsberg 2026-04-02", dt.date(2026, 4, 2),
                      "Jakobsberg", "Anna, Bo", ["kommun", "polis", "SL"])  # fmt: skip
    assert run(db_url, "round", "list") == 0
    assert "Trygghetsbesiktning Jakobsberg 2026-04-02" in capsys.readouterr().out


def test_import_into_a_new_round(db_url, tmp_path, capsys):
    path = _field_list(tmp_path)
    args = ["import", str(path), "--new-round", "Vårens runda", "--date", "2026-04-02",
            "--area", "Jakobsberg", "--organisations", "kommun,SL"]  # fmt: skip
    assert run(db_url, *args) == 0
    out = capsys.readouterr().out
    assert "Ny runda 1: Vårens runda" in out and "importerade: 2" in out
    store = Store(db_url)
    try:
        frame = issues_frame(store)
    finally:
        store.close()
    assert frame["round_id"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("extra", "header", "match"),
    [
        (["--new-round", "R", "--date", "2026-04-02"], None, "--new-round behöver --date"),
        (["--date", "2026-04-02"], None, "hör till --new-round"),
        (["--new-round", "R", "--date", "2026-04-02", "--area", "A"],
         "lon,lat,category,severity", "saknar kolumnen responsible"),
        ([], None, "ingen kolumn round_id"),
        (["--round", "9"], None, "Besiktningsrundan 9 finns inte"),
        (["--round", "1", "--rejected", "x.txt"], None, 'okänt format ".txt"'),
    ],
    ids=["new-round-no-area", "date-without-new-round", "missing-column",
         "no-round", "unknown-round", "rejected-not-csv"],
)  # fmt: skip
def test_import_structural_errors_store_nothing(db_url, tmp_path, capsys, extra, header, match):
    path = _field_list(tmp_path, header=header or "lon,lat,category,severity,responsible")
    assert run(db_url, "import", str(path), *extra) == 2
    assert match in capsys.readouterr().err
    store = Store(db_url)
    try:
        assert len(issues_frame(store)) == 0
        from geo.inspections import rounds_frame

        assert rounds_frame(store).empty  # no round left behind by --new-round
    finally:
        store.close()
