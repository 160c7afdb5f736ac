"""AppTest: the Helgförstärkning page runs on the demo data and its widgets drive geo.patrol."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

pytest.importorskip("geo.analysis")

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "helgforstarkning.py")


def _run(**before) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in before.items():
        at.session_state[key] = value
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_defaults_choose_zones_and_offer_five_downloads():
    at = _run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.multiselect(key="hf_days").value == ["fre", "lör"]
    assert at.number_input(key="hf_from").value == 18 and at.number_input(key="hf_to").value == 3
    assert at.multiselect(key="hf_cats").value == ["våld på offentlig plats"]
    table = at.dataframe[0].value
    assert 1 <= len(table) <= 5
    assert list(table["Nr"]) == list(range(1, len(table) + 1))
    # cumulative hit rate never falls as zones are added
    assert table["Kumulativt %"].is_monotonic_increasing
    assert int(_metric(at, "Zoner")) == len(table)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["GeoJSON", "KML (Google Earth)", "GeoPackage", "CSV", "PDF-brief"]


def test_k_widget_sets_number_of_zones():
    at = _run()
    at.number_input(key="hf_k").set_value(2).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2


def test_bad_window_shows_swedish_error():
    at = _run()
    at.number_input(key="hf_from").set_value(3).run()  # 03–03: start equals end
    assert not at.exception
    assert any("start och slut är samma timme" in e.value for e in at.error)


def test_drop_zone_button_removes_it():
    at = _run()
    at.number_input(key="hf_k").set_value(3).run()
    before = at.dataframe[0].value
    assert at.selectbox(key="hf_drop").value is not None  # the first zone by default
    at.button(key="hf_drop_btn").click().run()
    after = at.dataframe[0].value
    assert len(after) == len(before) - 1
    assert before["Zon"].iloc[0] not in list(after["Zon"])
    assert list(after["Nr"]) == list(range(1, len(after) + 1))


def test_drawn_zone_is_added_with_figures():
    at = _run()
    at.number_input(key="hf_k").set_value(2).run()
    plan_key = at.session_state["hf_adjust"]["plan"]
    # a rectangle around Jakobsbergs station (59.4236 N 17.8336 E), as the Draw plugin returns it
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [17.829, 59.421],
                    [17.838, 59.421],
                    [17.838, 59.426],
                    [17.829, 59.426],
                    [17.829, 59.421],
                ]
            ],
        },
    }
    at.session_state["hf_adjust"] = {
        "plan": plan_key,
        "dropped": [],
        "drawn": [("Stationsområdet", json.dumps(feature))],
    }
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Zon"])[-1] == "Stationsområdet"
    assert list(table["Källa"])[-1] == "ritad"
    assert len(table) == 3


def _station_row(table):
    """The zone around Jakobsbergs station (the demo's top zone)."""
    rows = table[table["Zon"].str.contains("Jakobsbergs station")]
    assert len(rows) == 1, list(table["Zon"])
    return rows.iloc[0]


def test_open_issues_are_counted_near_each_zone(data_dir):
    from geo import inspections as ins
    from geo.store import Store

    at = _run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert "Öppna brister" in table.columns  # the demo round's open issues reach the plan
    before = int(_station_row(table)["Öppna brister"])
    # two more issues at the station (59.4236 N 17.8336 E): one open, one already fixed
    store = Store(f"sqlite:///{data_dir / 'lagesbild.db'}")
    rid = int(ins.issues_frame(store)["round_id"].iloc[0])
    made = [
        ins.create_issue(store, round_id=rid, lon=17.8336, lat=59.4236, category="belysning",
                         severity=2, responsible="kommunen", marked_by="test")
        for _ in range(2)
    ]  # fmt: skip
    ins.set_status(store, made[1], ins.FIXED, expected_version=1, editor="test")
    at.run()
    assert not at.exception, at.exception
    # only the open one counts: before + 1
    assert int(_station_row(at.dataframe[0].value)["Öppna brister"]) == before + 1


def test_forward_check_beside_the_stability_test():
    # default period = the last 12 months: no data after it, the page says so
    at = _run()
    assert not at.exception, at.exception
    assert {"Stabilitetstest", "Framåtkontroll"} <= {m.value.strip("*") for m in at.markdown}
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Framåtkontroll: data slutar") for c in captions), captions
    assert not any(i.value.startswith("Framåtkontroll:") for i in at.info)  # not twice
    assert any("inte de exporterade zonerna" in c for c in captions)
    # an earlier period: the exported zones are tested on the following one
    start, end = at.date_input(key="hf_period").value
    earlier = (start.replace(year=start.year - 1), end.replace(year=end.year - 1))
    at.date_input(key="hf_period").set_value(earlier).run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert {"Planeringsperioden", "Följande period", "Första halvan", "Andra halvan"} <= set(labels)
    texts = [m.value for m in at.markdown]
    assert any(t.startswith("Framåtkontroll: de exporterade zonerna fångade") for t in texts)
    assert any(t.startswith("Stabilitetstest: zoner valda på första halvan") for t in texts)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext missing")
def test_pdf_export_includes_the_forward_check(monkeypatch):
    from ui import auth

    builders = {}

    def recording(container, label, data, *, fmt, **kwargs):
        builders[fmt] = data  # the page's own file builder, called as a click would

    monkeypatch.setattr(auth, "download_button", recording)
    at = _run()
    start, end = at.date_input(key="hf_period").value
    at.date_input(key="hf_period").set_value(
        (start.replace(year=start.year - 1), end.replace(year=end.year - 1))
    ).run()
    assert not at.exception, at.exception
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=builders["pdf"](), capture_output=True, check=True
    ).stdout.decode()
    assert "Framåtkontroll: de exporterade zonerna fångade" in " ".join(text.split())
    assert "Stabilitetstest: zoner valda" in " ".join(text.split())
