"""The audit trail: record who did what with police data, and read it back.

Everything goes to the ``audit_log`` table of `geo.store` through `geo.store.record_audit`
(who = ``actor`` and ``role``, when = ``at``, what = ``action`` on ``target_type``/``target_id``
with ``params``, and the ``outcome``: ``ok``, ``nekad`` (refused) or ``fel``). The
trygghetsbesiktning workflow writes its own entries inside its transactions
(``inspection_issue.create`` …); this module adds the rest, each in its own transaction:

=====================  =============================================================
action                 recorded by
=====================  =============================================================
``auth.login``         `record_login` (``outcome="fel"`` for a wrong password)
``auth.logout``        `record_logout`
``auth.denied``        `record_denied`: a role tried an action it may not perform
``data.import``        `record_import`: kind, file name, sha256, rows read/loaded/rejected
``data.purge``         `record_purge`: retention removed old incidents
``export.<what>``      `record_export`: format and every parameter of the export
``<thing>.edit``       `record_edit`, ``<thing>.delete``: `record_deletion`
``user.add|remove``    `record_edit` / `record_deletion` on target type ``user``
=====================  =============================================================

`audit_frame` reads the log with filters, `to_csv` exports it.

The log is tamper-evident: every entry carries its place in a hash chain (``seq``) and a
SHA-256 over the previous entry's hash and its own fields (`geo.store.audit_hash`), and the
database refuses UPDATE and DELETE on the table (triggers, migration 0002). `verify_chain`
recomputes the chain and names the first entry that was changed, removed or inserted; with an
``anchor`` (the head noted earlier, or the last row of an exported CSV) it also sees entries
cut off the end.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

from geo import safecsv
from geo.schema import TZ
from geo.store import GENESIS_HASH, AuditEntry, Store, entry_hash, record_audit

OUTCOMES = ("ok", "nekad", "fel")
COLUMNS = (
    "at",
    "actor",
    "role",
    "action",
    "target_type",
    "target_id",
    "params",
    "outcome",
    "seq",
    "hash",
)
#: Swedish column headings for tables and the CSV export.
LABELS = {
    "at": "tid",
    "actor": "användare",
    "role": "roll",
    "action": "händelse",
    "target_type": "objekttyp",
    "target_id": "objekt",
    "params": "parametrar",
    "outcome": "utfall",
    "seq": "nr",
    "hash": "kedjehash",
}


def jsonable(value: object) -> object:
    """``value`` made JSON-safe for the ``params`` column (dates as ISO text, numpy as
    Python numbers, paths and other objects as text, NaN as None).

    Examples
    --------
    >>> jsonable({"start": dt.date(2018, 3, 1), "k": np.int64(3), "x": float("nan")})
    {'start': '2018-03-01', 'k': 3, 'x': None}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)


