"""Utveckling över tid: emerging hotspots per cell (map, a cell's series, the commander's
sentence) and near-repeat patterns (Knox table, chains on the map, CSV).

Widgets and presentation only: the analyses are `geo.spacetime.emerging_hotspots` and
`geo.nearrepeat.near_repeat`; the maps `geo.maps.trend_map` / `chain_map`.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from geo import auth as A
from geo import nearrepeat as nr
from geo import schema as S
from geo import spacetime as stx
from geo.errors import InputError
from geo.labels import count_text
from ui import auth, common, sv

STEP_OPTIONS = {"month": "Månad", "week": "Vecka", "quarter": "Kvartal"}
SELECTED_CELL = "utv_selected_cell"


def _usable(frame):
    if S.AT_AREA_CENTRE in frame.columns:
        return frame[~frame[S.AT_AREA_CENTRE].fillna(False).to_numpy(dtype=bool)]
    return frame


@st.cache_data(show_spinner=False, max_entries=8)
def _trends(key: str, filters: common.Filters, step: str, _data: common.Data):
    incidents = _usable(common.incidents_for(_data, filters))
    area = _data.areas[_data.areas[S.AREA_ID].astype(str) == filters.area_id]
    return stx.emerging_hotspots(
        incidents, area, step=step, start=filters.start, end=filters.end, gazetteer=_data.gazetteer
    )


@st.cache_data(show_spinner=False, max_entries=8)
def _near_repeat(key: str, filters: common.Filters, categories: tuple, bands: tuple, _data):
    from geo.timewin import filter_incidents

    inside = common.incidents_for(
        _data, dataclasses.replace(filters, categories=categories, window="alla")
    )
    inside = _usable(filter_incidents(inside, categories=list(categories)))
    s_band, s_n, t_band, t_n, distance, permutations = bands
    return nr.near_repeat(
        inside,
        space_band_m=s_band,
        space_bands=s_n,
        time_band_days=t_band,
        time_bands=t_n,
        distance=distance,
        permutations=permutations,
        seed=1,
    )


def _series_chart(series: pd.DataFrame):
    import altair as alt

    frame = series.assign(
        månad=series[stx.STEP],
        läge=series[S.GI_BIN].map(
            lambda b: "het" if b >= 2 else ("kall" if b <= -2 else "ej signifikant")
        ),
    )
    bars = (
        alt.Chart(frame)
        .mark_bar(opacity=0.35, color="#888")
        .encode(
            x=alt.X("månad:O", title="Tidssteg"), y=alt.Y(f"{S.COUNT}:Q", title="Händelser i rutan")
        )
    )
    line = (
        alt.Chart(frame)
        .mark_line(point=True, color="#b30000")
        .encode(
            x="månad:O",
            y=alt.Y(f"{S.GI_Z}:Q", title="Gi* z (rumtid)"),
            color=alt.Color(
                "läge:N",
                scale=alt.Scale(
                    domain=["het", "ej signifikant", "kall"], range=["#b30000", "#999", "#3182bd"]
                ),
                title="Läge",
            ),
            tooltip=[
                "månad",
                alt.Tooltip(f"{S.COUNT}:Q", title="händelser"),
                alt.Tooltip(f"{S.GI_Z}:Q", title="z", format=".2f"),
                "läge",
            ],
        )
    )
    return alt.layer(bars, line).resolve_scale(y="independent").properties(height=260)


auth.require(A.VIEW_MAP, page="utveckling")
st.title("Utveckling över tid")
st.caption(
    "Hur hotspotsen förändras: nya, ökande, ihållande och avtagande platser (Emerging Hot Spot "
    "Analysis), och om en händelse följs av fler nära i tid och rum (near repeat)."
)
common.setup_map_assets()
data = common.get_data()
filters = common.sidebar_filters(data)
if not filters.categories:
    st.info("Välj minst en brottskategori i sidopanelen.")
    st.stop()
st.caption(
    f"{common.md_escape(filters.area_name)} · {', '.join(filters.categories)} · "
    f"{filters.window_label()} · {filters.period_label()}"
)

from geo import aoristic  # noqa: E402  (after the page's guards)

spans = aoristic.summarise(common.incidents_for(data, filters)).text()
if spans:
    st.info(spans)

st.subheader("Hotspots över tid")
step = st.radio(
    "Tidssteg", list(STEP_OPTIONS), format_func=STEP_OPTIONS.get, horizontal=True, key="utv_step",
    help="Varje ruta testas i varje tidssteg (Gi* med grannar i samma och föregående steg); "
    "trenden över stegen avgör kategorin.",
)  # fmt: skip
try:
    with st.spinner("Beräknar utvecklingen …"):
        result = _trends(data.key, filters, step, data)
except (InputError, ValueError) as exc:
    common.show_error(exc if isinstance(exc, InputError) else InputError(str(exc)))
    st.stop()

st.markdown(f"**{common.md_escape(stx.commander_summary(result))}**")
for note in result.messages:
    st.caption(common.md_escape(note))

counts = result.cells[stx.CATEGORY].value_counts()
table = pd.DataFrame(
    {
        "Kategori": [
            stx.CATEGORY_LABELS[c] for c in stx.CATEGORIES if c in counts and c != stx.NO_PATTERN
        ],
        "Rutor": [int(counts[c]) for c in stx.CATEGORIES if c in counts and c != stx.NO_PATTERN],
        "Betyder": [
            stx.CATEGORY_HELP[c] for c in stx.CATEGORIES if c in counts and c != stx.NO_PATTERN
        ],
    }
)

left, right = st.columns([3, 2], gap="medium")
with left:
    from streamlit_folium import st_folium

    from geo import maps

    selected = st.session_state.get(SELECTED_CELL)
    m = maps.trend_map(result, data.areas, focus_area_ids=[filters.area_id], tiles=filters.tiles,
                       selected_cell=selected)  # fmt: skip
    out = st_folium(
        m, key="utv_map", height=520, use_container_width=True, returned_objects=["last_clicked"]
    )
    click = (out or {}).get("last_clicked")
    if click and click != st.session_state.get("utv_last_click"):
        st.session_state["utv_last_click"] = click
        cell = stx.cell_at(result, float(click["lat"]), float(click["lng"]))
        if cell is not None and cell != selected:
            st.session_state[SELECTED_CELL] = cell
            st.rerun()
with right:
    st.dataframe(table, hide_index=True, width="stretch")
    cell_id = st.session_state.get(SELECTED_CELL)
    if cell_id not in set(result.cells[S.CELL_ID].astype(str)):
        hot = result.cells[result.cells[stx.CATEGORY] != stx.NO_PATTERN]
        pick = hot if len(hot) else result.cells
        cell_id = str(pick.sort_values(S.COUNT, ascending=False)[S.CELL_ID].iloc[0])
        st.caption("Visar rutan med flest händelser. Klicka på en ruta i kartan för att byta.")
    row = result.cells[result.cells[S.CELL_ID].astype(str) == cell_id].iloc[0]
    st.markdown(
        f"**{common.md_escape(row[stx.PLACE])}** ({common.md_escape(cell_id)}): "
        f"{stx.CATEGORY_LABELS[row[stx.CATEGORY]]} · "
        f"{count_text(int(row[S.COUNT]), 'händelse', 'händelser')} · "
        f"het i {int(row[stx.HOT_STEPS])} av {len(result.steps)} tidssteg"
    )
st.altair_chart(_series_chart(stx.step_series(result, cell_id)), width="stretch")
with st.expander("Så räknades utvecklingen"):
    for c in result.choices:
        st.markdown(f"- {common.md_escape(c.reason)}")
    st.markdown(
        "- Kategorierna följer ArcGIS Emerging Hot Spot Analysis; var publicerade verktyg skiljer "
        "sig (t.ex. om en sporadisk hotspot måste vara het i sista steget) står i "
        "docs/space-time.md."
    )

st.subheader("Upprepade händelser nära i tid och rum (near repeat)")
st.caption(
    "Knox-test som Near Repeat Calculator: alla par av händelser räknas efter avstånd och antal "
    "dagar isär och jämförs med slumpade datum (platserna ligger kvar). Hela dygnet, samma område "
    "och period som ovan."
)
present = [c for c in S.CATEGORIES if c in set(data.incidents[S.CATEGORY].unique())]
c1, c2, c3, c4, c5 = st.columns([3, 1, 1, 1, 1])
nr_cats = sv.multiselect(
    c1,
    "Brottskategorier (near repeat)",
    present,
    default=["inbrott"] if "inbrott" in present else list(filters.categories),
    key="utv_nr_cats",
)
s_band = c2.number_input("Avståndsband (m)", 10, 1000, 100, step=10, key="utv_nr_sband")
s_n = c3.number_input("Antal avståndsband", 1, 20, 3, key="utv_nr_sn")
t_band = c4.number_input("Tidsband (dagar)", 1, 90, 7, key="utv_nr_tband")
t_n = c5.number_input("Antal tidsband", 1, 20, 3, key="utv_nr_tn")
d1, d2 = st.columns(2)
distance = d1.radio("Avstånd", list(nr.DISTANCES), format_func={"euclidean": "fågelvägen", "manhattan": "kvartersavstånd (Manhattan)"}.get, horizontal=True, key="utv_nr_dist")  # fmt: skip
permutations = d2.radio("Permutationer", [99, 999], horizontal=True, key="utv_nr_perm")
if not nr_cats:
    st.info("Välj minst en brottskategori för near repeat-analysen.")
    st.stop()
try:
    with st.spinner("Räknar par och permutationer …"):
        near = _near_repeat(
            data.key,
            filters,
            tuple(nr_cats),
            (float(s_band), int(s_n), float(t_band), int(t_n), distance, int(permutations)),
            data,
        )
except (InputError, ValueError) as exc:
    common.show_error(exc if isinstance(exc, InputError) else InputError(str(exc)))
    st.stop()
for line in near.knox.summary():
    st.markdown(f"**{common.md_escape(line)}**")
st.caption(
    f"{near.knox.n} händelser, {near.knox.permutations} permutationer (frö 1). "
    + " ".join(common.md_escape(m) for m in near.messages)
)
knox = near.knox.table
view = knox.assign(
    cell=knox[nr.OBSERVED].astype(int).astype(str)
    + " / "
    + knox[nr.EXPECTED].round(1).astype(str).str.replace(".", ",")
    + knox[nr.P_VALUE].map(lambda p: " *" if p <= 0.05 else "")
)
pivot = view.pivot(index=nr.SPACE_LABEL, columns=nr.TIME_LABEL, values="cell")
pivot = pivot.reindex(index=knox.drop_duplicates(nr.SPACE_BAND)[nr.SPACE_LABEL],
                      columns=knox.drop_duplicates(nr.TIME_BAND)[nr.TIME_LABEL])  # fmt: skip
st.dataframe(pivot.rename_axis(index="Avstånd", columns="Dagar isär"), width="stretch")
st.caption(
    "Varje ruta: observerade par / förväntade par; * = förhöjd med p ≤ 0,05 (p = (1 + antal slumpade ≥ observerat) / (R + 1))."
)
st.markdown(common.md_escape(near.chain_summary()))
from geo import maps  # noqa: E402

chain_m = maps.chain_map(near, data.areas, focus_area_ids=[filters.area_id], tiles=filters.tiles)
st_folium(chain_m, key="utv_chain_map", height=480, use_container_width=True, returned_objects=[])
auth.download_button(
    st,
    "Ladda ner kedjorna (CSV)",
    what="near_repeat_chains",
    fmt="csv",
    params={
        "area": filters.area_id,
        "categories": ",".join(nr_cats),
        "space_band_m": s_band,
        "space_bands": s_n,
        "time_band_days": t_band,
        "time_bands": t_n,
        "permutations": permutations,
        "start": str(filters.start),
        "end": str(filters.end),
    },  # fmt: skip
    data=lambda: nr.chains_csv(near),
    file_name=f"near_repeat_{filters.area_id}_{filters.start}_{filters.end}.csv",
    mime="text/csv",
    key="utv_nr_csv",
)
