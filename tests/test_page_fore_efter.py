"""AppTest: the Före/efter page runs on the demo data and its widgets drive geo.compare."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo import compare

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "fore_efter.py")
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


def _frame(at: AppTest, column: str):
    """The first dataframe on the page that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_drawn_station_zone_shows_the_planted_drop():
    at = _drawn()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    summary = _frame(at, "Zon / område")
    assert summary["Zon / område"].iloc[0] == "Ritad zon 1"
    # default preset: the promise year from 2018-03-01, but the demo data ends 2018-12-31:
    # the after period ends there and the before period is the same days a year earlier
    text = _texts(at)
    assert "**Före:** 2017-03-01 – 2017-12-31 (306 dagar)" in text
    assert "**Efter:** 2018-03-01 – 2018-12-31 (306 dagar)" in text
    assert "2019" not in text.split("Data ")[0]  # no period past the data
    assert summary["Bedömning"].iloc[0] in (compare.DECREASE, compare.DISPLACEMENT)
    assert summary["p"].iloc[0] == "<0,001"
    # one plain sentence per zone, its numbers one click away
    assert "**Ritad zon 1** (zon) – Färre våldsbrott i zonen" in text
    assert any(e.label == "Siffrorna bakom: Ritad zon 1" for e in at.expander)
    assert any("Så läser du måtten" in e.label for e in at.expander)
    assert "√370 ≈ 19,2" in text  # the worked WDD example is on the page
    assert any("Vänster: före, höger: efter" in c.value for c in at.caption)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Tabell (CSV)", "Rapport (PDF)"]


def test_buffer_width_drives_the_comparison():
    at = _drawn()
    full = _frame(at, "Närområde före")  # "Alla siffror"
    at.number_input(key="fe_buffer").set_value(100).run()
    assert not at.exception
    narrow = _frame(at, "Närområde före")
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


def test_custom_after_period_past_the_data_is_cut_and_said():
    at = _drawn(fe_preset="custom")
    at.date_input(key="fe_custom_Före").set_value((date(2017, 3, 1), date(2018, 2, 28)))
    at.date_input(key="fe_custom_Efter").set_value((date(2018, 3, 1), date(2018, 12, 31)))
    at.date_input(key="fe_data_until").set_value(date(2018, 10, 31)).run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "**Efter:** 2018-03-01 – 2018-10-31 (245 dagar)" in text
    assert "enligt användaren" in text
    assert any("245 av 306 dagar" in w.value for w in at.warning)
    assert _frame(at, "Närområde före")["Dagar efter"].iloc[0] == 245


def test_om_explains_the_measures_with_the_worked_examples():
    at = AppTest.from_file(str(Path(PAGE).with_name("om.py")), default_timeout=60).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for expected in ("WDQ = 0,02 / −0,05 = −0,4", "√370 ≈ 19,2", "Holms metod", "Success",
                     "Buffer", "Närområde (buffert)", "dolt"):  # fmt: skip
        assert expected in text, expected
