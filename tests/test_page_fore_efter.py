"""AppTest: the Före/efter page runs on the demo data and its widgets drive geo.compare."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo import compare

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "fore_efter.py")
DEMO = Path(__file__).resolve().parents[1] / "data" / "incidents" / "demo_incidents.csv"

pytestmark = pytest.mark.skipif(not DEMO.is_file(), reason="demo data not generated")

# A rectangle around Jakobsbergs station (59.4236 N 17.8336 E), as the Draw plugin returns it:
# about 400 m × 330 m, holding the planted 2018 drop.
STATION = {
    "type": "Feature",
    "properties": {},
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [17.8301, 59.4221],
                [17.8371, 59.4221],
                [17.8371, 59.4251],
                [17.8301, 59.4251],
                [17.8301, 59.4221],
            ]
        ],
    },
}


def _drawn(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["fe_source"] = "drawn"
    at.session_state["fe_drawn"] = [STATION]
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(w.value for w in at.warning)


def test_drawn_station_zone_shows_the_planted_drop():
    at = _drawn()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    summary = at.dataframe[0].value
    assert summary["Zon / område"].iloc[0] == "Ritad zon 1"
    # default preset: the year before 2018-03-01 against the year from it
    assert "2017-03-01 – 2018-02-28 (365 dagar)" in _texts(at)
    assert summary["Bedömning"].iloc[0] in (compare.DECREASE, compare.DISPLACEMENT)
    assert summary["p"].iloc[0] == "<0,001"
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Tabell (CSV)", "Rapport (PDF)"]


def test_buffer_width_drives_the_comparison():
    at = _drawn()
    full = at.dataframe[1].value  # "Alla siffror"
    at.number_input(key="fe_buffer").set_value(100).run()
    assert not at.exception
    narrow = at.dataframe[1].value
    # a narrower ring holds fewer incidents
    assert narrow["Närområde före"].iloc[0] < full["Närområde före"].iloc[0]


def test_custom_periods_and_bad_order_error():
    at = _drawn(fe_preset="custom")
    assert not at.exception
    at.date_input(key="fe_custom_Före").set_value((date(2018, 6, 1), date(2018, 12, 31)))
    at.date_input(key="fe_custom_Efter").set_value((date(2017, 1, 1), date(2017, 12, 31)))
    at.run()
    assert not at.exception
    assert any("överlappar eller kommer i fel ordning" in e.value for e in at.error)


def test_same_months_preset():
    at = _drawn(fe_preset="same_months")
    assert not at.exception, at.exception
    assert "2017-03-01 – 2017-05-30" in _texts(at)


def test_no_drawing_asks_for_one():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["fe_source"] = "drawn"
    at.run()
    assert not at.exception
    assert any("Rita minst en zon" in i.value for i in at.info)


def test_hotspot_zones_from_before_period_warn_about_regression():
    pytest.importorskip("geo.analysis")
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    assert not at.exception, at.exception
    assert any("Regression mot medelvärdet" in w.value for w in at.warning)
