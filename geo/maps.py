"""Folium map builders for the lägesbild: boundaries, hotspot zones, Gi* cells, heat, places.

Every builder takes frames in EPSG:3006 (the project's metric CRS) and reprojects to WGS 84
only for display. Everything that comes from a file (zone and area names, dialogue reasons)
is passed through :func:`html.escape` before it reaches a tooltip, so a name like
``<script>`` shows as text. Incidents are never drawn as one Python marker each: above a few
hundred points they go to the map as one compact array (``HeatMap`` or ``FastMarkerCluster``),
rounded to about a metre.

Tiles reveal the viewed area to the tile server, so the default is no tiles at all: a grey
background with the area boundaries drawn in white (DESIGN.md §6). ``LAGESBILD_TILES`` (or the
``tiles`` argument) chooses ``none``, ``osm`` (public OpenStreetMap tiles, needs the internet)
or an internal tile URL template such as ``https://karta.polisen.local/{z}/{x}/{y}.png``.

Call :func:`geo.assets.use_local_assets` before building maps for a closed network.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo import schema

# --- colours ------------------------------------------------------------------------------

#: ArcGIS Hot Spot Analysis colours by gi_bin (99/95/90 % hot and cold); 0 is not drawn.
GI_BIN_COLOURS = {
    3: "#d62f27",
    2: "#ed7551",
    1: "#fab984",
    -1: "#c0ccbe",
    -2: "#849eba",
    -3: "#4575b5",
}
GI_BIN_LABELS = {
    3: "Het, 99 % säkerhet",
    2: "Het, 95 % säkerhet",
    1: "Het, 90 % säkerhet",
    -1: "Kall, 90 % säkerhet",
    -2: "Kall, 95 % säkerhet",
    -3: "Kall, 99 % säkerhet",
}

#: Zone fill by rank: (highest rank in the tier, colour, legend label).
RANK_TIERS = (
    (1, "#99000d", "Zon 1 (hetast)"),
    (3, "#e31a1c", "Zon 2–3"),
    (6, "#fd8d3c", "Zon 4–6"),
    (math.inf, "#fdbe85", "Övriga zoner"),
)
BOUNDARY_COLOUR = "#1f4e79"
DIALOGUE_COLOUR = "#6a3d9a"
SELECTED_COLOUR = "#00b4ff"

#: Height in pixels kept free for the legend when the view is fitted to the zones.
LEGEND_STRIP_PX = 150

#: Above this many incidents the marker layer becomes a FastMarkerCluster array.
MAX_SINGLE_MARKERS = 300

#: Decimal places kept for lon/lat sent to the browser: 5 ≈ 1 m, 4 ≈ 10 m (heat only).
LONLAT_DECIMALS = 5
HEAT_DECIMALS = 4

# --- tiles --------------------------------------------------------------------------------

OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>-bidragsgivare'
)


@dataclass(frozen=True)
class Tiles:
    """A background-map choice: ``url`` None means no tiles (grey background)."""

    kind: str  # "none", "osm" or "custom"
    url: str | None = None
    attribution: str | None = None


def tiles_from(spec: str | None = None) -> Tiles:
    """Turn a tile choice into a :class:`Tiles` value.

    Parameters
    ----------
    spec : str or None
        ``"none"`` (no tiles), ``"osm"`` (public OpenStreetMap), or a tile URL template with
        ``{z}``, ``{x}`` and ``{y}``. None reads the environment variable ``LAGESBILD_TILES``
        (default ``"none"``); ``LAGESBILD_TILES_ATTRIBUTION`` names an internal server's source.

    Returns
    -------
    Tiles

    Raises
    ------
    ValueError
        For anything else.

    Examples
    --------
    >>> tiles_from("none").url is None
    True
    >>> tiles_from("https://karta.local/{z}/{x}/{y}.png").kind
    'custom'
    """
    if spec is None:
        spec = os.environ.get("LAGESBILD_TILES", "none")
    spec = spec.strip()
    if spec.lower() in ("", "none", "ingen"):
        return Tiles("none")
    if spec.lower() == "osm":
        return Tiles("osm", OSM_URL, OSM_ATTRIBUTION)
    if all(k in spec for k in ("{z}", "{x}", "{y}")) and spec.startswith(
        ("http://", "https://", "/")
    ):
        attribution = os.environ.get(
            "LAGESBILD_TILES_ATTRIBUTION", "Bakgrundskarta: intern kartserver"
        )
        return Tiles("custom", spec, html.escape(attribution))
    raise ValueError(
        f'tiles was "{spec}" but is expected to be "none", "osm" or a URL template with '
        "{z}, {x} and {y}"
    )


# --- helpers ------------------------------------------------------------------------------


def _check_frame(frame, name: str, columns: Iterable[str] = ()) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise ValueError(f"{name} has no CRS; expected {schema.CRS_METRIC}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}; it has {list(frame.columns)}")


def _to_display(frame: gpd.GeoDataFrame, *, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """A WGS 84 copy for the browser, simplified in metres and rounded to ~1 m."""
    out = frame.to_crs(schema.CRS_METRIC)
    if simplify_m > 0:
        out = out.set_geometry(out.geometry.simplify(simplify_m, preserve_topology=True))
    out = out.to_crs(schema.CRS_WGS84)
    grid = 10.0**-LONLAT_DECIMALS
    return out.set_geometry(shapely.set_precision(out.geometry.values, grid))


def coloured_cells(
    geometry: gpd.GeoSeries,
    colours,
    tips,
    *,
    name: str | None = None,
    weight: float = 0.5,
    fill_opacity: float = 0.65,
) -> folium.GeoJson:
    """Polygons each filled with its own colour and carrying an HTML tooltip.

    ``tips`` are HTML: escape any user text in them before calling.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoSeries([box(670000, 6580000, 670100, 6580100)], crs="EPSG:3006")
    >>> layer = coloured_cells(g, ["#d7191c"], ["Ruta 1"], name="Celler")
    >>> layer.layer_name
    'Celler'
    """
    display = _to_display(
        gpd.GeoDataFrame(
            {"colour": list(colours), "tip": list(tips)},
            geometry=geometry.to_numpy(),
            crs=geometry.crs,
        )
    )
    return folium.GeoJson(
        display.to_json(drop_id=True),
        name=name,
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": weight,
            "fillColor": f["properties"]["colour"],
            "fillOpacity": fill_opacity,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    )


def _fmt(value, decimals: int = 0) -> str:
    """Swedish number format: space between thousands, decimal comma."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",")


def _esc(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value))


def lonlat_bounds(frame: gpd.GeoDataFrame) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of a frame, for ``fit_bounds``.

    Examples
    --------
    >>> pts = gpd.GeoSeries.from_xy([17.8, 17.9], [59.4, 59.5], crs="EPSG:4326")
    >>> lonlat_bounds(gpd.GeoDataFrame(geometry=pts))
    [[59.4, 17.8], [59.5, 17.9]]
    """
    west, south, east, north = frame.to_crs(schema.CRS_WGS84).total_bounds
    return [
        [round(float(south), 6), round(float(west), 6)],
        [round(float(north), 6), round(float(east), 6)],
    ]


def rank_colour(rank: float) -> str:
    """Fill colour of a zone of the given rank (1 = hottest).

    Examples
    --------
    >>> rank_colour(1), rank_colour(5), rank_colour(12)
    ('#99000d', '#fd8d3c', '#fdbe85')
    """
    for top, colour, _ in RANK_TIERS:
        if rank <= top:
            return colour
    return RANK_TIERS[-1][1]


class Legend(MacroElement):
    """A small HTML legend in the map's corner, built as a Leaflet control.

    A control (rather than a loose ``<div>``) survives streamlit-folium, which only keeps the
    map's scripts.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "lagesbild-legend");
            {% if this.collapsed %}
            // collapsed to one line: the map stays readable; a click opens the legend
            div.innerHTML = '<details class="lagesbild-legend-box"><summary style="cursor:pointer;' +
                'background:rgba(255,255,255,0.92);padding:3px 8px;border-radius:4px;' +
                'box-shadow:0 1px 4px rgba(0,0,0,.35);font:600 12px system-ui,sans-serif;' +
                'color:#222;list-style-position:inside">Teckenförklaring</summary>' +
                {{ this.body|tojson }} + '</details>';
            {% else %}
            div.innerHTML = {{ this.body|tojson }};
            {% endif %}
            L.DomEvent.disableClickPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        // a section tied to a layer shows only while that layer is switched on
        function {{ this.get_name() }}_toggle(e, on) {
            var div = {{ this.get_name() }}.getContainer();
            div.querySelectorAll("[data-layer]").forEach(function (sec) {
                if (sec.getAttribute("data-layer") === e.name) {
                    sec.style.display = on ? "" : "none";
                }
            });
        }
        {{ this._parent.get_name() }}.on("overlayadd", function (e) {
            {{ this.get_name() }}_toggle(e, true); });
        {{ this._parent.get_name() }}.on("overlayremove", function (e) {
            {{ this.get_name() }}_toggle(e, false); });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        sections: Sequence[tuple[str, Sequence[tuple[str, str, str]]]],
        *,
        position="bottomright",
        collapsed: bool = False,
    ):
        super().__init__()
        self._name = "Legend"
        self.position = position
        self.collapsed = collapsed
        self.body = legend_html(sections)


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's also shows miles and feet)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false, position: "bottomleft"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


