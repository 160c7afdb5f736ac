"""A person sees the map: the real app in Debian's chromium (Playwright, never a downloaded browser).

Starts ``streamlit run app.py`` on a free port in its own process group, waits for
``/_stcore/health``, and checks what a commander sees: the Leaflet map inside the
streamlit-folium iframe, hotspot polygons drawn, the Jakobsberg station zone named for
Järfälla, and a zone's details after a click. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("/usr/bin/chromium is missing in CI (apt-get install chromium)")
    pytest.skip("/usr/bin/chromium is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    _require_chromium()
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own process group: stopped as a whole below
        env={**os.environ, "LAGESBILD_TILES": "none"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start; see {ARTIFACTS / 'streamlit.log'}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open_map(page, url: str, path: str = ""):
    remote = []
    page.on(
        "request",
        lambda r: (
            remote.append(r.url) if r.url.startswith("http") and not r.url.startswith(url) else None
        ),
    )
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    page.wait_for_selector(MAP_IFRAME, state="attached", timeout=120_000)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    # hotspot polygons: SVG paths in Leaflet's overlay pane
    frame.locator(".leaflet-overlay-pane path").first.wait_for(timeout=60_000)
    return frame, remote


def test_karta_shows_hotspots_and_details_on_click(app_url, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    frame, remote = _open_map(page, app_url)
    assert frame.locator(".leaflet-overlay-pane path").count() >= 2
    # rank labels and the legend are drawn
    assert frame.locator(".lagesbild-rank").count() >= 1
    assert "Hotspotzoner" in frame.locator(".lagesbild-legend").inner_text()
    # I korthet names Jakobsberg for Järfälla (the default police area)
    summary = page.get_by_text("Mest utsatt:", exact=False).first
    summary.wait_for(timeout=60_000)
    assert "Jakobsberg" in summary.inner_text()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "karta.png"), full_page=True)

    # click the second-ranked zone's label position: its polygon lies under the label
    labels = frame.locator(".lagesbild-rank")
    target = labels.nth(1) if labels.count() > 1 else labels.first
    number = target.inner_text().strip()
    box = target.bounding_box()
    # labels are not interactive; click just beside the label's centre, inside the polygon
    page.mouse.click(box["x"] + box["width"] / 2 + 1, box["y"] + box["height"] / 2 + 1)
    page.get_by_role("heading", name=f"{number}. ").first.wait_for(timeout=60_000)
    page.get_by_text("Veckodag och timme").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "karta_vald_zon.png"), full_page=True)
    assert remote == [], f"the offline map fetched remote URLs: {remote[:5]}"
    page.close()


def test_hotspot_list_names_jakobsberg(app_url, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    frame, _remote = _open_map(page, app_url, "hotspots")
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    # the data grid draws on a canvas; its accessible table carries the cell text
    text = grid.inner_text() + " ".join(
        page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_inner_texts()
    )
    assert "Jakobsberg" in text
    page.screenshot(path=str(ARTIFACTS / "hotspots.png"), full_page=True)
    page.close()
