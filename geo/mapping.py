"""Column and category mapping for imported files, and the TOML mapping file.

Police and municipal exports name their columns differently (``lat``, ``latitud``,
``Latitude`` ...) and code offences differently (names, codes). This module owns the rules
that turn a file's own column names into Lägesbild's roles and raw offence names or codes into
`geo.schema.CATEGORIES`. Every automatic guess is returned as a note so it is reported, never
silent. The mapping file format is documented in docs/import.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from geo import schema
from geo.errors import InputError

#: Swedish label of each role, used in notes and error messages.
ROLE_LABELS = {
    "lon": "longitud",
    "lat": "latitud",
    "x": "x-koordinat (öst)",
    "y": "y-koordinat (nord)",
    "time": "tidpunkt",
    "until": "tidpunkt till (slut på tidsintervall)",
    "date": "datum",
    "clock": "klockslag",
    "category": "kategori",
    "id": "id",
    "weight": "vikt",
    "reason": "anledning",
    "reason_category": "anledningskategori",
    "time_of_day": "tid på dygnet",
    "mentions": "antal omnämnanden",
    "dialogue_round": "dialogomgång",
    "dialogue_date": "dialogdatum",
    "name": "namn",
    "kind": "typ av plats",
    "area_id": "områdes-id",
    "area_name": "områdesnamn",
    "level": "nivå",
    "parent_id": "överordnat område",
}

#: Column names (normalised with `normalise_name`) tried for each role, in order.
GUESSES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "longitud", "longitude", "lng", "long", "x_wgs84", "lon_wgs84", "wgs84_lon"),
    "lat": ("lat", "latitud", "latitude", "y_wgs84", "lat_wgs84", "wgs84_lat"),
    "x": ("x", "x_sweref", "x_sweref99", "easting", "x_koordinat", "x_koord", "östkoordinat"),
    "y": ("y", "y_sweref", "y_sweref99", "northing", "y_koordinat", "y_koord", "nordkoordinat"),
    "time": (
        "occurred_at",
        "tidpunkt",
        "händelsetid",
        "brottstid",
        "datetime",
        "timestamp",
        "time",
        "tid",
        "date",
        "datum",
    ),
    "until": (
        "occurred_until",
        "tid_till",
        "tidpunkt_till",
        "brottstid_till",
        "händelsetid_till",
        "till",
        "sluttid",
        "tid_slut",
        "end_time",
        "time_to",
    ),
    "date": ("datum", "date", "brottsdatum", "händelsedatum"),
    "clock": ("klockslag", "kl", "klocka", "tid", "time"),
    "category": (
        "category",
        "kategori",
        "brottstyp",
        "brottskod",
        "brottskategori",
        "brott",
        "type",
        "typ",
    ),
    "id": ("id", "ärendenummer", "diarienummer", "ärendenr", "ärende", "anmälningsnummer"),
    "weight": ("weight", "vikt"),
    "reason": ("reason", "anledning", "orsak", "beskrivning", "motivering", "kommentar"),
    "reason_category": ("reason_category", "anledningskategori", "orsakskategori", "kategori"),
    "time_of_day": ("time_of_day", "tid_på_dygnet", "dygnstid"),
    "mentions": ("mentions", "omnämnanden", "antal_omnämnanden", "antal"),
    "dialogue_round": ("dialogue_round", "dialogomgång", "omgång"),
    "dialogue_date": ("dialogue_date", "dialogdatum", "datum", "date"),
    "name": ("name", "namn", "plats"),
    "kind": ("kind", "typ", "type", "slag"),
    "area_id": ("area_id", "id", "kommun_kod", "kommunkod", "kod", "code", "områdes_id"),
    "area_name": ("area_name", "name", "namn", "kommun", "kom_namn", "kommunnamn", "stadsdel"),
    "level": ("level", "nivå"),
    "parent_id": ("parent_id", "parent", "överordnad"),
}

#: Column names that only ever hold a full timestamp; when none is present but a date column
#: and a clock column are, the two are combined.
_TIME_ROLES = ("time", "date", "clock")
_FULL_TIME_NAMES = ("occurred_at", "tidpunkt", "händelsetid", "brottstid", "datetime", "timestamp")


def normalise_name(name: object) -> str:
    """Return a column name or category key in the form used for matching.

    Lower-cased (casefold), surrounding space removed, inner runs of space, ``-`` and ``_``
    made one ``_`` for column names. Category keys use `normalise_key`.

    Examples
    --------
    >>> normalise_name("  Ärende-nummer ")
    'ärende_nummer'
    """
    return re.sub(r"[\s\-_]+", "_", str(name).strip().casefold())


def normalise_key(value: object) -> str:
    """Return a raw category value in matching form: casefolded, single spaces.

    Examples
    --------
    >>> normalise_key("  Misshandel,   utomhus ")
    'misshandel, utomhus'
    """
    return re.sub(r"\s+", " ", str(value).strip().casefold())


def guess_columns(
    columns: Iterable[object],
    roles: Iterable[str],
    explicit: Mapping[str, str] | None = None,
    *,
    file_name: str = "filen",
) -> tuple[dict[str, str], list[str]]:
    """Resolve which column of a file plays each role.

    Parameters
    ----------
    columns : iterable
        The file's column names as they stand.
    roles : iterable of str
        Roles wanted (keys of `GUESSES`), in priority order: a column taken by an earlier
        role is not guessed again for a later one (the time roles ``time``, ``date`` and
        ``clock`` may share a column; `split_time_roles` then picks one reading).
    explicit : mapping, optional
        Role -> column given by the user. These are used as given and must exist.
    file_name : str
        Name of the file, for the error message.

    Returns
    -------
    (dict, list of str)
        Role -> column for every role found, and one Swedish note per automatic guess.

    Raises
    ------
    InputError
        When the mapping names an unknown role or a column that is not in the file.

    Examples
    --------
    >>> found, notes = guess_columns(["Latitud", "lon", "x"], ["lon", "lat"])
    >>> found
    {'lon': 'lon', 'lat': 'Latitud'}
    >>> notes[1]
    "kolumnen 'Latitud' tolkad som latitud"
    """
    cols = [str(c) for c in columns]
    explicit = {k: v for k, v in (explicit or {}).items() if v}
    unknown_roles = sorted(set(explicit) - set(ROLE_LABELS))
    if unknown_roles:
        raise InputError(
            f"Okänd roll i kolumnmappningen för {file_name}: {', '.join(unknown_roles)}; "
            f"tillåtna: {', '.join(ROLE_LABELS)}."
        )
    for role, col in explicit.items():
        if col not in cols:
            raise InputError(
                f"Filen {file_name} saknar kolumnen '{col}' ({ROLE_LABELS[role]}); "
                f"hittade kolumnerna: {', '.join(cols)}."
            )
    by_norm: dict[str, str] = {}
    for c in cols:
        by_norm.setdefault(normalise_name(c), c)
    found: dict[str, str] = {}
    taken = {role: col for role, col in explicit.items()}
    for role in roles:
        if role in explicit:
            found[role] = explicit[role]
            continue
        blocked = {
            col
            for other, col in taken.items()
            if not (other in _TIME_ROLES and role in _TIME_ROLES)
        }
        for candidate in GUESSES[role]:
            col = by_norm.get(candidate)
            if col is not None and col not in blocked:
                found[role] = col
                taken[role] = col
                break
    if "time" in found or "date" in found:
        found = split_time_roles(found, explicit)
    notes = [
        f"kolumnen '{col}' tolkad som {ROLE_LABELS[role]}"
        for role, col in found.items()
        if role not in explicit
    ]
    return found, notes


def split_time_roles(found: Mapping[str, str], explicit: Mapping[str, str] | None) -> dict:
    """Decide between one timestamp column and a date column plus a clock column.

    Returns a copy of `found` holding either ``time`` or both ``date`` and ``clock``.
    A user's explicit ``time`` always wins; explicit ``date`` + ``clock`` are combined.

    Examples
    --------
    >>> split_time_roles({"time": "tid", "date": "datum", "clock": "tid"}, None)
    {'date': 'datum', 'clock': 'tid'}
    >>> split_time_roles({"time": "occurred_at", "date": "datum"}, None)
    {'time': 'occurred_at'}
    """
    explicit = explicit or {}
    out = {k: v for k, v in found.items() if k not in ("time", "date", "clock")}
    time_col = found.get("time")
    date_col, clock_col = found.get("date"), found.get("clock")
    wants_pair = ("date" in explicit and "clock" in explicit) or (
        "time" not in explicit
        and date_col is not None
        and clock_col is not None
        and date_col != clock_col
        and (time_col is None or normalise_name(time_col) not in _FULL_TIME_NAMES)
    )
    if wants_pair:
        out["date"], out["clock"] = date_col, clock_col
    elif time_col is not None:
        out["time"] = time_col
    elif date_col is not None:
        out["time"] = date_col
    return out


def read_mapping_toml(path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """Read a mapping file: a ``[columns]`` table and a ``[categories]`` table.

    ``[columns]`` maps roles to column names (``lat = "Latitud"``). ``[categories]`` maps raw
    offence names or codes to Lägesbild categories (``misshandel = "våld på offentlig plats"``),
    or a category to a list of raw values (``"rån" = ["personrån", "9301"]``). A file with
    neither table is read as a category table.

    Returns
    -------
    (dict, dict)
        Columns (role -> column) and categories (raw -> category).

    Raises
    ------
    InputError
        When the file cannot be read or is not valid TOML.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
    ...     _ = f.write('[columns]\\nlat = "Latitud"\\n[categories]\\n"rån" = ["personrån"]\\n')
    >>> read_mapping_toml(f.name)
    ({'lat': 'Latitud'}, {'personrån': 'rån'})
    >>> os.unlink(f.name)
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"Mappningsfilen {path.name} kan inte läsas: {exc.strerror}.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Mappningsfilen {path.name} är inte giltig TOML: {exc}.") from exc
    if "columns" not in data and "categories" not in data:
        data = {"categories": data}
    columns = data.get("columns", {})
    cats_in = data.get("categories", {})
    if not isinstance(columns, dict) or not isinstance(cats_in, dict):
        raise InputError(
            f"Mappningsfilen {path.name} ska ha tabellerna [columns] och [categories]."
        )
    categories: dict[str, str] = {}
    for key, value in cats_in.items():
        if isinstance(value, list):
            categories.update({str(raw): str(key) for raw in value})
        else:
            categories[str(key)] = str(value)
    return {str(k): str(v) for k, v in columns.items()}, categories


