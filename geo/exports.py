"""Patrol-focus zone exports: GeoJSON, KML, GeoPackage, CSV and a one-page PDF briefing.

This module owns how chosen zones (from `geo.patrol`) leave the app:

* **GeoJSON** follows RFC 7946: WGS 84 lon/lat, no ``crs`` member, polygon exterior rings
  counter-clockwise and holes clockwise (the right-hand rule), coordinates rounded to 7
  decimals (~1 cm). Who/when/parameters sit in a foreign member ``"lagesbild"``.
* **KML** (simplekml): one named, styled placemark per zone whose description carries the
  recommended hours and the counts, the attributes as ``ExtendedData``, and the parameters in
  the document description. All text is XML-escaped here (simplekml's own escaping is turned
  off so that nothing is escaped twice or not at all).
* **GeoPackage**: layer ``zones`` (EPSG:3006) plus the attribute-only table ``parameters``
  (``key``, ``value``) with the parameters, who and when.
* **CSV**: zone, centroid lat/lon (WGS 84), hours, counts; UTF-8 with BOM so Excel shows
  å ä ö; who/when/parameters in the columns ``created_at``, ``created_by``, ``parameters``.
* **PDF**: a one-page Swedish briefing through `geo.pdf.Briefing` — an offline map, a table
  of zones, the parameters and the date, marked "INTERN / BEGRÄNSAD".

Every file is written to a temporary file beside the target and renamed into place, so a
failure never leaves half a file. These exports are internal planning material: counts are
exact. ``public=True`` shows counts below `geo.schema.SUPPRESS_BELOW` as "<5" (DESIGN.md §6).
"""

from __future__ import annotations

import getpass
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import labels, safecsv
from geo import schema as S
from geo.errors import InputError
from geo.pdf import MapLayer, write_atomic

#: The export formats by file suffix.
FORMATS = ("geojson", "kml", "gpkg", "csv", "pdf")
#: MIME type of each format (for download buttons).
MIME = {
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
    "pdf": "application/pdf",
}
#: Attribute columns exported, in order, with their Swedish headings.
COLUMNS = {
    S.ZONE_ID: "Zon-id",
    S.NAME: "Zon",
    "pick": "Nr",
    "recommended_hours": "Rekommenderade timmar",
    S.INCIDENT_COUNT: "Händelser i fönstret",
    S.HIT_RATE: "Träffandel",
    "cumulative_hit_rate": "Kumulativ träffandel",
    S.PAI: "PAI",
    S.DIALOGUE_MENTIONS: "Dialog-omnämnanden",
    "open_issues_nearby": "Öppna brister inom 150 m",
    S.AREA_KM2: "Yta km²",
}
_COUNTS = (S.INCIDENT_COUNT, S.DIALOGUE_MENTIONS, "open_issues_nearby")
_SHARES = (S.HIT_RATE, "cumulative_hit_rate")
#: The columns a KML placemark's description carries (hours and counts), in order.
_DESCRIBED = ("recommended_hours", S.INCIDENT_COUNT, *_SHARES, S.PAI, *_COUNTS[1:])


# --------------------------------------------------------------------------------------
# shared preparation
# --------------------------------------------------------------------------------------
def metadata(params: Mapping | None = None, *, who: str | None = None) -> dict:
    """The parameters plus who and when, as plain JSON-able values.

    ``created_by`` is taken from ``who``, then ``params``, then the operating-system user;
    ``created_at`` from ``params`` or now (Europe/Stockholm).

    Examples
    --------
    >>> m = metadata({"window": "fre–lör 18–03", "k": 3}, who="analytiker")
    >>> m["window"], m["k"], m["created_by"]
    ('fre–lör 18–03', 3, 'analytiker')
    """
    out: dict = {}
    for key, value in dict(params or {}).items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value))
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        out[str(key)] = value
    out["created_by"] = who or out.get("created_by") or os_user()
    out["created_at"] = out.get("created_at") or pd.Timestamp.now(tz=S.TZ).isoformat(
        timespec="seconds"
    )
    out.setdefault("software", "Lägesbild")
    return out


