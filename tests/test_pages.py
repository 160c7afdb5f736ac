"""The Streamlit pages on the demo data (AppTest: no browser; st_folium returns its defaults)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo import schema

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def _needs_analysis():
    pytest.importorskip("geo.analysis", reason="geo.analysis not landed yet")


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def spy(monkeypatch):
    """Record the incidents every run_hotspots call receives (the real function still runs)."""
    _needs_analysis()
    import geo.analysis

    calls = []
    real = geo.analysis.run_hotspots

    def recording(incidents, areas, **kwargs):
        calls.append({"incidents": incidents, "areas": areas, **kwargs})
        return real(incidents, areas, **kwargs)

    monkeypatch.setattr(geo.analysis, "run_hotspots", recording)
    return calls


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if page:
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", ["karta", "hotspots", "data", "om"], ids=str)
def test_every_page_runs_on_demo_data(page):
    if page in ("karta", "hotspots"):
        _needs_analysis()
    at = _app(None if page == "karta" else page)
    assert at.title[0].value in {"Lägesbild", "Hotspots", "Data", "Om Lägesbild"}


def test_karta_defaults_and_briefing(spy):
    at = _app()
    # defaults for a commander: police area, våld, kväll och natt, last 12 months
    assert at.sidebar.selectbox(key="f_area").value == "lpo-jarfalla"
    assert at.sidebar.multiselect(key="f_categories").value == [schema.VIOLENCE]
    assert at.sidebar.selectbox(key="f_window").value == "kväll och natt"
    start, end = at.sidebar.date_input(key="f_period").value
    assert (end - start).days == 364
    text = at.info[0].value
    assert text.startswith("- I Järfälla:")
    assert "Mest utsatt: Jakobsberg" in text
    # the analysis saw only violence, inside the period
    inc = spy[-1]["incidents"]
    assert set(inc[schema.CATEGORY]) == {schema.VIOLENCE}
    assert inc[schema.OCCURRED_AT].dt.date.min() >= start
    assert inc[schema.OCCURRED_AT].dt.date.max() <= end


def test_changing_the_window_changes_the_analysis_input(spy):
    at = _app()
    n_default = len(spy[-1]["incidents"])
    at.sidebar.selectbox(key="f_window").set_value("natt").run()
    assert not at.exception
    hours = spy[-1]["incidents"][schema.OCCURRED_AT].dt.hour
    # natt = 22–06: every incident's clock hour is 22, 23 or 0..5
    assert hours.isin([22, 23, 0, 1, 2, 3, 4, 5]).all()
    assert len(spy[-1]["incidents"]) < n_default  # natt is a part of kväll och natt


def test_changing_the_method_reaches_run_hotspots(spy):
    at = _app()
    at.sidebar.radio(key="f_method").set_value("dbscan").run()
    assert not at.exception, [e.value for e in at.exception]
    assert spy[-1]["method"] == "dbscan"
    assert spy[-1]["eps_m"] == 150.0


def test_changing_the_area_changes_the_focus(spy):
    at = _app()
    at.sidebar.selectbox(key="f_area").set_value("lpo-farsta").run()
    assert not at.exception
    assert spy[-1]["areas"][schema.AREA_ID].tolist() == ["lpo-farsta"]
    assert at.info[0].value.startswith("- I Farsta:")


@pytest.mark.parametrize("field", ["last_object_clicked", "last_clicked"], ids=str)
def test_map_click_selects_the_zone(spy, monkeypatch, field):
    """Feed st_folium a click inside zone 2, as the browser would, and see its details —
    on the zone's polygon, or on the map where a label or cell lies over the zone."""
    import geo.analysis
    from ui import common

    at = _app()
    last = spy[-1]
    kwargs = {k: v for k, v in last.items() if k not in ("incidents", "areas")}
    zones = geo.analysis.run_hotspots(last["incidents"], last["areas"], **kwargs).zones
    second = zones.sort_values(schema.RANK).iloc[1]
    inside = second.geometry.representative_point()
    pt = gpd.GeoSeries([inside], crs=zones.crs).to_crs(schema.CRS_WGS84)[0]
    captured = {}

    def fake_st_folium(*_a, **kw):
        captured.update(kw)
        return {field: {"lat": pt.y, "lng": pt.x}}

    monkeypatch.setattr("streamlit_folium.st_folium", fake_st_folium)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[common.SELECTED_ZONE] == str(second[schema.ZONE_ID])
    assert captured["returned_objects"] == ["last_object_clicked", "last_clicked"]
    assert f"{int(second[schema.RANK])}. {second[schema.NAME]}" in [h.value for h in at.subheader]


