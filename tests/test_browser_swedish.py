"""No English Streamlit text on any page: every page of the app in Debian's chromium.

Each page is opened until its script has run (``stApp[data-test-script-state=notRunning]``
after its title is drawn), then every visible text node and every placeholder is searched
for the English words below (whole words, case-sensitive). The multiselect dropdown and the
date picker's calendar are opened too, since their texts only exist while they are open;
the upload box is on the Data page. Material icon names (``upload``, ``expand_more``) are
ligatures drawn as icons, not text a user reads, and are left out.
"""

from __future__ import annotations

import re

import pytest
from test_browser import ARTIFACTS, app_url, browser  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

#: The English texts searched for: Streamlit's own (ui/sv.py translates or avoids them).
ENGLISH = (
    "Choose an option", "Choose options", "Choose or add", "Add an option", "Add options",
    "Select all", "Clear all", "No results", "No options to select", "matches",
    "Drag and drop", "Browse files", "Upload", "Upload directories", "per file", "Limit",
    "200MB", "Press Enter", "Running", "Choose date", "Choose date range", "Clear date",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
#: Day names of a date picker (two letters: matched as whole words only); the calendar's
#: one-letter row is checked against the Swedish row itself.
DAYS = ("Su", "Mo", "Tu", "We", "Th", "Fr", "Sa")
#: Every page as st.navigation serves it (app.py), by its path.
PAGES = ("", "hotspots", "utveckling", "helgforstarkning", "fore_efter", "trygghetsbesiktning",
         "medborgarloften", "data", "om", "granskning")  # fmt: skip

_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const el = n.parentElement;
    if (!el || el.closest('script, style, [data-testid="stIconMaterial"], .material-icons')) continue;
    if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;  // hidden
    const t = n.nodeValue.trim();
    if (t) out.push(t);
  }
  document.querySelectorAll('[placeholder]').forEach(e => out.push(e.getAttribute('placeholder')));
  return out;
}"""


def _english(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for word in ENGLISH + DAYS:
            if re.search(rf"(?<![\wåäöÅÄÖ]){re.escape(word)}(?![\wåäöÅÄÖ])", text):
                found.append(f"{word!r} in {text[:80]!r}")
    return found


def _settled(page, path: str) -> None:
    page.goto(f"{page.context.base}/{path}", wait_until="domcontentloaded")
    page.locator("h1").first.wait_for(timeout=180_000)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=180_000
    )


@pytest.fixture(scope="module")
def page(app_url, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1500, "height": 1200})
    context.base = app_url
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("path", PAGES, ids=[p or "karta" for p in PAGES])
def test_no_english_streamlit_text(page, path):
    _settled(page, path)
    found = _english(page.evaluate(_TEXTS))
    page.screenshot(path=str(ARTIFACTS / f"swedish_{path or 'karta'}.png"), full_page=True)
    assert found == [], found


def _open(page, opener, popup, attempts: int = 6) -> None:
    """Click ``opener`` until ``popup`` shows: a rerun's redraw (the map's first report) can
    swallow a click or close what it opened."""
    for _ in range(attempts - 1):
        opener.click()
        try:
            popup.wait_for(timeout=5_000)
            return
        except Exception:
            page.keyboard.press("Escape")
            page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
                timeout=180_000
            )
    opener.click()
    popup.wait_for(timeout=30_000)


def test_open_dropdown_and_calendar_are_swedish(page):
    _settled(page, "")
    sidebar = page.locator('[data-testid="stSidebar"]')
    # the categories multiselect, opened: its options and no "Select all" row
    dropdown = page.locator('[data-testid="stMultiSelectDropdown"]').first
    _open(page, sidebar.locator('[data-testid="stMultiSelect"] input').first, dropdown)
    options = dropdown.inner_text()
    assert "rån" in options  # the dropdown is open, with the data's categories
    assert "Select all" not in options and "Välj alla" not in options  # the row is off
    assert _english(page.evaluate(_TEXTS)) == []
    page.keyboard.press("Escape")
    # the period's calendar, opened: Swedish month and day names
    grid = page.locator('[role="dialog"] [role="grid"]').first
    _open(page, sidebar.locator('[data-testid="stDateInput"] button').last, grid)
    days = grid.locator("thead th")
    days.first.get_by_text("sö").wait_for(timeout=30_000)  # the translator has run
    assert days.all_inner_texts() == ["sö", "må", "ti", "on", "to", "fr", "lö"]
    dialog = page.locator('[role="dialog"]').first.inner_text()
    assert re.search(r"\bjanuari 2018\b", dialog), dialog  # the period starts 2018-01-01
    texts = page.evaluate(_TEXTS)
    page.screenshot(path=str(ARTIFACTS / "swedish_calendar.png"))
    assert _english(texts) == []
    page.keyboard.press("Escape")


def test_upload_box_shows_the_guards_limit_in_swedish(page):
    _settled(page, "data")
    box = page.locator('[data-testid="stFileUploader"]').first
    box.wait_for(timeout=60_000)
    # the translator has run once the button says "Välj fil"
    box.get_by_text("Välj fil").first.wait_for(timeout=30_000)
    text = " ".join(page.evaluate(_TEXTS))
    assert "högst 200 MB per fil" in text  # the largest guard limit (GeoPackage)
    assert "Högst 100 MB per fil (GPKG 200 MB)." in text  # every format's own limit
    assert _english([text]) == []
