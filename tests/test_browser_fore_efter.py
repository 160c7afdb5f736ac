"""Före/efter in Debian's chromium: the promise preset on the demo data, as a planner sees it.

No period reaches past the data (the demo ends 2018-12-31, the preset's year would end
2019-02-28), a plain verdict sentence stands for each zone, and the before and after maps
are drawn side by side (folium's DualMap, Leaflet.Sync served offline). Screenshot in
``tests/artifacts/fore_efter.png``.
"""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, MAP_IFRAME, app_url, browser  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_fore_efter_promise_preset_stays_in_the_data_and_shows_both_maps(app_url, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    remote = []
    page.on(
        "request",
        lambda r: (
            remote.append(r.url)
            if r.url.startswith("http") and not r.url.startswith(app_url)
            else None
        ),
    )
    page.goto(f"{app_url}/fore_efter", wait_until="domcontentloaded")
    # the preset "Året före löftet och löftesåret" is the default; the data ends 2018-12-31
    periods = page.locator('[data-testid="stMarkdownContainer"]', has_text="Efter:").first
    periods.wait_for(timeout=180_000)
    text = periods.inner_text()
    assert "2018-03-01 – 2018-12-31 (306 dagar)" in text, text
    assert "2019" not in text.split("Data")[0]
    # one verdict sentence per zone ("… (zon) – Färre våldsbrott i zonen …")
    verdict = page.locator('[data-testid="stMarkdownContainer"]', has_text="(zon) –").first
    verdict.wait_for(timeout=180_000)
    assert " i zonen" in verdict.inner_text()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "fore_efter_bedomning.png"))
    # the side-by-side maps: one streamlit-folium iframe holding two synced Leaflet maps
    page.wait_for_selector(MAP_IFRAME, state="attached", timeout=180_000)
    frames = page.locator(MAP_IFRAME)
    dual = None
    for i in range(frames.count()):
        handle = frames.nth(i).element_handle().content_frame()
        handle.wait_for_selector(".leaflet-container", timeout=120_000)
        if handle.locator(".leaflet-container").count() == 2:
            dual = handle
            break
    assert dual is not None, "no iframe with two maps side by side"
    for side in range(2):
        container = dual.locator(".leaflet-container").nth(side)
        container.locator(".leaflet-overlay-pane path").first.wait_for(timeout=60_000)
        assert container.locator(".leaflet-overlay-pane path").count() > 10  # cells drawn
    legends = dual.locator(".lagesbild-legend").all_inner_texts()
    assert [t.split("\n")[0] for t in legends] == ["Före", "Efter"]  # one scale, shown once
    boxes = [dual.locator(".leaflet-container").nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1  # left and right
    page.get_by_text("Vänster: före, höger: efter", exact=False).first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "fore_efter.png"), full_page=True)
    assert remote == [], f"the offline page fetched remote URLs: {remote[:5]}"
    page.close()