def os_user(default: str = "okänd") -> str:
    """The operating-system user's name, or ``default`` where there is none.

    Examples
    --------
    >>> isinstance(os_user(), str)
    True
    """
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return default


def export_frame(zones: gpd.GeoDataFrame, *, public: bool = False) -> gpd.GeoDataFrame:
    """The zone attributes that exports carry (see `COLUMNS`), in EPSG:3006.

    Missing columns are left out; counts are whole numbers, shares and PAI rounded to 4
    decimals. With ``public=True`` counts below 5 become the text "<5".

    Raises
    ------
    InputError
        If ``zones`` is empty.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_id": ["a"], "name": ["A"], "incident_count": [3.0]},
    ...                      geometry=[box(0, 0, 1, 1)], crs="EPSG:3006")
    >>> export_frame(z, public=True)["incident_count"].tolist()
    ['<5']
    """
    if not isinstance(zones, gpd.GeoDataFrame):
        raise TypeError(f"zones must be a GeoDataFrame, got {type(zones).__name__}")
    if not len(zones):
        raise InputError("Det finns inga zoner att exportera.")
    if zones.crs is None:
        raise ValueError("zones have no CRS; expected EPSG:3006")
    cols = [c for c in COLUMNS if c in zones.columns]
    out = gpd.GeoDataFrame(zones[cols].copy(), geometry=zones.geometry.values, crs=zones.crs)
    out = out.to_crs(S.CRS_METRIC)
    if S.ZONE_ID not in out.columns:
        out.insert(0, S.ZONE_ID, [str(i) for i in range(1, len(out) + 1)])
    if S.NAME not in out.columns:
        out.insert(1, S.NAME, "Zon " + out[S.ZONE_ID].astype(str))
    out[S.ZONE_ID] = out[S.ZONE_ID].astype(str)
    out[S.NAME] = out[S.NAME].astype(str)
    for c in cols:
        if c in _COUNTS:
            v = pd.to_numeric(out[c], errors="coerce").round()
            out[c] = v.astype("Int64")
            if public:
                out[c] = [
                    ("<5" if x < S.SUPPRESS_BELOW else str(int(x))) if pd.notna(x) else None
                    for x in v
                ]
        elif c not in (S.ZONE_ID, S.NAME, "recommended_hours", "pick"):
            out[c] = pd.to_numeric(out[c], errors="coerce").round(4)
    return out.reset_index(drop=True)


def _fmt(value: object, *, share: bool = False) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if isinstance(value, str):
        return value
    if share:
        return f"{float(value):.0%}".replace("%", " %")
    if float(value).is_integer():
        return str(int(value))
    return f"{float(value):.1f}".replace(".", ",")


def _label(row: pd.Series) -> str:
    return f"{row['pick']}. {row[S.NAME]}" if "pick" in row else str(row[S.NAME])


def _describe(row: pd.Series) -> str:
    """One zone in plain Swedish: hours and counts."""
    return "\n".join(
        f"{COLUMNS[c]}: {_fmt(row[c], share=c in _SHARES)}" for c in _DESCRIBED if c in row
    )


def _params_text(meta: Mapping) -> str:
    return "; ".join(f"{k}={v}" for k, v in meta.items() if v not in (None, ""))


# --------------------------------------------------------------------------------------
# the five formats
# --------------------------------------------------------------------------------------
def to_geojson(zones: gpd.GeoDataFrame, *, params: Mapping | None = None, **kw) -> str:
    """RFC 7946 GeoJSON text of the zones (WGS 84, right-hand rule, no ``crs`` member).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(660000, 6590000, 660100,
    ...     6590100)], crs="EPSG:3006")
    >>> doc = json.loads(to_geojson(z, params={"k": 1}))
    >>> doc["type"], "crs" in doc, doc["lagesbild"]["parameters"]["k"]
    ('FeatureCollection', False, 1)
    """
    meta = metadata(params, who=kw.get("who"))
    frame = export_frame(zones, public=kw.get("public", False)).to_crs(S.CRS_WGS84)
    geoms = shapely.orient_polygons(frame.geometry.values, exterior_cw=False)
    geoms = shapely.set_precision(geoms, 1e-7)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, crs=S.CRS_WGS84))
    doc = json.loads(frame.to_json(na="null", drop_id=True))
    doc.pop("crs", None)
    doc["name"] = "zoner"
    doc["lagesbild"] = {
        "created_by": meta["created_by"],
        "created_at": meta["created_at"],
        "marking": "INTERN / BEGRÄNSAD",
        "parameters": meta,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)