class _PlaceLabels(MacroElement):
    """Place names as plain text markers (the name set with textContent: never HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.places|tojson }}.forEach(function (p) {
            var el = document.createElement("div");
            el.className = "lagesbild-place-name";
            el.textContent = p[2];
            el.style.cssText = "font:italic 11px/13px system-ui,sans-serif;color:#333;" +
                "white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff;" +
                "padding-left:7px;position:relative";
            var dot = document.createElement("span");
            dot.style.cssText = "position:absolute;left:0;top:4px;width:5px;height:5px;" +
                "border-radius:50%;background:#555";
            el.appendChild(dot);
            L.marker([p[0], p[1]], {interactive: false, keyboard: false, icon: L.divIcon({
                className: "lagesbild-place", html: el, iconSize: null, iconAnchor: [2, 6]})})
                .addTo({{ this._parent.get_name() }});
        });
        {% endmacro %}
        """
    )

    def __init__(self, places: list[list]):
        super().__init__()
        self._name = "PlaceLabels"
        self.places = places


PLACES_LAYER = "Platsnamn"


def add_places(
    m: folium.Map,
    places: gpd.GeoDataFrame,
    *,
    within: gpd.GeoDataFrame | None = None,
    margin_m: float = 500.0,
) -> folium.FeatureGroup | None:
    """Write the gazetteer's place names on the map, for orientation without tiles.

    Parameters
    ----------
    m : folium.Map
    places : GeoDataFrame
        Named places (``name``, points; `geo.io.load_gazetteer`).
    within : GeoDataFrame, optional
        Only places inside these shapes (plus ``margin_m``) are written: the chosen area.
    margin_m : float, default 500

    Returns
    -------
    folium.FeatureGroup or None
        The "Platsnamn" layer (can be switched off), None when no place is left.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> gaz = gpd.GeoDataFrame({"name": ["Torget <b>", "Långt bort"]},
    ...     geometry=[Point(661000, 6584000), Point(700000, 6584000)], crs="EPSG:3006")
    >>> m = base_map(areas)
    >>> _ = add_places(m, gaz, within=areas)
    >>> page = m.get_root().render()
    >>> "Torget" in page, "Långt bort" in page, "textContent" in page
    (True, False, True)
    """
    if places is None or places.empty or schema.PLACE_NAME not in places.columns:
        return None
    metric = places.to_crs(schema.CRS_METRIC)
    metric = metric[metric.geometry.notna() & ~metric.geometry.is_empty]
    if within is not None and len(within):
        region = within.to_crs(schema.CRS_METRIC).geometry.union_all().buffer(margin_m)
        metric = metric[metric.geometry.intersects(region).to_numpy()]
    if metric.empty:
        return None
    pts = metric.geometry.representative_point().to_crs(schema.CRS_WGS84)
    rows = [
        [round(p.y, LONLAT_DECIMALS), round(p.x, LONLAT_DECIMALS), str(name)]
        for name, p in zip(metric[schema.PLACE_NAME], pts, strict=True)
        if not pd.isna(name)
    ]
    group = folium.FeatureGroup(name=PLACES_LAYER, show=True, control=True)
    group.add_child(_PlaceLabels(rows))
    group.add_to(m)
    return group


def legend_html(sections: Sequence[tuple]) -> str:
    """HTML for a legend: sections of ``(title, [(shape, colour, label)])``.

    ``shape`` is ``"box"``, ``"line"`` or ``"dot"``. Labels are escaped. A section may add
    ``(..., layer_name, shown)``: it is then tied to that layer of the layer control, starts
    hidden when the layer does, and follows it when the user switches the layer on or off.

    Examples
    --------
    >>> "Zon 1" in legend_html([("Hotspotzoner", [("box", "#99000d", "Zon 1")])])
    True
    """
    parts = [
        '<div style="background:rgba(255,255,255,0.92);padding:6px 9px;border-radius:4px;'
        "box-shadow:0 1px 4px rgba(0,0,0,.35);font:12px/1.35 system-ui,sans-serif;color:#222;"
        # sections side by side: a low strip along the bottom hides less of the map
        "display:flex;flex-wrap:wrap;align-items:flex-start;gap:2px 14px;"
        'max-width:calc(100vw - 150px)">'
    ]
    for section in sections:
        title, rows = section[0], section[1]
        layer, shown = (section[2], section[3]) if len(section) > 2 else (None, True)
        attrs = "" if layer is None else f' data-layer="{_esc(layer)}"'
        if not shown:
            attrs += ' style="display:none"'
        parts.append(f"<div{attrs}>")
        parts.append(f'<div style="font-weight:600;margin:3px 0 2px">{_esc(title)}</div>')
        for shape, colour, label in rows:
            if shape == "line":
                sym = f"border:2px solid {colour};background:transparent;height:8px"
            elif shape == "dot":
                sym = f"background:{colour};border-radius:50%;border:2px solid #fff;box-shadow:0 0 0 1px {colour}"
            else:
                sym = f"background:{colour};border:1px solid rgba(0,0,0,.3)"
            parts.append(
                '<div style="display:flex;align-items:center;gap:6px">'
                f'<span style="display:inline-block;width:14px;height:12px;{sym}"></span>'
                f"<span>{_esc(label)}</span></div>"
            )
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


# --- layers -------------------------------------------------------------------------------


def base_map(
    areas: gpd.GeoDataFrame,
    *,
    tiles: str | Tiles | None = None,
    focus_area_ids: Sequence[str] | None = None,
    simplify_m: float = 10.0,
) -> folium.Map:
    """A map showing the area boundaries, fitted to the chosen areas.

    Parameters
    ----------
    areas : GeoDataFrame
        Boundaries with ``area_id`` and ``area_name`` (any declared CRS).
    tiles : str, Tiles or None
        See :func:`tiles_from`; None reads ``LAGESBILD_TILES`` (default no tiles).
    focus_area_ids : sequence of str, optional
        Areas to fit the view to; all areas when None or empty.
    simplify_m : float, default 10
        Simplification tolerance for the boundary lines, in metres.

    Returns
    -------
    folium.Map
        With the boundaries drawn (not in the layer control); call :func:`finish_map` after adding layers.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["Järfälla"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> m = base_map(areas)
    >>> "fitBounds" in m.get_root().render()
    True
    """
    _check_frame(areas, "areas", [schema.AREA_ID, schema.AREA_NAME])
    if not isinstance(tiles, Tiles):
        tiles = tiles_from(tiles)
    focus = areas
    if focus_area_ids:
        focus = areas[areas[schema.AREA_ID].astype(str).isin([str(a) for a in focus_area_ids])]
        if focus.empty:
            raise ValueError(
                f"focus_area_ids {list(focus_area_ids)} match no area; "
                f"known: {areas[schema.AREA_ID].astype(str).tolist()}"
            )
    bounds = lonlat_bounds(focus)
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(
        location=centre,
        zoom_start=12,
        tiles=None,
        control_scale=False,  # folium's scale adds miles and feet: MetricScale instead
        prefer_canvas=False,
        zoom_snap=0.25,  # fit the area tightly instead of snapping a whole zoom level out
    )
    m.add_child(MetricScale())
    _add_background(m, areas, tiles, simplify_m)
    m.fit_bounds(bounds)
    m.lagesbild_legend = [("Karta", [("line", BOUNDARY_COLOUR, "Områdesgräns")])]
    return m


