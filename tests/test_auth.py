"""geo.auth: permissions, password hashes, the accounts file, login modes; the login page."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo import audit
from geo import auth as A
from geo.errors import InputError, PermissionDenied
from geo.store import Store

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "ett långt lösenord"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A fresh data dir (SQLite audit DB) and accounts file path; no forced mode."""
    monkeypatch.setenv("LAGESBILD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LAGESBILD_DATABASE_URL", raising=False)
    monkeypatch.delenv(A.AUTH_MODE_ENV, raising=False)
    users = tmp_path / "users.toml"
    monkeypatch.setenv(A.USERS_FILE_ENV, str(users))
    st.cache_resource.clear()
    yield users
    st.cache_resource.clear()


# --- permissions -------------------------------------------------------------------------
def test_roles_are_cumulative():
    # each role may do everything the weaker one may, and more
    sets = [A.PERMISSIONS[r] for r in A.ROLES]
    for weaker, stronger in zip(sets, sets[1:], strict=False):
        assert weaker < stronger
    assert A.PERMISSIONS["administratör"] == frozenset(A.ACTIONS)


@pytest.mark.parametrize(
    ("role", "action", "message"),
    [
        (
            "läsare",
            A.EXPORT_DATA,
            "Rollen läsare får inte exportera data och rapporter; det kräver rollen planerare eller högre",
        ),
        ("planerare", A.EDIT_INSPECTION, "kräver rollen besiktning eller högre"),
        (
            "besiktning",
            A.MANAGE_USERS,
            "får inte hantera användare; det kräver rollen administratör\\.$",
        ),
    ],
    ids=["reader-export", "planner-inspection", "inspector-users"],
)
def test_check_refuses_in_swedish(role, action, message):
    with pytest.raises(PermissionDenied, match=message):
        A.check(role, action)


@pytest.mark.parametrize(
    ("role", "action", "match"),
    [("chef", A.VIEW_MAP, "role was 'chef'"), ("läsare", "fly", "action was 'fly'")],
    ids=["bad-role", "bad-action"],
)
def test_unknown_role_or_action_is_an_error_not_a_refusal(role, action, match):
    with pytest.raises(ValueError, match=match):
        A.allowed(role, action)


# --- passwords ---------------------------------------------------------------------------
def test_hash_is_salted_argon2id_and_verifies():
    h1, h2 = A.hash_password(PASSWORD), A.hash_password(PASSWORD)
    assert h1 != h2  # salted
    assert h1.startswith("$argon2id$")
    assert A.verify_password(h1, PASSWORD)
    assert not A.verify_password(h1, PASSWORD + "x")
    assert not A.verify_password("not a hash", PASSWORD)
    assert not A.verify_password(None, PASSWORD)


def test_short_password_refused():
    with pytest.raises(ValueError, match="minst 10 tecken"):
        A.hash_password("kort")


# --- accounts file -----------------------------------------------------------------------
def test_accounts_round_trip_private_file(tmp_path):
    path = tmp_path / "u" / "users.toml"
    A.add_account(path, "anna", "planerare", PASSWORD, display_name='Anna "A" Å')
    A.add_account(path, "bo@polisen.se", "administratör")  # OIDC, no password
    accounts = A.load_accounts(path)
    assert accounts["anna"].display_name == 'Anna "A" Å'
    assert accounts["bo@polisen.se"].password_hash is None
    assert A.verify_password(accounts["anna"].password_hash, PASSWORD)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert PASSWORD not in path.read_text(encoding="utf-8")


def test_add_replaces_and_remove_keeps_last_admin(tmp_path):
    path = tmp_path / "users.toml"
    A.add_account(path, "a", "administratör", PASSWORD)
    A.add_account(path, "a", "läsare", PASSWORD)
    assert A.load_accounts(path)["a"].role == "läsare"
    A.add_account(path, "b", "administratör")
    with pytest.raises(InputError, match="b är den sista administratören"):
        A.remove_account(path, "b")
    with pytest.raises(InputError, match="Användaren c finns inte"):
        A.remove_account(path, "c")
    A.remove_account(path, "a")
    assert list(A.load_accounts(path)) == ["b"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("users = [", "kan inte läsas som TOML"),
        ('users = "x"', "ska ha en lista"),
        ('[[users]]\nrole = "läsare"', "användare nr 1 saknar username"),
        ('[[users]]\nusername = "a"\nrole = "chef"', "användaren a har rollen 'chef'"),
        (
            '[[users]]\nusername = "a"\nrole = "läsare"\n[[users]]\nusername = "a"\nrole = "läsare"',
            "finns två gånger",
        ),
        ('[[users]]\nusername = "a b"\nrole = "läsare"', "inga mellanslag"),
        ('[[users]]\nusername = "![x](http://e/a.png)"\nrole = "läsare"', "bara bokstäver"),
    ],
    ids=["not-toml", "not-list", "no-name", "bad-role", "duplicate", "space", "markdown"],
)
def test_bad_accounts_file(tmp_path, text, match):
    path = tmp_path / "users.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        A.load_accounts(path)


def test_authenticate_and_oidc_lookup():
    accounts = {
        "anna": A.Account("anna", "läsare", "Anna", A.hash_password(PASSWORD)),
        "bo@polisen.se": A.Account("bo@polisen.se", "planerare"),
    }
    ident = A.authenticate(accounts, " anna ", PASSWORD)
    assert (ident.username, ident.role, ident.mode) == ("anna", "läsare", "local")
    assert A.authenticate(accounts, "anna", "fel lösenord!!") is None
    assert A.authenticate(accounts, "okänd", PASSWORD) is None
    # an OIDC-only account cannot log in with a password
    assert A.authenticate(accounts, "bo@polisen.se", "") is None
    assert (
        A.oidc_identity({"email": "bo@polisen.se", "name": "Bo"}, accounts).label
        == "Bo (planerare)"
    )
    with pytest.raises(PermissionDenied, match="Kontot x@y.se har ingen roll"):
        A.oidc_identity({"email": "x@y.se", "sub": "1"}, accounts)


