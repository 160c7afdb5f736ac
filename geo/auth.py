"""Access control: roles, the permission matrix, password hashing and local accounts.

Four roles, each with everything the one before it may do (DESIGN.md §6, issue 9):

* **läsare** — views maps, hotspots and lists;
* **planerare** — + exports, helgförstärkning zones, före/efter comparisons;
* **besiktning** — + marks and edits trygghetsbesiktning issues, logs activities;
* **administratör** — + imports data, manages medborgarlöften and users, reads the audit log.

`allowed` answers, `check` raises `geo.errors.PermissionDenied` with a Swedish message. The
Streamlit side (``ui/auth.py``) calls them on the server before every page and action.

Who is signed in comes from one of three modes (`auth_mode`):

* ``oidc`` — Streamlit's OpenID Connect login (an ``[auth]`` section in secrets); the role
  comes from the accounts file, looked up by e-mail address or subject;
* ``local`` — accounts in a TOML file (env ``LAGESBILD_USERS_FILE``, else
  ``<data dir>/users.toml`` when it exists) with argon2id password hashes;
* ``demo`` — only when asked for with env ``LAGESBILD_AUTH=demo`` (``./dev app`` does so on
  a machine without an accounts file): one local user ``demo`` with the role administratör,
  and a banner saying so. Nothing falls back to it: without OIDC, without accounts and without
  ``LAGESBILD_AUTH=demo`` the app refuses to start (`auth_mode` raises `SignInNotConfigured`),
  so a deleted accounts file never opens the app to everyone.

A signed-in session follows the accounts file: `refresh_identity` runs on every script run
and before every deferred download, so a removed account, a changed role or a new password
takes effect on the session's next action, and `SignOuts` ends every open tab of a user who
signs out in one of them.

The accounts file looks like this (written by `save_accounts`, ``lagesbild users add`` or the
Granskning page; readable by a person, editable by hand)::

    [[users]]
    username = "anna"
    role = "planerare"
    display_name = "Anna Andersson"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

    [[users]]
    username = "bo@polisen.se"   # an OIDC account: no password_hash
    role = "administratör"
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geo.errors import InputError, PermissionDenied
from geo.store import ROLES, data_dir

USERS_FILE_ENV = "LAGESBILD_USERS_FILE"
AUTH_MODE_ENV = "LAGESBILD_AUTH"
USERS_FILENAME = "users.toml"
MODES = ("oidc", "local", "demo")
DEMO_USER = "demo"
MIN_PASSWORD_LENGTH = 10
#: Longest user name, in characters (the login form and the throttle cut what is typed here).
MAX_USERNAME_LENGTH = 200
#: Longest password the login form passes on to argon2, in characters.
MAX_PASSWORD_LENGTH = 1024
_USERNAME_RE = re.compile(rf"[\w.@+-]{{1,{MAX_USERNAME_LENGTH}}}")
#: Who a failed login is recorded as when the typed name is no account: what was typed may be
#: a password typed into the wrong field, so only a short hash of it is kept.
UNKNOWN_USER = "okänd"

# --- actions -------------------------------------------------------------------------------
VIEW_MAP = "view_map"
EXPORT_DATA = "export_data"
PLAN_ZONES = "plan_zones"
RUN_COMPARE = "run_compare"
EDIT_INSPECTION = "edit_inspection"
LOG_ACTIVITY = "log_activity"
IMPORT_DATA = "import_data"
MANAGE_PROMISES = "manage_promises"
MANAGE_USERS = "manage_users"
VIEW_AUDIT = "view_audit"

#: Every action, with the Swedish words a refusal uses.
ACTIONS: dict[str, str] = {
    VIEW_MAP: "se kartor, hotspots och listor",
    EXPORT_DATA: "exportera data och rapporter",
    PLAN_ZONES: "planera helgförstärkningszoner",
    RUN_COMPARE: "göra före/efter-jämförelser",
    EDIT_INSPECTION: "markera och ändra ärenden i trygghetsbesiktningar",
    LOG_ACTIVITY: "logga aktiviteter",
    IMPORT_DATA: "importera data",
    MANAGE_PROMISES: "hantera medborgarlöften",
    MANAGE_USERS: "hantera användare",
    VIEW_AUDIT: "läsa granskningsloggen",
}

#: The weakest role that may perform each action; every stronger role may too.
MINIMUM_ROLE: dict[str, str] = {
    VIEW_MAP: "läsare",
    EXPORT_DATA: "planerare",
    PLAN_ZONES: "planerare",
    RUN_COMPARE: "planerare",
    EDIT_INSPECTION: "besiktning",
    LOG_ACTIVITY: "besiktning",
    IMPORT_DATA: "administratör",
    MANAGE_PROMISES: "administratör",
    MANAGE_USERS: "administratör",
    VIEW_AUDIT: "administratör",
}

#: The permission matrix: role -> the actions it may perform.
PERMISSIONS: dict[str, frozenset[str]] = {
    role: frozenset(
        a for a, least in MINIMUM_ROLE.items() if ROLES.index(role) >= ROLES.index(least)
    )
    for role in ROLES
}


def _check_role(role: object) -> str:
    if role not in ROLES:
        raise ValueError(f"role was {role!r} but is expected to be in {ROLES}")
    return str(role)


def _check_action(action: object) -> str:
    if action not in ACTIONS:
        raise ValueError(f"action was {action!r} but is expected to be in {tuple(ACTIONS)}")
    return str(action)


def allowed(role: str, action: str) -> bool:
    """True when ``role`` may perform ``action``.

    Raises
    ------
    ValueError
        For an unknown role or action (a typo must not read as "refused").

    Examples
    --------
    >>> allowed("planerare", EXPORT_DATA), allowed("läsare", EXPORT_DATA)
    (True, False)
    """
    return _check_action(action) in PERMISSIONS[_check_role(role)]


def check(role: str, action: str) -> None:
    """Raise `PermissionDenied` (Swedish message) unless ``role`` may perform ``action``.

    Examples
    --------
    >>> check("administratör", IMPORT_DATA)
    >>> check("läsare", IMPORT_DATA)
    Traceback (most recent call last):
    ...
    geo.errors.PermissionDenied: Rollen läsare får inte importera data; det kräver rollen administratör.
    """
    if not allowed(role, action):
        least = MINIMUM_ROLE[action]
        more = "" if least == ROLES[-1] else " eller högre"
        raise PermissionDenied(
            f"Rollen {role} får inte {ACTIONS[action]}; det kräver rollen {least}{more}."
        )


# --- passwords -----------------------------------------------------------------------------
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3, p=4)
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("lagesbild-no-such-user")


def hash_password(password: str) -> str:
    """An argon2id hash (salted; the parameters are part of the string).

    Raises
    ------
    ValueError
        When the password is shorter than `MIN_PASSWORD_LENGTH` characters.

    Examples
    --------
    >>> h = hash_password("correct horse battery")
    >>> h.startswith("$argon2id$"), verify_password(h, "correct horse battery")
    (True, True)
    """
    if not isinstance(password, str):
        raise TypeError(f"password must be str, got {type(password).__name__}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken.")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches the hash; False for a wrong password or a broken hash.

    Examples
    --------
    >>> verify_password(hash_password("correct horse battery"), "wrong password!")
    False
    """
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- accounts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Account:
    """One entry of the accounts file. ``password_hash`` is None for OIDC-only accounts."""

    username: str
    role: str
    display_name: str = ""
    password_hash: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who is signed in: ``mode`` is ``demo``, ``local``, ``oidc`` or ``cli``.

    ``signed_in_at`` (seconds since the epoch) and ``stamp`` (`account_stamp` of the account
    at sign-in) let `refresh_identity` tell a session that predates a sign-out or a new
    password.
    """

    username: str
    role: str
    mode: str
    display_name: str = ""
    signed_in_at: float = 0.0
    stamp: str = ""

    @property
    def label(self) -> str:
        """What the sidebar shows, e.g. ``Anna (planerare)``."""
        return f"{self.display_name or self.username} ({self.role})"


#: The single user of the demo mode.
DEMO_IDENTITY = Identity(DEMO_USER, "administratör", "demo", "Demoanvändare")


def _check_username(username: object) -> str:
    name = str(username or "").strip()
    # letters, digits and . _ - @ + only: a name is shown in pages and logs and must never
    # carry markdown or HTML (``![](http://…)`` would make every viewer's browser call out)
    if not _USERNAME_RE.fullmatch(name):
        raise InputError(
            f"Användarnamnet {str(username)!r} går inte att använda: 1–200 tecken, bara "
            "bokstäver, siffror och . _ - @ +, inga mellanslag."
        )
    return name


def users_file() -> Path:
    """The accounts file: env ``LAGESBILD_USERS_FILE``, else ``<data dir>/users.toml``.

    Examples
    --------
    >>> users_file().name.endswith(".toml")
    True
    """
    env = os.environ.get(USERS_FILE_ENV, "").strip()
    return Path(env) if env else data_dir() / USERS_FILENAME


def load_accounts(path: str | os.PathLike) -> dict[str, Account]:
    """Read the accounts file into ``{username: Account}`` (a missing file has none).

    Raises
    ------
    InputError
        When the file is not TOML, an entry lacks a username or has an unknown role, or a
        username appears twice.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "users.toml"
    >>> _ = p.write_text('[[users]]\\nusername = "anna"\\nrole = "läsare"\\n', encoding="utf-8")
    >>> load_accounts(p)["anna"].role
    'läsare'
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Kontofilen {path.name} kan inte läsas som TOML: {exc}.") from exc
    entries = doc.get("users", [])
    if not isinstance(entries, list):
        raise InputError(
            f"Kontofilen {path.name} ska ha en lista [[users]]; fick {type(entries).__name__}."
        )
    accounts: dict[str, Account] = {}
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "username" not in entry:
            raise InputError(f"Kontofilen {path.name}: användare nr {i} saknar username.")
        name = _check_username(entry["username"])
        role = entry.get("role")
        if role not in ROLES:
            raise InputError(
                f"Kontofilen {path.name}: användaren {name} har rollen {role!r}; "
                f"tillåtna roller är {', '.join(ROLES)}."
            )
        if name in accounts:
            raise InputError(f"Kontofilen {path.name}: användaren {name} finns två gånger.")
        accounts[name] = Account(
            name, role, str(entry.get("display_name", "")), entry.get("password_hash") or None
        )
    return accounts


