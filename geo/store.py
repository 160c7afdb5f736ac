"""The project's database: engine and session setup, the ORM models, and migrations.

This module owns persistence for everything users enter: trygghetsbesiktning rounds and
issues (with status history and photos), medborgarlöften with their targets, the activity
log, residents' proposals (polis för en dag), user accounts with roles, and the audit log.

Two backends, one schema:

* **SQLite** (embedded default): the file ``lagesbild.db`` under the data directory
  (env ``LAGESBILD_DATA_DIR``, default ``./var/``), in WAL mode with foreign keys on, a
  busy timeout and ``synchronous=FULL``; write transactions start with ``BEGIN IMMEDIATE``
  so two writers queue instead of failing half-way.
* **PostgreSQL** (with PostGIS when the extension is installed) when
  ``LAGESBILD_DATABASE_URL`` is set, e.g. ``postgresql+psycopg://user:pw@host/db``.

Points are stored portably as WGS 84 ``lon``/``lat`` (what the map gives) plus SWEREF 99 TM
``x_m``/``y_m`` (what every metric computation uses); on PostGIS the migration adds a
generated ``geom`` column (``geometry(Point, 3006)``) with a GiST index for GIS tools. See
docs/database.md for the reasons.

The schema is created and upgraded by Alembic migrations in ``geo/migrations`` whenever a
`Store` opens. Other modules use `Store.session` (one transaction, committed on success,
rolled back on any exception) and the models below.

Times are stored in UTC and come back tz-aware in Europe/Stockholm on both backends.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
import logging
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from geo.schema import TZ

DATA_DIR_ENV = "LAGESBILD_DATA_DIR"
DATABASE_URL_ENV = "LAGESBILD_DATABASE_URL"
DEFAULT_DATA_DIR = "var"
DB_FILENAME = "lagesbild.db"
#: Seconds a writer waits for another writer's lock before giving up.
BUSY_TIMEOUT_S = 30

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# --- vocabularies the database enforces with CHECK constraints --------------------------
#: Status of an inspection issue, in workflow order.
ISSUE_STATUSES = ("ny", "åtgärd beställd", "åtgärdad")
#: Roles (issue 9), weakest first.
ROLES = ("läsare", "planerare", "besiktning", "administratör")
#: Kinds of promise targets (issue 8): counted activities, coverage of areas, one-off tasks.
TARGET_KINDS = ("count", "coverage", "task")

_STOCKHOLM = ZoneInfo(TZ)
_log = logging.getLogger(__name__)


def private_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents) readable by its owner only (mode 700); tighten an existing
    folder of ours that others can read, except the working directory itself.

    Examples
    --------
    >>> import tempfile
    >>> d = private_dir(Path(tempfile.mkdtemp()) / "var")
    >>> oct(d.stat().st_mode & 0o777)
    '0o700'
    """
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if (
        info.st_mode & 0o077
        and info.st_uid == os.getuid()
        and path.resolve() != Path.cwd().resolve()
    ):
        os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
    return path


def private_file(path: str | os.PathLike) -> Path:
    """Create ``path`` empty with mode 600 if it is missing; tighten it to 600 if it exists.

    Examples
    --------
    >>> import tempfile
    >>> p = private_file(Path(tempfile.mkdtemp()) / "x.db")
    >>> oct(p.stat().st_mode & 0o777)
    '0o600'
    """
    path = Path(path)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        # never open (and close) a descriptor on a database this process may be using:
        # closing any descriptor drops the process's SQLite locks on the file
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)
    return path


# --- who is acting ------------------------------------------------------------------------
_ACTING: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "lagesbild_acting", default=None
)


def bind_actor(username: str | None, role: str | None = None) -> None:
    """Make ``username`` (with ``role``) the actor of every audit entry written in this
    thread/context from now on; ``None`` unbinds.

    The app binds the signed-in identity at the start of every script run, the CLI binds
    its operating-system user: a name passed to `record_audit` (typed into a form, or
    ``--by``) is then kept as the note ``stated_by``, never as the actor.

    Examples
    --------
    >>> bind_actor("anna", "planerare"); bound_actor()
    ('anna', 'planerare')
    >>> bind_actor(None); bound_actor() is None
    True
    """
    _ACTING.set(None if username is None else (str(username), role))


def bound_actor() -> tuple[str, str | None] | None:
    """The actor bound by `bind_actor`, or None."""
    return _ACTING.get()


