"""Granskning (administratörer): the audit log — view, filter, export — and local users."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from geo import audit, labels
from geo import auth as A
from geo.errors import InputError
from geo.store import ROLES
from ui import auth, common, sv

me = auth.require(A.VIEW_AUDIT, page="granskning")
store = auth.audit_store()

st.title("Granskning")
common.show_data_status(common.get_data())
log_tab, users_tab = st.tabs(["Granskningslogg", "Användare"])

with log_tab:
    st.caption(
        "Vem gjorde vad och när: inloggningar, importer, exporter (med parametrar), ändringar, "
        "borttagningar och nekade försök."
    )
    # tamper evidence: the hash chain is recomputed on every visit (geo.audit.verify_chain)
    with st.expander("Kontrollera mot en tidigare kontroll (nr och kedjehash)"):
        a1, a2 = st.columns([1, 3])
        anchor_seq = a1.number_input("Nr", min_value=0, value=0, step=1, key="gr_anchor_seq")
        anchor_hash = a2.text_input("Kedjehash (64 tecken)", key="gr_anchor_hash").strip()
    anchor = (int(anchor_seq), anchor_hash) if anchor_seq and len(anchor_hash) == 64 else None
    chain = audit.verify_chain(store, anchor=anchor)
    if chain.ok:
        st.success(chain.summary)
        if chain.head_hash:
            st.caption(
                f"Anteckna nr {chain.head_seq} och kedjehash `{chain.head_hash}`: vid nästa "
                "kontroll visar de om poster har tagits bort i slutet av loggen."
            )
    else:
        st.error(chain.summary)
        for problem in chain.problems[1:]:
            st.caption(problem)
    c1, c2, c3, c4 = st.columns(4)
    today = dt.date.today()
    period = sv.date_input(
        c1, "Period", value=(today - dt.timedelta(days=30), today), key="gr_period"
    )
    start, end = (
        (period[0], period[-1]) if isinstance(period, tuple | list) and period else (None, None)
    )
    actors = sv.multiselect(c2, "Användare", audit.distinct_values(store, "actor"), key="gr_actor")
    actions = sv.multiselect(
        c3,
        "Händelse",
        audit.distinct_values(store, "action"),
        format_func=labels.action_label,
        key="gr_action",
    )
    outcomes = sv.multiselect(c4, "Utfall", list(audit.OUTCOMES), key="gr_outcome")
    text = st.text_input("Sök i objekt och parametrar", key="gr_text")
    frame = audit.audit_frame(
        store,
        start=start,
        end=end,
        actors=actors or None,
        actions=actions or None,
        outcomes=outcomes or None,
        text=text or None,
    )
    st.dataframe(
        audit.display_frame(frame).rename(columns=audit.LABELS), hide_index=True, width="stretch"
    )
    st.caption(f"{len(frame)} {'händelse' if len(frame) == 1 else 'händelser'}.")
    auth.download_button(
        st,
        "Ladda ned loggen (CSV)",
        lambda: audit.to_csv(frame),
        what="audit",
        fmt="csv",
        file_name=f"granskningslogg_{today:%Y-%m-%d}.csv",
        mime="text/csv",
        action=A.VIEW_AUDIT,
        params={
            "start": start,
            "end": end,
            "actors": actors,
            "actions": actions,
            "outcomes": outcomes,
            "text": text,
            "rows": len(frame),
        },
        key="gr_download",
    )

with users_tab:
    path = A.users_file()
    st.caption(
        f"Lokala konton finns i `{path}` (lösenorden som argon2id-hashar). Konton utan lösenord "
        "är för inloggning via organisationens identitetstjänst (OpenID Connect) med e-postadressen "
        "som användarnamn."
    )
    if not auth.can(A.MANAGE_USERS):
        st.info("Användare hanteras av administratörer.")
        st.stop()
    try:
        accounts = A.load_accounts(path)
    except InputError as exc:
        common.show_error(exc)
        st.stop()
    st.dataframe(
        [
            {
                "användarnamn": a.username,
                "namn": a.display_name,
                "roll": labels.role_label(a.role),
                "inloggning": "lösenord" if a.password_hash else "OpenID Connect",
            }
            for a in accounts.values()
        ],
        hide_index=True,
        width="stretch",
    )
    if me.mode == "demo":
        st.warning(
            "När det första kontot läggs till slutar demoläget: appen kräver sedan inloggning. "
            "Lägg därför först till en administratör med lösenord."
        )
    with st.form("gr_add_user", clear_on_submit=True):
        st.markdown("**Lägg till eller ändra ett konto**")
        u1, u2, u3 = st.columns(3)
        new_name = u1.text_input("Användarnamn eller e-post")
        new_display = u2.text_input("Namn")
        new_role = u3.selectbox("Roll", ROLES, index=0)
        new_pw = st.text_input(
            f"Lösenord (minst {A.MIN_PASSWORD_LENGTH} tecken; tomt = OpenID Connect)",
            type="password",
        )
        if st.form_submit_button("Spara kontot"):
            auth.require(A.MANAGE_USERS, step="add_user")
            try:
                acc = A.add_account(
                    path, new_name, new_role, new_pw or None, display_name=new_display
                )
            except (InputError, ValueError) as exc:
                st.error(str(exc))
            else:
                audit.record_edit(
                    store,
                    me.username,
                    me.role,
                    target_type="user",
                    target_id=acc.username,
                    verb="add",
                    new_role=acc.role,
                    password=bool(acc.password_hash),
                )
                st.success(f"Kontot {common.md_escape(acc.username)} ({acc.role}) är sparat.")
    if accounts:
        r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
        gone = r1.selectbox("Ta bort konto", list(accounts), key="gr_remove_user")
        if r2.button("Ta bort", key="gr_remove_btn"):
            auth.require(A.MANAGE_USERS, step="remove_user")
            try:
                A.remove_account(path, gone)
            except InputError as exc:
                common.show_error(exc)
            else:
                audit.record_deletion(
                    store, me.username, me.role, target_type="user", target_id=gone
                )
                st.success(f"Kontot {common.md_escape(gone)} är borttaget.")