def _add_background(m: folium.Map, areas: gpd.GeoDataFrame, tiles: Tiles, simplify_m: float):
    """The tile layer (if any) and the area boundaries of :func:`base_map`."""
    if tiles.url is not None:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name="Bakgrundskarta",
            control=False,
            max_zoom=19,
        ).add_to(m)
    display = _to_display(
        areas[[schema.AREA_ID, schema.AREA_NAME, "geometry"]], simplify_m=simplify_m
    )
    display[schema.AREA_NAME] = display[schema.AREA_NAME].map(_esc)
    display[schema.AREA_ID] = display[schema.AREA_ID].map(_esc)
    no_tiles = tiles.url is None
    folium.GeoJson(
        display.to_json(drop_id=True),
        name="Områdesgränser",
        style_function=lambda _f: {
            "color": BOUNDARY_COLOUR,
            "weight": 2,
            "fillColor": "#ffffff",
            "fillOpacity": 0.85 if no_tiles else 0.0,
            "interactive": False,
        },
        tooltip=None,
        control=False,
    ).add_to(m)


def dual_map(
    areas: gpd.GeoDataFrame,
    *,
    tiles: str | Tiles | None = None,
    focus: gpd.GeoDataFrame | None = None,
    simplify_m: float = 10.0,
) -> folium.plugins.DualMap:
    """Two maps side by side that pan and zoom together (Leaflet.Sync, served offline).

    Each half has the background of :func:`base_map`; add layers to ``.m1`` (left) and
    ``.m2`` (right) and call :func:`finish_map` on each.

    Parameters
    ----------
    areas : GeoDataFrame
        Boundaries with ``area_id`` and ``area_name``.
    tiles : str, Tiles or None
        See :func:`tiles_from`.
    focus : GeoDataFrame, optional
        Shapes to fit both views to (default: the areas).
    simplify_m : float, default 10

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["Järfälla"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> d = dual_map(areas)
    >>> ".sync(" in d.get_root().render()
    True
    """
    _check_frame(areas, "areas", [schema.AREA_ID, schema.AREA_NAME])
    if not isinstance(tiles, Tiles):
        tiles = tiles_from(tiles)
    bounds = lonlat_bounds(focus if focus is not None and len(focus) else areas)
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    dual = folium.plugins.DualMap(
        location=centre, zoom_start=12, tiles=None, control_scale=False, zoom_snap=0.25
    )
    for m in (dual.m1, dual.m2):
        m.add_child(MetricScale())
        _add_background(m, areas, tiles, simplify_m)
        m.fit_bounds(bounds)
        m.lagesbild_legend = [("Karta", [("line", BOUNDARY_COLOUR, "Områdesgräns")])]
    return dual


def _zone_tip(row: pd.Series, categories: Sequence[str]) -> str:
    lines = [f"<b>{_fmt(row[schema.RANK])}. {_esc(row[schema.NAME])}</b>"]
    share = row.get(schema.SHARE_OF_AREA)
    lines.append(
        f"Brott: {_fmt(row[schema.INCIDENT_COUNT])}"
        + (
            f" ({_fmt(100 * share)} % av områdets)"
            if share is not None and not pd.isna(share)
            else ""
        )
    )
    mentions = row.get(schema.DIALOGUE_MENTIONS)
    if mentions is not None and not pd.isna(mentions) and mentions > 0:
        lines.append(f"Medborgardialog: {_fmt(mentions)} omnämnanden")
    if row.get(schema.PEAK_HOURS):
        lines.append(f"Mest: {_esc(row[schema.PEAK_HOURS])}")
    top = sorted(
        ((row.get(f"n_{c}", 0) or 0, c) for c in categories if f"n_{c}" in row.index),
        reverse=True,
    )[:3]
    cats = ", ".join(f"{_esc(c)} {_fmt(n)}" for n, c in top if n > 0)
    if cats:
        lines.append(cats)
    extra = []
    if schema.PAI in row.index and not pd.isna(row[schema.PAI]):
        extra.append(f"PAI {_fmt(row[schema.PAI], 1)}")
    if schema.AREA_KM2 in row.index and not pd.isna(row[schema.AREA_KM2]):
        extra.append(f"{_fmt(row[schema.AREA_KM2], 2)} km²")
    if extra:
        lines.append(" · ".join(extra))
    return "<br>".join(lines)


class _RankLabel(MacroElement):
    """Rank numbers drawn as plain DivIcon markers at the zones' centres, all in one script."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.labels|tojson }}.forEach(function (p) {
            L.marker([p[0], p[1]], {interactive: false, keyboard: false, icon: L.divIcon({
                className: "lagesbild-rank",
                html: '<div style="width:22px;height:22px;border-radius:50%;background:#fff;' +
                      'border:2px solid ' + p[3] + ';font:bold 12px/18px system-ui,sans-serif;' +
                      'text-align:center;color:#111;box-shadow:0 1px 3px rgba(0,0,0,.4)">' +
                      p[2] + '</div>',
                iconSize: [22, 22], iconAnchor: [11, 11]})}).addTo({{ this._parent.get_name() }});
        });
        {% endmacro %}
        """
    )

    def __init__(self, labels: list[list]):
        super().__init__()
        self._name = "RankLabels"
        self.labels = labels