def _toml_str(value: str) -> str:
    # A JSON string with only ASCII escapes is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def save_accounts(path: str | os.PathLike, accounts: Iterable[Account]) -> Path:
    """Write the accounts file atomically, readable by its owner only (mode 600).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "users.toml"
    >>> _ = save_accounts(p, [Account("åsa", "besiktning")])
    >>> load_accounts(p)["åsa"].role
    'besiktning'
    """
    path = Path(path)
    lines = ["# Lägesbild accounts: username, role, argon2id password hash (issue 9)."]
    for a in sorted(accounts, key=lambda a: a.username):
        lines += [
            "",
            "[[users]]",
            f"username = {_toml_str(a.username)}",
            f"role = {_toml_str(a.role)}",
        ]
        if a.display_name:
            lines.append(f"display_name = {_toml_str(a.display_name)}")
        if a.password_hash:
            lines.append(f"password_hash = {_toml_str(a.password_hash)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def add_account(
    path: str | os.PathLike,
    username: str,
    role: str,
    password: str | None = None,
    *,
    display_name: str = "",
) -> Account:
    """Add or replace one account (``password=None``: an OIDC account, no local login).

    Raises
    ------
    InputError
        For a bad username or role; ValueError for a too-short password.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "users.toml"
    >>> add_account(p, "anna", "planerare", "ett långt lösenord").role
    'planerare'
    """
    name = _check_username(username)
    if role not in ROLES:
        raise InputError(f"Rollen {role!r} finns inte; tillåtna roller är {', '.join(ROLES)}.")
    accounts = load_accounts(path)
    account = Account(
        name, role, display_name, hash_password(password) if password is not None else None
    )
    accounts[name] = account
    save_accounts(path, accounts.values())
    return account


