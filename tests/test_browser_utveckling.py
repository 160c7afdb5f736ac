"""Utveckling över tid in Debian's chromium on the demo data: the category map, the
commander's sentence naming the planted new and diminishing hotspots, a clicked cell's
series, the near-repeat chains on their own map; and Helgförstärkning's zone categories.
Screenshots in ``tests/artifacts/utveckling*.png``. Waits for states, never for times."""

from __future__ import annotations

import re

import pytest
from test_browser import ARTIFACTS, MAP_IFRAME, app_url, browser  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def _offline_guard(page, url):
    remote = []
    page.on(
        "request",
        lambda r: (
            remote.append(r.url) if r.url.startswith("http") and not r.url.startswith(url) else None
        ),
    )
    return remote


def test_utveckling_shows_categories_sentence_series_and_chains(app_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    remote = _offline_guard(page, app_url)
    page.goto(f"{app_url}/utveckling", wait_until="domcontentloaded")
    sentence = page.locator('[data-testid="stMarkdownContainer"]', has_text="svalnat").first
    sentence.wait_for(timeout=240_000)
    text = sentence.inner_text()
    # Järfälla: the planted displacement (from 2018-03-01) and the station's drop
    assert "Söderhöjden" in text and "Jakobsbergs station" in text, text
    page.wait_for_selector(MAP_IFRAME, state="attached", timeout=120_000)
    trend = page.frame_locator(MAP_IFRAME).first
    trend.locator(".lagesbild-legend").wait_for(timeout=120_000)
    assert trend.locator(".leaflet-overlay-pane path").count() > 10
    legend = trend.locator(".lagesbild-legend").inner_text()
    assert (
        "Utveckling över tid" in legend and "ny hotspot" in legend and "avtagande hotspot" in legend
    )
    # the series chart of the busiest cell is drawn (Vega renders a canvas or svg)
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "utveckling.png"), full_page=False)

    # click a cell at Söderhöjden (the displacement site): its series replaces the default
    fired = (
        page.locator(MAP_IFRAME)
        .first.element_handle()
        .content_frame()
        .evaluate(
            """() => {
        for (const k in window.map._layers) {
            const l = window.map._layers[k];
            const p = l.feature && l.feature.properties;
            if (p && p.tip && p.tip.includes("hotspot") && p.tip.includes("Söderhöjden")) {
                window.map.fire("click", {latlng: l.getBounds().getCenter()});
                return true;
            }
        }
        return false;
    }"""
        )
    )
    assert fired, "no Söderhöjden hotspot cell on the map"
    chosen = page.locator('[data-testid="stMarkdownContainer"]', has_text="tidssteg").filter(
        has_text="Söderhöjden"
    )
    chosen.first.wait_for(timeout=120_000)

    # near repeat: the planted Viksjö burglaries, the table and the chain map
    near = page.locator('[data-testid="stMarkdownContainer"]', has_text="Inom 1–100 m").first
    near.wait_for(timeout=240_000)
    assert "risken förhöjd" in near.inner_text()
    page.get_by_text("kedjor med sammanlagt", exact=False).first.wait_for(timeout=60_000)
    page.wait_for_function(
        f"document.querySelectorAll('{MAP_IFRAME}').length >= 2", timeout=120_000
    )
    chains = page.frame_locator(MAP_IFRAME).nth(1)
    chains.locator(".lagesbild-legend").wait_for(timeout=120_000)
    assert chains.locator(".leaflet-overlay-pane path").count() > 20  # dots and lines
    assert "första i kedjan" in chains.locator(".lagesbild-legend").inner_text()
    page.get_by_role("button", name="Ladda ner kedjorna (CSV)").wait_for(timeout=60_000)
    page.locator(MAP_IFRAME).nth(1).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "utveckling_near_repeat.png"), full_page=False)
    assert remote == [], f"the offline maps fetched remote URLs: {remote[:5]}"
    page.close()


def test_helgforstarkning_zone_table_has_the_category_column(app_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    page.goto(f"{app_url}/helgforstarkning", wait_until="domcontentloaded")
    # each zone's category, in the sentence under the plan's figures (and the table's column)
    line = page.get_by_text("Zonernas utveckling över tid", exact=False).first
    line.wait_for(timeout=240_000)
    assert re.search(r"(hotspot|kallfläck|inget mönster)", line.inner_text()), line.inner_text()
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "helgforstarkning_utveckling.png"), full_page=False)
    page.close()
