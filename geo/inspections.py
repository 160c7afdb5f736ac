"""Trygghetsbesiktning: inspection rounds and the physical-environment issues they find.

This module owns the workflow on top of `geo.store`: start a round (date, area, team,
organisations), mark issues (a point, category, severity, description, responsible party,
optional photo), edit them and move them along ny -> åtgärd beställd -> åtgärdad with dates,
keeping a history row for every change; list and filter them as a GeoDataFrame in EPSG:3006;
flag those near the top hotspot zones; export CSV, GeoJSON and a PDF per responsible party;
import lists made in the field; and build the folium layer every map page shows.

Several people may edit the same issue: every write names the ``version`` it started from
and fails with `geo.errors.ConflictError` when someone else saved first (no lost updates).
Every write is one transaction (issue, history row, photo and audit entry together or not
at all). User-typed text is escaped before it reaches HTML (`escape_text`).

Messages meant for users are Swedish; bad input raises `geo.errors.InputError` and stores
nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo import safecsv, schema
from geo.errors import ConflictError, InputError
from geo.store import (
    ISSUE_STATUSES,
    InspectionIssue,
    InspectionRound,
    IssueHistory,
    IssuePhoto,
    Store,
    now,
    record_audit,
)

# --- vocabularies (DESIGN.md §3) -------------------------------------------------------
ISSUE_CATEGORIES = (
    "belysning",
    "vegetation/skymd sikt",
    "klotter",
    "skadegörelse",
    "nedskräpning",
    "trasig utrustning",
    "otydlig/otrygg gångväg",
    "övergiven plats",
    "annat",
)
#: Suggested responsible parties; any non-empty name is accepted.
RESPONSIBLE_PARTIES = ("kommun", "SL", "fastighetsägare", "Trafikverket", "polis", "annan")
#: Suggested organisations taking part in a round; any non-empty name is accepted.
ORGANISATIONS = ("kommun", "polis", "SL", "fastighetsägare", "Trafikverket", "bostadsbolag")
SEVERITY_LABELS = {1: "låg", 2: "medel", 3: "hög"}
NEW, ORDERED, FIXED = ISSUE_STATUSES
#: Allowed status moves. Reopening (back to ny) clears the dates; the history keeps them.
TRANSITIONS = {NEW: (ORDERED, FIXED), ORDERED: (FIXED, NEW), FIXED: (NEW,)}
STATUS_COLOURS = {NEW: "#d7301f", ORDERED: "#f39c12", FIXED: "#1a9641"}

MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: Pillow format name -> MIME type of the photo formats accepted.
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PHOTO_PIXELS = 40_000_000
DEFAULT_HOTSPOT_DISTANCE_M = 150.0
DEFAULT_TOP_ZONES = 5

# --- column names of the issues frame ---------------------------------------------------
ROUND_ID = "round_id"
ROUND_NAME = "round_name"
HELD_ON = "held_on"
LON, LAT = "lon", "lat"
SEVERITY = "severity"
SEVERITY_LABEL = "severity_label"
DESCRIPTION = "description"
RESPONSIBLE = "responsible"
STATUS = "status"
ORDERED_ON = "ordered_on"
FIXED_ON = "fixed_on"
MARKED_BY = "marked_by"
CREATED_AT = "created_at"
UPDATED_AT = "updated_at"
UPDATED_BY = "updated_by"
VERSION = "version"
HAS_PHOTO = "has_photo"
NEAR_HOTSPOT = "near_hotspot"
HOTSPOT_NAME = "hotspot_name"
HOTSPOT_DISTANCE_M = "hotspot_distance_m"

ISSUE_COLUMNS = (
    schema.ID,
    ROUND_ID,
    ROUND_NAME,
    HELD_ON,
    schema.AREA_ID,
    schema.AREA_NAME,
    LON,
    LAT,
    schema.CATEGORY,
    SEVERITY,
    SEVERITY_LABEL,
    DESCRIPTION,
    RESPONSIBLE,
    STATUS,
    ORDERED_ON,
    FIXED_ON,
    MARKED_BY,
    CREATED_AT,
    UPDATED_BY,
    UPDATED_AT,
    VERSION,
    HAS_PHOTO,
)
#: Fields `update_issue` may change.
EDITABLE_FIELDS = (schema.CATEGORY, SEVERITY, DESCRIPTION, RESPONSIBLE, LON, LAT)
MAX_TEXT = 4000


# --- small helpers ----------------------------------------------------------------------
def escape_text(value: object) -> str:
    """Escape user text for HTML *and* for the JavaScript template literals folium writes.

    `html.escape` covers ``< > & " '``; folium puts tooltip and popup HTML inside JS
    backtick strings, where a backtick or ``${`` would end or inject code, so those are
    escaped too.

    Examples
    --------
    >>> escape_text("<script>alert(`x${1}`)</script>")
    '&lt;script&gt;alert(&#96;x&#36;{1}&#96;)&lt;/script&gt;'
    >>> escape_text(None)
    ''
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


@lru_cache(maxsize=1)
def _to_sweref():
    from pyproj import Transformer

    return Transformer.from_crs(schema.CRS_WGS84, schema.CRS_METRIC, always_xy=True)


def lonlat_to_sweref(lon: float, lat: float) -> tuple[float, float]:
    """WGS 84 lon/lat to SWEREF 99 TM (x, y) metres.

    Examples
    --------
    >>> x, y = lonlat_to_sweref(17.8336, 59.4236)
    >>> round(x, -1), round(y, -1)
    (660760.0, 6590650.0)
    """
    x, y = _to_sweref().transform(lon, lat)
    return float(x), float(y)


def _check_point(lon: object, lat: object) -> tuple[float, float]:
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InputError(f"Koordinaterna ({lon}, {lat}) är inga tal.") from None
    min_lon, min_lat, max_lon, max_lat = schema.SWEDEN_BOUNDS_LONLAT
    if not (min_lon <= lon_f <= max_lon and min_lat <= lat_f <= max_lat):
        if min_lon <= lat_f <= max_lon and min_lat <= lon_f <= max_lat:
            raise InputError(
                f"Punkten (lon {lon_f}, lat {lat_f}) ligger utanför Sverige; "
                "longitud och latitud verkar ha bytt plats."
            )
        raise InputError(f"Punkten (lon {lon_f}, lat {lat_f}) ligger utanför Sverige.")
    return lon_f, lat_f


def _check_category(category: object) -> str:
    text = "" if category is None else str(category).strip()
    if not text:
        raise InputError(f"Välj en kategori ({', '.join(ISSUE_CATEGORIES)}).")
    if text not in ISSUE_CATEGORIES:
        raise InputError(
            f'Kategorin "{text}" finns inte; välj en av: {", ".join(ISSUE_CATEGORIES)}.'
        )
    return text


def parse_severity(value: object) -> int:
    """Severity as 1–3 from ``1``/``2``/``3`` or ``låg``/``medel``/``hög``.

    Examples
    --------
    >>> parse_severity("hög"), parse_severity(2), parse_severity("1")
    (3, 2, 1)
    """
    by_label = {label: level for level, label in SEVERITY_LABELS.items()}
    text = "" if value is None else str(value).strip().lower()
    if text in by_label:
        return by_label[text]
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and number.is_integer() and int(number) in SEVERITY_LABELS:
        return int(number)
    raise InputError(f'Allvarlighetsgraden "{value}" är ogiltig; ange 1–3 eller låg/medel/hög.')


def check_text(value: object, what: str, *, required: bool, max_len: int = MAX_TEXT) -> str:
    """A typed text field, stripped; missing values become "".

    Parameters
    ----------
    value : object
        What was typed or read (None and NaN count as empty).
    what : str
        The field in Swedish as the messages name it ("beskrivningen", "en rubrik").
    required : bool
        Whether an empty text is an error.
    max_len : int, default MAX_TEXT
        The longest text allowed, in characters.

    Raises
    ------
    InputError
        An empty required text, or a text longer than ``max_len``.

    Examples
    --------
    >>> check_text("  Trasig lampa ", "beskrivningen", required=True)
    'Trasig lampa'
    >>> check_text(None, "ansvarig part", required=True)
    Traceback (most recent call last):
    geo.errors.InputError: Ange ansvarig part.
    """
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = text.strip()
    if required and not text:
        raise InputError(f"Ange {what}.")
    if len(text) > max_len:
        raise InputError(f"För lång text för {what} ({len(text)} tecken, högst {max_len}).")
    return text


def validate_photo(data: bytes, *, max_bytes: int = MAX_PHOTO_BYTES) -> str:
    """Check that ``data`` is a JPEG, PNG or WebP image within the size limit.

    The content decides, not the file name: the bytes must start with the format's
    signature and Pillow must be able to read the whole image.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    max_bytes : int, default MAX_PHOTO_BYTES (5 MB)
        Largest accepted size.

    Returns
    -------
    str
        The MIME type (``image/jpeg``, ``image/png`` or ``image/webp``).

    Raises
    ------
    InputError
        Empty, too large, not an image, a format not accepted, or a damaged image.

    Examples
    --------
    >>> validate_photo(b"GIF89a...")
    Traceback (most recent call last):
    geo.errors.InputError: Filen är ingen bild i formatet JPEG, PNG eller WebP.
    """
    from PIL import Image, UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"photo must be bytes, got {type(data).__name__}")
    if not data:
        raise InputError("Bildfilen är tom.")
    if len(data) > max_bytes:
        raise InputError(
            f"Bilden är för stor ({len(data) / 1e6:.1f} MB); högsta tillåtna storlek är "
            f"{max_bytes / 1e6:.1f} MB."
        )
    head = bytes(data[:12])
    if not (
        head.startswith(b"\xff\xd8\xff")
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    ):
        raise InputError("Filen är ingen bild i formatet JPEG, PNG eller WebP.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                if img.width * img.height > MAX_PHOTO_PIXELS:
                    raise InputError(
                        f"Bilden har för många bildpunkter ({img.width}×{img.height}); "
                        f"högst {MAX_PHOTO_PIXELS // 1_000_000} megapixel."
                    )
                img.load()  # decodes every byte: a truncated or damaged file fails here
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses above ~89 MP (warning) and ~179 MP (error) before decoding anything
        raise InputError(
            f"Bilden har för många bildpunkter; högst {MAX_PHOTO_PIXELS // 1_000_000} megapixel."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning) as exc:
        raise InputError(f"Bilden kunde inte läsas; filen verkar skadad ({exc}).") from None
    if fmt not in PHOTO_TYPES:
        raise InputError("Filen är ingen bild i formatet JPEG, PNG eller WebP.")
    return PHOTO_TYPES[fmt]


def _photo_row(data: bytes, filename: str, who: str) -> IssuePhoto:
    content_type = validate_photo(data)
    return IssuePhoto(
        filename=check_text(filename, "filnamnet", required=False)[:255],
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=bytes(data),
        uploaded_by=who,
    )


def _area_of(rnd: InspectionRound) -> BaseGeometry | None:
    return shapely.from_wkt(rnd.area_wkt) if rnd.area_wkt else None


def _check_inside(rnd: InspectionRound, x_m: float, y_m: float) -> None:
    area = _area_of(rnd)
    if area is not None and not area.covers(Point(x_m, y_m)):
        raise InputError(
            f"Punkten ligger utanför rundans område ({rnd.area_name}); "
            "markera inom området eller välj en annan runda."
        )


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


# --- rounds -----------------------------------------------------------------------------
def create_round(
    store: Store,
    *,
    name: str,
    held_on: dt.date,
    area_name: str,
    created_by: str,
    area_id: str | None = None,
    area: BaseGeometry | None = None,
    team: str = "",
    organisations: Iterable[str] = (),
    notes: str = "",
) -> int:
    """Start an inspection round.

    Parameters
    ----------
    store : Store
    name : str
        E.g. "Trygghetsbesiktning Jakobsbergs station".
    held_on : datetime.date
        The day of the walk.
    area_name : str
        The area's name as users know it.
    created_by : str
        Who started the round.
    area_id : str, optional
        The boundary's ``area_id`` when the area comes from the boundaries.
    area : shapely geometry in EPSG:3006, optional
        The area walked; issues must lie inside it. ``None``: no check.
    team : str, default ""
        The people walking.
    organisations : iterable of str
        Kommun, polis, SL, fastighetsägare, ...

    Returns
    -------
    int
        The new round's id.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> create_round(store, name="Vårens runda", held_on=dt.date(2026, 4, 2),
    ...              area_name="Jakobsberg", created_by="anna", organisations=["kommun", "SL"])
    1
    """
    with store.session() as s:
        return _add_round(
            s, name=name, held_on=held_on, area_name=area_name, created_by=created_by,
            area_id=area_id, area=area, team=team, organisations=organisations, notes=notes,
        )  # fmt: skip


def _add_round(
    s: sa.orm.Session,
    *,
    name: str,
    held_on: dt.date,
    area_name: str,
    created_by: str,
    area_id: str | None = None,
    area: BaseGeometry | None = None,
    team: str = "",
    organisations: Iterable[str] = (),
    notes: str = "",
) -> int:
    """Validate and add a round (with its audit row) in the caller's transaction."""
    name = check_text(name, "ett namn på rundan", required=True)
    area_name = check_text(area_name, "området", required=True)
    who = check_text(created_by, "vem som startar rundan", required=True)
    if not isinstance(held_on, dt.date):
        raise InputError(f"Datumet för rundan saknas eller är ogiltigt ({held_on!r}).")
    if area is not None and (not isinstance(area, BaseGeometry) or area.is_empty):
        raise InputError("Rundans område måste vara en polygon (EPSG:3006).")
    orgs = [str(o).strip() for o in organisations if str(o).strip()]
    rnd = InspectionRound(
        name=name,
        held_on=held_on,
        area_id=area_id,
        area_name=area_name,
        area_wkt=None if area is None else area.wkt,
        team=check_text(team, "teamet", required=False),
        organisations=orgs,
        notes=check_text(notes, "anteckningar", required=False),
        created_by=who,
    )
    s.add(rnd)
    s.flush()
    record_audit(
        s,
        actor=who,
        action="inspection_round.create",
        target_type="round",
        target_id=rnd.id,
        params={"name": name, "area": area_name},
    )
    return rnd.id


def rounds_frame(store: Store) -> pd.DataFrame:
    """All rounds, newest first, with their issue counts.

    Examples
    --------
    >>> rounds_frame(Store("sqlite://")).columns.tolist()[:4]
    ['id', 'name', 'held_on', 'area_id']
    """
    count = (
        sa.select(sa.func.count(InspectionIssue.id))
        .where(InspectionIssue.round_id == InspectionRound.id)
        .scalar_subquery()
    )
    cols = ["id", "name", "held_on", "area_id", "area_name", "team", "organisations",
            "created_by", "issue_count"]  # fmt: skip
    with store.read_session() as s:
        rows = s.execute(
            sa.select(
                InspectionRound.id,
                InspectionRound.name,
                InspectionRound.held_on,
                InspectionRound.area_id,
                InspectionRound.area_name,
                InspectionRound.team,
                InspectionRound.organisations,
                InspectionRound.created_by,
                count,
            ).order_by(InspectionRound.held_on.desc(), InspectionRound.id.desc())
        ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


def round_area(store: Store, round_id: int) -> BaseGeometry | None:
    """The area polygon of a round (EPSG:3006), or ``None`` when it has none."""
    with store.read_session() as s:
        return _area_of(_get_round(s, round_id))


def _get_round(session: sa.orm.Session, round_id: int) -> InspectionRound:
    rnd = session.get(InspectionRound, int(round_id))
    if rnd is None:
        raise InputError(f"Besiktningsrundan {round_id} finns inte.")
    return rnd


# --- issues -----------------------------------------------------------------------------
def _new_issue(
    session: sa.orm.Session,
    *,
    round_id: int,
    lon: object,
    lat: object,
    category: object,
    severity: object,
    responsible: object,
    marked_by: object,
    description: object = "",
    status: object = NEW,
    ordered_on: dt.date | None = None,
    fixed_on: dt.date | None = None,
    photo: bytes | None = None,
    photo_name: str = "",
    note: str = "",
) -> InspectionIssue:
    """Validate and add one issue with its history row (and photo) to ``session``."""
    lon_f, lat_f = _check_point(lon, lat)
    cat = _check_category(category)
    level = parse_severity(severity)
    who = check_text(marked_by, "vem som markerar", required=True)
    resp = check_text(responsible, "ansvarig part", required=True)
    text = check_text(description, "beskrivningen", required=False)
    state = _check_status(status)
    rnd = _get_round(session, round_id)
    x_m, y_m = lonlat_to_sweref(lon_f, lat_f)
    _check_inside(rnd, x_m, y_m)
    if state == NEW:
        ordered_on = fixed_on = None
    elif state == ORDERED:
        fixed_on = None
    _check_dates(ordered_on, fixed_on)
    issue = InspectionIssue(
        round_id=rnd.id,
        lon=lon_f,
        lat=lat_f,
        x_m=x_m,
        y_m=y_m,
        category=cat,
        severity=level,
        description=text,
        responsible=resp,
        status=state,
        ordered_on=ordered_on,
        fixed_on=fixed_on,
        marked_by=who,
        updated_by=who,
    )
    issue.history.append(
        IssueHistory(
            changed_by=who,
            action="created",
            from_status=None,
            to_status=state,
            note=note,
            changes={},
        )
    )
    if photo is not None:
        issue.photos.append(_photo_row(photo, photo_name, who))
    session.add(issue)
    return issue


def create_issue(
    store: Store,
    *,
    round_id: int,
    lon: float,
    lat: float,
    category: str,
    severity: int | str,
    responsible: str,
    marked_by: str,
    description: str = "",
    photo: bytes | None = None,
    photo_name: str = "",
) -> int:
    """Mark a new issue (status ny) in a round.

    Parameters
    ----------
    store : Store
    round_id : int
    lon, lat : float
        WGS 84 degrees, e.g. the map click; stored with SWEREF 99 TM x/y too.
    category : str
        One of `ISSUE_CATEGORIES`.
    severity : int or str
        1–3 or låg/medel/hög.
    responsible : str
        Kommun, SL, fastighetsägare, Trafikverket, ...
    marked_by : str
        Who marked it.
    description : str, default ""
    photo : bytes, optional
        A JPEG, PNG or WebP image up to `MAX_PHOTO_BYTES`.
    photo_name : str, default ""
        The uploaded file's name, kept for downloads.

    Returns
    -------
    int
        The new issue's id.

    Raises
    ------
    InputError
        No or unknown category, a point outside Sweden or the round's area, a bad severity,
        a missing responsible party, or a photo that is too large or not an image. Nothing
        is stored.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> rid = create_round(store, name="R", held_on=dt.date(2026, 4, 2), area_name="A",
    ...                    created_by="anna")
    >>> create_issue(store, round_id=rid, lon=17.8336, lat=59.4236, category="belysning",
    ...              severity="hög", responsible="kommun", marked_by="anna")
    1
    >>> create_issue(store, round_id=rid, lon=17.83, lat=59.42, category="",
    ...              severity=1, responsible="kommun", marked_by="anna")
    Traceback (most recent call last):
    geo.errors.InputError: Välj en kategori (belysning, vegetation/skymd sikt, klotter, skadegörelse, nedskräpning, trasig utrustning, otydlig/otrygg gångväg, övergiven plats, annat).
    """
    with store.session() as s:
        issue = _new_issue(
            s,
            round_id=round_id,
            lon=lon,
            lat=lat,
            category=category,
            severity=severity,
            responsible=responsible,
            marked_by=marked_by,
            description=description,
            photo=photo,
            photo_name=photo_name,
        )
        s.flush()
        record_audit(
            s,
            actor=issue.marked_by,
            action="inspection_issue.create",
            target_type="issue",
            target_id=issue.id,
            params={"round_id": issue.round_id, "category": issue.category},
        )
        return issue.id


def _check_status(status: object) -> str:
    text = "" if status is None else str(status).strip()
    if text not in ISSUE_STATUSES:
        raise InputError(f'Status "{status}" finns inte; välj en av: {", ".join(ISSUE_STATUSES)}.')
    return text


def _check_dates(ordered_on: dt.date | None, fixed_on: dt.date | None) -> None:
    if ordered_on is not None and fixed_on is not None and fixed_on < ordered_on:
        raise InputError(
            f"Datumet för åtgärdad ({fixed_on}) ligger före datumet då åtgärden beställdes "
            f"({ordered_on})."
        )


def _guarded_update(
    session: sa.orm.Session,
    issue_id: int,
    expected_version: int,
    editor: str,
    values: dict[str, Any],
    history: IssueHistory,
    action: str,
) -> int:
    """UPDATE ... WHERE id = :id AND version = :expected; raise ConflictError on no match."""
    result = session.execute(
        sa.update(InspectionIssue)
        .where(InspectionIssue.id == issue_id, InspectionIssue.version == expected_version)
        .values(**values, version=InspectionIssue.version + 1, updated_by=editor, updated_at=now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        _raise_conflict(session, issue_id, expected_version)
    history.issue_id = issue_id
    history.changed_by = editor
    session.add(history)
    record_audit(
        session,
        actor=editor,
        action=f"inspection_issue.{action}",
        target_type="issue",
        target_id=issue_id,
        params=history.changes or {},
    )
    return expected_version + 1


def _raise_conflict(session: sa.orm.Session, issue_id: int, expected_version: int):
    current = session.execute(
        sa.select(InspectionIssue.version, InspectionIssue.updated_by, InspectionIssue.updated_at)
        .where(InspectionIssue.id == issue_id)
        .execution_options(populate_existing=True)
    ).first()
    if current is None:
        raise InputError(f"Ärende {issue_id} finns inte.")
    version, who, when = current
    raise ConflictError(
        f"Ärende {issue_id} har ändrats av {who} {when:%Y-%m-%d %H:%M} medan du redigerade "
        f"(du utgick från version {expected_version}, nu gäller version {version}). "
        "Ladda om ärendet och gör din ändring igen."
    )


def _load_for_update(session: sa.orm.Session, issue_id: int, expected: int) -> InspectionIssue:
    issue = session.execute(
        sa.select(InspectionIssue)
        .where(InspectionIssue.id == int(issue_id))
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if issue is None:
        raise InputError(f"Ärende {issue_id} finns inte.")
    if issue.version != expected:
        _raise_conflict(session, issue.id, expected)
    return issue


def update_issue(
    store: Store,
    issue_id: int,
    *,
    expected_version: int,
    editor: str,
    note: str = "",
    **changes: Any,
) -> int:
    """Edit an issue's fields (category, severity, description, responsible, lon/lat).

    Parameters
    ----------
    store : Store
    issue_id : int
    expected_version : int
        The ``version`` the editor saw. If someone saved in between, nothing is written and
        `ConflictError` says who and when.
    editor : str
        Who edits.
    note : str, default ""
        Goes into the history row; a note without any field change is stored on its own
        (history action ``note``).
    **changes
        New values of `EDITABLE_FIELDS`; unchanged values are ignored.

    Returns
    -------
    int
        The new version (``expected_version`` when nothing changed and there is no note:
        nothing was stored).

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> rid = create_round(store, name="R", held_on=dt.date(2026, 4, 2), area_name="A",
    ...                    created_by="anna")
    >>> iid = create_issue(store, round_id=rid, lon=17.83, lat=59.42, category="klotter",
    ...                    severity=1, responsible="SL", marked_by="anna")
    >>> update_issue(store, iid, expected_version=1, editor="bo", severity="medel")
    2
    >>> update_issue(store, iid, expected_version=1, editor="cia", severity=3)
    Traceback (most recent call last):
    geo.errors.ConflictError: Ärende 1 har ändrats av bo ...
    """
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValueError(f"fields {unknown} cannot be edited; allowed are {EDITABLE_FIELDS}")
    who = check_text(editor, "vem som ändrar", required=True)
    with store.session() as s:
        issue = _load_for_update(s, issue_id, expected_version)
        new: dict[str, Any] = {}
        if schema.CATEGORY in changes:
            new["category"] = _check_category(changes[schema.CATEGORY])
        if SEVERITY in changes:
            new["severity"] = parse_severity(changes[SEVERITY])
        if DESCRIPTION in changes:
            new["description"] = check_text(changes[DESCRIPTION], "beskrivningen", required=False)
        if RESPONSIBLE in changes:
            new["responsible"] = check_text(changes[RESPONSIBLE], "ansvarig part", required=True)
        if LON in changes or LAT in changes:
            lon, lat = _check_point(changes.get(LON, issue.lon), changes.get(LAT, issue.lat))
            x_m, y_m = lonlat_to_sweref(lon, lat)
            _check_inside(issue.round, x_m, y_m)
            new.update(lon=lon, lat=lat, x_m=x_m, y_m=y_m)
        diff = {k: [getattr(issue, k), v] for k, v in new.items() if getattr(issue, k) != v}
        note = check_text(note, "anteckningen", required=False)
        if not diff and note:  # a note alone is a change to the history: keep it
            hist = IssueHistory(
                action="note", from_status=issue.status, to_status=issue.status, note=note,
                changes={},
            )  # fmt: skip
            return _guarded_update(s, issue.id, expected_version, who, {}, hist, "note")
        if not diff:
            return expected_version
        moved = "lon" in diff or "lat" in diff
        hist = IssueHistory(
            action="moved" if moved and len(diff) <= 4 else "edited",
            from_status=issue.status,
            to_status=issue.status,
            note=note,
            changes={k: [_json_value(a), _json_value(b)] for k, (a, b) in diff.items()},
        )
        values = {k: v for k, (_old, v) in diff.items()}
        return _guarded_update(s, issue.id, expected_version, who, values, hist, "edit")


def set_status(
    store: Store,
    issue_id: int,
    status: str,
    *,
    expected_version: int,
    editor: str,
    on: dt.date | None = None,
    note: str = "",
) -> int:
    """Move an issue along ny -> åtgärd beställd -> åtgärdad (or reopen it to ny).

    Parameters
    ----------
    status : str
        The new status; allowed moves are in `TRANSITIONS`.
    on : datetime.date, optional
        The date of the order or the fix; today (Europe/Stockholm) by default.
    expected_version, editor, note
        As for `update_issue`.

    Returns
    -------
    int
        The new version.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> rid = create_round(store, name="R", held_on=dt.date(2026, 4, 2), area_name="A",
    ...                    created_by="anna")
    >>> iid = create_issue(store, round_id=rid, lon=17.83, lat=59.42, category="belysning",
    ...                    severity=3, responsible="kommun", marked_by="anna")
    >>> set_status(store, iid, "åtgärd beställd", expected_version=1, editor="bo",
    ...            on=dt.date(2026, 4, 3))
    2
    >>> issue_history(store, iid)[["action", "from_status", "to_status"]].values.tolist()
    [['created', '', 'ny'], ['status', 'ny', 'åtgärd beställd']]
    """
    target = _check_status(status)
    who = check_text(editor, "vem som ändrar", required=True)
    day = on if on is not None else now().date()
    if not isinstance(day, dt.date):
        raise InputError(f"Datumet {on!r} är ogiltigt.")
    with store.session() as s:
        issue = _load_for_update(s, issue_id, expected_version)
        if target == issue.status:
            raise InputError(f"Ärende {issue.id} har redan status {target}.")
        if target not in TRANSITIONS[issue.status]:
            raise InputError(
                f"Ärende {issue.id} kan inte gå från {issue.status} till {target}; tillåtet är "
                f"{' eller '.join(TRANSITIONS[issue.status])}."
            )
        values: dict[str, Any] = {"status": target}
        if target == ORDERED:
            values.update(ordered_on=day, fixed_on=None)
        elif target == FIXED:
            _check_dates(issue.ordered_on, day)
            values["fixed_on"] = day
        else:
            values.update(ordered_on=None, fixed_on=None)
        changes = {
            k: [_json_value(getattr(issue, k)), _json_value(v)]
            for k, v in values.items()
            if getattr(issue, k) != v
        }
        hist = IssueHistory(
            action="status",
            from_status=issue.status,
            to_status=target,
            note=check_text(note, "anteckningen", required=False),
            changes=changes,
        )
        return _guarded_update(s, issue.id, expected_version, who, values, hist, "status")


def add_photo(
    store: Store,
    issue_id: int,
    data: bytes,
    *,
    expected_version: int,
    uploaded_by: str,
    filename: str = "",
) -> int:
    """Attach a photo to an issue (validated like `validate_photo`); returns the new version.

    Counts as an edit: it needs the version the editor saw and adds a history row.
    """
    who = check_text(uploaded_by, "vem som laddar upp", required=True)
    photo = _photo_row(data, filename, who)
    with store.session() as s:
        issue = _load_for_update(s, issue_id, expected_version)
        photo.issue_id = issue.id
        s.add(photo)
        hist = IssueHistory(
            action="photo",
            from_status=issue.status,
            to_status=issue.status,
            note="",
            changes={"photo": [None, photo.filename or "bild"]},
        )
        return _guarded_update(s, issue.id, expected_version, who, {}, hist, "photo")


def latest_photo(store: Store, issue_id: int) -> tuple[bytes, str, str] | None:
    """The newest photo of an issue as ``(data, content_type, filename)``, or ``None``."""
    with store.read_session() as s:
        row = s.execute(
            sa.select(IssuePhoto.data, IssuePhoto.content_type, IssuePhoto.filename)
            .where(IssuePhoto.issue_id == int(issue_id))
            .order_by(IssuePhoto.id.desc())
            .limit(1)
        ).first()
    return None if row is None else (bytes(row[0]), row[1], row[2])


def issue_history(store: Store, issue_id: int) -> pd.DataFrame:
    """Every change of an issue, oldest first: ``changed_at``, ``changed_by``, ``action``,
    ``from_status``, ``to_status``, ``note``, ``changes`` (JSON text)."""
    cols = ["changed_at", "changed_by", "action", "from_status", "to_status", "note", "changes"]
    with store.read_session() as s:
        rows = s.execute(
            sa.select(*(getattr(IssueHistory, c) for c in cols))
            .where(IssueHistory.issue_id == int(issue_id))
            .order_by(IssueHistory.id)
        ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    frame["from_status"] = frame["from_status"].fillna("")
    frame["changes"] = [json.dumps(c, ensure_ascii=False) if c else "" for c in frame["changes"]]
    return frame


def _as_list(value: object) -> list | None:
    if value is None:
        return None
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


def issues_frame(
    store: Store,
    *,
    round_id: int | Sequence[int] | None = None,
    area_id: str | Sequence[str] | None = None,
    category: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    responsible: str | Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Issues as a GeoDataFrame (EPSG:3006), optionally filtered; each filter takes one value
    or several.

    Columns are `ISSUE_COLUMNS` plus ``geometry`` (the SWEREF 99 TM point).

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> rid = create_round(store, name="R", held_on=dt.date(2026, 4, 2), area_name="A",
    ...                    area_id="a1", created_by="anna")
    >>> _ = create_issue(store, round_id=rid, lon=17.83, lat=59.42, category="klotter",
    ...                  severity=1, responsible="SL", marked_by="anna")
    >>> frame = issues_frame(store, status="ny", area_id="a1")
    >>> len(frame), frame.crs.to_epsg(), frame["severity_label"].tolist()
    (1, 3006, ['låg'])
    >>> len(issues_frame(store, category=["belysning"]))
    0
    """
    has_photo = (
        sa.select(sa.func.count(IssuePhoto.id))
        .where(IssuePhoto.issue_id == InspectionIssue.id)
        .scalar_subquery()
    )
    query = (
        sa.select(
            InspectionIssue,
            InspectionRound.name,
            InspectionRound.held_on,
            InspectionRound.area_id,
            InspectionRound.area_name,
            has_photo,
        )
        .join(InspectionRound, InspectionIssue.round_id == InspectionRound.id)
        .order_by(InspectionIssue.id)
    )
    filters = [
        (InspectionIssue.round_id, _as_list(round_id)),
        (InspectionRound.area_id, _as_list(area_id)),
        (InspectionIssue.category, _as_list(category)),
        (InspectionIssue.status, _as_list(status)),
        (InspectionIssue.responsible, _as_list(responsible)),
    ]
    for column, values in filters:
        if values is not None:
            query = query.where(column.in_(values))
    records, points = [], []
    with store.read_session() as s:
        for issue, rname, held_on, area_id_, area_name, photos in s.execute(query):
            records.append(
                {
                    schema.ID: issue.id,
                    ROUND_ID: issue.round_id,
                    ROUND_NAME: rname,
                    HELD_ON: held_on,
                    schema.AREA_ID: area_id_,
                    schema.AREA_NAME: area_name,
                    LON: issue.lon,
                    LAT: issue.lat,
                    schema.CATEGORY: issue.category,
                    SEVERITY: issue.severity,
                    SEVERITY_LABEL: SEVERITY_LABELS[issue.severity],
                    DESCRIPTION: issue.description,
                    RESPONSIBLE: issue.responsible,
                    STATUS: issue.status,
                    ORDERED_ON: issue.ordered_on,
                    FIXED_ON: issue.fixed_on,
                    MARKED_BY: issue.marked_by,
                    CREATED_AT: issue.created_at,
                    UPDATED_BY: issue.updated_by,
                    UPDATED_AT: issue.updated_at,
                    VERSION: issue.version,
                    HAS_PHOTO: bool(photos),
                }
            )
            points.append(Point(issue.x_m, issue.y_m))
    frame = pd.DataFrame.from_records(records, columns=list(ISSUE_COLUMNS))
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(points, crs=schema.CRS_METRIC), crs=schema.CRS_METRIC
    )


# --- hotspots ---------------------------------------------------------------------------
def flag_near_hotspots(
    issues: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None,
    *,
    distance_m: float = DEFAULT_HOTSPOT_DISTANCE_M,
    top_n: int = DEFAULT_TOP_ZONES,
) -> gpd.GeoDataFrame:
    """Flag issues within ``distance_m`` of a top hotspot zone (fixing them matters more).

    Parameters
    ----------
    issues : GeoDataFrame
        From `issues_frame`, any declared CRS.
    zones : GeoDataFrame or None
        Zones with ``rank`` (1 = hottest in its area) and ``name``, e.g.
        ``geo.analysis.run_hotspots(...).zones``. ``None`` or empty: nothing is flagged.
    distance_m : float, default 150
        Distance from the zone's edge in metres (inside the zone is 0 m).
    top_n : int, default 5
        Zones with ``rank <= top_n`` count as top hotspots.

    Returns
    -------
    GeoDataFrame
        A copy with ``near_hotspot`` (bool), ``hotspot_name`` (nearest top zone's name or
        None) and ``hotspot_distance_m`` (NaN without zones).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> zones = gpd.GeoDataFrame({"rank": [1], "name": ["Stationen"]},
    ...                          geometry=[box(0, 0, 100, 100)], crs="EPSG:3006")
    >>> pts = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[Point(200, 50), Point(300, 50)],
    ...                        crs="EPSG:3006")
    >>> out = flag_near_hotspots(pts, zones)  # 100 m and 200 m from the edge
    >>> out["near_hotspot"].tolist(), out["hotspot_distance_m"].tolist()
    ([True, False], [100.0, 200.0])
    """
    if not isinstance(issues, gpd.GeoDataFrame):
        raise TypeError(f"issues must be a GeoDataFrame, got {type(issues).__name__}")
    if distance_m < 0:
        raise ValueError(f"distance_m was {distance_m} but must be >= 0")
    out = issues.to_crs(schema.CRS_METRIC) if len(issues) else issues.copy()
    out[NEAR_HOTSPOT] = False
    out[HOTSPOT_NAME] = None
    out[HOTSPOT_DISTANCE_M] = float("nan")
    if zones is None or zones.empty or out.empty:
        return out
    if schema.RANK not in zones.columns:
        raise ValueError(f"zones need a '{schema.RANK}' column; columns are {list(zones.columns)}")
    top = zones[zones[schema.RANK] <= top_n].to_crs(schema.CRS_METRIC)
    if top.empty:
        return out
    names = (
        top[schema.NAME].astype(object).where(top[schema.NAME].notna(), None).tolist()
        if schema.NAME in top.columns
        else [None] * len(top)
    )
    geoms = top.geometry.values
    for i, pt in enumerate(out.geometry.values):
        dists = shapely.distance(geoms, pt)
        j = int(dists.argmin())
        out.iat[i, out.columns.get_loc(HOTSPOT_DISTANCE_M)] = float(dists[j])
        if dists[j] <= distance_m:
            out.iat[i, out.columns.get_loc(NEAR_HOTSPOT)] = True
            out.iat[i, out.columns.get_loc(HOTSPOT_NAME)] = names[j]
    return out


# --- map layer --------------------------------------------------------------------------
def _popup_html(row: pd.Series) -> str:
    lines = [
        ("Kategori", row.get(schema.CATEGORY)),
        ("Allvarlighet", row.get(SEVERITY_LABEL)),
        ("Status", row.get(STATUS)),
        ("Ansvarig", row.get(RESPONSIBLE)),
        ("Beskrivning", row.get(DESCRIPTION)),
        ("Runda", row.get(ROUND_NAME)),
        ("Markerad av", row.get(MARKED_BY)),
    ]
    if row.get(NEAR_HOTSPOT):
        lines.append(("Nära hotspot", row.get(HOTSPOT_NAME) or "ja"))
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{escape_text(k)}</th>"
        f"<td>{escape_text(v)}</td></tr>"
        for k, v in lines
        if v is not None and not (isinstance(v, float) and pd.isna(v))
    )
    return f"<b>Ärende {escape_text(row.get(schema.ID))}</b><table>{body}</table>"


def issues_layer(
    frame: gpd.GeoDataFrame, *, name: str = "Trygghetsbesiktning", show: bool = True
) -> folium.FeatureGroup:
    """A folium layer of issues: coloured by status, sized by severity, escaped popups.

    Parameters
    ----------
    frame : GeoDataFrame
        From `issues_frame` (optionally `flag_near_hotspots`), any declared CRS.
    name : str, default "Trygghetsbesiktning"
        Layer name in the layer control.
    show : bool, default True
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        One circle marker per issue; tooltip "Kategori – status", popup with the details.
        Issues near a top hotspot get a thick dark outline.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"id": [1], "category": ["klotter"], "status": ["ny"],
    ...                         "description": ["<script>x</script>"]},
    ...                        geometry=[Point(17.83, 59.42)], crs="EPSG:4326")
    >>> m = folium.Map(location=[59.42, 17.83], tiles=None)
    >>> _ = issues_layer(pts).add_to(m)
    >>> html_out = m.get_root().render()
    >>> "<script>x</script>" in html_out, "&lt;script&gt;x&lt;/script&gt;" in html_out
    (False, True)
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"frame must be a GeoDataFrame, got {type(frame).__name__}")
    group = folium.FeatureGroup(name=escape_text(name), show=show)
    if frame.empty:
        return group
    if frame.crs is None:
        raise ValueError("issues frame has no CRS; set one (EPSG:3006) before mapping it")
    wgs = frame.to_crs(schema.CRS_WGS84)
    for (_, row), pt in zip(wgs.iterrows(), wgs.geometry, strict=True):
        status = row.get(STATUS)
        severity = row.get(SEVERITY)
        level = int(severity) if severity is not None and not pd.isna(severity) else 2
        near = bool(row.get(NEAR_HOTSPOT, False))
        folium.CircleMarker(
            location=[pt.y, pt.x],
            radius=5 + 2 * level,
            color="#222222" if near else STATUS_COLOURS.get(status, "#555555"),
            weight=3 if near else 1.5,
            fill=True,
            fill_color=STATUS_COLOURS.get(status, "#555555"),
            fill_opacity=0.85,
            tooltip=folium.Tooltip(
                f"{escape_text(row.get(schema.CATEGORY))} – {escape_text(status)}"
                + (" · nära hotspot" if near else "")
            ),
            popup=folium.Popup(_popup_html(row), max_width=320),
        ).add_to(group)
    return group


# --- exports ----------------------------------------------------------------------------
EXPORT_COLUMNS = (
    schema.ID, ROUND_NAME, HELD_ON, schema.AREA_NAME, LON, LAT, schema.CATEGORY, SEVERITY,
    DESCRIPTION, RESPONSIBLE, STATUS, ORDERED_ON, FIXED_ON, MARKED_BY, UPDATED_AT,
)  # fmt: skip


#: Swedish CSV headings for the export columns; `read_field_list` reads them back.
CSV_LABELS = {
    schema.ID: "nr", ROUND_NAME: "runda", HELD_ON: "rundans datum",
    schema.AREA_NAME: "område", LON: "longitud", LAT: "latitud", schema.CATEGORY: "kategori",
    SEVERITY: "allvarlighet", DESCRIPTION: "beskrivning", RESPONSIBLE: "ansvarig",
    STATUS: "status", ORDERED_ON: "beställd (datum)", FIXED_ON: "åtgärdad (datum)",
    MARKED_BY: "markerad av", UPDATED_AT: "senast ändrad", NEAR_HOTSPOT: "nära hotspot",
    HOTSPOT_NAME: "hotspot", ROUND_ID: "runda nr",
}  # fmt: skip
_FROM_CSV_LABELS = {label: key for key, label in CSV_LABELS.items()}


def _export_table(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in EXPORT_COLUMNS if c in frame.columns]
    extra = [c for c in (NEAR_HOTSPOT, HOTSPOT_NAME) if c in frame.columns]
    out = pd.DataFrame(frame[cols + extra]).copy()
    for col in (HELD_ON, ORDERED_ON, FIXED_ON, UPDATED_AT):
        if col in out.columns:
            out[col] = [
                "" if v is None or (not isinstance(v, str) and pd.isna(v)) else
                (v.isoformat(timespec="seconds") if isinstance(v, dt.datetime) else str(v))
                for v in out[col]
            ]  # fmt: skip
    return out


def export_csv(frame: pd.DataFrame, path: str | os.PathLike | None = None) -> bytes:
    """Issues as CSV (UTF-8 with BOM for Excel, lon/lat in WGS 84); written to ``path`` if given.

    Swedish headings (`CSV_LABELS`), severity as a word (låg, medel, hög), "nära hotspot" as
    ja/nej; `import_issues` reads the file back as it is. Text cells that a spreadsheet
    would run as a formula get a leading ``'``.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"id": [1], "lon": [17.8], "lat": [59.4], "severity": [3],
    ...                         "description": ["=HYPERLINK(1)"]},
    ...                        geometry=[Point(0, 0)], crs="EPSG:3006")
    >>> export_csv(pts).decode("utf-8-sig").splitlines()
    ['nr,longitud,latitud,allvarlighet,beskrivning', "1,17.8,59.4,hög,'=HYPERLINK(1)"]
    """
    table = _export_table(frame)
    if SEVERITY in table.columns:
        table[SEVERITY] = [
            SEVERITY_LABELS.get(int(v), v) if pd.notna(v) else "" for v in table[SEVERITY]
        ]
    if NEAR_HOTSPOT in table.columns:
        table[NEAR_HOTSPOT] = ["ja" if v is True or v == 1 else "nej" for v in table[NEAR_HOTSPOT]]
    data = safecsv.to_csv_bytes(table, labels=CSV_LABELS)
    return _write(path, data)


def export_geojson(frame: gpd.GeoDataFrame, path: str | os.PathLike | None = None) -> bytes:
    """Issues as GeoJSON (RFC 7946: WGS 84 lon/lat); written to ``path`` if given.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(659730, 6590530)], crs="EPSG:3006")
    >>> json.loads(export_geojson(pts))["features"][0]["geometry"]["type"]
    'Point'
    """
    table = _export_table(frame)
    geo = gpd.GeoDataFrame(table, geometry=frame.geometry.values, crs=frame.crs)
    geo = (
        geo.to_crs(schema.CRS_WGS84)
        if len(geo)
        else geo.set_crs(schema.CRS_WGS84, allow_override=True)
    )
    data = geo.to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
    return _write(path, data)


def export_pdf(
    frame: pd.DataFrame,
    responsible: str,
    path: str | os.PathLike | None = None,
    *,
    author: str | None = None,
    areas: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
) -> bytes:
    """A PDF of the open issues one responsible party should fix (to send to them).

    Only open issues (ny, åtgärd beställd) are listed — the fixed ones are counted in one
    sentence, not mixed in. They are numbered 1, 2, … (most severe first) and the same
    numbers stand on the map, which shows the area boundaries and the named places around
    them for orientation.

    Parameters
    ----------
    frame : DataFrame
        From `issues_frame`; only rows whose ``responsible`` equals ``responsible`` are used.
    responsible : str
        Kommun, SL, fastighetsägare, ...
    path : path-like, optional
        Written atomically when given.
    author : str, optional
        Who produced it (PDF metadata and footer).
    areas, places : GeoDataFrame, optional
        Boundaries and the gazetteer (``name``, points), drawn as context on the map.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"id": [1, 2], "responsible": ["SL", "SL"],
    ...     "category": ["klotter", "belysning"], "status": ["ny", "åtgärdad"],
    ...     "description": ["Väggen <vid> hållplatsen", "Lampan"]},
    ...     geometry=[Point(659730, 6590530), Point(659800, 6590600)], crs="EPSG:3006")
    >>> export_pdf(pts, "SL")[:5]
    b'%PDF-'
    >>> len(open_for(pts, "SL"))
    1
    """
    from geo.pdf import Briefing, MapLayer

    mine = frame[frame[RESPONSIBLE] == responsible] if RESPONSIBLE in frame.columns else frame[:0]
    rows = open_for(frame, responsible)
    fixed = len(mine) - len(rows)
    word = "öppet ärende" if len(rows) == 1 else "öppna ärenden"
    doc = Briefing(
        f"Trygghetsbesiktning – åtgärdslista för {responsible}",
        subtitle=f"{len(rows)} {word}",
        author=author,
        subject="Trygghetsbesiktning",
        keywords=[f"ansvarig={responsible}"],
    )
    if fixed:
        doc.paragraph(
            f"{fixed} {'ärende' if fixed == 1 else 'ärenden'} för {responsible} är redan "
            "åtgärdade och finns inte med i listan.",
            small=True,
        )
    if rows.empty:
        doc.paragraph(f"Inga öppna ärenden har {responsible} som ansvarig part.")
        return doc.build(path)
    rows = rows.assign(_nr=[str(i) for i in range(1, len(rows) + 1)])
    if isinstance(rows, gpd.GeoDataFrame) and rows.crs is not None:
        layers = []
        if areas is not None and len(areas):
            layers.append(MapLayer(areas, kind="boundary", edgecolor="#777777", linewidth=0.8))
        for status in (NEW, ORDERED):
            part = rows[rows[STATUS] == status] if STATUS in rows.columns else rows[:0]
            if len(part):
                layers.append(
                    MapLayer(part, kind="point", label_col="_nr", facecolor=STATUS_COLOURS[status],
                             markersize=30, legend=f"Status: {status}")
                )  # fmt: skip
        if STATUS not in rows.columns:
            layers.append(MapLayer(rows, kind="point", label_col="_nr"))
        if places is not None and len(places):
            layers.append(MapLayer(places, kind="place", label_col=schema.PLACE_NAME))
        doc.map(layers, height_mm=95, focus=rows, min_pad_m=400.0,
                caption="Numren på kartan är numren i listan nedan.")  # fmt: skip
    table = _export_table(rows)
    table["_nr"] = rows["_nr"].to_numpy()
    if SEVERITY in table.columns:
        table[SEVERITY] = [
            SEVERITY_LABELS.get(int(v), v) if pd.notna(v) else "" for v in table[SEVERITY]
        ]
    for col in (LAT, LON):
        if col in table.columns:
            table[col] = [f"{v:.5f}" for v in table[col]]  # ~1 m
    cols = {"_nr": "Nr", schema.ID: "Ärende", schema.CATEGORY: "Kategori", SEVERITY: "Allvar",
            DESCRIPTION: "Beskrivning", STATUS: "Status", ORDERED_ON: "Beställd",
            LAT: "Lat", LON: "Lon"}  # fmt: skip
    present = [c for c in cols if c in table.columns]
    doc.table(table[present], columns=[cols[c] for c in present])
    return doc.build(path)


def open_for(frame: pd.DataFrame, responsible: str) -> pd.DataFrame:
    """The open issues (ny, åtgärd beställd) of one party, most severe first, then by number."""
    if RESPONSIBLE not in frame.columns:
        return frame[:0]
    rows = frame[frame[RESPONSIBLE] == responsible]
    if STATUS in rows.columns:
        rows = rows[rows[STATUS].isin([NEW, ORDERED]).to_numpy()]
    keys = [c for c in (SEVERITY, schema.ID) if c in rows.columns]
    if keys:
        rows = rows.sort_values(keys, ascending=[c != SEVERITY for c in keys], kind="stable")
    return rows


def pdfs_per_responsible(
    frame: pd.DataFrame, *, author: str | None = None, **context
) -> dict[str, bytes]:
    """One PDF per responsible party present in ``frame``: ``{party: pdf bytes}``.

    ``context`` (``areas``, ``places``) goes to `export_pdf`.
    """
    parties = sorted(frame[RESPONSIBLE].dropna().unique()) if RESPONSIBLE in frame.columns else []
    return {p: export_pdf(frame, p, author=author, **context) for p in parties}


def _write(path: str | os.PathLike | None, data: bytes) -> bytes:
    if path is not None:
        from geo.pdf import write_atomic

        write_atomic(path, data)
    return data


# --- import -----------------------------------------------------------------------------
REQUIRED_IMPORT_COLUMNS = (schema.CATEGORY, SEVERITY, RESPONSIBLE)


@dataclass
class IssueImport:
    """What `import_issues` did: rows read, ids stored, and the rejected rows with reasons.

    ``len(ids) + len(rejected) == rows`` always.
    """

    rows: int
    ids: list[int] = field(default_factory=list)
    rejected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["row", "reason", "raw"])
    )
    #: The round the rows went into when `import_issues` created it (``new_round``).
    round_id: int | None = None

    @property
    def loaded(self) -> int:
        return len(self.ids)


def _read_field_list(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read a CSV (lon/lat columns) or GeoJSON/GPKG (points) into rows with lon/lat."""
    if not path.is_file():
        raise InputError(f"Filen {path} finns inte.")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        try:
            table = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                sep=None,
                engine="python",
            )
        except (UnicodeDecodeError, pd.errors.ParserError, csv_error()) as exc:
            raise InputError(f"Filen {path.name} kunde inte läsas som CSV: {exc}") from None
        table.columns = [str(c).strip().lower() for c in table.columns]
        table = table.rename(columns=_FROM_CSV_LABELS)  # an export of ours reads back
        missing = [c for c in (LON, LAT) if c not in table.columns]
        if missing:
            raise InputError(
                f"Filen {path.name} saknar kolumnen {', '.join(missing)}; "
                f"kolumnerna är: {', '.join(table.columns)}."
            )
        return table, [i + 2 for i in range(len(table))]  # header is row 1
    if suffix in (".geojson", ".json", ".gpkg"):
        from geo import guards

        guards.check_file(path)  # huge GeoJSON, endless GeoPackage views (issue 18)
        frame = guards.run_limited(_read_geofile, path, name=path.name)
        if frame.crs is None:
            raise InputError(f"Filen {path.name} anger inget koordinatsystem (CRS).")
        frame = frame.to_crs(schema.CRS_WGS84)
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
        table.columns = [str(c).strip().lower() for c in table.columns]
        kinds = frame.geometry.geom_type.tolist()
        table[LON] = [
            g.x if k == "Point" else "" for g, k in zip(frame.geometry, kinds, strict=True)
        ]
        table[LAT] = [
            g.y if k == "Point" else "" for g, k in zip(frame.geometry, kinds, strict=True)
        ]
        return table, [i + 1 for i in range(len(table))]
    raise InputError(
        f"Filen {path.name} har ett format som inte stöds ({suffix or 'utan ändelse'}); "
        "använd CSV, GeoJSON eller GeoPackage."
    )


def _read_geofile(path: Path) -> gpd.GeoDataFrame:
    """`geopandas.read_file` with its errors as `InputError` (runs in `guards.run_limited`)."""
    try:
        return gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several types for unreadable files
        raise InputError(f"Filen {path.name} kunde inte läsas: {exc}") from None


def read_field_list(
    path: str | os.PathLike, *, round_given: bool = False
) -> tuple[pd.DataFrame, list[int]]:
    """Read a field list and check its structure, without touching the database.

    Returns the rows (lower-case column names, ``lon``/``lat`` filled from points) and
    each row's number in the file. `import_issues` calls it first; call it yourself to
    check a file before creating the round it goes into.

    Raises
    ------
    InputError
        Unreadable file or unsupported format, a missing required column, or no
        ``round_id`` column when no round is given (``round_given`` False).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
    >>> _ = p.write_text("lon,lat,category\\n17.8,59.4,klotter\\n", encoding="utf-8")
    >>> read_field_list(p, round_given=True)
    Traceback (most recent call last):
    geo.errors.InputError: Filen f.csv saknar kolumnen severity, responsible; kolumnerna är: lon, lat, category.
    """
    path = Path(path)
    table, row_numbers = _read_field_list(path)
    missing = [c for c in REQUIRED_IMPORT_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"Filen {path.name} saknar kolumnen {', '.join(missing)}; "
            f"kolumnerna är: {', '.join(table.columns)}."
        )
    if not round_given and ROUND_ID not in table.columns:
        raise InputError(
            f"Filen {path.name} har ingen kolumn round_id; ange vilken runda ärendena hör till "
            "(--round ID eller --new-round)."
        )
    return table, row_numbers


def rejected_csv(result: IssueImport, path: str | os.PathLike | None = None) -> bytes:
    """The rejected rows of an import as CSV: ``row``, ``reason``, then the row's own fields.

    Written to ``path`` if given (UTF-8 with BOM for Excel; formula-like cells get a ``'``).

    Examples
    --------
    >>> bad = IssueImport(rows=1, rejected=pd.DataFrame([{"row": 2, "reason": "Välj en kategori",
    ...     "raw": {"lon": "17.8", "category": ""}}]))
    >>> rejected_csv(bad).decode("utf-8-sig").splitlines()
    ['row,reason,lon,category', '2,Välj en kategori,17.8,']
    """
    rejected = result.rejected
    fields = pd.DataFrame.from_records([dict(r) for r in rejected["raw"]], index=rejected.index)
    table = pd.concat([rejected[["row", "reason"]], fields], axis=1)
    data = safecsv.to_csv_bytes(table)
    return _write(path, data)


def csv_error() -> type[Exception]:
    import csv

    return csv.Error


def _parse_date(value: object, what: str) -> dt.date | None:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(f'{what} "{text}" är inget datum (ÅÅÅÅ-MM-DD).') from None


def import_issues(
    store: Store,
    path: str | os.PathLike,
    *,
    marked_by: str,
    round_id: int | None = None,
    new_round: Mapping[str, Any] | None = None,
) -> IssueImport:
    """Import a field list of issues; every row is stored or rejected with its row and reason.

    With ``new_round`` (the keyword arguments of `create_round`), the round is created in the
    same transaction as the rows: an import that fails or is killed leaves no empty round.

    Columns (case-insensitive): ``lon``, ``lat`` (CSV; GeoJSON/GPKG give points instead),
    ``category``, ``severity``, ``responsible``; optional ``description``, ``status``,
    ``ordered_on``, ``fixed_on``, ``marked_by`` and ``round_id``. CSV exported by
    `export_csv` imports back.

    Parameters
    ----------
    store : Store
    path : path-like
        CSV, GeoJSON or GeoPackage.
    marked_by : str
        Who imports; used where a row has no ``marked_by``.
    round_id : int, optional
        The round for rows without a ``round_id`` column value.

    Returns
    -------
    IssueImport
        ``rows`` read, ``ids`` stored, ``rejected`` (row, reason, raw).

    Raises
    ------
    InputError
        A structural problem: unreadable file, missing column, no round given.
    """
    path = Path(path)
    who = check_text(marked_by, "vem som importerar", required=True)
    if round_id is not None and new_round is not None:
        raise ValueError("give round_id or new_round, not both")
    table, row_numbers = read_field_list(
        path, round_given=round_id is not None or new_round is not None
    )
    if round_id is not None:
        with store.read_session() as s:
            _get_round(s, round_id)
    ids: list[int] = []
    rejected: list[dict] = []
    with store.session() as s:
        if new_round is not None:
            round_id = _add_round(s, **dict(new_round))
        for row_no, (_, rec) in zip(row_numbers, table.iterrows(), strict=True):
            raw = {k: ("" if pd.isna(v) else str(v)) for k, v in rec.items()}
            try:
                rid = raw.get(ROUND_ID) or round_id
                if rid in (None, ""):
                    raise InputError("rundan saknas (round_id)")
                try:
                    rid = int(float(rid))
                except ValueError:
                    raise InputError(f'round_id "{rid}" är inget nummer') from None
                # A savepoint per row: a rejected row leaves nothing behind.
                with s.begin_nested():
                    issue = _new_issue(
                        s,
                        round_id=rid,
                        lon=raw.get(LON),
                        lat=raw.get(LAT),
                        category=safecsv.undefuse(raw.get(schema.CATEGORY)),
                        severity=raw.get(SEVERITY),
                        responsible=safecsv.undefuse(raw.get(RESPONSIBLE)),
                        marked_by=safecsv.undefuse(raw.get(MARKED_BY)) or who,
                        description=safecsv.undefuse(raw.get(DESCRIPTION, "")),
                        status=raw.get(STATUS) or NEW,
                        ordered_on=_parse_date(raw.get(ORDERED_ON), "Beställningsdatumet"),
                        fixed_on=_parse_date(raw.get(FIXED_ON), "Åtgärdsdatumet"),
                        note=f"importerad från {path.name}, rad {row_no}",
                    )
                    s.flush()
                ids.append(issue.id)
            except InputError as exc:
                rejected.append({"row": row_no, "reason": str(exc), "raw": raw})
        record_audit(
            s,
            actor=who,
            action="inspection_issue.import",
            target_type="file",
            target_id=path.name,
            params={"rows": len(table), "loaded": len(ids), "rejected": len(rejected)},
        )
    return IssueImport(
        rows=len(table),
        ids=ids,
        rejected=pd.DataFrame(rejected, columns=["row", "reason", "raw"]),
        round_id=round_id if new_round is not None else None,
    )


# --- demo -------------------------------------------------------------------------------
#: Jakobsbergs station (DESIGN.md §5).
DEMO_CENTRE_LONLAT = (17.8336, 59.4236)
DEMO_RADIUS_M = 600.0
DEMO_ROUND = "Trygghetsbesiktning Jakobsbergs station"
DEMO_ISSUES = (
    # lon, lat, category, severity, responsible, description, status
    (17.8344, 59.4230, "belysning", 3, "kommun",
     "Gångtunneln under spåren är mörk på kvällen: två av fyra armaturer är trasiga.", ORDERED),
    (17.8322, 59.4243, "vegetation/skymd sikt", 2, "fastighetsägare",
     "Igenvuxet buskage längs gångvägen mot perrongen skymmer sikten.", NEW),
    (17.8351, 59.4233, "klotter", 1, "SL",
     "Klotter på väggen vid busshållplatsen och på biljettautomaten.", FIXED),
    (17.8329, 59.4226, "otydlig/otrygg gångväg", 2, "kommun",
     "Gångvägen mot centrum saknar belysning på en sträcka om cirka 50 m.", NEW),
    (17.8360, 59.4240, "nedskräpning", 1, "Trafikverket",
     "Nedskräpning och övergivna cyklar vid infartsparkeringen.", NEW),
)  # fmt: skip


def issues_version(store: Store) -> tuple:
    """A cheap fingerprint of the issues table: changes whenever an issue is added, edited,
    moved, changes status or is removed (every write bumps an issue's ``version``).

    One aggregate query, for caches of what is drawn from the issues (the maps' layer).

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> before = issues_version(store)
    >>> _ = seed_demo(store)
    >>> issues_version(store) != before
    True
    """
    with store.read_session() as s:
        row = s.execute(
            sa.select(
                sa.func.count(InspectionIssue.id),
                sa.func.coalesce(sa.func.sum(InspectionIssue.version), 0),
                sa.func.max(InspectionIssue.id),
            )
        ).one()
    return tuple(int(v or 0) for v in row)


def seed_demo(store: Store, *, held_on: dt.date = dt.date(2018, 10, 16)) -> bool:
    """Create the demo round at Jakobsbergs station when no round exists yet.

    Runs in one transaction under the write lock (SQLite) or an advisory lock (PostgreSQL),
    so two app sessions starting together seed once.

    Returns
    -------
    bool
        True if the demo was created, False if the database already had rounds.

    Examples
    --------
    >>> store = Store("sqlite://")
    >>> seed_demo(store), seed_demo(store)
    (True, False)
    >>> issues_frame(store)["status"].value_counts().to_dict()
    {'ny': 3, 'åtgärd beställd': 1, 'åtgärdad': 1}
    """
    x, y = lonlat_to_sweref(*DEMO_CENTRE_LONLAT)
    area = Point(x, y).buffer(DEMO_RADIUS_M)
    who = "demo"
    with store.session() as s:
        if store.dialect == "postgresql":
            s.execute(sa.text("SELECT pg_advisory_xact_lock(7431003)"))
        if s.scalar(sa.select(sa.func.count()).select_from(InspectionRound)):
            return False
        rnd = InspectionRound(
            name=DEMO_ROUND,
            held_on=held_on,
            area_id=None,
            area_name="Jakobsbergs station",
            area_wkt=area.wkt,
            team="Trygghetsgruppen Järfälla",
            organisations=["kommun", "polis", "SL", "fastighetsägare"],
            notes="Demodata: en påhittad runda som visar hur sidan fungerar.",
            created_by=who,
        )
        s.add(rnd)
        s.flush()
        for lon, lat, cat, sev, resp, text, state in DEMO_ISSUES:
            ordered = held_on + dt.timedelta(days=3) if state in (ORDERED, FIXED) else None
            fixed = held_on + dt.timedelta(days=10) if state == FIXED else None
            _new_issue(
                s,
                round_id=rnd.id,
                lon=lon,
                lat=lat,
                category=cat,
                severity=sev,
                responsible=resp,
                marked_by=who,
                description=text,
                status=state,
                ordered_on=ordered,
                fixed_on=fixed,
                note="demodata",
            )
        return True