@contextmanager
def acting_as(username: str, role: str | None = None) -> Iterator[None]:
    """`bind_actor` for the duration of a ``with`` block."""
    token = _ACTING.set((str(username), role))
    try:
        yield
    finally:
        _ACTING.reset(token)


def data_dir() -> Path:
    """The data directory: env ``LAGESBILD_DATA_DIR`` or ``./var``.

    Examples
    --------
    >>> data_dir().name in {"var", os.path.basename(os.environ.get(DATA_DIR_ENV, "var"))}
    True
    """
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def default_url() -> str:
    """The database URL to use: ``LAGESBILD_DATABASE_URL`` or the SQLite file in `data_dir`.

    Examples
    --------
    >>> default_url().startswith(("sqlite", "postgresql"))
    True
    """
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    return f"sqlite:///{(data_dir() / DB_FILENAME).as_posix()}"


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://`` uses the installed psycopg 3 driver.

    Examples
    --------
    >>> normalize_url("postgresql://u:p@h/db").drivername
    'postgresql+psycopg'
    >>> normalize_url("sqlite:///x.db").drivername
    'sqlite'
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"database URL {str(url)!r} could not be parsed: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f'database backend was "{parsed.get_backend_name()}" but is expected to be in '
            "('sqlite', 'postgresql')"
        )
    return parsed


def now() -> dt.datetime:
    """The current time, tz-aware Europe/Stockholm.

    Examples
    --------
    >>> now().tzinfo is not None
    True
    """
    return dt.datetime.now(_STOCKHOLM)


class AwareDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and read back tz-aware in Europe/Stockholm.

    SQLite keeps no time zone, PostgreSQL's ``timestamptz`` does; this type makes both
    behave the same. Naive datetimes are refused: a time without a zone is ambiguous.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"datetime {value.isoformat()} has no time zone; give a tz-aware one")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(_STOCKHOLM)


class Base(DeclarativeBase):
    """Declarative base of every Lägesbild table."""


def _created_at() -> Mapped[dt.datetime]:
    return mapped_column(AwareDateTime(), nullable=False, default=now)


# --- trygghetsbesiktning ---------------------------------------------------------------
class InspectionRound(Base):
    """One trygghetsbesiktning: a team walks an area on a date and marks issues.

    ``area_wkt`` is the area's polygon in EPSG:3006 (WKT); issues must lie inside it.
    ``organisations`` is a JSON list (kommun, polis, SL, fastighetsägare, ...).
    """

    __tablename__ = "inspection_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    held_on: Mapped[dt.date] = mapped_column(sa.Date)
    area_id: Mapped[str | None] = mapped_column(sa.String(100))
    area_name: Mapped[str] = mapped_column(sa.String(200))
    area_wkt: Mapped[str | None] = mapped_column(sa.Text)
    team: Mapped[str] = mapped_column(sa.Text, default="")
    organisations: Mapped[list] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = _created_at()
    version: Mapped[int] = mapped_column(default=1)

    issues: Mapped[list[InspectionIssue]] = relationship(back_populates="round")


class InspectionIssue(Base):
    """A physical-environment problem marked during a round.

    Status moves ny -> åtgärd beställd -> åtgärdad; ``ordered_on``/``fixed_on`` hold the
    dates and every change adds an `IssueHistory` row. ``version`` is the optimistic lock:
    writers update ``WHERE version = <the version they read>`` and bump it.
    """

    __tablename__ = "inspection_issues"
    __table_args__ = (
        sa.CheckConstraint("severity BETWEEN 1 AND 3", name="ck_issue_severity"),
        sa.CheckConstraint(
            "status IN ('ny', 'åtgärd beställd', 'åtgärdad')", name="ck_issue_status"
        ),
        sa.CheckConstraint("version >= 1", name="ck_issue_version"),
        sa.Index("ix_issue_round", "round_id"),
        sa.Index("ix_issue_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        sa.ForeignKey("inspection_rounds.id", ondelete="RESTRICT")
    )
    lon: Mapped[float] = mapped_column(sa.Float)
    lat: Mapped[float] = mapped_column(sa.Float)
    x_m: Mapped[float] = mapped_column(sa.Float)
    y_m: Mapped[float] = mapped_column(sa.Float)
    category: Mapped[str] = mapped_column(sa.String(100))
    severity: Mapped[int] = mapped_column(sa.SmallInteger)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    responsible: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(40), default="ny")
    ordered_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    fixed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    marked_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = _created_at()
    updated_by: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[dt.datetime] = _created_at()
    version: Mapped[int] = mapped_column(default=1)

    round: Mapped[InspectionRound] = relationship(back_populates="issues")
    history: Mapped[list[IssueHistory]] = relationship(
        back_populates="issue", order_by="IssueHistory.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[IssuePhoto]] = relationship(
        back_populates="issue", order_by="IssuePhoto.id", cascade="all, delete-orphan"
    )


