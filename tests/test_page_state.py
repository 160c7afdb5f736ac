"""Session-wide sidebar state and selection by identity (AppTest on the demo data).

The browser tests (tests/test_browser_state.py) show the same through a real page change;
these check the wiring quickly: what is kept, what reaches the analysis, what the sidebar
offers per method, and that a selection never silently means another record.
"""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_pages import APP, spy  # noqa: F401 - the run_hotspots recorder

from geo import schema
from geo.zones import DEFAULT_MAX_ZONE_KM2


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _app(page: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _labels(at) -> list[str]:
    return [w.label for w in at.sidebar.number_input]


def test_sidebar_choices_and_name_survive_a_page_change(spy):  # noqa: F811
    at = _app()
    at.sidebar.selectbox(key="f_window").set_value("natt").run()
    at.sidebar.selectbox(key="f_area").set_value("lpo-farsta").run()
    at.sidebar.text_input(key="f_user").input("Cecilia").run()
    at.switch_page("views/hotspots.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="f_window").value == "natt"
    assert at.sidebar.selectbox(key="f_area").value == "lpo-farsta"
    assert at.sidebar.text_input(key="f_user").value == "Cecilia"
    assert spy[-1]["areas"][schema.AREA_ID].tolist() == ["lpo-farsta"]
    # a page without the filters (Om) keeps them too
    at.switch_page("views/om.py").run()
    at.switch_page("views/karta.py").run()
    assert at.sidebar.selectbox(key="f_window").value == "natt"
    assert at.sidebar.text_input(key="f_user").value == "Cecilia"


def test_zone_cap_reaches_run_hotspots(spy):  # noqa: F811
    at = _app()
    assert spy[-1]["max_zone_km2"] == DEFAULT_MAX_ZONE_KM2
    at.sidebar.number_input(key="f_zone_cap").set_value(0.1).run()
    assert not at.exception, [e.value for e in at.exception]
    assert spy[-1]["max_zone_km2"] == pytest.approx(0.1)
    assert (spy[-1]["incidents"] is not None) and at.sidebar.number_input(
        key="f_zone_cap"
    ).value == pytest.approx(0.1)


def test_hdbscan_offers_no_distance_and_dbscan_does(spy):  # noqa: F811
    at = _app()
    at.sidebar.radio(key="f_method").set_value("hdbscan").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Avstånd (m)" not in _labels(at)
    assert "Minsta antal händelser" in _labels(at)
    assert spy[-1]["method"] == "hdbscan" and "eps_m" not in spy[-1]
    at.sidebar.radio(key="f_method").set_value("dbscan").run()
    assert "Avstånd (m)" in _labels(at)
    assert spy[-1]["eps_m"] == 150.0


def test_band_cannot_be_smaller_than_the_cell(spy):  # noqa: F811
    at = _app()
    at.sidebar.checkbox(key="f_auto").uncheck().run()
    at.sidebar.number_input(key="f_band").set_value(200).run()
    at.sidebar.number_input(key="f_cell").set_value(300).run()
    assert not at.exception, [e.value for e in at.exception]
    band = at.sidebar.number_input(key="f_band")
    assert band.min == 300 and band.value == 300  # raised to the new cell size
    assert spy[-1]["cell_size_m"] == 300.0 and spy[-1]["band_m"] == 300.0


def test_missing_name_points_to_the_field(data_dir):
    from geo import inspections as ins
    from geo.store import Store, default_url

    at = _app("trygghetsbesiktning")
    store = Store(default_url())
    before = ins.issues_frame(store)[["id", "status", "version"]]
    next(b for b in at.button if b.label == "Ändra status").click()
    at.run()
    assert any("fältet **Ditt namn**" in e.value for e in at.error), [e.value for e in at.error]
    after = ins.issues_frame(store)[["id", "status", "version"]]
    assert after.equals(before)  # nothing was written


def test_status_change_keeps_the_chosen_issue_and_clears_the_note(data_dir):
    from geo import inspections as ins
    from geo.store import Store, default_url

    at = _app("trygghetsbesiktning", f_user="anna")
    at.selectbox(key="tb_issue").set_value(2).run()
    note = next(t for t in at.text_input if t.label == "Anteckning")
    note.input("beställt").run()
    next(b for b in at.button if b.label == "Ändra status").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    store = Store(default_url())
    status = ins.issues_frame(store).set_index("id")["status"]
    assert status[2] == ins.ORDERED and status[1] == ins.ORDERED  # 1 was ordered already
    assert at.selectbox(key="tb_issue").value == 2
    assert next(t for t in at.text_input if t.label == "Anteckning").value == ""
    # the second change goes to issue 2 as well, not to issue 1
    next(b for b in at.button if b.label == "Ändra status").click()
    at.run()
    status = ins.issues_frame(store).set_index("id")["status"]
    assert status[2] == ins.FIXED and status[1] == ins.ORDERED


def test_zone_selection_is_dropped_when_the_id_means_another_place(spy):  # noqa: F811
    from ui import common

    at = _app("hotspots")
    zones = spy[-1]
    import geo.analysis

    kwargs = {k: v for k, v in zones.items() if k not in ("incidents", "areas")}
    run = geo.analysis.run_hotspots(zones["incidents"], zones["areas"], **kwargs)
    first = run.zones.sort_values(schema.RANK).iloc[0]
    # selected under another shape (as after a method switch): the id no longer holds
    at.session_state[common.SELECTED_ZONE] = str(first[schema.ZONE_ID])
    at.session_state[common.SELECTED_SHAPE] = (0, 0, 1, 1)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Visar zon 1" in c.value for c in at.caption)
    assert all(v == "" for v in at.dataframe[0].value["Vald"])
