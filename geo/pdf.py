"""Printable PDF documents in Swedish: one small builder every report uses.

This module owns the page furniture of Lägesbild's PDFs (the helgförstärkning briefing,
before/after reports, trygghetsbesiktning protocols): a title and subtitle, the
"INTERN / BEGRÄNSAD" handling marking in the header and the footer of every page, the date,
page numbers, paragraphs, tables whose header row repeats on every page, images given as PNG
bytes, and maps drawn offline with matplotlib (Agg) from GeoDataFrames — boundaries, zones,
points and labels, no tiles and no internet.

Text is set in DejaVu Sans, taken from matplotlib's own font folder (so it is there wherever
matplotlib is installed) and embedded in the PDF; it shows å ä ö and the en dash. If the font
file cannot be found the builder falls back to Helvetica, whose WinAnsi encoding still covers
Swedish letters.

Everything passed as text is escaped before it reaches reportlab's paragraph markup, so a user
typing ``<b>`` or ``&`` gets exactly those characters on the page.

API
---
Briefing(title, *, subtitle=None, marking=MARKING, date=None, author=None, subject=None,
         keywords=(), landscape=False)
    The document builder. Add content in reading order, then call ``build()``.

    heading(text)                      a section heading
    paragraph(text)                    a paragraph of plain text (escaped)
    key_values(pairs)                  a two-column table of labels and values
    table(data, *, columns=None, col_widths_mm=None, font_size=8)
                                       a DataFrame or list of rows; header repeats per page
    image(png, *, width_mm=None, caption=None)
                                       PNG bytes, scaled to the frame width by default
    map(layers, *, height_mm=110, caption=None, title=None, focus=None)
                                       an offline map from MapLayer objects
    spacer(height_mm=4)                vertical space
    build(path=None) -> bytes          renders the PDF; writes it to ``path`` atomically
                                       (temp file + rename) when given; sets ``page_count``

MapLayer(frame, *, kind="polygon", label_col=None, facecolor=..., edgecolor=...,
         alpha=..., linewidth=..., markersize=..., legend=None)
    One layer of a map: a GeoDataFrame in any declared CRS, drawn in EPSG:3006.

render_map(layers, *, width_mm=170, height_mm=110, dpi=150, title=None, focus=None,
           margin=0.35) -> bytes
    The map as PNG bytes (the same drawing ``Briefing.map`` embeds), with a scale bar;
    ``focus`` frames it on some shapes (the zones), one panel per distant group.

MARKING
    The handling marking, "INTERN / BEGRÄNSAD".

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> zones = gpd.GeoDataFrame({"name": ["Jakobsbergs station"]},
...                          geometry=[box(0, 0, 300, 200)], crs="EPSG:3006")
>>> doc = Briefing("Helgförstärkning", subtitle="Järfälla")
>>> doc.paragraph("Zoner för fredag och lördag kväll.")
>>> doc.map([MapLayer(zones, label_col="name")], height_mm=60)
>>> doc.table([["Jakobsbergs station", "21–02"]], columns=["Zon", "Timmar"])
>>> pdf = doc.build()
>>> pdf[:5], doc.page_count
(b'%PDF-', 1)
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import matplotlib
import pandas as pd

from geo.schema import CRS_METRIC, TZ

MARKING = "INTERN / BEGRÄNSAD"

_FONT = "DejaVuSans"
_FONT_BOLD = "DejaVuSans-Bold"
_FALLBACK = ("Helvetica", "Helvetica-Bold")
_font_names: tuple[str, str] | None = None

#: Zone fill colours, cycled; chosen to stay apart in greyscale print too.
ZONE_COLOURS = ("#d7301f", "#fc8d59", "#7b3294", "#2c7bb6", "#1a9641", "#e6ab02")
#: Colour of place names (stations, centres, squares) drawn for orientation.
PLACE_COLOUR = "#4d4d4d"


def _fonts() -> tuple[str, str]:
    """Register DejaVu Sans (regular, bold) once; return (regular, bold) font names."""
    global _font_names
    if _font_names is not None:
        return _font_names
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        pdfmetrics.registerFont(TTFont(_FONT, str(regular)))
        pdfmetrics.registerFont(TTFont(_FONT_BOLD, str(bold)))
        addMapping(_FONT, 0, 0, _FONT)
        addMapping(_FONT, 1, 0, _FONT_BOLD)
        addMapping(_FONT, 0, 1, _FONT)
        addMapping(_FONT, 1, 1, _FONT_BOLD)
        _font_names = (_FONT, _FONT_BOLD)
    else:  # pragma: no cover - matplotlib always ships DejaVu; kept for stripped installs
        _font_names = _FALLBACK
    return _font_names


@dataclass(frozen=True)
class MapLayer:
    """One layer of an offline map.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Geometries in any declared CRS; drawn in EPSG:3006.
    kind : {"polygon", "boundary", "point", "place"}, default "polygon"
        ``"boundary"`` draws outlines only, ``"polygon"`` filled shapes, ``"point"`` markers,
        ``"place"`` named places for orientation: a small dot and its name in grey beside it
        (``label_col``), under the zones' own labels.
    label_col : str, optional
        Column whose values are written at each geometry's representative point.
    facecolor, edgecolor : str
        Matplotlib colours. For ``kind="polygon"`` and no ``facecolor`` given, the features
        cycle through `ZONE_COLOURS`.
    alpha : float, default 0.45
        Fill opacity.
    linewidth : float, default 1.0
        Outline width in points.
    markersize : float, default 18
        Marker area in points² for ``kind="point"``.
    legend : str, optional
        Text for the map legend. A ``"polygon"`` layer that cycles through `ZONE_COLOURS`
        and has a ``label_col`` gets one legend row per feature instead (its label beside
        its own colour), so every colour on the map is named in the legend.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:3006")
    >>> MapLayer(pts, kind="point").kind
    'point'
    """

    frame: gpd.GeoDataFrame
    kind: str = "polygon"
    label_col: str | None = None
    facecolor: str | None = None
    edgecolor: str = "#333333"
    alpha: float = 0.45
    linewidth: float = 1.0
    markersize: float = 18.0
    legend: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.frame, gpd.GeoDataFrame):
            raise TypeError(
                f"MapLayer frame must be a GeoDataFrame, got {type(self.frame).__name__}"
            )
        allowed = ("polygon", "boundary", "point", "place")
        if self.kind not in allowed:
            raise ValueError(f'MapLayer kind was "{self.kind}" but is expected to be in {allowed}')
        if self.frame.crs is None and len(self.frame):
            raise ValueError("MapLayer frame has no CRS; set one (e.g. EPSG:3006) before drawing")
        if self.label_col is not None and self.label_col not in self.frame.columns:
            raise ValueError(
                f'MapLayer label_col "{self.label_col}" is not a column; '
                f"columns are {list(self.frame.columns)}"
            )


def _scale_bar_m(width_m: float) -> float:
    """A round length (1, 2 or 5 × 10^k m) near a fifth of the map width."""
    import math

    target = max(width_m / 5.0, 1.0)
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in (1, 2, 5) if step * power <= target)


#: Focus shapes closer than this (m) share one map panel; farther groups get their own.
FOCUS_GROUP_GAP_M = 3000.0
#: At most this many panels; more groups are framed together.
MAX_PANELS = 3


def focus_groups(
    focus: gpd.GeoDataFrame, *, gap_m: float = FOCUS_GROUP_GAP_M, max_groups: int = MAX_PANELS
) -> list[tuple[float, float, float, float]]:
    """Bounds (EPSG:3006) of the groups of ``focus`` shapes lying within ``gap_m`` of each other.

    Groups are ordered west to east; with more than ``max_groups`` one box holds them all.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100), box(500, 0, 600, 100),
    ...     box(20_000, 0, 20_100, 100)], crs="EPSG:3006")
    >>> [tuple(int(v) for v in b) for b in focus_groups(z)]
    [(0, 0, 600, 100), (20000, 0, 20100, 100)]
    """
    import shapely

    geoms = focus.to_crs(CRS_METRIC).geometry.dropna()
    geoms = geoms[~geoms.is_empty].to_numpy()
    if not len(geoms):
        raise ValueError("focus has no geometries to frame the map on")
    merged = shapely.union_all(shapely.buffer(geoms, gap_m / 2))
    parts = list(getattr(merged, "geoms", [merged]))
    boxes = []
    for part in parts:
        members = geoms[shapely.intersects(part, geoms)]
        boxes.append(tuple(float(v) for v in shapely.total_bounds(members)))
    if len(boxes) > max_groups:
        return [tuple(float(v) for v in shapely.total_bounds(geoms))]
    return sorted(boxes)


def _draw_layers(ax, frames, handles: list | None) -> None:
    from matplotlib.patches import Patch

    for layer, frame in frames:
        if layer.kind == "place":
            continue  # drawn by render_map once the view is framed (only names inside it)
        if layer.kind == "boundary":
            frame.boundary.plot(ax=ax, color=layer.edgecolor, linewidth=layer.linewidth)
            colour = "none"
        elif layer.kind == "point":
            colour = layer.facecolor or ZONE_COLOURS[0]
            frame.plot(
                ax=ax,
                color=colour,
                markersize=layer.markersize,
                edgecolor=layer.edgecolor,
                linewidth=0.4,
            )
        else:
            colours = (
                [layer.facecolor] * len(frame)
                if layer.facecolor
                else [ZONE_COLOURS[i % len(ZONE_COLOURS)] for i in range(len(frame))]
            )
            colour = colours[0]
            frame.plot(
                ax=ax,
                color=colours,
                alpha=layer.alpha,
                edgecolor=layer.edgecolor,
                linewidth=layer.linewidth,
            )
            if not layer.facecolor and layer.label_col and handles is not None:
                # one row per zone: the legend names every colour the map shows
                for text, c in zip(frame[layer.label_col], colours, strict=True):
                    handles.append(
                        Patch(facecolor=c, alpha=layer.alpha, edgecolor=layer.edgecolor,
                              label=str(text))
                    )  # fmt: skip
                handles = None
        if layer.legend and handles is not None:
            if layer.kind == "point":
                from matplotlib.lines import Line2D

                handles.append(
                    Line2D([], [], marker="o", linestyle="none", markerfacecolor=colour,
                           markeredgecolor=layer.edgecolor, markersize=6, label=layer.legend)
                )  # fmt: skip
            else:
                handles.append(
                    Patch(facecolor=colour, edgecolor=layer.edgecolor, label=layer.legend)
                )
        if layer.label_col:
            anchors = frame.geometry.representative_point()
            # a point's label stands beside its marker (on it, it would hide the colour)
            beside = {"xytext": (5, 4), "textcoords": "offset points", "ha": "left",
                      "va": "bottom", "fontsize": 8, "fontweight": "bold"}  # fmt: skip
            centred = {"ha": "center", "va": "center", "fontsize": 7}
            for text, pt in zip(frame[layer.label_col], anchors, strict=True):
                if pd.isna(text) or pt is None or pt.is_empty:
                    continue
                ax.annotate(
                    str(text),
                    (pt.x, pt.y),
                    annotation_clip=True,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.75},
                    **(beside if layer.kind == "point" else centred),
                )


def _draw_places(ax, layer: MapLayer, frame, taken: list, texts: list | None = None) -> None:
    """Named places as orientation: a grey dot and the name beside it, inside the view only.

    ``taken`` holds the points already labelled (the zones' labels); a place closer than
    6 % of the view's width to one of them, or to a place already drawn, is left out so
    that names never sit on top of each other. With ``texts`` (a list) the names are not
    drawn into the picture but appended as ``(x, y, name)`` in figure fractions, for the
    PDF to write them as text (searchable, sharp at any zoom).
    """
    ax.apply_aspect()  # the box as drawn ("equal" moves it): figure fractions must match
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    y1 -= 0.04 * (y1 - y0)  # a name at the very top would run out of the frame
    x1 -= 0.08 * (x1 - x0)  # and one at the right edge too (names are written rightwards)
    room = 0.06 * (x1 - x0)
    taken = list(taken)
    pts = frame.geometry.representative_point()
    names = frame[layer.label_col] if layer.label_col else [None] * len(frame)
    for text, pt in zip(names, pts, strict=True):
        if pt is None or pt.is_empty or not (x0 <= pt.x <= x1 and y0 <= pt.y <= y1):
            continue
        if any(abs(pt.x - tx) < room and abs(pt.y - ty) < room / 2 for tx, ty in taken):
            continue
        taken.append((pt.x, pt.y))
        ax.plot([pt.x], [pt.y], marker="o", markersize=2.5, color=PLACE_COLOUR, zorder=4)
        if text is not None and not pd.isna(text) and texts is not None:
            fx, fy = ax.figure.transFigure.inverted().transform(
                ax.transData.transform((pt.x, pt.y))
            )
            texts.append((float(fx), float(fy), str(text)))
        elif text is not None and not pd.isna(text):
            ax.annotate(
                str(text),
                (pt.x, pt.y),
                xytext=(3, 2),
                textcoords="offset points",
                fontsize=6,
                style="italic",
                color=PLACE_COLOUR,
                zorder=4,
                annotation_clip=True,
            )


#: Most tiles fetched for one map panel (a bigger view takes a lower zoom level).
MAX_TILES = 48
TILE_TIMEOUT_S = 5.0


def _tile_xy(lon, lat, z: int):
    """Web-Mercator tile coordinates (fractional) of lon/lat at zoom ``z``."""
    import numpy as np

    n = 2.0**z
    lat_r = np.radians(np.clip(lat, -85.0511, 85.0511))
    return (np.asarray(lon) + 180.0) / 360.0 * n, (
        1.0 - np.arcsinh(np.tan(lat_r)) / np.pi
    ) / 2.0 * n


def draw_tiles(ax, url: str, *, fetch=None) -> int:
    """Draw base-map tiles from ``url`` (``{z}/{x}/{y}``) under the layers of ``ax`` (EPSG:3006).

    The tiles (Web Mercator) are fetched for the axes' view at a zoom where a tile is
    about 256 pixels of the picture (at most `MAX_TILES`), put together, and resampled
    onto the view's SWEREF 99 TM grid (nearest pixel). ``fetch(url) -> bytes`` is for
    tests; by default the tile server is asked over HTTP(S) with a short time limit.

    Returns
    -------
    int
        How many tiles were drawn.

    Raises
    ------
    OSError
        When a tile cannot be fetched or read (the caller draws the map without tiles).
    """
    import math
    import urllib.request

    import numpy as np
    from PIL import Image
    from pyproj import Transformer

    if fetch is None:

        def fetch(tile_url: str) -> bytes:
            req = urllib.request.Request(tile_url, headers={"User-Agent": "Lagesbild"})
            with urllib.request.urlopen(req, timeout=TILE_TIMEOUT_S) as r:  # noqa: S310
                return r.read()

    ax.apply_aspect()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    to_ll = Transformer.from_crs(CRS_METRIC, "EPSG:4326", always_xy=True)
    bbox = ax.get_window_extent()
    w_px, h_px = max(int(bbox.width), 16), max(int(bbox.height), 16)
    gx, gy = np.meshgrid(np.linspace(x0, x1, w_px), np.linspace(y1, y0, h_px))
    lon, lat = to_ll.transform(gx, gy)
    span = max(float(lon.max() - lon.min()), 1e-6)
    z = int(np.clip(math.floor(math.log2(360.0 * w_px / (256.0 * span))), 0, 19))
    while True:
        tx, ty = _tile_xy(lon, lat, z)
        xs = range(int(np.floor(tx.min())), int(np.floor(tx.max())) + 1)
        ys = range(int(np.floor(ty.min())), int(np.floor(ty.max())) + 1)
        if len(xs) * len(ys) <= MAX_TILES or z == 0:
            break
        z -= 1
    mosaic = np.full((len(ys) * 256, len(xs) * 256, 3), 255, dtype=np.uint8)
    for j, ty_i in enumerate(ys):
        for i, tx_i in enumerate(xs):
            tile_url = (
                url.replace("{z}", str(z)).replace("{x}", str(tx_i)).replace("{y}", str(ty_i))
            )
            try:
                img = Image.open(io.BytesIO(fetch(tile_url))).convert("RGB").resize((256, 256))
            except (OSError, ValueError) as exc:
                raise OSError(f"tile {tile_url}: {exc}") from exc
            mosaic[j * 256 : (j + 1) * 256, i * 256 : (i + 1) * 256] = np.asarray(img)
    px = np.clip(((tx - xs.start) * 256).astype(int), 0, mosaic.shape[1] - 1)
    py = np.clip(((ty - ys.start) * 256).astype(int), 0, mosaic.shape[0] - 1)
    ax.imshow(mosaic[py, px], extent=(x0, x1, y0, y1), origin="upper", zorder=0,
              interpolation="nearest", aspect="auto")  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return len(xs) * len(ys)


def _frame_axes(
    ax, bounds, box_w: float, box_h: float, *, margin: float, min_pad_m: float = 150.0
) -> None:
    """Set ``ax`` to ``bounds`` grown by ``margin`` (a share of the larger side, at least
    ``min_pad_m``), widened on the shorter side so a metre is as long across as up; add a
    scale bar."""
    minx, miny, maxx, maxy = bounds
    pad = max(max(maxx - minx, maxy - miny) * margin, min_pad_m)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    scale = max((maxx - minx) / box_w, (maxy - miny) / box_h)
    ax.set_xlim(cx - scale * box_w / 2, cx + scale * box_w / 2)
    ax.set_ylim(cy - scale * box_h / 2, cy + scale * box_h / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = _scale_bar_m(x1 - x0)
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    ax.plot([bx, bx + bar], [by, by], color="black", linewidth=2)
    label = f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m"
    ax.annotate(
        label,
        (bx + bar / 2, by),
        xytext=(0, 3),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=7,
    )


def render_map(
    layers: Sequence[MapLayer],
    *,
    width_mm: float = 170.0,
    height_mm: float = 110.0,
    dpi: int = 150,
    title: str | None = None,
    focus: gpd.GeoDataFrame | None = None,
    margin: float = 0.35,
    min_pad_m: float = 150.0,
    place_texts: list | None = None,
    tiles: str | None = None,
    notes: list | None = None,
) -> bytes:
    """Draw GeoDataFrame layers into a PNG offline (matplotlib Agg, no tiles).

    Parameters
    ----------
    layers : sequence of MapLayer
        Drawn in order, first at the bottom. Empty layers are skipped.
    width_mm, height_mm : float, default 170 × 110
        Size of the picture in millimetres.
    dpi : int, default 150
        Resolution.
    title : str, optional
        Title above the map.
    focus : GeoDataFrame, optional
        Frame the map on these shapes (e.g. the zones) instead of every layer's extent; the
        other layers (boundaries) show as context around them. Groups of focus shapes more
        than `FOCUS_GROUP_GAP_M` apart (zones in two kommuner) get one panel each, side by
        side, each with its own scale bar (`focus_groups`).
    margin : float, default 0.35
        Space around the framed extent, as a share of its larger side (at least
        ``min_pad_m``).
    min_pad_m : float, default 150
        The least space around the framed extent, in metres: a few points close together
        still get streets and places around them.
    place_texts : list, optional
        When given, the names of ``"place"`` layers are left out of the picture and
        appended here as ``(x, y, name)`` in fractions of the picture (from its lower
        left corner): `Briefing.map` writes them onto the page as text.
    tiles : str, optional
        A tile URL template (``{z}/{x}/{y}``): base-map tiles under the layers
        (`draw_tiles`). None (the default) draws no tiles — nothing leaves the machine.
    notes : list, optional
        Gets a Swedish sentence when the tiles could not be fetched (the map is then
        drawn without them).

    Returns
    -------
    bytes
        A PNG image in EPSG:3006 with a scale bar and, when any layer has ``legend``, a legend.

    Raises
    ------
    ValueError
        If no layer holds any geometry, the focus is empty, or the size is not positive.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:3006")
    >>> render_map([MapLayer(g, label_col="name")], width_mm=40, height_mm=30)[:4]
    b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if width_mm <= 0 or height_mm <= 0:
        raise ValueError(f"map size must be positive, got {width_mm} × {height_mm} mm")
    frames = [(layer, layer.frame.to_crs(CRS_METRIC)) for layer in layers if len(layer.frame)]
    if not frames:
        raise ValueError("render_map needs at least one layer with geometries; all were empty")
    if focus is not None:
        groups = focus_groups(focus)
    else:
        groups = [tuple(pd.concat([f.geometry for _, f in frames]).total_bounds)]
        margin = 0.05

    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=dpi)
    FigureCanvasAgg(fig)
    top = 0.9 if title else 0.98
    gap = 0.01
    panel_w = (0.98 - gap * (len(groups) - 1)) / len(groups)
    handles: list = []
    for i, bounds in enumerate(groups):
        ax = fig.add_axes((0.01 + i * (panel_w + gap), 0.01, panel_w, top))
        last = i == len(groups) - 1
        _draw_layers(ax, frames, handles if last else None)
        _frame_axes(
            ax, bounds, panel_w * width_mm, top * height_mm, margin=margin, min_pad_m=min_pad_m
        )
        if tiles:
            try:
                draw_tiles(ax, tiles)
            except OSError as exc:
                if notes is not None:
                    notes.append(f"Bakgrundskartan kunde inte hämtas ({exc}); kartan visas utan.")
        labelled = [
            (p.x, p.y)
            for layer, frame in frames
            if layer.label_col and layer.kind != "place"
            for p in frame.geometry.representative_point()
            if p is not None and not p.is_empty
        ]
        for layer, frame in frames:
            if layer.kind == "place":
                _draw_places(ax, layer, frame, labelled, place_texts)
        if last:
            ax.annotate(
                "N ↑", (0.97, 0.95), xycoords="axes fraction", ha="right", va="top", fontsize=8
            )
            if handles:
                ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.8)
    if title:
        fig.suptitle(title, fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


#: Left and right padding of a table cell, points.
CELL_PAD_PT = 3.0


def fit_widths(
    columns: Sequence[tuple[Sequence[str], Sequence[str]]],
    room_pt: float,
    fonts: tuple[str, str],
    font_size: float,
) -> list[float]:
    """Content-aware column widths (points) that share ``room_pt``.

    Each column is ``(header texts, body texts)``; headers are measured in ``fonts[0]``
    (bold), bodies in ``fonts[1]``. A column's minimum is its longest single word, so no
    word is broken; its wish is its longest whole text on one line. If every wish fits, the
    room left is shared in proportion to the wishes; otherwise every column gets its
    minimum plus a share of what is left in proportion to how much more it wishes (long
    zone names get the most). Only when even the minima do not fit are they scaled down.

    Examples
    --------
    >>> cols = [(["Nr"], ["1", "2"]), (["Kumulativ träffandel"], ["11 %", "18 %"])]
    >>> w = fit_widths(cols, 90.0, ("Helvetica-Bold", "Helvetica"), 8)
    >>> # "Nr" is 8.9 pt + 7 pt padding = 16; the whole header (77.3 + 7) does not fit in
    >>> # the 74 left, which is still more than the longest word "träffandel" (36.4 + 7)
    >>> [round(v) for v in w], round(sum(w))
    ([16, 74], 90)
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def width(text: str, font: str, *, words: bool) -> float:
        # cells are escaped markup: measure the characters a reader sees
        plain = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        parts = plain.split() if words else [plain]
        return max((stringWidth(p, font, font_size) for p in parts), default=0.0)

    pad = 2 * CELL_PAD_PT + 1.0
    low, wish = [], []
    for head, body in columns:
        measured = [(t, fonts[0]) for t in head] + [(t, fonts[1]) for t in body]
        low.append(max((width(t, f, words=True) for t, f in measured), default=0.0) + pad)
        wish.append(max((width(t, f, words=False) for t, f in measured), default=0.0) + pad)
    if sum(wish) <= room_pt:
        return [w * room_pt / sum(wish) for w in wish]
    if sum(low) >= room_pt:
        return [w * room_pt / sum(low) for w in low]
    extra = [w - lo for w, lo in zip(wish, low, strict=True)]
    left = room_pt - sum(low)
    return [lo + e * left / sum(extra) for lo, e in zip(low, extra, strict=True)]


def _MapImage(png: bytes, width: float, height: float, texts, font: str):
    """A flowable: the map picture with place names written over it as PDF text."""
    from reportlab.platypus import Flowable

    class MapImage(Flowable):
        def wrap(self, *_):
            return width, height

        def draw(self):
            from reportlab.lib.utils import ImageReader

            c = self.canv
            c.drawImage(ImageReader(io.BytesIO(png)), 0, 0, width=width, height=height)
            size = 6.0
            for fx, fy, text in texts:
                x, y = fx * width + 3, fy * height + 2  # beside the place's dot
                w = c.stringWidth(text, font, size)
                c.setFillColorRGB(1, 1, 1, alpha=0.75)
                c.rect(x - 0.8, y - 1.4, w + 1.6, size + 1.2, stroke=0, fill=1)
                c.setFillColor(PLACE_COLOUR)
                c.setFont(font, size)
                c.drawString(x, y, text)

    return MapImage()


class Briefing:
    """A Swedish PDF document with Lägesbild's page furniture.

    Parameters
    ----------
    title : str
        Document title (first page and PDF metadata).
    subtitle : str, optional
        Line under the title, e.g. the area and period.
    marking : str, default MARKING
        Handling marking printed in the header and footer of every page.
    date : datetime.date or datetime.datetime, optional
        Printed date; today in Europe/Stockholm by default.
    author : str, optional
        Who made it; goes to the PDF metadata and the footer.
    subject : str, optional
        PDF metadata subject.
    keywords : iterable of str, optional
        PDF metadata keywords (e.g. the parameters used, as ``"k=v"``).
    landscape : bool, default False
        A4 landscape instead of portrait.

    Examples
    --------
    >>> doc = Briefing("Trygghetsbesiktning", date=dt.date(2026, 3, 1))
    >>> doc.paragraph("Gångväg: dålig belysning & skymd sikt <nära> stationen.")
    >>> doc.build()[:5]
    b'%PDF-'
    """

    def __init__(
        self,
        title: str,
        *,
        subtitle: str | None = None,
        marking: str = MARKING,
        date: dt.date | None = None,
        author: str | None = None,
        subject: str | None = None,
        keywords: Iterable[str] = (),
        landscape: bool = False,
    ) -> None:
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"Briefing title must be a non-empty string, got {title!r}")
        self.title = title
        self.subtitle = subtitle
        self.marking = marking
        self.date = date if date is not None else dt.datetime.now(dt.UTC).astimezone(_tz()).date()
        self.author = author
        self.subject = subject
        self.keywords = list(keywords)
        self.landscape = landscape
        self.page_count: int | None = None
        self._flow: list = []
        self._regular, self._bold = _fonts()
        self._styles = self._make_styles()
        self._flow.append(self._para(title, "title"))
        if subtitle:
            self._flow.append(self._para(subtitle, "subtitle"))
        self._flow.append(self._para(f"Datum: {_date_text(self.date)}", "small"))

    # --- layout ------------------------------------------------------------------------
    def _pagesize(self) -> tuple[float, float]:
        from reportlab.lib.pagesizes import A4, landscape

        return landscape(A4) if self.landscape else A4

    def _frame_width(self) -> float:
        from reportlab.lib.units import mm

        return self._pagesize()[0] - 30 * mm

    def _make_styles(self) -> dict:
        from reportlab.lib.styles import ParagraphStyle

        base = ParagraphStyle("base", fontName=self._regular, fontSize=9.5, leading=12.5)
        return {
            "body": base,
            "title": ParagraphStyle(
                "title", parent=base, fontName=self._bold, fontSize=17, leading=21, spaceAfter=2
            ),
            "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11.5, leading=15),
            "heading": ParagraphStyle(
                "heading",
                parent=base,
                fontName=self._bold,
                fontSize=11.5,
                leading=15,
                spaceBefore=6,
                spaceAfter=3,
            ),
            "small": ParagraphStyle(
                "small", parent=base, fontSize=8, leading=10, textColor="#444444"
            ),
            "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=9.5),
            "cellhead": ParagraphStyle(
                "cellhead", parent=base, fontName=self._bold, fontSize=8, leading=9.5
            ),
        }

    def _para(self, text: object, style: str):
        from reportlab.platypus import Paragraph

        return Paragraph(
            escape("" if text is None else str(text)).replace("\n", "<br/>"), self._styles[style]
        )

    # --- content -----------------------------------------------------------------------
    def heading(self, text: str) -> None:
        """Add a section heading (escaped plain text)."""
        self._flow.append(self._para(text, "heading"))

    def paragraph(self, text: str, *, small: bool = False) -> None:
        """Add a paragraph of plain text; ``<``, ``>`` and ``&`` are printed as typed."""
        self._flow.append(self._para(text, "small" if small else "body"))

    def spacer(self, height_mm: float = 4.0) -> None:
        """Add vertical space of ``height_mm`` millimetres."""
        from reportlab.lib.units import mm
        from reportlab.platypus import Spacer

        self._flow.append(Spacer(1, height_mm * mm))

    def key_values(self, pairs: Iterable[tuple[str, object]] | dict) -> None:
        """Add a two-column table of labels and values (e.g. the parameters used)."""
        items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
        self.table([[k, v] for k, v in items], columns=None, col_widths_mm=(55, None))

    def table(
        self,
        data: pd.DataFrame | Sequence[Sequence[object]],
        *,
        columns: Sequence[str] | None = None,
        col_widths_mm: Sequence[float | None] | None = None,
        font_size: float = 8.0,
    ) -> None:
        """Add a table; the header row repeats at the top of every page it spans.

        Parameters
        ----------
        data : pandas.DataFrame or sequence of rows
            A DataFrame uses its column names as the header unless ``columns`` is given.
        columns : sequence of str, optional
            Header row. ``None`` with a list of rows means no header.
        col_widths_mm : sequence of float or None, optional
            Column widths in mm; ``None`` entries share the remaining width.
        font_size : float, default 8
            Cell text size in points.
        """
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm
        from reportlab.platypus import Paragraph, Table, TableStyle

        if isinstance(data, pd.DataFrame):
            header = list(columns) if columns is not None else [str(c) for c in data.columns]
            rows = data.astype(object).values.tolist()
        else:
            header = list(columns) if columns is not None else None
            rows = [list(r) for r in data]
        ncols = len(header) if header else (len(rows[0]) if rows else 0)
        if ncols == 0:
            raise ValueError("table needs at least one column; got no header and no rows")
        for i, r in enumerate(rows):
            if len(r) != ncols:
                raise ValueError(f"table row {i + 1} has {len(r)} cells, expected {ncols}")
        cell = ParagraphStyle(
            "c", parent=self._styles["cell"], fontSize=font_size, leading=font_size * 1.2
        )
        head = ParagraphStyle(
            "h", parent=self._styles["cellhead"], fontSize=font_size, leading=font_size * 1.2
        )

        def text(v: object) -> str:
            if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)):
                return ""
            if isinstance(v, float):
                return f"{v:.2f}".replace(".", ",")
            return escape(str(v))

        texts = [[text(v) for v in r] for r in rows]
        body = [[Paragraph(t, cell) for t in r] for r in texts]
        if header:
            body.insert(0, [Paragraph(escape(str(h)), head) for h in header])
        given = list(col_widths_mm) if col_widths_mm is not None else [None] * ncols
        if len(given) != ncols:
            raise ValueError(f"col_widths_mm has {len(given)} entries, expected {ncols}")
        fixed = {i: w * mm for i, w in enumerate(given) if w is not None}
        free = [i for i in range(ncols) if i not in fixed]
        widths = [fixed.get(i, 0.0) for i in range(ncols)]
        if free:
            room = max(self._frame_width() - sum(fixed.values()), 0.0)
            columns_text = [
                ([escape(str(header[i]))] if header else [], [r[i] for r in texts]) for i in free
            ]
            fonts = (head.fontName, cell.fontName)
            for i, w in zip(free, fit_widths(columns_text, room, fonts, font_size), strict=True):
                widths[i] = w
        tbl = Table(body, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
        style = [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#999999")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_PT),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_PT),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e3e3")))
        tbl.setStyle(TableStyle(style))
        self._flow.append(tbl)

    def image(self, png: bytes, *, width_mm: float | None = None, caption: str | None = None):
        """Add a PNG image (bytes), scaled to ``width_mm`` or the frame width, aspect kept."""
        from reportlab.lib.units import mm
        from reportlab.lib.utils import ImageReader
        from reportlab.platypus import Image

        if not isinstance(png, (bytes, bytearray)) or not bytes(png).startswith(b"\x89PNG"):
            raise ValueError("image expects PNG bytes (starting with the PNG signature)")
        w_px, h_px = ImageReader(io.BytesIO(png)).getSize()
        width = min(width_mm * mm if width_mm else self._frame_width(), self._frame_width())
        self._flow.append(Image(io.BytesIO(png), width=width, height=width * h_px / w_px))
        if caption:
            self._flow.append(self._para(caption, "small"))

    def map(
        self,
        layers: Sequence[MapLayer],
        *,
        height_mm: float = 110.0,
        caption: str | None = None,
        title: str | None = None,
        focus: gpd.GeoDataFrame | None = None,
        min_pad_m: float = 150.0,
        tiles: str | None = None,
    ) -> None:
        """Add a map of ``layers`` (see `render_map`, also for ``focus``, ``min_pad_m`` and
        ``tiles``) across the frame width; offline unless a tile server is given."""
        from reportlab.lib.units import mm

        width_mm = self._frame_width() / mm
        texts: list = []
        notes: list = []
        png = render_map(
            layers, width_mm=width_mm, height_mm=height_mm, dpi=200, title=title, focus=focus,
            min_pad_m=min_pad_m, place_texts=texts, tiles=tiles, notes=notes,
        )  # fmt: skip
        for note in notes:
            self._flow.append(self._para(note, "small"))
        self._flow.append(_MapImage(png, width_mm * mm, height_mm * mm, texts, self._regular))
        if caption:
            self._flow.append(self._para(caption, "small"))

    # --- output ------------------------------------------------------------------------
    def _decorate(self, canvas, doc) -> None:
        from reportlab.lib.units import mm

        width, height = self._pagesize()
        canvas.saveState()
        canvas.setFillColorRGB(0.65, 0.0, 0.0)
        canvas.setFont(self._bold, 9)
        canvas.drawCentredString(width / 2, height - 9 * mm, self.marking)
        canvas.drawCentredString(width / 2, 6 * mm, self.marking)
        canvas.setFillColorRGB(0.25, 0.25, 0.25)
        canvas.setFont(self._regular, 7.5)
        canvas.drawString(15 * mm, height - 9 * mm, self.title[:60])
        canvas.drawRightString(width - 15 * mm, height - 9 * mm, _date_text(self.date))
        left = "Lägesbild" + (f" · {self.author}" if self.author else "")
        canvas.drawString(15 * mm, 6 * mm, left[:70])
        canvas.drawRightString(width - 15 * mm, 6 * mm, f"Sida {doc.page}")
        canvas.restoreState()

    def build(self, path: str | os.PathLike | None = None) -> bytes:
        """Render the document.

        Parameters
        ----------
        path : path-like, optional
            Where to write the PDF. Written to a temporary file in the same folder and
            renamed into place, so a failure never leaves half a file.

        Returns
        -------
        bytes
            The PDF. ``self.page_count`` holds the number of pages afterwards.
        """
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        buf = io.BytesIO()
        doc = SimpleDocTemplate(
            buf,
            pagesize=self._pagesize(),
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=14 * mm,
            bottomMargin=12 * mm,
            title=self.title,
            author=self.author or "Lägesbild",
            subject=self.subject or self.marking,
            creator="Lägesbild",
            keywords=", ".join([self.marking, *self.keywords]),
        )
        doc.build(list(self._flow), onFirstPage=self._decorate, onLaterPages=self._decorate)
        self.page_count = doc.page
        data = buf.getvalue()
        if path is not None:
            write_atomic(path, data)
        return data


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> write_atomic(p, b"abc").read_bytes()
    b'abc'
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(TZ)


def _date_text(value: dt.date) -> str:
    """Swedish date, e.g. ``1 mars 2026``; a datetime also shows HH:MM."""
    from geo.labels import MONTHS

    text = f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    if isinstance(value, dt.datetime):
        text += f" kl. {value:%H:%M}"
    return text