def build_category_map(user_map: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the category map in force: defaults, category names, then the user's map.

    Keys are normalised with `normalise_key`; values are checked against `schema.CATEGORIES`
    (case-insensitively).

    Raises
    ------
    InputError
        When the user's map names a category Lägesbild does not have.

    Examples
    --------
    >>> m = build_category_map({"0312": "Rån"})
    >>> m["0312"], m["misshandel"], m["inbrott"]
    ('rån', 'våld på offentlig plats', 'inbrott')
    """
    allowed = {normalise_key(c): c for c in schema.CATEGORIES}
    out = {normalise_key(k): v for k, v in schema.DEFAULT_CATEGORY_MAP.items()}
    out.update(allowed)
    bad = []
    for raw, cat in (user_map or {}).items():
        target = allowed.get(normalise_key(cat))
        if target is None:
            bad.append(f"'{raw}' -> '{cat}'")
        else:
            out[normalise_key(raw)] = target
    if bad:
        raise InputError(
            f"Kategorimappningen anger kategorier som inte finns: {', '.join(bad)}; "
            f"tillåtna: {', '.join(schema.CATEGORIES)}."
        )
    return out


def map_values(
    raw: pd.Series, mapping: Mapping[str, str], default: str
) -> tuple[np.ndarray, np.ndarray]:
    """Map raw values through `mapping` on their normalised form, vectorised.

    Each distinct value is normalised and looked up once, so a million rows cost the same
    as their few distinct values.

    Parameters
    ----------
    raw : Series
        Raw values (missing allowed; they are never mapped).
    mapping : mapping
        Normalised key (`normalise_key`) -> target.
    default : str
        Target for values not in the map and for missing values.

    Returns
    -------
    (ndarray of object, ndarray of bool)
        Mapped values, and whether each row was found in the map.

    Examples
    --------
    >>> vals, ok = map_values(pd.Series([" RÅN", "x", None]), {"rån": "rån"}, "övrigt")
    >>> list(vals), ok.tolist()
    (['rån', 'övrigt', 'övrigt'], [True, False, False])
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    # code -1 (missing) takes the trailing None
    looked = np.array([mapping.get(normalise_key(u)) for u in uniques] + [None], dtype=object)
    mapped = looked[codes]
    ok = pd.notna(mapped)
    return np.where(ok, mapped, default).astype(object), ok
