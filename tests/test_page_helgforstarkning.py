"""AppTest: the Helgförstärkning page runs on the demo data and its widgets drive geo.patrol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

pytest.importorskip("geo.analysis")

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "helgforstarkning.py")


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
