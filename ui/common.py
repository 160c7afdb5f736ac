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
``SELECTED_ZONE``, ``select_zone(zone_id, zones)``, ``selected_zone(zones)``
    The zone selected on the map or in the hotspot table (shared session_state key), so
    table and map stay in step. A selection names the zone by its id *and* its shape: after
    a method or filter change the same id may mean another zone, and then nothing is selected.
``kept_widget(key, default, options=...)``, ``choose(key, value)``, ``chosen(key)``
    Session-wide widget state: the value of a keyed widget is kept under ``KEPT`` and put
    back before the widget is drawn, so it survives page changes (Streamlit forgets the
    state of a widget that is not drawn in a run) and changed option labels (a selectbox
    matches its value by label). ``choose`` selects a record by its id, e.g. the round just
    started.
``name_field()``, ``user_name(me)``, ``has_name(user, what=...)``
    "Ditt namn" in the sidebar (demo mode only; a signed-in user acts under the account
    name), kept for the whole session, and the message that points to it when it is empty.
``show_data_status(data)``
    Which data this session uses: one line, on every page.
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
from geo.zones import DEFAULT_MAX_ZONE_KM2
from ui import sv

ROOT = Path(__file__).resolve().parents[1]

#: session_state keys shared between pages.
SELECTED_ZONE = "lagesbild_selected_zone"
SELECTED_SHAPE = "lagesbild_selected_zone_shape"  # the selected zone's rounded bounds
UPLOAD = "lagesbild_upload"
KEPT = "lagesbild_kept"  # {widget key: value}: widget state kept across reruns and pages
NAME = "f_user"  # the key of "Ditt namn"
DEMO_LABEL = "demodata (syntetisk, ungefärliga gränser)"

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
    pending: tuple[str, ...] = ()  # uploaded kinds waiting for an incidents file

    @property
    def is_demo(self) -> bool:
        return self.key == "demo"


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
    eps_m: float | None = 150.0  # DBSCAN only; HDBSCAN chooses its own
    min_weight: float = 10.0
    use_dialogue: bool = True
    tiles: str = "none"
    max_zone_km2: float = DEFAULT_MAX_ZONE_KM2

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
    """This session's data: the Data page's uploads as a whole, or else the demo data.

    Uploaded incidents replace the demo data entirely: its dialogue places, boundaries
    and gazetteer are not mixed in. Without uploaded boundaries the study area is the
    incidents' extent (``geo.patrol.study_area``); without an uploaded gazetteer zones are
    named by rank and area. Boundaries or dialogue places uploaded before any incidents
    wait for them (``Data.pending``) while the demo data stays in use.
    """
    upload = st.session_state.get(UPLOAD)
    frames = dict(upload["frames"]) if upload else {}
    if frames.get("incidents") is None:
        try:
            demo = dict(_demo_frames())
        except InputError as exc:
            show_error(exc)
            st.stop()
        return Data(
            key="demo",
            label=DEMO_LABEL,
            incidents=demo["incidents"],
            areas=demo["areas"],
            dialogue=demo.get("dialogue"),
            gazetteer=demo.get("gazetteer"),
            reports=demo.get("reports", {}),
            pending=tuple(k for k, v in frames.items() if v is not None),
        )
    from geo.patrol import study_area

    key = "upload-" + upload["key"]
    areas = frames.get("areas")
    if areas is None:
        areas = study_area(frames["incidents"])
    names = upload.get("names", {})
    label = "uppladdade filer: " + "; ".join(
        f"{UPLOAD_KINDS.get(k, k)} ({names.get(k, 'fil')})"
        for k in UPLOAD_KINDS
        if frames.get(k) is not None
    )
    if frames.get("areas") is None:
        label += "; inga gränser (studieområdet är händelsernas utbredning)"
    return Data(
        key=key,
        label=label,
        incidents=_flag_centre_points(key, frames["incidents"], areas),
        areas=areas,
        dialogue=frames.get("dialogue"),
        gazetteer=frames.get("gazetteer"),
        reports=upload.get("reports", {}),
    )


