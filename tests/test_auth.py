"""geo.auth: permissions, password hashes, the accounts file, login modes; the login page."""

from __future__ import annotations

import json
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
from ui.auth import IDENTITY

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
    # no accounts file, no OIDC, no LAGESBILD_AUTH: no fallback to the open demo mode
    with pytest.raises(A.SignInNotConfigured, match="Inloggningen är inte konfigurerad"):
        A.auth_mode(oidc_configured=False)
    assert A.auth_mode(oidc_configured=True) == "oidc"
    monkeypatch.setenv(A.AUTH_MODE_ENV, "demo")  # asked for explicitly: demo
    assert A.auth_mode(oidc_configured=False) == "demo"
    A.add_account(env, "bo@polisen.se", "administratör")
    # an account (even OIDC-only) refuses a leftover LAGESBILD_AUTH=demo
    with pytest.raises(InputError, match="LAGESBILD_AUTH=demo men kontofilen .* har konton"):
        A.auth_mode(oidc_configured=False)
    monkeypatch.delenv(A.AUTH_MODE_ENV)
    assert A.auth_mode(oidc_configured=False) == "local"
    monkeypatch.setenv(A.AUTH_MODE_ENV, "oidc")
    with pytest.raises(InputError, match="ingen \\[auth\\]-sektion"):
        A.auth_mode(oidc_configured=False)
    monkeypatch.setenv(A.AUTH_MODE_ENV, "open")
    with pytest.raises(InputError, match="LAGESBILD_AUTH var 'open'"):
        A.auth_mode(oidc_configured=False)


def test_deleted_accounts_file_is_not_demo_mode(env):
    A.add_account(env, "lars", "läsare", PASSWORD)
    assert A.auth_mode(oidc_configured=False) == "local"
    env.unlink()
    with pytest.raises(A.SignInNotConfigured, match=f"kontofilen {env} finns inte"):
        A.auth_mode(oidc_configured=False)


def test_refresh_identity_follows_the_accounts():
    acc = A.Account("anna", "administratör", "Anna", A.hash_password(PASSWORD))
    me = A.signed_in(acc)
    assert A.refresh_identity(me, {"anna": acc}) == me
    down = A.refresh_identity(me, {"anna": A.Account("anna", "läsare", "Anna", acc.password_hash)})
    assert (down.username, down.role) == ("anna", "läsare")
    with pytest.raises(PermissionDenied, match="Kontot anna finns inte längre"):
        A.refresh_identity(me, {})
    new_pw = A.Account("anna", "administratör", "Anna", A.hash_password("ett annat lösenord"))
    with pytest.raises(PermissionDenied, match="Lösenordet för anna har ändrats"):
        A.refresh_identity(me, {"anna": new_pw})
    with pytest.raises(PermissionDenied, match="anna har loggat ut"):
        A.refresh_identity(me, {"anna": acc}, signed_out_at=me.signed_in_at + 1)
    # a sign-out before this session began does not end it
    assert A.refresh_identity(me, {"anna": acc}, signed_out_at=me.signed_in_at - 1) == me


def test_throttle_blocks_after_failures():
    t = A.LoginThrottle(max_failures=3, window_s=100)
    for i in range(3):
        assert not t.blocked("anna", now=i)
        assert t.attempt("anna", now=i)
    assert t.blocked("anna", now=3)
    assert not t.attempt("anna", now=3)  # refused, and not counted
    assert not t.blocked("bo", now=3)
    assert not t.blocked("anna", now=103)  # 100 s after the third attempt at t=2
    t.failed("anna", now=200)
    t.succeeded("anna")
    assert not t.blocked("anna", now=201)


def test_throttle_counts_parallel_attempts():
    from concurrent.futures import ThreadPoolExecutor

    t = A.LoginThrottle(max_failures=5, window_s=900)
    with ThreadPoolExecutor(max_workers=20) as pool:
        allowed = list(pool.map(lambda _: t.attempt("anna"), range(40)))
    assert allowed.count(True) == 5  # 5 of 40 reach the password check, not 20 of 20


def test_throttle_table_stays_small():
    t = A.LoginThrottle(max_failures=5, window_s=60, max_names=100)
    for i in range(1000):  # a new name every 0.1 s
        t.attempt(f"n{i}", now=i / 10)
    assert len(t) <= 100
    t.attempt("sist", now=10_000)  # long after: every old name has expired and is pruned
    assert len(t) == 1
    t.attempt("x" * 5_000_000, now=10_001)  # names are cut to 200 characters
    assert max(len(k) for k in t._failures) == A.MAX_USERNAME_LENGTH


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


def test_demo_mode_shows_banner_and_is_admin(env, monkeypatch):
    monkeypatch.setenv(A.AUTH_MODE_ENV, "demo")
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
    # "ingen" is no account: recorded as okänd, with a hash of what was typed
    row = audit.audit_frame(Store()).iloc[0]
    assert [row["actor"], row["outcome"]] == ["okänd", "fel"]
    assert "ingen" not in row["params"]


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


# --- sessions follow the accounts (issue 18) -----------------------------------------------
def _signed_in_app(env, name="lars", role="läsare") -> AppTest:
    A.add_account(env, name, role, PASSWORD)
    at = _login(_app(), name, PASSWORD)
    assert not at.exception
    assert any(f"Inloggad: {name}" in c.value for c in at.sidebar.caption)
    return at


def _sessions_ended(reason: str) -> list[str]:
    log = audit.audit_frame(Store(), actions=["auth.session_end"])
    return [json.loads(p)["reason"] for p in log["params"] if reason in p]