def _kml_colour(hex_rgb: str, alpha: int) -> str:
    """'#rrggbb' -> KML 'aabbggrr'."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha:02x}{b}{g}{r}"


def to_kml(zones: gpd.GeoDataFrame, *, params: Mapping | None = None, **kw) -> str:
    """KML text: one named, styled placemark per zone with hours and counts.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"name": ["Torget <&>"], "recommended_hours": ["fre 22–01"]},
    ...     geometry=[box(660000, 6590000, 660100, 6590100)], crs="EPSG:3006")
    >>> "Torget &lt;&amp;&gt;" in to_kml(z)
    True
    """
    import simplekml

    from geo.pdf import ZONE_COLOURS

    meta = metadata(params, who=kw.get("who"))
    frame = export_frame(zones, public=kw.get("public", False)).to_crs(S.CRS_WGS84)
    kml = simplekml.Kml(name=escape("Lägesbild – patrullzoner (INTERN / BEGRÄNSAD)"))
    kml.parsetext(False)  # we escape every text ourselves, once
    kml.document.description = escape(
        f"Skapad {meta['created_at']} av {meta['created_by']}. Parametrar: {_params_text(meta)}"
    )
    for i, (_, row) in enumerate(frame.iterrows()):
        geom = row.geometry
        polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        # the placemark name is the zone name: GDAL maps ExtendedData "name" onto it anyway
        container = kml.newmultigeometry(name=escape(str(row[S.NAME])))
        for poly in polys:
            p = container.newpolygon(
                outerboundaryis=[(x, y) for x, y in poly.exterior.coords],
                innerboundaryis=[[(x, y) for x, y in r.coords] for r in poly.interiors],
            )
            del p  # styled on the placemark
        container.description = escape(_describe(row))
        colour = ZONE_COLOURS[i % len(ZONE_COLOURS)]
        container.style.polystyle.color = _kml_colour(colour, 0x80)
        container.style.linestyle.color = _kml_colour(colour, 0xFF)
        container.style.linestyle.width = 2
        for col in frame.columns:
            if col == "geometry":
                continue
            value = row[col]
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
            container.extendeddata.newdata(name=col, value=escape(str(text)))
    return kml.kml()


def write_gpkg(
    zones: gpd.GeoDataFrame, path: str | os.PathLike, *, params: Mapping | None = None, **kw
) -> Path:
    """Write a GeoPackage with layer ``zones`` and the table ``parameters`` (atomically).

    Examples
    --------
    >>> import pyogrio, tempfile, pathlib
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:3006")
    >>> p = write_gpkg(z, pathlib.Path(tempfile.mkdtemp()) / "z.gpkg", params={"k": 1})
    >>> sorted(name for name, _ in pyogrio.list_layers(p))
    ['parameters', 'zones']
    """
    import pyogrio

    meta = metadata(params, who=kw.get("who"))
    frame = export_frame(zones, public=kw.get("public", False))
    target = Path(path)
    tmpdir = tempfile.mkdtemp(prefix=".gpkg-", dir=target.parent)
    tmp = Path(tmpdir) / target.name
    try:
        pyogrio.write_dataframe(frame, tmp, layer="zones", driver="GPKG")
        table = pd.DataFrame(
            {"key": list(meta), "value": ["" if v is None else str(v) for v in meta.values()]}
        )
        pyogrio.write_dataframe(table, tmp, layer="parameters", driver="GPKG", append=True)
        os.replace(tmp, target)
    finally:
        for leftover in Path(tmpdir).glob("*"):
            leftover.unlink()
        os.rmdir(tmpdir)
    return target


def to_csv(zones: gpd.GeoDataFrame, *, params: Mapping | None = None, **kw) -> str:
    """CSV text: zone, centroid lat/lon (WGS 84), hours, counts, and who/when/parameters.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(660000, 6590000, 660100,
    ...     6590100)], crs="EPSG:3006")
    >>> to_csv(z).splitlines()[0].split(",")[:4]
    ['zone_id', 'name', 'centroid_lat', 'centroid_lon']
    """
    meta = metadata(params, who=kw.get("who"))
    frame = export_frame(zones, public=kw.get("public", False))
    centroids = gpd.GeoSeries(frame.geometry.centroid, crs=S.CRS_METRIC).to_crs(S.CRS_WGS84)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table.insert(2, "centroid_lat", np.round(centroids.y.to_numpy(), 6))
    table.insert(3, "centroid_lon", np.round(centroids.x.to_numpy(), 6))
    table["created_at"] = meta["created_at"]
    table["created_by"] = meta["created_by"]
    table["parameters"] = _params_text(meta)
    return safecsv.to_csv_text(table)


def _short_list(text: str, *, at_most: int = 4) -> str:
    """A comma-separated list without repeats, cut after ``at_most`` names.

    Examples
    --------
    >>> _short_list("Järfälla, Järfälla, Jakobsberg, Barkarby, Skälby, Viksjö, Farsta")
    'Järfälla, Jakobsberg, Barkarby, Skälby m.fl. (6 områden)'
    """
    # ", " separates names; "25,1 km²" is one (a decimal comma)
    names = list(dict.fromkeys(t.strip() for t in text.split(", ") if t.strip()))
    if len(names) <= at_most:
        return ", ".join(names)
    return f"{', '.join(names[:at_most])} m.fl. ({len(names)} områden)"


def to_pdf(
    zones: gpd.GeoDataFrame,
    *,
    params: Mapping | None = None,
    areas: gpd.GeoDataFrame | None = None,
    persistence: object | None = None,
    forward: object | None = None,
    places: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    title: str = "Helgförstärkning – patrullzoner",
    **kw,
) -> bytes:
    """A one-page Swedish PDF briefing: map, zone table, parameters, date, marking.

    ``forward`` and ``persistence`` (`geo.patrol.PatrolPlan.forward` / ``.persistence``)
    add their Swedish sentences under the table. ``places`` (the gazetteer: ``name``,
    points) are written on the map for orientation, those inside the view only. ``tiles``
    (`geo.maps.tiles_from`: None reads ``LAGESBILD_TILES``, default none) puts base-map
    tiles under the map only when a tile server is configured.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(660000, 6590000, 660100,
    ...     6590100)], crs="EPSG:3006")
    >>> to_pdf(z, params={"window": "fre–lör 18–03"})[:5]
    b'%PDF-'
    """
    from geo.pdf import Briefing

    meta = metadata(params, who=kw.get("who"))
    frame = export_frame(zones, public=kw.get("public", False))
    subtitle = (
        " · ".join(
            _short_list(str(meta[k])) if k == "areas" else str(meta[k])
            for k in ("areas", "window")
            if meta.get(k)
        )
        or "Zoner för synlig närvaro"
    )
    doc = Briefing(
        title,
        subtitle=subtitle,
        author=str(meta["created_by"]),
        subject="Patrullzoner för helgförstärkning",
        keywords=[f"{k}={v}" for k, v in meta.items() if v not in (None, "")],
    )
    layers = []
    if areas is not None and len(areas):
        layers.append(MapLayer(areas, kind="boundary", edgecolor="#555555", linewidth=0.8))
    labelled = frame.assign(_label=[_label(r) for _, r in frame.iterrows()])
    layers.append(MapLayer(labelled, label_col="_label", legend="Patrullzon"))
    if places is not None and len(places):
        layers.append(MapLayer(places, kind="place", label_col=S.PLACE_NAME))
    # framed on the zones (boundaries as context), one panel per distant group of zones
    from geo.maps import tiles_from

    doc.map(layers, height_mm=95, focus=frame, tiles=tiles_from(tiles).url)
    order = ["pick", S.NAME] + [c for c in COLUMNS if c not in ("pick", S.NAME)]
    table_cols = [c for c in order if c in frame.columns and c not in (S.ZONE_ID, S.AREA_KM2)]
    shown = pd.DataFrame(
        {
            COLUMNS[c]: [
                _fmt(v, share=c in _SHARES) if c not in ("pick",) else str(v) for v in frame[c]
            ]
            for c in table_cols
        }
    )
    doc.heading("Zoner")
    doc.table(shown, font_size=7.5)  # content-aware widths: header words never broken
    # the forward check concerns these zones; the stability test zones re-chosen on half
    for check in (forward, persistence):
        if check is not None:
            doc.paragraph(check.message, small=True)
    doc.heading("Parametrar")
    doc.key_values(labels.params_pairs(meta, skip=("software",)))
    return doc.build()


# --------------------------------------------------------------------------------------
# dispatch
# --------------------------------------------------------------------------------------
def format_of(path: str | os.PathLike) -> str:
    """The export format named by a file's suffix.

    Raises
    ------
    InputError
        For a suffix that is not one of `FORMATS`.

    Examples
    --------
    >>> format_of("zoner.GeoJSON"), format_of("ut/zoner.gpkg")
    ('geojson', 'gpkg')
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "json":
        suffix = "geojson"
    if suffix not in FORMATS:
        raise InputError(
            f'Filen "{path}" har ett okänt format ".{suffix}"; välj en av '
            f"{', '.join('.' + f for f in FORMATS)}."
        )
    return suffix


