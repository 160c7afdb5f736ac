"""Helgförstärkning: choose where and when the weekend reinforcement goes, adjust, export.

Widgets and presentation only; the planning is `geo.patrol.plan_zones`, the adjustments
`geo.patrol.drop_zone` / `add_drawn_zone`, the files `geo.exports.export_bytes`.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from geo import auth as A
from geo import patrol
from geo import schema as S
from geo.errors import InputError
from geo.exports import FORMATS, MIME, export_bytes
from geo.labels import count_text, points_text
from geo.timewin import DAY_NAMES
from ui import auth, common, sv

FORWARD_PREFIX = "Framåtkontroll:"  # how geo.patrol starts the forward check's note
ADJUST = "hf_adjust"  # session_state: {"plan": key, "dropped": [...], "drawn": [(name, json)]}
FORMAT_LABELS = {
    "geojson": "GeoJSON",
    "kml": "KML (Google Earth)",
    "gpkg": "GeoPackage",
    "csv": "CSV",
    "pdf": "PDF-brief",
}


@st.cache_data(show_spinner=False, max_entries=8)
def _profile(key: str, start, end, categories: tuple, area_ids: tuple, _data):
    from geo.timewin import filter_incidents, hour_of_week

    frame = filter_incidents(_data.incidents, start=start, end=end, categories=categories or None)
    if area_ids:
        inside = _data.areas[_data.areas[S.AREA_ID].astype(str).isin(area_ids)]
        frame = frame[frame.intersects(inside.geometry.union_all()).to_numpy()]
    weights = S.WEIGHT if S.WEIGHT in frame.columns else None
    return hour_of_week(frame, weights=weights)


def _issues_key(issues) -> tuple:
    """What identifies the open issues for the plan cache: each issue's id and status."""
    if issues is None or not len(issues):
        return ()
    return tuple(map(tuple, issues[["id", "status"]].astype(str).to_numpy()))


@st.cache_data(show_spinner=False, max_entries=8)
def _plan(
    key: str,
    window: str,
    start,
    end,
    categories: tuple,
    area_ids: tuple,
    k,
    budget,
    issues_key: tuple,
    max_zone_km2: float,
    _data,
    _issues,
):
    return patrol.plan_zones(
        _data.incidents,
        _data.areas,
        window=window,
        categories=list(categories),
        start=start,
        end=end,
        area_ids=list(area_ids) or None,
        k=k,
        budget_km2=budget,
        dialogue=_data.dialogue,
        gazetteer=_data.gazetteer,
        open_issues=_issues,
        max_zone_km2=max_zone_km2,
    )


def _heatmap(profile: pd.DataFrame, window_text: str):
    import altair as alt

    from geo.timewin import resolve_window

    long = profile.reset_index().melt(id_vars="weekday", var_name="timme", value_name="antal")
    inside = resolve_window(window_text).calendar_mask()
    long["i fönstret"] = [
        "ja" if inside[DAY_NAMES.index(d), int(h)] else "nej"
        for d, h in zip(long["weekday"], long["timme"], strict=True)
    ]
    return (
        alt.Chart(long)
        .mark_rect(stroke="black")
        .encode(
            x=alt.X("timme:O", title="Timme"),
            y=alt.Y("weekday:O", sort=list(DAY_NAMES), title="Veckodag"),
            color=alt.Color("antal:Q", scale=alt.Scale(scheme="orangered"), title="Antal"),
            strokeWidth=alt.condition(
                alt.datum["i fönstret"] == "ja", alt.value(1.5), alt.value(0)
            ),
            tooltip=["weekday", "timme", "antal", "i fönstret"],
        )
        .properties(height=220)
    )


@st.cache_data(show_spinner=False, max_entries=8)
def _zone_trends(key: str, plan_key: str, start, end, area_ids: tuple, _plan, _zones, _data):
    """Each zone's Emerging Hot Spot category over the plan's window incidents (by month),
    or None with the reason when the period is too short."""
    from geo import spacetime

    areas = _data.areas[_data.areas[S.AREA_ID].astype(str).isin(area_ids)]
    try:
        trends = spacetime.emerging_hotspots(
            _plan.window_incidents, areas, start=start, end=end, gazetteer=_data.gazetteer
        )
    except ValueError as exc:
        return None, str(exc)
    cats = spacetime.zone_categories(_zones, trends)
    return [spacetime.CATEGORY_LABELS[c] for c in cats], None


