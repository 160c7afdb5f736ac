"""Login and server-side access checks for the Streamlit pages (issue 9).

Pages import only these:

``login() -> Identity``
    Who is signed in; shows the login (OpenID Connect button or local account form) and
    stops the script until someone is. On every run the session is checked against the
    accounts file (`geo.auth.refresh_identity`): a removed account or a new password ends it,
    a changed role applies at once, a sign-out in another tab ends this tab too. The identity
    is bound as the actor of every audit entry the run writes (`geo.store.bind_actor`). In
    the demo mode (only with ``LAGESBILD_AUTH=demo``) everyone is the single user ``demo``
    with the role administratör; without any sign-in configured the app stays signed out and
    says how to configure it.
``show_user(identity)``
    The sidebar block: who is signed in, a logout button, and the demo-mode banner.
``may_open(identity, page_path)``
    Whether ``app.py`` lists a page for this role (`PAGE_ACTIONS`).
``require(action) -> Identity``
    At the top of a page and before each action: refuses (``st.error`` + ``st.stop``) and
    records ``auth.denied`` in the audit log when the role may not perform ``action``.
``can(action) -> bool``
    For hiding a button; the action itself must still call `require`.
``download_button(container, label, data, *, what, fmt, file_name, params=None, ...)``
    ``st.download_button`` for an export that only roles with ``export_data`` get; the file is
    built on click and the export is recorded (who, what, format, parameters).
``audit_store()``
    The project database (one `Store` per process) that the audit entries go to.

The checks run in the script, on the server: a hidden button is a convenience, `require` is
the guard. Identities live in ``st.session_state`` (server-side; the browser cannot set it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from geo import audit
from geo import auth as A
from geo.errors import InputError, PermissionDenied
from geo.store import Store, bind_actor, default_url
from ui.common import md_escape

IDENTITY = "lagesbild_identity"  # session_state key of the signed-in Identity
ENDED = "lagesbild_session_ended"  # session_state key: why the server ended the session
THROTTLE_WINDOW_S = 15 * 60
THROTTLE_MAX_FAILURES = 5

#: The action a role needs to see a page in the navigation (by file stem). Pages not listed
#: need `geo.auth.VIEW_MAP`; every page still calls `require` itself.
PAGE_ACTIONS: dict[str, str] = {
    "karta": A.VIEW_MAP,
    "hotspots": A.VIEW_MAP,
    "utveckling": A.VIEW_MAP,
    "om": A.VIEW_MAP,
    "trygghetsbesiktning": A.VIEW_MAP,
    "medborgarloften": A.VIEW_MAP,
    "helgforstarkning": A.PLAN_ZONES,
    "fore_efter": A.RUN_COMPARE,
    "data": A.IMPORT_DATA,
    "granskning": A.VIEW_AUDIT,
}


@st.cache_resource(show_spinner=False)
def _open_store(url: str) -> Store:
    return Store(url)


def audit_store() -> Store:
    """The project database for audit entries (one `Store` per URL and process)."""
    return _open_store(default_url())


@st.cache_resource(show_spinner=False)
def _throttle() -> A.LoginThrottle:
    # One per process: a new browser session does not reset the count.
    return A.LoginThrottle(max_failures=THROTTLE_MAX_FAILURES, window_s=THROTTLE_WINDOW_S)


@st.cache_resource(show_spinner=False)
def _sign_outs() -> A.SignOuts:
    # One per process: a sign-out in one tab ends the user's sessions in every tab.
    return A.SignOuts()


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return False


def _mode() -> str:
    try:
        return A.auth_mode(oidc_configured=_oidc_configured(), path=A.users_file())
    except InputError as exc:
        # No fail-open: whoever was signed in is not any more, and nobody gets in.
        st.session_state.pop(IDENTITY, None)
        st.title("Lägesbild")
        st.error(str(exc))
        st.stop()
        raise  # unreachable: st.stop raises


def _remember(identity: A.Identity) -> A.Identity:
    st.session_state[IDENTITY] = identity
    st.session_state.pop(ENDED, None)
    audit.record_login(audit_store(), identity.username, identity.role, mode=identity.mode)
    return identity


def follow_accounts(identity: A.Identity) -> A.Identity:
    """``identity`` as the accounts file and the sign-outs say now (no Streamlit calls, so a
    deferred download can use it too).

    Raises
    ------
    PermissionDenied
        When the session has ended (account removed, new password, signed out elsewhere).
    InputError
        When the accounts file cannot be read.
    """
    return A.refresh_identity(
        identity,
        A.current_accounts(A.users_file()),
        signed_out_at=_sign_outs().last(identity.username),
    )


def try_login(username: str, password: str) -> A.Identity | str:
    """Check a local login: the identity, or the Swedish message to show.

    The attempt is counted by the throttle *before* the password is checked, so attempts made
    in parallel are all counted; a refused attempt (throttled or wrong) is audited, with the
    typed name only if it is an account (`geo.auth.audit_login_name`).
    """
    name = A.login_name(username)
    password = str(password or "")[: A.MAX_PASSWORD_LENGTH]
    accounts = A.current_accounts(A.users_file())
    who, extra = A.audit_login_name(name, accounts)
    if not _throttle().attempt(name):
        audit.record_login(
            audit_store(), who, None, mode="local", outcome="nekad", reason="throttled", **extra
        )
        return "För många misslyckade inloggningar. Vänta en kvart och försök igen."
    identity = A.authenticate(accounts, name, password)
    if identity is None:
        audit.record_login(audit_store(), who, None, mode="local", ok=False, **extra)
        return "Fel användarnamn eller lösenord."
    _throttle().succeeded(name)
    return identity


def _login_heading() -> None:
    st.title("Logga in")
    st.caption("Lägesbild innehåller känsliga uppgifter (brottsdatalagen). Allt du gör loggas.")
    if st.session_state.get(ENDED):
        st.warning(st.session_state[ENDED])


def _local_login() -> A.Identity:
    _login_heading()
    with st.form("lagesbild_login"):
        username = st.text_input("Användarnamn", key="login_user", max_chars=A.MAX_USERNAME_LENGTH)
        password = st.text_input(
            "Lösenord", type="password", key="login_password", max_chars=A.MAX_PASSWORD_LENGTH
        )
        submitted = st.form_submit_button("Logga in", type="primary")
    if submitted:
        try:
            outcome = try_login(username, password)
        except InputError as exc:  # the accounts file cannot be read
            st.error(str(exc))
            st.stop()
        if isinstance(outcome, str):
            st.error(outcome)
            st.stop()
        _remember(outcome)
        st.rerun()
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises


def _oidc_login() -> A.Identity:
    if not st.user.is_logged_in:
        _login_heading()
        st.button("Logga in med organisationens konto", on_click=st.login, type="primary")
        st.stop()
    claims = st.user.to_dict()
    try:
        identity = A.oidc_identity(claims, A.current_accounts(A.users_file()))
    except (PermissionDenied, InputError) as exc:
        who = str(claims.get("email") or claims.get("sub") or "okänd")
        audit.record_login(audit_store(), who, None, mode="oidc", ok=False)
        st.error(str(exc))
        st.button("Logga ut", on_click=st.logout)
        st.stop()
        raise
    return _remember(identity)


def _end_session(identity: A.Identity, reason: str) -> None:
    st.session_state.pop(IDENTITY, None)
    st.session_state[ENDED] = reason
    audit.record_session_end(audit_store(), identity.username, identity.role, reason=reason)


def _current(mode: str) -> A.Identity | None:
    """The session's identity if it still holds in ``mode``, else None (ended and audited)."""
    identity = st.session_state.get(IDENTITY)
    if not isinstance(identity, A.Identity):
        return None
    if identity.mode != mode:
        _end_session(identity, "Inloggningssättet har ändrats; logga in igen.")
        return None
    if mode == "oidc" and not st.user.is_logged_in:
        _end_session(identity, "Du är utloggad från organisationens konto; logga in igen.")
        return None
    try:
        current = follow_accounts(identity)
    except (PermissionDenied, InputError) as exc:
        _end_session(identity, str(exc))
        return None
    st.session_state[IDENTITY] = current
    return current