def remove_account(path: str | os.PathLike, username: str) -> None:
    """Remove one account.

    Raises
    ------
    InputError
        When there is no such account, or it is the last administratör.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "users.toml"
    >>> _ = save_accounts(p, [Account("a", "administratör"), Account("b", "läsare")])
    >>> remove_account(p, "b"); sorted(load_accounts(p))
    ['a']
    """
    accounts = load_accounts(path)
    if username not in accounts:
        raise InputError(f"Användaren {username} finns inte i {Path(path).name}.")
    rest = {k: v for k, v in accounts.items() if k != username}
    if accounts[username].role == ROLES[-1] and not any(a.role == ROLES[-1] for a in rest.values()):
        raise InputError(f"{username} är den sista administratören och kan inte tas bort.")
    save_accounts(path, rest.values())


def authenticate(accounts: Mapping[str, Account], username: str, password: str) -> Identity | None:
    """The local identity for a correct username and password, else None.

    An unknown user costs the same argon2 verification as a known one (no timing oracle).

    Examples
    --------
    >>> acc = {"anna": Account("anna", "läsare", "", hash_password("ett långt lösenord"))}
    >>> authenticate(acc, "anna", "ett långt lösenord").role
    'läsare'
    >>> authenticate(acc, "anna", "fel lösenord!") is None
    True
    """
    account = accounts.get(login_name(username))
    ok = verify_password(account.password_hash if account else None, password)
    if not ok or account is None:
        return None
    return signed_in(account)