def test_no_sign_in_configured_stays_signed_out(env):
    at = _app()
    at.run()
    assert not at.exception
    assert any("Inloggningen är inte konfigurerad" in e.value for e in at.error)
    assert not at.sidebar.caption and not at.sidebar.warning  # nobody, not even demo
    assert audit.audit_frame(Store()).empty


def test_open_session_when_the_accounts_file_goes_missing(env):
    at = _signed_in_app(env)
    env.unlink()
    at.run()
    # the läsare does not become administratör: the app refuses everyone
    assert any("Inloggningen är inte konfigurerad" in e.value for e in at.error)
    assert not any("administratör" in c.value for c in at.sidebar.caption)
    assert IDENTITY not in at.session_state


def test_removed_user_is_refused_on_the_next_action(env):
    at = _signed_in_app(env)
    A.add_account(env, "admin", "administratör", PASSWORD)
    A.remove_account(env, "lars")
    at.run()  # any widget action reruns the script
    assert [t.label for t in at.text_input] == ["Användarnamn", "Lösenord"]
    assert any("Kontot lars finns inte längre" in w.value for w in at.warning)
    assert not any("Inloggad" in c.value for c in at.sidebar.caption)
    assert _sessions_ended("finns inte längre")


def test_downgraded_user_loses_the_role_at_once(env):
    A.add_account(env, "anna", "administratör", PASSWORD)
    at = AppTest.from_file(str(ROOT / "views" / "granskning.py"), default_timeout=120)
    at.session_state[IDENTITY] = A.signed_in(A.load_accounts(env)["anna"])
    at.run()
    assert not at.exception and at.title[0].value == "Granskning"
    account = A.load_accounts(env)["anna"]
    A.save_accounts(env, [A.Account("anna", "läsare", "", account.password_hash)])
    at.run()
    assert any("Rollen läsare får inte läsa granskningsloggen" in e.value for e in at.error)
    assert at.session_state[IDENTITY].role == "läsare"


def test_new_password_ends_the_old_session(env):
    at = _signed_in_app(env)
    A.add_account(env, "lars", "läsare", "ett helt nytt lösenord")
    at.run()
    assert any("Lösenordet för lars har ändrats" in w.value for w in at.warning)


def test_logout_ends_every_tab(env):
    first = _signed_in_app(env)
    second = _login(_app(), "lars", PASSWORD)  # the same user in another tab
    first.sidebar.button(key="lagesbild_logout").click()
    first.run()
    assert [t.label for t in first.text_input] == ["Användarnamn", "Lösenord"]
    second.run()
    assert any("lars har loggat ut" in w.value for w in second.warning)
    assert not any("Inloggad" in c.value for c in second.sidebar.caption)


def test_deferred_download_refused_after_removal(env):
    from ui.auth import audited_data

    A.add_account(env, "admin", "administratör", PASSWORD)
    A.add_account(env, "pia", "planerare", PASSWORD)
    build = audited_data(
        b"x", store=Store(), identity=A.signed_in(A.load_accounts(env)["pia"]),
        what="zones", fmt="csv",
    )  # fmt: skip
    A.remove_account(env, "pia")  # removed between drawing the button and the click
    with pytest.raises(PermissionDenied, match="Kontot pia finns inte längre"):
        build()
    log = audit.audit_frame(Store())
    assert log["action"].tolist()[0] == "auth.denied"
    assert audit.audit_frame(Store(), actions=["export."]).empty


def test_parallel_wrong_passwords_are_all_counted(env, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    import ui.auth

    A.add_account(env, "lars", "läsare", PASSWORD)
    # eight sessions submit a wrong password at the same moment (through the login code the
    # form calls); argon2 takes ~0.1 s, so without counting first all eight would get through
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: ui.auth.try_login("lars", "fel lösenord!"), range(8)))
    assert outcomes.count("Fel användarnamn eller lösenord.") == ui.auth.THROTTLE_MAX_FAILURES
    log = audit.audit_frame(Store(), actions=["auth.login"])
    assert sorted(log["outcome"]) == ["fel"] * 5 + ["nekad"] * 3  # throttled attempts logged
    assert (
        log.loc[log["outcome"] == "nekad", "params"].map(json.loads).map(lambda p: p["reason"])
        == "throttled"
    ).all()
    # ... and now even the right password is refused
    assert ui.auth.try_login("lars", PASSWORD).startswith("För många misslyckade")


def test_huge_name_or_password_in_name_field_stays_out_of_the_log(env):
    A.add_account(env, "lars", "läsare", PASSWORD)
    db = Path(os.environ["LAGESBILD_DATA_DIR"]) / "lagesbild.db"
    at = _login(_app(), "mitt hemliga lösenord", PASSWORD)  # the password in the name field
    at.text_input(key="login_user").input("x" * 5_000_000)  # and a 5 MB name
    at.button[0].click()
    at.run()
    log = audit.audit_frame(Store(), actions=["auth.login"])
    assert log["actor"].tolist() == ["okänd", "okänd"]
    assert not log["params"].str.contains("hemliga").any()
    assert log["params"].map(lambda p: len(json.loads(p)["name_sha256"])).tolist() == [16, 16]
    assert db.stat().st_size < 1_000_000  # 5 MB names grew the database by 40 MB before


def test_database_and_its_folder_are_private(env):
    Store()  # creates the SQLite file
    db = Path(os.environ["LAGESBILD_DATA_DIR"]) / "lagesbild.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for side in db.parent.glob("lagesbild.db-*"):  # -wal and -shm take the file's mode
        assert stat.S_IMODE(side.stat().st_mode) == 0o600