def test_auth_mode(env, monkeypatch):
    assert A.auth_mode(oidc_configured=False) == "demo"  # first start: no setup
    assert A.auth_mode(oidc_configured=True) == "oidc"
    A.add_account(env, "bo@polisen.se", "administratör")
    # any account (even OIDC-only) ends the open demo mode
    assert A.auth_mode(oidc_configured=False) == "local"
    monkeypatch.setenv(A.AUTH_MODE_ENV, "demo")
    assert A.auth_mode(oidc_configured=False) == "demo"
    monkeypatch.setenv(A.AUTH_MODE_ENV, "oidc")
    with pytest.raises(InputError, match="ingen \\[auth\\]-sektion"):
        A.auth_mode(oidc_configured=False)
    monkeypatch.setenv(A.AUTH_MODE_ENV, "open")
    with pytest.raises(InputError, match="LAGESBILD_AUTH var 'open'"):
        A.auth_mode(oidc_configured=False)


def test_throttle_blocks_after_failures():
    t = A.LoginThrottle(max_failures=3, window_s=100)
    for i in range(3):
        assert not t.blocked("anna", now=i)
        t.failed("anna", now=i)
    assert t.blocked("anna", now=3)
    assert not t.blocked("bo", now=3)
    assert not t.blocked("anna", now=103)  # 100 s after the third failure at t=2
    t.failed("anna", now=200)
    t.reset("anna")
    assert not t.blocked("anna", now=201)


# --- the app: demo banner, local login form, navigation by role --------------------------
def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    return at


def _login(at: AppTest, username: str, password: str) -> AppTest:
    at.run()
    at.text_input(key="login_user").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    at.run()
    return at


def test_demo_mode_shows_banner_and_is_admin(env):
    at = _app()
    at.run()
    assert not at.exception
    assert any("Demoläge" in w.value for w in at.sidebar.warning)
    store = Store()
    log = audit.audit_frame(store, actions=["auth.login"])
    assert log.loc[0, ["actor", "role", "params"]].tolist() == [
        "demo",
        "administratör",
        '{"mode": "demo"}',
    ]


def test_local_login_wrong_password_then_right(env):
    A.add_account(env, "lars", "läsare", PASSWORD)
    at = _app()
    at.run()
    assert [t.label for t in at.text_input] == ["Användarnamn", "Lösenord"]
    assert not at.sidebar.warning  # no demo banner once accounts exist
    _login(at, "lars", "fel lösenord!")
    assert "Fel användarnamn eller lösenord." in [e.value for e in at.error]
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click()
    at.run()
    assert not at.exception
    # the caption is markdown: the name is escaped, and shows as "lars (läsare)"
    assert any(r"Inloggad: lars \(läsare\)" in c.value for c in at.sidebar.caption)
    log = audit.audit_frame(Store(), actions=["auth.login"])
    # newest first: the success, then the failure
    assert log[["actor", "outcome"]].values.tolist() == [["lars", "ok"], ["lars", "fel"]]


def test_unknown_user_refused(env):
    A.add_account(env, "lars", "läsare", PASSWORD)
    at = _login(_app(), "ingen", PASSWORD)
    assert "Fel användarnamn eller lösenord." in [e.value for e in at.error]
    assert audit.audit_frame(Store())[["actor", "outcome"]].values.tolist() == [["ingen", "fel"]]


def test_throttle_refuses_even_the_right_password(env, monkeypatch):
    import ui.auth

    monkeypatch.setattr(ui.auth, "THROTTLE_MAX_FAILURES", 2)
    A.add_account(env, "lars", "läsare", PASSWORD)
    at = _app()
    for _ in range(2):
        _login(at, "lars", "fel lösenord!")
    at.text_input(key="login_password").input(PASSWORD)  # right, but blocked now
    at.button[0].click()
    at.run()
    assert any("För många misslyckade inloggningar" in e.value for e in at.error)
    assert not any("Inloggad" in c.value for c in at.sidebar.caption)


# --- the CLI: lagesbild users add/list/remove ----------------------------------------------
def _cli(argv: list[str]) -> int:
    import argparse

    from geo.commands import users

    parser = argparse.ArgumentParser(prog="lagesbild")
    users.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_users_cli(env, monkeypatch, capsys):
    import io as _io

    monkeypatch.setattr("sys.stdin", _io.StringIO(PASSWORD + "\n"))
    assert _cli(["users", "add", "anna", "--role", "administratör", "--password-stdin"]) == 0
    assert _cli(["users", "add", "bo@polisen.se", "--role", "läsare", "--oidc"]) == 0
    capsys.readouterr()
    assert _cli(["users", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "anna\tadministratör\tlösenord\t",
        "bo@polisen.se\tläsare\tOpenID Connect\t",
    ]
    assert A.authenticate(A.load_accounts(env), "anna", PASSWORD).role == "administratör"
    assert A.auth_mode(oidc_configured=False) == "local"  # the demo mode has ended
    assert _cli(["users", "remove", "bo@polisen.se"]) == 0
    monkeypatch.setattr("sys.stdin", _io.StringIO("kort\n"))
    with pytest.raises(InputError, match="minst 10 tecken"):
        _cli(["users", "add", "cia", "--role", "läsare", "--password-stdin"])
    log = audit.audit_frame(Store())
    assert log["action"].tolist() == ["user.delete", "user.add", "user.add"]
    assert log["actor"].str.startswith("cli:").all()