def add_zones(
    m: folium.Map, zones: gpd.GeoDataFrame, *, simplify_m: float = 2.0
) -> folium.FeatureGroup:
    """Add hotspot zones coloured by rank, with rank numbers and a key-figure tooltip.

    Parameters
    ----------
    m : folium.Map
    zones : GeoDataFrame
        Zones in the ``geo.zones`` layout (at least ``zone_id``, ``rank``, ``name``,
        ``incident_count``).
    simplify_m : float, default 2

    Returns
    -------
    folium.FeatureGroup
        The group "Hotspotzoner", already on the map.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> zones = gpd.GeoDataFrame({"zone_id": ["z1"], "rank": [1], "name": ["Torget"],
    ...     "incident_count": [40]}, geometry=[box(661000, 6584000, 661300, 6584300)],
    ...     crs="EPSG:3006")
    >>> m = base_map(areas); _ = add_zones(m, zones)
    >>> "Torget" in m.get_root().render()
    True
    """
    _check_frame(zones, "zones", [schema.ZONE_ID, schema.RANK, schema.NAME, schema.INCIDENT_COUNT])
    group = folium.FeatureGroup(name="Hotspotzoner", show=True)
    if zones.empty:
        group.add_to(m)
        return group
    ordered = zones.sort_values(schema.RANK, ascending=False)  # hottest drawn last, on top
    categories = [c for c in schema.CATEGORIES if f"n_{c}" in zones.columns]
    tips = ordered.apply(lambda r: _zone_tip(r, categories), axis=1)
    display = _to_display(
        gpd.GeoDataFrame(
            {
                "zone_id": ordered[schema.ZONE_ID].map(_esc).to_numpy(),
                "rank": ordered[schema.RANK].astype(int).to_numpy(),
                "colour": ordered[schema.RANK].map(rank_colour).to_numpy(),
                "tip": tips.to_numpy(),
            },
            geometry=ordered.geometry.to_numpy(),
            crs=zones.crs,
        ),
        simplify_m=simplify_m,
    )
    folium.GeoJson(
        display.to_json(drop_id=True),
        name="Hotspotzoner",
        style_function=lambda f: {
            "color": "#5a0000",
            "weight": 1.5,
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.6,
        },
        highlight_function=lambda _f: {"weight": 3, "fillOpacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    ).add_to(group)
    centres = (
        ordered.to_crs(schema.CRS_METRIC).geometry.representative_point().to_crs(schema.CRS_WGS84)
    )
    labels = [
        [round(p.y, LONLAT_DECIMALS), round(p.x, LONLAT_DECIMALS), int(r), rank_colour(r)]
        for p, r in zip(centres, ordered[schema.RANK], strict=True)
    ]
    group.add_child(_RankLabel(labels))
    group.add_to(m)
    # Legend rows only for the rank tiers present: tier i starts after the previous top.
    lowest = int(zones[schema.RANK].max())
    starts = (0,) + tuple(top for top, _, _ in RANK_TIERS[:-1])
    shown = [
        ("box", c, lbl)
        for (_, c, lbl), prev in zip(RANK_TIERS, starts, strict=True)
        if lowest > prev
    ]
    m.lagesbild_legend = getattr(m, "lagesbild_legend", []) + [("Hotspotzoner (rang)", shown)]
    return group


def add_cells(m: folium.Map, cells: gpd.GeoDataFrame, *, show: bool = False) -> folium.FeatureGroup:
    """Add Gi* grid cells coloured by ``gi_bin`` (ArcGIS colours); bin 0 is left out.

    Parameters
    ----------
    m : folium.Map
    cells : GeoDataFrame
        Cells with ``gi_bin``, ``count`` and ``gi_z`` (``geo.grid`` layout).
    show : bool, default False
        Whether the layer starts switched on.

    Returns
    -------
    folium.FeatureGroup
        "Gi*-celler (signifikans)", on the map.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(0, 6500000, 400, 6500200)], crs="EPSG:3006")
    >>> cells = gpd.GeoDataFrame({"gi_bin": [3, 0], "count": [9, 0], "gi_z": [3.1, 0.2]},
    ...     geometry=[box(0, 6500000, 200, 6500200), box(200, 6500000, 400, 6500200)],
    ...     crs="EPSG:3006")
    >>> m = base_map(areas); _ = add_cells(m, cells)
    >>> "#d62f27" in m.get_root().render()
    True
    """
    _check_frame(cells, "cells", [schema.GI_BIN, schema.COUNT])
    layer_name = "Gi*-celler (signifikans)"
    group = folium.FeatureGroup(name=layer_name, show=show)
    sig = cells[cells[schema.GI_BIN].fillna(0).astype(int) != 0]
    if not sig.empty:
        bins = sig[schema.GI_BIN].astype(int)
        tips = [
            f"{_esc(GI_BIN_LABELS[b])}<br>Brott i cellen: {_fmt(n)}"
            + (f"<br>z = {_fmt(z, 2)}" if schema.GI_Z in sig.columns else "")
            for b, n, z in zip(
                bins,
                sig[schema.COUNT],
                sig[schema.GI_Z] if schema.GI_Z in sig.columns else [None] * len(sig),
                strict=True,
            )
        ]
        coloured_cells(
            sig.geometry, bins.map(GI_BIN_COLOURS).to_numpy(), tips, name="Gi*-celler"
        ).add_to(group)
    group.add_to(m)
    present = sorted(set(sig[schema.GI_BIN].astype(int)), reverse=True) if not sig.empty else []
    if present:
        m.lagesbild_legend = getattr(m, "lagesbild_legend", []) + [
            (
                "Gi*-celler",
                [("box", GI_BIN_COLOURS[b], GI_BIN_LABELS[b]) for b in present],
                layer_name,
                show,
            )
        ]
    return group


def _points_lonlat(points: gpd.GeoDataFrame, decimals: int) -> np.ndarray:
    """``(n, 2)`` array of rounded lat, lon for point frames (non-points use their centroid)."""
    geom = points.to_crs(schema.CRS_WGS84).geometry
    if not geom.geom_type.eq("Point").all():
        geom = points.to_crs(schema.CRS_METRIC).geometry.centroid.to_crs(schema.CRS_WGS84)
    xy = shapely.get_coordinates(geom.values)
    return np.round(np.column_stack([xy[:, 1], xy[:, 0]]), decimals)


def heat_data(points: gpd.GeoDataFrame, *, decimals: int = HEAT_DECIMALS) -> list[list[float]]:
    """``[[lat, lon, weight], ...]`` for HeatMap, with points on the same rounded spot merged.

    Merging keeps the payload small where incidents stack up (the heat looks the same: the
    weights add).

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"weight": [1.0, 2.0, 1.0]},
    ...     geometry=gpd.points_from_xy([17.83361, 17.83362, 17.9], [59.42361, 59.42362, 59.4]),
    ...     crs="EPSG:4326")
    >>> heat_data(pts)
    [[59.4, 17.9, 1.0], [59.4236, 17.8336, 3.0]]
    """
    if points.empty:
        return []
    latlon = _points_lonlat(points, decimals)
    weights = (
        points[schema.WEIGHT].to_numpy(dtype=float)
        if schema.WEIGHT in points.columns
        else np.ones(len(points))
    )
    keys, inverse = np.unique(latlon, axis=0, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=weights)
    return [[float(a), float(b), round(float(w), 3)] for (a, b), w in zip(keys, sums, strict=True)]


def add_heat(
    m: folium.Map,
    incidents: gpd.GeoDataFrame,
    *,
    show: bool = True,
    name: str = "Täthet (värmekarta)",
) -> folium.FeatureGroup:
    """Add a heat surface of incidents (Leaflet.heat), weights summed on a ~10 m grid.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([661000], [6584000]), crs="EPSG:3006")
    >>> m = base_map(areas); _ = add_heat(m, pts)
    >>> "heatLayer" in m.get_root().render()
    True
    """
    _check_frame(incidents, "incidents")
    group = folium.FeatureGroup(name=name, show=show)
    data = heat_data(incidents)
    if data:
        folium.plugins.HeatMap(data, radius=14, blur=18, min_opacity=0.25, max_zoom=16).add_to(
            group
        )
    group.add_to(m)
    return group


def add_incidents(
    m: folium.Map, incidents: gpd.GeoDataFrame, *, show: bool = False
) -> folium.FeatureGroup:
    """Add incidents as clustered markers: one compact array (FastMarkerCluster).

    Up to :data:`MAX_SINGLE_MARKERS` incidents are drawn as small circles with their category
    and time; above that as a FastMarkerCluster (no per-incident tooltip), never as one Python
    marker per incident.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([661000] * 400, [6584000] * 400),
    ...     crs="EPSG:3006")
    >>> m = base_map(areas); _ = add_incidents(m, pts)
    >>> "markerClusterGroup" in m.get_root().render()
    True
    """
    _check_frame(incidents, "incidents")
    group = folium.FeatureGroup(name="Händelser (punkter)", show=show)
    if len(incidents) > MAX_SINGLE_MARKERS:
        folium.plugins.FastMarkerCluster(
            _points_lonlat(incidents, LONLAT_DECIMALS).tolist(),
            options={"maxClusterRadius": 50, "chunkedLoading": True},
        ).add_to(group)
    elif len(incidents):
        frame = incidents.copy()
        tip = pd.Series("", index=frame.index)
        if schema.CATEGORY in frame.columns:
            tip = frame[schema.CATEGORY].map(_esc)
        if schema.OCCURRED_AT in frame.columns:
            tip = tip + "<br>" + frame[schema.OCCURRED_AT].dt.strftime("%Y-%m-%d %H:%M").fillna("")
        display = _to_display(
            gpd.GeoDataFrame(
                {"tip": tip.to_numpy()}, geometry=frame.geometry.to_numpy(), crs=frame.crs
            )
        )
        folium.GeoJson(
            display.to_json(drop_id=True),
            name="Händelser",
            marker=folium.CircleMarker(
                radius=4, weight=1, color="#333", fill_color="#ffd400", fill_opacity=0.9
            ),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(group)
    group.add_to(m)
    return group


def add_dialogue(
    m: folium.Map, dialogue: gpd.GeoDataFrame, *, show: bool = True
) -> folium.FeatureGroup:
    r"""Add dialogue places (otrygga platser) with their own symbol and the reason as tooltip.

    Points become purple rings, polygons purple dashed outlines. Reason, category, time of
    day and mentions are escaped.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> d = gpd.GeoDataFrame({"reason": ["<b>mörkt</b>"], "mentions": [3]},
    ...     geometry=gpd.points_from_xy([661000], [6584000]), crs="EPSG:3006")
    >>> m = base_map(areas); _ = add_dialogue(m, d)
    >>> page = m.get_root().render()  # JSON-encoded: & is \u0026, < is \u003c
    >>> "\\u0026lt;b\\u0026gt;m" in page, "\\u003cb\\u003em" in page
    (True, False)
    """
    _check_frame(dialogue, "dialogue", [schema.REASON])
    group = folium.FeatureGroup(name="Otrygga platser (medborgardialog)", show=show)
    if not dialogue.empty:

        def tip(row) -> str:
            parts = [f"<b>Otrygg plats</b>: {_esc(row[schema.REASON])}"]
            if schema.REASON_CATEGORY in row.index and _esc(row[schema.REASON_CATEGORY]):
                parts.append(f"Kategori: {_esc(row[schema.REASON_CATEGORY])}")
            if schema.TIME_OF_DAY in row.index and _esc(row[schema.TIME_OF_DAY]):
                parts.append(f"Tid: {_esc(row[schema.TIME_OF_DAY])}")
            if schema.MENTIONS in row.index and not pd.isna(row[schema.MENTIONS]):
                parts.append(f"Omnämnd {_fmt(row[schema.MENTIONS])} gånger")
            if schema.DIALOGUE_ROUND in row.index and _esc(row[schema.DIALOGUE_ROUND]):
                parts.append(f"Dialog: {_esc(row[schema.DIALOGUE_ROUND])}")
            return "<br>".join(parts)

        display = _to_display(
            gpd.GeoDataFrame(
                {"tip": dialogue.apply(tip, axis=1).to_numpy()},
                geometry=dialogue.geometry.to_numpy(),
                crs=dialogue.crs,
            )
        )
        folium.GeoJson(
            display.to_json(drop_id=True),
            name="Otrygga platser",
            marker=folium.CircleMarker(
                radius=5, weight=2.5, color=DIALOGUE_COLOUR, fill_color="#ffffff", fill_opacity=0.9
            ),
            style_function=lambda f: {
                "color": DIALOGUE_COLOUR,
                "weight": 2.5,
                # dashed outlines for named areas; points stay solid rings
                "dashArray": None if f["geometry"]["type"] == "Point" else "5 4",
                "fillOpacity": 0.9 if f["geometry"]["type"] == "Point" else 0.08,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(group)
        m.lagesbild_legend = getattr(m, "lagesbild_legend", []) + [
            (
                "Medborgardialog",
                [("dot", DIALOGUE_COLOUR, "Otrygg plats")],
                "Otrygga platser (medborgardialog)",
                show,
            )
        ]
    group.add_to(m)
    return group


ISSUES_LAYER = "Trygghetsbesiktning (öppna brister)"


def add_issues(
    m: folium.Map, issues: gpd.GeoDataFrame, *, show: bool = True, name: str = ISSUES_LAYER
) -> folium.FeatureGroup:
    """Add trygghetsbesiktning issues as a layer that can be switched off, with a legend.

    The markers come from :func:`geo.inspections.issues_layer` (coloured by status, sized by
    severity, a dark ring when near a top hotspot, escaped popups); the legend names the
    statuses present.

    Parameters
    ----------
    m : folium.Map
    issues : GeoDataFrame
        From ``geo.inspections.issues_frame`` (optionally ``flag_near_hotspots``).
    show : bool, default True
    name : str
        Layer name in the layer control.

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> issues = gpd.GeoDataFrame({"id": [1], "category": ["belysning"], "status": ["ny"]},
    ...     geometry=gpd.points_from_xy([661000], [6584000]), crs="EPSG:3006")
    >>> m = base_map(areas); _ = add_issues(m, issues)
    >>> "belysning – ny" in m.get_root().render()
    True
    """
    from geo.inspections import STATUS, STATUS_COLOURS, issues_layer  # sqlalchemy: load late

    _check_frame(issues, "issues")
    group = issues_layer(issues, name=name, show=show)
    group.add_to(m)
    # On a map already finished, the layer control's script must still come after every
    # layer it names (else a ReferenceError stops the map): move the controls last.
    for key in [k for k, v in m._children.items() if isinstance(v, folium.LayerControl | Legend)]:
        m._children[key] = m._children.pop(key)
    present = [st for st in STATUS_COLOURS if STATUS in issues and (issues[STATUS] == st).any()]
    if present:
        rows = [("dot", STATUS_COLOURS[st], f"Brist: {st}") for st in present]
        m.lagesbild_legend = getattr(m, "lagesbild_legend", []) + [
            ("Trygghetsbesiktning", rows, name, show)
        ]
        for legend in [v for v in m._children.values() if isinstance(v, Legend)]:
            legend.body = legend_html(m.lagesbild_legend)  # a finished map's legend too
    return group


def add_draw(m: folium.Map) -> folium.Map:
    """Add the drawing tools for zones: polygon and rectangle only, no editing; return ``m``.

    The drawn shapes come back from ``st_folium(..., returned_objects=["all_drawings"])``
    as GeoJSON Features in WGS 84.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> "L.Control.Draw" in add_draw(base_map(areas)).get_root().render()
    True
    """
    folium.plugins.Draw(
        export=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "circlemarker": False,
            "marker": False,
            "polygon": {"shapeOptions": {"color": SELECTED_COLOUR}},
            "rectangle": {"shapeOptions": {"color": SELECTED_COLOUR}},
        },
        edit_options={"edit": False},
    ).add_to(m)
    return m


def fit_to(m: folium.Map, frame: gpd.GeoDataFrame, *, margin_m: float = 600.0) -> folium.Map:
    """Fit the view to ``frame`` plus ``margin_m`` metres around it (replaces earlier fits).

    Used to open the map on the hotspot zones rather than on the whole area, where small
    zones are a few pixels wide.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 680000, 6598000)], crs="EPSG:3006")
    >>> z = gpd.GeoDataFrame(geometry=[box(661000, 6584000, 661300, 6584300)], crs="EPSG:3006")
    >>> m = fit_to(base_map(areas), z)
    >>> m.get_root().render().count("fitBounds")
    1
    """
    if frame is None or frame.empty:
        return m
    metric = frame.to_crs(schema.CRS_METRIC)
    minx, miny, maxx, maxy = metric.total_bounds
    padded = gpd.GeoDataFrame(
        geometry=[shapely.box(minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)],
        crs=schema.CRS_METRIC,
    )
    for key in [k for k, v in m._children.items() if type(v).__name__ == "FitBounds"]:
        del m._children[key]
    # keep the bottom strip free: the legend lies there
    m.fit_bounds(lonlat_bounds(padded), padding_bottom_right=(0, LEGEND_STRIP_PX))
    return m


def selection_layer(zones: gpd.GeoDataFrame, zone_id: str | None) -> folium.FeatureGroup:
    """A feature group outlining one zone, for ``st_folium(feature_group_to_add=...)``.

    Passing the selection as a separate group lets the map highlight a clicked zone without
    being rebuilt (which would reset the view). An unknown or None ``zone_id`` gives an
    empty group.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> zones = gpd.GeoDataFrame({"zone_id": ["z1"]},
    ...     geometry=[box(661000, 6584000, 661300, 6584300)], crs="EPSG:3006")
    >>> len(selection_layer(zones, "z1")._children), len(selection_layer(zones, None)._children)
    (1, 0)
    """
    group = folium.FeatureGroup(name="Vald zon", control=False)
    if zone_id is None or zones.empty:
        return group
    chosen = zones[zones[schema.ZONE_ID].astype(str) == str(zone_id)]
    if chosen.empty:
        return group
    display = _to_display(gpd.GeoDataFrame(geometry=chosen.geometry.to_numpy(), crs=zones.crs))
    folium.GeoJson(
        display.to_json(drop_id=True),
        style_function=lambda _f: {"color": SELECTED_COLOUR, "weight": 5, "fillOpacity": 0.0},
        interactive=False,
    ).add_to(group)
    return group


def finish_map(m: folium.Map, *, legend: bool = True, collapsed: bool = False) -> folium.Map:
    """Add the layer control and the legend collected by the ``add_*`` builders; return ``m``.

    ``collapsed`` starts the legend closed as one "Teckenförklaring" line that opens on a
    click, so a full legend never covers the map on a small screen.
    """
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    sections = getattr(m, "lagesbild_legend", [])
    if legend and sections:
        m.add_child(Legend(sections, collapsed=collapsed))
    return m


def hotspot_map(
    run,
    areas: gpd.GeoDataFrame,
    *,
    incidents: gpd.GeoDataFrame | None = None,
    dialogue: gpd.GeoDataFrame | None = None,
    focus_area_ids: Sequence[str] | None = None,
    tiles: str | Tiles | None = None,
    incident_layer: str = "heat",
    show_cells: bool = False,
    issues: gpd.GeoDataFrame | None = None,
    fit_zones: bool = False,
    places: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The lägesbild map: boundaries, hotspot zones, Gi* cells, heat or points, dialogue
    places and open trygghetsbesiktning issues.

    Parameters
    ----------
    run : HotspotRun
        From :func:`geo.analysis.run_hotspots` (uses ``.zones`` and ``.cells``; either may be
        None or empty).
    areas : GeoDataFrame
        Boundaries (``area_id``, ``area_name``).
    incidents : GeoDataFrame, optional
        The filtered incidents behind the run, for the heat or point layer.
    dialogue : GeoDataFrame, optional
        Dialogue places.
    focus_area_ids : sequence of str, optional
        Areas to fit the view to.
    tiles : str, Tiles or None
        See :func:`tiles_from`.
    incident_layer : {"heat", "points", "none"}, default "heat"
        How incidents are drawn (both layers can be switched on and off in the map).
    show_cells : bool, default False
        Whether the Gi* cell layer starts switched on.
    issues : GeoDataFrame, optional
        Trygghetsbesiktning issues (``geo.inspections.issues_frame``), drawn by
        :func:`add_issues` as a layer that can be switched off.
    fit_zones : bool, default False
        Open the view on the zones (with a margin) instead of the whole chosen area. By
        default the view is the chosen area (``focus_area_ids``), all of it: the commander
        sees the whole police area with its place names, and zooms in from there.
    places : GeoDataFrame, optional
        The gazetteer: its names inside the chosen area are written on the map
        (:func:`add_places`), a layer that can be switched off.

    Returns
    -------
    folium.Map

    Raises
    ------
    ValueError
        For an unknown ``incident_layer``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 664000, 6588000)], crs="EPSG:3006")
    >>> run = SimpleNamespace(zones=None, cells=None)
    >>> hotspot_map(run, areas, incident_layer="pins")
    Traceback (most recent call last):
    ...
    ValueError: incident_layer was "pins" but is expected to be in ('heat', 'points', 'none')
    """
    allowed = ("heat", "points", "none")
    if incident_layer not in allowed:
        raise ValueError(
            f'incident_layer was "{incident_layer}" but is expected to be in {allowed}'
        )
    m = base_map(areas, tiles=tiles, focus_area_ids=focus_area_ids)
    zones = getattr(run, "zones", None)
    # the heat surface starts hidden when there are zones: drawn together they hide each other
    zones_empty = zones is None or len(zones) == 0
    cells = getattr(run, "cells", None)
    if cells is not None and len(cells):
        add_cells(m, cells, show=show_cells)
    if incidents is not None and len(incidents):
        if incident_layer != "none":
            add_heat(m, incidents, show=incident_layer == "heat" and zones_empty)
            if incident_layer == "points":
                add_incidents(m, incidents, show=True)
    if zones is not None:
        add_zones(m, zones)
    if dialogue is not None and len(dialogue):
        add_dialogue(m, dialogue)
    if issues is not None and len(issues):
        add_issues(m, issues)
    if places is not None and len(places):
        focus = areas
        if focus_area_ids:
            wanted = [str(a) for a in focus_area_ids]
            focus = areas[areas[schema.AREA_ID].astype(str).isin(wanted)]
        add_places(m, places, within=focus)
    if fit_zones and not zones_empty:
        fit_to(m, zones)
    return finish_map(m, collapsed=True)


# --- interaction helpers -------------------------------------------------------------------


def zone_at(
    zones: gpd.GeoDataFrame, lat: float, lon: float, *, tolerance_m: float = 15.0
) -> str | None:
    """The ``zone_id`` of the zone under a clicked point, or None.

    streamlit-folium reports a click on a polygon as a coordinate, not as the feature; this
    finds the feature on the server. Where zones overlap the best-ranked wins; a click within
    ``tolerance_m`` of a zone's edge counts as inside.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_id": ["z1", "z2"], "rank": [2, 1]},
    ...     geometry=[box(0, 0, 100, 100), box(50, 50, 150, 150)], crs="EPSG:3006")
    >>> p = gpd.GeoSeries.from_xy([75], [75], crs="EPSG:3006").to_crs("EPSG:4326")[0]
    >>> zone_at(z, p.y, p.x)
    'z2'
    >>> q = gpd.GeoSeries.from_xy([500], [500], crs="EPSG:3006").to_crs("EPSG:4326")[0]
    >>> zone_at(z, q.y, q.x) is None
    True
    """
    if zones is None or zones.empty:
        return None
    point = gpd.GeoSeries.from_xy([lon], [lat], crs=schema.CRS_WGS84).to_crs(schema.CRS_METRIC)[0]
    metric = zones.to_crs(schema.CRS_METRIC)
    dist = metric.geometry.distance(point)
    hits = metric[dist <= tolerance_m]
    if hits.empty:
        return None
    if schema.RANK in hits.columns:
        hits = hits.sort_values(schema.RANK)
    return str(hits[schema.ZONE_ID].iloc[0])


def nearest_place(
    gazetteer: gpd.GeoDataFrame, geometry: shapely.Geometry, *, crs=schema.CRS_METRIC
) -> tuple[str, str, float] | None:
    """Nearest named place to a geometry as ``(name, kind, distance_m)``, or None.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"name": ["Jakobsbergs station", "Viksjö centrum"],
    ...     "kind": ["station", "centrum"]},
    ...     geometry=gpd.points_from_xy([0, 1000], [0, 0]), crs="EPSG:3006")
    >>> nearest_place(g, shapely.Point(100, 0))
    ('Jakobsbergs station', 'station', 100.0)
    """
    if gazetteer is None or gazetteer.empty:
        return None
    geom = gpd.GeoSeries([geometry], crs=crs).to_crs(schema.CRS_METRIC)[0]
    places = gazetteer.to_crs(schema.CRS_METRIC)
    dist = places.geometry.distance(geom)
    i = int(np.argmin(dist.to_numpy()))
    kind = places[schema.PLACE_KIND].iloc[i] if schema.PLACE_KIND in places.columns else ""
    return str(places[schema.PLACE_NAME].iloc[i]), str(kind), round(float(dist.iloc[i]), 1)


def zone_view(zones: gpd.GeoDataFrame, zone_id: str) -> tuple[list[float], int]:
    """``([lat, lon], zoom)`` that shows one zone, for ``st_folium(center=, zoom=)``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_id": ["z1"]}, geometry=[box(0, 0, 300, 300)],
    ...     crs="EPSG:3006")
    >>> zone_view(z, "z1")[1]
    16
    """
    chosen = zones[zones[schema.ZONE_ID].astype(str) == str(zone_id)]
    if chosen.empty:
        raise ValueError(
            f'zone_id was "{zone_id}" but is not among {zones[schema.ZONE_ID].astype(str).tolist()}'
        )
    metric = chosen.to_crs(schema.CRS_METRIC)
    minx, miny, maxx, maxy = metric.total_bounds
    span_m = max(maxx - minx, maxy - miny, 100.0)
    # Web Mercator at 59.4° N: ~39 m per pixel at zoom 11; aim for ~400 px across the zone.
    zoom = int(np.clip(math.floor(11 + math.log2(39.0 * 400 / span_m)), 11, 17))
    c = metric.geometry.union_all().centroid
    p = gpd.GeoSeries([c], crs=schema.CRS_METRIC).to_crs(schema.CRS_WGS84)[0]
    return [round(p.y, 6), round(p.x, 6)], zoom


def map_html_size(m: folium.Map) -> int:
    """Bytes of the map's standalone HTML (what a browser would download)."""
    return len(m.get_root().render().encode("utf-8"))


