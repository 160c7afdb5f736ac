"""AppTest: the Trygghetsbesiktning page on the demo data and a fresh SQLite database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo import inspections as ins
from geo.store import Store

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "trygghetsbesiktning.py")
XSS = "<script>alert('x')</script>"
# Inside the demo round's 600 m circle around Jakobsbergs station.
CLICK = {"lat": 59.4238, "lng": 17.8340}


def _store(data_dir) -> Store:
    return Store(f"sqlite:///{data_dir / 'lagesbild.db'}")


def _run(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["f_user"] = "anna"
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _table(at: AppTest):
    return next(d.value for d in at.dataframe if "Kategori" in d.value.columns)


def test_first_start_seeds_demo_round(data_dir):
    at = _run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    table = _table(at)
    assert len(table) == len(ins.DEMO_ISSUES)  # 5 demo issues
    assert {"belysning", "vegetation/skymd sikt", "klotter"} <= set(table["Kategori"])
    assert ins.DEMO_ROUND in at.selectbox(key="tb_round").options[0]
    labels = [b.label for b in at.get("download_button")]
    assert labels[:2] == ["Ladda ned CSV", "Ladda ned GeoJSON"]


def test_click_then_form_stores_issue(data_dir):
    at = _run(tb_click=CLICK)
    assert not at.exception, at.exception
    form_cat = next(s for s in at.selectbox if s.label == "Kategori" and s.value is None)
    form_cat.set_value("belysning")
    next(t for t in at.text_area if t.label == "Beskrivning" and not t.value).input(XSS)
    next(b for b in at.button if b.label == "Spara ärendet").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    frame = ins.issues_frame(_store(data_dir))
    new = frame[frame["description"] == XSS]
    assert len(new) == 1 and new.iloc[0]["marked_by"] == "anna"
    assert new.iloc[0]["lat"] == pytest.approx(CLICK["lat"])
    # the table shows the text as typed (a dataframe cell is text, never HTML) ...
    assert XSS in set(_table(at)["Beskrivning"])
    # ... and no markdown element carries it raw
    assert not any(XSS in md.value for md in at.markdown)


def test_missing_category_shows_swedish_error(data_dir):
    at = _run(tb_click=CLICK)
    next(b for b in at.button if b.label == "Spara ärendet").click()
    at.run()
    assert any("Välj en kategori" in e.value for e in at.error)
    assert len(ins.issues_frame(_store(data_dir))) == len(ins.DEMO_ISSUES)


def test_filter_by_status(data_dir):
    at = _run()
    at.multiselect(key="tb_f_status").set_value(["åtgärdad"]).run()
    assert list(_table(at)["Status"]) == ["åtgärdad"]


def test_status_change_and_conflict(data_dir):
    at = _run()
    issue_id = at.selectbox(key="tb_issue").value
    # someone else edits the issue after the page was drawn
    store = _store(data_dir)
    version = int(ins.issues_frame(store).set_index("id").loc[issue_id, "version"])
    ins.update_issue(
        store, issue_id, expected_version=version, editor="bo", description="ändrad av bo"
    )
    next(b for b in at.button if b.label == "Ändra status").click()
    at.run()
    assert any("har ändrats av bo" in e.value for e in at.error)
    # after the rerun the page holds the new version: the move goes through
    next(b for b in at.button if b.label == "Ändra status").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    hist = ins.issue_history(store, issue_id)
    assert hist["action"].tolist()[-1] == "status"
    assert hist["changed_by"].tolist()[-1] == "anna"


def test_start_new_round(data_dir):
    at = _run()
    next(t for t in at.text_input if t.label == "Namn på rundan").input("Höstrundan")
    next(b for b in at.button if b.label == "Starta rundan").click()
    at.run()
    assert not at.exception, at.exception
    names = ins.rounds_frame(_store(data_dir))["name"].tolist()
    assert "Höstrundan" in names
    assert dt.date.today() in set(ins.rounds_frame(_store(data_dir))["held_on"])