#: What the Data page takes, in the order the status line names it.
UPLOAD_KINDS = {
    "incidents": "händelser",
    "dialogue": "otrygga platser",
    "areas": "gränser",
    "gazetteer": "ortnamn",
}


def show_data_status(data: Data, where=None) -> None:
    """One line saying which data this session uses (the sidebar unless ``where``)."""
    where = st.sidebar if where is None else where
    text = f"Data: {md_escape(data.label)}"
    if data.pending:
        waiting = ", ".join(UPLOAD_KINDS.get(k, k) for k in data.pending)
        text += (
            f". Uppladdade {md_escape(waiting)} väntar på en händelsefil: ladda upp händelser "
            "på sidan Data så ersätts demodatan."
        )
    where.caption(text)


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


# --- session-wide widget state ----------------------------------------------------------------


def _kept() -> dict:
    return st.session_state.setdefault(KEPT, {})


def chosen(key: str, default=None):
    """The kept value of the widget ``key`` (``default`` before it was first drawn)."""
    return _kept().get(key, default)


def choose(key: str, value) -> None:
    """Make ``value`` the choice of the widget ``key`` from its next draw on.

    Selects a record by its identity, e.g. the round just started, before the rerun.
    """
    _kept()[key] = value


def _remember(key: str) -> None:
    _kept()[key] = st.session_state.get(key)


def kept_widget(key: str, default, *, options=None, valid=None) -> dict:
    """Prepare the keyed widget ``key`` so that its value lasts the whole session.

    Streamlit drops the state of a widget that a run does not draw (every page change) and
    matches a selectbox's value by its *label* (a label that changes, "… – ny" becoming
    "… – åtgärdad", falls back to the first option). So the value is kept under ``KEPT``,
    put back into ``st.session_state[key]`` before the widget is drawn, and updated by the
    widget's ``on_change``. Call it right before the widget and pass what it returns::

        st.selectbox("Ärende", ids, format_func=labels.get, **kept_widget("tb_issue", ids[0],
                     options=ids))

    Draw the widget without ``value``/``index``/``default``: the value comes from here.

    Parameters
    ----------
    key : str
        The widget's key (the same on every page that shows it).
    default
        The value before the user chose one, and when the kept value is no longer valid.
    options : sequence, optional
        The widget's options: a kept value not among them falls back to ``default`` (a
        list, as from a multiselect, keeps the values still offered).
    valid : callable, optional
        ``value -> value``, e.g. clamping a number or a period to the widget's limits.

    Returns
    -------
    dict
        ``key``, ``on_change`` and ``args`` for the widget call.
    """
    kept = _kept()
    if key in kept:
        value = kept[key]
    elif key in st.session_state:  # set before the first draw (a test, another page)
        value = st.session_state[key]
    else:
        value = default
    if options is not None:
        offered = list(options)
        if isinstance(default, list):
            value = [v for v in (value or []) if v in offered]
        elif value not in offered:
            value = default if default in offered else (offered[0] if offered else None)
    if valid is not None:
        value = valid(value)
    kept[key] = value
    st.session_state[key] = value
    return {"key": key, "on_change": _remember, "args": (key,)}


def name_field() -> str:
    """ "Ditt namn" in the sidebar (demo mode), kept for the session; returns it stripped.

    With a signed-in user nothing is drawn: the account name is who acts.
    """
    from ui.auth import IDENTITY

    identity = st.session_state.get(IDENTITY)
    if identity is not None and getattr(identity, "mode", "demo") != "demo":
        return str(identity.username)
    st.sidebar.text_input(
        "Ditt namn",
        placeholder="t.ex. Anna, kommunen",
        help="Sparas som den som markerade, ändrade eller loggade något. Gäller på alla sidor.",
        **kept_widget(NAME, ""),
    )
    return str(st.session_state.get(NAME) or "").strip()


#: The message when "Ditt namn" is empty: where the field is.
NAME_MISSING = (
    "Skriv ditt namn i fältet **Ditt namn** längst ned i sidopanelen till vänster och "
    "försök igen: namnet sparas som den som {what}."
)