def record(
    store: Store,
    *,
    actor: str,
    action: str,
    role: str | None = None,
    target_type: str | None = None,
    target_id: object = None,
    params: Mapping | None = None,
    outcome: str = "ok",
) -> int:
    """Write one audit entry in its own transaction and return its id.

    Raises
    ------
    ValueError
        For an outcome outside `OUTCOMES` or an empty actor/action.

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> record(s, actor="anna", role="planerare", action="export.zones",
    ...        params={"format": "pdf"}) >= 1
    True
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome was {outcome!r} but is expected to be in {OUTCOMES}")
    if not str(actor or "").strip() or not str(action or "").strip():
        raise ValueError(f"actor and action must be given; got {actor!r} and {action!r}")
    with store.session() as s:
        entry = record_audit(
            s,
            actor=str(actor),
            role=role,
            action=action,
            target_type=target_type,
            target_id=target_id,
            params=jsonable(dict(params or {})),
            outcome=outcome,
        )
        s.flush()
        return entry.id


def record_login(
    store: Store,
    username: str,
    role: str | None,
    *,
    mode: str,
    ok: bool = True,
    outcome: str | None = None,
    **params,
) -> int:
    """A sign-in (``ok=False``: a failed attempt, stored with outcome ``fel``; ``outcome``
    overrides, e.g. ``nekad`` for an attempt the throttle refused).

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record_login(s, "anna", None, mode="local", ok=False)
    >>> audit_frame(s)[["action", "outcome"]].values.tolist()
    [['auth.login', 'fel']]
    """
    return record(
        store,
        actor=username or "okänd",
        role=role,
        action="auth.login",
        params={"mode": mode, **params},
        outcome=outcome or ("ok" if ok else "fel"),
    )


def record_session_end(store: Store, username: str, role: str | None, *, reason: str) -> int:
    """A session ended by the server (account removed, password changed, signed out in
    another tab): ``auth.session_end`` with the Swedish reason.

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record_session_end(s, "anna", "läsare", reason="Kontot finns inte längre.")
    >>> audit_frame(s)[["action", "outcome"]].values.tolist()
    [['auth.session_end', 'nekad']]
    """
    return record(
        store,
        actor=username,
        role=role,
        action="auth.session_end",
        params={"reason": reason},
        outcome="nekad",
    )


def record_logout(store: Store, username: str, role: str | None) -> int:
    """A sign-out."""
    return record(store, actor=username, role=role, action="auth.logout")


def record_denied(store: Store, username: str, role: str | None, action: str, **params) -> int:
    """A refused attempt: ``role`` tried ``action`` (a `geo.auth` action name).

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record_denied(s, "bo", "läsare", "import_data", page="data")
    >>> audit_frame(s)[["action", "target_id", "outcome"]].values.tolist()
    [['auth.denied', 'import_data', 'nekad']]
    """
    return record(
        store,
        actor=username,
        role=role,
        action="auth.denied",
        target_type="action",
        target_id=action,
        params=params,
        outcome="nekad",
    )


def record_import(
    store: Store,
    username: str,
    role: str | None,
    *,
    kind: str,
    file_name: str,
    sha256: str,
    rows: int,
    loaded: int,
    rejected: int,
    **params,
) -> int:
    """An import: what kind, which file (name and sha256) and the row counts."""
    return record(
        store,
        actor=username,
        role=role,
        action="data.import",
        target_type=kind,
        target_id=file_name,
        params={"sha256": sha256, "rows": rows, "loaded": loaded, "rejected": rejected, **params},
    )


def record_purge(store: Store, username: str, role: str | None, *, removed: int, **params) -> int:
    """Retention removed ``removed`` incidents (the cut-off and period go in ``params``)."""
    return record(
        store,
        actor=username,
        role=role,
        action="data.purge",
        target_type="incidents",
        params={"removed": removed, **params},
    )


def record_export(
    store: Store, username: str, role: str | None, *, what: str, fmt: str, **params
) -> int:
    """An export of ``what`` (zones, compare, inspection, audit, …) in format ``fmt`` with every
    parameter that shaped it.

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record_export(s, "anna", "planerare", what="zones", fmt="pdf", k=3)
    >>> audit_frame(s).loc[0, ["action", "params"]].tolist()
    ['export.zones', '{"fmt": "pdf", "k": 3}']
    """
    return record(
        store,
        actor=username,
        role=role,
        action=f"export.{what}",
        target_type=what,
        params={"fmt": fmt, **params},
    )


def record_edit(
    store: Store,
    username: str,
    role: str | None,
    *,
    target_type: str,
    target_id: object,
    verb: str = "edit",
    **params,
) -> int:
    """An edit (or ``verb``: create, add, status …) of one object."""
    return record(
        store,
        actor=username,
        role=role,
        action=f"{target_type}.{verb}",
        target_type=target_type,
        target_id=target_id,
        params=params,
    )


def record_deletion(
    store: Store, username: str, role: str | None, *, target_type: str, target_id: object, **params
) -> int:
    """A deletion of one object."""
    return record_edit(
        store, username, role, target_type=target_type, target_id=target_id, verb="delete", **params
    )


# --- reading -------------------------------------------------------------------------------
def _as_aware(value: dt.date | dt.datetime, *, end: bool) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"datetime {value.isoformat()} has no time zone; give a tz-aware one")
        return value
    day = value + dt.timedelta(days=1) if end else value
    return dt.datetime.combine(day, dt.time(), ZoneInfo(TZ))


def audit_frame(
    store: Store,
    *,
    start: dt.date | dt.datetime | None = None,
    end: dt.date | dt.datetime | None = None,
    actors: Iterable[str] | None = None,
    actions: Iterable[str] | None = None,
    outcomes: Iterable[str] | None = None,
    text: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The audit log, newest first, filtered.

    Parameters
    ----------
    start, end : date or tz-aware datetime, optional
        A date includes its whole day (Europe/Stockholm); ``end`` is inclusive for dates.
    actors, actions, outcomes : iterables of str, optional
        Keep only these values. An action ending in ``.`` or ``*`` is a prefix
        (``"export."`` keeps every export).
    text : str, optional
        Case-insensitive substring of the target id or the parameters.
    limit : int, optional
        At most this many rows (the newest).

    Returns
    -------
    DataFrame
        Columns `COLUMNS`; ``at`` tz-aware Europe/Stockholm; ``params`` as JSON text.

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record(s, actor="anna", action="export.zones")
    >>> _ = record(s, actor="bo", action="data.import")
    >>> audit_frame(s, actions=["export."])["actor"].tolist()
    ['anna']
    """
    q = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if start is not None:
        q = q.where(AuditEntry.at >= _as_aware(start, end=False))
    if isinstance(end, dt.datetime):
        q = q.where(AuditEntry.at <= _as_aware(end, end=True))
    elif end is not None:
        q = q.where(AuditEntry.at < _as_aware(end, end=True))
    if actors:
        q = q.where(AuditEntry.actor.in_(list(actors)))
    if outcomes:
        q = q.where(AuditEntry.outcome.in_(list(outcomes)))
    if actions:
        clauses = []
        for a in actions:
            if a.endswith((".", "*")):
                clauses.append(AuditEntry.action.startswith(a.rstrip("*"), autoescape=True))
            else:
                clauses.append(AuditEntry.action == a)
        q = q.where(sa.or_(*clauses))
    if limit is not None and not text:
        q = q.limit(int(limit))
    with store.read_session() as s:
        entries = s.scalars(q).all()
    rows = [
        {
            "at": e.at,
            "actor": e.actor,
            "role": e.role,
            "action": e.action,
            "target_type": e.target_type,
            "target_id": e.target_id,
            "params": json.dumps(e.params or {}, ensure_ascii=False, sort_keys=True),
            "outcome": e.outcome,
            "seq": e.seq,
            "hash": e.hash,
        }
        for e in entries
    ]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    if text:
        needle = text.casefold()
        hay = frame["target_id"].fillna("") + " " + frame["params"]
        frame = frame[hay.str.casefold().str.contains(needle, regex=False)]
    if limit is not None:
        frame = frame.head(int(limit))
    return frame.reset_index(drop=True)