def login() -> A.Identity:
    """The signed-in identity; renders the login and stops the script until there is one.

    Runs at the top of every script run (``app.py``, every page via `require`), so the
    session follows the accounts file on each action.
    """
    bind_actor(None)  # nothing this run writes is attributed to a previous run's user
    mode = _mode()
    identity = _current(mode)
    if identity is None:
        if mode == "demo":
            identity = _remember(A.DEMO_IDENTITY)
        elif mode == "oidc":
            identity = _oidc_login()
        else:
            identity = _local_login()
    bind_actor(identity.username, identity.role)
    return identity


def _logout() -> None:
    identity = st.session_state.pop(IDENTITY, None)
    if isinstance(identity, A.Identity):
        _sign_outs().sign_out(identity.username)  # every other tab of this user ends too
        audit.record_logout(audit_store(), identity.username, identity.role)
        if identity.mode == "oidc":
            st.logout()


def show_user(identity: A.Identity) -> None:
    """Sidebar: the signed-in user and a logout button; in demo mode a visible banner."""
    sb = st.sidebar
    if identity.mode == "demo":
        sb.warning(
            "**Demoläge** (LAGESBILD\\_AUTH=demo) – alla som når appen är administratör. "
            "Lägg till konton med `lagesbild users add NAMN --role ROLL` och starta utan "
            "demoläget, eller konfigurera OpenID Connect, innan riktiga data läses in."
        )
        return
    sb.caption(f"Inloggad: {md_escape(identity.label)}")
    sb.button("Logga ut", on_click=_logout, key="lagesbild_logout")


