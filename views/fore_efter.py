"""Före/efter: did the promise's actions work, and did crime just move to the surroundings?"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

import streamlit as st

from geo import auth as A
from geo import compare, compare_report, guards, schema
from geo.errors import InputError
from ui import auth, common, sv

ZONE_SOURCES = {
    "before_hotspots": "Hotspotzoner i före-perioden",
    "file": "Zonfil (t.ex. exporterade helgförstärkningszoner)",
    "drawn": "Rita zoner på kartan",
}
PRESETS = {
    "promise": "Året före löftet och löftesåret",
    "same_months": "Samma månader ett år isär",
    "custom": "Egna datum",
}
CELL_SIZES_M = (100, 150, 200, 250, 500)
DRAWN = "fe_drawn"  # session_state: GeoJSON features drawn on the map


@st.cache_data(show_spinner="Jämför före och efter …", max_entries=16)
def _compare(key: str, params: tuple, coverage, _incidents, _zones, _control, _areas):
    before, after, buffer_m, categories, window, source = params
    return compare.compare_zones(
        _incidents,
        _zones,
        before=before,
        after=after,
        buffer_m=buffer_m,
        control=_control,
        areas=_areas,
        categories=list(categories) or None,
        window=window,
        zones_source=source,
        coverage=coverage,
    )


@st.cache_data(show_spinner="Räknar förändring per ruta …", max_entries=8)
def _change(key: str, params: tuple, _incidents, _areas):
    before, after, cell_size_m, categories, window = params
    return compare.change_grid(
        _incidents,
        _areas,
        before=before,
        after=after,
        cell_size_m=cell_size_m,
        categories=list(categories) or None,
        window=window,
    )


@st.cache_data(show_spinner="Läser zonfilen …", max_entries=8)
def _zones_from_bytes(name: str, content: bytes):
    # io reads by suffix, so the upload is saved under its own name in a private folder that
    # is removed as soon as it has been read (once per file, not on every rerun)
    with tempfile.TemporaryDirectory(prefix="lagesbild-") as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(content)
        return compare.read_zones(path)


def _upload_to_zones(upload, *, label: str):
    """Read an uploaded zone file's polygons (size checked first; the file is not kept)."""
    try:
        guards.check_upload(upload.name, upload.size)
        return _zones_from_bytes(upload.name, upload.getvalue())
    except InputError as exc:
        common.show_error(InputError(f"{label}: {exc}"))
        st.stop()


def _coverage(first: dt.date, last: dt.date) -> compare.Coverage:
    """The data's coverage: first and last incident, or the user's "data t.o.m." date."""
    until = sv.date_input(
        st,
        "Data t.o.m.",
        value=last,
        min_value=first,
        key="fe_data_until",
        help="Sista dagen som händelsefilen täcker. Som standard den sista händelsen; ange "
        "dagen uttaget gjordes om de sista dagarna saknar händelser. Perioder som når längre "
        "kortas till datan.",
    )
    return compare.data_coverage(data.incidents, until=None if until == last else until)


def _periods(coverage: compare.Coverage):
    first, last = coverage.first, coverage.last
    preset = st.radio(
        "Perioder", list(PRESETS), format_func=PRESETS.get, horizontal=True, key="fe_preset"
    )
    default_start = dt.date(2018, 3, 1) if first <= dt.date(2018, 3, 1) <= last else last
    if preset == "promise":
        start = sv.date_input(
            st,
            "Löftets insatser började",
            value=default_start,
            key="fe_promise_start",
            help="Före = de 12 månaderna innan, efter = de 12 månaderna från och med dagen. "
            "Slutar datan tidigare slutar efterperioden där, och föreperioden är samma dagar "
            "ett år tidigare.",
        )
        return compare.promise_year_presets(start, coverage=coverage)
    if preset == "same_months":
        span = sv.date_input(
            st,
            "Efterperiod (före = samma dagar ett år tidigare)",
            value=(default_start, min(last, default_start + dt.timedelta(days=90))),
            key="fe_same_months",
        )
        if not isinstance(span, tuple | list) or len(span) != 2:
            st.info("Välj både start- och slutdatum.")
            st.stop()
        return compare.same_months_year_apart(span[0], span[1], coverage=coverage)
    left, right = st.columns(2)
    spans = []
    for column, label, default in (
        (left, "Före", (first, default_start - dt.timedelta(days=1))),
        (right, "Efter", (default_start, last)),
    ):
        span = sv.date_input(column, label, value=default, key=f"fe_custom_{label}")
        if not isinstance(span, tuple | list) or len(span) != 2:
            st.info("Välj både start- och slutdatum för båda perioderna.")
            st.stop()
        spans.append(compare.Period(span[0], span[1]))
    return spans[0], spans[1]


