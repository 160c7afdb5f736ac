"""Medborgarlöften: promises with targets, the activity log, progress and residents' proposals.

This module owns the follow-up of a medborgarlöfte on top of `geo.store`:

* **Promises** (title, period, areas, partners, text) with **targets** of three kinds
  (`geo.store.TARGET_KINDS`): ``count`` — at least ``minimum`` activities of a type, with
  conditions (a minimum share in kväll/natt, only weekends and lov, every Friday and Saturday
  evening); ``coverage`` — an activity of a type in each of a list of areas (a kvartersmöte
  in each of 14 stadsdelar); ``task`` — a one-off task (one trygghetsbesiktning), which an
  inspection round of `geo.inspections` inside the promise's area and period also fulfils.
* **Activities** (synlig närvaro, narkotikainsats, nattvandring, ...): type, tz-aware start
  and end, a place (point, zone or area), actors and internal notes; entered one by one or
  imported from CSV (every row stored or rejected with its row number and reason).
* **Proposals** from residents (polis för en dag): a place and a text.
* **Progress** (`evaluate_targets`): pure functions on frames — counts against minimums,
  shares in evenings/nights, on weekends and lov (the kommun's lov calendar), areas covered
  and missing, tasks done — with a status per target: uppfyllt, på väg, efter plan, or ej
  uppfyllt once the period is over.
* **Where and when** (`activities_vs_hotspots`): the share of activities inside the top
  hotspot zones and inside those zones' peak hours.
* The demo: the two real promises of DESIGN.md §1 (Järfälla 2018, Farsta) with a seeded,
  believable activity log (`seed_demo_promises`).

Every write is one transaction with its audit row (`geo.store.record_audit`). Text users
typed is escaped before it reaches HTML (`geo.inspections.escape_text`). Activity notes are
internal: they never leave this module's internal frames for a public output.

Time rules follow `geo.timewin`: an activity's time of day is judged at its **midpoint**
(its start when it has no end) and a night belongs to the evening it started.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo import schema
from geo.errors import ConflictError, InputError
from geo.inspections import (
    IssueImport,
    _check_point,
    check_text,
    escape_text,
    lonlat_to_sweref,
)
from geo.store import (
    TARGET_KINDS,
    Activity,
    InspectionRound,
    Promise,
    PromiseTarget,
    Proposal,
    Store,
    record_audit,
)
from geo.timewin import (
    DAY_NAMES,
    WINDOWS,
    LovCalendar,
    LovCalendars,
    default_lov_calendars,
    evening_date,
    parse_window,
)

# --- vocabularies ----------------------------------------------------------------------
ACTIVITY_TYPES = (
    "synlig närvaro",
    "narkotikainsats",
    "nattvandring",
    "alkoholtillsyn",
    "kvartersmöte",
    "helgförstärkning",
    "polis för en dag",
    "trygghetsbesiktning",
    "annat",
)
#: Suggested partners and actors; any non-empty name is accepted.
PARTNERS = ("polis", "kommun", "SL", "fastighetsägare", "föreningar", "nattvandrare")
COUNT, COVERAGE, TASK = TARGET_KINDS
KIND_LABELS = {COUNT: "antal aktiviteter", COVERAGE: "täckning av områden", TASK: "engångsuppgift"}
MET, ON_TRACK, BEHIND, NOT_MET = "uppfyllt", "på väg", "efter plan", "ej uppfyllt"
STATUSES = (MET, ON_TRACK, BEHIND, NOT_MET)
STATUS_COLOURS = {MET: "#1a9641", ON_TRACK: "#2c7bb6", BEHIND: "#f39c12", NOT_MET: "#d7301f"}
#: Conditions a count target understands (see `evaluate_targets`).
CONDITION_KEYS = ("evening_share_min", "when", "evenings", "every")
WHEN_CHOICES = ("helg", "lov")
PROPOSAL_STATUSES = ("ny", "vald", "genomförd", "avböjd")

# --- column names of the frames this module returns -------------------------------------
PROMISE_ID = "promise_id"
ACTIVITY_TYPE = "activity_type"
STARTS_AT, ENDS_AT = "starts_at", "ends_at"
LON, LAT = "lon", "lat"
PLACE_NAME = "place_name"
ACTORS = "actors"
NOTES = "notes"
VERSION = "version"
CREATED_BY = "created_by"
EVENING_DATE = "evening_date"
IN_EVENING = "in_evening"  # midpoint in kväll/natt 18–06
ON_WEEKEND = "on_weekend"  # fre/lör evening, or a lör/sön daytime
ON_LOV = "on_lov"
LOV_KNOWN = "lov_known"  # the day lies inside the kommun's lov calendar's coverage
TARGET_ID = "target_id"
KIND = "kind"
DESCRIPTION = "description"
MINIMUM = "minimum"
DONE = "done"  # what counts toward the minimum
LOGGED = "logged"  # activities of the type, before conditions
EXPECTED_NOW = "expected_now"
SHARE_EVENING = "share_evening"
SHARE_WEEKEND = "share_weekend"
SHARE_LOV = "share_lov"
COVERED = "covered"
MISSING = "missing"
STATUS = "status"
DETAIL = "detail"
PROGRESS = "progress"  # 0..1 for a progress bar
IN_ZONE = "in_zone"
ZONE_NAME = "zone_name"
IN_PEAK = "in_peak"

ACTIVITY_COLUMNS = (
    schema.ID, PROMISE_ID, ACTIVITY_TYPE, STARTS_AT, ENDS_AT, LON, LAT, schema.ZONE_ID,
    schema.AREA_ID, PLACE_NAME, ACTORS, NOTES, CREATED_BY, VERSION,
)  # fmt: skip
#: Columns the CSV import reads (case-insensitive); the first three are required.
IMPORT_COLUMNS = (
    ACTIVITY_TYPE, STARTS_AT, ENDS_AT, LON, LAT, schema.AREA_ID, schema.ZONE_ID, PLACE_NAME,
    ACTORS, NOTES, PROMISE_ID,
)  # fmt: skip
REQUIRED_IMPORT_COLUMNS = (ACTIVITY_TYPE, STARTS_AT)

_TZ = schema.TZ
_EVENING_WINDOW = "kväll och natt"


# --- validation helpers ----------------------------------------------------------------
def _activity_type(value: object) -> str:
    text = check_text(value, "typ av aktivitet", required=True)
    if text not in ACTIVITY_TYPES:
        raise InputError(
            f'Aktivitetstypen "{text}" finns inte; välj en av: {", ".join(ACTIVITY_TYPES)}.'
        )
    return text


def parse_time(value: object, what: str = "tiden") -> dt.datetime | None:
    """A tz-aware Europe/Stockholm datetime from a datetime or ISO 8601 text.

    Text without an offset is read as Stockholm wall time (what a person writes in a form or
    a spreadsheet); a naive ``datetime`` object is refused. Empty gives ``None``.

    Examples
    --------
    >>> parse_time("2018-03-16 22:30").isoformat()
    '2018-03-16T22:30:00+01:00'
    >>> parse_time("2018-03-16T21:30:00Z").isoformat()
    '2018-03-16T22:30:00+01:00'
    >>> parse_time("") is None
    True
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise InputError(f"{what.capitalize()} {value.isoformat()} saknar tidszon.")
        return pd.Timestamp(value).tz_convert(_TZ).to_pydatetime()
    text = str(value).strip()
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise InputError(
            f'{what.capitalize()} "{text}" är ingen tid; skriv ÅÅÅÅ-MM-DD TT:MM.'
        ) from None
    if ts is pd.NaT:
        raise InputError(f'{what.capitalize()} "{text}" är ingen tid; skriv ÅÅÅÅ-MM-DD TT:MM.')
    if ts.tzinfo is None:
        try:
            ts = ts.tz_localize(_TZ, nonexistent="raise", ambiguous="raise")
        except (ValueError, Exception) as exc:  # pytz/zoneinfo errors for DST gaps/overlaps
            raise InputError(
                f'{what.capitalize()} "{text}" finns inte eller är tvetydig vid byte till eller '
                f"från sommartid; ange tidszon, t.ex. +01:00 ({type(exc).__name__})."
            ) from None
    return ts.tz_convert(_TZ).to_pydatetime()


def _times(starts_at: object, ends_at: object) -> tuple[dt.datetime, dt.datetime | None]:
    start = parse_time(starts_at, "starttiden")
    if start is None:
        raise InputError("Ange när aktiviteten började (starttid).")
    end = parse_time(ends_at, "sluttiden")
    if end is not None and end < start:
        raise InputError(
            f"Sluttiden {end:%Y-%m-%d %H:%M} ligger före starttiden {start:%Y-%m-%d %H:%M}."
        )
    return start, end