def _zone_table(zones, trend: list[str] | None = None) -> pd.DataFrame:
    def share(col):
        return (zones[col] * 100).round(0) if col in zones else None

    return pd.DataFrame(
        {
            "Nr": zones["pick"].astype(int),
            "Zon": zones[S.NAME].astype(str),
            "Timmar": zones[patrol.RECOMMENDED_HOURS].astype(str),
            "Antal": zones[S.INCIDENT_COUNT].round(0).astype(int),
            "Träffandel %": share(S.HIT_RATE),
            "Kumulativt %": share(patrol.CUM_HIT_RATE),
            "PAI": zones[S.PAI].round(1),
            "Dialog": zones.get(S.DIALOGUE_MENTIONS),
            "Öppna brister": zones.get(patrol.OPEN_ISSUES),
            "Yta (km²)": zones[S.AREA_KM2].round(2),
            "Utveckling": trend,
            "Källa": zones.get(patrol.SOURCE),
        }
    ).dropna(axis=1, how="all")


me = auth.require(A.PLAN_ZONES, page="helgforstarkning")
st.title("Helgförstärkning")
st.caption(
    "Välj zoner och tider för helgförstärkningen där kartläggningen visar mest våld på "
    "offentlig plats, justera för hand och exportera till patrullerna."
)
common.setup_map_assets()
data = common.get_data()
times = data.incidents[S.OCCURRED_AT]
if not len(times):
    st.info("Det finns inga händelser. Ladda upp en fil på sidan Data.")
    st.stop()
default_start, default_end = patrol.default_period(data.incidents)
# The session-wide sidebar: which data, the zone cap and "Ditt namn" (kept across pages);
# period, categories and area start from the sidebar's choices made on the other pages.
common.show_data_status(data)
max_zone_km2 = common.zone_cap_field()
who = common.name_field()
first_day = times.min().date()
kept_period = common.chosen("f_period") or ()
if len(kept_period) == 2 and first_day <= kept_period[0] <= kept_period[1] <= default_end:
    default_start, default_end_shown = kept_period
else:
    default_end_shown = default_end
kept_categories = [c for c in common.chosen("f_categories", [S.VIOLENCE]) if c in S.CATEGORIES]

with st.container(border=True):
    c1, c2, c3 = st.columns([2, 3, 2])
    period = sv.date_input(
        c1,
        "Period",
        value=(default_start, default_end_shown),
        min_value=first_day,
        max_value=default_end,
        key="hf_period",
        help="Standard: de senaste 12 månaderna i datan.",
    )
    with c2:
        days = sv.multiselect(
            st,
            "Dagar (kvällen passet börjar)",
            list(DAY_NAMES),
            default=["fre", "lör"],
            key="hf_days",
            help="En natt hör till kvällen den började: fredag 23:30 och lördag 02:00 är båda fredagsnatt.",
        )
        h1, h2 = st.columns(2)
        start_hour = h1.number_input("Från kl.", 0, 23, 18, key="hf_from")
        end_hour = h2.number_input("Till kl.", 0, 24, 3, key="hf_to")
    with c3:
        categories = sv.multiselect(
            st,
            "Brottskategorier",
            list(S.CATEGORIES),
            default=kept_categories or [S.VIOLENCE],
            key="hf_cats",
        )
        choices = common.top_areas(data.areas)
        labels = dict(zip(choices[S.AREA_ID].astype(str), choices[S.AREA_NAME], strict=True))
        area_ids = sv.multiselect(
            st,
            "Områden",
            list(labels),
            default=[common.chosen("f_area")]
            if common.chosen("f_area") in labels
            else list(labels)[:1],
            format_func=labels.get,
            key="hf_areas",
        )
    s1, s2, s3 = st.columns([2, 2, 3])
    mode = s1.radio("Storlek", ["Antal zoner (K)", "Ytbudget (km²)"], key="hf_mode")
    k = budget = None
    if mode.startswith("Antal"):
        k = int(s2.number_input("K", 1, 50, patrol.DEFAULT_K, key="hf_k"))
    else:
        budget = float(s2.number_input("km²", 0.01, 50.0, 0.5, step=0.05, key="hf_budget"))
    s3.caption(
        f"Exporterna märks med {common.md_escape(who)} (Ditt namn i sidopanelen)."
        if who
        else "Skriv Ditt namn i sidopanelen för att märka exporterna med det."
    )

if not isinstance(period, tuple | list) or len(period) != 2:
    st.info("Välj både start- och slutdatum.")
    st.stop()
