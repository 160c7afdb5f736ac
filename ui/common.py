"""Shared Streamlit helpers for every page: the session's data, the sidebar, cached geo calls.

The API is small on purpose; pages import only these:

``get_data() -> Data``
    The data of this session, frames in EPSG:3006: files uploaded on the Data page when
    there are any, the bundled demo data otherwise. ``Data.key`` identifies it for caches.
``sidebar_filters(data) -> Filters``
    Draws the sidebar (area, period, categories, time window, method and its parameters
    with explanations, background map) and returns the choices as a plain frozen dataclass.
    Defaults for a commander: the police area, the last 12 months of the data, våld på
    offentlig plats, kväll och natt, Gi*.
``incidents_for(data, filters, *, previous=False) -> GeoDataFrame``
    The incidents the filters select (``previous=True``: the period of the same length just
    before), cached.
``hotspots(data, filters) -> HotspotRun``
    ``geo.analysis.run_hotspots`` on those incidents, cached, with a spinner.
``SELECTED_ZONE``, ``select_zone(zone_id)``, ``selected_zone()``
    The zone selected on the map or in the hotspot table (shared session_state key), so
    table and map stay in step.
``show_error(exc)``
    ``st.error`` for the project's own errors (InputError and friends).
``setup_map_assets()``
    Points folium at the offline copies in ``static/vendor`` (or warns that they are missing).
``open_store()``, ``open_issues(data, zones)``
    The project database (one per process) and its open trygghetsbesiktning issues, flagged
    near the top hotspots, for the issues layer every map page shows.
``map_click(m, key=...)``, ``map_drawings(m, key=...)``
    Show a map and return the point the user last clicked (kept until ``clear_click``) or
    the polygons drawn on it: the click and Draw handling the pages share.
``zone_table(zones)``, ``show_choices(run)``
    The ranked zones with Swedish column names, and the analysis' automatic choices.

``st.cache_data`` lives here and in pages only, always around a pure ``geo`` call. Large
frames are passed as ``_``-prefixed arguments (not hashed); ``Data.key`` stands for them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import schema
from geo.errors import InputError
from ui import sv

ROOT = Path(__file__).resolve().parents[1]

#: session_state keys shared between pages.
SELECTED_ZONE = "lagesbild_selected_zone"
UPLOAD = "lagesbild_upload"

METHODS = {
    "gistar": "Gi* (rutnät, Getis-Ord)",
    "dbscan": "DBSCAN (täthetskluster)",
    "hdbscan": "HDBSCAN (täthetskluster, automatisk täthet)",
}
METHOD_HELP = {
    "gistar": (
        "Delar området i lika stora rutor och testar för varje ruta om den och dess grannar "
        "har fler händelser än slumpen ger (Getis-Ord Gi*, som ArcGIS Hot Spot Analysis). "
        "Rutstorlek och grannavstånd väljs automatiskt om du inte anger dem."
    ),
    "dbscan": (
        "Hittar täta kluster av händelser: en plats blir kluster när minst så många händelser "
        "ligger inom avståndet (i meter) från varandra."
    ),
    "hdbscan": (
        "Som DBSCAN men väljer själv avståndet; bra när tätheten skiljer sig mellan stadsdelar."
    ),
}
TILE_CHOICES = {
    "none": "Ingen (fungerar utan internet)",
    "osm": "OpenStreetMap (kräver internet)",
}


@dataclass(frozen=True)
class Data:
    """The frames a session works on (EPSG:3006); ``key`` stands for them in caches."""

    key: str
    label: str
    incidents: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    dialogue: gpd.GeoDataFrame | None = None
    gazetteer: gpd.GeoDataFrame | None = None
    reports: dict = field(default_factory=dict)  # kind -> LoadResult-like summary


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices: plain values, hashable, usable as a cache key."""

    area_id: str
    area_name: str
    start: dt.date
    end: dt.date
    categories: tuple[str, ...]
    window: str  # a name in geo.timewin.WINDOWS or text for parse_window
    method: str = "gistar"
    cell_size_m: float | None = None
    band_m: float | None = None
    eps_m: float = 150.0
    min_weight: float = 10.0
    use_dialogue: bool = True
    tiles: str = "none"

    def previous(self) -> Filters:
        """The same filters over the period of the same length just before."""
        days = (self.end - self.start).days + 1
        return replace(
            self,
            start=self.start - dt.timedelta(days=days),
            end=self.start - dt.timedelta(days=1),
        )

    def period_label(self) -> str:
        return f"{self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"

    def window_label(self) -> str:
        from geo.timewin import resolve_window

        try:
            return resolve_window(self.window).label
        except (ValueError, InputError):
            return self.window


