"""Login and server-side access checks for the Streamlit pages (issue 9).

Pages import only these:

``login() -> Identity``
    Who is signed in; shows the login (OpenID Connect button or local account form) and
    stops the script until someone is. In the demo mode (no ``[auth]`` secrets, no accounts
    file) everyone is the single user ``demo`` with the role administratör.
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
from geo.store import Store, default_url
from ui.common import md_escape

IDENTITY = "lagesbild_identity"  # session_state key of the signed-in Identity
THROTTLE_WINDOW_S = 15 * 60
THROTTLE_MAX_FAILURES = 5

#: The action a role needs to see a page in the navigation (by file stem). Pages not listed
#: need `geo.auth.VIEW_MAP`; every page still calls `require` itself.
PAGE_ACTIONS: dict[str, str] = {
    "karta": A.VIEW_MAP,
    "hotspots": A.VIEW_MAP,
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


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return False


def _mode() -> str:
    try:
        return A.auth_mode(oidc_configured=_oidc_configured(), path=A.users_file())
    except InputError as exc:
        st.error(str(exc))
        st.stop()
        raise  # unreachable: st.stop raises


def _remember(identity: A.Identity) -> A.Identity:
    st.session_state[IDENTITY] = identity
    audit.record_login(audit_store(), identity.username, identity.role, mode=identity.mode)
    return identity


def _local_login() -> A.Identity:
    st.title("Logga in")
    st.caption("Lägesbild innehåller känsliga uppgifter (brottsdatalagen). Allt du gör loggas.")
    with st.form("lagesbild_login"):
        username = st.text_input("Användarnamn", key="login_user")
        password = st.text_input("Lösenord", type="password", key="login_password")
        submitted = st.form_submit_button("Logga in", type="primary")
    if submitted:
        throttle = _throttle()
        name = username.strip()
        if throttle.blocked(name):
            st.error("För många misslyckade inloggningar. Vänta en kvart och försök igen.")
            st.stop()
        try:
            accounts = A.load_accounts(A.users_file())
        except InputError as exc:
            st.error(str(exc))
            st.stop()
        identity = A.authenticate(accounts, name, password)
        if identity is None:
            throttle.failed(name)
            audit.record_login(audit_store(), name or "okänd", None, mode="local", ok=False)
            st.error("Fel användarnamn eller lösenord.")
            st.stop()
        throttle.reset(name)
        _remember(identity)
        st.rerun()
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises


def _oidc_login() -> A.Identity:
    if not st.user.is_logged_in:
        st.title("Logga in")
        st.caption("Lägesbild innehåller känsliga uppgifter (brottsdatalagen). Allt du gör loggas.")
        st.button("Logga in med organisationens konto", on_click=st.login, type="primary")
        st.stop()
    claims = st.user.to_dict()
    try:
        identity = A.oidc_identity(claims, A.load_accounts(A.users_file()))
    except (PermissionDenied, InputError) as exc:
        who = str(claims.get("email") or claims.get("sub") or "okänd")
        audit.record_login(audit_store(), who, None, mode="oidc", ok=False)
        st.error(str(exc))
        st.button("Logga ut", on_click=st.logout)
        st.stop()
        raise
    return _remember(identity)


def login() -> A.Identity:
    """The signed-in identity; renders the login and stops the script until there is one."""
    mode = _mode()
    identity = st.session_state.get(IDENTITY)
    if isinstance(identity, A.Identity) and identity.mode == mode:
        return identity
    st.session_state.pop(IDENTITY, None)
    if mode == "demo":
        return _remember(A.DEMO_IDENTITY)
    if mode == "oidc":
        return _oidc_login()
    return _local_login()


def _logout() -> None:
    identity = st.session_state.pop(IDENTITY, None)
    if isinstance(identity, A.Identity):
        audit.record_logout(audit_store(), identity.username, identity.role)
        if identity.mode == "oidc":
            st.logout()


def show_user(identity: A.Identity) -> None:
    """Sidebar: the signed-in user and a logout button; in demo mode a visible banner."""
    sb = st.sidebar
    if identity.mode == "demo":
        sb.warning(
            "**Demoläge** – ingen inloggning är konfigurerad, så alla som når appen är "
            "administratör. Lägg till konton med `lagesbild users add NAMN --role ROLL` "
            "eller konfigurera OpenID Connect innan riktiga data läses in."
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
) -> Callable[[], bytes | str]:
    """A callable that builds the file (calling ``data`` if it is callable) and records the
    export with its size and sha256; it runs when the user clicks, outside the script run."""

    def build() -> bytes | str:
        content = data() if callable(data) else data
        raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        audit.record_export(
            store,
            identity.username,
            identity.role,
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
        container.caption(f"{label}: kräver rollen {A.MINIMUM_ROLE[action]}.")
        return
    kwargs.setdefault("on_click", "ignore")
    container.download_button(
        label,
        data=audited_data(
            data, store=audit_store(), identity=identity, what=what, fmt=fmt, params=params
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