if not days or not categories or not area_ids:
    st.info("Välj minst en dag, en brottskategori och ett område.")
    st.stop()
window_text = f"{','.join(days)} {int(start_hour):02d}-{int(end_hour):02d}"
start, end = period

st.subheader("När händer det?")
st.caption(
    f"Händelser per veckodag och timme ({', '.join(categories)}, hela dygnet); "
    "rutor med ram ligger i det valda tidsfönstret."
)
try:
    st.altair_chart(
        _heatmap(
            _profile(data.key, start, end, tuple(categories), tuple(area_ids), data), window_text
        ),
        use_container_width=True,
    )
    # open trygghetsbesiktning issues (ny, åtgärd beställd): counted within 150 m of each zone
    issues = common.open_issues(data)
    with st.spinner("Väljer zoner …"):
        plan = _plan(
            data.key,
            window_text,
            start,
            end,
            tuple(categories),
            tuple(area_ids),
            k,
            budget,
            _issues_key(issues),
            max_zone_km2,
            data,
            issues,
        )
except (InputError, ValueError) as exc:
    common.show_error(exc if isinstance(exc, InputError) else InputError(str(exc)))
    st.stop()

if plan.warning:
    st.warning(plan.warning)
from geo import aoristic  # noqa: E402  (after the page's guards)

spread = aoristic.summarise(plan.window_incidents).text()
if spread:
    st.caption(common.md_escape(spread))
# the forward check has its own place under "Håller hotspotsen?"
for note in plan.messages:
    if not note.startswith(FORWARD_PREFIX):
        st.info(note)

# --- hand adjustments: kept per plan, replayed on the plan's zones through geo.patrol -----
plan_key = json.dumps(
    [data.key, window_text, str(start), str(end), categories, area_ids, k, budget, max_zone_km2]
)
state = st.session_state.get(ADJUST)
if not state or state.get("plan") != plan_key:
    state = {"plan": plan_key, "dropped": [], "drawn": []}
    st.session_state[ADJUST] = state
zones = plan.zones
figures = {**plan.figures(), "open_issues": issues}
try:
    for zone_id in state["dropped"]:
        zones = patrol.drop_zone(zones, zone_id, plan.window_incidents, **figures)
    for name, feature in state["drawn"]:
        zones = patrol.add_drawn_zone(zones, feature, plan.window_incidents, name=name, **figures)
except InputError as exc:
    common.show_error(exc)
    state["dropped"], state["drawn"] = [], []

st.subheader("Zoner")
st.caption(
    f"{plan.params['window']} · {plan.params['start']} – {plan.params['end']} · "
    f"{count_text(plan.params['window_incidents'], 'händelse', 'händelser')} i fönstret · "
    f"kandidater: {plan.params['candidates']} · PAI räknas mot {plan.params['areas']}"
)
m1, m2, m3 = st.columns(3)
m1.metric("Zoner", len(zones))
m2.metric("Täcker av fönstrets händelser", f"{zones[patrol.CUM_HIT_RATE].iloc[-1]:.0%}")
m3.metric("Total yta", f"{zones[S.AREA_KM2].sum():.2f} km²".replace(".", ","))

with st.spinner("Beräknar zonernas utveckling över tid …"):
    trend, trend_note = _zone_trends(
        data.key,
        plan_key + json.dumps([state["dropped"], state["drawn"]]),
        start,
        end,
        tuple(area_ids),
        plan,
        zones,
        data,
    )
if trend_note:
    st.caption(f"Utveckling över tid visas inte: {common.md_escape(trend_note)}")
elif trend:
    listed = "; ".join(
        f"{name} – {label}" for name, label in zip(zones[S.NAME].astype(str), trend, strict=True)
    )
    st.caption(common.md_escape(f"Zonernas utveckling över tid (månader): {listed}."))
left, right = st.columns([3, 2], gap="medium")
with right:
    st.dataframe(
        _zone_table(zones, trend),
        hide_index=True,
        width="stretch",
        column_config={
            "PAI": st.column_config.NumberColumn(
                help="Andel händelser delat med andel yta (Chainey m.fl. 2008)."
            ),
            "Kumulativt %": st.column_config.NumberColumn(
                help="Andel av fönstrets händelser som zonerna hittills i listan täcker."
            ),
            "Utveckling": st.column_config.TextColumn(
                help="Zonens mönster över periodens månader (Emerging Hot Spot Analysis, "
                "se sidan Utveckling över tid): ny, ökande, ihållande, avtagande, ..."
            ),
        },
    )
    names = dict(zip(zones[S.ZONE_ID].astype(str), zones[S.NAME].astype(str), strict=True))
    d1, d2 = st.columns([3, 1], vertical_alignment="bottom")
    drop = d1.selectbox("Ta bort zon", list(names), format_func=names.get, key="hf_drop")
    if d2.button("Ta bort", key="hf_drop_btn", disabled=len(names) < 2):
        state["dropped"].append(drop)
        st.rerun()