def export_bytes(zones: gpd.GeoDataFrame, fmt: str, **kw) -> bytes:
    """The export in format ``fmt`` as bytes (for download buttons).

    Keywords: ``params``, ``who``, ``public``; for PDF also ``areas``, ``persistence``,
    ``forward``, ``places``, ``tiles``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(660000, 6590000, 660100,
    ...     6590100)], crs="EPSG:3006")
    >>> export_bytes(z, "csv")[:3] == "\\ufeff".encode()
    True
    """
    if fmt not in FORMATS:
        raise ValueError(f'fmt was "{fmt}" but is expected to be in {FORMATS}')
    if fmt == "pdf":
        return to_pdf(zones, **kw)
    for pdf_only in ("areas", "persistence", "forward", "places", "tiles"):
        kw.pop(pdf_only, None)
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory() as tmp:
            return write_gpkg(zones, Path(tmp) / "zoner.gpkg", **kw).read_bytes()
    text = {"geojson": to_geojson, "kml": to_kml, "csv": to_csv}[fmt](zones, **kw)
    return ("\ufeff" + text if fmt == "csv" else text).encode("utf-8")


def export_zones(zones: gpd.GeoDataFrame, path: str | os.PathLike, **kw) -> Path:
    """Write the zones to ``path`` in the format its suffix names, atomically.

    Keywords as in `export_bytes`. Nothing is written when the export fails.

    Raises
    ------
    InputError
        For an unknown suffix, a missing folder, or no zones.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(660000, 6590000, 660100,
    ...     6590100)], crs="EPSG:3006")
    >>> export_zones(z, pathlib.Path(tempfile.mkdtemp()) / "z.kml").suffix
    '.kml'
    """
    fmt = format_of(path)
    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(f'Mappen "{target.parent}" finns inte; kan inte skriva "{target}".')
    if fmt == "gpkg":
        return write_gpkg(
            zones, target, **{k: v for k, v in kw.items() if k in ("params", "who", "public")}
        )
    return write_atomic(target, export_bytes(zones, fmt, **kw))