# --- text from files and forms ---------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def md_escape(text: object) -> str:
    r"""``text`` as literal markdown: every markdown special character backslash-escaped.

    Streamlit escapes HTML but renders markdown, so a name from a file or a form such as
    ``![x](http://...)`` would make every viewer's browser fetch a remote image. Use this
    for every value from a file or a form inside ``st.markdown``, ``st.write``,
    ``st.caption``, ``st.info`` … and headers.

    Examples
    --------
    >>> print(md_escape("![x](http://a.se/b.png) **fet**"))
    \!\[x\]\(http://a\.se/b\.png\) \*\*fet\*\*
    >>> md_escape(None)
    'None'
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


# --- assets ---------------------------------------------------------------------------------


def setup_map_assets() -> bool:
    """Use the offline Leaflet copies when they are fetched; warn (in Swedish) otherwise."""
    from geo.assets import DEFAULT_DEST, assets_present, use_local_assets

    if assets_present(ROOT / DEFAULT_DEST):
        use_local_assets()
        return True
    st.warning(
        "Kartans filer (Leaflet) saknas lokalt, så kartan hämtar dem från internet. "
        "Kör `lagesbild fetch-assets` (görs av `./dev app`) för att kartan ska fungera utan internet."
    )
    return False


# --- data -----------------------------------------------------------------------------------


@st.cache_data(show_spinner="Läser demodata …")
def _demo_frames() -> dict:
    from geo import demo, io

    paths = demo.demo_paths()
    areas = io.load_boundaries(paths["areas"])
    incidents = io.load_incidents(paths["incidents"], category_map=paths["category_map"])
    dialogue = io.load_dialogue(paths["dialogue"])
    gazetteer = io.load_gazetteer(paths["gazetteer"])
    return {
        # flagged on the whole file, before any filter: a stack is judged by all its points
        "incidents": io.flag_centre_points(incidents.frame, areas.frame),
        "areas": areas.frame,
        "dialogue": dialogue.frame,
        "gazetteer": gazetteer.frame,
        "reports": {
            "incidents": incidents.to_json_dict(),
            "dialogue": dialogue.to_json_dict(),
            "areas": areas.to_json_dict(),
        },
    }


@st.cache_data(show_spinner=False, max_entries=4)
def _flag_centre_points(key: str, _incidents, _areas):
    from geo.io import flag_centre_points

    return flag_centre_points(_incidents, _areas)


def get_data() -> Data:
    """This session's data: the Data page's uploads replace the matching demo frames."""
    try:
        frames = dict(_demo_frames())
    except InputError as exc:
        show_error(exc)
        st.stop()
    key, label = "demo", "demodata (syntetisk, ungefärliga gränser)"
    upload = st.session_state.get(UPLOAD)
    if upload:
        frames.update({k: v for k, v in upload["frames"].items() if v is not None})
        key = "upload-" + upload["key"]
        label = "uppladdade filer (" + ", ".join(upload["frames"]) + ")"
        frames["incidents"] = _flag_centre_points(key, frames["incidents"], frames["areas"])
    return Data(
        key=key,
        label=label,
        incidents=frames["incidents"],
        areas=frames["areas"],
        dialogue=frames.get("dialogue"),
        gazetteer=frames.get("gazetteer"),
        reports=frames.get("reports", {}),
    )


def top_areas(areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Areas to choose from: police areas first, then kommuner, then the rest (file order)."""
    order = {"lpo": 0, "kommun": 1, "stadsdel": 2, "kommundel": 2}
    frame = pd.DataFrame(areas.drop(columns="geometry"))
    if schema.LEVEL not in frame.columns:
        frame[schema.LEVEL] = "kommun"
    frame["_order"] = frame[schema.LEVEL].map(order).fillna(3)
    # file order within a level: the first police area in the file is the default
    return frame.sort_values("_order", kind="stable").drop(columns="_order")


def _area_label(row) -> str:
    levels = {
        "lpo": "lokalpolisområde",
        "kommun": "kommun",
        "kommundel": "kommundel",
        "stadsdel": "stadsdel",
    }
    return f"{row[schema.AREA_NAME]} ({levels.get(row[schema.LEVEL], row[schema.LEVEL])})"


# --- sidebar --------------------------------------------------------------------------------