def distinct_values(store: Store, column: str) -> list[str]:
    """The distinct values of ``actor``, ``action``, ``role`` or ``outcome`` (for filters).

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record(s, actor="anna", action="auth.login")
    >>> distinct_values(s, "actor")
    ['anna']
    """
    if column not in ("actor", "action", "role", "outcome"):
        raise ValueError(
            f"column was {column!r} but is expected to be actor, action, role or outcome"
        )
    col = getattr(AuditEntry, column)
    with store.read_session() as s:
        return sorted(v for v in s.scalars(sa.select(col).distinct()) if v is not None)


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The log as a person reads it: actions, roles and parameters in Swedish words.

    A new frame (``frame`` is not changed); ``params`` becomes ``"Format: pdf · Rader: 12"``
    instead of JSON, an entry without a role (the command line) says so.

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record(s, actor="anna", action="data.import", params={"kind": "incidents", "rows": 3})
    >>> row = display_frame(audit_frame(s)).iloc[0]
    >>> row["action"], row["role"], row["params"]
    ('dataimport', 'kommandorad (ingen roll)', 'Slag: incidents · Rader: 3')
    """
    from geo import labels

    out = frame.copy()
    out["action"] = out["action"].map(labels.action_label)
    out["role"] = out["role"].map(labels.role_label)
    out["params"] = out["params"].map(labels.params_text)
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """The log as CSV for Excel (UTF-8 with BOM, Swedish headings, ISO times with offset).

    Text that Excel would run as a formula (starting with ``=``, ``+``, ``-``, ``@``) gets a
    leading apostrophe.

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record(s, actor="anna", action="auth.login")
    >>> to_csv(audit_frame(s)).decode("utf-8-sig").splitlines()[0]
    'tid,användare,roll,händelse,objekttyp,objekt,parametrar,utfall,nr,kedjehash'
    """
    out = frame.loc[:, list(COLUMNS)].copy()
    out["at"] = [t.isoformat(timespec="seconds") if pd.notna(t) else "" for t in out["at"]]
    return safecsv.to_csv_bytes(out, labels=LABELS)


# --- tamper evidence ---------------------------------------------------------------------------
@dataclass
class ChainCheck:
    """What `verify_chain` found.

    ``ok`` is True when every entry is where the chain says; ``entries`` were checked;
    ``head_seq``/``head_hash`` identify the newest entry (note them to detect a cut-off end
    later); ``problems`` are Swedish sentences, the first broken entry first.
    """

    ok: bool
    entries: int
    head_seq: int | None
    head_hash: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One Swedish sentence for the Granskning page."""
        if self.ok:
            head = (
                f"; senaste post nr {self.head_seq}, kedjehash {self.head_hash[:16]}"
                if (self.head_hash)
                else ""
            )
            counted = (
                "1 post kontrollerad"
                if self.entries == 1
                else f"{self.entries} poster kontrollerade"
            )
            return f"Granskningsloggen är obruten: {counted}{head}."
        return f"Granskningsloggen har ändrats i efterhand: {self.problems[0]}" + (
            f" (och {len(self.problems) - 1} fel till)" if len(self.problems) > 1 else ""
        )