def _drawn_zones(data: common.Data, area, tiles: str):
    from geo import maps

    m = maps.finish_map(maps.base_map(area, tiles=tiles))
    st.caption("Rita en eller flera zoner med polygon- eller rektangelverktyget.")
    drawings = common.map_drawings(m, key="fe_draw_map", height=420)
    if drawings:  # empty before the first drawing (and in tests): keep what was drawn
        st.session_state[DRAWN] = drawings
    if st.session_state.get(DRAWN) and st.button("Ta bort ritade zoner", key="fe_clear_drawn"):
        st.session_state[DRAWN] = []
    return compare.drawn_zones(st.session_state.get(DRAWN))


auth.require(A.RUN_COMPARE, page="fore_efter")
st.title("Före/efter")
common.setup_map_assets()
data = common.get_data()
filters = common.sidebar_filters(data)
st.caption(
    "Jämför antal händelser i zoner före och efter insatserna, per 30 dagar, och om brotten "
    "flyttade till närområdet. Perioden i sidopanelen används inte här: välj perioderna nedan."
)
local_days = data.incidents[schema.OCCURRED_AT].dt.tz_convert(schema.TZ)
try:
    coverage = _coverage(local_days.min().date(), local_days.max().date())
    periods = compare.cover_periods(*_periods(coverage), coverage)
except InputError as exc:
    common.show_error(exc)
    st.stop()
before, after = periods.before, periods.after
st.write(
    f"**Före:** {before.start} – {before.end} ({before.days} dagar) · "
    f"**Efter:** {after.start} – {after.end} ({after.days} dagar) · "
    f"{coverage.describe().capitalize()}"
)
for line in periods.warnings:
    st.warning(line)

area = data.areas[data.areas[schema.AREA_ID].astype(str) == filters.area_id]
source = st.radio(
    "Zoner att utvärdera", list(ZONE_SOURCES), format_func=ZONE_SOURCES.get, key="fe_source"
)
if source == "before_hotspots":
    before_filters = dataclasses.replace(filters, start=before.start, end=before.end)
    zones = common.hotspots(data, before_filters).zones
    if zones is None or zones.empty:
        st.info("Inga hotspotzoner i före-perioden för valet i sidopanelen.")
        st.stop()
elif source == "file":
    upload = sv.file_uploader(
        st,
        "Zonfil (GeoJSON, GeoPackage, zippad Shapefile)",
        ["geojson", "json", "gpkg", "zip"],
        max_bytes=guards.MAX_BYTES,
        key="fe_zone_file",
    )
    if upload is None:
        st.info("Ladda upp en fil med zonpolygoner.")
        st.stop()
    zones = _upload_to_zones(upload, label="Zonfilen")
else:
    zones = _drawn_zones(data, area, filters.tiles)
    if zones.empty:
        st.info("Rita minst en zon på kartan.")
        st.stop()

left, right = st.columns(2)
buffer_m = left.number_input(
    "Närområde: ringens bredd (meter)",
    min_value=50,
    max_value=2000,
    value=int(compare.DEFAULT_BUFFER_M),
    step=50,
    key="fe_buffer",
    help="Ringen runt varje zon där förskjutning mäts (Bowers & Johnson 2003).",
)
control_choice = right.radio(
    "Kontrollområde",
    ["rest", "file"],
    format_func={
        "rest": f"Resten av {common.md_escape(filters.area_name)}",
        "file": "Egen fil",
    }.get,
    key="fe_control",
    help="Området som visar den allmänna utvecklingen, utan zoner och närområden.",
)
control = None
if control_choice == "file":
    control_upload = sv.file_uploader(
        right,
        "Kontrollområde (polygoner)",
        ["geojson", "json", "gpkg", "zip"],
        max_bytes=guards.MAX_BYTES,
        key="fe_ctrl_file",
    )
    if control_upload is None:
        st.info("Ladda upp kontrollområdet, eller välj resten av området.")
        st.stop()
    control = _upload_to_zones(control_upload, label="Kontrollfilen")

window = None if filters.window == "alla" else filters.window
params = (periods.requested_before, periods.requested_after, float(buffer_m), filters.categories,
          window, source)  # fmt: skip
EXPORT_KEYS = ("before", "after", "buffer_m", "categories", "window", "zones")  # audit log
zone_key = ",".join(zones[schema.ZONE_ID].astype(str)) + str(zones.total_bounds)
key = f"{data.key}|{filters.area_id}|{zone_key}|{None if control is None else control.total_bounds}"
try:
    table = _compare(key, params, coverage, data.incidents, zones, control, area)
except InputError as exc:
    common.show_error(exc)
    st.stop()