# --- what the pages show next to the map ---------------------------------------------------


def _inside(points: gpd.GeoDataFrame, polygon: shapely.Geometry) -> gpd.GeoDataFrame:
    """Rows of ``points`` (EPSG:3006) that intersect ``polygon`` (EPSG:3006)."""
    if points is None or points.empty:
        return points
    metric = points.to_crs(schema.CRS_METRIC)
    return points[metric.geometry.intersects(polygon).to_numpy()]


@dataclass(frozen=True)
class ZoneDetails:
    """What the detail panel shows for one zone (all plain pandas)."""

    zone: pd.Series
    by_category: pd.Series  # category -> incidents
    hour_of_week: pd.DataFrame  # 7×24, index mån..sön
    monthly: pd.Series  # month start (Period[M] as str) -> incidents
    dialogue_reasons: pd.DataFrame  # reason_category, reason, mentions
    nearest: tuple[str, str, float] | None


def zone_details(
    zones: gpd.GeoDataFrame,
    zone_id: str,
    incidents: gpd.GeoDataFrame,
    *,
    dialogue: gpd.GeoDataFrame | None = None,
    gazetteer: gpd.GeoDataFrame | None = None,
    start=None,
    end=None,
) -> ZoneDetails:
    """Counts by category, hour-of-week, monthly trend, dialogue reasons and nearest place.

    Parameters
    ----------
    zones : GeoDataFrame
        Zones (``zone_id``, geometry).
    zone_id : str
    incidents : GeoDataFrame
        Incidents (``occurred_at``, ``category``) — usually the filtered ones behind the run.
    dialogue, gazetteer : GeoDataFrame, optional
    start, end : date, optional
        The period shown: every month from ``start`` to ``end`` is in ``monthly``, a month
        without incidents as 0 (default: the months of ``incidents``' first and last times).

    Returns
    -------
    ZoneDetails

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_id": ["z1"]}, geometry=[box(0, 0, 100, 100)],
    ...     crs="EPSG:3006")
    >>> inc = gpd.GeoDataFrame({"category": ["rån", "rån", "stöld"],
    ...     "occurred_at": pd.to_datetime(["2018-01-05 22:00", "2018-02-01 23:00",
    ...         "2018-02-02 12:00"]).tz_localize("Europe/Stockholm")},
    ...     geometry=gpd.points_from_xy([10, 20, 500], [10, 20, 500]), crs="EPSG:3006")
    >>> d = zone_details(z, "z1", inc)
    >>> d.by_category.to_dict(), d.monthly.to_dict()
    ({'rån': 2}, {'2018-01': 1, '2018-02': 1})
    >>> zone_details(z, "z1", inc, start="2017-12-01", end="2018-03-31").monthly.to_dict()
    {'2017-12': 0, '2018-01': 1, '2018-02': 1, '2018-03': 0}
    """
    from geo.timewin import hour_of_week  # local: timewin pulls in the holiday calendars

    chosen = zones[zones[schema.ZONE_ID].astype(str) == str(zone_id)]
    if chosen.empty:
        raise ValueError(
            f'zone_id was "{zone_id}" but is not among {zones[schema.ZONE_ID].astype(str).tolist()}'
        )
    polygon = chosen.to_crs(schema.CRS_METRIC).geometry.iloc[0]
    inside = _inside(incidents, polygon)
    by_category = (
        inside[schema.CATEGORY].value_counts().rename("händelser")
        if len(inside)
        else pd.Series(dtype=int, name="händelser")
    )
    profile = hour_of_week(inside) if len(inside) else hour_of_week(incidents.iloc[:0])
    # every month of the period, zero months as 0: a gap in the chart would read as no data
    times = incidents[schema.OCCURRED_AT].dt.tz_localize(None) if len(incidents) else None
    first = (
        pd.Timestamp(start) if start is not None else (times.min() if times is not None else None)
    )
    last = pd.Timestamp(end) if end is not None else (times.max() if times is not None else None)
    months = inside[schema.OCCURRED_AT].dt.tz_localize(None).dt.to_period("M").astype(str)
    counts = months.value_counts()
    if first is not None and last is not None:
        every = pd.period_range(first.to_period("M"), last.to_period("M"), freq="M").astype(str)
        monthly = counts.reindex(every, fill_value=0).astype(int).rename("händelser")
    else:
        monthly = counts.sort_index().astype(int).rename("händelser")
    reasons = pd.DataFrame(columns=[schema.REASON_CATEGORY, schema.REASON, schema.MENTIONS])
    if dialogue is not None and len(dialogue):
        # a dialogue place counts when it lies in the zone or within 50 m of it
        near = _inside(dialogue, polygon.buffer(50.0))
        if len(near):
            cols = [c for c in reasons.columns if c in near.columns]
            reasons = pd.DataFrame(near[cols]).reset_index(drop=True)
            if schema.MENTIONS in reasons.columns:
                # the same reason given at several places (or rounds) is one row, summed
                keys = [c for c in (schema.REASON_CATEGORY, schema.REASON) if c in cols]
                if keys:
                    reasons = reasons.groupby(keys, as_index=False, dropna=False, sort=False)[
                        schema.MENTIONS
                    ].sum()
                reasons = reasons.sort_values(schema.MENTIONS, ascending=False, kind="stable")
    return ZoneDetails(
        zone=chosen.iloc[0],
        by_category=by_category,
        hour_of_week=profile,
        monthly=monthly,
        dialogue_reasons=reasons.reset_index(drop=True),
        nearest=nearest_place(gazetteer, polygon) if gazetteer is not None else None,
    )