def sidebar_filters(data: Data) -> Filters:
    """Draw the sidebar and return the choices (see the module docstring for the defaults)."""
    from geo.timewin import WINDOWS, parse_window

    sb = st.sidebar
    sb.caption(f"Data: {md_escape(data.label)}")
    choices = top_areas(data.areas)
    labels = {r[schema.AREA_ID]: _area_label(r) for _, r in choices.iterrows()}
    area_id = sb.selectbox(
        "Område",
        list(labels),
        format_func=labels.get,
        key="f_area",
        help="Lokalpolisområde, kommun eller stadsdel. Hotspots rangordnas inom området.",
    )
    area_name = str(choices.loc[choices[schema.AREA_ID] == area_id, schema.AREA_NAME].iloc[0])

    times = data.incidents[schema.OCCURRED_AT]
    last = times.max().date() if len(times) else dt.date.today()
    first = times.min().date() if len(times) else last - dt.timedelta(days=365)
    default_start = max(first, last - dt.timedelta(days=364))
    period = sv.date_input(
        sb,
        "Period",
        value=(default_start, last),
        min_value=first,
        max_value=last,
        key="f_period",
        help="Standard: de senaste 12 månaderna i datan. Jämförelsen görs mot lika lång period före.",
    )
    start, end = (
        (period[0], period[-1])
        if isinstance(period, tuple | list) and period
        else (default_start, last)
    )

    present = [c for c in schema.CATEGORIES if c in set(data.incidents[schema.CATEGORY].unique())]
    categories = sv.multiselect(
        sb,
        "Brottskategorier",
        present or list(schema.CATEGORIES),
        default=[schema.VIOLENCE] if schema.VIOLENCE in present else present[:1],
        key="f_categories",
    )

    names = list(WINDOWS)
    custom = "eget tidsfönster …"
    window = sb.selectbox(
        "Tidsfönster",
        names + [custom],
        index=names.index("kväll och natt") if "kväll och natt" in names else 0,
        key="f_window",
        help="En natt räknas till kvällen den började: fredag 23:30 och lördag 02:00 är båda fredagsnatt.",
    )
    if window == custom:
        text = sb.text_input("Eget tidsfönster", "fre,lör 18-03", key="f_window_text")
        try:
            parse_window(text)
            window = text
        except (ValueError, InputError) as exc:
            sb.error(str(exc))
            window = "alla"

    method = sb.radio(
        "Metod", list(METHODS), format_func=METHODS.get, key="f_method", horizontal=False
    )
    sb.caption(METHOD_HELP[method])
    kwargs: dict = {}
    if method == "gistar":
        auto = sb.checkbox("Välj rutstorlek och grannavstånd automatiskt", True, key="f_auto")
        if not auto:
            kwargs["cell_size_m"] = float(
                sb.number_input(
                    "Rutstorlek (m)",
                    50,
                    1000,
                    150,
                    25,
                    key="f_cell",
                    help="Sidan på varje ruta i meter.",
                )
            )
            kwargs["band_m"] = float(
                sb.number_input(
                    "Grannavstånd (m)",
                    100,
                    3000,
                    400,
                    50,
                    key="f_band",
                    help="Rutor vars mittpunkter ligger närmare än så räknas som grannar.",
                )
            )
    else:
        kwargs["eps_m"] = float(
            sb.number_input(
                "Avstånd (m)",
                25,
                1000,
                150,
                25,
                key="f_eps",
                help="Hur nära händelser ska ligga för att räknas till samma kluster.",
            )
        )
        kwargs["min_weight"] = float(
            sb.number_input(
                "Minsta antal händelser",
                2,
                500,
                10,
                1,
                key="f_minw",
                help="Så många händelser (viktade) behövs för att bilda ett kluster.",
            )
        )
    use_dialogue = sb.checkbox(
        "Ta med medborgardialogens otrygga platser",
        True,
        key="f_dialogue",
        help="Ett omnämnande väger hälften så mycket som en händelse: det visar otrygghet, inte brott.",
    )
    tiles = _tile_choice(sb)
    return Filters(
        area_id=str(area_id),
        area_name=area_name,
        start=start,
        end=end,
        categories=tuple(categories),
        window=window,
        method=method,
        use_dialogue=use_dialogue,
        tiles=tiles,
        **kwargs,
    )


