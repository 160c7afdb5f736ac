"""Hotspots: the ranked zones; choosing a row selects the zone on the map beside the table."""

from __future__ import annotations

import streamlit as st

from geo import auth as A
from geo import schema
from ui import auth, common

auth.require(A.VIEW_MAP, page="hotspots")
st.title("Hotspots")
common.setup_map_assets()
data = common.get_data()
filters = common.sidebar_filters(data)
if not filters.categories:
    st.info("Välj minst en brottskategori i sidopanelen.")
    st.stop()
run = common.hotspots(data, filters)
zones = run.zones
st.caption(
    f"{common.md_escape(filters.area_name)} · {', '.join(filters.categories)} · {filters.window_label()} · "
    f"{filters.period_label()}"
)

if zones is None or zones.empty:
    st.info(
        "Inga hotspotzoner för valet. Prova en längre period, fler kategorier eller ett annat tidsfönster."
    )
    st.stop()

ordered = zones.sort_values(schema.RANK).reset_index(drop=True)
table = common.zone_table(zones)
selected = common.selected_zone(zones)
ids = ordered[schema.ZONE_ID].astype(str).tolist()
table.insert(0, "Vald", ["▶" if z == selected else "" for z in ids])

st.caption("Välj en rad för att visa zonen i kartan och dess detaljer.")
# A row selection is a position in this table: keyed by the zones themselves, so that after
# a method or filter switch the old position is not carried over to another zone.
table_key = "hotspot_table_" + common.zones_token(zones)
event = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key=table_key,
    column_config={"Vald": st.column_config.TextColumn(width=40), **common.zone_table_config()},
)
rows = event.selection.rows if event is not None else []
if rows:
    chosen = ids[rows[0]]
    if chosen != st.session_state.get(f"{table_key}_last"):
        st.session_state[f"{table_key}_last"] = chosen
        common.select_zone(chosen, zones)
        st.session_state["hotspots_map_focus"] = chosen
        st.rerun()

left, right = st.columns([3, 2], gap="medium")
with left:
    common.show_map(data, filters, run, key="hotspots_map", height=560)
    common.show_choices(run, data.areas)
with right:
    zone_id = common.selected_zone(zones)
    if zone_id not in ids:
        zone_id = ids[0]
        st.caption("Visar zon 1. Välj en rad i tabellen eller klicka på en zon för att byta.")
    common.show_zone_details(data, filters, run, zone_id)