def _change_text(now: float, before: float) -> str:
    if before == 0:
        return "ny jämfört med perioden före" if now else "oförändrat"
    pct = 100.0 * (now - before) / before
    if abs(pct) < 5:
        return "ungefär som perioden före"
    word = "fler" if pct > 0 else "färre"
    return f"{_fmt(abs(pct))} % {word} än perioden före ({_fmt(before)})"


def _counts_text(zone: pd.Series) -> str:
    """The count ("12 händelser"), plus dialogue mentions when they outnumber the crimes."""
    n = int(zone[schema.INCIDENT_COUNT])
    text = f"{_fmt(n)} {'händelse' if n == 1 else 'händelser'}"
    mentions = zone.get(schema.DIALOGUE_MENTIONS)
    if mentions is not None and not pd.isna(mentions) and mentions > n:
        text += f", men {_fmt(mentions)} omnämnanden som otrygg plats i medborgardialogen"
    return text


def briefing(
    zones: gpd.GeoDataFrame | None,
    incidents: gpd.GeoDataFrame,
    previous: gpd.GeoDataFrame,
    *,
    area_name: str,
    what: str,
    when: str,
    dialogue: gpd.GeoDataFrame | None = None,
    max_zones: int = 3,
) -> list[str]:
    """ "I korthet": three to five plain-Swedish sentences for a commander.

    Names the top zones with their peak hours, and says what changed against the period
    before (same length), both for the whole area and per zone (the previous period's
    incidents counted inside the same zone polygons).

    Parameters
    ----------
    zones : GeoDataFrame or None
        Ranked zones of the current period.
    incidents, previous : GeoDataFrame
        Filtered incidents of the chosen period and of the period of the same length before.
    area_name, what, when : str
        Area name, what is counted (e.g. "våld på offentlig plats") and when (the period and
        the time window), used as they are in the text (plain text, not HTML).
    dialogue : GeoDataFrame, optional
        Dialogue places, for the sentence about felt unsafety.
    max_zones : int, default 3

    Returns
    -------
    list of str

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_id": ["z1", "z2"], "rank": [1, 2],
    ...     "name": ["Torget", "Tunneln"], "incident_count": [3, 0],
    ...     "dialogue_mentions": [1, 6], "share_of_area_incidents": [0.75, 0.0],
    ...     "peak_hours": ["fre 22–02", ""]},
    ...     geometry=[box(0, 0, 100, 100), box(500, 0, 600, 100)], crs="EPSG:3006")
    >>> now = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10, 20, 30, 900], [10] * 4),
    ...     crs="EPSG:3006")
    >>> before = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10, 900], [10, 10]),
    ...     crs="EPSG:3006")
    >>> for s in briefing(z, now, before, area_name="A", what="våld", when="2018"):
    ...     print(s)
    I A: 4 händelser (våld, 2018), 100 % fler än perioden före (2).
    Mest utsatt: Torget med 3 händelser (75 % av områdets), främst fre 22–02.
    Därefter: Tunneln (0 händelser, men 6 omnämnanden som otrygg plats i medborgardialogen).
    Störst förändring: Torget, 200 % fler än perioden före (1).
    """
    n_now, n_before = len(incidents), len(previous)
    out = [
        f"I {area_name}: {_fmt(n_now)} {'händelse' if n_now == 1 else 'händelser'} ({what}, {when}), "
        f"{_change_text(n_now, n_before)}."
    ]
    if zones is None or zones.empty:
        out.append("Inga tydliga hotspotzoner i den valda perioden och tiden.")
        return out
    top = zones.sort_values(schema.RANK).head(max_zones)
    first = top.iloc[0]
    share = first.get(schema.SHARE_OF_AREA)
    share_txt = (
        f" ({_fmt(100 * share)} % av områdets)" if share is not None and not pd.isna(share) else ""
    )
    peak = first.get(schema.PEAK_HOURS)
    peak_txt = f", främst {peak}" if isinstance(peak, str) and peak else ""
    out.append(
        f"Mest utsatt: {first[schema.NAME]} med {_counts_text(first).split(', men')[0]}"
        f"{share_txt}{peak_txt}."
    )
    if len(top) > 1:
        rest = [f"{r[schema.NAME]} ({_counts_text(r)})" for _, r in top.iloc[1:].iterrows()]
        out.append(
            "Därefter: "
            + " och ".join([", ".join(rest[:-1]), rest[-1]] if len(rest) > 1 else rest)
            + "."
        )
    # change per zone: same polygons, previous period
    changes = []
    metric_prev = previous.to_crs(schema.CRS_METRIC) if len(previous) else previous
    for _, r in top.iterrows():
        poly = gpd.GeoSeries([r.geometry], crs=zones.crs).to_crs(schema.CRS_METRIC).iloc[0]
        before = int(metric_prev.geometry.intersects(poly).sum()) if len(previous) else 0
        now = int(r[schema.INCIDENT_COUNT])
        changes.append((abs(now - before), r[schema.NAME], now, before))
    big = max(changes)
    if big[0] > 0 and big[3] > 0 and abs(big[2] - big[3]) / big[3] >= 0.05:
        out.append(f"Störst förändring: {big[1]}, {_change_text(big[2], big[3])}.")
    if dialogue is not None and len(dialogue) and schema.MENTIONS in dialogue.columns:
        metric_zones = zones.to_crs(schema.CRS_METRIC)
        metric_d = dialogue.to_crs(schema.CRS_METRIC)
        in_any = metric_d.geometry.intersects(metric_zones.geometry.union_all())
        outside = metric_d[~in_any.to_numpy()]
        if len(outside):
            worst = outside.sort_values(schema.MENTIONS, ascending=False).iloc[0]
            out.append(
                f"Medborgardialogen pekar även ut platser utanför zonerna som otrygga, mest "
                f"”{worst[schema.REASON]}” ({_fmt(worst[schema.MENTIONS])} omnämnanden)."
            )
    return out[:5]


