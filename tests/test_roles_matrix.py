"""Every role against every action, on the server side: allowed or refused, and the audit log.

The guard (`ui.auth.require`) runs inside a real Streamlit script (AppTest) for each of the
4 roles x 10 actions; then pages are run as a läsare to see that the page itself refuses,
not only that a button is hidden.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo import audit
from geo import auth as A
from geo.store import ROLES, Store
from ui.auth import IDENTITY

ROOT = Path(__file__).resolve().parents[1]

#: The expected matrix, written out by hand (not derived from geo.auth): role -> allowed.
EXPECTED = {
    "läsare": {A.VIEW_MAP},
    "planerare": {A.VIEW_MAP, A.EXPORT_DATA, A.PLAN_ZONES, A.RUN_COMPARE},
    "besiktning": {
        A.VIEW_MAP,
        A.EXPORT_DATA,
        A.PLAN_ZONES,
        A.RUN_COMPARE,
        A.EDIT_INSPECTION,
        A.LOG_ACTIVITY,
    },
    "administratör": set(A.ACTIONS),
}
CASES = [
    pytest.param(role, action, action in EXPECTED[role], id=f"{role}-{action}")
    for role in ROLES
    for action in A.ACTIONS
]


@pytest.fixture
def accounts(tmp_path, monkeypatch):
    """Local mode: one account per role; audit entries in a fresh SQLite file."""
    monkeypatch.setenv("LAGESBILD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LAGESBILD_DATABASE_URL", raising=False)
    monkeypatch.delenv(A.AUTH_MODE_ENV, raising=False)
    path = tmp_path / "users.toml"
    monkeypatch.setenv(A.USERS_FILE_ENV, str(path))
    A.save_accounts(
        path, [A.Account(f"u_{r}", r, password_hash=A.hash_password("x" * 12)) for r in ROLES]
    )
    st.cache_resource.clear()
    st.cache_data.clear()
    yield path
    st.cache_resource.clear()


def _as(at: AppTest, role: str) -> AppTest:
    # what a successful login leaves in the (server-side) session
    at.session_state[IDENTITY] = A.signed_in(A.current_accounts()[f"u_{role}"])
    return at


def _guard_script(action: str) -> None:
    import streamlit as st

    from ui import auth

    auth.require(action, page="matrix")
    st.success("utfört")


def test_matrix_is_the_one_in_geo_auth():
    assert {r: set(A.PERMISSIONS[r]) for r in ROLES} == EXPECTED


@pytest.mark.parametrize(("role", "action", "ok"), CASES)
def test_role_action(accounts, role, action, ok):
    assert A.allowed(role, action) is ok
    at = _as(AppTest.from_function(_guard_script, args=(action,), default_timeout=30), role)
    at.run()
    assert not at.exception
    log = audit.audit_frame(Store(), actions=["auth.denied"])
    if ok:
        assert [s.value for s in at.success] == ["utfört"]
        assert not at.error
        assert log.empty
    else:
        assert not at.success  # the script stopped before the action
        assert at.error[0].value.startswith(f"Rollen {role} får inte {A.ACTIONS[action]}")
        assert log[["actor", "role", "target_id", "outcome", "params"]].values.tolist() == [
            [f"u_{role}", role, action, "nekad", '{"page": "matrix"}']
        ]


# --- pages run as a läsare: the page refuses, and says so -----------------------------------
@pytest.mark.parametrize(
    ("page", "action"),
    [
        ("data", A.IMPORT_DATA),
        ("helgforstarkning", A.PLAN_ZONES),
        ("fore_efter", A.RUN_COMPARE),
        ("granskning", A.VIEW_AUDIT),
    ],
    ids=str,
)
def test_page_refuses_a_reader(accounts, page, action):
    at = _as(AppTest.from_file(str(ROOT / "views" / f"{page}.py"), default_timeout=120), "läsare")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"Rollen läsare får inte {A.ACTIONS[action]}; det kräver rollen {A.MINIMUM_ROLE[action]}"
        + ("" if A.MINIMUM_ROLE[action] == "administratör" else " eller högre")
        + "."
    ]
    assert not at.title  # nothing of the page was drawn
    log = audit.audit_frame(Store(), actions=["auth.denied"])
    assert log[["target_id", "params"]].values.tolist() == [[action, f'{{"page": "{page}"}}']]


def test_navigation_lists_only_allowed_pages(accounts):
    from ui.auth import may_open

    reader = A.signed_in(A.current_accounts()["u_läsare"])
    planner = A.signed_in(A.current_accounts()["u_planerare"])
    pages = [
        "karta",
        "hotspots",
        "om",
        "trygghetsbesiktning",
        "helgforstarkning",
        "fore_efter",
        "data",
        "granskning",
    ]
    assert [p for p in pages if may_open(reader, p)] == [
        "karta",
        "hotspots",
        "om",
        "trygghetsbesiktning",
    ]
    assert [p for p in pages if may_open(planner, p)] == pages[:6]


def test_reader_sees_inspections_but_cannot_edit_or_export(accounts):
    at = _as(
        AppTest.from_file(str(ROOT / "views" / "trygghetsbesiktning.py"), default_timeout=180),
        "läsare",
    )
    at.run()
    assert not at.exception
    assert at.title[0].value == "Trygghetsbesiktning"
    # the downloads are replaced by a note; nothing is built for the läsare
    notes = [c.value for c in at.caption]
    assert "Ladda ned CSV: kräver rollen planerare." in notes
    # submitting the "new round" form (there for everyone) stops at the guard
    (start,) = [b for b in at.button if b.label == "Starta rundan"]
    start.click()
    at.run()
    assert any("får inte markera och ändra ärenden" in e.value for e in at.error)
    denied = audit.audit_frame(Store(), actions=["auth.denied"])
    assert denied["target_id"].tolist() == [A.EDIT_INSPECTION]


def test_planner_export_is_recorded_with_parameters(accounts):
    from ui.auth import audited_data

    store = Store()
    ident = A.signed_in(A.current_accounts()["u_planerare"])
    build = audited_data(
        lambda: b"zone,count\n1,7\n",
        store=store,
        identity=ident,
        what="helgforstarkning_zones",
        fmt="csv",
        params={"k": 3, "window": "fre,lör 18-03"},
    )
    assert audit.audit_frame(store).empty  # nothing before the click
    assert build() == b"zone,count\n1,7\n"
    row = audit.audit_frame(store).iloc[0]
    assert (row["actor"], row["role"], row["action"]) == (
        "u_planerare",
        "planerare",
        "export.helgforstarkning_zones",
    )
    # "zone,count\n" is 11 bytes, "1,7\n" 4: 15 bytes
    assert json.loads(row["params"]) == {
        "fmt": "csv",
        "k": 3,
        "window": "fre,lör 18-03",
        "size_bytes": 15,
        "sha256": hashlib.sha256(b"zone,count\n1,7\n").hexdigest(),
    }
