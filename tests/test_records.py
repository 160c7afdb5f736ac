"""Records that must say what they did (issue 18): a history note on its own is stored, a
round made without an area does not break Medborgarlöften, and a killed
``issues import --new-round`` leaves no empty round."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import geopandas as gpd
import sqlalchemy as sa

from geo import inspections as ins
from geo import promises as pr
from geo.store import InspectionRound, IssueHistory, Store

pytest_plugins = ("dbfixtures",)


def _issue(store) -> int:
    rid = ins.create_round(store, name="R", held_on=dt.date(2026, 4, 2), area_name="A",
                           created_by="anna")  # fmt: skip
    return ins.create_issue(store, round_id=rid, lon=17.83, lat=59.42, category="klotter",
                            severity=1, responsible="SL", marked_by="anna")  # fmt: skip


def test_note_without_field_change_is_stored(store):
    iid = _issue(store)
    # the form sends every field unchanged, and a note
    v = ins.update_issue(store, iid, expected_version=1, editor="bo", note="Ringt SL idag",
                         category="klotter", severity=1, responsible="SL")  # fmt: skip
    assert v == 2
    with store.read_session() as s:
        rows = s.execute(sa.select(IssueHistory.action, IssueHistory.note)).all()
    assert [tuple(r) for r in rows] == [("created", ""), ("note", "Ringt SL idag")]
    # nothing changed and no note: nothing stored, the same version back (the page says so)
    assert ins.update_issue(store, iid, expected_version=2, editor="bo", severity=1) == 2


def test_round_without_area_does_not_break_promises(store):
    from pathlib import Path

    areas = gpd.read_file(
        Path(__file__).resolve().parents[1] / "data/boundaries/demo_areas.geojson"
    )
    pr.seed_demo_promises(store, areas=areas)
    ins.seed_demo(store)
    # what `lagesbild issues round create` makes: no area polygon
    ins.create_round(store, name="cli", held_on=dt.date(2018, 5, 1), area_name="X",
                     created_by="cli")  # fmt: skip
    pid = int(pr.promises_frame(store)["id"].iloc[0])
    status = pr.promise_status(store, pid, areas=areas)  # raised TypeError (got float) before
    assert not status.progress.empty


def test_killed_import_with_new_round_leaves_no_round(db_url, tmp_path):
    src = tmp_path / "fält.csv"
    src.write_text(
        "lon,lat,category,severity,responsible\n"
        + "".join("17.83,59.42,klotter,1,SL\n" for _ in range(5)),
        encoding="utf-8",
    )
    script = textwrap.dedent(
        f"""
        import time
        from geo import inspections
        from geo.cli import main
        real = inspections._new_issue
        def slow(*a, **k):
            issue = real(*a, **k)
            print("row", flush=True)
            time.sleep(120)  # killed here, after the round and a first row were written
            return issue
        inspections._new_issue = slow
        main(["issues", "--database", {db_url!r}, "import", {str(src)!r}, "--new-round", "Vår",
              "--date", "2026-04-02", "--area", "Jakobsberg"])
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "row"
    finally:
        child.kill()  # kill -9
        child.wait(timeout=30)
    with Store(db_url).read_session() as s:
        assert s.scalars(sa.select(InspectionRound.name)).all() == []