def may_open(identity: A.Identity, page_path: str) -> bool:
    """True when the page at ``page_path`` is listed for the identity's role."""
    return A.allowed(identity.role, PAGE_ACTIONS.get(Path(page_path).stem, A.VIEW_MAP))


def can(action: str) -> bool:
    """Whether the signed-in role may perform ``action`` (for hiding buttons only)."""
    return A.allowed(login().role, action)


def require(action: str, **params: Any) -> A.Identity:
    """Stop the script unless the signed-in role may perform ``action``.

    A refusal is shown in Swedish and recorded as ``auth.denied`` with ``params``.
    """
    identity = login()
    try:
        A.check(identity.role, action)
    except PermissionDenied as exc:
        audit.record_denied(audit_store(), identity.username, identity.role, action, **params)
        st.error(str(exc))
        st.stop()
    return identity


def audited_data(
    data: bytes | str | Callable[[], bytes | str],
    *,
    store: Store,
    identity: A.Identity,
    what: str,
    fmt: str,
    params: Mapping | None = None,
    action: str = A.EXPORT_DATA,
) -> Callable[[], bytes | str]:
    """A callable that builds the file (calling ``data`` if it is callable) and records the
    export with its size and sha256; it runs when the user clicks, outside the script run.

    The identity is checked again at the click (`follow_accounts`, then the role against
    ``action``): an account removed or downgraded since the page was drawn gets no file, and
    the refusal is recorded."""

    def build() -> bytes | str:
        try:
            current = follow_accounts(identity)
            A.check(current.role, action)
        except PermissionDenied:
            audit.record_denied(store, identity.username, identity.role, action, what=what, fmt=fmt)
            raise
        content = data() if callable(data) else data
        raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        audit.record_export(
            store,
            current.username,
            current.role,
            what=what,
            fmt=fmt,
            size_bytes=len(raw),
            sha256=hashlib.sha256(raw).hexdigest(),
            **dict(params or {}),
        )
        return content

    return build


def download_button(
    container: Any,
    label: str,
    data: bytes | str | Callable[[], bytes | str],
    *,
    what: str,
    fmt: str,
    file_name: str,
    params: Mapping | None = None,
    action: str = A.EXPORT_DATA,
    **kwargs: Any,
) -> None:
    """An audited export button; roles without ``action`` see a short note instead."""
    identity = login()
    if not A.allowed(identity.role, action):
        container.caption(f"{md_escape(label)}: kräver rollen {A.MINIMUM_ROLE[action]}.")
        return
    kwargs.setdefault("on_click", "ignore")
    container.download_button(
        label,
        data=audited_data(
            data,
            store=audit_store(),
            identity=identity,
            what=what,
            fmt=fmt,
            params=params,
            action=action,
        ),
        file_name=file_name,
        **kwargs,
    )


def visible_pages(identity: A.Identity, sections: Mapping[str, list]) -> dict[str, list]:
    """The navigation's sections with only the pages the role may open (`may_open`, by the
    page's ``url_path``, which Streamlit takes from the file name); empty sections go."""
    out = {}
    for title, pages in sections.items():
        kept = [p for p in pages if may_open(identity, p.url_path or "karta")]
        if kept:
            out[title] = kept
    return out


def record_import(
    identity: A.Identity, *, kind: str, file_name: str, content: bytes, result: Any, **params: Any
) -> int:
    """Record an import: the file (name, sha256, size) and ``result``'s row counts."""
    return audit.record_import(
        audit_store(),
        identity.username,
        identity.role,
        kind=kind,
        file_name=file_name,
        sha256=hashlib.sha256(content).hexdigest(),
        rows=int(result.rows),
        loaded=int(result.loaded),
        rejected=len(result.rejected),
        size_bytes=len(content),
        **params,
    )