def signed_in(account: Account, *, mode: str = "local") -> Identity:
    """The identity a successful sign-in to ``account`` gives, signed in now.

    Examples
    --------
    >>> me = signed_in(Account("anna", "läsare", password_hash="$argon2id$..."))
    >>> me.role, me.mode, refresh_identity(me, {"anna": Account("anna", "läsare",
    ...     password_hash="$argon2id$...")}) == me
    ('läsare', 'local', True)
    """
    return Identity(
        account.username,
        account.role,
        mode,
        account.display_name,
        signed_in_at=time.time(),
        stamp=account_stamp(account),
    )


def login_name(typed: object) -> str:
    """What a login form's user-name field is taken as: stripped and cut to
    `MAX_USERNAME_LENGTH` characters (a 20 MB "name" must cost nothing to handle).

    Examples
    --------
    >>> login_name("  anna ")
    'anna'
    >>> len(login_name("x" * 5_000_000))
    200
    """
    return str(typed or "")[: MAX_USERNAME_LENGTH * 4].strip()[:MAX_USERNAME_LENGTH]


def audit_login_name(typed: str, accounts: Mapping[str, Account]) -> tuple[str, dict]:
    """Who a failed login is recorded as, and the extra audit parameters.

    A name that is an account is recorded as it is. Anything else is recorded as
    `UNKNOWN_USER` with the first 16 hex digits of its SHA-256 (``name_sha256``): a password
    typed into the name field never reaches the log in clear text, yet repeated guesses at the
    same name can still be told apart.

    Examples
    --------
    >>> audit_login_name("anna", {"anna": Account("anna", "läsare")})
    ('anna', {})
    >>> audit_login_name("hemligt lösenord", {})
    ('okänd', {'name_sha256': 'b70ab15ce087c628'})
    """
    name = login_name(typed)
    if name in accounts:
        return name, {}
    return UNKNOWN_USER, {"name_sha256": hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]}


def account_stamp(account: Account) -> str:
    """A short fingerprint of what a session depends on: the password hash (a new password
    ends every session signed in with the old one).

    Examples
    --------
    >>> account_stamp(Account("a", "läsare")) == account_stamp(Account("a", "planerare"))
    True
    """
    return hashlib.sha256((account.password_hash or "").encode("utf-8")).hexdigest()[:16]


def refresh_identity(
    identity: Identity,
    accounts: Mapping[str, Account],
    *,
    signed_out_at: float | None = None,
) -> Identity:
    """The session's identity as the accounts file says now; refuse a session that has ended.

    Runs on every action (page run, deferred download): a removed account is refused, a
    changed role applies at once (down or up), a new password ends sessions signed in with
    the old one, and a sign-out in another tab (``signed_out_at`` after ``signed_in_at``)
    ends this one. The demo and CLI identities are returned as they are.

    Raises
    ------
    PermissionDenied
        In Swedish, saying why the session has ended.

    Examples
    --------
    >>> acc = {"anna": Account("anna", "läsare", password_hash="$argon2id$...")}
    >>> me = Identity("anna", "planerare", "local", signed_in_at=10.0,
    ...               stamp=account_stamp(acc["anna"]))
    >>> refresh_identity(me, acc).role
    'läsare'
    >>> refresh_identity(me, {})
    Traceback (most recent call last):
    ...
    geo.errors.PermissionDenied: Kontot anna finns inte längre i Lägesbild; sessionen är avslutad.
    >>> refresh_identity(me, acc, signed_out_at=11.0)
    Traceback (most recent call last):
    ...
    geo.errors.PermissionDenied: anna har loggat ut (i en annan flik eller ett annat fönster); logga in igen.
    """
    if identity.mode in ("demo", "cli"):
        return identity
    account = accounts.get(identity.username)
    if account is None:
        raise PermissionDenied(
            f"Kontot {identity.username} finns inte längre i Lägesbild; sessionen är avslutad."
        )
    if identity.mode == "local" and (
        account.password_hash is None or account_stamp(account) != identity.stamp
    ):
        raise PermissionDenied(f"Lösenordet för {identity.username} har ändrats; logga in igen.")
    if signed_out_at is not None and signed_out_at >= identity.signed_in_at:
        raise PermissionDenied(
            f"{identity.username} har loggat ut (i en annan flik eller ett annat fönster); "
            "logga in igen."
        )
    if account.role != identity.role or account.display_name != identity.display_name:
        display = identity.display_name if identity.mode == "oidc" else account.display_name
        return dataclasses.replace(identity, role=account.role, display_name=display)
    return identity


