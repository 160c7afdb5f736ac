"""Hotspots: the ranked zones; choosing a row selects the zone on the map beside the table."""

from __future__ import annotations

import pandas as pd
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
    f"{filters.area_name} · {', '.join(filters.categories)} · {filters.window_label()} · "
    f"{filters.period_label()}"
)

if zones is None or zones.empty:
    st.info(
        "Inga hotspotzoner för valet. Prova en längre period, fler kategorier eller ett annat tidsfönster."
    )
    st.stop()

ordered = zones.sort_values(schema.RANK).reset_index(drop=True)
table = pd.DataFrame(
    {
        "Rang": ordered[schema.RANK].astype(int),
        "Zon": ordered[schema.NAME].astype(str),
        "Händelser": ordered[schema.INCIDENT_COUNT].astype(int),
        "Andel av området": ordered.get(schema.SHARE_OF_AREA, pd.Series(dtype=float)) * 100,
        "Dialog (omnämnanden)": ordered.get(schema.DIALOGUE_MENTIONS, pd.Series(dtype=float)),
        "Mest": ordered.get(schema.PEAK_HOURS, pd.Series(dtype=str)),
        "PAI": ordered.get(schema.PAI, pd.Series(dtype=float)),
        "Yta (km²)": ordered.get(schema.AREA_KM2, pd.Series(dtype=float)),
    }
)
selected = common.selected_zone()
ids = ordered[schema.ZONE_ID].astype(str).tolist()
table.insert(0, "Vald", ["▶" if z == selected else "" for z in ids])

left, right = st.columns([2, 3], gap="medium")
with left:
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="hotspot_table",
        column_config={
            "Andel av området": st.column_config.NumberColumn(format="%.0f %%"),
            "PAI": st.column_config.NumberColumn(
                format="%.1f", help="Andel händelser delat med andel yta (Chainey m.fl. 2008)."
            ),
            "Yta (km²)": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        chosen = ids[rows[0]]
        if chosen != st.session_state.get("hotspot_table_last"):
            st.session_state["hotspot_table_last"] = chosen
            common.select_zone(chosen)
            st.session_state["hotspots_map_focus"] = chosen
            st.rerun()
    for choice in getattr(run, "choices", []) or []:
        name = getattr(choice, "name", "")
        value = getattr(choice, "value", "")
        reason = getattr(choice, "reason", "")
        st.caption(f"**{name}** = {value}: {reason}")
with right:
    common.show_map(data, filters, run, key="hotspots_map", height=520)
    if common.selected_zone() in ids:
        with st.expander("Detaljer för vald zon", expanded=True):
            common.show_zone_details(data, filters, run, common.selected_zone())