def _tile_choice(sb) -> str:
    env = os.environ.get("LAGESBILD_TILES", "none").strip() or "none"
    options = dict(TILE_CHOICES)
    if env not in options:
        options[env] = "Intern kartserver"
    keys = list(options)
    return sb.selectbox(
        "Bakgrundskarta",
        keys,
        index=keys.index(env),
        format_func=options.get,
        key="f_tiles",
        help="Utan bakgrundskarta visas områdesgränserna på grå botten; inga kartrutor hämtas.",
    )


# --- cached geo calls -------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _in_area(key: str, area_id: str, _incidents, _areas):
    from geo.io import assign_areas

    area = _areas[_areas[schema.AREA_ID].astype(str) == area_id]
    framed, _outside = assign_areas(_incidents, area)
    return framed[framed[schema.AREA_ID].notna().to_numpy()]


@st.cache_data(show_spinner=False, max_entries=32)
def _filtered(key: str, filters: Filters, _data: Data):
    from geo.timewin import filter_incidents

    inside = _in_area(key, filters.area_id, _data.incidents, _data.areas)
    return filter_incidents(
        inside,
        start=filters.start,
        end=filters.end,
        categories=filters.categories or None,
        window=filters.window,
    )


def incidents_for(data: Data, filters: Filters, *, previous: bool = False) -> gpd.GeoDataFrame:
    """The incidents the filters select (``previous``: the same-length period before)."""
    f = filters.previous() if previous else filters
    return _filtered(data.key, f, data)


def _dialogue_in(data: Data, area_id: str):
    if data.dialogue is None or data.dialogue.empty:
        return None
    area = data.areas[data.areas[schema.AREA_ID].astype(str) == area_id]
    return data.dialogue[data.dialogue.intersects(area.geometry.union_all()).to_numpy()]


@st.cache_data(show_spinner=False, max_entries=32)
def _hotspots(key: str, filters: Filters, _data: Data):
    from geo.analysis import run_hotspots

    incidents = incidents_for(_data, filters)
    area = _data.areas[_data.areas[schema.AREA_ID].astype(str) == filters.area_id]
    kwargs = {"method": filters.method}
    if filters.method == "gistar":
        kwargs.update(cell_size_m=filters.cell_size_m, band_m=filters.band_m)
    else:
        kwargs.update(eps_m=filters.eps_m, min_weight=filters.min_weight)
    return run_hotspots(
        incidents,
        area,
        dialogue=_dialogue_in(_data, filters.area_id) if filters.use_dialogue else None,
        gazetteer=_data.gazetteer,
        **kwargs,
    )


def hotspots(data: Data, filters: Filters):
    """``run_hotspots`` for the filters (cached; a spinner while it runs)."""
    with st.spinner("Beräknar hotspots …"):
        return _hotspots(data.key, filters, data)


def dialogue_for(data: Data, filters: Filters):
    """Dialogue places inside the chosen area (or None)."""
    return _dialogue_in(data, filters.area_id)


# --- selection and errors --------------------------------------------------------------------


def select_zone(zone_id: str | None) -> None:
    st.session_state[SELECTED_ZONE] = None if zone_id is None else str(zone_id)


def selected_zone() -> str | None:
    return st.session_state.get(SELECTED_ZONE)


def show_error(exc: Exception) -> None:
    """Show one of the project's own errors as it is; anything else is a bug and re-raised."""
    from geo.errors import ConflictError, PermissionDenied

    if isinstance(exc, InputError | ConflictError | PermissionDenied):
        st.error(str(exc))
    else:
        raise exc


# --- the map and the zone panel, shared by Karta and Hotspots ---------------------------------


@st.cache_resource(show_spinner=False, max_entries=16)
def _built_map(key: str, filters: Filters, version: tuple | None, _data: Data, _run):
    from geo import inspections as ins
    from geo import maps

    zones = getattr(_run, "zones", None)
    issues = None
    if version is not None:
        ranked = zones is not None and schema.RANK in zones.columns
        issues = ins.flag_near_hotspots(_open_issues(version), zones if ranked else None)
    return maps.hotspot_map(
        _run,
        _data.areas,
        incidents=incidents_for(_data, filters),
        dialogue=dialogue_for(_data, filters),
        focus_area_ids=[filters.area_id],
        tiles=filters.tiles,
        incident_layer="heat",
        issues=issues,
        places=_data.gazetteer,
    )