def test_data_page_upload_report(tmp_path):
    at = _app("data")
    assert "demodata" in at.markdown[0].value
    assert at.radio[0].value == "incidents"


PAGES_WITH_MAPS = ["karta", "hotspots", "helgforstarkning", "fore_efter", "medborgarloften",
                   "trygghetsbesiktning"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES_WITH_MAPS, ids=str)
def test_every_page_map_works_offline(page, tmp_path, monkeypatch):
    """Each map a page hands to st_folium references no script or stylesheet off the machine."""
    _needs_analysis()
    from test_maps import remote_assets_offline

    from geo.store import DATA_DIR_ENV, DATABASE_URL_ENV

    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    remote: list[list[str]] = []

    def rendering_st_folium(fig, *_a, **_kw):
        remote.append(remote_assets_offline(fig))
        return {}

    monkeypatch.setattr("streamlit_folium.st_folium", rendering_st_folium)
    at = AppTest.from_file(str(ROOT / "views" / f"{page}.py"), default_timeout=300)
    at.session_state["f_user"] = "anna"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert remote and all(r == [] for r in remote), remote


REJECTING_CSV = (
    "datum,kategori,lon,lat\n"
    "2018-03-02 22:00,våld på offentlig plats,17.83,59.42\n"
    "inte ett datum,våld på offentlig plats,17.83,59.42\n"  # row 3: ogiltig tid
).encode()


@pytest.fixture
def local_accounts(tmp_path, monkeypatch):
    """Local login mode with an administratör and a läsare; a fresh SQLite audit log."""
    from geo import auth as A
    from geo.store import DATA_DIR_ENV, DATABASE_URL_ENV

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "var"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(A.AUTH_MODE_ENV, raising=False)
    users = tmp_path / "users.toml"
    monkeypatch.setenv(A.USERS_FILE_ENV, str(users))
    A.save_accounts(
        users,
        [A.Account(f"u_{r}", r, password_hash=A.hash_password("x" * 12)) for r in A.ROLES],
    )
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_rejected_rows_download_is_audited_and_refused_to_a_reader(local_accounts, monkeypatch):
    from geo import audit
    from geo import auth as A
    from geo.store import Store
    from ui import auth

    builds = []
    real = auth.audited_data

    def capturing(data, **kwargs):
        builds.append((kwargs["what"], real(data, **kwargs)))
        return builds[-1][1]

    monkeypatch.setattr(auth, "audited_data", capturing)
    at = AppTest.from_file(str(ROOT / "views" / "data.py"), default_timeout=180)
    at.session_state[auth.IDENTITY] = A.signed_in(A.current_accounts()["u_administratör"])
    at.run()
    at.file_uploader[0].set_value(("händelser.csv", REJECTING_CSV, "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Ladda ned avvisade rader (CSV)" in [b.label for b in at.get("download_button")]
    ((what, build),) = builds
    assert what == "rejected_rows"
    assert "inte ett datum" in build().decode("utf-8-sig")  # the click builds the file ...
    log = audit.audit_frame(Store(), actions=["export.rejected_rows"])
    assert log["actor"].tolist() == ["u_administratör"]  # ... and records who took it
    # the same session as a läsare: the page refuses before any file or button
    at.session_state[auth.IDENTITY] = A.signed_in(A.current_accounts()["u_läsare"])
    at.run()
    assert any("Rollen läsare får inte importera data" in e.value for e in at.error)
    assert at.get("download_button") == []
    assert len(builds) == 1