def verify_chain(
    store: Store, *, anchor: tuple[int, str] | None = None, max_problems: int = 20
) -> ChainCheck:
    """Recompute the audit log's hash chain and report every break.

    Parameters
    ----------
    store : Store
    anchor : (seq, hash), optional
        An entry known from earlier (`ChainCheck.head_seq`/``head_hash``, or the columns
        ``nr``/``kedjehash`` of an exported CSV): it must still be in the chain, unchanged.
        Without it, entries removed from the very end cannot be told from entries never
        written.
    max_problems : int, default 20
        Stop listing after this many.

    Returns
    -------
    ChainCheck

    Examples
    --------
    >>> s = Store("sqlite://")
    >>> _ = record(s, actor="anna", action="auth.login")
    >>> _ = record(s, actor="anna", action="export.zones")
    >>> check = verify_chain(s)
    >>> check.ok, check.entries, check.head_seq
    (True, 2, 2)
    >>> verify_chain(s, anchor=(3, "ab" * 32)).problems
    ['Post nr 3 som fanns vid en tidigare kontroll saknas: loggen har kortats.']
    """
    problems: list[str] = []
    prev_hash, prev_seq, count = GENESIS_HASH, 0, 0
    head: tuple[int | None, str | None] = (None, None)
    seen: dict[int, str] = {}
    q = sa.select(AuditEntry).order_by(AuditEntry.seq.is_(None), AuditEntry.seq, AuditEntry.id)
    with store.read_session() as s:
        for e in s.scalars(q).yield_per(2000):
            count += 1
            if len(problems) >= max_problems:
                continue
            if e.seq is None or e.hash is None:
                problems.append(f"Post med id {e.id} saknar plats i kedjan (skriven förbi appen).")
                continue
            if e.seq != prev_seq + 1:
                problems.append(
                    f"Poster nr {prev_seq + 1}–{e.seq - 1} saknas: de har tagits bort."
                    if e.seq > prev_seq + 1
                    else f"Post nr {e.seq} finns två gånger."
                )
            elif e.prev_hash != prev_hash:
                problems.append(f"Post nr {e.seq} pekar inte på post nr {prev_seq}.")
            if entry_hash(e, e.prev_hash or "") != e.hash:
                problems.append(
                    f"Post nr {e.seq} ({e.action}, {e.at:%Y-%m-%d %H:%M}) har ändrats: "
                    "hashen stämmer inte med innehållet."
                )
            seen[e.seq] = e.hash
            prev_hash, prev_seq = e.hash, e.seq
            head = (e.seq, e.hash)
    if anchor is not None:
        a_seq, a_hash = int(anchor[0]), str(anchor[1])
        if a_seq not in seen:
            problems.append(
                f"Post nr {a_seq} som fanns vid en tidigare kontroll saknas: loggen har kortats."
            )
        elif seen[a_seq] != a_hash:
            problems.append(
                f"Post nr {a_seq} har en annan kedjehash än vid den tidigare kontrollen."
            )
    return ChainCheck(not problems, count, head[0], head[1], problems)