def _actors(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    items = re.split(r"[;,]", value) if isinstance(value, str) else list(value)
    return [str(a).strip() for a in items if str(a).strip()]


def _as_date(value: object, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{what.capitalize()} {value!r} är inget datum (ÅÅÅÅ-MM-DD).")


# --- promises ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetSpec:
    """One target of a promise, as plain values (see `geo.store.PromiseTarget`).

    Examples
    --------
    >>> TargetSpec("count", "Minst tio synlig närvaro, mest kvällstid", "synlig närvaro", 10,
    ...            {"evening_share_min": 0.5}).kind
    'count'
    """

    kind: str
    description: str
    activity_type: str | None = None
    minimum: int | None = None
    conditions: Mapping[str, Any] = field(default_factory=dict)
    coverage_area_ids: Sequence[str] = ()
    due_on: dt.date | None = None
    done_on: dt.date | None = None

    def checked(self) -> TargetSpec:
        """A validated copy (InputError in Swedish for a bad value)."""
        if self.kind not in TARGET_KINDS:
            raise InputError(
                f'Målets typ "{self.kind}" finns inte; välj en av: {", ".join(TARGET_KINDS)}.'
            )
        description = check_text(self.description, "en beskrivning av målet", required=True)
        activity = None if self.activity_type in (None, "") else _activity_type(self.activity_type)
        if self.kind in (COUNT, COVERAGE) and activity is None:
            raise InputError(f"Målet ”{description}” behöver en aktivitetstyp.")
        minimum = self.minimum
        if minimum is not None:
            try:
                minimum = int(minimum)
            except (TypeError, ValueError):
                raise InputError(f"Minsta antal {self.minimum!r} är inget heltal.") from None
            if minimum < 0:
                raise InputError(f"Minsta antal kan inte vara negativt (fick {minimum}).")
        conditions = dict(self.conditions or {})
        unknown = [k for k in conditions if k not in CONDITION_KEYS]
        if unknown:
            raise InputError(
                f"Okänt villkor {', '.join(unknown)}; tillåtna: {', '.join(CONDITION_KEYS)}."
            )
        share = conditions.get("evening_share_min")
        if share is not None and not 0 <= float(share) <= 1:
            raise InputError(f"Andelen kvällstid ska vara mellan 0 och 1 (fick {share}).")
        bad_when = [w for w in conditions.get("when", []) if w not in WHEN_CHOICES]
        if bad_when:
            raise InputError(
                f"Villkoret när={', '.join(bad_when)} finns inte; välj {', '.join(WHEN_CHOICES)}."
            )
        bad_days = [d for d in conditions.get("evenings", []) if d not in DAY_NAMES]
        if bad_days:
            raise InputError(
                f"Okänd kväll {', '.join(bad_days)}; välj bland {', '.join(DAY_NAMES)}."
            )
        if self.kind == COUNT and minimum is None and not conditions.get("every"):
            raise InputError(f"Målet ”{description}” behöver ett minsta antal.")
        areas = [str(a) for a in self.coverage_area_ids]
        if self.kind == COVERAGE and not areas:
            raise InputError(f"Målet ”{description}” behöver minst ett område att täcka.")
        return TargetSpec(
            self.kind, description, activity, minimum, conditions, tuple(areas),
            self.due_on, self.done_on,
        )  # fmt: skip


def create_promise(
    store: Store,
    *,
    title: str,
    period_start: dt.date,
    period_end: dt.date,
    created_by: str,
    area_ids: Iterable[str] = (),
    partners: Iterable[str] = (),
    text: str = "",
    targets: Iterable[TargetSpec] = (),
) -> int:
    """Store a promise and its targets (one transaction, audited as ``promise.create``).

    Parameters
    ----------
    store : Store
    title : str
    period_start, period_end : datetime.date
        Both included.
    created_by : str
    area_ids : iterable of str
        Boundary ``area_id`` values the promise covers.
    partners : iterable of str
        Polis, kommun, SL, ...
    text : str
        The promise as published.
    targets : iterable of TargetSpec

    Returns
    -------
    int
        The promise id.

    Raises
    ------
    InputError
        A missing title or author, a period that ends before it starts, a bad target.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> create_promise(store, title="Tryggare torg", period_start=dt.date(2018, 1, 1),
    ...     period_end=dt.date(2018, 12, 31), created_by="anna",
    ...     targets=[TargetSpec("count", "Minst fyra narkotikainsatser", "narkotikainsats", 4)])
    1
    """
    title = check_text(title, "en rubrik", required=True, max_len=300)
    who = check_text(created_by, "vem som lägger in löftet", required=True, max_len=200)
    start, end = _as_date(period_start, "startdatum"), _as_date(period_end, "slutdatum")
    if end < start:
        raise InputError(f"Perioden slutar ({end}) före den börjar ({start}).")
    checked = [t.checked() for t in targets]
    with store.session() as s:
        promise = Promise(
            title=title,
            period_start=start,
            period_end=end,
            area_ids=[str(a) for a in area_ids],
            partners=_actors(list(partners)),
            text=check_text(text, "löftets text", required=False, max_len=20_000),
            created_by=who,
        )
        s.add(promise)
        s.flush()
        for i, t in enumerate(checked):
            s.add(_target_row(promise.id, i, t))
        record_audit(
            s,
            actor=who,
            action="promise.create",
            target_type="promise",
            target_id=promise.id,
            params={"title": title, "targets": len(checked)},
        )
        return promise.id


def _target_row(promise_id: int, position: int, t: TargetSpec) -> PromiseTarget:
    return PromiseTarget(
        promise_id=promise_id,
        position=position,
        kind=t.kind,
        description=t.description,
        activity_type=t.activity_type,
        minimum=t.minimum,
        conditions=dict(t.conditions),
        coverage_area_ids=list(t.coverage_area_ids),
        due_on=t.due_on,
        done_on=t.done_on,
    )


def add_target(store: Store, promise_id: int, target: TargetSpec, *, editor: str) -> int:
    """Add a target to an existing promise (audited as ``promise.add_target``).

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> pid = create_promise(store, title="T", period_start=dt.date(2018, 1, 1),
    ...                      period_end=dt.date(2018, 12, 31), created_by="anna")
    >>> add_target(store, pid, TargetSpec("task", "En trygghetsbesiktning"), editor="anna")
    1
    """
    who = check_text(editor, "vem som ändrar", required=True, max_len=200)
    t = target.checked()
    with store.session() as s:
        promise = _get_promise(s, promise_id)
        position = len(promise.targets)
        row = _target_row(promise.id, position, t)
        s.add(row)
        s.execute(
            sa.update(Promise).where(Promise.id == promise.id).values(version=Promise.version + 1)
        )
        s.flush()
        record_audit(
            s,
            actor=who,
            action="promise.add_target",
            target_type="promise",
            target_id=promise.id,
            params={"target_id": row.id, "kind": t.kind, "description": t.description},
        )
        return row.id


def set_task_done(store: Store, target_id: int, done_on: dt.date | None, *, editor: str) -> None:
    """Mark a one-off task done on a date (``None``: not done), audited ``promise.task_done``.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> pid = create_promise(store, title="T", period_start=dt.date(2018, 1, 1),
    ...     period_end=dt.date(2018, 12, 31), created_by="anna",
    ...     targets=[TargetSpec("task", "En trygghetsbesiktning")])
    >>> set_task_done(store, 1, dt.date(2018, 5, 2), editor="anna")
    >>> targets_frame(store, pid)["done_on"].tolist()
    [datetime.date(2018, 5, 2)]
    """
    who = check_text(editor, "vem som ändrar", required=True, max_len=200)
    with store.session() as s:
        row = s.get(PromiseTarget, int(target_id))
        if row is None:
            raise InputError(f"Målet {target_id} finns inte.")
        if row.kind != TASK:
            raise InputError(f"Målet {target_id} är ingen engångsuppgift (det är {row.kind}).")
        old = row.done_on
        row.done_on = None if done_on is None else _as_date(done_on, "datumet")
        record_audit(
            s,
            actor=who,
            action="promise.task_done",
            target_type="promise_target",
            target_id=row.id,
            params={"done_on": [_iso(old), _iso(row.done_on)]},
        )


def update_promise(
    store: Store, promise_id: int, *, expected_version: int, editor: str, **changes: Any
) -> int:
    """Edit a promise's title, period, areas, partners or text (optimistic lock).

    Returns the new version. Raises `geo.errors.ConflictError` when someone else saved
    first (nothing is written), InputError for a bad value. Audited as ``promise.edit``.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> pid = create_promise(store, title="T", period_start=dt.date(2018, 1, 1),
    ...                      period_end=dt.date(2018, 12, 31), created_by="anna")
    >>> update_promise(store, pid, expected_version=1, editor="bo", title="Tryggare torg")
    2
    """
    allowed = ("title", "period_start", "period_end", "area_ids", "partners", "text")
    unknown = [k for k in changes if k not in allowed]
    if unknown:
        raise ValueError(f"cannot change {unknown}; allowed fields are {allowed}")
    who = check_text(editor, "vem som ändrar", required=True, max_len=200)
    with store.session() as s:
        promise = _get_promise(s, promise_id)
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "title":
                value = check_text(value, "en rubrik", required=True, max_len=300)
            elif key in ("period_start", "period_end"):
                value = _as_date(value, "datumet")
            elif key == "text":
                value = check_text(value, "löftets text", required=False, max_len=20_000)
            else:
                value = _actors(list(value)) if key == "partners" else [str(v) for v in value]
            values[key] = value
        start = values.get("period_start", promise.period_start)
        end = values.get("period_end", promise.period_end)
        if end < start:
            raise InputError(f"Perioden slutar ({end}) före den börjar ({start}).")
        diff = {
            k: [_iso(getattr(promise, k)), _iso(v)]
            for k, v in values.items()
            if getattr(promise, k) != v
        }
        _guarded_update(s, promise, expected_version, values, f"Löftet {promise_id}")
        record_audit(
            s, actor=who, action="promise.edit", target_type="promise",
            target_id=promise.id, params=diff,
        )  # fmt: skip
        return int(expected_version) + 1


def _guarded_update(
    s: sa.orm.Session, row: Promise | Activity, expected: int, values: dict, label: str
) -> None:
    """UPDATE ... WHERE id AND version = expected; ConflictError (Swedish) when no row matched."""
    model = type(row)
    result = s.execute(
        sa.update(model)
        .where(model.id == row.id, model.version == int(expected))
        .values(**values, version=model.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ConflictError(
            f"{label} har ändrats av någon annan medan du redigerade (du utgick från version "
            f"{expected}, nu gäller version {row.version}). Ladda om och gör ändringen igen."
        )


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _get_promise(session: sa.orm.Session, promise_id: int) -> Promise:
    promise = session.get(Promise, int(promise_id))
    if promise is None:
        raise InputError(f"Medborgarlöftet {promise_id} finns inte.")
    return promise


def promises_frame(store: Store) -> pd.DataFrame:
    """All promises, newest period first: id, title, period, areas, partners, text, version.

    Examples
    --------
    >>> promises_frame(Store("sqlite://")).columns.tolist()[:4]
    ['id', 'title', 'period_start', 'period_end']
    """
    cols = ["id", "title", "period_start", "period_end", "area_ids", "partners", "text",
            "created_by", "version"]  # fmt: skip
    with store.read_session() as s:
        rows = s.scalars(
            sa.select(Promise).order_by(Promise.period_start.desc(), Promise.id.desc())
        ).all()
        records = [[getattr(p, c) for c in cols] for p in rows]
    return pd.DataFrame(records, columns=cols)


def promise_record(store: Store, promise_id: int) -> dict[str, Any]:
    """One promise as a plain dict (the columns of `promises_frame`).

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> pid = create_promise(store, title="T", period_start=dt.date(2018, 1, 1),
    ...                      period_end=dt.date(2018, 12, 31), created_by="anna")
    >>> promise_record(store, pid)["title"]
    'T'
    """
    with store.read_session() as s:
        p = _get_promise(s, promise_id)
        return {c: getattr(p, c) for c in (
            "id", "title", "period_start", "period_end", "area_ids", "partners", "text",
            "created_by", "version",
        )}  # fmt: skip


TARGET_COLUMNS = (
    TARGET_ID, "position", KIND, DESCRIPTION, ACTIVITY_TYPE, MINIMUM, "conditions",
    "coverage_area_ids", "due_on", "done_on",
)  # fmt: skip


def targets_frame(store: Store, promise_id: int) -> pd.DataFrame:
    """The targets of a promise in their order.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> pid = create_promise(store, title="T", period_start=dt.date(2018, 1, 1),
    ...     period_end=dt.date(2018, 12, 31), created_by="anna",
    ...     targets=[TargetSpec("count", "Minst fyra", "narkotikainsats", 4)])
    >>> targets_frame(store, pid)[["kind", "minimum"]].values.tolist()
    [['count', 4]]
    """
    with store.read_session() as s:
        rows = s.scalars(
            sa.select(PromiseTarget)
            .where(PromiseTarget.promise_id == int(promise_id))
            .order_by(PromiseTarget.position, PromiseTarget.id)
        ).all()
        records = [
            [t.id, t.position, t.kind, t.description, t.activity_type, t.minimum,
             dict(t.conditions or {}), list(t.coverage_area_ids or []), t.due_on, t.done_on]
            for t in rows
        ]  # fmt: skip
    frame = pd.DataFrame(records, columns=list(TARGET_COLUMNS))
    frame[MINIMUM] = frame[MINIMUM].astype("Int64")
    return frame


# --- activities ----------------------------------------------------------------------------
def _activity_values(
    *,
    activity_type: object,
    starts_at: object,
    ends_at: object = None,
    lon: object = None,
    lat: object = None,
    area_id: object = None,
    zone_id: object = None,
    place_name: object = "",
    actors: object = (),
    notes: object = "",
    promise_id: object = None,
) -> dict[str, Any]:
    """Validated column values for an Activity row (InputError in Swedish)."""
    kind = _activity_type(activity_type)
    start, end = _times(starts_at, ends_at)
    values: dict[str, Any] = {
        "activity_type": kind,
        "starts_at": start,
        "ends_at": end,
        "lon": None, "lat": None, "x_m": None, "y_m": None,
        "area_id": check_text(area_id, "området", required=False, max_len=100) or None,
        "zone_id": check_text(zone_id, "zonen", required=False, max_len=100) or None,
        "place_name": check_text(place_name, "platsen", required=False, max_len=200),
        "actors": _actors(actors),
        "notes": check_text(notes, "anteckningar", required=False),
        "promise_id": None,
    }  # fmt: skip
    blank = [v is None or (isinstance(v, str) and not v.strip()) for v in (lon, lat)]
    if not all(blank):
        if any(blank):
            raise InputError("Ange både longitud och latitud (eller ingen av dem).")
        lon_f, lat_f = _check_point(lon, lat)
        x, y = lonlat_to_sweref(lon_f, lat_f)
        values.update(lon=lon_f, lat=lat_f, x_m=x, y_m=y)
    if values["lon"] is None and not (values["area_id"] or values["zone_id"]):
        raise InputError("Ange en plats: klicka på kartan, eller välj ett område eller en zon.")
    if promise_id not in (None, ""):
        try:
            values["promise_id"] = int(float(promise_id))
        except (TypeError, ValueError):
            raise InputError(f'Löftets nummer "{promise_id}" är inget heltal.') from None
    return values


def add_activity(store: Store, *, created_by: str, **fields: Any) -> int:
    """Log an activity (audited as ``activity.create``).

    Parameters
    ----------
    store : Store
    created_by : str
    **fields
        ``activity_type`` (one of `ACTIVITY_TYPES`), ``starts_at`` (tz-aware datetime or ISO
        text; text without offset is Stockholm time), optional ``ends_at``, a place —
        ``lon``/``lat`` (WGS 84), ``area_id`` and/or ``zone_id`` — ``place_name``,
        ``actors`` (list or "a; b"), internal ``notes``, ``promise_id``.

    Returns
    -------
    int
        The activity id.

    Raises
    ------
    InputError
        An unknown type, a missing or naive time, an end before the start, no place, a
        point outside Sweden, or a promise that does not exist.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> add_activity(store, created_by="anna", activity_type="synlig närvaro",
    ...              starts_at="2018-03-16 20:00", lon=17.8336, lat=59.4236)
    1
    """
    who = check_text(created_by, "vem som lägger in aktiviteten", required=True, max_len=200)
    values = _activity_values(**fields)
    with store.session() as s:
        row = _new_activity(s, values, who)
        record_audit(
            s, actor=who, action="activity.create", target_type="activity", target_id=row.id,
            params={"type": values["activity_type"], "starts_at": values["starts_at"].isoformat(),
                    "promise_id": values["promise_id"]},
        )  # fmt: skip
        return row.id


def _new_activity(s: sa.orm.Session, values: dict[str, Any], who: str) -> Activity:
    if values["promise_id"] is not None:
        _get_promise(s, values["promise_id"])
    row = Activity(**values, created_by=who)
    s.add(row)
    s.flush()
    return row


def update_activity(
    store: Store, activity_id: int, *, expected_version: int, editor: str, **changes: Any
) -> int:
    """Edit an activity (any field of `add_activity`); optimistic lock, audited ``activity.edit``.

    Returns the new version; `geo.errors.ConflictError` when someone else saved first.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> aid = add_activity(store, created_by="anna", activity_type="nattvandring",
    ...                    starts_at="2018-03-16 21:00", area_id="0123-jakobsberg")
    >>> update_activity(store, aid, expected_version=1, editor="bo", notes="Lugnt.")
    2
    """
    who = check_text(editor, "vem som ändrar", required=True, max_len=200)
    with store.session() as s:
        row = s.get(Activity, int(activity_id))
        if row is None:
            raise InputError(f"Aktiviteten {activity_id} finns inte.")
        current = {
            "activity_type": row.activity_type, "starts_at": row.starts_at,
            "ends_at": row.ends_at, "lon": row.lon, "lat": row.lat, "area_id": row.area_id,
            "zone_id": row.zone_id, "place_name": row.place_name, "actors": row.actors,
            "notes": row.notes, "promise_id": row.promise_id,
        }  # fmt: skip
        unknown = [k for k in changes if k not in current]
        if unknown:
            raise ValueError(f"cannot change {unknown}; allowed fields are {tuple(current)}")
        values = _activity_values(**{**current, **changes})
        if values["promise_id"] is not None:
            _get_promise(s, values["promise_id"])
        diff = {
            k: [_iso(getattr(row, k)), _iso(v)]
            for k, v in values.items()
            if k in changes and getattr(row, k) != v and k != "notes"
        }
        if "notes" in changes and row.notes != values["notes"]:
            diff["notes"] = "ändrad"  # internal text stays out of the audit log
        _guarded_update(s, row, expected_version, values, f"Aktiviteten {activity_id}")
        record_audit(
            s, actor=who, action="activity.edit", target_type="activity", target_id=row.id,
            params=diff,
        )  # fmt: skip
        return int(expected_version) + 1


def activities_frame(
    store: Store,
    *,
    promise_id: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> gpd.GeoDataFrame:
    """Activities as a GeoDataFrame in EPSG:3006 (geometry None where no point was given).

    Parameters
    ----------
    store : Store
    promise_id : int, optional
        Only activities logged against this promise.
    start, end : datetime.date, optional
        Only activities starting on these Stockholm dates or between them (inclusive).

    Returns
    -------
    GeoDataFrame
        Columns `ACTIVITY_COLUMNS` + ``geometry``, ordered by start time.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> _ = add_activity(store, created_by="anna", activity_type="synlig närvaro",
    ...                  starts_at="2018-03-16 20:00", lon=17.8336, lat=59.4236)
    >>> f = activities_frame(store)
    >>> len(f), f.crs.to_epsg(), str(f["starts_at"].dt.tz)
    (1, 3006, 'Europe/Stockholm')
    """
    query = sa.select(Activity).order_by(Activity.starts_at, Activity.id)
    if promise_id is not None:
        query = query.where(Activity.promise_id == int(promise_id))
    if start is not None:
        first = pd.Timestamp(_as_date(start, "startdatum")).tz_localize(_TZ).to_pydatetime()
        query = query.where(Activity.starts_at >= first)
    if end is not None:
        last = pd.Timestamp(_as_date(end, "slutdatum") + dt.timedelta(days=1)).tz_localize(_TZ)
        query = query.where(Activity.starts_at < last.to_pydatetime())
    with store.read_session() as s:
        rows = s.scalars(query).all()
        records = [
            [a.id, a.promise_id, a.activity_type, a.starts_at, a.ends_at, a.lon, a.lat,
             a.zone_id, a.area_id, a.place_name, list(a.actors or []), a.notes, a.created_by,
             a.version]
            for a in rows
        ]  # fmt: skip
        points = [None if a.x_m is None else Point(a.x_m, a.y_m) for a in rows]
    frame = pd.DataFrame(records, columns=list(ACTIVITY_COLUMNS))
    for col in (STARTS_AT, ENDS_AT):
        frame[col] = pd.to_datetime(frame[col], utc=True).dt.tz_convert(_TZ)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(points, crs=schema.CRS_METRIC), crs=schema.CRS_METRIC
    )


#: What `import_activities` did: ``rows`` read, ``ids`` stored, ``rejected`` (row, reason,
#: raw); ``len(ids) + len(rejected) == rows`` always. The same shape as an issue import.
ActivityImport = IssueImport


def import_activities(
    store: Store,
    path: str | os.PathLike,
    *,
    created_by: str,
    promise_id: int | None = None,
) -> ActivityImport:
    """Import activities from CSV; every row is stored or rejected with its row and reason.

    Columns (case-insensitive): ``activity_type`` and ``starts_at`` required; optional
    ``ends_at``, ``lon``, ``lat``, ``area_id``, ``zone_id``, ``place_name``, ``actors``
    ("polis; kommun"), ``notes``, ``promise_id``. Times are ISO 8601; without an offset they
    are Stockholm wall time. Row numbers are spreadsheet rows (the header is row 1).

    Parameters
    ----------
    store : Store
    path : path-like
        A CSV file (comma or semicolon separated, UTF-8).
    created_by : str
    promise_id : int, optional
        Used for rows without a ``promise_id`` value.

    Returns
    -------
    ActivityImport

    Raises
    ------
    InputError
        A structural problem: a missing or unreadable file, a missing required column, a
        promise that does not exist.
    """
    path = Path(path)
    who = check_text(created_by, "vem som importerar", required=True, max_len=200)
    if not path.is_file():
        raise InputError(f"Filen {path} finns inte.")
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None,
            engine="python",
        )  # fmt: skip
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"Filen {path.name} kunde inte läsas som CSV: {exc}") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in REQUIRED_IMPORT_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"Filen {path.name} saknar kolumnen {', '.join(missing)}; kolumnerna är: "
            f"{', '.join(table.columns)}; väntade minst {', '.join(REQUIRED_IMPORT_COLUMNS)}."
        )
    if promise_id is not None:
        with store.read_session() as s:
            _get_promise(s, promise_id)
    ids: list[int] = []
    rejected: list[dict] = []
    known = [c for c in IMPORT_COLUMNS if c in table.columns]
    with store.session() as s:
        for row_no, (_, rec) in enumerate(table.iterrows(), start=2):
            raw = {k: str(v) for k, v in rec.items()}
            try:
                kwargs = {c: raw.get(c) for c in known}
                if not kwargs.get(PROMISE_ID):
                    kwargs[PROMISE_ID] = promise_id
                values = _activity_values(**kwargs)
                with s.begin_nested():  # a rejected row leaves nothing behind
                    row = _new_activity(s, values, who)
                ids.append(row.id)
            except InputError as exc:
                rejected.append({"row": row_no, "reason": str(exc), "raw": raw})
        record_audit(
            s, actor=who, action="activity.import", target_type="file", target_id=path.name,
            params={"rows": len(table), "loaded": len(ids), "rejected": len(rejected),
                    "promise_id": promise_id},
        )  # fmt: skip
    return ActivityImport(
        rows=len(table), ids=ids, rejected=pd.DataFrame(rejected, columns=["row", "reason", "raw"])
    )


# --- proposals (polis för en dag) ------------------------------------------------------------
def add_proposal(
    store: Store,
    *,
    text: str,
    created_by: str,
    proposed_on: dt.date,
    lon: float | None = None,
    lat: float | None = None,
    area_id: str | None = None,
    status: str = "ny",
) -> int:
    """Store a resident's proposal (polis för en dag), audited as ``proposal.create``.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> add_proposal(store, text="Mer närvaro vid tunnelbanan", created_by="anna",
    ...              proposed_on=dt.date(2018, 4, 2), lon=18.0931, lat=59.2436)
    1
    """
    body = check_text(text, "förslagets text", required=True)
    who = check_text(created_by, "vem som lägger in förslaget", required=True, max_len=200)
    if status not in PROPOSAL_STATUSES:
        raise InputError(
            f'Status "{status}" finns inte; välj en av {", ".join(PROPOSAL_STATUSES)}.'
        )
    values: dict[str, Any] = {"lon": None, "lat": None, "x_m": None, "y_m": None}
    if lon is not None or lat is not None:
        lon_f, lat_f = _check_point(lon, lat)
        x, y = lonlat_to_sweref(lon_f, lat_f)
        values = {"lon": lon_f, "lat": lat_f, "x_m": x, "y_m": y}
    with store.session() as s:
        row = Proposal(
            text=body, area_id=area_id or None, proposed_on=_as_date(proposed_on, "datumet"),
            status=status, created_by=who, **values,
        )  # fmt: skip
        s.add(row)
        s.flush()
        record_audit(
            s, actor=who, action="proposal.create", target_type="proposal", target_id=row.id,
            params={"area_id": area_id},
        )  # fmt: skip
        return row.id


def proposals_frame(store: Store) -> gpd.GeoDataFrame:
    """Residents' proposals (EPSG:3006; geometry None without a point).

    Examples
    --------
    >>> proposals_frame(Store("sqlite://")).columns.tolist()[:3]
    ['id', 'text', 'area_id']
    """
    cols = ["id", "text", "area_id", "proposed_on", "status", "lon", "lat"]
    with store.read_session() as s:
        rows = s.scalars(sa.select(Proposal).order_by(Proposal.id)).all()
        records = [[getattr(p, c) for c in cols] for p in rows]
        points = [None if p.x_m is None else Point(p.x_m, p.y_m) for p in rows]
    return gpd.GeoDataFrame(
        pd.DataFrame(records, columns=cols),
        geometry=gpd.GeoSeries(points, crs=schema.CRS_METRIC),
        crs=schema.CRS_METRIC,
    )


# --- time classification (pure) ----------------------------------------------------------------
def lov_calendar_for(
    area_ids: Iterable[str],
    *,
    areas: pd.DataFrame | None = None,
    calendars: LovCalendars | None = None,
) -> tuple[str, LovCalendar]:
    """The lov calendar of the kommun the areas belong to, and that kommun's label.

    The same registry and kommun rules as the "lov" time window
    (`geo.timewin.LovCalendars`, `data/calendar/lov_calendars.toml` by default): one
    implementation of lov for incidents and activities.

    Raises
    ------
    InputError
        When no area lies in a kommun with a known calendar.

    Examples
    --------
    >>> label, cal = lov_calendar_for(["0123-jakobsberg"])
    >>> label, cal.periods[1]
    ('Järfälla (0123)', (datetime.date(2017, 2, 27), datetime.date(2017, 3, 3), 'Sportlov (vecka 9)'))
    >>> lov_calendar_for(["lpo-farsta"])[1].periods[1][0]
    datetime.date(2017, 2, 20)
    """
    registry = default_lov_calendars() if calendars is None else calendars
    ids = [str(a) for a in area_ids]
    code = registry.calendar_for(ids, areas)
    if code is None:
        raise InputError(
            f"Ingen lovkalender finns för områdena {', '.join(ids) or '(inga)'}; kända kommuner: "
            f"{', '.join(registry.label(c) for c in sorted(registry.calendars))}."
        )
    return registry.label(code), registry.calendar(code)


def _aware(times: pd.Series) -> pd.Series:
    """Times as datetime64 in Europe/Stockholm (an all-missing object column included)."""
    return pd.to_datetime(times, utc=True).dt.tz_convert(_TZ)


def _midpoints(frame: pd.DataFrame) -> pd.Series:
    start = _aware(frame[STARTS_AT])
    end = _aware(frame[ENDS_AT]) if ENDS_AT in frame.columns else start
    end = end.where(end.notna(), start)
    return start + (end - start) / 2


def classify_times(
    activities: pd.DataFrame, *, lov: LovCalendar | Iterable[tuple] | None = None
) -> pd.DataFrame:
    """Add ``evening_date``, ``in_evening``, ``on_weekend``, ``on_lov`` and ``lov_known``.

    Judged at each activity's midpoint (its start without an end). ``in_evening``: the
    midpoint is in kväll och natt (18–06). ``on_weekend``: a Friday or Saturday evening or
    night, or a Saturday or Sunday daytime. ``on_lov``: the evening date lies in a lov
    period of ``lov`` (a `geo.timewin.LovCalendar`, or an iterable of (start, end[, label])
    without coverage limits; none given: all False). ``lov_known``: the date lies inside the
    calendar's coverage (False: nobody can say whether it was lov; then ``on_lov`` is False).

    Examples
    --------
    >>> f = pd.DataFrame({"starts_at": pd.to_datetime(["2018-03-16 22:00",
    ...     "2018-03-14 10:00"]).tz_localize("Europe/Stockholm"),
    ...     "ends_at": pd.to_datetime(["2018-03-17 02:00", None]).tz_localize("Europe/Stockholm")})
    >>> out = classify_times(f, lov=[(dt.date(2018, 3, 14), dt.date(2018, 3, 14))])
    >>> out[["in_evening", "on_weekend", "on_lov"]].values.tolist()
    [[True, True, False], [False, False, True]]
    """
    out = activities.copy()
    if out.empty:
        for col in (IN_EVENING, ON_WEEKEND, ON_LOV, LOV_KNOWN):
            out[col] = pd.Series(dtype=bool)
        out[EVENING_DATE] = pd.Series(dtype=object)
        return out
    mid = _midpoints(out)
    out[EVENING_DATE] = evening_date(mid).to_numpy()
    out[IN_EVENING] = WINDOWS[_EVENING_WINDOW].mask(mid)
    wall = mid.dt.tz_convert(_TZ)
    evening_dow = pd.to_datetime(out[EVENING_DATE]).dt.day_of_week.to_numpy()
    night = out[IN_EVENING].to_numpy()
    out[ON_WEEKEND] = np.where(
        night, np.isin(evening_dow, (4, 5)), np.isin(wall.dt.day_of_week.to_numpy(), (5, 6))
    )
    calendar = lov if isinstance(lov, LovCalendar) else LovCalendar(list(lov or ()))
    days = pd.to_datetime(out[EVENING_DATE]).to_numpy().astype("datetime64[D]")
    out[ON_LOV], out[LOV_KNOWN] = calendar.classify(days)
    return out


# --- progress (pure) -------------------------------------------------------------------------


def elapsed_share(period_start: dt.date, period_end: dt.date, as_of: dt.date) -> float:
    """The share of the period passed by the end of ``as_of`` (0 before, 1 after).

    Examples
    --------
    >>> elapsed_share(dt.date(2018, 1, 1), dt.date(2018, 1, 10), dt.date(2018, 1, 5))
    0.5
    """
    days = (period_end - period_start).days + 1
    done = (as_of - period_start).days + 1
    return float(min(max(done / days, 0.0), 1.0))


def _status(done: float, minimum: float, share: float, conditions_ok: bool) -> str:
    if done >= minimum and conditions_ok:
        return MET
    if share >= 1.0:
        return NOT_MET
    return ON_TRACK if done >= np.floor(minimum * share) and conditions_ok else BEHIND


def _evenings_in(start: dt.date, end: dt.date, days: Sequence[str]) -> list[dt.date]:
    wanted = {DAY_NAMES.index(d) for d in days}
    span = pd.date_range(start, end, freq="D")
    return [d.date() for d in span if d.day_of_week in wanted]


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %"


def _count_target(
    t: Mapping[str, Any], acts: pd.DataFrame, start: dt.date, end: dt.date, as_of: dt.date,
    share: float,
) -> dict[str, Any]:  # fmt: skip
    cond = dict(t.get("conditions") or {})
    of_type = acts[acts[ACTIVITY_TYPE] == t[ACTIVITY_TYPE]]
    qualifying = of_type
    notes = []
    when = list(cond.get("when") or [])
    if when:
        keep = np.zeros(len(of_type), dtype=bool)
        if "helg" in when:
            keep |= of_type[ON_WEEKEND].to_numpy(dtype=bool)
        if "lov" in when:
            keep |= of_type[ON_LOV].to_numpy(dtype=bool)
        qualifying = of_type[keep]
        notes.append(f"räknas bara {' eller '.join(when)}: {len(qualifying)} av {len(of_type)}")
    minimum = t.get(MINIMUM)
    minimum = None if minimum is None or pd.isna(minimum) else int(minimum)
    expected = None
    evenings = list(cond.get("evenings") or [])
    if evenings:
        # Count distinct evenings of the named weekdays with an activity.
        wanted = {DAY_NAMES.index(d) for d in evenings}
        dates = pd.to_datetime(qualifying[EVENING_DATE])
        qualifying = qualifying[dates.dt.day_of_week.isin(wanted).to_numpy()]
        done = int(pd.Series(qualifying[EVENING_DATE]).nunique())
        all_evenings = _evenings_in(start, end, evenings)
        if cond.get("every") or minimum is None:
            minimum = len(all_evenings)
            elapsed = [d for d in all_evenings if d <= as_of]
            expected = len(elapsed)
            covered = set(qualifying[EVENING_DATE])
            notes.append(
                f"{done} av {len(elapsed)} kvällar hittills ({', '.join(evenings)}); "
                f"{len(elapsed) - len(covered & set(elapsed))} utan insats"
            )
    else:
        done = len(qualifying)
    ok = True
    share_evening = float(qualifying[IN_EVENING].mean()) if len(qualifying) else np.nan
    need = cond.get("evening_share_min")
    if need is not None:
        ok = len(qualifying) > 0 and share_evening >= float(need)
        notes.append(
            f"kvällstid {_pct(share_evening) if len(qualifying) else '–'} "
            f"(krav minst {_pct(float(need))})"
        )
    if expected is None:
        expected = int(np.floor(minimum * share))
    if done >= minimum and ok:
        status = MET
    elif share >= 1.0:
        status = NOT_MET
    else:
        status = ON_TRACK if done >= expected and ok else BEHIND
    return {
        DONE: done, LOGGED: len(of_type), MINIMUM: minimum, EXPECTED_NOW: expected,
        SHARE_EVENING: share_evening,
        SHARE_WEEKEND: float(qualifying[ON_WEEKEND].mean()) if len(qualifying) else np.nan,
        SHARE_LOV: float(qualifying[ON_LOV].mean()) if len(qualifying) else np.nan,
        STATUS: status, PROGRESS: min(done / minimum, 1.0) if minimum else 1.0,
        DETAIL: "; ".join(notes)
        if cond.get("every")
        else f"{done} av minst {minimum}" + ("; " + "; ".join(notes) if notes else ""),
    }  # fmt: skip


def _coverage_target(
    t: Mapping[str, Any], acts: pd.DataFrame, names: Mapping[str, str], share: float
) -> dict[str, Any]:
    of_type = acts[acts[ACTIVITY_TYPE] == t[ACTIVITY_TYPE]]
    wanted = [str(a) for a in t.get("coverage_area_ids") or []]
    minimum = t.get(MINIMUM)
    per_area = 1 if minimum is None or pd.isna(minimum) else int(minimum)
    counts = of_type[schema.AREA_ID].astype(str).value_counts()
    covered = [a for a in wanted if counts.get(a, 0) >= per_area]
    missing = [a for a in wanted if a not in covered]
    done = len(covered)
    status = _status(done, len(wanted), share, True)
    missing_names = [names.get(a, a) for a in missing]
    detail = f"{done} av {len(wanted)} områden"
    if missing_names:
        detail += f"; saknas: {', '.join(missing_names)}"
    return {
        DONE: done, LOGGED: len(of_type), MINIMUM: len(wanted),
        EXPECTED_NOW: int(np.floor(len(wanted) * share)),
        COVERED: [names.get(a, a) for a in covered], MISSING: missing_names,
        STATUS: status, PROGRESS: done / len(wanted) if wanted else 1.0, DETAIL: detail,
    }  # fmt: skip


def _task_target(
    t: Mapping[str, Any], acts: pd.DataFrame, rounds: pd.DataFrame | None, period_end: dt.date,
    as_of: dt.date,
) -> dict[str, Any]:  # fmt: skip
    done_on = t.get("done_on")
    how = "markerad som gjord" if isinstance(done_on, dt.date) and done_on <= as_of else None
    if how is None and t.get(ACTIVITY_TYPE):
        of_type = acts[acts[ACTIVITY_TYPE] == t[ACTIVITY_TYPE]]
        if len(of_type):
            done_on = of_type[STARTS_AT].min().date()
            how = "loggad aktivitet"
    if how is None and t.get(ACTIVITY_TYPE) == "trygghetsbesiktning" and rounds is not None:
        if len(rounds):
            first = rounds.sort_values("held_on").iloc[0]
            done_on, how = first["held_on"], f"besiktningsrundan ”{first['name']}”"
    due = t.get("due_on") if isinstance(t.get("due_on"), dt.date) else period_end
    if how is not None:
        status, detail = MET, f"gjord {done_on} ({how})"
    elif as_of > due:
        status = NOT_MET if as_of >= period_end else BEHIND
        detail = f"inte gjord; skulle vara klar {due}"
    else:
        status, detail = ON_TRACK, f"inte gjord än; senast {due}"
    return {
        DONE: int(how is not None), LOGGED: int(how is not None), MINIMUM: 1,
        EXPECTED_NOW: int(as_of > due), STATUS: status, PROGRESS: float(how is not None),
        DETAIL: detail,
    }  # fmt: skip


def evaluate_targets(
    targets: pd.DataFrame,
    activities: pd.DataFrame,
    *,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date | None = None,
    lov: LovCalendar | Iterable[tuple] | None = None,
    area_names: Mapping[str, str] | None = None,
    rounds: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Progress against every target of a promise.

    Only activities that start inside the period and on or before ``as_of`` count.

    * ``count``: activities of the type; conditions ``when`` (["helg", "lov"]: only those on a
      weekend or lov count), ``evenings`` (["fre", "lör"]: distinct evenings of these weekdays
      count; with ``every`` the minimum is every such evening in the period and "expected by
      now" every one passed so far), ``evening_share_min`` (the share in kväll/natt among the
      counted activities must reach it).
    * ``coverage``: each area in ``coverage_area_ids`` needs ``minimum`` (default 1)
      activities of the type whose ``area_id`` is that area (see `assign_areas`).
    * ``task``: done when ``done_on`` is set, an activity of the type exists, or — for
      trygghetsbesiktning — a row in ``rounds`` (inspection rounds in the period and area).

    Status: **uppfyllt** when the minimum and the conditions are met; otherwise, while the
    period runs, **på väg** when done ≥ ⌊minimum × share of the period passed⌋ (and the
    conditions hold), else **efter plan**; once the period is over, **ej uppfyllt**.

    Parameters
    ----------
    targets : DataFrame
        From `targets_frame`.
    activities : DataFrame
        From `activities_frame` (``activity_type``, ``starts_at``, ``ends_at``, ``area_id``).
    period_start, period_end : datetime.date
    as_of : datetime.date, optional
        The day to judge on; default the earlier of today and the period end.
    lov : LovCalendar or iterable of (start, end[, label]), optional
        The kommun's lov calendar (`lov_calendar_for`).
    area_names : mapping, optional
        area_id → name, for naming covered and missing areas.
    rounds : DataFrame, optional
        Inspection rounds (``held_on``, ``name``) that count for a trygghetsbesiktning task.

    Returns
    -------
    DataFrame
        One row per target: ``target_id``, ``kind``, ``description``, ``activity_type``,
        ``minimum``, ``done``, ``logged``, ``expected_now``, ``share_evening``,
        ``share_weekend``, ``share_lov``, ``covered``, ``missing``, ``status``, ``progress``,
        ``detail``.

    Examples
    --------
    >>> t = pd.DataFrame({"target_id": [1], "kind": ["count"], "description": ["Minst 2"],
    ...     "activity_type": ["narkotikainsats"], "minimum": [2], "conditions": [{}]})
    >>> a = pd.DataFrame({"activity_type": ["narkotikainsats"], "starts_at":
    ...     pd.to_datetime(["2018-02-01 20:00"]).tz_localize("Europe/Stockholm"),
    ...     "ends_at": pd.NaT, "area_id": [None]})
    >>> r = evaluate_targets(t, a, period_start=dt.date(2018, 1, 1),
    ...     period_end=dt.date(2018, 12, 31), as_of=dt.date(2018, 3, 1))
    >>> r[["done", "expected_now", "status"]].values.tolist()  # ⌊2 × 60/365⌋ = 0
    [[1, 0, 'på väg']]
    """
    for name, frame in (("targets", targets), ("activities", activities)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"`{name}` must be a DataFrame, got {type(frame).__name__}")
    if period_end < period_start:
        raise ValueError(f"period ends ({period_end}) before it starts ({period_start})")
    today = dt.datetime.now(dt.UTC).astimezone(pd.Timestamp.now(tz=_TZ).tzinfo).date()
    as_of = min(today, period_end) if as_of is None else as_of
    share = elapsed_share(period_start, period_end, as_of)
    acts = activities
    if len(acts):
        local_day = acts[STARTS_AT].dt.tz_convert(_TZ).dt.date
        inside = (local_day >= period_start) & (local_day <= min(as_of, period_end))
        acts = acts[inside.to_numpy()]
    acts = classify_times(acts, lov=lov)
    if schema.AREA_ID not in acts.columns:
        acts[schema.AREA_ID] = None
    if rounds is not None and len(rounds):
        held = pd.to_datetime(rounds["held_on"]).dt.date
        rounds = rounds[((held >= period_start) & (held <= min(as_of, period_end))).to_numpy()]
    names = dict(area_names or {})
    rows = []
    for t in targets.to_dict("records"):
        if t[KIND] == COUNT:
            res = _count_target(t, acts, period_start, period_end, as_of, share)
        elif t[KIND] == COVERAGE:
            res = _coverage_target(t, acts, names, share)
        elif t[KIND] == TASK:
            res = _task_target(t, acts, rounds, period_end, as_of)
        else:
            raise ValueError(f'target kind was "{t[KIND]}" but is expected to be in {TARGET_KINDS}')
        rows.append({
            TARGET_ID: t.get(TARGET_ID), KIND: t[KIND], DESCRIPTION: t.get(DESCRIPTION, ""),
            ACTIVITY_TYPE: t.get(ACTIVITY_TYPE), COVERED: [], MISSING: [],
            SHARE_EVENING: np.nan, SHARE_WEEKEND: np.nan, SHARE_LOV: np.nan, **res,
        })  # fmt: skip
    cols = [TARGET_ID, KIND, DESCRIPTION, ACTIVITY_TYPE, MINIMUM, DONE, LOGGED, EXPECTED_NOW,
            SHARE_EVENING, SHARE_WEEKEND, SHARE_LOV, COVERED, MISSING, STATUS, PROGRESS, DETAIL]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def assign_areas(activities: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill a missing ``area_id`` from the point, with the smallest area that holds it.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["big", "small"]},
    ...     geometry=[box(0, 0, 100, 100), box(0, 0, 10, 10)], crs="EPSG:3006")
    >>> acts = gpd.GeoDataFrame({"area_id": [None, "x"]}, geometry=[Point(5, 5), Point(50, 50)],
    ...     crs="EPSG:3006")
    >>> assign_areas(acts, areas)["area_id"].tolist()
    ['small', 'x']
    """
    out = activities.copy()
    if schema.AREA_ID not in out.columns:
        out[schema.AREA_ID] = None
    if out.empty or areas is None or areas.empty:
        return out
    metric = areas.to_crs(schema.CRS_METRIC)
    by_size = metric.assign(_a=metric.geometry.area).sort_values("_a")
    need = out[schema.AREA_ID].isna() & out.geometry.notna() & ~out.geometry.is_empty
    for idx in out.index[need.to_numpy()]:
        pt = out.geometry.loc[idx]
        hit = by_size[by_size.geometry.contains(pt).to_numpy()]
        if len(hit):
            out.loc[idx, schema.AREA_ID] = str(hit[schema.AREA_ID].iloc[0])
    return out


def rounds_in_area(rounds: pd.DataFrame, area: BaseGeometry | None) -> pd.DataFrame:
    """Inspection rounds whose area (``area_wkt``, EPSG:3006) meets the promise's area.

    A round without a polygon counts when its ``area_id`` is in ``rounds.attrs["area_ids"]``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> r = pd.DataFrame({"name": ["A", "B"], "held_on": [dt.date(2018, 5, 1)] * 2,
    ...     "area_id": [None, None], "area_wkt": [box(0, 0, 5, 5).wkt, box(50, 50, 60, 60).wkt]})
    >>> rounds_in_area(r, box(0, 0, 10, 10))["name"].tolist()
    ['A']
    """
    import shapely

    if rounds.empty or area is None:
        return rounds.copy()
    keep = []
    for rec in rounds.to_dict("records"):
        wkt = rec.get("area_wkt")
        if isinstance(wkt, str) and wkt:  # a round made without an area has None/NaN here
            keep.append(bool(shapely.from_wkt(wkt).intersects(area)))
        else:
            keep.append(rec.get("area_id") in rounds.attrs.get("area_ids", ()))
    return rounds[np.asarray(keep, dtype=bool)].copy()


def inspection_rounds(store: Store) -> pd.DataFrame:
    """Every inspection round: id, name, held_on, area_id, area_wkt.

    Examples
    --------
    >>> inspection_rounds(Store("sqlite://")).columns.tolist()
    ['id', 'name', 'held_on', 'area_id', 'area_wkt']
    """
    cols = ["id", "name", "held_on", "area_id", "area_wkt"]
    with store.read_session() as s:
        rows = s.execute(sa.select(*(getattr(InspectionRound, c) for c in cols))).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


@dataclass
class PromiseStatus:
    """A promise, its activities (areas assigned, times classified) and the progress table."""

    promise: dict[str, Any]
    targets: pd.DataFrame
    activities: gpd.GeoDataFrame
    progress: pd.DataFrame
    as_of: dt.date
    area: BaseGeometry | None
    messages: list[str] = field(default_factory=list)


def promise_status(
    store: Store,
    promise_id: int,
    *,
    areas: gpd.GeoDataFrame | None = None,
    as_of: dt.date | None = None,
) -> PromiseStatus:
    """Everything the page and the report need about one promise, from the database.

    Activities are those logged against the promise; areas come from ``areas`` (points get
    their area); lov from the kommun's calendar (`lov_calendar_for`; activities on days
    the calendar does not cover are named in ``messages``); trygghetsbesiktning
    tasks also count inspection rounds in the promise's area and period.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> pid = create_promise(store, title="T", period_start=dt.date(2018, 1, 1),
    ...     period_end=dt.date(2018, 12, 31), created_by="anna", area_ids=["0123"],
    ...     targets=[TargetSpec("count", "Minst 4", "nattvandring", 4)])
    >>> promise_status(store, pid, as_of=dt.date(2018, 6, 1)).progress["status"].tolist()
    ['efter plan']
    """
    promise = promise_record(store, promise_id)
    targets = targets_frame(store, promise_id)
    acts = activities_frame(store, promise_id=promise_id)
    messages: list[str] = []
    area = None
    names: dict[str, str] = {}
    if areas is not None and len(areas):
        metric = areas.to_crs(schema.CRS_METRIC)
        names = dict(zip(metric[schema.AREA_ID].astype(str), metric[schema.AREA_NAME], strict=True))
        mine = metric[metric[schema.AREA_ID].astype(str).isin(promise["area_ids"])]
        area = mine.geometry.union_all() if len(mine) else None
        acts = assign_areas(acts, metric)
    ids = list(promise["area_ids"]) + [a for ids_ in targets["coverage_area_ids"] for a in ids_]
    try:
        lov_label, lov = lov_calendar_for(ids, areas=areas)
    except InputError as exc:
        lov_label, lov = "", LovCalendar([])
        messages.append(f"{exc} Lov räknas därför inte.")
    rounds = inspection_rounds(store)
    rounds.attrs["area_ids"] = tuple(promise["area_ids"])
    rounds = rounds_in_area(rounds, area)
    end = promise["period_end"]
    today = pd.Timestamp.now(tz=_TZ).date()
    as_of = min(today, end) if as_of is None else as_of
    progress = evaluate_targets(
        targets, acts, period_start=promise["period_start"], period_end=end, as_of=as_of,
        lov=lov, area_names=names, rounds=rounds,
    )  # fmt: skip
    classified = classify_times(acts, lov=lov)
    if lov_label and len(classified):
        day = classified[STARTS_AT].dt.tz_convert(_TZ).dt.date
        counted = ((day >= promise["period_start"]) & (day <= min(as_of, end))).to_numpy()
        unknown = classified[counted & ~classified[LOV_KNOWN].to_numpy(dtype=bool)]
        if len(unknown):
            days = sorted(unknown[EVENING_DATE])
            messages.append(
                f"Lov: {len(unknown)} aktiviteter från {days[0]} till {days[-1]} ligger utanför "
                f"lovkalenderns täckning för {lov_label} ({lov.coverage_text()}); om de var på "
                "lov går inte att säga, så de räknas inte som lovaktiviteter. Lägg till "
                "kommunens kalender för de åren i data/calendar/lov_calendars.toml."
            )
    return PromiseStatus(promise, targets, classified, progress, as_of, area, messages)


# --- monthly counts ------------------------------------------------------------------------------
def monthly_counts(activities: pd.DataFrame, *, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Activities per calendar month and type (rows: months ``YYYY-MM``; empty months kept).

    Examples
    --------
    >>> a = pd.DataFrame({"activity_type": ["nattvandring", "nattvandring", "kvartersmöte"],
    ...     "starts_at": pd.to_datetime(["2018-01-05 20:00", "2018-03-02 21:00",
    ...     "2018-03-09 18:00"]).tz_localize("Europe/Stockholm")})
    >>> t = monthly_counts(a, start=dt.date(2018, 1, 1), end=dt.date(2018, 3, 31))
    >>> t.columns.tolist(), t.values.tolist()
    (['nattvandring', 'kvartersmöte'], [[1, 0], [0, 0], [1, 1]])
    """
    months = pd.period_range(pd.Period(start, "M"), pd.Period(end, "M"), freq="M")
    if activities.empty:
        return pd.DataFrame(index=months.strftime("%Y-%m"))
    local = _aware(activities[STARTS_AT]).dt.tz_localize(None).dt.to_period("M")
    table = pd.crosstab(local, activities[ACTIVITY_TYPE]).reindex(months, fill_value=0)
    table.index = table.index.strftime("%Y-%m")
    table.index.name = "månad"
    table.columns.name = None
    order = [t for t in ACTIVITY_TYPES if t in table.columns]
    return table[order].astype(int)


# --- where and when: activities against hotspots ---------------------------------------------
_PEAK_BLOCK = re.compile(r"(?P<days>[^\d,][^\d]*?)\s*(?P<a>\d{1,2})\s*[–-]\s*(?P<b>\d{1,2})")


def peak_window(text: str):
    """A `geo.timewin.TimeWindow` from a zone's ``peak_hours`` text (several blocks joined).

    Examples
    --------
    >>> w = peak_window("fre–lör 22–02, sön 14–16")
    >>> int(w.hour_mask.sum())  # 2 × 4 h + 2 h
    10
    """
    blocks = [
        f"{m['days'].strip(' ,')} {m['a']}-{m['b']}" for m in _PEAK_BLOCK.finditer(text or "")
    ]
    if not blocks:
        raise ValueError(f'peak hours "{text}" hold no block like "fre–lör 22–02"')
    return parse_window("; ".join(blocks))


def _overlaps(window, start: pd.Timestamp, end: pd.Timestamp | None) -> bool:
    if end is None or pd.isna(end) or end <= start:
        return bool(window.mask(pd.DatetimeIndex([start]))[0])
    samples = pd.date_range(start, end, freq="15min")
    return bool(window.mask(samples).any())


def activities_vs_hotspots(
    activities: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None, *, top_n: int = 5
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Were the operations where and when the problems are?

    An activity is **in a zone** when its point lies in one of the top ``top_n`` zones (by
    ``rank``) or its ``zone_id`` names one. It is **in peak hours** when its time span
    (start–end, sampled every 15 minutes) touches the ``peak_hours`` of its zone — or, for
    an activity outside every zone, of any top zone.

    Parameters
    ----------
    activities : GeoDataFrame
        From `activities_frame` (EPSG:3006).
    zones : GeoDataFrame or None
        Hotspot zones with ``zone_id``, ``rank``, ``name``, ``peak_hours``, e.g.
        ``geo.analysis.run_hotspots(...).zones``. None or empty: nothing is in a zone.
    top_n : int, default 5

    Returns
    -------
    (GeoDataFrame, dict)
        A copy with ``in_zone``, ``zone_name`` and ``in_peak``; and a summary: ``n``,
        ``placed`` (activities with a point or zone), ``in_zone``, ``in_peak``, ``both``,
        the shares ``share_in_zone``, ``share_in_peak``, ``share_both`` (of ``placed``,
        NaN when none) and ``zones`` (names of the zones used).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"zone_id": ["z1"], "rank": [1], "name": ["Stationen"],
    ...     "peak_hours": ["fre–lör 22–02"]}, geometry=[box(0, 0, 100, 100)], crs="EPSG:3006")
    >>> a = gpd.GeoDataFrame({"zone_id": [None, None], "starts_at": pd.to_datetime(
    ...     ["2018-03-16 21:00", "2018-03-14 10:00"]).tz_localize("Europe/Stockholm"),
    ...     "ends_at": pd.to_datetime(["2018-03-16 23:00", "2018-03-14 12:00"]
    ...     ).tz_localize("Europe/Stockholm")}, geometry=[Point(50, 50), Point(500, 500)],
    ...     crs="EPSG:3006")
    >>> out, s = activities_vs_hotspots(a, z)
    >>> out["in_zone"].tolist(), out["in_peak"].tolist(), s["share_both"]
    ([True, False], [True, False], 0.5)
    """
    if not isinstance(activities, gpd.GeoDataFrame):
        raise TypeError(f"activities must be a GeoDataFrame, got {type(activities).__name__}")
    out = activities.copy()
    out[IN_ZONE] = False
    out[ZONE_NAME] = None
    out[IN_PEAK] = False
    placed = (out.geometry.notna() & ~out.geometry.is_empty).to_numpy().copy()
    if schema.ZONE_ID in out.columns:
        placed |= out[schema.ZONE_ID].notna().to_numpy()
    summary: dict[str, Any] = {"n": len(out), "placed": int(placed.sum()), "zones": []}
    top = None
    if zones is not None and len(zones):
        if schema.RANK not in zones.columns:
            raise ValueError(
                f"zones need a '{schema.RANK}' column; columns are {list(zones.columns)}"
            )
        top = zones[zones[schema.RANK] <= top_n].to_crs(schema.CRS_METRIC)
        summary["zones"] = [str(n) for n in top.get(schema.NAME, top[schema.ZONE_ID])]
    if top is not None and len(top) and len(out):
        windows = {}
        for z in top.to_dict("records"):
            try:
                windows[str(z[schema.ZONE_ID])] = peak_window(z.get(schema.PEAK_HOURS) or "")
            except ValueError:
                continue
        ids = top[schema.ZONE_ID].astype(str).tolist()
        names = top[schema.NAME].tolist() if schema.NAME in top.columns else ids
        for idx, rec in zip(out.index, out.to_dict("records"), strict=True):
            zone = None
            zid = rec.get(schema.ZONE_ID)
            if zid is not None and str(zid) in ids:
                zone = ids.index(str(zid))
            pt = rec.get("geometry")
            if zone is None and pt is not None and not pt.is_empty:
                hits = np.flatnonzero(top.geometry.contains(pt).to_numpy())
                zone = int(hits[0]) if len(hits) else None
            start, end = rec[STARTS_AT], rec.get(ENDS_AT)
            if zone is not None:
                out.loc[idx, IN_ZONE] = True
                out.loc[idx, ZONE_NAME] = names[zone]
                win = windows.get(ids[zone])
                out.loc[idx, IN_PEAK] = win is not None and _overlaps(win, start, end)
            else:
                out.loc[idx, IN_PEAK] = any(_overlaps(w, start, end) for w in windows.values())
    in_zone = out[IN_ZONE].to_numpy(dtype=bool) & placed
    in_peak = out[IN_PEAK].to_numpy(dtype=bool) & placed
    n = summary["placed"]
    both = in_zone & in_peak
    summary.update(
        in_zone=int(in_zone.sum()),
        in_peak=int(in_peak.sum()),
        both=int(both.sum()),
        share_in_zone=float(in_zone.sum() / n) if n else float("nan"),
        share_in_peak=float(in_peak.sum() / n) if n else float("nan"),
        share_both=float(both.sum() / n) if n else float("nan"),
    )
    return out, summary


# --- the map --------------------------------------------------------------------------------------
ACTIVITY_COLOURS = dict(zip(ACTIVITY_TYPES, (
    "#1f78b4", "#e31a1c", "#33a02c", "#ff7f00", "#6a3d9a", "#b15928", "#fb9a99", "#a6cee3",
    "#777777",
), strict=True))  # fmt: skip
PROPOSAL_COLOUR = "#c51b7d"
# A pink diamond drawn with CSS: a DivIcon needs no plugin script (RegularPolygonMarker loads
# one from a CDN, and offline the whole map stays blank).
_PROPOSAL_ICON = (
    '<div style="width:10px;height:10px;transform:rotate(45deg);opacity:0.9;'
    f'background:{PROPOSAL_COLOUR};border:1.5px solid #222222"></div>'
)


def activities_layer(
    activities: gpd.GeoDataFrame, *, name: str = "Aktiviteter", show: bool = True
) -> folium.FeatureGroup:
    """A folium layer: one circle per placed activity, coloured by type, escaped tooltips.

    Notes are internal and not shown; the place name and actors are escaped.

    Examples
    --------
    >>> a = gpd.GeoDataFrame({"activity_type": ["nattvandring"], "starts_at":
    ...     pd.to_datetime(["2018-03-16 21:00"]).tz_localize("Europe/Stockholm"),
    ...     "place_name": ["<script>x</script>"], "notes": ["HEMLIG"]},
    ...     geometry=[Point(660760, 6590650)], crs="EPSG:3006")
    >>> m = folium.Map(location=[59.42, 17.83], tiles=None)
    >>> _ = activities_layer(a).add_to(m)
    >>> out = m.get_root().render()
    >>> "<script>x</script>" in out, "&lt;script&gt;" in out, "HEMLIG" in out
    (False, True, False)
    """
    group = folium.FeatureGroup(name=escape_text(name), show=show)
    placed = activities[activities.geometry.notna() & ~activities.geometry.is_empty]
    if placed.empty:
        return group
    wgs = placed.to_crs(schema.CRS_WGS84)
    for rec, pt in zip(wgs.to_dict("records"), wgs.geometry, strict=True):
        kind = rec.get(ACTIVITY_TYPE)
        when = rec[STARTS_AT].strftime("%Y-%m-%d %H:%M")
        lines = [f"<b>{escape_text(kind)}</b>", escape_text(when)]
        for label, key in (("Plats", PLACE_NAME), ("Zon", ZONE_NAME)):
            if rec.get(key):
                lines.append(f"{label}: {escape_text(rec[key])}")
        if rec.get(ACTORS):
            lines.append("Aktörer: " + escape_text(", ".join(map(str, rec[ACTORS]))))
        if IN_PEAK in rec:
            lines.append("Under zonens toppar" if rec[IN_PEAK] else "Utanför topptimmarna")
        folium.CircleMarker(
            location=[pt.y, pt.x], radius=6, weight=1.5,
            color="#222222" if rec.get(IN_ZONE) else ACTIVITY_COLOURS.get(kind, "#777777"),
            fill=True, fill_color=ACTIVITY_COLOURS.get(kind, "#777777"), fill_opacity=0.85,
            tooltip=folium.Tooltip("<br>".join(lines)),
        ).add_to(group)  # fmt: skip
    return group


def proposals_layer(
    proposals: gpd.GeoDataFrame, *, name: str = "Förslag (polis för en dag)", show: bool = True
) -> folium.FeatureGroup:
    """Residents' proposals as pink diamonds with the escaped text in the tooltip.

    The diamond is a CSS ``DivIcon``: no plugin script, so the map also works offline.

    Examples
    --------
    >>> p = gpd.GeoDataFrame({"text": ["`${alert(1)}`"], "status": ["ny"]},
    ...     geometry=[Point(674800, 6572800)], crs="EPSG:3006")
    >>> m = folium.Map(location=[59.24, 18.09], tiles=None)
    >>> _ = proposals_layer(p).add_to(m)
    >>> "${alert" in m.get_root().render()
    False
    """
    group = folium.FeatureGroup(name=escape_text(name), show=show)
    placed = proposals[proposals.geometry.notna() & ~proposals.geometry.is_empty]
    if placed.empty:
        return group
    wgs = placed.to_crs(schema.CRS_WGS84)
    for rec, pt in zip(wgs.to_dict("records"), wgs.geometry, strict=True):
        folium.Marker(
            location=[pt.y, pt.x], icon=folium.DivIcon(
                html=_PROPOSAL_ICON, icon_size=(12, 12), icon_anchor=(6, 6), class_name=""
            ),
            tooltip=folium.Tooltip(
                f"<b>Förslag</b> ({escape_text(rec.get('status'))}): {escape_text(rec.get('text'))}"
            ),
        ).add_to(group)  # fmt: skip
    return group


# --- draft of next year's promise ----------------------------------------------------------------
def draft_promise_text(
    promise: Mapping[str, Any],
    *,
    zones: gpd.GeoDataFrame | None = None,
    dialogue: pd.DataFrame | None = None,
    progress: pd.DataFrame | None = None,
    top_n: int = 3,
) -> str:
    """A draft text for next year's promise, from the lägesbild, for the user to edit.

    Names the area's top hotspot zones and their peak hours, the dialogue's most mentioned
    themes (``reason_category`` weighted by ``mentions``), and carries over the targets that
    were not met.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame({"rank": [1], "name": ["Jakobsbergs station"],
    ...     "peak_hours": ["fre–lör 22–02"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:3006")
    >>> d = pd.DataFrame({"reason_category": ["narkotika", "belysning"], "mentions": [5, 2]})
    >>> text = draft_promise_text({"title": "Järfälla 2018", "partners": ["polis", "kommun"]},
    ...                           zones=z, dialogue=d)
    >>> "Jakobsbergs station (mest fre–lör 22–02)" in text, "narkotika (5" in text
    (True, True)
    """
    partners = ", ".join(promise.get("partners") or []) or "polisen och kommunen"
    lines = [f"Utkast till nästa medborgarlöfte (efter ”{promise.get('title', '')}”)", ""]
    lines.append(f"Vi, {partners}, lovar att under det kommande året:")
    if zones is not None and len(zones):
        top = zones.sort_values(schema.RANK).head(top_n)
        places = []
        for rec in top.to_dict("records"):
            peak = rec.get(schema.PEAK_HOURS)
            label = str(rec.get(schema.NAME) or f"zon {rec.get(schema.ZONE_ID, '')}")
            places.append(f"{label} (mest {peak})" if isinstance(peak, str) and peak else label)
        lines.append(
            "- finnas på plats med synlig närvaro där och när lägesbilden visar flest händelser: "
            + "; ".join(places)
            + ","
        )
    if dialogue is not None and len(dialogue) and schema.REASON_CATEGORY in dialogue.columns:
        weights = dialogue[schema.MENTIONS] if schema.MENTIONS in dialogue.columns else 1
        themes = (
            pd.Series(weights, index=dialogue.index).groupby(dialogue[schema.REASON_CATEGORY])
            .sum().sort_values(ascending=False).head(3)
        )  # fmt: skip
        listed = ", ".join(f"{k} ({int(v)} omnämnanden)" for k, v in themes.items())
        lines.append(f"- arbeta med det invånarna tog upp i medborgardialogen: {listed},")
    if progress is not None and len(progress):
        left = progress[progress[STATUS] != MET]
        for rec in left.to_dict("records"):
            lines.append(f"- fullfölja det som inte nåddes: {rec[DESCRIPTION]} ({rec[DETAIL]}),")
    lines.append("- följa upp under året och berätta för invånarna hur det går.")
    return "\n".join(lines)


# --- demo: the two real promises (DESIGN.md §1) -----------------------------------------------
DEMO_SEED = 20180301
DEMO_AUTHOR = "demo"
JARFALLA_TITLE = "Medborgarlöfte Järfälla 2018: tryggare kring Jakobsbergs station"
FARSTA_TITLE = "Medborgarlöfte Farsta 2018: helgförstärkning och kvartersmöten"
#: Places of the demo activities (lon, lat; DESIGN.md §5 and the demo gazetteer).
DEMO_PLACES = {
    "Jakobsbergs station": (17.8336, 59.4236),
    "Jakobsbergs centrum": (17.8330, 59.4253),
    "Söderhöjden": (17.8336, 59.42045),
    "Farsta centrum": (18.0931, 59.2436),
    "Hökarängen centrum": (18.0826, 59.2577),
    "Högdalen centrum": (18.0430, 59.2637),
    "Farsta strand": (18.1017, 59.2351),
    "Gångvägen över Gubbängsfältet": (18.0745, 59.2603),
    "Rågsved": (18.0282, 59.2565),
    "Hagsätra": (18.0124, 59.2626),
}
#: Stadsdelar the demo Farsta log leaves without a kvartersmöte (an honest gap to show).
DEMO_UNCOVERED = ("0180-fagersjo", "0180-larsboda")
#: Evenings the demo helgförstärkning missed (midsommar, two in July, jul).
DEMO_MISSED_EVENINGS = (
    dt.date(2018, 6, 22), dt.date(2018, 6, 23), dt.date(2018, 7, 13), dt.date(2018, 7, 20),
    dt.date(2018, 12, 21), dt.date(2018, 12, 22),
)  # fmt: skip
DEMO_PROPOSALS = (
    ("Farsta centrum", "Mer närvaro vid tunnelbanans entré på fredagskvällar."),
    ("Farsta centrum", "Ungdomar samlas vid busshållplatsen efter stängning, det känns otryggt."),
    ("Hökarängen centrum", "Titta på langningen på torget sent på kvällen."),
    ("Gångvägen över Gubbängsfältet", "Gångvägen är mörk, följ med och se hur det är på natten."),
    ("Högdalen centrum", "Mopeder kör på gångbanorna runt centrum."),
    ("Farsta strand", "Stök vid pendeltågsstationen efter tio på kvällen."),
    ("Rågsved", "Inbrott i källarförråd, tala med fastighetsägaren."),
    ("Hagsätra", "Mer närvaro kring skolan på eftermiddagen."),
)


def _jitter(rng: np.random.Generator, place: str, spread_m: float = 60.0) -> tuple[float, float]:
    lon, lat = DEMO_PLACES[place]
    dx, dy = rng.normal(0.0, spread_m, 2)
    # ~111 km per degree of latitude; longitude degrees shrink with cos(latitude)
    return (round(lon + dx / (111_320 * np.cos(np.radians(lat))), 6), round(lat + dy / 111_320, 6))


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return (
        pd.Timestamp(dt.datetime.combine(day, dt.time(hour, minute)))
        .tz_localize(_TZ)
        .to_pydatetime()
    )


def _weekdays_in(start: dt.date, end: dt.date, weekday: int) -> list[dt.date]:
    return [d.date() for d in pd.date_range(start, end, freq="D") if d.day_of_week == weekday]


def _demo_jarfalla(rng: np.random.Generator) -> tuple[dict, list[TargetSpec], list[dict]]:
    start, end = dt.date(2018, 3, 1), dt.date(2018, 12, 31)
    promise = {
        "title": JARFALLA_TITLE, "period_start": start, "period_end": end,
        "area_ids": ["0123-jakobsberg"], "partners": ["polis", "Järfälla kommun", "SL"],
        "text": (
            "Polisen, SL och Järfälla kommun lovar att göra området kring Jakobsbergs station "
            "tryggare, framför allt på kvällar och nätter. Vi genomför en trygghetsbesiktning "
            "av stationsområdet, minst tio insatser med synlig närvaro (mest kvällstid), minst "
            "fyra narkotikainsatser, nattvandringar på helger och lov och brottsförebyggande "
            "alkoholtillsyn av restaurangerna i närheten. Gemensamma prioriteringar: narkotika "
            "och våld på offentlig plats och rekrytering till kriminella nätverk. Vi följer upp "
            "under året och berättar hur det går på webben och i sociala medier."
        ),
    }  # fmt: skip
    targets = [
        TargetSpec(TASK, "En trygghetsbesiktning av stationsområdet", "trygghetsbesiktning",
                   due_on=dt.date(2018, 10, 31)),
        TargetSpec(COUNT, "Minst tio insatser med synlig närvaro, mest kvällstid",
                   "synlig närvaro", 10, {"evening_share_min": 0.5}),
        TargetSpec(COUNT, "Minst fyra narkotikainsatser", "narkotikainsats", 4),
        TargetSpec(COUNT, "Nattvandringar på helger och lov (minst femton)", "nattvandring", 15,
                   {"when": ["helg", "lov"]}),
        TargetSpec(COUNT, "Brottsförebyggande alkoholtillsyn av restaurangerna nära stationen",
                   "alkoholtillsyn", 2),
    ]  # fmt: skip
    acts: list[dict] = []
    months = pd.date_range(start, end, freq="MS")
    # synlig närvaro: 13, of which 9 in the evening
    for i, m in enumerate(months.tolist() + months[[2, 5, 8]].tolist()):
        day = (m + pd.Timedelta(days=int(rng.integers(0, 27)))).date()
        evening = i % 13 not in (1, 4, 7, 10)
        hour = int(rng.integers(18, 21)) if evening else int(rng.integers(11, 15))
        place = "Jakobsbergs station" if i % 3 else "Jakobsbergs centrum"
        acts.append(dict(activity_type="synlig närvaro", starts_at=_at(day, hour),
                         ends_at=_at(day, hour) + dt.timedelta(hours=3), place_name=place,
                         actors=["polis", "SL", "kommun"][: 1 + i % 3],
                         notes="Internt: patrullens iakttagelser.", point=_jitter(rng, place)))  # fmt: skip
    # narkotikainsatser: 4, evenings into the night at the station
    for month in (4, 6, 9, 11):
        fridays = _weekdays_in(dt.date(2018, month, 1), dt.date(2018, month, 28), 4)
        day = fridays[int(rng.integers(0, len(fridays)))]
        acts.append(dict(activity_type="narkotikainsats", starts_at=_at(day, 20),
                         ends_at=_at(day, 20) + dt.timedelta(hours=5),
                         place_name="Jakobsbergs station", actors=["polis"],
                         notes="Internt: uppgifter om langning vid perrongerna.",
                         point=_jitter(rng, "Jakobsbergs station", 40)))  # fmt: skip
    # nattvandringar: 12 on Friday/Saturday evenings, 1 on a lov weekday, 3 on Wednesdays
    fri_sat = [d for d in pd.date_range(start, end, freq="D") if d.day_of_week in (4, 5)]
    picks = sorted(rng.choice(len(fri_sat), size=12, replace=False))
    days = [fri_sat[i].date() for i in picks] + [dt.date(2018, 10, 30)]
    days += [dt.date(2018, 5, 16), dt.date(2018, 9, 12), dt.date(2018, 11, 21)]
    for day in days:
        place = "Söderhöjden" if rng.random() < 0.3 else "Jakobsbergs station"
        acts.append(dict(activity_type="nattvandring", starts_at=_at(day, 21),
                         ends_at=_at(day, 21) + dt.timedelta(hours=4), place_name=place,
                         actors=["nattvandrare", "föreningar"], notes="",
                         point=_jitter(rng, place, 120)))  # fmt: skip
    for day in (dt.date(2018, 4, 20), dt.date(2018, 9, 21), dt.date(2018, 12, 7)):
        acts.append(dict(activity_type="alkoholtillsyn", starts_at=_at(day, 22),
                         ends_at=_at(day, 22) + dt.timedelta(hours=2, minutes=30),
                         place_name="Jakobsbergs centrum", actors=["kommun", "polis"],
                         notes="Internt: två restauranger besökta.",
                         point=_jitter(rng, "Jakobsbergs centrum", 50)))  # fmt: skip
    return promise, targets, acts


def _demo_farsta(
    rng: np.random.Generator, areas: gpd.GeoDataFrame
) -> tuple[dict, list[TargetSpec], list[dict]]:
    start, end = dt.date(2018, 1, 1), dt.date(2018, 12, 31)
    stadsdelar = areas[areas[schema.LEVEL] == "stadsdel"].to_crs(schema.CRS_METRIC)
    ids = stadsdelar[schema.AREA_ID].astype(str).tolist()
    promise = {
        "title": FARSTA_TITLE, "period_start": start, "period_end": end,
        "area_ids": ["lpo-farsta"], "partners": ["polis", "Farsta stadsdelsförvaltning",
                                                 "Enskede-Årsta-Vantörs stadsdelsförvaltning"],
        "text": (
            "Lokalpolisområde Farsta och stadsdelsförvaltningarna lovar helgförstärkning: en "
            "grupp poliser varje fredags- och lördagskväll, årets alla helger, på de platser och "
            "tider där kartläggningen visar mest våld på offentlig plats. Vi håller kvartersmöten "
            "på annonserade platser i alla 14 stadsdelar, minst en gång per stadsdel och år. "
            "Med polis för en dag får invånarna föreslå vad polisen ska fokusera på under "
            "utvalda pass."
        ),
    }  # fmt: skip
    targets = [
        TargetSpec(COUNT, "Helgförstärkning varje fredags- och lördagskväll hela året",
                   "helgförstärkning", None, {"evenings": ["fre", "lör"], "every": True}),
        TargetSpec(COVERAGE, "Kvartersmöte i var och en av de 14 stadsdelarna minst en gång",
                   "kvartersmöte", 1, coverage_area_ids=ids),
        TargetSpec(COUNT, "Polis för en dag: minst fyra pass där invånarna valt fokus",
                   "polis för en dag", 4),
    ]  # fmt: skip
    acts: list[dict] = []
    spots = ("Farsta centrum", "Hökarängen centrum", "Högdalen centrum")
    for i, day in enumerate(_evenings_in(start, end, ["fre", "lör"])):
        if day in DEMO_MISSED_EVENINGS:
            continue
        place = spots[i % 3]
        acts.append(dict(activity_type="helgförstärkning", starts_at=_at(day, 19),
                         ends_at=_at(day, 19) + dt.timedelta(hours=8), place_name=place,
                         actors=["polis"], notes="Internt: bemanning 6 poliser.",
                         point=_jitter(rng, place, 80)))  # fmt: skip
    covered = [a for a in ids if a not in DEMO_UNCOVERED]
    tuesdays = _weekdays_in(dt.date(2018, 2, 1), dt.date(2018, 11, 30), 1)
    picks = sorted(rng.choice(len(tuesdays), size=len(covered) + 3, replace=False))
    for k, i in enumerate(picks):
        area_id = covered[k % len(covered)]
        area = stadsdelar[stadsdelar[schema.AREA_ID].astype(str) == area_id].iloc[0]
        pt = gpd.GeoSeries([area.geometry.representative_point()], crs=schema.CRS_METRIC)
        wgs = pt.to_crs(schema.CRS_WGS84).iloc[0]
        day = tuesdays[i]
        acts.append(dict(activity_type="kvartersmöte", starts_at=_at(day, 18),
                         ends_at=_at(day, 19, 30), place_name=f"{area[schema.AREA_NAME]}",
                         actors=["polis", "stadsdelsförvaltning"], area_id=area_id,
                         notes="Internt: frågor om enskilda ärenden noterade.",
                         point=(round(wgs.x, 6), round(wgs.y, 6))))  # fmt: skip
    for day, place in ((dt.date(2018, 4, 14), "Farsta centrum"),
                       (dt.date(2018, 6, 9), "Gångvägen över Gubbängsfältet"),
                       (dt.date(2018, 9, 15), "Hökarängen centrum"),
                       (dt.date(2018, 11, 10), "Farsta strand")):  # fmt: skip
        acts.append(dict(activity_type="polis för en dag", starts_at=_at(day, 14),
                         ends_at=_at(day, 22), place_name=place, actors=["polis"],
                         notes="", point=_jitter(rng, place, 40)))  # fmt: skip
    return promise, targets, acts


def _demo_areas() -> gpd.GeoDataFrame:
    from geo import demo, io

    return io.load_boundaries(demo.demo_paths()["areas"]).frame


def seed_demo_promises(store: Store, *, areas: gpd.GeoDataFrame | None = None) -> bool:
    """Load the two real promises with a seeded activity log when no promise exists yet.

    Järfälla 2018 (station area; trygghetsbesiktning, ≥ 10 synlig närvaro mostly evenings,
    ≥ 4 narkotikainsatser, nattvandringar on weekends and lov, alkoholtillsyn) and Farsta
    2018 (helgförstärkning every Friday and Saturday evening, kvartersmöten in all 14
    stadsdelar, polis för en dag, residents' proposals). The log is made by a fixed seed so
    the same database results every time; some targets are met and some are not (six
    evenings without helgförstärkning, two stadsdelar without a kvartersmöte, nattvandringar
    on ordinary weekdays that do not count). The trygghetsbesiktning is the demo round of
    `geo.inspections.seed_demo`, which this also creates when no round exists.

    Parameters
    ----------
    store : Store
    areas : GeoDataFrame, optional
        Boundaries with the 14 Farsta stadsdelar; the bundled demo boundaries by default.

    Returns
    -------
    bool
        True if the demo was created, False if the database already had a promise.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> seed_demo_promises(store), seed_demo_promises(store)
    (True, False)
    >>> promises_frame(store)["title"].str.split(":").str[0].tolist()
    ['Medborgarlöfte Järfälla 2018', 'Medborgarlöfte Farsta 2018']
    """
    from geo import inspections

    if areas is None:
        areas = _demo_areas()
    rng = np.random.default_rng(DEMO_SEED)
    jarfalla = _demo_jarfalla(rng)
    farsta = _demo_farsta(rng, areas)
    with store.session() as s:
        if store.dialect == "postgresql":
            s.execute(sa.text("SELECT pg_advisory_xact_lock(7431008)"))
        if s.scalar(sa.select(sa.func.count()).select_from(Promise)):
            return False
        for promise, targets, acts in (jarfalla, farsta):
            row = Promise(**promise, created_by=DEMO_AUTHOR)
            s.add(row)
            s.flush()
            for i, t in enumerate(targets):
                s.add(_target_row(row.id, i, t.checked()))
            for a in acts:
                lon, lat = a.pop("point")
                values = _activity_values(**a, lon=lon, lat=lat, promise_id=row.id)
                s.add(Activity(**values, created_by=DEMO_AUTHOR))
            record_audit(
                s, actor=DEMO_AUTHOR, action="promise.create", target_type="promise",
                target_id=row.id, params={"title": row.title, "demo": True, "activities": len(acts)},
            )  # fmt: skip
        for place, text in DEMO_PROPOSALS:
            lon, lat = _jitter(rng, place, 50)
            x, y = lonlat_to_sweref(lon, lat)
            s.add(Proposal(text=text, lon=lon, lat=lat, x_m=x, y_m=y, area_id=None,
                           proposed_on=dt.date(2018, 3, 20), status="ny", created_by=DEMO_AUTHOR))  # fmt: skip
    inspections.seed_demo(store)
    return True