# --- space and time (emerging hotspots, near-repeat chains) -----------------------------------


def trend_map(
    result,
    areas: gpd.GeoDataFrame,
    *,
    focus_area_ids: Sequence[str] | None = None,
    tiles: str | Tiles | None = None,
    selected_cell: str | None = None,
) -> folium.Map:
    """Cells coloured by their Emerging Hot Spot Analysis category (``geo.spacetime``).

    Cells without a pattern are not drawn; the tooltip gives the category in Swedish, the
    place, the incidents and the trend. ``selected_cell`` is outlined.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from geo.spacetime import TrendResult
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 661000, 6584000)], crs="EPSG:3006")
    >>> cells = gpd.GeoDataFrame({"cell_id": ["c1", "c2"], "area_id": ["a", "a"],
    ...     "count": [9.0, 1.0], "category": ["new_hotspot", "no_pattern"],
    ...     "mk_tau": [0.1, 0.0], "mk_p": [0.5, 1.0], "place": ["<Torget>", "x"]},
    ...     geometry=[box(660000, 6583000, 660100, 6583100), box(660100, 6583000, 660200, 6583100)],
    ...     crs="EPSG:3006")
    >>> html = trend_map(TrendResult(cells, pd.DataFrame(), [], "month", []), areas).get_root().render()
    >>> "ny hotspot" in html, "Torget" in html, "<Torget>" in html, "inget mönster" in html
    (True, True, False, False)
    """
    from geo import spacetime as stx

    m = base_map(areas, tiles=tiles, focus_area_ids=focus_area_ids)
    cells = result.cells
    shown = cells[cells[stx.CATEGORY] != stx.NO_PATTERN]
    group = folium.FeatureGroup(name="Utveckling per ruta", show=True)
    if len(shown):
        tips = [
            f"<b>{_esc(stx.CATEGORY_LABELS[r[stx.CATEGORY]])}</b><br>{_esc(r[stx.PLACE])}<br>"
            f"{_fmt(r[schema.COUNT])} händelser · trend τ = {_fmt(r[stx.MK_TAU], 2)} "
            f"(p = {_fmt(r[stx.MK_P], 3)})<br><i>Klicka för tidsserien</i>"
            for _, r in shown.iterrows()
        ]
        colours = [stx.CATEGORY_COLOURS[c] for c in shown[stx.CATEGORY]]
        coloured_cells(shown.geometry, colours, tips, name="Utveckling", fill_opacity=0.75).add_to(
            group
        )
    group.add_to(m)
    if selected_cell is not None:
        sel = cells[cells[schema.CELL_ID].astype(str) == str(selected_cell)]
        if len(sel):
            folium.GeoJson(
                _to_display(sel[["geometry"]]).to_json(drop_id=True),
                name="Vald ruta",
                style_function=lambda f: {"color": "#000", "weight": 3, "fillOpacity": 0},
            ).add_to(m)
    present = [c for c in stx.CATEGORIES if c != stx.NO_PATTERN and c in set(shown[stx.CATEGORY])]
    m.lagesbild_legend.append(
        (
            "Utveckling över tid",
            [("box", stx.CATEGORY_COLOURS[c], stx.CATEGORY_LABELS[c]) for c in present],
        )
    )
    if len(shown):
        fit_to(m, shown, margin_m=300)
    return finish_map(m)