def build_map(data: Data, filters: Filters, run):
    """The folium map for a run, built once per data set, filters and state of the issues.

    The built map is kept unrendered (``st.cache_resource``) and every run gets a deep
    copy: rendering mutates a folium map (``st_folium`` renames its elements and adds
    header entries), so a map rendered twice sends a broken script, while a copy renders
    exactly as the first time — and copying costs a third of building (0.18 s against
    0.55 s on the demo data). An issue marked on Trygghetsbesiktning changes the key
    (`geo.inspections.issues_version`), so it shows at once. If the database cannot be
    read the map has no issues layer and a warning says why.
    """
    import copy

    version = issues_version(data)
    if version is None:
        st.warning("Trygghetsbesiktningens ärenden kunde inte läsas från databasen.")
    return copy.deepcopy(_built_map(data.key, filters, version, data, run))


# --- the database and the trygghetsbesiktning layer --------------------------------------------


@st.cache_resource(show_spinner="Öppnar databasen …")
def _store(url: str):
    from geo.store import Store

    return Store(url)


def open_store():
    """One ``geo.store.Store`` (engine and pool) per database URL for the whole app process."""
    from geo.store import default_url

    return _store(default_url())


def open_issues(data: Data, zones=None):
    """Open trygghetsbesiktning issues (ny, åtgärd beställd), flagged near the top ``zones``.

    With the demo data the demo round is created on first use, as the Trygghetsbesiktning
    page does. Read again whenever the table changes (one aggregate query a run,
    `issues_version`), so an issue marked on that page shows on the other maps at once.
    If the database cannot be read the maps still work without the layer.
    """
    import sqlalchemy.exc

    from geo import inspections as ins

    try:
        version = issues_version(data)
        if version is None:
            return None
        issues = _open_issues(version)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        st.warning(f"Trygghetsbesiktningens ärenden kunde inte läsas från databasen: {exc}")
        return None
    ranked = zones is not None and schema.RANK in zones.columns
    return ins.flag_near_hotspots(issues, zones if ranked else None)


@st.cache_resource(show_spinner=False)
def _seeded(url: str) -> bool:
    """Seed the demo round once per database and process (not on every page run)."""
    from geo import inspections as ins

    ins.seed_demo(open_store())
    return True


@st.cache_data(show_spinner=False, max_entries=4)
def _open_issues(version: tuple):
    from geo import inspections as ins

    return ins.issues_frame(open_store(), status=[ins.NEW, ins.ORDERED])


def issues_version(data: Data) -> tuple | None:
    """The issues table's fingerprint (`geo.inspections.issues_version`), None if unreadable.

    With the demo data the demo round is created first (once per process).
    """
    import sqlalchemy.exc

    from geo import inspections as ins
    from geo.store import default_url

    try:
        if data.key == "demo":
            _seeded(default_url())
        return (default_url(), *ins.issues_version(open_store()))
    except sqlalchemy.exc.SQLAlchemyError:
        return None


def show_map(data: Data, filters: Filters, run, *, key: str, height: int = 640) -> None:
    """Draw the map; a click inside a zone selects it (found on the server by position).

    Only clicks (`CLICK_FIELDS`) come back from the browser, so panning and zooming never
    rerun the page. The selected zone is outlined through ``feature_group_to_add``, which
    highlights it without rebuilding the map (a rebuild would reset the view).
    """
    from streamlit_folium import st_folium

    from geo import maps

    zones = getattr(run, "zones", None)
    sel = selected_zone()
    if zones is None or sel not in set(zones[schema.ZONE_ID].astype(str)):
        sel = None
    center = zoom = None
    if sel is not None and st.session_state.get(f"{key}_focus") == sel:
        center, zoom = maps.zone_view(zones, sel)
    m = build_map(data, filters, run)
    out = st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=list(CLICK_FIELDS),
        feature_group_to_add=maps.selection_layer(zones, sel) if zones is not None else None,
        center=center,
        zoom=zoom,
    )
    handle_click(out, zones, key=key)


#: What ``st_folium`` sends back from the zone maps: a click on a zone polygon, and a click
#: on the map itself. A click can land on a rank label or a cell above the zone rather
#: than on its polygon; either way the zone is found on the server from the position.
CLICK_FIELDS = ("last_object_clicked", "last_clicked")


def handle_click(out, zones, *, key: str) -> None:
    """Select the zone under a new click (``out`` is what ``st_folium`` returned)."""
    from geo import maps

    if zones is None:
        return
    for kind in CLICK_FIELDS:
        click = (out or {}).get(kind)
        if not click or click == st.session_state.get(f"{key}_{kind}"):
            continue
        st.session_state[f"{key}_{kind}"] = click
        zone_id = maps.zone_at(zones, float(click["lat"]), float(click["lng"]))
        if zone_id is not None and zone_id != selected_zone():
            select_zone(zone_id)
            st.rerun()