class IssueHistory(Base):
    """One change to an issue: who, when, the status from and to, a note, the fields changed.

    ``action`` is ``created``, ``edited``, ``status``, ``moved``, ``photo`` or ``note``; ``changes`` is a
    JSON object ``{field: [old, new]}``.
    """

    __tablename__ = "issue_history"
    __table_args__ = (sa.Index("ix_history_issue", "issue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_issues.id", ondelete="CASCADE"))
    changed_at: Mapped[dt.datetime] = _created_at()
    changed_by: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str | None] = mapped_column(sa.String(40))
    to_status: Mapped[str | None] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    issue: Mapped[InspectionIssue] = relationship(back_populates="history")


class IssuePhoto(Base):
    """A photo of an issue, verified to be a JPEG, PNG or WebP image, stored in the database.

    Kept in the database (not the file system) so a photo commits or rolls back together
    with its issue.
    """

    __tablename__ = "issue_photos"
    __table_args__ = (sa.Index("ix_photo_issue", "issue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_issues.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(sa.String(200))
    uploaded_at: Mapped[dt.datetime] = _created_at()

    issue: Mapped[InspectionIssue] = relationship(back_populates="photos")


# --- medborgarlöften (issue 8) ---------------------------------------------------------
class Promise(Base):
    """A medborgarlöfte: title, period, area(s), partners, the promise text and targets.

    ``area_ids`` and ``partners`` are JSON lists (area ids from the boundaries; polis, kommun,
    SL, ...). ``version`` is the optimistic lock, as for issues.
    """

    __tablename__ = "promises"
    __table_args__ = (sa.CheckConstraint("period_end >= period_start", name="ck_promise_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    area_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    partners: Mapped[list] = mapped_column(sa.JSON, default=list)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = _created_at()
    version: Mapped[int] = mapped_column(default=1)

    targets: Mapped[list[PromiseTarget]] = relationship(
        back_populates="promise", order_by="PromiseTarget.position", cascade="all, delete-orphan"
    )
    activities: Mapped[list[Activity]] = relationship(back_populates="promise")


class PromiseTarget(Base):
    """One target of a promise.

    ``kind``:

    * ``count`` — at least ``minimum`` activities of ``activity_type``; ``conditions`` (JSON)
      holds the qualifiers, e.g. ``{"evening_share_min": 0.5}`` or ``{"weekends": true,
      "lov": true}``;
    * ``coverage`` — an activity of ``activity_type`` in each of ``coverage_area_ids`` at least
      ``minimum`` times (e.g. a kvartersmöte in each of 14 stadsdelar once a year);
    * ``task`` — a one-off task (``due_on``, ``done_on``), e.g. one trygghetsbesiktning.
    """

    __tablename__ = "promise_targets"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('count', 'coverage', 'task')", name="ck_target_kind"),
        sa.CheckConstraint("minimum IS NULL OR minimum >= 0", name="ck_target_minimum"),
        sa.Index("ix_target_promise", "promise_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(sa.ForeignKey("promises.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    activity_type: Mapped[str | None] = mapped_column(sa.String(100))
    minimum: Mapped[int | None] = mapped_column(sa.Integer)
    conditions: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    coverage_area_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    due_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    done_on: Mapped[dt.date | None] = mapped_column(sa.Date)

    promise: Mapped[Promise] = relationship(back_populates="targets")


class Activity(Base):
    """One logged activity (synlig närvaro, narkotikainsats, nattvandring, kvartersmöte, ...).

    Place is a point (``lon``/``lat`` + ``x_m``/``y_m``), a zone (``zone_id``) or an area
    (``area_id``); any may be missing. ``actors`` is a JSON list. ``promise_id`` links it to a
    promise when it was logged against one.
    """

    __tablename__ = "activities"
    __table_args__ = (
        sa.CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="ck_activity_times"),
        sa.Index("ix_activity_starts", "starts_at"),
        sa.Index("ix_activity_promise", "promise_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("promises.id", ondelete="SET NULL")
    )
    activity_type: Mapped[str] = mapped_column(sa.String(100))
    starts_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    lon: Mapped[float | None] = mapped_column(sa.Float)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    x_m: Mapped[float | None] = mapped_column(sa.Float)
    y_m: Mapped[float | None] = mapped_column(sa.Float)
    zone_id: Mapped[str | None] = mapped_column(sa.String(100))
    area_id: Mapped[str | None] = mapped_column(sa.String(100))
    place_name: Mapped[str] = mapped_column(sa.String(200), default="")
    actors: Mapped[list] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = _created_at()
    version: Mapped[int] = mapped_column(default=1)

    promise: Mapped[Promise | None] = relationship(back_populates="activities")


class Proposal(Base):
    """A resident's proposal (polis för en dag): a place and a text, shown beside dialogue
    places. ``status`` is free text owned by issue 8 (e.g. ny, vald, genomförd)."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    x_m: Mapped[float | None] = mapped_column(sa.Float)
    y_m: Mapped[float | None] = mapped_column(sa.Float)
    area_id: Mapped[str | None] = mapped_column(sa.String(100))
    proposed_on: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(40), default="ny")
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = _created_at()


# --- access control and audit (issue 9) ------------------------------------------------
class User(Base):
    """A user and their role (läsare, planerare, besiktning, administratör).

    ``password_hash`` (argon2) for local accounts, ``oidc_subject`` for OpenID Connect logins;
    either may be missing.
    """

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('läsare', 'planerare', 'besiktning', 'administratör')", name="ck_user_role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(200), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(40))
    password_hash: Mapped[str | None] = mapped_column(sa.String(300))
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(300), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = _created_at()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class AuditEntry(Base):
    """One line of the audit log: who (``actor``, ``role``), when (``at``), what (``action``
    on ``target_type``/``target_id`` with ``params`` as JSON) and the ``outcome``
    (``ok``, ``nekad``, ``fel``).

    ``actor`` is a username string, not a foreign key, so entries outlive deleted users.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_at", "at"),
        sa.Index("ix_audit_actor", "actor"),
        sa.Index("ix_audit_action", "action"),
        sa.Index("ux_audit_seq", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = _created_at()
    actor: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str | None] = mapped_column(sa.String(40))
    action: Mapped[str] = mapped_column(sa.String(100))
    target_type: Mapped[str | None] = mapped_column(sa.String(100))
    target_id: Mapped[str | None] = mapped_column(sa.String(100))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    outcome: Mapped[str] = mapped_column(sa.String(20), default="ok")
    #: Position in the hash chain (1, 2, 3 …), the previous entry's hash and this one's.
    seq: Mapped[int | None] = mapped_column(sa.Integer)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))


#: The ``prev_hash`` of the first entry of the chain.
GENESIS_HASH = "0" * 64
_AUDIT_HASH_VERSION = "lagesbild-audit-v1"
_AUDIT_LOCK_KEY = 7431003  # PostgreSQL advisory lock that orders audit writers


def _utc_text(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def audit_hash(
    prev_hash: str,
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    role: str | None,
    action: str,
    target_type: str | None,
    target_id: str | None,
    params: dict | None,
    outcome: str,
) -> str:
    """SHA-256 over the previous entry's hash and every field of this one (canonical JSON).

    Changing any field of any entry, or removing or inserting one, breaks every hash after
    it (`geo.audit.verify_chain`).

    Examples
    --------
    >>> t = dt.datetime(2018, 3, 1, 12, tzinfo=dt.UTC)
    >>> h = audit_hash(GENESIS_HASH, seq=1, at=t, actor="anna", role="läsare",
    ...                action="auth.login", target_type=None, target_id=None, params={},
    ...                outcome="ok")
    >>> len(h), h == audit_hash(GENESIS_HASH, seq=1, at=t, actor="anna", role="planerare",
    ...                         action="auth.login", target_type=None, target_id=None,
    ...                         params={}, outcome="ok")
    (64, False)
    """
    payload = [
        _AUDIT_HASH_VERSION,
        int(seq),
        prev_hash,
        _utc_text(at),
        actor,
        role,
        action,
        target_type,
        target_id,
        params or {},
        outcome,
    ]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(entry: AuditEntry, prev_hash: str) -> str:
    """`audit_hash` of a stored entry."""
    return audit_hash(
        prev_hash,
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        role=entry.role,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        params=entry.params,
        outcome=entry.outcome,
    )


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: object = None,
    params: dict | None = None,
    role: str | None = None,
    outcome: str = "ok",
) -> AuditEntry:
    """Add an audit-log row in the caller's transaction (so it commits with the change),
    chained to the previous row by its hash (`audit_hash`).

    When an actor is bound (`bind_actor`: the signed-in user, the CLI's OS user), that actor
    and role are recorded; a different ``actor`` passed here (a name typed into a form,
    ``--by``) is kept as the note ``stated_by`` in ``params``.

    Writers are ordered (SQLite's write lock; a PostgreSQL advisory lock held until commit),
    so the chain has no forks.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> with store.session() as s:
    ...     _ = record_audit(s, actor="anna", action="issue.create", target_id=1)
    >>> with store.session() as s:
    ...     s.scalars(sa.select(AuditEntry.action)).all()
    ['issue.create']
    >>> with acting_as("bo", "besiktning"), store.session() as s:
    ...     e = record_audit(s, actor="Bo på kommunen", action="issue.edit")
    >>> e.actor, e.role, e.params, e.seq
    ('bo', 'besiktning', {'stated_by': 'Bo på kommunen'}, 2)
    """
    # exactly what the JSON column gives back (str keys, lists), so the hash can be checked
    params = json.loads(json.dumps(dict(params or {}), ensure_ascii=False, default=str))
    bound = _ACTING.get()
    if bound is not None:
        if actor and str(actor) != bound[0]:
            params["stated_by"] = str(actor)[:200]
        actor, role = bound
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    session.flush()  # an entry added earlier in this transaction is the head
    head = session.execute(
        sa.select(AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.seq.is_not(None))
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (1, GENESIS_HASH) if head is None else (head[0] + 1, head[1] or GENESIS_HASH)
    entry = AuditEntry(
        at=now(),
        actor=str(actor),
        role=role,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:100],
        params=params,
        outcome=outcome,
        seq=seq,
        prev_hash=prev,
    )
    entry.hash = entry_hash(entry, prev)
    session.add(entry)
    session.flush()
    return entry


# --- engine and store ------------------------------------------------------------------
_migrate_lock = threading.Lock()


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY when
        # another writer committed in between (the busy timeout does not help there).
        # Writers take the lock up front and queue; readers stay deferred.
        mode = "DEFERRED" if conn.get_execution_options().get("lagesbild_readonly") else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str | URL) -> Engine:
    """An engine configured for Lägesbild (SQLite pragmas, PostgreSQL pre-ping).

    Examples
    --------
    >>> create_engine("sqlite://").dialect.name
    'sqlite'
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            # Issues, photos and the audit log: readable by the service account only. SQLite
            # gives its -wal and -shm files the database file's mode.
            private_dir(Path(database).parent)
            private_file(database)
        engine = sa.create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S})
        _sqlite_events(engine)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True)


def _alembic_config(connection: sa.Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this version of Lägesbild.

    Examples
    --------
    >>> head_revision()
    '0002'
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


class Store:
    """The project's database, migrated to the newest schema on open.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL. Default: env ``LAGESBILD_DATABASE_URL``, else the SQLite file
        ``lagesbild.db`` in `data_dir`. ``postgresql://`` means psycopg 3.
    migrate : bool, default True
        Run Alembic ``upgrade head`` on open (safe when several processes open at once: the
        upgrade runs under the SQLite write lock or a PostgreSQL advisory lock).

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> store.dialect, store.revision()
    ('sqlite', '0002')
    >>> with store.session() as s:
    ...     s.add(User(username="anna", role="besiktning"))
    >>> with store.session() as s:
    ...     s.scalar(sa.select(User.role))
    'besiktning'
    """

    def __init__(self, url: str | URL | None = None, *, migrate: bool = True) -> None:
        self.url = normalize_url(url if url is not None else default_url())
        self.engine = create_engine(self.url)
        if migrate:
            self.migrate()

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """``'sqlite'`` or ``'postgresql'``."""
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision (idempotent)."""
        from alembic import command

        with _migrate_lock, self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # One migrating process at a time; the lock ends with the transaction.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7431002)")
            command.upgrade(_alembic_config(conn), "head")

    def revision(self) -> str | None:
        """The schema revision the database is at (``None`` before any migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on any exception.

        Nothing of a failed block is stored. Objects stay readable after the block
        (``expire_on_commit=False``).
        """
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only session (on SQLite it does not take the write lock)."""
        engine = self.engine.execution_options(lagesbild_readonly=True)
        with Session(engine, expire_on_commit=False) as session:
            yield session  # closing the session rolls its transaction back

    def is_empty(self, model: type[Base]) -> bool:
        """True when the table of ``model`` has no rows.

        Examples
        --------
        >>> Store("sqlite://").is_empty(InspectionRound)
        True
        """
        with self.read_session() as s:
            return s.scalar(sa.select(sa.func.count()).select_from(model)) == 0

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