#: Colours of the near-repeat roles on the chain map.
ROLE_COLOURS = {"originator": "#d7191c", "near_repeat": "#fdae61", "repeat": "#7b3294"}


def chain_map(
    result,
    areas: gpd.GeoDataFrame,
    *,
    focus_area_ids: Sequence[str] | None = None,
    tiles: str | Tiles | None = None,
    max_chains: int = 300,
) -> folium.Map:
    """The near-repeat chains (``geo.nearrepeat``): members as dots by role, joined in time
    order by a line per chain (the ``max_chains`` largest chains).

    Examples
    --------
    >>> import numpy as np
    >>> from shapely.geometry import box
    >>> from geo import nearrepeat
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6583000, 661000, 6584000)], crs="EPSG:3006")
    >>> inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(["2018-01-01", "2018-01-02",
    ...     "2018-03-01"]).tz_localize("Europe/Stockholm")}, geometry=gpd.points_from_xy(
    ...     [660100, 660150, 660900], [6583100] * 3), crs="EPSG:3006")
    >>> r = nearrepeat.near_repeat(inc, permutations=9, seed=1)
    >>> html = chain_map(r, areas).get_root().render()
    >>> "Kedja 1" in html, "första i kedjan" in html
    (True, True)
    """
    from geo import nearrepeat as nrx

    m = base_map(areas, tiles=tiles, focus_area_ids=focus_area_ids)
    inc = result.incidents
    members = inc[inc[nrx.CHAIN_ID] > 0].to_crs(schema.CRS_WGS84)
    sizes = members.groupby(nrx.CHAIN_ID).size().sort_values(ascending=False, kind="stable")
    keep = set(sizes.index[:max_chains])
    members = members[members[nrx.CHAIN_ID].isin(keep)].sort_values(
        [nrx.CHAIN_ID, schema.OCCURRED_AT]
    )
    lines = folium.FeatureGroup(name="Kedjor", show=True)
    dots = folium.FeatureGroup(name="Händelser i kedjor", show=True)
    for chain, grp in members.groupby(nrx.CHAIN_ID, sort=False):
        pts = [[round(p.y, LONLAT_DECIMALS), round(p.x, LONLAT_DECIMALS)] for p in grp.geometry]
        tip = f"Kedja {int(chain)}: {len(grp)} händelser"
        folium.PolyLine(pts, color="#444", weight=2, opacity=0.8, tooltip=tip).add_to(lines)
        for p, (_, row) in zip(pts, grp.iterrows(), strict=True):
            role = row[nrx.ROLE]
            when = pd.Timestamp(row[schema.OCCURRED_AT]).strftime("%Y-%m-%d %H:%M")
            folium.CircleMarker(
                p,
                radius=5,
                color=ROLE_COLOURS[role],
                fill=True,
                fill_opacity=0.9,
                tooltip=f"Kedja {int(chain)} · {_esc(nrx.ROLE_LABELS[role])} · {_esc(when)}",
            ).add_to(dots)
    lines.add_to(m)
    dots.add_to(m)
    m.lagesbild_legend.append(
        (
            "Near repeat",
            [
                ("dot", ROLE_COLOURS[r], nrx.ROLE_LABELS[r])
                for r in ("originator", "near_repeat", "repeat")
            ]
            + [("line", "#444", "kedja i tidsordning")],
        )
    )
    if len(members):
        fit_to(m, members, margin_m=300)
    return finish_map(m)
