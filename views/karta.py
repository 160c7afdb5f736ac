"""Karta: the lägesbild — I korthet, the hotspot map, and the selected zone's details."""

from __future__ import annotations

import streamlit as st

from geo import auth as A
from geo import maps, schema
from ui import auth, common

auth.require(A.VIEW_MAP, page="karta")
st.title("Lägesbild")
common.setup_map_assets()
data = common.get_data()
filters = common.sidebar_filters(data)
st.caption(
    f"{common.md_escape(filters.area_name)} · {', '.join(filters.categories) or 'inga kategorier'} · "
    f"{filters.window_label()} · {filters.period_label()}"
)
if not filters.categories:
    st.info("Välj minst en brottskategori i sidopanelen.")
    st.stop()

run = common.hotspots(data, filters)
now = common.incidents_for(data, filters)
before = common.incidents_for(data, filters, previous=True)
what = ", ".join(filters.categories)
when = f"{filters.window_label()}, {filters.period_label()}"

st.subheader("I korthet")
sentences = maps.briefing(
    run.zones,
    now,
    before,
    area_name=filters.area_name,
    what=what,
    when=when,
    dialogue=common.dialogue_for(data, filters),
)
# the sentences carry area and zone names from files: literal text, not markdown
st.info("\n".join(f"- {common.md_escape(s)}" for s in sentences))
for message in getattr(run, "messages", []) or []:
    st.caption(common.md_escape(message))  # may name areas and zones from files

left, right = st.columns([3, 2], gap="medium")
with left:
    common.show_map(data, filters, run, key="karta_map")
    st.caption(
        "Klicka på en zon för detaljer. Siffrorna är zonernas rang (1 = hetast). Lager "
        "(Gi*-celler, värmekarta, otrygga platser, trygghetsbesiktningens brister) slås på och "
        "av uppe till höger i kartan."
    )
    if run.zones is not None and not run.zones.empty:
        st.markdown("**Hotspotzoner**")
        st.dataframe(
            common.zone_table(run.zones),
            hide_index=True,
            width="stretch",
            column_config=common.zone_table_config(),
            column_order=("Rang", "Zon", "Antal", "Topptimmar"),
        )
    common.show_choices(run, data.areas)
with right:
    zones = run.zones
    zone_id = common.selected_zone(zones)
    if zones is None or zones.empty:
        st.write("Inga hotspotzoner att visa för valet.")
    else:
        if zone_id not in set(zones[schema.ZONE_ID].astype(str)):
            zone_id = str(zones.sort_values(schema.RANK)[schema.ZONE_ID].iloc[0])
            st.caption("Visar zon 1. Klicka på en annan zon i kartan för att byta.")
        common.show_zone_details(data, filters, run, zone_id)