def user_name(me) -> str:
    """Who acts: the signed-in user, or the demo user's kept "Ditt namn" ("" if empty)."""
    if me is not None and getattr(me, "mode", "demo") != "demo":
        return str(me.username)
    return str(st.session_state.get(NAME) or _kept().get(NAME) or "").strip()


def has_name(user: str, *, what: str, where=None) -> bool:
    """True when ``user`` is set; otherwise an error that points to "Ditt namn"."""
    if user:
        return True
    (where or st).error(NAME_MISSING.format(what=what), icon="👈")
    return False


# --- sidebar --------------------------------------------------------------------------------

#: The sidebar's number inputs: (smallest, largest, default, step). The band starts at the
#: cell size (``geo.grid`` refuses a smaller one: no cell would have a neighbour).
CELL_INPUT = (50, 1000, 150, 25)
BAND_INPUT = (None, 3000, 400, 25)
EPS_INPUT = (25, 1000, 150, 25)
MIN_WEIGHT_INPUT = (2, 500, 10, 1)
ZONE_CAP_INPUT = (0.01, 5.0, DEFAULT_MAX_ZONE_KM2, 0.05)


def _clamp(low, high):
    def clamp(value):
        try:
            return min(max(type(low)(value), low), high)
        except (TypeError, ValueError):
            return low

    return clamp


def _number(sb, label, key, limits, *, low=None, help=None):
    lo, hi, default, step = limits
    lo = lo if low is None else low
    return sb.number_input(
        label,
        min_value=lo,
        max_value=hi,
        step=step,
        help=help,
        **kept_widget(key, max(default, lo), valid=_clamp(lo, hi)),
    )


#: Sidebar choices that belong to one data set: a new data set starts from its defaults.
DATA_CHOICES = ("f_area", "f_period", "f_categories")
_DATA_KEY = "_data_key"


def _forget_on_new_data(data: Data) -> None:
    kept = _kept()
    if kept.get(_DATA_KEY) == data.key:
        return
    for key in DATA_CHOICES:
        kept.pop(key, None)
        st.session_state.pop(key, None)
    kept[_DATA_KEY] = data.key


@st.cache_data(show_spinner=False, max_entries=8)
def _busiest(key: str, _incidents, _areas) -> str | None:
    from geo.spatial import locate_points

    if not len(_incidents) or not len(_areas):
        return None
    xy = _incidents.geometry.get_coordinates()
    where = locate_points(xy["x"].to_numpy(), xy["y"].to_numpy(), _areas.geometry.values)
    counts = pd.Series(where[where >= 0]).value_counts()
    return None if counts.empty else str(_areas[schema.AREA_ID].iloc[int(counts.index[0])])


def _default_area(data: Data, choices: pd.DataFrame) -> str | None:
    """The first police area (demo: Järfälla); with uploaded data, of the areas at the top
    level, the one holding the most incidents (a stadsdel file lists Bagarmossen first)."""
    if choices.empty:
        return None
    ids = choices[schema.AREA_ID].astype(str)
    if data.is_demo:
        return ids.iloc[0]
    top = data.areas[data.areas[schema.AREA_ID].astype(str).isin(
        ids[choices[schema.LEVEL] == choices[schema.LEVEL].iloc[0]]
    )]  # fmt: skip
    return _busiest(data.key, data.incidents, top) or ids.iloc[0]


def zone_cap_field() -> float:
    """ "Största zonyta (km²)" in the sidebar, kept for the session (default 0,25 km²)."""
    return float(
        _number(
            st.sidebar,
            "Största zonyta (km²)",
            "f_zone_cap",
            ZONE_CAP_INPUT,
            help="Zoner större än så delas kring sina toppar, så att en patrull kan täcka dem. "
            f"Standard {str(DEFAULT_MAX_ZONE_KM2).replace('.', ',')} km² (ungefär 500 × 500 m).",
        )
    )


