"""Medborgarlöften: progress against every target, the activity log, where and when, the
before/after result, forms and import, the residents' report and a draft of next year's promise.

All work goes through `geo.promises`, `geo.report_public`, `geo.compare` and `ui.common`;
this page only draws widgets and shows the project's own errors with ``st.error``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import replace
from pathlib import Path

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import auth as A
from geo import compare, guards, maps, schema
from geo import labels as sv_labels
from geo import promises as pr
from geo import report_public as rp
from geo.errors import ConflictError, InputError
from ui import auth, common, sv

CLICK = "ml_click"  # the map point waiting for the activity form
NOTICE = "ml_notice"
REPORT = "ml_report"  # {(promise_id, fmt): bytes} made by the report button


def _rerun_with(message: str) -> None:
    st.session_state[NOTICE] = message
    st.rerun()


me = auth.require(A.VIEW_MAP, page="medborgarloften")
st.title("Medborgarlöften")
st.caption(
    "Följ upp löftet till invånarna: vad som lovades, vad som har gjorts, var och när, och vad "
    "som har förändrats."
)
common.setup_map_assets()
data = common.get_data()
store = common.open_store()
if data.key == "demo" and pr.seed_demo_promises(store, areas=data.areas):
    st.toast("Demolöftena för Järfälla 2018 och Farsta 2018 har lagts in.")
# The session-wide sidebar: method, zone cap, map and "Ditt namn" apply here too; area,
# period and categories are the promise's own.
filters = common.sidebar_filters(data)
st.sidebar.caption(
    "På den här sidan gäller löftets områden och period; metod, zonyta och bakgrundskarta "
    "hämtas från filtren ovan."
)
tiles = filters.tiles
# The signed-in user is who acts (and the audit actor); only the shared demo user types a
# name ("Ditt namn" in the sidebar, kept for the session), which the audit log keeps as a note.
user = common.user_name(me)
if st.session_state.get(NOTICE):
    st.success(st.session_state.pop(NOTICE))

areas = data.areas
area_names = dict(zip(areas[schema.AREA_ID].astype(str), areas[schema.AREA_NAME], strict=True))
promises = pr.promises_frame(store)

# --- a new promise ------------------------------------------------------------------------------
with st.expander("Lägg in ett nytt medborgarlöfte", expanded=promises.empty):
    with st.form("ml_new_promise"):
        n_title = st.text_input("Rubrik", placeholder="Medborgarlöfte 2019: ...")
        c1, c2 = st.columns(2)
        n_start = sv.date_input(c1, "Från", value=dt.date(dt.date.today().year, 1, 1))
        n_end = sv.date_input(c2, "Till", value=dt.date(dt.date.today().year, 12, 31))
        n_areas = sv.multiselect(st, "Områden", list(area_names), format_func=area_names.get)
        n_partners = sv.multiselect(st, "Parter", list(pr.PARTNERS), accept_new_options=True)
        n_text = st.text_area("Löftets text", placeholder="Vi lovar att ...")
        if st.form_submit_button("Spara löftet") and common.has_name(user, what="lägger in löftet"):
            auth.require(A.MANAGE_PROMISES, step="create_promise")
            try:
                pid = pr.create_promise(
                    store, title=n_title, period_start=n_start, period_end=n_end,
                    area_ids=n_areas, partners=n_partners, text=n_text, created_by=user,
                )  # fmt: skip
                common.choose("ml_promise", pid)
                _rerun_with(f"Löftet ”{common.md_escape(n_title)}” är sparat. Lägg till mål nedan.")
            except InputError as exc:
                common.show_error(exc)

if promises.empty:
    st.info("Det finns inga medborgarlöften ännu. Lägg in ett ovan.")
    st.stop()

labels = dict(zip(promises["id"].astype(int), promises["title"], strict=True))
promise_ids = list(labels)
pid = st.selectbox(
    "Medborgarlöfte", promise_ids, format_func=labels.get,
    **common.kept_widget("ml_promise", promise_ids[0], options=promise_ids),
)  # fmt: skip
record = pr.promise_record(store, pid)
start, end = record["period_start"], record["period_end"]
as_of = sv.date_input(
    st,
    "Läge per dag",
    value=min(dt.date.today(), end),
    min_value=start,
    max_value=end,
    key="ml_as_of",
    help="Välj en dag under perioden för att se om löftet låg i fas då.",
)
status = pr.promise_status(store, pid, areas=areas, as_of=as_of)
for message in status.messages:
    st.warning(message)
st.markdown(
    f"**Period:** {start} – {end} · **Områden:** "
    f"{common.md_escape(', '.join(area_names.get(a, a) for a in record['area_ids']) or '–')}"
    f" · **Parter:** {common.md_escape(', '.join(record['partners']) or '–')}"
)
with st.expander("Löftets text"):
    st.text(record["text"] or "–")

# --- progress ----------------------------------------------------------------------------------
st.header("Så går det")
progress = status.progress
counts = progress[pr.STATUS].value_counts()
cols = st.columns(len(pr.STATUSES))
for col, name in zip(cols, pr.STATUSES, strict=True):
    col.metric(name.capitalize(), int(counts.get(name, 0)))
for row in progress.to_dict("records"):
    st.markdown(f"**{common.md_escape(row[pr.DESCRIPTION])}** — {row[pr.STATUS]}")
    st.progress(float(row[pr.PROGRESS]), text=common.md_escape(row[pr.DETAIL]))
    if row[pr.MISSING]:
        st.caption("Saknas: " + common.md_escape(", ".join(row[pr.MISSING])))
if progress.empty:
    st.info("Löftet har inga mål ännu. Lägg till dem nedan.")

with st.expander("Lägg till ett mål"):
    with st.form("ml_new_target"):
        t_kind = st.selectbox("Typ av mål", list(pr.KIND_LABELS), format_func=pr.KIND_LABELS.get)
        t_desc = st.text_input("Beskrivning", placeholder="Minst tio insatser med synlig närvaro")
        t_type = st.selectbox("Aktivitetstyp", list(pr.ACTIVITY_TYPES))
        t_min = st.number_input("Minsta antal (per område för täckning)", 0, 1000, 1)
        t_evening = st.slider("Minst andel kvällstid (18–06)", 0, 100, 0, 5)
        t_when = sv.multiselect(st, "Räknas bara", list(pr.WHEN_CHOICES))
        t_every = sv.multiselect(st, "Varje kväll dessa veckodagar", list(pr.DAY_NAMES))
        t_cover = sv.multiselect(
            st, "Områden som ska täckas", list(area_names), format_func=area_names.get
        )
        t_due = sv.date_input(st, "Klart senast (engångsuppgift)", value=end)
        if st.form_submit_button("Lägg till målet") and common.has_name(
            user, what="lägger till målet"
        ):
            auth.require(A.MANAGE_PROMISES, step="add_target")
            conditions: dict = {}
            if t_evening:
                conditions["evening_share_min"] = t_evening / 100
            if t_when:
                conditions["when"] = t_when
            if t_every:
                conditions.update(evenings=t_every, every=True)
            spec = pr.TargetSpec(
                t_kind, t_desc, t_type, None if t_every else int(t_min), conditions,
                t_cover, t_due if t_kind == pr.TASK else None,
            )  # fmt: skip
            try:
                pr.add_target(store, pid, spec, editor=user)
                _rerun_with(f"Målet ”{common.md_escape(t_desc)}” är tillagt.")
            except InputError as exc:
                common.show_error(exc)

# --- calendar ----------------------------------------------------------------------------------
st.header("Aktiviteter")
acts = status.activities
if acts.empty:
    st.info("Inga aktiviteter är loggade för löftet ännu.")
else:
    cal = pd.DataFrame(
        {
            "dag": pd.to_datetime(acts[pr.STARTS_AT].dt.tz_convert(schema.TZ).dt.date),
            "typ": acts[pr.ACTIVITY_TYPE],
            "kvällstid": acts[pr.IN_EVENING].map({True: "kväll/natt", False: "dag"}),
            "plats": acts[pr.PLACE_NAME],
        }
    )
    cal["datum"] = cal["dag"].map(sv_labels.date_label)
    chart = (
        alt.Chart(cal)
        .mark_tick(thickness=3, size=18)
        .encode(
            x=alt.X(
                "dag:T",
                title=None,
                scale=alt.Scale(domain=[str(start), str(end)]),
                axis=alt.Axis(labelExpr=sv_labels.VEGA_MONTH_EXPR, tickCount="month"),
            ),
            y=alt.Y("typ:N", title=None),
            color=alt.Color("kvällstid:N", title=None),
            tooltip=["datum", "typ", "kvällstid", "plats"],
        )
        .properties(height=40 + 32 * cal["typ"].nunique())
    )
    st.altair_chart(chart, width="stretch")
    st.dataframe(pr.monthly_counts(acts, start=start, end=end), width="stretch", key="ml_monthly")

# --- map: activities against hotspots ----------------------------------------------------------
st.header("Var och när")
focus = [a for a in record["area_ids"] if a in area_names]
zones = None
if focus:
    before_start = compare.shift_years(start, -1)
    hot_filters = replace(
        filters, area_id=focus[0], area_name=area_names[focus[0]], start=before_start,
        end=start - dt.timedelta(days=1), categories=(schema.VIOLENCE, "narkotikabrott"),
        window="alla",
    )  # fmt: skip
    try:
        zones = common.hotspots(data, hot_filters).zones
    except InputError as exc:
        st.warning(f"Hotspots kunde inte beräknas: {common.md_escape(exc)}")
placed, summary = pr.activities_vs_hotspots(acts, zones)
if zones is not None and len(zones):
    st.caption(
        "Hotspots för våld och narkotika året före löftet, med sina topptimmar: "
        + "; ".join(
            f"{common.md_escape(z[schema.NAME])} ({z.get(schema.PEAK_HOURS) or '–'})"
            for z in zones.sort_values(schema.RANK).head(5).to_dict("records")
        )
    )
    c1, c2, c3 = st.columns(3)
    fmt = lambda v: "–" if pd.isna(v) else f"{100 * v:.0f} %"  # noqa: E731
    c1.metric("I de fem största hotspots", fmt(summary["share_in_zone"]))
    c2.metric("Under deras topptimmar", fmt(summary["share_in_peak"]))
    c3.metric("Både plats och tid", fmt(summary["share_both"]))
m = maps.base_map(areas, tiles=tiles, focus_area_ids=focus or None)
if zones is not None and len(zones):
    maps.add_zones(m, zones[zones[schema.RANK] <= 5])
if data.dialogue is not None and len(data.dialogue) and status.area is not None:
    near = data.dialogue[data.dialogue.intersects(status.area).to_numpy()]
    if len(near):
        maps.add_dialogue(m, near, show=False)
pr.activities_layer(placed).add_to(m)
pr.proposals_layer(pr.proposals_frame(store)).add_to(m)
common.add_open_issues(m, data, zones)
maps.finish_map(m)
common.map_click(m, key="ml_map", point_key=CLICK, height=520)
st.caption("Klicka på kartan för att välja platsen för en ny aktivitet eller ett förslag.")

# --- forms: activity, proposal, import ----------------------------------------------------------
point = st.session_state.get(CLICK)
st.subheader("Logga en aktivitet")
if point:
    st.caption(f"Vald plats: lat {point['lat']:.5f}, lon {point['lng']:.5f}")
with st.form("ml_new_activity"):
    a_type = st.selectbox("Typ", list(pr.ACTIVITY_TYPES))
    c1, c2, c3 = st.columns(3)
    a_day = sv.date_input(c1, "Dag", value=min(max(dt.date.today(), start), end))
    a_from = c2.time_input("Från", value=dt.time(19, 0))
    a_to = c3.time_input("Till", value=dt.time(23, 0))
    a_area = st.selectbox(
        "Område (om ingen plats är vald på kartan)", [""] + list(area_names),
        format_func=lambda a: area_names.get(a, "–"),
    )  # fmt: skip
    a_place = st.text_input("Platsens namn", placeholder="Jakobsbergs station")
    a_actors = sv.multiselect(st, "Aktörer", list(pr.PARTNERS), accept_new_options=True)
    a_notes = st.text_area("Anteckningar (interna, kommer aldrig med i rapporten)")
    if st.form_submit_button("Spara aktiviteten") and common.has_name(
        user, what="lägger in aktiviteten"
    ):
        auth.require(A.LOG_ACTIVITY, step="log_activity")
        begin = dt.datetime.combine(a_day, a_from)
        finish = dt.datetime.combine(a_day, a_to)
        if finish <= begin:
            finish += dt.timedelta(days=1)  # past midnight: the night belongs to the evening
        try:
            pr.add_activity(
                store, created_by=user, activity_type=a_type, promise_id=pid,
                starts_at=begin.isoformat(), ends_at=finish.isoformat(),
                lon=point["lng"] if point else None, lat=point["lat"] if point else None,
                area_id=a_area or None, place_name=a_place, actors=a_actors, notes=a_notes,
            )  # fmt: skip
            common.clear_click(CLICK)
            _rerun_with(f"Aktiviteten ({common.md_escape(a_type)}, {a_day}) är sparad.")
        except (InputError, ConflictError) as exc:
            common.show_error(exc)

with st.expander("Förslag från invånarna (polis för en dag)"):
    with st.form("ml_new_proposal"):
        p_text = st.text_area("Förslaget", placeholder="Vad ska polisen fokusera på?")
        p_day = sv.date_input(st, "Datum", value=min(max(dt.date.today(), start), end))
        if st.form_submit_button("Spara förslaget (på den valda platsen)") and common.has_name(
            user, what="lägger in förslaget"
        ):
            auth.require(A.LOG_ACTIVITY, step="add_proposal")
            try:
                pr.add_proposal(
                    store, text=p_text, created_by=user, proposed_on=p_day,
                    lon=point["lng"] if point else None, lat=point["lat"] if point else None,
                )  # fmt: skip
                _rerun_with("Förslaget är sparat.")
            except InputError as exc:
                common.show_error(exc)

with st.expander("Importera aktiviteter från CSV"):
    st.caption(
        "Kolumner: activity_type och starts_at (krävs), ends_at, lon, lat, area_id, zone_id, "
        "place_name, actors, notes. Tider som 2018-03-16 20:00 (svensk tid)."
    )
    upload = sv.file_uploader(
        st, "CSV-fil", ["csv", "txt"], max_bytes=guards.MAX_BYTES, key="ml_upload"
    )
    if (
        upload is not None
        and st.button("Importera", key="ml_import")
        and common.has_name(user, what="importerar")
    ):
        auth.require(A.IMPORT_DATA, step="import_activities")
        try:
            guards.check_upload(upload.name, upload.size)
        except InputError as exc:
            common.show_error(exc)
            st.stop()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                result = pr.import_activities(store, path, created_by=user, promise_id=pid)
                st.success(f"{result.loaded} av {result.rows} rader sparades.")
                if len(result.rejected):
                    st.error(f"{len(result.rejected)} rader avvisades:")
                    st.dataframe(
                        result.rejected[["row", "reason"]].rename(
                            columns={"row": "rad", "reason": "orsak"}
                        ),
                        hide_index=True,
                    )
            except InputError as exc:
                common.show_error(exc)

# --- before / after -----------------------------------------------------------------------------
st.header("Före och efter")
if status.area is None:
    st.info("Löftets område finns inte bland områdesgränserna; ingen före/efter-jämförelse.")
else:
    after_end = min(end, as_of)
    try:
        coverage = compare.data_coverage(data.incidents)
        before, after = compare.same_months_year_apart(start, after_end, coverage=coverage)
        zone = gpd.GeoDataFrame(
            {schema.ZONE_ID: [str(pid)], schema.NAME: [", ".join(area_names.get(a, a) for a in focus)]},
            geometry=[status.area], crs=schema.CRS_METRIC,
        )  # fmt: skip
        table = compare.compare_zones(
            data.incidents, zone, before=before, after=after,
            categories=(schema.VIOLENCE, "narkotikabrott"), areas=None, coverage=coverage,
        )  # fmt: skip
        row = table.iloc[0]
        c1, c2, c3 = st.columns(3)
        c1.metric(f"Året innan ({before})", int(row[compare.BEFORE_COUNT]))
        c2.metric(
            f"Under löftet ({after})",
            int(row[compare.AFTER_COUNT]),
            f"{row[compare.CHANGE_PCT]:+.0f} %" if pd.notna(row[compare.CHANGE_PCT]) else None,
            delta_color="inverse",
        )
        c3.metric("Bedömning", str(row[compare.VERDICT]))
        st.markdown(common.md_escape(row[compare.VERDICT_TEXT]))
        st.caption(
            "Våld på offentlig plats och narkotikabrott inom löftets område, samma dagar ett år "
            f"tidigare ({coverage.describe()}). "
            + common.md_escape(" ".join(row[compare.WARNINGS] or []))
        )
    except InputError as exc:
        common.show_error(exc)

# --- the residents' report ----------------------------------------------------------------------
st.header("Rapport till invånarna: Följ med i hur det går")
st.caption(
    "Bara sammanräknade uppgifter: inga händelsepunkter, inga anteckningar. Aktiviteterna "
    "visas med sina antal; anmälda brott räknas per hela månader och färre än 5 visas som <5 "
    "(eller döljs, så att inget litet antal kan räknas fram). Varje uttag loggas."
)
made = st.session_state.setdefault(REPORT, {})
c1, c2 = st.columns(2)
for col, fmt_name in ((c1, "html"), (c2, "pdf")):
    if col.button(f"Skapa rapporten som {fmt_name.upper()}", key=f"ml_make_{fmt_name}"):
        auth.require(A.EXPORT_DATA, step="residents_report")
        made[(pid, fmt_name)] = rp.export_report(
            store, pid, fmt=fmt_name, actor=user or "okänd", areas=areas,
            incidents=data.incidents, as_of=as_of,
        )  # fmt: skip
    if (pid, fmt_name) in made:
        col.download_button(
            f"Ladda ned {fmt_name.upper()}", made[(pid, fmt_name)],
            file_name=f"folj-med-i-hur-det-gar-{pid}.{fmt_name}",
            mime="text/html" if fmt_name == "html" else "application/pdf",
            key=f"ml_dl_{fmt_name}",
        )  # fmt: skip

# --- draft of next year's promise ---------------------------------------------------------------
st.header("Utkast till nästa års löfte")
dialogue = None
if data.dialogue is not None and status.area is not None:
    dialogue = data.dialogue[data.dialogue.intersects(status.area).to_numpy()]
draft = st.text_area(
    "Utkast (redigera fritt)",
    value=pr.draft_promise_text(record, zones=zones, dialogue=dialogue, progress=progress),
    height=260,
    key=f"ml_draft_{pid}",
)
if st.button("Spara utkastet som ett nytt löfte", key="ml_save_draft") and common.has_name(
    user, what="sparar utkastet"
):
    auth.require(A.MANAGE_PROMISES, step="save_draft")
    next_start = compare.shift_years(start, 1)
    try:
        new_id = pr.create_promise(
            store, title=f"Utkast: {record['title']} (nästa år)", period_start=next_start,
            period_end=compare.shift_years(end, 1), area_ids=record["area_ids"],
            partners=record["partners"], text=draft, created_by=user,
        )  # fmt: skip
        common.choose("ml_promise", new_id)
        _rerun_with(f"Utkastet är sparat som löfte {new_id}; lägg till mål när det är beslutat.")
    except InputError as exc:
        common.show_error(exc)
