"""geo.pdf: the shared Swedish PDF builder, checked by reading the PDFs back with pdftotext."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image  # matplotlib depends on Pillow
from shapely.geometry import Point, box

from geo.pdf import (
    CELL_PAD_PT,
    MARKING,
    Briefing,
    MapLayer,
    fit_widths,
    focus_groups,
    render_map,
    write_atomic,
)

pdftotext = shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(pdftotext is None, reason="pdftotext (poppler-utils) missing")


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def _zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Jakobsbergs station", "Viksjö centrum"]},
        geometry=[box(0, 0, 300, 200), box(1000, 500, 1200, 800)],
        crs="EPSG:3006",
    )


@needs_poppler
def test_page_furniture_and_swedish_letters(tmp_path):
    doc = Briefing(
        "Helgförstärkning Järfälla", subtitle="Fredag–lördag 18–03", date=dt.date(2026, 3, 6)
    )
    doc.heading("Zoner")
    doc.paragraph("Åtgärder på gångvägen söder om stationen.")
    pdf = doc.build()
    text = _text(pdf, tmp_path)
    assert "Helgförstärkning Järfälla" in text
    assert "Åtgärder på gångvägen söder om stationen." in text
    assert "6 mars 2026" in text
    # header and footer each carry the marking once per page
    assert text.count(MARKING) == 2
    assert doc.page_count == 1


@needs_poppler
def test_user_text_is_escaped_not_interpreted(tmp_path):
    doc = Briefing("Test")
    doc.paragraph("Stök & <b>bråk</b> vid torget")
    doc.table([["<i>x</i> & y", 1.5]], columns=["Plats", "Värde"])
    text = _text(doc.build(), tmp_path)
    assert "Stök & <b>bråk</b> vid torget" in text
    assert "<i>x</i> & y" in text
    assert "1,50" in text  # Swedish decimal comma


@needs_poppler
def test_long_table_repeats_header_on_every_page(tmp_path):
    doc = Briefing("Lång tabell")
    frame = pd.DataFrame({"Zonnamn": [f"zon {i}" for i in range(150)], "Antal": range(150)})
    doc.table(frame)
    text = _text(doc.build(), tmp_path)
    assert doc.page_count >= 2
    pages = text.split("\f")
    filled = [p for p in pages if p.strip()]
    assert len(filled) == doc.page_count
    for page in filled:
        assert "Zonnamn" in page
        assert MARKING in page
    assert "zon 149" in text


def test_map_png_is_drawn_offline_with_labels():
    zones = _zones()
    areas = gpd.GeoDataFrame(geometry=[box(-500, -500, 2000, 1500)], crs="EPSG:3006")
    pts = gpd.GeoDataFrame(geometry=[Point(100, 100)], crs="EPSG:3006").to_crs("EPSG:4326")
    png = render_map(
        [
            MapLayer(areas, kind="boundary"),
            MapLayer(zones, label_col="name", legend="Zoner"),
            MapLayer(pts, kind="point"),
        ],
        width_mm=80,
        height_mm=60,
        dpi=100,
    )
    assert png.startswith(b"\x89PNG")

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    # 80 mm at 100 dpi = 315 px wide
    assert img.shape[1] == pytest.approx(80 / 25.4 * 100, abs=1)
    # the red zone fill is present, i.e. something was drawn besides white
    assert (img != 255).any(axis=2).mean() > 0.05


@needs_poppler
def test_map_and_image_in_pdf(tmp_path):
    doc = Briefing("Karta")
    doc.map([MapLayer(_zones(), label_col="name")], height_mm=80, caption="Zoner i Järfälla")
    png = render_map([MapLayer(_zones())], width_mm=40, height_mm=30, dpi=72)
    doc.image(png, width_mm=40)
    out = tmp_path / "karta.pdf"
    doc.build(out)
    assert out.read_bytes().startswith(b"%PDF-")
    assert "Zoner i Järfälla" in _text(out.read_bytes(), tmp_path)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: Briefing(""), ValueError, "title must be a non-empty string"),
        (lambda: MapLayer(pd.DataFrame()), TypeError, "must be a GeoDataFrame"),
        (lambda: MapLayer(_zones(), kind="raster"), ValueError, 'kind was "raster"'),
        (lambda: MapLayer(_zones(), label_col="namn"), ValueError, 'label_col "namn"'),
        (
            lambda: MapLayer(gpd.GeoDataFrame(geometry=[Point(0, 0)])),
            ValueError,
            "has no CRS",
        ),
        (
            lambda: render_map([MapLayer(_zones().iloc[:0])]),
            ValueError,
            "at least one layer with geometries",
        ),
        (lambda: render_map([MapLayer(_zones())], width_mm=0), ValueError, "must be positive"),
        (lambda: Briefing("x").image(b"GIF89a"), ValueError, "expects PNG bytes"),
        (
            lambda: Briefing("x").table([[1, 2], [3]], columns=["a", "b"]),
            ValueError,
            "row 2 has 1 cells, expected 2",
        ),
    ],
    ids=[
        "empty-title",
        "not-geo",
        "bad-kind",
        "bad-label",
        "no-crs",
        "empty",
        "size",
        "gif",
        "ragged",
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_write_atomic_leaves_no_temp_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "ut.pdf"

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("geo.pdf.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"%PDF-")
    assert list(tmp_path.iterdir()) == []


# --- table widths and map framing -----------------------------------------------------------

HEADERS = ["Nr", "Zon", "Rekommenderade timmar", "Händelser i fönstret", "Träffandel",
           "Kumulativ träffandel", "PAI", "Dialog-omnämnanden", "Öppna brister inom 150 m"]  # fmt: skip


def _wide_rows():
    return [[1, "Jakobsbergs station och Söderhallarna", "fre–lör 22–01, lör 19–22", 92, "11 %",
             "11 %", "8,6", 0, 2]]  # fmt: skip


@needs_poppler
def test_table_header_words_are_never_broken(tmp_path):
    doc = Briefing("Zoner")
    doc.table(_wide_rows(), columns=HEADERS, font_size=7.5)
    words = set(_text(doc.build(), tmp_path).split())
    for header in HEADERS:
        for word in header.split():
            assert word in words, (word, sorted(words))
    # the fragments the old equal-width table printed
    assert not {"Incident", "Träffand", "Kumulati", "mnämna"} & words


def test_fit_widths_keeps_every_word_whole_and_fills_the_room():
    from reportlab.pdfbase.pdfmetrics import stringWidth

    columns = [([h], [str(v)]) for h, v in zip(HEADERS, _wide_rows()[0], strict=True)]
    room = 500.0
    widths = fit_widths(columns, room, ("Helvetica-Bold", "Helvetica"), 7.5)
    np.testing.assert_allclose(sum(widths), room)
    for (head, body), width in zip(columns, widths, strict=True):
        longest = max(
            [stringWidth(w, "Helvetica-Bold", 7.5) for w in head[0].split()]
            + [stringWidth(w, "Helvetica", 7.5) for w in body[0].split()]
        )
        assert width >= longest + 2 * CELL_PAD_PT
    assert widths[0] == min(widths)  # "Nr" and "1" need least


def test_focus_groups_split_distant_zones():
    zones = gpd.GeoDataFrame(
        geometry=[box(0, 0, 100, 100), box(1000, 0, 1100, 100), box(20_000, 5000, 20_200, 5100)],
        crs="EPSG:3006",
    )
    # 0..100 and 1000..1100 are 900 m apart (< 3000 m): one group; 20 km away: another
    assert focus_groups(zones) == [(0.0, 0.0, 1100.0, 100.0), (20_000.0, 5000.0, 20_200.0, 5100.0)]
    # more groups than panels: one box around everything
    assert focus_groups(zones, max_groups=1) == [(0.0, 0.0, 20_200.0, 5100.0)]
    with pytest.raises(ValueError, match="focus has no geometries"):
        focus_groups(zones.iloc[:0])


def _red_share(png: bytes) -> float:
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return float(((r > 200) & (g < 190) & (b < 190)).mean())


def test_map_framed_on_the_zones_shows_them_large():
    kommun = gpd.GeoDataFrame(geometry=[box(-10_000, -10_000, 10_000, 10_000)], crs="EPSG:3006")
    zone = gpd.GeoDataFrame(geometry=[box(0, 0, 300, 200)], crs="EPSG:3006")
    layers = [MapLayer(kommun, kind="boundary"), MapLayer(zone, facecolor="#d7301f", alpha=1)]
    whole = render_map(layers, width_mm=80, height_mm=60, dpi=100)
    framed = render_map(layers, width_mm=80, height_mm=60, dpi=100, focus=zone)
    # at kommun extent the 0.06 km² zone is a speck of the 400 km² map; framed on it with
    # a 35 % margin it fills a good part of the picture
    assert _red_share(whole) < 0.002
    assert _red_share(framed) > 0.1
