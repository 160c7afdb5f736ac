"""Utveckling över tid on the demo data (AppTest): the planted new and diminishing hotspots
reach the commander's sentence, a clicked cell's series is shown, the near-repeat section
finds the planted burglaries, and Helgförstärkning shows each zone's category."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _page(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(f"views/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)


def test_utveckling_on_jarfalla_shows_the_planted_displacement_and_drop():
    at = _page("utveckling")
    assert at.title[0].value == "Utveckling över tid"
    text = _text(at)
    # demo defaults: Järfälla, våld på offentlig plats, kväll och natt, 2018, by month. The
    # displacement to Söderhöjden starts 2018-03-01 (new since spring), the station drops.
    assert "ny hotspot sedan våren 2018: Söderhöjden" in text
    assert "svalnat: Jakobsbergs station" in text
    # the near-repeat section on the planted Viksjö burglaries (default category inbrott)
    assert "Inom 1–100 m är risken förhöjd i upp till" in text
    assert "kedjor med sammanlagt" in text
    labels = [b.label for b in at.get("download_button")]
    assert "Ladda ner kedjorna (CSV)" in labels


def test_utveckling_on_farsta_names_the_planted_new_and_diminishing_hotspots():
    at = _page("utveckling")
    at.selectbox(key="f_area").set_value("lpo-farsta").run()
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    assert "nya hotspots sedan våren 2018: Tallkrogen" in text
    assert "svalnat: Sköndal" in text


def test_utveckling_step_choice_reaches_the_analysis():
    at = _page("utveckling")
    at.radio(key="utv_step").set_value("quarter").run()
    assert not at.exception
    assert "4 kvartal (2018 kv1–2018 kv4)" in _text(at) or "Bara 4 kvartal" in _text(at)


def test_helgforstarkning_shows_each_zones_category():
    at = _page("helgforstarkning")
    frames = [df.value for df in at.dataframe]
    zone_table = next(f for f in frames if "Zon" in f.columns)
    assert "Utveckling" in zone_table.columns
    assert zone_table["Utveckling"].notna().all()
    line = next(c.value for c in at.caption if "Zonernas utveckling över tid" in c.value)
    assert str(zone_table["Zon"].iloc[0]) in line.replace("\\", "")