st.subheader("Bedömning")
st.caption(
    f"{common.md_escape(filters.area_name)} · "
    f"{', '.join(filters.categories) or 'alla kategorier'} · "
    f"{filters.window_label()}"
)
zone_rows = table[table[compare.KIND] == "zon"]
for rec in table.to_dict("records"):
    kind = "Zon" if rec[compare.KIND] == "zon" else "Område"
    st.markdown(
        f"**{common.md_escape(rec[schema.NAME])}** ({kind.lower()}) – "
        f"{common.md_escape(rec[compare.VERDICT_TEXT])}"
    )
    with st.expander(f"Siffrorna bakom: {rec[schema.NAME]}"):
        st.dataframe(compare_report.figures(rec), hide_index=True, width="stretch")
        if isinstance(rec.get(compare.WDQ_NOTE), str):
            st.caption(common.md_escape(rec[compare.WDQ_NOTE]))
        if rec.get(compare.CONTROL_NAME):
            st.caption(f"Kontrollområde: {common.md_escape(rec[compare.CONTROL_NAME])}")
st.caption(compare_report.correction_text(len(zone_rows)))
for line in compare_report.warning_lines(table):
    if line not in periods.warnings:  # the period warnings stand above
        st.warning(common.md_escape(line))
with st.expander("Så läser du måtten (WDQ, WDD, Success, Buffer)"):
    for heading, text in compare_report.GUIDE:
        st.markdown(f"**{heading}.** {text}")

st.subheader("Resultat")
st.dataframe(
    compare_report.summary_table(table),
    hide_index=True,
    width="stretch",
    # the verdict is the column people read: wide enough for "ingen säker förändring"
    column_config={"Bedömning": st.column_config.TextColumn(width="large")},
)
with st.expander("Alla siffror"):
    st.dataframe(table.rename(columns=compare.COLUMN_LABELS_SV), hide_index=True, width="stretch")

st.subheader("Förändring per ruta")
cell_size_m = st.select_slider(
    "Rutstorlek (meter)", options=CELL_SIZES_M, value=200, key="fe_cell_size"
)
cells = _change(
    f"{data.key}|{filters.area_id}",
    (before, after, float(cell_size_m), filters.categories, window),
    data.incidents,
    area,
)
from streamlit_folium import st_folium  # noqa: E402 - only this page section needs it

st.markdown(f"**Före** ({before.start} – {before.end}) · **Efter** ({after.start} – {after.end})")
st_folium(
    compare_report.period_maps(cells, area, zones=zones, buffer_m=buffer_m, tiles=filters.tiles),
    key="fe_period_maps",
    height=540,
    use_container_width=True,
    returned_objects=[],
)
st.caption(
    "Vänster: före, höger: efter. Händelser per 30 dagar per ruta på samma färgskala; grått: "
    "färre än 5 händelser i perioden. Kartorna följer varandra när du panorerar och zoomar."
)
st.markdown("**Förändring**")
st_folium(
    common.add_open_issues(
        compare_report.change_map(cells, area, zones=zones, buffer_m=buffer_m, tiles=filters.tiles),
        data,
        zones,
    ),
    key="fe_change_map",
    height=480,
    use_container_width=True,
    returned_objects=[],
)
st.caption(
    "Blått: färre händelser per 30 dagar efter än före; rött: fler. Grått: färre än 5 "
    "händelser i båda perioderna (dolt)."
)

st.subheader("Utveckling över tid")
freq = st.radio(
    "Per",
    ["W", "MS"],
    format_func={"W": "vecka", "MS": "månad"}.get,
    horizontal=True,
    key="fe_freq",
)
series = compare.trend(
    data.incidents,
    zones,
    freq=freq,
    start=before.start,
    end=after.end,
    categories=list(filters.categories) or None,
    window=window,
    coverage=coverage,
)
chart = compare_report.trend_chart_png(series, intervention=after.start)
st.image(
    chart,
    caption="Streckad linje: insatserna börjar (efterperiodens första dag). Ofyllda punkter: "
    "veckor eller månader med bara delvis data.",
)

st.subheader("Ladda ner")
left, right = st.columns(2)
auth.download_button(
    left,
    "Tabell (CSV)",
    lambda: compare_report.comparison_csv(table),
    what="compare",
    fmt="csv",
    params=dict(zip(EXPORT_KEYS, params, strict=True)),
    file_name=f"fore_efter_{after.start}.csv",
    mime="text/csv",
)
auth.download_button(
    right,
    "Rapport (PDF)",
    what="compare",
    fmt="pdf",
    params=dict(zip(EXPORT_KEYS, params, strict=True)),
    data=lambda: compare_report.comparison_pdf(
        table,
        periods=periods,
        series=series,
        cells=cells,
        areas=area,
        zones=zones,
        area_label=filters.area_name,
        parameters={
            "Zoner": ZONE_SOURCES[source],
            "Närområde (buffert)": f"{buffer_m} m",
            "Kontrollområde": "egen fil"
            if control is not None
            else f"resten av {filters.area_name}",
            "Kategorier": ", ".join(filters.categories) or "alla",
            "Tidsfönster": filters.window_label(),
        },
    ),
    file_name=f"fore_efter_{after.start}.pdf",
    mime="application/pdf",
)