def oidc_identity(claims: Mapping[str, object], accounts: Mapping[str, Account]) -> Identity:
    """The identity of an OpenID Connect user: the role comes from the accounts file.

    The account is looked up by ``email``, then ``preferred_username``, then ``sub``.

    Raises
    ------
    PermissionDenied
        When no account matches: a signed-in person without a role sees nothing.

    Examples
    --------
    >>> oidc_identity({"email": "bo@polisen.se", "sub": "x1"},
    ...               {"bo@polisen.se": Account("bo@polisen.se", "planerare")}).role
    'planerare'
    """
    for key in ("email", "preferred_username", "sub"):
        value = claims.get(key)
        if value and str(value) in accounts:
            account = accounts[str(value)]
            name = str(claims.get("name") or account.display_name or "")
            return Identity(account.username, account.role, "oidc", name, signed_in_at=time.time())
    who = claims.get("email") or claims.get("sub") or "okänd"
    raise PermissionDenied(
        f"Kontot {who} har ingen roll i Lägesbild; be en administratör lägga till det."
    )


def cli_identity() -> Identity:
    """Who runs the command line: ``cli:<operating-system user>`` with the role
    administratör (whoever can run ``lagesbild`` on the server can read its database file;
    the CLI does not pretend otherwise). ``geo.cli.main`` binds it as the audit actor, so a
    ``--by NAME`` is kept as a note, never as the actor.

    Examples
    --------
    >>> me = cli_identity()
    >>> me.username.startswith("cli:"), me.role, me.mode
    (True, 'administratör', 'cli')
    """
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "okänd"
    return Identity(f"cli:{user}", ROLES[-1], "cli", signed_in_at=time.time())


class SignInNotConfigured(InputError):
    """No way to sign in is configured, and the demo mode was not asked for."""


def auth_mode(*, oidc_configured: bool, path: str | os.PathLike | None = None) -> str:
    """Which login to use: env ``LAGESBILD_AUTH`` if set, else ``oidc`` when an identity
    provider is configured, else ``local`` when the accounts file exists.

    The demo mode is never a fallback: it must be asked for (``LAGESBILD_AUTH=demo``), and
    it is refused while the accounts file has accounts (a forgotten variable must not open a
    configured installation to everyone).

    Raises
    ------
    SignInNotConfigured
        When there is no identity provider, no accounts file and no ``LAGESBILD_AUTH``: the
        app stays signed out and says how to set up sign-in.
    InputError
        When ``LAGESBILD_AUTH`` names an unknown mode, asks for ``oidc`` without a provider,
        or asks for ``demo`` although accounts exist.

    Examples
    --------
    >>> auth_mode(oidc_configured=True)
    'oidc'
    """
    path = Path(path if path is not None else users_file())
    forced = os.environ.get(AUTH_MODE_ENV, "").strip().lower()
    if forced:
        if forced not in MODES:
            raise InputError(f"{AUTH_MODE_ENV} var {forced!r}; tillåtet är {', '.join(MODES)}.")
        if forced == "oidc" and not oidc_configured:
            raise InputError(
                f"{AUTH_MODE_ENV}=oidc men ingen [auth]-sektion finns i .streamlit/secrets.toml."
            )
        if forced == "demo" and load_accounts(path):
            raise InputError(
                f"{AUTH_MODE_ENV}=demo men kontofilen {path} har konton: demoläget skulle göra "
                f"alla till administratör. Ta bort {AUTH_MODE_ENV}=demo."
            )
        return forced
    if oidc_configured:
        return "oidc"
    if path.exists():
        return "local"
    raise SignInNotConfigured(
        f"Inloggningen är inte konfigurerad: kontofilen {path} finns inte och ingen OpenID "
        "Connect är inställd, så ingen släpps in. Lägg till ett konto med `lagesbild users add "
        f"NAMN --role administratör`, eller starta demoläget uttryckligen med {AUTH_MODE_ENV}=demo."
    )


@functools.lru_cache(maxsize=8)
def _parse_accounts(path: str, _key: tuple) -> dict[str, Account]:
    return load_accounts(path)