def _area_figure(areas, area_id: str) -> str:
    """ "54,0 km² i Järfälla": the area a zone's share and PAI are counted against, or ""."""
    row = areas[areas[schema.AREA_ID].astype(str) == area_id] if areas is not None else None
    if row is None or row.empty:
        return ""
    metric = row if row.crs is not None and row.crs.to_epsg() == 3006 else row.to_crs(3006)
    km2 = float(metric.geometry.area.iloc[0]) / 1e6
    name = row[schema.AREA_NAME].iloc[0] if schema.AREA_NAME in row else area_id
    return f"{km2:.1f} km² i {name}".replace(".", ",")


def show_zone_details(data: Data, filters: Filters, run, zone_id: str) -> None:
    """The panel next to the map: key figures, categories, hours, dialogue, trend, place."""
    import altair as alt

    from geo import maps

    d = maps.zone_details(
        run.zones,
        zone_id,
        incidents_for(data, filters),
        dialogue=dialogue_for(data, filters),
        gazetteer=data.gazetteer,
        start=filters.start,
        end=filters.end,
    )
    z = d.zone
    st.subheader(f"{int(z[schema.RANK])}. {md_escape(z[schema.NAME])}")
    c1, c2, c3 = st.columns(3)
    c1.metric("Händelser", f"{int(z[schema.INCIDENT_COUNT])}")
    share = z.get(schema.SHARE_OF_AREA)
    c2.metric(
        "Andel av området", "–" if share is None or pd.isna(share) else f"{100 * share:.0f} %"
    )
    pai = z.get(schema.PAI)
    c3.metric(
        "PAI",
        "–" if pai is None or pd.isna(pai) else f"{pai:.1f}".replace(".", ","),
        help="Andel händelser delat med andel yta: 10 betyder tio gånger tätare än snittet.",
    )
    against = _area_figure(data.areas, str(z[schema.AREA_ID]))
    if against:
        st.caption(f"Andel och PAI räknas mot {md_escape(against)}.")
    if isinstance(z.get(schema.PEAK_HOURS), str) and z[schema.PEAK_HOURS]:
        st.markdown(f"**Mest:** {md_escape(z[schema.PEAK_HOURS])}")
    if d.nearest:
        name, kind, dist = d.nearest
        st.markdown(
            f"**Närmaste namngivna plats:** {md_escape(name)} ({md_escape(kind)}, {dist:.0f} m)"
        )
    if len(d.by_category):
        st.markdown("**Händelser per kategori**")
        st.dataframe(
            d.by_category.rename("Antal").rename_axis("Kategori").reset_index(),
            hide_index=True,
            width="stretch",
        )
    st.markdown("**Veckodag och timme**")
    long = (
        d.hour_of_week.rename_axis("Dag")
        .reset_index()
        .melt(id_vars="Dag", var_name="Timme", value_name="Antal")
    )
    chart = (
        alt.Chart(long)
        .mark_rect()
        .encode(
            x=alt.X("Timme:O", title="Timme", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "Dag:O",
                title=None,
                sort=list(d.hour_of_week.index),
                axis=alt.Axis(labelOverlap=False),
            ),
            color=alt.Color("Antal:Q", scale=alt.Scale(scheme="reds"), legend=None),
            tooltip=["Dag", "Timme", "Antal"],
        )
        .properties(height=alt.Step(20))
    )
    st.altair_chart(chart, width="stretch")
    if len(d.monthly):
        st.markdown("**Per månad**")
        st.altair_chart(monthly_chart(d.monthly), width="stretch")
    if len(d.dialogue_reasons):
        st.markdown("**Medborgardialogen: otrygga platser i och nära zonen**")
        st.dataframe(
            d.dialogue_reasons.rename(
                columns={
                    schema.REASON_CATEGORY: "Kategori",
                    schema.REASON: "Vad invånarna sa",
                    schema.MENTIONS: "Omnämnanden",
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "Kategori": st.column_config.TextColumn(width="small"),
                "Vad invånarna sa": st.column_config.TextColumn(width="large"),
                "Omnämnanden": st.column_config.NumberColumn(width="small"),
            },
        )


def monthly_chart(monthly: pd.Series):
    """Bars per month with Swedish month names, every month of the period (zeros too)."""
    import altair as alt

    from geo.labels import month_label

    frame = pd.DataFrame(
        {"Månad": [month_label(m) for m in monthly.index], "Antal": monthly.to_numpy()}
    )
    return (
        alt.Chart(frame)
        .mark_bar(color="#b10026")
        .encode(
            x=alt.X("Månad:O", sort=list(frame["Månad"]), title=None,
                    axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("Antal:Q", title="Antal", axis=alt.Axis(tickMinStep=1)),
            tooltip=["Månad", "Antal"],
        )
        .properties(height=170)
    )  # fmt: skip


# --- maps the user clicks or draws on ----------------------------------------------------------


def map_click(m, *, key: str, point_key: str, height: int = 520) -> dict | None:
    """Show ``m`` and return the point the user clicked last (``{"lat", "lng"}``) or None.

    streamlit-folium repeats the last click on every rerun, so only a click that differs
    from the one seen before counts as new; the point is kept in ``session_state[point_key]``
    until :func:`clear_click` (after a save or a cancel). Only ``last_clicked`` comes back
    from the browser: panning and zooming do not rerun the page.
    """
    from streamlit_folium import st_folium

    out = st_folium(
        m, key=key, height=height, use_container_width=True, returned_objects=["last_clicked"]
    )
    click = (out or {}).get("last_clicked")
    seen = f"{key}_last_seen"
    if click and click != st.session_state.get(seen):
        st.session_state[seen] = click
        st.session_state[point_key] = click
    return st.session_state.get(point_key)


def clear_click(point_key: str) -> None:
    """Forget the clicked point kept by :func:`map_click`."""
    st.session_state[point_key] = None


def map_drawings(m, *, key: str, height: int = 480) -> list[dict]:
    """Show ``m`` with the polygon and rectangle tools; return the polygons drawn so far.

    The features are GeoJSON in WGS 84 (``geo.patrol.polygon_from_geojson`` and
    ``geo.compare.drawn_zones`` read them). Before the first drawing, and in AppTest,
    the list is empty.
    """
    from streamlit_folium import st_folium

    from geo import maps

    maps.add_draw(m)
    out = st_folium(
        m, key=key, height=height, use_container_width=True, returned_objects=["all_drawings"]
    )
    return [
        f
        for f in ((out or {}).get("all_drawings") or [])
        if (f.get("geometry") or {}).get("type") in ("Polygon", "MultiPolygon")
    ]


def add_open_issues(m, data: Data, zones=None):
    """Add the open trygghetsbesiktning issues layer to a page's own map; return ``m``."""
    from geo import maps

    issues = open_issues(data, zones)
    if issues is not None and len(issues):
        maps.add_issues(m, issues)
    return m


# --- the ranked zones as a table ---------------------------------------------------------------

#: Swedish names and formats for the automatic choices a hotspot run reports.
CHOICE_LABELS = {
    "cell_size_m": ("Rutstorlek", "{:.0f} m"),
    "band_m": ("Grannavstånd", "{:.0f} m"),
    "dialogue_weight": ("Vikt för ett dialogomnämnande", "{:.1f}"),
    "fdr": ("Korrigering för många test (FDR)", None),
    "min_bin": ("Zongräns", None),
    "eps_m": ("Klusteravstånd", "{:.0f} m"),
    "min_weight": ("Minsta antal i ett kluster", "{:.0f}"),
    "max_zone_km2": ("Största zonyta", "{:g} km²"),
    "min_zone_incidents": ("Minsta antal händelser i en zon", "{:.0f}"),
    "buffer_m": ("Buffert runt klustret", "{:.0f} m"),
    "min_samples": ("Minsta antal i ett kluster", "{:.0f}"),
    "min_cluster_size": ("Minsta klusterstorlek", "{:.0f}"),
    "step": ("Tidssteg", "{:.0f}"),
    "time_steps": ("Grannar i tid", "{:.0f}"),
    "hot_level": ("Het från", None),
    "trend_alpha": ("Signifikansnivå för trenden", "{:g}"),
}
MIN_BIN_TEXT = {
    1: "Rutor som är heta med minst 90 % säkerhet bildar zoner",
    2: "Rutor som är heta med minst 95 % säkerhet bildar zoner",
    3: "Rutor som är heta med minst 99 % säkerhet bildar zoner",
}


#: The scale rules in plain words, shown above the choices (docs/methods.md §2).
SCALE_TEXT = (
    "Varje område räknas på sitt eget rutnät, i den skala en patrull arbetar: rutstorleken "
    "(50–250 m) väljs efter hur tätt händelserna ligger i området, och grannavståndet (högst "
    "1 km) där mönstret syns tydligast."
)


def _choice_text(choice) -> str:
    """One automatic choice as "**Rutstorlek:** 100 m. reason" (Swedish)."""
    name = str(getattr(choice, "name", ""))
    value = getattr(choice, "value", "")
    reason = str(getattr(choice, "reason", ""))
    if name not in CHOICE_LABELS:  # never an internal key: the project's one label table
        from geo.labels import param_label, value_text

        reason = reason[:1].upper() + reason[1:]
        return (
            f"**{param_label(name)}:** {value_text(name, value)}. {md_escape(reason)}".rstrip(". ")
            + "."
        )
    label, fmt = CHOICE_LABELS[name]
    if name == "fdr":
        shown = "ja" if value else "nej"
    elif name == "min_bin":
        shown = f"Gi*-nivå ≥ {int(value)}"
        reason = MIN_BIN_TEXT.get(int(value), reason)
    elif fmt and isinstance(value, int | float):
        shown = fmt.format(value).replace(".", ",")
    else:
        shown = str(value)
    reason = reason[:1].upper() + reason[1:]
    return f"**{label}:** {shown}. {md_escape(reason)}".rstrip(". ") + "."


def show_choices(run, areas=None) -> None:
    """The analysis' automatic choices in plain Swedish, in a closed expander.

    Choices made for the whole analysis come first; those made per area (each area on its own
    grid, ``Choice.area_id``) follow under the area's name from ``areas`` when given.
    """
    choices = list(getattr(run, "choices", []) or [])
    if not choices:
        return
    names = {}
    if areas is not None and len(areas):
        label = schema.AREA_NAME if schema.AREA_NAME in areas else schema.AREA_ID
        names = dict(zip(areas[schema.AREA_ID].astype(str), areas[label].astype(str), strict=True))
    with st.expander("Så räknades hotspotsen"):
        st.markdown(SCALE_TEXT)
        shared = [c for c in choices if getattr(c, "area_id", None) is None]
        for choice in shared:
            st.markdown(_choice_text(choice))
        by_area: dict[str, list] = {}
        for c in choices:
            if getattr(c, "area_id", None) is not None:
                by_area.setdefault(str(c.area_id), []).append(c)
        for area_id, own in by_area.items():
            st.markdown(f"**{md_escape(names.get(area_id, area_id))}**")
            st.markdown("\n".join(f"- {_choice_text(c)}" for c in own))


def zone_table(zones) -> pd.DataFrame:
    """The ranked zones with Swedish column names, ready for ``st.dataframe``."""
    ordered = zones.sort_values(schema.RANK).reset_index(drop=True)

    def col(name, default=float("nan")):
        return ordered[name] if name in ordered.columns else pd.Series(default, index=ordered.index)

    return pd.DataFrame(
        {
            "Rang": ordered[schema.RANK].astype(int),
            "Zon": ordered[schema.NAME].astype(str),
            "Antal": ordered[schema.INCIDENT_COUNT].astype(int),
            "Andel av områdets brott": col(schema.SHARE_OF_AREA) * 100,
            "Topptimmar": col(schema.PEAK_HOURS, "").fillna("").astype(str),
            "Dialogomnämnanden": col(schema.DIALOGUE_MENTIONS, 0).fillna(0).astype(int),
            "PAI": col(schema.PAI),
            "Yta (km²)": col(schema.AREA_KM2),
        }
    )


def zone_table_config() -> dict:
    """``column_config`` for :func:`zone_table`: formats and explanations."""
    return {
        "Rang": st.column_config.NumberColumn(width="small"),
        "Zon": st.column_config.TextColumn(width="medium"),
        "Antal": st.column_config.NumberColumn(
            width="small", help="Händelser i zonen under perioden och tidsfönstret."
        ),
        "Andel av områdets brott": st.column_config.NumberColumn(format="%.0f %%"),
        "Topptimmar": st.column_config.TextColumn(
            width="medium", help="De timmar i veckan då flest händelser sker i zonen."
        ),
        "Dialogomnämnanden": st.column_config.NumberColumn(
            help="Hur många gånger invånarna pekat ut platsen som otrygg i medborgardialogen."
        ),
        "PAI": st.column_config.NumberColumn(
            format="%.1f",
            help="Andel händelser delat med andel yta (Chainey m.fl. 2008): 10 = tio gånger "
            "tätare än snittet i området.",
        ),
        "Yta (km²)": st.column_config.NumberColumn(format="%.2f"),
    }