def sidebar_filters(data: Data) -> Filters:
    """Draw the sidebar and return the choices (see the module docstring for the defaults).

    Every choice is kept for the session (`kept_widget`): a page change keeps area,
    period, categories, window, method, its parameters, zone cap, map and name.
    """
    from geo.timewin import WINDOWS, parse_window

    sb = st.sidebar
    show_data_status(data)
    _forget_on_new_data(data)
    choices = top_areas(data.areas)
    labels = {str(r[schema.AREA_ID]): _area_label(r) for _, r in choices.iterrows()}
    ids = list(labels)
    area_id = sb.selectbox(
        "Område",
        ids,
        format_func=labels.get,
        help="Lokalpolisområde, kommun eller stadsdel. Hotspots rangordnas inom området.",
        **kept_widget("f_area", _default_area(data, choices), options=ids),
    )
    area_name = str(
        choices.loc[choices[schema.AREA_ID].astype(str) == area_id, schema.AREA_NAME].iloc[0]
    )

    times = data.incidents[schema.OCCURRED_AT]
    last = times.max().date() if len(times) else dt.date.today()
    first = times.min().date() if len(times) else last - dt.timedelta(days=365)
    default_start = max(first, last - dt.timedelta(days=364))

    def in_data(value):
        dates = [d for d in (value if isinstance(value, tuple | list) else ()) if d]
        if not dates or not all(isinstance(d, dt.date) for d in dates):
            return (default_start, last)
        if dates[0] > last or dates[-1] < first:  # a period of other data: start afresh
            return (default_start, last)
        return tuple(min(max(d, first), last) for d in dates[:2])

    period = sv.date_input(
        sb,
        "Period",
        min_value=first,
        max_value=last,
        format="YYYY-MM-DD",
        help="Standard: de senaste 12 månaderna i datan. Jämförelsen görs mot lika lång period "
        "före. Välj start- och slutdag i kalendern; en inskriven dag gäller när du trycker "
        "Enter eller lämnar fältet.",
        **kept_widget("f_period", (default_start, last), valid=in_data),
    )
    start, end = (
        (period[0], period[-1])
        if isinstance(period, tuple | list) and period
        else (default_start, last)
    )

    present = [c for c in schema.CATEGORIES if c in set(data.incidents[schema.CATEGORY].unique())]
    offered = present or list(schema.CATEGORIES)
    categories = sv.multiselect(
        sb,
        "Brottskategorier",
        offered,
        **kept_widget(
            "f_categories",
            [schema.VIOLENCE] if schema.VIOLENCE in present else present[:1],
            options=offered,
        ),
    )

    names = list(WINDOWS)
    custom = "eget tidsfönster …"
    window = sb.selectbox(
        "Tidsfönster",
        names + [custom],
        help="En natt räknas till kvällen den började: fredag 23:30 och lördag 02:00 är båda fredagsnatt.",
        **kept_widget(
            "f_window",
            "kväll och natt" if "kväll och natt" in names else names[0],
            options=names + [custom],
        ),
    )
    if window == custom:
        text = sb.text_input("Eget tidsfönster", **kept_widget("f_window_text", "fre,lör 18-03"))
        try:
            parse_window(text)
            window = text
        except (ValueError, InputError) as exc:
            sb.error(str(exc))
            window = "alla"

    method = sb.radio(
        "Metod",
        list(METHODS),
        format_func=METHODS.get,
        horizontal=False,
        **kept_widget("f_method", "gistar", options=list(METHODS)),
    )
    sb.caption(METHOD_HELP[method])
    kwargs: dict = {}
    if method == "gistar":
        auto = sb.checkbox(
            "Välj rutstorlek och grannavstånd automatiskt", **kept_widget("f_auto", True)
        )
        if not auto:
            cell = float(
                _number(
                    sb, "Rutstorlek (m)", "f_cell", CELL_INPUT, help="Sidan på varje ruta i meter."
                )
            )
            kwargs["cell_size_m"] = cell
            kwargs["band_m"] = float(
                _number(
                    sb,
                    "Grannavstånd (m)",
                    "f_band",
                    BAND_INPUT,
                    low=int(cell),
                    help="Rutor vars mittpunkter ligger närmare än så räknas som grannar; minst "
                    "rutstorleken, annars har ingen ruta en granne.",
                )
            )
    else:
        if method == "dbscan":  # HDBSCAN chooses its own distance
            kwargs["eps_m"] = float(
                _number(
                    sb,
                    "Avstånd (m)",
                    "f_eps",
                    EPS_INPUT,
                    help="Hur nära händelser ska ligga för att räknas till samma kluster.",
                )
            )
        else:
            kwargs["eps_m"] = None
        kwargs["min_weight"] = float(
            _number(
                sb,
                "Minsta antal händelser",
                "f_minw",
                MIN_WEIGHT_INPUT,
                help="Så många händelser (viktade) behövs för att bilda ett kluster.",
            )
        )
    max_zone_km2 = zone_cap_field()
    use_dialogue = sb.checkbox(
        "Ta med medborgardialogens otrygga platser",
        help="Ett omnämnande väger hälften så mycket som en händelse: det visar otrygghet, inte brott.",
        **kept_widget("f_dialogue", True),
    )
    tiles = _tile_choice(sb)
    name_field()
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
        max_zone_km2=max_zone_km2,
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
        format_func=options.get,
        help="Utan bakgrundskarta visas områdesgränserna på grå botten; inga kartrutor hämtas.",
        **kept_widget("f_tiles", env, options=keys),
    )