with left:
    from geo import maps

    shown = zones.assign(**{S.RANK: zones["pick"]})
    m = maps.base_map(data.areas, focus_area_ids=area_ids)
    maps.add_zones(m, shown)
    common.add_open_issues(m, data, shown)
    maps.fit_to(m, shown)
    maps.finish_map(m)
    drawings = common.map_drawings(m, key="hf_map", height=480)
    n1, n2 = st.columns([3, 1], vertical_alignment="bottom")
    new_name = n1.text_input(
        "Namn på ritad zon",
        placeholder="t.ex. Gångtunneln vid stationen",
        key="hf_draw_name",
        help="Rita en yta med polygon- eller rektangelverktyget på kartan.",
    )
    if n2.button("Lägg till ritad zon", key="hf_draw_btn", disabled=not drawings):
        feature = json.dumps(drawings[-1])
        try:
            patrol.polygon_from_geojson(feature)
        except InputError as exc:
            common.show_error(exc)
        else:
            state["drawn"].append((new_name, feature))
            st.rerun()
if state["dropped"] or state["drawn"]:
    if st.button("Återställ till föreslagna zoner", key="hf_reset"):
        state["dropped"], state["drawn"] = [], []
        st.rerun()


def _shares(check, first: str, second: str) -> None:
    """Three metrics for a geo.patrol.Persistence: its two shares and the verdict."""
    p1, p2, p3 = st.columns(3)
    p1.metric(first, f"{check.train_share:.0%}")
    p2.metric(
        second,
        f"{check.test_share:.0%}",
        delta=points_text((check.test_share - check.train_share) * 100),
        delta_color="off" if round((check.test_share - check.train_share) * 100) == 0 else "normal",
    )
    p3.markdown(f"Bedömning  \n**{check.label}**")  # words: a metric would cut them off
    st.write(check.message)


st.subheader("Håller hotspotsen?")
pers, forward = plan.persistence, plan.forward
stability, ahead = st.columns(2, gap="medium")
with stability:
    st.markdown("**Stabilitetstest**")
    if pers is None:
        st.caption("Stabilitetstestet kunde inte göras för valet (se meddelanden ovan).")
    else:
        st.caption(
            "Zoner valda om på periodens första halva (inte de exporterade zonerna), prövade "
            "på den andra: fångar samma platser lika stor andel på båda halvorna är "
            "hotspotsen stabila."
        )
        _shares(pers, "Första halvan", "Andra halvan")
with ahead:
    st.markdown("**Framåtkontroll**")
    if forward is None:
        note = next((n for n in plan.messages if n.startswith(FORWARD_PREFIX)), None)
        st.caption(note or "Framåtkontrollen kunde inte göras för valet.")
    else:
        st.caption(
            "De exporterade zonerna prövade på perioden efter planeringsperioden: "
            "håller andelen i sig fångar zonerna händelserna även framåt."
        )
        _shares(forward, "Planeringsperioden", "Följande period")

st.subheader("Exportera")
params = {
    **plan.params,
    "dropped_zones": ", ".join(state["dropped"]),
    "drawn_zones": len(state["drawn"]),
    "created_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
}
cols = st.columns(len(FORMATS))
for col, fmt in zip(cols, FORMATS, strict=True):
    auth.download_button(
        col,
        FORMAT_LABELS[fmt],
        what="helgforstarkning_zones",
        fmt=fmt,
        params=params,
        data=lambda fmt=fmt: export_bytes(
            zones,
            fmt,
            params=params,
            who=who or None,
            areas=plan.areas,
            persistence=pers,
            forward=forward,
            places=data.gazetteer,
        ),
        file_name=f"helgforstarkning_{plan.params['start']}_{plan.params['end']}.{fmt}",
        mime=MIME[fmt],
        key=f"hf_dl_{fmt}",
    )
st.caption("Exporterna är märkta INTERN / BEGRÄNSAD och innehåller exakta antal.")
