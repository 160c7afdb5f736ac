"""Trygghetsbesiktning: start a round, mark issues on the map, follow them to fixed, export.

All work goes through `geo.inspections` on the project database (`geo.store.Store`); this
page only draws widgets and shows the project's own errors with ``st.error``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo import auth as A
from geo import inspections as ins
from geo import maps, schema
from geo.errors import ConflictError, InputError
from ui import auth, common, sv

CLICK = "tb_click"  # the map point waiting for the "mark an issue" form
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]
NOTICE = "tb_notice"  # a success message to show after the rerun that follows a save


def _rerun_with(message: str) -> None:
    st.session_state[NOTICE] = message
    st.rerun()


me = auth.require(A.VIEW_MAP, page="trygghetsbesiktning")
st.title("Trygghetsbesiktning")
st.caption(
    "Markera brister i den fysiska miljön (belysning, skymd sikt, klotter …) på kartan och "
    "följ dem tills de är åtgärdade."
)
common.setup_map_assets()
data = common.get_data()
filters = common.sidebar_filters(data)
store = common.open_store()
if data.key == "demo" and ins.seed_demo(store):
    st.toast("En demorunda vid Jakobsbergs station har skapats.")

user = common.user_name(me)  # "Ditt namn" is drawn by sidebar_filters, kept for the session
if st.session_state.get(NOTICE):
    st.success(st.session_state.pop(NOTICE))

# --- rounds ---------------------------------------------------------------------------------
rounds = ins.rounds_frame(store)
with st.expander("Starta en ny besiktningsrunda", expanded=rounds.empty):
    areas = common.top_areas(data.areas)
    area_labels = dict(zip(areas[schema.AREA_ID].astype(str), areas[schema.AREA_NAME], strict=True))
    with st.form("tb_new_round"):
        r_name = st.text_input("Namn på rundan", placeholder="Trygghetsbesiktning Jakobsberg")
        r_date = sv.date_input(st, "Datum", value=dt.date.today())
        r_area = st.selectbox("Område", list(area_labels), format_func=area_labels.get)
        r_team = st.text_input("Team", placeholder="Namn på dem som går rundan")
        r_orgs = sv.multiselect(st, "Organisationer som deltar", list(ins.ORGANISATIONS),
                                accept_new_options=True)  # fmt: skip
        if st.form_submit_button("Starta rundan") and common.has_name(user, what="startar rundan"):
            auth.require(A.EDIT_INSPECTION, step="create_round")
            chosen = data.areas[data.areas[schema.AREA_ID].astype(str) == r_area]
            try:
                new_round = ins.create_round(
                    store, name=r_name, held_on=r_date, area_name=area_labels.get(r_area, ""),
                    area_id=r_area, area=chosen.to_crs(schema.CRS_METRIC).union_all(),
                    team=r_team, organisations=r_orgs, created_by=user,
                )  # fmt: skip
                common.choose("tb_round", new_round)  # the new round is the one to mark in
                _rerun_with(f"Rundan {common.md_escape(r_name)} är startad.")
            except InputError as exc:
                common.show_error(exc)

if rounds.empty:
    st.info("Det finns inga besiktningsrundor än. Starta en ovan.")
    st.stop()

round_labels = {
    int(r.id): f"{r.name} ({r.held_on:%Y-%m-%d}, {r.area_name}, {r.issue_count} ärenden)"
    for r in rounds.itertuples()
}
round_ids = list(round_labels)
round_id = st.selectbox(
    "Runda att markera i", round_ids, format_func=round_labels.get,
    **common.kept_widget("tb_round", round_ids[0], options=round_ids),
)  # fmt: skip
current = rounds[rounds["id"] == round_id].iloc[0]
if current["organisations"]:
    # st.text, not markdown: team names are typed by users
    st.text(f"Team: {current['team'] or '–'} · Organisationer: "
            f"{', '.join(current['organisations'])}")  # fmt: skip

# --- hotspots and the issues shown ------------------------------------------------------------
c1, c2 = st.columns(2)
distance_m = c1.slider("Flagga ärenden närmare än (m) en topp-hotspot", 0, 500,
                       int(ins.DEFAULT_HOTSPOT_DISTANCE_M), 25, key="tb_distance")  # fmt: skip
top_n = c2.number_input("Antal topp-hotspots", 1, 20, ins.DEFAULT_TOP_ZONES, key="tb_top")
zones = None
if filters.categories:
    try:
        zones = getattr(common.hotspots(data, filters), "zones", None)
    except ImportError:  # geo.analysis (run_hotspots) is not installed in this build
        st.caption("Hotspotanalysen är inte tillgänglig; ärenden flaggas inte.")
all_issues = ins.flag_near_hotspots(ins.issues_frame(store), zones, distance_m=float(distance_m),
                                    top_n=int(top_n))  # fmt: skip

# --- map --------------------------------------------------------------------------------------
st.subheader("Karta")
st.caption("Klicka i kartan där bristen finns för att markera ett nytt ärende i vald runda.")
focus = [str(current["area_id"])] if current["area_id"] in set(data.areas[schema.AREA_ID]) else None
m = maps.base_map(data.areas, tiles=filters.tiles, focus_area_ids=focus)
if zones is not None and not zones.empty:
    maps.add_zones(m, zones)
ins.issues_layer(all_issues).add_to(m)
area = ins.round_area(store, round_id)
if area is not None and focus is None:
    import geopandas as gpd

    m.fit_bounds(maps.lonlat_bounds(gpd.GeoDataFrame(geometry=[area], crs=schema.CRS_METRIC)))
maps.finish_map(m)
point = common.map_click(m, key="tb_map", point_key=CLICK, height=520)
if point:
    st.markdown(f"**Nytt ärende vid** {float(point['lat']):.5f} N, {float(point['lng']):.5f} E")
    with st.form("tb_new_issue", clear_on_submit=True):
        category = st.selectbox("Kategori", list(ins.ISSUE_CATEGORIES), index=None,
                                placeholder="Välj kategori")  # fmt: skip
        severity = st.radio("Allvarlighet", list(ins.SEVERITY_LABELS),
                            format_func=ins.SEVERITY_LABELS.get, index=1, horizontal=True)  # fmt: skip
        description = st.text_area("Beskrivning")
        responsible = st.selectbox("Ansvarig part", list(ins.RESPONSIBLE_PARTIES),
                                   accept_new_options=True)  # fmt: skip
        photo = sv.file_uploader(st, "Foto (valfritt, JPEG/PNG/WebP)", PHOTO_TYPES,
                                 max_bytes=ins.MAX_PHOTO_BYTES)  # fmt: skip
        save, cancel = st.columns(2)
        if save.form_submit_button("Spara ärendet", type="primary") and common.has_name(
            user, what="markerar ärendet"
        ):
            auth.require(A.EDIT_INSPECTION, step="create_issue")
            try:
                iid = ins.create_issue(
                    store, round_id=round_id, lon=point["lng"], lat=point["lat"],
                    category=category, severity=severity, description=description,
                    responsible=responsible, marked_by=user,
                    photo=photo.getvalue() if photo is not None else None,
                    photo_name=photo.name if photo is not None else "",
                )  # fmt: skip
                common.clear_click(CLICK)
                _rerun_with(f"Ärende {iid} är sparat.")
            except (InputError, ConflictError) as exc:
                common.show_error(exc)
        if cancel.form_submit_button("Avbryt"):
            common.clear_click(CLICK)
            st.rerun()

# --- list and filter --------------------------------------------------------------------------
st.subheader("Ärenden")
f1, f2, f3, f4, f5 = st.columns(5)
sel_rounds = sv.multiselect(f1, "Runda", list(round_labels), format_func=round_labels.get,
                            key="tb_f_round")  # fmt: skip
sel_areas = sv.multiselect(f2, "Område", sorted(set(all_issues[schema.AREA_NAME].dropna())),
                           key="tb_f_area")  # fmt: skip
sel_cats = sv.multiselect(f3, "Kategori", list(ins.ISSUE_CATEGORIES), key="tb_f_cat")
sel_status = sv.multiselect(f4, "Status", list(ins.TRANSITIONS), key="tb_f_status")
sel_resp = sv.multiselect(f5, "Ansvarig", sorted(set(all_issues[ins.RESPONSIBLE])), key="tb_f_resp")
shown = all_issues
for column, chosen in [
    (ins.ROUND_ID, sel_rounds),
    (schema.AREA_NAME, sel_areas),
    (schema.CATEGORY, sel_cats),
    (ins.STATUS, sel_status),
    (ins.RESPONSIBLE, sel_resp),
]:
    if chosen:
        shown = shown[shown[column].isin(chosen)]
if st.checkbox("Bara ärenden nära topp-hotspots", key="tb_f_near"):
    shown = shown[shown[ins.NEAR_HOTSPOT]]

table = pd.DataFrame(
    {
        "Nr": shown[schema.ID],
        "Kategori": shown[schema.CATEGORY],
        "Allvarlighet": shown[ins.SEVERITY_LABEL],
        "Status": shown[ins.STATUS],
        "Ansvarig": shown[ins.RESPONSIBLE],
        "Beskrivning": shown[ins.DESCRIPTION],
        "Nära hotspot": shown[ins.HOTSPOT_NAME].fillna(""),
        "Beställd": shown[ins.ORDERED_ON],
        "Åtgärdad": shown[ins.FIXED_ON],
        "Runda": shown[ins.ROUND_NAME],
        "Markerad av": shown[ins.MARKED_BY],
    }
)
st.dataframe(table, hide_index=True, width="stretch", key="tb_table")
st.caption(f"{len(shown)} av {len(all_issues)} ärenden.")

# --- downloads --------------------------------------------------------------------------------
d1, d2, d3 = st.columns(3)
auth.download_button(d1, "Ladda ned CSV", lambda: ins.export_csv(shown), what="inspection",
                     fmt="csv", file_name="trygghetsbesiktning.csv", mime="text/csv",
                     params={"issues": len(shown)})  # fmt: skip
auth.download_button(d2, "Ladda ned GeoJSON", lambda: ins.export_geojson(shown),
                     what="inspection", fmt="geojson", file_name="trygghetsbesiktning.geojson",
                     mime="application/geo+json", params={"issues": len(shown)})  # fmt: skip
parties = sorted(set(shown[ins.RESPONSIBLE]))
if parties:
    party = d3.selectbox("PDF-lista för ansvarig part", parties, key="tb_pdf_party")
    if d3.button("Skapa PDF", key="tb_pdf_make") and auth.require(A.EXPORT_DATA, step="pdf"):
        st.session_state["tb_pdf"] = (party, ins.export_pdf(shown, party, author=user or None,
                                                            areas=data.areas, places=data.gazetteer))  # fmt: skip
    made = st.session_state.get("tb_pdf")
    if made and made[0] == party:
        auth.download_button(d3, f"Ladda ned PDF för {common.md_escape(party)}", made[1], what="inspection",
                             fmt="pdf", file_name=f"trygghetsbesiktning-{party}.pdf",
                             mime="application/pdf", params={"party": party})  # fmt: skip

# --- edit one issue ---------------------------------------------------------------------------
st.subheader("Redigera ett ärende")
if shown.empty:
    st.stop()
issue_labels = {
    int(r[schema.ID]): f"{int(r[schema.ID])}: {r[schema.CATEGORY]} – {r[ins.STATUS]}"
    for _, r in shown.iterrows()
}
# Kept by id (common.kept_widget): a status change alters the label, and Streamlit would
# otherwise fall back to the first issue, sending the next change to the wrong one.
issue_ids = list(issue_labels)
issue_id = st.selectbox("Ärende", issue_ids, format_func=issue_labels.get,
                        **common.kept_widget("tb_issue", issue_ids[0], options=issue_ids))  # fmt: skip
row = shown[shown[schema.ID] == issue_id].iloc[0]
# The version this browser session first saw: every save names it, so an edit made by someone
# else in the meantime is reported (ConflictError) instead of silently overwritten.
seen_key = f"tb_seen_version_{issue_id}"
st.session_state.setdefault(seen_key, int(row[ins.VERSION]))
version = st.session_state[seen_key]


def _save(action, message: str) -> None:
    if not common.has_name(user, what="ändrar ärendet"):
        return
    auth.require(A.EDIT_INSPECTION, step="edit_issue", issue=issue_id)
    try:
        saved = action()
        if saved == version:  # nothing changed and no note: say so, not "updated"
            st.info("Inget att spara: ändra ett fält eller skriv en anteckning.")
            return
        st.session_state[seen_key] = saved
    except ConflictError as exc:
        st.session_state[seen_key] = int(row[ins.VERSION])  # the next try uses what is shown
        common.show_error(exc)
        st.caption("Formuläret visar nu den senaste versionen; gör din ändring igen.")
        return
    except InputError as exc:
        common.show_error(exc)
        return
    _rerun_with(message)


if bool(row[ins.NEAR_HOTSPOT]):
    st.warning(
        f"Ligger {row[ins.HOTSPOT_DISTANCE_M]:.0f} m från hotspotzonen "
        f"{common.md_escape(row[ins.HOTSPOT_NAME])}: "
        "prioritera åtgärden."
    )
left, right = st.columns([3, 2], gap="medium")
with left, st.form("tb_edit"):
    e_cat = st.selectbox("Kategori", list(ins.ISSUE_CATEGORIES),
                         index=list(ins.ISSUE_CATEGORIES).index(row[schema.CATEGORY]))  # fmt: skip
    e_sev = st.radio("Allvarlighet", list(ins.SEVERITY_LABELS),
                     format_func=ins.SEVERITY_LABELS.get,
                     index=int(row[ins.SEVERITY]) - 1, horizontal=True)  # fmt: skip
    e_desc = st.text_area("Beskrivning", value=row[ins.DESCRIPTION])
    e_resp = st.text_input("Ansvarig part", value=row[ins.RESPONSIBLE])
    # keyed by issue and version: a saved change (a new version) starts with an empty note
    e_note = st.text_input("Anteckning till historiken", key=f"tb_edit_note_{issue_id}_{version}")
    if st.form_submit_button("Spara ändringar"):
        _save(
            lambda: ins.update_issue(
                store, issue_id, expected_version=version, editor=user, note=e_note,
                category=e_cat, severity=e_sev, description=e_desc, responsible=e_resp,
            ),
            f"Ärende {issue_id} är uppdaterat.",
        )  # fmt: skip
with right:
    st.markdown(f"**Status:** {row[ins.STATUS]}")
    moves = list(ins.TRANSITIONS[row[ins.STATUS]])
    with st.form("tb_status"):
        s_new = st.selectbox("Ny status", moves)
        s_date = sv.date_input(st, "Datum", value=dt.date.today())
        s_note = st.text_input("Anteckning", key=f"tb_status_note_{issue_id}_{version}")
        if st.form_submit_button("Ändra status"):
            _save(
                lambda: ins.set_status(store, issue_id, s_new, expected_version=version,
                                       editor=user, on=s_date, note=s_note),
                f"Ärende {issue_id} har nu status {s_new}.",
            )  # fmt: skip
    photo = ins.latest_photo(store, issue_id)
    if photo is not None:
        st.image(photo[0], caption=common.md_escape(photo[2]) if photo[2] else "Foto")
    new_photo = sv.file_uploader(st, "Lägg till foto", PHOTO_TYPES,
                                 max_bytes=ins.MAX_PHOTO_BYTES, key="tb_add_photo")  # fmt: skip
    if new_photo is not None and st.button("Spara fotot", key="tb_save_photo"):
        _save(
            lambda: ins.add_photo(store, issue_id, new_photo.getvalue(), expected_version=version,
                                  uploaded_by=user, filename=new_photo.name),
            f"Fotot är sparat på ärende {issue_id}.",
        )  # fmt: skip

st.markdown("**Historik**")
history = ins.issue_history(store, issue_id).rename(
    columns={
        "changed_at": "När",
        "changed_by": "Vem",
        "action": "Ändring",
        "from_status": "Från",
        "to_status": "Till",
        "note": "Anteckning",
        "changes": "Fält",
    }  # fmt: skip
)
st.dataframe(history, hide_index=True, width="stretch")