def tile_choice() -> str:
    """ "Bakgrundskarta" alone in the sidebar (pages without the filters), kept for the session."""
    return _tile_choice(st.sidebar)


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
    kwargs = {"method": filters.method, "max_zone_km2": filters.max_zone_km2}
    if filters.method == "gistar":
        kwargs.update(cell_size_m=filters.cell_size_m, band_m=filters.band_m)
    elif filters.method == "dbscan":
        kwargs.update(eps_m=filters.eps_m, min_weight=filters.min_weight)
    else:  # HDBSCAN chooses its own distance
        kwargs.update(min_weight=filters.min_weight)
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


def _zone_shape(zones, zone_id) -> tuple | None:
    """What identifies a zone beside its id: its bounds, rounded to the metre."""
    if zones is None or zone_id is None or schema.ZONE_ID not in zones.columns:
        return None
    row = zones[zones[schema.ZONE_ID].astype(str) == str(zone_id)]
    if row.empty:
        return None
    return tuple(round(float(v)) for v in row.geometry.iloc[0].bounds)


def zones_token(zones) -> str:
    """A short digest of the zones' ids and shapes: a key for widgets that list them."""
    import hashlib

    if zones is None or zones.empty:
        return "none"
    bounds = zones.geometry.bounds.round().astype(int).astype(str).agg(",".join, axis=1)
    parts = zones[schema.ZONE_ID].astype(str) + ":" + bounds
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def select_zone(zone_id: str | None, zones=None) -> None:
    """Select the zone ``zone_id`` of ``zones`` (its id and shape), or nothing."""
    st.session_state[SELECTED_ZONE] = None if zone_id is None else str(zone_id)
    st.session_state[SELECTED_SHAPE] = _zone_shape(zones, zone_id)


def selected_zone(zones=None) -> str | None:
    """The selected zone's id if it is among ``zones`` as the same place, else None.

    Zone ids are ``area-rank``: after a method or filter switch "lpo-jarfalla-1" can be
    another place, so the id counts only while the zone's shape is the one selected.
    """
    zone_id = st.session_state.get(SELECTED_ZONE)
    if zones is None or zone_id is None:
        return zone_id
    shape = st.session_state.get(SELECTED_SHAPE)
    now = _zone_shape(zones, zone_id)
    if now is None or (shape is not None and now != shape):
        return None
    return zone_id


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

    Kept as an object (``st.cache_resource``): a filter seen before redraws without
    building the map again, and an issue marked on Trygghetsbesiktning changes the key
    (`geo.inspections.issues_version`), so it shows at once. If the database cannot be
    read the map has no issues layer and a warning says why.
    """
    version = issues_version(data)
    if version is None:
        st.warning("Trygghetsbesiktningens ärenden kunde inte läsas från databasen.")
    return _built_map(data.key, filters, version, data, run)


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
    sel = selected_zone(zones)
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
        if zone_id is not None and zone_id != selected_zone(zones):
            select_zone(zone_id, zones)
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
    label, fmt = CHOICE_LABELS.get(name, (name, None))
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