def current_accounts(path: str | os.PathLike | None = None) -> dict[str, Account]:
    """`load_accounts`, parsed again only when the file changes (its inode, size or mtime):
    cheap enough to run on every action of every session.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "users.toml"
    >>> current_accounts(p)
    {}
    >>> _ = save_accounts(p, [Account("a", "läsare")])
    >>> sorted(current_accounts(p))
    ['a']
    """
    path = Path(path if path is not None else users_file())
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    return dict(_parse_accounts(str(path), key))


class SignOuts:
    """When each user last signed out, so every open session of theirs ends (one process).

    Examples
    --------
    >>> so = SignOuts()
    >>> so.sign_out("anna", at=100.0); so.last("anna"), so.last("bo")
    (100.0, None)
    """

    def __init__(self) -> None:
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()

    def sign_out(self, username: str, *, at: float | None = None) -> None:
        """Record a sign-out now (or ``at``)."""
        with self._lock:
            self._at[username] = time.time() if at is None else at

    def last(self, username: str) -> float | None:
        """The time of the user's last sign-out, or None."""
        with self._lock:
            return self._at.get(username)


class LoginThrottle:
    """Refuse further attempts for a username after ``max_failures`` attempts within
    ``window_s`` seconds (in one process; slows password guessing beyond argon2's cost).

    An attempt is counted *before* its password is checked (`attempt`), so parallel attempts
    cannot slip past the count while argon2 is busy; a success takes its own attempt back
    and clears the name (`succeeded`). Names are cut to `MAX_USERNAME_LENGTH`, and expired
    names are pruned, so the table stays small whatever is typed (at most ``max_names``).

    Examples
    --------
    >>> t = LoginThrottle(max_failures=2, window_s=60)
    >>> t.attempt("anna", now=0), t.attempt("anna", now=1), t.attempt("anna", now=2)
    (True, True, False)
    >>> t.blocked("anna", now=62)
    False
    """

    def __init__(
        self, *, max_failures: int = 5, window_s: float = 900.0, max_names: int = 10_000
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_names = max_names
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._last_prune = float("-inf")

    def _recent(self, username: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(username, []) if now - t < self.window_s]
        if times:
            self._failures[username] = times
        else:
            self._failures.pop(username, None)
        return times

    def _prune(self, now: float) -> None:
        if len(self._failures) < self.max_names and now - self._last_prune < self.window_s:
            return
        self._last_prune = now
        for name in list(self._failures):
            self._recent(name, now)
        while len(self._failures) >= self.max_names:  # a flood of names: forget the oldest
            oldest = min(self._failures, key=lambda n: self._failures[n][-1])
            del self._failures[oldest]

    def attempt(self, username: str, *, now: float | None = None) -> bool:
        """Count one attempt; False (nothing counted) when the name is blocked already."""
        now = time.monotonic() if now is None else now
        name = login_name(username)
        with self._lock:
            self._prune(now)
            times = self._recent(name, now)
            if len(times) >= self.max_failures:
                return False
            self._failures[name] = [*times, now]
            return True

    def failed(self, username: str, *, now: float | None = None) -> None:
        """Count one failed attempt (for callers that did not go through `attempt`)."""
        self.attempt(username, now=now)

    def blocked(self, username: str, *, now: float | None = None) -> bool:
        """True while the username has too many recent attempts."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._recent(login_name(username), now)) >= self.max_failures

    def succeeded(self, username: str) -> None:
        """A correct password: forget the name's attempts."""
        self.reset(username)

    def reset(self, username: str) -> None:
        """Forget the attempts of a name."""
        with self._lock:
            self._failures.pop(login_name(username), None)

    def __len__(self) -> int:
        return len(self._failures)


def never_had_accounts(store=None) -> bool:
    """True when the audit log has no ``user.add``: this installation never had accounts, so
    ``./dev app`` may start the demo mode (a missing accounts file is then no loss).

    Examples
    --------
    >>> from geo.store import Store
    >>> never_had_accounts(Store("sqlite://"))
    True
    """
    import sqlalchemy as sa

    from geo.store import AuditEntry, Store

    store = Store() if store is None else store
    with store.read_session() as s:
        n = s.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "user.add")
        )
    return not n


if __name__ == "__main__":  # ./dev app asks: python -m geo.auth --never-had-accounts
    import sys

    if sys.argv[1:] != ["--never-had-accounts"]:
        raise SystemExit("usage: python -m geo.auth --never-had-accounts")
    raise SystemExit(0 if never_had_accounts() else 1)
