"""The PDF briefing a patrol leader navigates by: rendered to PNG and read back as text.

Place names from the gazetteer stand on the map as PDF text (pdftotext finds them), every
zone colour on the map is also in the legend (pixel colours of the page rendered by
pdftoppm), the parameter block is in Swedish words, and its time is local (Europe/Stockholm).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from geo import schema as S
from geo.exports import export_zones
from geo.pdf import ZONE_COLOURS

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)

X0, Y0 = 660_000, 6_590_000  # near Jakobsberg, SWEREF 99 TM
ALPHA = 0.45  # geo.pdf.MapLayer's default fill opacity


def _zones() -> gpd.GeoDataFrame:
    # four 300 m squares in one column: framed on them, they stand in the middle of the
    # map, and the legend in its lower right corner is well apart from them
    n = 4
    return gpd.GeoDataFrame(
        {
            S.ZONE_ID: [f"z{i}" for i in range(n)],
            S.NAME: ["Stationen", "Torget", "Parken", "Skolan"],
            "pick": list(range(1, n + 1)),
            "recommended_hours": ["fre 22–01"] * n,
            S.INCIDENT_COUNT: [12.0, 9.0, 7.0, 5.0],
            S.HIT_RATE: [0.3, 0.2, 0.15, 0.1],
            "cumulative_hit_rate": [0.3, 0.5, 0.65, 0.75],
            S.PAI: [30.0, 20.0, 15.0, 10.0],
            S.DIALOGUE_MENTIONS: [0.0] * n,
            S.AREA_KM2: [0.09] * n,
        },
        geometry=[box(X0, Y0 + 700 * i, X0 + 300, Y0 + 700 * i + 300) for i in range(n)],
        crs=S.CRS_METRIC,
    )


def _places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {S.PLACE_NAME: ["Kvarnbacken", "Lillsjön", "Bortom bergen"], S.PLACE_KIND: ["torg"] * 3},
        geometry=[Point(X0 + 1200, Y0 + 1000), Point(X0 - 900, Y0 + 1800), Point(X0 + 90_000, Y0)],
        crs=S.CRS_METRIC,
    )


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {S.AREA_ID: ["a"], S.AREA_NAME: ["Jakobsberg"]},
        geometry=[box(X0 - 3000, Y0 - 1000, X0 + 3000, Y0 + 4000)],
        crs=S.CRS_METRIC,
    )


PARAMS = {
    "window": "fre–lör 18–03",
    "categories": [S.VIOLENCE],
    "start": "2018-01-01",
    "end": "2018-12-31",
    "k": 4,
    "study_area_km2": 30.0,
    "drawn_zones": 0,
    "created_by": "analytiker",
    "created_at": "2026-03-06T09:00:00+00:00",  # UTC, as the server's clock gives it
}


@pytest.fixture(scope="module")
def briefing(tmp_path_factory):
    path = tmp_path_factory.mktemp("brief") / "brief.pdf"
    export_zones(_zones(), path, params=PARAMS, areas=_areas(), places=_places())
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    return text, png


def test_place_names_from_the_gazetteer_are_on_the_map(briefing):
    text, _ = briefing
    assert "Kvarnbacken" in text and "Lillsjön" in text  # near the zones: on the map
    assert "Bortom bergen" not in text  # 90 km away: outside the view, not written


def test_parameters_in_swedish_words_and_local_time(briefing):
    text, _ = briefing
    flat = " ".join(text.split())
    assert "Studerad yta" in flat and "30 km²" in flat and "Ritade zoner" in flat
    # 09:00 UTC on 6 March is 10:00 in Stockholm (CET)
    assert "Skapad 6 mars 2026 kl. 10:00" in flat
    internal = re.findall(r"\b[a-z]+_[a-z0-9_]+\b", flat)
    assert internal == [], internal  # no study_area_km2, drawn_zones, created_at …


def _blend(hex_colour: str, alpha: float = ALPHA) -> np.ndarray:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return alpha * rgb + (1 - alpha) * 255.0


def test_every_zone_colour_on_the_map_is_in_the_legend(briefing):
    from PIL import Image

    _, png = briefing
    page = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)
    width = page.shape[1]
    for i in range(4):
        want = _blend(ZONE_COLOURS[i])
        ys, xs = np.nonzero(np.all(np.abs(page - want) <= 6, axis=2))
        on_map = int((xs < 0.7 * width).sum())  # the zone itself, mid-map
        in_legend = int((xs > 0.75 * width).sum())  # the legend, lower right
        assert on_map > 50, (ZONE_COLOURS[i], on_map)
        assert in_legend > 10, (ZONE_COLOURS[i], in_legend)


def _tile_server():
    """A tile server on localhost answering every tile with one green PNG; counts requests."""
    import http.server
    import threading

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (40, 200, 60)).save(buf, format="PNG")
    tile = buf.getvalue()
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, asked


def _green_pixels(pdf_bytes: bytes, tmp_path) -> int:
    from PIL import Image

    path = tmp_path / "t.pdf"
    path.write_bytes(pdf_bytes)
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    page = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(np.all(np.abs(page - [40, 200, 60]) <= 8, axis=2).sum())


def test_base_map_tiles_only_when_a_tile_server_is_configured(tmp_path, monkeypatch):
    from geo.exports import to_pdf

    server, asked = _tile_server()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        monkeypatch.setenv("LAGESBILD_TILES", "none")
        plain = to_pdf(_zones(), params=PARAMS, areas=_areas(), places=_places())
        assert asked == [] and _green_pixels(plain, tmp_path) == 0  # nothing leaves the machine
        monkeypatch.setenv("LAGESBILD_TILES", url)
        tiled = to_pdf(_zones(), params=PARAMS, areas=_areas(), places=_places())
        assert len(asked) >= 1 and all(re.fullmatch(r"/\d+/\d+/\d+\.png", p) for p in asked)
        assert _green_pixels(tiled, tmp_path) > 10_000  # the tiles lie under the map
    finally:
        server.shutdown()


def test_unreachable_tile_server_gives_the_map_without_tiles_and_says_so(tmp_path, monkeypatch):
    from geo.exports import to_pdf

    monkeypatch.setenv("LAGESBILD_TILES", "http://127.0.0.1:9/{z}/{x}/{y}.png")  # discard port
    path = tmp_path / "b.pdf"
    path.write_bytes(to_pdf(_zones(), params=PARAMS, areas=_areas(), places=_places()))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Bakgrundskartan kunde inte hämtas" in " ".join(text.split())
    assert "Kvarnbacken" in text  # the map itself is there, with its place names
