"""Reading and validating input files: incidents, dialogue places, boundaries, gazetteer.

This is the only module that touches input files. It reads CSV (lon/lat columns, or x/y
columns with a declared CRS), GeoJSON, GeoPackage, Shapefile (.shp or .zip) and GeoParquet,
and returns frames in SWEREF 99 TM (EPSG:3006) with times tz-aware in Europe/Stockholm.

Every record is either loaded or listed in ``LoadResult.rejected`` with its row number and a
short Swedish reason (the ``REASON_*`` constants); loaded + rejected = rows read, always.
Structural problems (unreadable or empty file, missing column, undeclared or unknown CRS,
swapped lon/lat) raise `geo.errors.InputError` with one sentence naming the file.

Data caveats: CSV row numbers are spreadsheet rows (the header is row 1) and assume no blank
lines and no line breaks inside quoted fields; times that do not exist (spring forward) are
read as winter time, ambiguous times (autumn) as the first occurrence — see docs/import.md.
Police exports often place events they cannot geocode at an area's centre point; those
stacks are warned about at load time and flagged by `flag_centre_points`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyogrio
import pyproj
import shapely

from geo import guards, safecsv, schema
from geo.errors import InputError
from geo.mapping import (
    build_category_map,
    guess_columns,
    map_values,
    read_mapping_toml,
)

# --- reasons (stable Swedish text shared with the UI and tests) ---------------------------
REASON_NO_COORDS = "saknar koordinater"
REASON_BAD_COORDS = "ogiltiga koordinater"
REASON_OUTSIDE_SWEDEN = "utanför Sverige"
REASON_NO_TIME = "saknar tid"
REASON_BAD_TIME = "ogiltig tid"
#: The end of a span (``tid_till``) could not be read, or lies before the start.
REASON_BAD_UNTIL = "ogiltig sluttid"
#: Counted under this key; the row's own reason names the first row: "dubblett av rad 12".
REASON_DUPLICATE = "dubblett"
REASON_EMPTY_GEOMETRY = "tom geometri"
REASON_INVALID_GEOMETRY = "ogiltig geometri"
#: Counted under this key; the row's own reason names the type: "fel geometrityp (LineString)".
REASON_WRONG_GEOMETRY = "fel geometrityp"
REASON_UNKNOWN_CATEGORY = "okänd kategori"
REASON_BAD_WEIGHT = "ogiltig vikt"
REASON_BAD_MENTIONS = "ogiltigt antal omnämnanden"
REASON_BAD_LEVEL = "okänd nivå"
REASON_NO_NAME = "saknar namn"
REASON_OUTSIDE_AREAS = "utanför alla områden"
#: A CSV line with more or fewer fields than the header; its raw text is kept in "rådata".
REASON_BAD_FIELDS = "fel antal fält"
REASONS = (
    REASON_NO_COORDS,
    REASON_BAD_COORDS,
    REASON_OUTSIDE_SWEDEN,
    REASON_NO_TIME,
    REASON_BAD_TIME,
    REASON_BAD_UNTIL,
    REASON_DUPLICATE,
    REASON_EMPTY_GEOMETRY,
    REASON_INVALID_GEOMETRY,
    REASON_WRONG_GEOMETRY,
    REASON_UNKNOWN_CATEGORY,
    REASON_BAD_WEIGHT,
    REASON_BAD_MENTIONS,
    REASON_BAD_LEVEL,
    REASON_NO_NAME,
    REASON_OUTSIDE_AREAS,
    REASON_BAD_FIELDS,
)

#: A coordinate shared by at least this many loaded points is warned about at load time.
STACK_MIN_COUNT = 10
#: Defaults of `flag_centre_points`.
CENTRE_TOLERANCE_M = 150.0
CENTRE_MIN_COUNT = 10

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb")
PARQUET_SUFFIXES = (".parquet", ".geoparquet")

_POINT = ("Point",)
_POLYGONAL = ("Polygon", "MultiPolygon")
_OFFSET_RE = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_TIMES_OF_DAY = {
    "dag": "dag",
    "dagtid": "dag",
    "day": "dag",
    "kväll": "kväll",
    "kvällstid": "kväll",
    "evening": "kväll",
    "natt": "natt",
    "nattetid": "natt",
    "night": "natt",
}
_REASON_KEYWORDS = {
    "dålig belysning": r"belysning|mörk|lampa|ljus",
    "narkotika": r"narkotika|knark|drog|langning",
    "gäng": r"gäng",
    "våld": r"våld|misshandel|rån|hot|bråk",
    "stök/ordningsstörning": r"stök|ordningsstörning|fylle|berusad|skrik",
    "skymd sikt": r"skymd|buskage|buskar|vegetation|sikt",
    "trafik": r"trafik|bil|fart|moped|cykel",
}


# --- result -------------------------------------------------------------------------------
@dataclass
class LoadResult:
    """What a loader read: the validated frame and an account of everything else.

    Attributes
    ----------
    frame : GeoDataFrame
        Loaded records in EPSG:3006 with the schema columns of their kind.
    rows : int
        Records read from the file; ``len(frame) + len(rejected) == rows``.
    rejected : DataFrame
        ``row``, ``reason`` and the raw values of each rejected record.
    reasons : dict
        Reason (a ``REASON_*`` constant) -> number of rejected records.
    warnings : list of str
        Swedish, user-facing: recoverable problems and what was done about them.
    notes : list of str
        Automatic column guesses, e.g. "kolumnen 'latitud' tolkad som latitud".
    crs : str or None
        The source CRS, e.g. "EPSG:3011".
    time_range : (Timestamp, Timestamp) or None
        Earliest and latest time of the loaded records, where they have times.
    """

    frame: gpd.GeoDataFrame
    rows: int
    rejected: pd.DataFrame
    reasons: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    crs: str | None = None
    time_range: tuple[pd.Timestamp, pd.Timestamp] | None = None

    @property
    def loaded(self) -> int:
        """Number of loaded records."""
        return len(self.frame)

    def to_json_dict(self) -> dict:
        """Return the summary the CLI prints with ``--json``.

        Examples
        --------
        >>> empty = gpd.GeoDataFrame(geometry=[], crs=schema.CRS_METRIC)
        >>> LoadResult(empty, 0, pd.DataFrame(), {}).to_json_dict()["loaded"]
        0
        """
        return {
            "rows": int(self.rows),
            "loaded": int(self.loaded),
            "rejected": int(len(self.rejected)),
            "reasons": {str(k): int(v) for k, v in self.reasons.items()},
            "warnings": list(self.warnings),
            "crs": self.crs,
            "time_range": None
            if self.time_range is None
            else [t.isoformat() for t in self.time_range],
        }

    def write_rejected(self, path: str | Path) -> Path:
        """Write the rejected records to a CSV file (UTF-8 with BOM, so Excel shows å, ä, ö).

        Returns the path written.

        Examples
        --------
        >>> import tempfile, os
        >>> empty = gpd.GeoDataFrame(geometry=[], crs=schema.CRS_METRIC)
        >>> rej = pd.DataFrame({"row": [3], "reason": ["ogiltig tid"], "tid": ["igår"]})
        >>> out = LoadResult(empty, 1, rej, {"ogiltig tid": 1}).write_rejected(
        ...     os.path.join(tempfile.mkdtemp(), "avvisade.csv"))
        >>> out.read_text(encoding="utf-8-sig").splitlines()[1]
        '3,ogiltig tid,igår'
        """
        return safecsv.write_csv(self.rejected, path)

    def rejected_csv(self) -> bytes:
        """The rejected records as CSV bytes for a download (`geo.safecsv`: formulas defused).

        Examples
        --------
        >>> empty = gpd.GeoDataFrame(geometry=[], crs=schema.CRS_METRIC)
        >>> rej = pd.DataFrame({"row": [2], "reason": ["ogiltig tid"], "tid": ["=1+1"]})
        >>> LoadResult(empty, 1, rej, {}).rejected_csv().decode("utf-8-sig").splitlines()[1]
        "2,ogiltig tid,'=1+1"
        """
        return safecsv.to_csv_bytes(self.rejected)


# --- reading files ------------------------------------------------------------------------
@dataclass
class _Table:
    """A file as read: attribute columns, optional geometry, CRS and row numbers."""

    name: str
    data: pd.DataFrame
    row: np.ndarray
    geometry: np.ndarray | None = None  # shapely geometries, source CRS
    crs: pyproj.CRS | None = None
    warnings: list[str] = field(default_factory=list)
    #: CSV lines that could not be split into the header's fields: (row, raw text)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)


def _parquet_columns(
    path: str | Path, roles: tuple[str, ...], explicit: Mapping[str, str]
) -> list[str] | None:
    """The columns of a Parquet file that play a role (and its geometry), from its schema
    alone: only those are read. None for other files, or when the schema cannot be read
    (reading the file then says why)."""
    path = Path(path)
    if path.suffix.lower() not in PARQUET_SUFFIXES or not path.is_file():
        return None
    import pyarrow.parquet as pq

    try:
        schema_ = pq.read_schema(path)
    except (OSError, pa.ArrowException, ValueError):
        return None
    found, _ = guess_columns(schema_.names, roles, explicit, file_name=path.name)
    geo = (schema_.metadata or {}).get(b"geo")
    placed = geo or {"lon", "lat"} <= found.keys() or {"x", "y"} <= found.keys()
    timed = "time" in found or {"date", "clock"} <= found.keys()
    if not (placed and timed):  # a structural error follows: let it list every column
        return None
    wanted = list(dict.fromkeys(found.values()))
    if geo:
        import json

        try:
            wanted.append(str(json.loads(geo)["primary_column"]))
        except (ValueError, KeyError, TypeError):
            return None
    return wanted


def _read_table(path: str | Path, layer: str | None, columns: list[str] | None = None) -> _Table:
    path = Path(path)
    name = path.name
    if not path.exists():
        raise InputError(f"Filen {name} finns inte ({path}).")
    guards.check_file(path)  # size, zip bomb, huge GeoJSON, endless GeoPackage views
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    # GDAL and Parquet run in a child process with a memory and a time limit (issue 18)
    if suffix in PARQUET_SUFFIXES:
        guards.check_parquet(path)  # the footer's row count, before any column is read
        return guards.run_limited(_read_parquet, path, columns, name=name)
    if suffix in VECTOR_SUFFIXES:
        return guards.run_limited(_read_vector, path, layer, name=name)
    raise InputError(
        f"Filen {name} har ett format som inte stöds ({suffix or 'ingen filändelse'}); "
        "använd CSV, GeoJSON, GeoPackage, Shapefile (.shp eller .zip) eller GeoParquet."
    )


def _read_csv(path: Path) -> _Table:
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Filen {name} kan inte läsas: {exc.strerror}.") from exc
    warnings: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputError(f"Filen {name} är tom.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text, label = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            text, label = data.decode("latin-1"), "Latin-1"
        data = text.encode("utf-8")
        warnings.append(
            f"Filen {name} är inte UTF-8 och lästes som {label}; kontrollera att å, ä och ö "
            "ser rätt ut."
        )
    end = data.find(b"\n")
    header = data[: end if end >= 0 else len(data)]
    counts = {sep: header.count(sep.encode()) for sep in (",", ";", "\t", "|")}
    sep = max(counts, key=counts.get) if max(counts.values()) else ","
    bad_lines: list[tuple[int, str]] = []
    try:
        df = pd.read_csv(
            io.BytesIO(data), sep=sep, dtype=str, engine="pyarrow", keep_default_na=False
        )
    except (pa.ArrowInvalid, ValueError, pd.errors.ParserError) as exc:
        if "columns, got" not in str(exc):
            detail = str(exc).splitlines()[0][:200]
            raise InputError(f"Filen {name} kan inte läsas som CSV: {detail}.") from exc
        try:
            df, bad_lines = _read_ragged_csv(data, sep)
        except (csv.Error, pa.ArrowInvalid, UnicodeDecodeError) as exc2:  # found by fuzzing
            raise InputError(f"Filen {name} kan inte läsas som CSV: {_first_line(exc2)}.") from exc2
    if df.empty and not bad_lines:
        raise InputError(
            f"Filen {name} har inga datarader, bara rubrikraden ({', '.join(map(str, df.columns))})."
        )
    df.columns = [str(c).strip() for c in df.columns]
    twice = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if twice:  # a column picked by name would be a table, not a column: found by fuzzing
        raise InputError(
            f"Filen {name} har flera kolumner med samma namn ({', '.join(twice)}); byt namn på dem."
        )
    # spreadsheet rows: the header is row 1
    rows = np.arange(2, len(df) + len(bad_lines) + 2, dtype="int64")
    if bad_lines:
        rows = np.setdiff1d(rows, [r for r, _ in bad_lines])
    return _Table(name, df, rows, warnings=warnings, bad_lines=bad_lines)


def _read_ragged_csv(data: bytes, sep: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Read a CSV whose some lines have the wrong number of fields; return those lines apart.

    Single-threaded so pyarrow can tell each bad line's number (header = line 1).
    """
    header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")], delimiter=sep))
    bad: list[tuple[int, str]] = []

    def handler(row: pacsv.InvalidRow) -> str:
        bad.append((int(row.number), row.text))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=handler),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=False
        ),
    )
    return table.to_pandas().astype("str"), bad


def _read_vector(path: Path, layer: str | None) -> _Table:
    name = path.name
    source = str(path)
    if path.suffix.lower() == ".zip":
        source, layer = _zip_member(path, layer)
    try:
        layers = [str(x) for x in pyogrio.list_layers(source)[:, 0]]
    except Exception as exc:  # pyogrio raises its own DataSourceError and OSError kinds
        raise InputError(f"Filen {name} kan inte läsas som geodata: {_gdal_reason(exc)}.") from exc
    if not layers:
        raise InputError(f"Filen {name} innehåller inga lager.")
    if layer is None and len(layers) > 1:
        raise InputError(
            f"Filen {name} har flera lager ({', '.join(layers)}); välj ett med --layer."
        )
    if layer is not None and layer not in layers:
        raise InputError(f"Filen {name} har inget lager '{layer}'; lagren är: {', '.join(layers)}.")
    try:
        # times as text: GDAL reads naive times as UTC when a column mixes them with offsets
        gdf = pyogrio.read_dataframe(source, layer=layer or layers[0], datetime_as_string=True)
    except Exception as exc:  # noqa: BLE001 - GDAL errors come in several classes
        raise InputError(f"Filen {name} kan inte läsas som geodata: {_gdal_reason(exc)}.") from exc
    return _table_from_gdf(name, gdf)


def _zip_member(path: Path, layer: str | None) -> tuple[str, str | None]:
    """The GDAL path of the dataset inside a zip (in any folder), and the layer left to pick.

    Several datasets in one zip are offered as layers named by their file stem.
    """
    name = path.name
    if not zipfile.is_zipfile(path):
        raise InputError(f"Filen {name} är ingen giltig zip-fil.")
    with zipfile.ZipFile(path) as zf:
        members = [
            m
            for m in zf.namelist()
            if Path(m).suffix.lower() in (".shp", ".gpkg", ".geojson", ".json", ".fgb")
            and not m.startswith("__MACOSX")
        ]
    if not members:
        raise InputError(f"Zip-filen {name} innehåller ingen shapefil eller annan geodatafil.")
    if len(members) == 1:
        return f"/vsizip/{path}/{members[0]}", layer
    stems = {Path(m).stem: m for m in members}
    if layer is None:
        raise InputError(
            f"Filen {name} har flera lager ({', '.join(stems)}); välj ett med --layer."
        )
    if layer not in stems:
        raise InputError(f"Filen {name} har inget lager '{layer}'; lagren är: {', '.join(stems)}.")
    return f"/vsizip/{path}/{stems[layer]}", None


def _read_parquet(path: Path, columns: list[str] | None = None) -> _Table:
    """A (Geo)Parquet file as a table; ``columns``: only these (pyarrow column selection)."""
    name = path.name
    try:
        gdf = gpd.read_parquet(path, columns=columns)
    except ValueError as exc:
        if "geo" not in str(exc).lower():
            raise InputError(
                f"Filen {name} kan inte läsas som Parquet: {_first_line(exc)}."
            ) from exc
        gdf = None  # plain Parquet without geometry: a table with coordinate columns
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"Filen {name} kan inte läsas som Parquet: {_first_line(exc)}.") from exc
    if gdf is not None:
        return _table_from_gdf(name, gdf)
    df = pd.read_parquet(path, columns=columns)
    if df.empty:
        raise InputError(f"Filen {name} har inga rader.")
    return _Table(name, df.reset_index(drop=True), np.arange(len(df)) + 1)


def _table_from_gdf(name: str, gdf: gpd.GeoDataFrame) -> _Table:
    if len(gdf) == 0:
        raise InputError(f"Filen {name} innehåller inga objekt.")
    gdf = gdf.reset_index(drop=True)
    data = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    return _Table(
        name, data, np.arange(len(gdf)) + 1, geometry=np.asarray(gdf.geometry.array), crs=gdf.crs
    )


#: GDAL's own words (English, with advice about driver prefixes) for the common cases, and
#: what a user should read instead.
_GDAL_REASONS = (
    (
        "not recognized as being in a supported file format",
        "innehållet är inget geodataformat som känns igen (skadad fil, eller en annan filtyp "
        "än ändelsen säger)",
    ),
    ("no such file or directory", "filen finns inte"),
    ("permission denied", "filen får inte läsas (behörighet saknas)"),
    ("file is not a database", "filen är ingen giltig GeoPackage (SQLite)"),
)


def _gdal_reason(exc: BaseException) -> str:
    """A plain-Swedish reason for a GDAL failure, or GDAL's first sentence when unknown.

    Examples
    --------
    >>> _gdal_reason(OSError("'x.gpkg' not recognized as being in a supported file format.; It"))
    'innehållet är inget geodataformat som känns igen (skadad fil, eller en annan filtyp än ändelsen säger)'
    """
    text = str(exc)
    lowered = text.lower()
    for needle, reason in _GDAL_REASONS:
        if needle in lowered:
            return reason
    return _first_line(exc).split(";")[0].rstrip(".")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# --- validation helpers -------------------------------------------------------------------
class _Rejections:
    """The first reason each row fails, filled check by check (vectorised)."""

    def __init__(self, n: int) -> None:
        self.kind = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)
        self._ok = np.ones(n, dtype=bool)

    @property
    def ok(self) -> np.ndarray:
        """True for rows not rejected so far (a copy)."""
        return self._ok.copy()

    def add(self, mask: np.ndarray, kind: str, detail: np.ndarray | str | None = None) -> None:
        new = np.asarray(mask, dtype=bool) & self._ok
        self._ok &= ~new
        self.kind[new] = kind
        if detail is None:
            self.detail[new] = kind
        elif isinstance(detail, str):
            self.detail[new] = detail
        else:
            self.detail[new] = np.asarray(detail, dtype=object)[new]


def _blank(series: pd.Series) -> np.ndarray:
    """True where a raw value is missing or only whitespace."""
    if pd.api.types.is_string_dtype(series) or series.dtype == object:
        return (series.isna() | (series.astype("str").str.strip() == "")).to_numpy()
    return series.isna().to_numpy()


def _to_number(series: pd.Series) -> np.ndarray:
    """Raw values as float64, NaN where not a number. Accepts decimal commas and spaces."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    arr = pa.array(series.astype("str"), type=pa.string(), from_pandas=True)
    try:
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        pass  # not all plain numbers: clean up Swedish Excel forms, then coerce
    cleaned = (
        series.astype("str")
        .str.strip()
        .str.replace(r"[\s\u00a0\u202f]", "", regex=True)
        .str.replace(",", ".", regex=False)
        .str.replace("\u2212", "-", regex=False)
    )
    return pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _text(series: pd.Series) -> pd.Series:
    """Raw values as stripped strings (dtype str); blanks become missing.

    Integral floats lose '.0' (an id 12 read as 12.0 from a vector file stays "12").
    """
    if pd.api.types.is_float_dtype(series):
        vals = series.to_numpy(dtype=float, na_value=np.nan)
        finite = vals[np.isfinite(vals)]
        no_inf = not np.isinf(vals).any()
        # beyond 2**53 floats are not exact integers (and 2**63 overflows int64): found by fuzzing
        exact = np.all(np.abs(finite) <= 2**53)
        if finite.size and no_inf and exact and np.all(finite == np.round(finite)):
            series = pd.Series(vals, index=series.index).astype("Int64")
    out = series.astype("str").str.strip()
    return out.where(out.str.len() > 0)


def _parse_crs(value: object, name: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(
            f"Okänt koordinatsystem '{value}' för {name}; ange t.ex. EPSG:3006 eller EPSG:3011."
        ) from exc


def _crs_label(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


def in_sweden(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where lon/lat (degrees, WGS 84) lie in Sweden's sanity extent.

    Examples
    --------
    >>> in_sweden(np.array([17.83, 59.42]), np.array([59.42, 17.83])).tolist()
    [True, False]
    """
    x0, y0, x1, y1 = schema.SWEDEN_BOUNDS_LONLAT
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def _check_lonlat(
    lon: np.ndarray, lat: np.ndarray, rej: _Rejections, name: str, columns: str
) -> None:
    """Reject absurd and outside-Sweden points; raise when the axes look swapped or metric."""
    valid = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    finite = np.isfinite(lon) & np.isfinite(lat) & rej.ok
    if finite.any() and not valid[finite].any():
        e, n = lon[finite], lat[finite]
        metric = (e >= 200_000) & (e <= 1_000_000) & (n >= 6_100_000) & (n <= 7_700_000)
        if metric.mean() >= 0.9:
            raise InputError(
                f"Koordinaterna i filen {name} ({columns}) ser ut att vara meter i SWEREF 99 TM, "
                "inte grader; ange koordinatsystemet med --crs EPSG:3006 (och x/y-kolumner i CSV)."
            )
    rej.add(~valid, REASON_BAD_COORDS)
    inside = valid & in_sweden(lon, lat)
    candidates = valid & rej.ok
    if candidates.any() and not inside[candidates].any():
        swapped = in_sweden(lat[candidates], lon[candidates])
        if swapped.mean() >= 0.9:
            raise InputError(
                f"Koordinaterna i filen {name} ser ut att vara omkastade ({columns}): alla "
                "punkter hamnar utanför Sverige men innanför om de byts."
            )
    rej.add(~inside, REASON_OUTSIDE_SWEDEN)


def _transformer(src: pyproj.CRS, dst: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


# --- locating records ---------------------------------------------------------------------
@dataclass
class _Located:
    geometry: np.ndarray  # shapely, EPSG:3006 (None where rejected)
    lon: np.ndarray  # representative point, WGS 84
    lat: np.ndarray
    crs: str


def _locate(
    table: _Table,
    found: Mapping[str, str],
    explicit: Mapping[str, str],
    crs: object,
    rej: _Rejections,
    warnings: list[str],
    allowed_types: tuple[str, ...],
) -> _Located:
    if table.geometry is not None:
        return _locate_geometry(table, crs, rej, warnings, allowed_types)
    if "Point" not in allowed_types:
        raise InputError(
            f"Filen {table.name} har inga geometrier; gränser läses från GeoJSON, GeoPackage, "
            "Shapefile eller GeoParquet."
        )
    use_xy = ("x" in explicit or "y" in explicit) or (
        not ("lon" in found and "lat" in found) and "x" in found and "y" in found
    )
    roles = ("x", "y") if use_xy else ("lon", "lat")
    missing = [r for r in roles if r not in found]
    if missing:
        raise InputError(
            f"Filen {table.name} saknar koordinatkolumner (lon/lat eller x/y med koordinatsystem); "
            f"hittade kolumnerna: {', '.join(map(str, table.data.columns))}."
        )
    cx, cy = (table.data[found[r]] for r in roles)
    a, b = _to_number(cx), _to_number(cy)
    rej.add(_blank(cx) | _blank(cy), REASON_NO_COORDS)
    columns = f"'{found[roles[0]]}' och '{found[roles[1]]}'"
    if use_xy:
        if crs is None:
            raise InputError(
                f"Filen {table.name} har x/y-koordinater ({columns}) men inget angivet "
                "koordinatsystem; ange det med --crs, t.ex. EPSG:3006."
            )
        src = _parse_crs(crs, table.name)
        finite = np.isfinite(a) & np.isfinite(b)
        rej.add(~finite, REASON_BAD_COORDS)
        with np.errstate(all="ignore"):
            lon, lat = _transformer(src, schema.CRS_WGS84).transform(a, b, errcheck=False)
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        _check_lonlat(lon, lat, rej, table.name, columns)
        x, y = (a, b) if src.to_epsg() == 3006 else _project(src, a, b)
        label = _crs_label(src)
    else:
        lon, lat = a, b
        _check_lonlat(lon, lat, rej, table.name, columns)
        x, y = _project(pyproj.CRS.from_epsg(4326), lon, lat)
        label = schema.CRS_WGS84
        if crs is not None and _parse_crs(crs, table.name).to_epsg() != 4326:
            warnings.append(
                f"Kolumnerna {columns} är lon/lat och läses alltid som WGS 84; --crs {crs} "
                "gäller bara x/y-kolumner."
            )
    ok = rej.ok
    geoms = np.full(len(x), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    return _Located(geoms, lon, lat, label)


def _project(src: pyproj.CRS, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        x, y = _transformer(src, schema.CRS_METRIC).transform(a, b, errcheck=False)
    return np.asarray(x, float), np.asarray(y, float)


def _locate_geometry(
    table: _Table,
    crs: object,
    rej: _Rejections,
    warnings: list[str],
    allowed_types: tuple[str, ...],
) -> _Located:
    name = table.name
    geoms = table.geometry.copy()
    src = table.crs
    if crs is not None:
        given = _parse_crs(crs, name)
        if src is not None and not given.equals(src):
            warnings.append(
                f"Filen {name} anger koordinatsystemet {_crs_label(src)} men {_crs_label(given)} "
                "användes, som du angav."
            )
        src = given
    if src is None:
        raise InputError(
            f"Filen {name} anger inget koordinatsystem (t.ex. en shapefil utan .prj-fil); "
            "ange det med --crs, t.ex. EPSG:3006."
        )
    src = pyproj.CRS.from_user_input(src)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    rej.add(empty, REASON_EMPTY_GEOMETRY)
    type_names = np.array(
        [shapely.geometry.base.GEOMETRY_TYPES[t] if t >= 0 else "" for t in range(-1, 8)],
        dtype=object,
    )[shapely.get_type_id(geoms) + 1]
    wrong = ~np.isin(type_names, allowed_types) & ~empty
    rej.add(
        wrong,
        REASON_WRONG_GEOMETRY,
        np.char.add(f"{REASON_WRONG_GEOMETRY} (", type_names.astype(str)) + ")",
    )
    polygonal = np.isin(type_names, _POLYGONAL) & rej.ok
    invalid = polygonal & ~shapely.is_valid(geoms)
    if invalid.any():
        repaired = shapely.make_valid(geoms[invalid])
        parts = [_polygonal_part(g) for g in repaired]
        fixed = np.array([p is not None for p in parts])
        idx = np.flatnonzero(invalid)
        geoms[idx[fixed]] = [p for p in parts if p is not None]
        rej.add(np.isin(np.arange(len(geoms)), idx[~fixed]), REASON_INVALID_GEOMETRY)
        if fixed.any():
            rows = ", ".join(map(str, table.row[idx[fixed]][:10]))
            warnings.append(
                f"{int(fixed.sum())} geometrier var ogiltiga och reparerades med make_valid "
                f"(rad {rows})."
            )
    ok = rej.ok
    rep = np.full(len(geoms), None, dtype=object)
    rep[ok] = np.where(
        shapely.get_type_id(geoms[ok]) == 0, geoms[ok], shapely.point_on_surface(geoms[ok])
    )
    rx = np.full(len(geoms), np.nan)
    ry = np.full(len(geoms), np.nan)
    rx[ok], ry[ok] = shapely.get_x(rep[ok]), shapely.get_y(rep[ok])
    if src.to_epsg() == 4326:
        lon, lat = rx, ry
    else:
        with np.errstate(all="ignore"):
            lon, lat = _transformer(src, schema.CRS_WGS84).transform(rx, ry, errcheck=False)
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    _check_lonlat(lon, lat, rej, name, "x och y i geometrin")
    ok = rej.ok
    out = np.full(len(geoms), None, dtype=object)
    if ok.any():
        out[ok] = gpd.GeoSeries(geoms[ok], crs=src).to_crs(schema.CRS_METRIC).array
        out[ok] = np.asarray(out[ok])
    return _Located(out, lon, lat, _crs_label(src))


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygons of a repaired geometry as one (Multi)Polygon, or None when there are none."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    parts = [q for p in parts for q in shapely.get_parts(p)]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


# --- times --------------------------------------------------------------------------------
def parse_times(
    raw: pd.Series, *, time_format: str | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse raw times to tz-aware Europe/Stockholm, vectorised.

    Strings with an offset (``Z``, ``+01:00``) are exact instants; strings without are local
    Swedish time. Local times that do not exist (the spring-forward hour) are read as winter
    time, i.e. moved one hour forward; ambiguous local times (the repeated autumn hour) are
    read as the first occurrence (summer time). See docs/import.md.

    Parameters
    ----------
    raw : Series
        Strings (ISO 8601 with or without offset, "YYYY-MM-DD HH:MM") or datetimes.
    time_format : str, optional
        A `strftime` format for all values instead of ISO 8601.

    Returns
    -------
    (Series, ndarray of bool, ndarray of bool)
        Times (NaT where missing or unparseable), where the time was shifted (nonexistent),
        and where it was ambiguous.

    Examples
    --------
    >>> t, gap, amb = parse_times(pd.Series(["2018-03-25 02:30", "2018-10-28T02:30",
    ...                                      "2018-06-01T10:00Z", "igår"]))
    >>> [str(v) for v in t]
    ['2018-03-25 03:30:00+02:00', '2018-10-28 02:30:00+02:00', '2018-06-01 12:00:00+02:00', 'NaT']
    >>> gap.tolist(), amb.tolist()
    ([True, False, False, False], [False, True, False, False])
    """
    n = len(raw)
    raw = raw.reset_index(drop=True)
    aware = pd.Series(pd.NaT, index=raw.index, dtype=f"datetime64[ns, {schema.TZ}]")
    if pd.api.types.is_datetime64_any_dtype(raw):
        if getattr(raw.dt, "tz", None) is not None:
            return (
                raw.dt.tz_convert(schema.TZ).astype(aware.dtype),
                np.zeros(n, bool),
                np.zeros(n, bool),
            )
        naive = raw
    else:
        text = pd.Series(_text(raw), index=raw.index, dtype="str")
        blank = text.isna().to_numpy()
        if time_format:
            has_zone = "%z" in time_format or "%Z" in time_format
            parsed = pd.to_datetime(text, format=time_format, errors="coerce", utc=has_zone)
            if has_zone:
                return (
                    parsed.dt.tz_convert(schema.TZ).astype(aware.dtype),
                    np.zeros(n, bool),
                    np.zeros(n, bool),
                )
            naive = parsed
        else:
            arr = pa.array(text, type=pa.string(), from_pandas=True)
            has_offset = pc.match_substring_regex(arr, _OFFSET_RE).to_numpy(zero_copy_only=False)
            has_offset = np.where(blank, False, has_offset).astype(bool)
            if has_offset.any():
                inst = pd.to_datetime(
                    text.where(has_offset), format="ISO8601", errors="coerce", utc=True
                )
                inst = inst.where(
                    (inst > _NS_MIN.tz_localize("UTC")) & (inst < _NS_MAX.tz_localize("UTC"))
                )
                aware = inst.dt.tz_convert(schema.TZ).astype(aware.dtype)
            naive = pd.to_datetime(
                text.where(~has_offset & ~blank), format="ISO8601", errors="coerce"
            )
    # a year outside datetime64[ns] (e.g. "-1" read as year -1) is no time: found by fuzzing
    naive = naive.where((naive > _NS_MIN) & (naive < _NS_MAX))
    local = naive.dt.tz_localize(schema.TZ, ambiguous="NaT", nonexistent="NaT")
    trouble = (local.isna() & naive.notna()).to_numpy()
    gap = np.zeros(n, bool)
    amb = np.zeros(n, bool)
    if trouble.any():
        sub = naive[trouble]
        first = np.ones(len(sub), dtype=bool)
        probe = sub.dt.tz_localize(schema.TZ, ambiguous=first, nonexistent="NaT")
        gap[trouble] = probe.isna().to_numpy()
        amb[trouble] = probe.notna().to_numpy()
        local = local.astype(f"datetime64[ns, {schema.TZ}]")
        local[trouble] = sub.dt.tz_localize(
            schema.TZ, ambiguous=first, nonexistent=pd.Timedelta(hours=1)
        ).astype(local.dtype)
    local = local.astype(aware.dtype)
    return aware.where(aware.notna(), local), gap, amb


_NS_MIN, _NS_MAX = pd.Timestamp("1678-01-01"), pd.Timestamp("2262-01-01")


def _time_warnings(gap: np.ndarray, amb: np.ndarray, row: np.ndarray, ok: np.ndarray) -> list[str]:
    out = []
    gap, amb = gap & ok, amb & ok
    if gap.any():
        out.append(
            f"{int(gap.sum())} tider fanns inte (sommartid började, klockan hoppade 02→03) och "
            f"lästes som vintertid, en timme senare; t.ex. rad {row[gap][0]}."
        )
    if amb.any():
        out.append(
            f"{int(amb.sum())} tider var tvetydiga (vintertid började, timmen 02–03 kom två "
            f"gånger) och lästes som första gången (sommartid); t.ex. rad {row[amb][0]}."
        )
    return out


# --- shared pieces of every loader ---------------------------------------------------------
def _resolve_mapping(
    mapping: Mapping[str, str] | str | Path | None,
    category_map: Mapping[str, str] | str | Path | None,
) -> tuple[dict[str, str], dict[str, str] | None]:
    columns: dict[str, str] = {}
    categories: dict[str, str] | None = None
    if isinstance(mapping, (str, Path)):
        columns, from_file = read_mapping_toml(mapping)
        categories = from_file or None
    elif mapping is not None:
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"`mapping` was {type(mapping).__name__} but is expected to be a dict or a path "
                "to a TOML file"
            )
        columns = {str(k): str(v) for k, v in mapping.items() if v}
    if isinstance(category_map, (str, Path)):
        _, categories = read_mapping_toml(category_map)
    elif category_map is not None:
        categories = dict(category_map)
    return columns, categories


def _ids(
    raw: pd.Series | None,
    row: np.ndarray,
    rej: _Rejections,
    notes: list[str],
    warnings: list[str],
) -> np.ndarray:
    """Ids as strings; missing ids become "rad-N"; later duplicates are rejected."""

    def row_ids(mask: np.ndarray) -> pd.Series:
        return pd.Series(["rad-" + str(r) for r in row[mask]], dtype="str")

    if raw is None:
        notes.append("ingen id-kolumn: id är 'rad-' och radnumret")
        return pd.Series(row_ids(np.ones(len(row), bool)).to_numpy(), dtype="str")
    ids = _text(raw).reset_index(drop=True)
    blank = ids.isna().to_numpy()
    if blank.any():
        warnings.append(
            f"{int(blank.sum())} rader saknar id och fick 'rad-' och radnumret som id; "
            f"t.ex. rad {row[blank][0]}."
        )
        ids[blank] = row_ids(blank).to_numpy()
    ok_idx = np.flatnonzero(rej.ok)
    # codes are numbered in order of first appearance
    codes, _ = pd.factorize(ids.iloc[ok_idx] if len(ok_idx) < len(ids) else ids)
    first_pos = np.unique(codes, return_index=True)[1]
    dup = np.ones(len(codes), dtype=bool)
    dup[first_pos] = False
    if dup.any():
        first_rows = row[ok_idx][first_pos[codes[dup]]]
        detail = np.full(len(ids), None, dtype=object)
        detail[ok_idx[dup]] = [f"dubblett av rad {r}" for r in first_rows]
        mask = np.zeros(len(ids), bool)
        mask[ok_idx[dup]] = True
        rej.add(mask, REASON_DUPLICATE, detail)
    return ids


def _column(table: _Table, found: Mapping[str, str], role: str) -> pd.Series | None:
    return table.data[found[role]] if role in found else None


def _rejected_frame(table: _Table, rej: _Rejections) -> pd.DataFrame:
    bad = ~rej.ok
    raw = table.data.loc[bad].reset_index(drop=True)
    raw = raw.rename(columns={c: f"{c} (fil)" for c in raw.columns if c in (schema.ROW, "reason")})
    if table.geometry is not None:
        geoms = table.geometry[bad]
        raw["geometry"] = shapely.to_wkt(geoms, rounding_precision=6)
    out = pd.concat(
        [pd.DataFrame({schema.ROW: table.row[bad], "reason": rej.detail[bad].astype(str)}), raw],
        axis=1,
    )
    if not table.bad_lines:
        return out
    lines = pd.DataFrame(
        {
            schema.ROW: [r for r, _ in table.bad_lines],
            "reason": REASON_BAD_FIELDS,
            "rådata": [text for _, text in table.bad_lines],
        }
    )
    return pd.concat([out, lines]).sort_values(schema.ROW, kind="stable").reset_index(drop=True)


def _finish(
    table: _Table,
    rej: _Rejections,
    columns: dict[str, object],
    located: _Located,
    warnings: list[str],
    notes: list[str],
    time_range: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> LoadResult:
    ok = rej.ok
    frame_cols = {
        k: v.reset_index(drop=True)[ok].reset_index(drop=True)
        if isinstance(v, pd.Series)
        else np.asarray(v)[ok]
        for k, v in columns.items()
    }
    frame_cols[schema.ROW] = table.row[ok].astype("int64")
    frame = gpd.GeoDataFrame(
        frame_cols,
        geometry=gpd.GeoSeries(located.geometry[ok], crs=schema.CRS_METRIC),
        crs=schema.CRS_METRIC,
    )
    kinds = pd.Series(rej.kind[~ok], dtype=object)
    if table.bad_lines:
        kinds = pd.concat([kinds, pd.Series([REASON_BAD_FIELDS] * len(table.bad_lines))])
    reasons = {str(k): int(v) for k, v in kinds.value_counts().items()}
    rejected = _rejected_frame(table, rej)
    rows = len(table.row) + len(table.bad_lines)
    if len(frame) + len(rejected) != rows:  # an internal invariant, never user input
        raise RuntimeError("loaded + rejected != rows read")
    return LoadResult(
        frame=frame,
        rows=rows,
        rejected=rejected,
        reasons=reasons,
        warnings=table.warnings + warnings,
        notes=notes,
        crs=located.crs,
        time_range=time_range,
    )


def _stack_warning(lon: np.ndarray, lat: np.ndarray, what: str) -> list[str]:
    """Warn about coordinates shared by many points (a geocoding fallback, not a hotspot)."""
    if len(lon) < STACK_MIN_COUNT:
        return []
    key = np.ascontiguousarray(np.column_stack([lon, lat])).view(np.complex128).ravel()
    codes, uniques = pd.factorize(key)
    counts = np.bincount(codes)
    big = np.flatnonzero(counts >= STACK_MIN_COUNT)
    if big.size == 0:
        return []
    top = big[np.argmax(counts[big])]
    return [
        f"{int(counts[big].sum())} {what} ligger på exakt samma koordinat som minst "
        f"{STACK_MIN_COUNT - 1} andra, på {big.size} {'plats' if big.size == 1 else 'platser'} "
        f"(flest, {int(counts[top])}, vid {uniques[top].imag:.5f} N {uniques[top].real:.5f} Ö). "
        "Det kan vara en mittpunkt där händelser utan adress placerats och ger då en falsk hotspot."
    ]


def _required_time(table: _Table, found: Mapping[str, str]) -> pd.Series:
    if "time" in found:
        return table.data[found["time"]]
    if "date" in found and "clock" in found:
        date = _text(table.data[found["date"]]).astype("str")
        clock = (
            _text(table.data[found["clock"]])
            .astype("str")
            .str.replace(r"^(?:kl\.?\s*)?(\d{1,2})[.:]?(\d{2})$", r"\1:\2", regex=True)
            .str.zfill(5)
        )
        return date + " " + clock
    raise InputError(
        f"Filen {table.name} saknar en tidskolumn; hittade kolumnerna: "
        f"{', '.join(map(str, table.data.columns))}."
    )


# --- public loaders -----------------------------------------------------------------------
def load_incidents(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | str | Path | None = None,
    category_map: Mapping[str, str] | str | Path | None = None,
    layer: str | None = None,
    crs: str | int | None = None,
    time_format: str | None = None,
    strict_categories: bool = False,
) -> LoadResult:
    """Load and validate an incident file.

    Parameters
    ----------
    path : str or Path
        CSV, GeoJSON, GeoPackage, Shapefile (.shp or .zip) or (Geo)Parquet.
    mapping : dict or path, optional
        Role -> column (roles ``lon, lat, x, y, time, date, clock, category, id, weight``),
        or a TOML file with ``[columns]`` (and optionally ``[categories]``). Roles not given
        are guessed from the column names; guesses are listed in ``notes``.
    category_map : dict or path, optional
        Raw offence name or code -> Lägesbild category, or a TOML file. Merged over
        `schema.DEFAULT_CATEGORY_MAP`; matching ignores case and extra spaces.
    layer : str, optional
        Layer of a GeoPackage (or zip) with several.
    crs : str or int, optional
        CRS of x/y columns (required for them), or of a vector file that declares none.
    time_format : str, optional
        `strftime` format of the time column instead of ISO 8601.
    strict_categories : bool, default False
        Reject rows whose category is not in the map (reason "okänd kategori") instead of
        loading them as "övrigt" with a warning.

    Returns
    -------
    LoadResult
        ``frame`` has `id, occurred_at, category, raw_category, weight, row, geometry`, and
        `occurred_until` (the end of a span, NaT for a moment) when the file has an end-time
        column (``tid_till``, ``brottstid_till``, ... or the role ``until``).

    Raises
    ------
    InputError
        Structural problems: unreadable or empty file, no time or coordinate columns, an
        undeclared or unknown CRS, swapped lon/lat.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "h.csv")
    >>> _ = open(p, "w").write("id,tid,brottstyp,lon,lat\\n1,2018-03-02 23:30,misshandel,17.83,59.42\\n"
    ...                        "2,2018-03-02 23:45,misshandel,0,0\\n")
    >>> res = load_incidents(p)
    >>> res.rows, res.loaded, res.reasons
    (2, 1, {'utanför Sverige': 1})
    >>> res.frame.loc[0, "category"], str(res.frame.loc[0, "occurred_at"])
    ('våld på offentlig plats', '2018-03-02 23:30:00+01:00')
    """
    explicit, categories = _resolve_mapping(mapping, category_map)
    cmap = build_category_map(categories)
    roles = ("id", "lon", "lat", "x", "y", "time", "until", "date", "clock", "category", "weight")
    table = _read_table(path, layer, columns=_parquet_columns(path, roles, explicit))
    found, notes = guess_columns(table.data.columns, roles, explicit, file_name=table.name)
    raw_time = _required_time(table, found)
    warnings: list[str] = []
    rej = _Rejections(len(table.row))
    located = _locate(table, found, explicit, crs, rej, warnings, _POINT)

    times, gap, amb = parse_times(raw_time, time_format=time_format)
    blank_time = _blank(raw_time)
    rej.add(blank_time, REASON_NO_TIME)
    rej.add(times.isna().to_numpy(), REASON_BAD_TIME)
    until = _until(table, found, times, time_format, rej)

    if "category" in found:
        raw_cat = _text(table.data[found["category"]])
        cats, mapped = map_values(raw_cat, cmap, "övrigt")
        if strict_categories:
            rej.add(~mapped, REASON_UNKNOWN_CATEGORY)
    else:
        raw_cat = pd.Series([None] * len(table.row), dtype="str")
        cats, mapped = (
            np.full(len(table.row), "övrigt", dtype=object),
            np.ones(len(table.row), bool),
        )
        warnings.append(
            f"Filen {table.name} har ingen kategorikolumn; alla händelser fick kategorin övrigt."
        )

    if "weight" in found:
        raw_w = table.data[found["weight"]]
        w = _to_number(raw_w)
        w_blank = _blank(raw_w)
        rej.add(~w_blank & ~(np.isfinite(w) & (w >= 0)), REASON_BAD_WEIGHT)
        weight = np.where(w_blank, 1.0, w)
    else:
        weight = np.ones(len(table.row))

    ids = _ids(_column(table, found, "id"), table.row, rej, notes, warnings)
    ok = rej.ok
    unmapped = ok & ~mapped
    if unmapped.any():
        counts = raw_cat[unmapped].fillna("(tom)").value_counts()
        listed = ", ".join(f"'{k}' ({v})" for k, v in counts.head(10).items())
        more = f" och {len(counts) - 10} till" if len(counts) > 10 else ""
        warnings.append(
            f"{int(unmapped.sum())} "
            f"{'händelse har en kategori' if unmapped.sum() == 1 else 'händelser har kategorier'}"
            f" som saknas i kategorimappningen och fick kategorin övrigt: {listed}{more}."
        )
    warnings += _time_warnings(gap, amb, table.row, ok)
    warnings += _stack_warning(located.lon[ok], located.lat[ok], "händelser")
    loaded_times = times[ok]
    if len(loaded_times) and (loaded_times.dt.hour.eq(0) & loaded_times.dt.minute.eq(0)).all():
        warnings.append(
            "Alla tider är 00:00: filen verkar bara ha datum, så tid på dygnet kan inte analyseras."
        )
    time_range = (loaded_times.min(), loaded_times.max()) if len(loaded_times) else None
    return _finish(
        table,
        rej,
        {
            schema.ID: ids,
            schema.OCCURRED_AT: times,
            schema.CATEGORY: cats,
            schema.RAW_CATEGORY: raw_cat,
            schema.WEIGHT: weight.astype(float),
            **({} if until is None else {schema.OCCURRED_UNTIL: until}),
        },
        located,
        warnings,
        notes,
        time_range,
    )


def _until(table: _Table, found: Mapping[str, str], times: pd.Series, time_format, rej):
    """The optional end of each incident's span (NaT where blank): rows whose end cannot be
    read or lies before the start are rejected ("ogiltig sluttid")."""
    if "until" not in found:
        return None
    raw = table.data[found["until"]]
    until, _gap, _amb = parse_times(raw, time_format=time_format)
    blank = _blank(raw)
    bad = ~blank & (until.isna().to_numpy() | (until < times.reset_index(drop=True)).to_numpy())
    rej.add(bad, REASON_BAD_UNTIL)
    return until


def load_dialogue(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | str | Path | None = None,
    layer: str | None = None,
    crs: str | int | None = None,
    time_format: str | None = None,
) -> LoadResult:
    """Load and validate dialogue places (otrygga platser, residents' proposals).

    Parameters
    ----------
    path : str or Path
        CSV with lon/lat (or x/y and `crs`), or a vector file with points or polygons.
    mapping : dict or path, optional
        Role -> column (roles ``id, lon, lat, x, y, reason, reason_category, time_of_day,
        mentions, dialogue_round, dialogue_date``) or a TOML file with ``[columns]``.
    layer, crs, time_format
        As for `load_incidents`; `time_format` applies to the dialogue date.

    Returns
    -------
    LoadResult
        ``frame`` has `id, reason, reason_category, time_of_day, mentions, dialogue_round,
        dialogue_date, row, geometry`. A missing ``reason_category`` column is derived from
        the free-text reason by keywords (said in ``notes``); unknown categories become
        "annat" and unknown times of day missing, with a warning.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> _ = open(p, "w").write("lon,lat,reason,mentions\\n17.83,59.42,mörk gångtunnel,3\\n")
    >>> res = load_dialogue(p)
    >>> res.frame.loc[0, "reason_category"], int(res.frame.loc[0, "mentions"])
    ('dålig belysning', 3)
    """
    explicit, _ = _resolve_mapping(mapping, None)
    table = _read_table(path, layer)
    roles = (
        "id", "lon", "lat", "x", "y", "reason", "reason_category", "time_of_day", "mentions",
        "dialogue_round", "dialogue_date",
    )  # fmt: skip
    found, notes = guess_columns(table.data.columns, roles, explicit, file_name=table.name)
    n = len(table.row)
    warnings: list[str] = []
    rej = _Rejections(n)
    located = _locate(table, found, explicit, crs, rej, warnings, _POINT + _POLYGONAL)

    def col(role: str) -> pd.Series:
        if role in found:
            return _text(table.data[found[role]]).reset_index(drop=True)
        return pd.Series([None] * n, dtype="str")

    reason = col("reason")
    if "reason_category" in found:
        allowed = {c: c for c in schema.REASON_CATEGORIES}
        allowed.update({"belysning": "dålig belysning", "stök": "stök/ordningsstörning",
                        "ordningsstörning": "stök/ordningsstörning", "övrigt": "annat"})  # fmt: skip
        raw_rc = col("reason_category")
        reason_cat, known = map_values(raw_rc, allowed, "annat")
        unknown = ~known & raw_rc.notna().to_numpy()
        if unknown.any():
            names = ", ".join(f"'{k}'" for k in raw_rc[unknown].value_counts().index[:10])
            warnings.append(
                f"{int(unknown.sum())} platser har en okänd anledningskategori och fick 'annat': "
                f"{names}; tillåtna: {', '.join(schema.REASON_CATEGORIES)}."
            )
    else:
        reason_cat = np.full(n, "annat", dtype=object)
        lowered = reason.fillna("").str.casefold()
        for cat, pattern in reversed(_REASON_KEYWORDS.items()):
            reason_cat[lowered.str.contains(pattern, regex=True).to_numpy()] = cat
        if "reason" in found:
            notes.append("anledningskategori härledd ur fritexten i anledningen med nyckelord")

    raw_tod = col("time_of_day")
    tod, tod_ok = map_values(raw_tod, _TIMES_OF_DAY, None)
    bad_tod = ~tod_ok & raw_tod.notna().to_numpy()
    if bad_tod.any():
        warnings.append(
            f"{int(bad_tod.sum())} platser har en okänd tid på dygnet och fick ingen; "
            f"tillåtna: {', '.join(schema.TIMES_OF_DAY)}."
        )
    tod = np.where(tod_ok, tod, None)

    if "mentions" in found:
        raw_m = table.data[found["mentions"]]
        m = _to_number(raw_m)
        m_blank = _blank(raw_m)
        rej.add(~m_blank & ~(np.isfinite(m) & (m >= 1) & (m == np.round(m))), REASON_BAD_MENTIONS)
        mentions = np.where(m_blank | ~np.isfinite(m), 1, m).astype("int64")
    else:
        mentions = np.ones(n, dtype="int64")

    raw_date = (
        table.data[found["dialogue_date"]] if "dialogue_date" in found else pd.Series([None] * n)
    )
    dates, _, _ = parse_times(raw_date, time_format=time_format)
    dates = dates.dt.normalize()
    bad_date = dates.isna().to_numpy() & ~_blank(raw_date)
    if bad_date.any():
        warnings.append(
            f"{int(bad_date.sum())} dialogdatum kunde inte tolkas och lämnades tomma; "
            f"t.ex. rad {table.row[bad_date][0]}."
        )

    ids = _ids(_column(table, found, "id"), table.row, rej, notes, warnings)
    ok = rej.ok
    time_range = (dates[ok].min(), dates[ok].max()) if dates[ok].notna().any() else None
    return _finish(
        table,
        rej,
        {
            schema.ID: ids,
            schema.REASON: reason,
            schema.REASON_CATEGORY: reason_cat,
            schema.TIME_OF_DAY: tod,
            schema.MENTIONS: mentions,
            schema.DIALOGUE_ROUND: col("dialogue_round"),
            schema.DIALOGUE_DATE: dates,
        },
        located,
        warnings,
        notes,
        time_range,
    )


def load_boundaries(
    path: str | Path,
    *,
    id_col: str | None = None,
    name_col: str | None = None,
    level: str | None = None,
    layer: str | None = None,
    crs: str | int | None = None,
) -> LoadResult:
    """Load and validate area boundaries (kommun, LPO, kommundel, stadsdel).

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage, Shapefile (.shp or .zip) or GeoParquet with polygons.
    id_col, name_col : str, optional
        Columns with the area's id and name; guessed when not given (``notes``). Without an
        id column the name is the id (or the row number, where names repeat).
    level : str, optional
        One of `schema.AREA_LEVELS` for every area; otherwise a ``level`` column, otherwise
        guessed from the column names and file name (said in ``notes``).
    layer : str, optional
        Layer of a GeoPackage (or zip) with several.
    crs : str or int, optional
        CRS for a file that declares none (a shapefile without .prj).

    Returns
    -------
    LoadResult
        ``frame`` has `area_id, area_name, level, parent_id, row, geometry` with valid
        Polygon/MultiPolygon geometries (invalid ones repaired with make_valid, and said so).

    Raises
    ------
    InputError
        Structural problems, and a `level` that is not one of `schema.AREA_LEVELS`.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.geojson")
    >>> gpd.GeoDataFrame({"namn": ["Jakobsberg"]}, geometry=[shapely.box(17.8, 59.4, 17.85, 59.44)],
    ...                  crs=4326).to_file(p)
    >>> res = load_boundaries(p, level="kommundel")
    >>> res.frame.loc[0, ["area_id", "area_name", "level"]].tolist(), res.frame.crs.to_epsg()
    (['Jakobsberg', 'Jakobsberg', 'kommundel'], 3006)
    """
    if level is not None and level not in schema.AREA_LEVELS:
        raise InputError(
            f"Nivån '{level}' finns inte; tillåtna nivåer: {', '.join(schema.AREA_LEVELS)}."
        )
    table = _read_table(path, layer)
    explicit = {k: v for k, v in (("area_id", id_col), ("area_name", name_col)) if v}
    roles = ("area_id", "area_name", "level", "parent_id")
    found, notes = guess_columns(table.data.columns, roles, explicit, file_name=table.name)
    n = len(table.row)
    warnings: list[str] = []
    rej = _Rejections(n)
    located = _locate(table, found, explicit, crs, rej, warnings, _POLYGONAL)

    names = _text(table.data[found["area_name"]]) if "area_name" in found else None
    if "area_id" in found:
        ids_raw = _text(table.data[found["area_id"]])
    elif names is not None and not names.duplicated().any():
        ids_raw = names
        notes.append(f"ingen id-kolumn: områdets namn ('{found['area_name']}') används som id")
    else:
        ids_raw = pd.Series(table.row.astype(str), dtype="str")
        notes.append("ingen id-kolumn: radnumret används som id")
    if names is None:
        names = ids_raw
        notes.append("ingen namnkolumn: id används som namn")
    rej.add(names.isna().to_numpy(), REASON_NO_NAME)

    if level is not None:
        levels = np.full(n, level, dtype=object)
    elif "level" in found:
        levels, known = map_values(
            _text(table.data[found["level"]]), {lv: lv for lv in schema.AREA_LEVELS}, ""
        )
        rej.add(~known, REASON_BAD_LEVEL)
    else:
        guess = _guess_level(table.name, [str(c) for c in table.data.columns])
        levels = np.full(n, guess, dtype=object)
        notes.append(f"nivån gissad som '{guess}' (ange nivån för att vara säker)")
    parents = (
        _text(table.data[found["parent_id"]])
        if "parent_id" in found
        else pd.Series([None] * n, dtype="str")
    )
    ids = _ids(ids_raw, table.row, rej, [], warnings)
    return _finish(
        table,
        rej,
        {
            schema.AREA_ID: ids,
            schema.AREA_NAME: names,
            schema.LEVEL: levels,
            schema.PARENT_ID: parents,
        },
        located,
        warnings,
        notes,
    )


def _guess_level(file_name: str, columns: list[str]) -> str:
    text = " ".join([file_name, *columns]).casefold()
    for word, lv in (("stadsdel", "stadsdel"), ("kommundel", "kommundel"), ("lpo", "lpo"),
                     ("polis", "lpo"), ("kommun", "kommun"), ("municipal", "kommun"), ("kom_namn", "kommun")):  # fmt: skip
        if word in text:
            return lv
    return "kommundel"


def load_gazetteer(
    path: str | Path, *, layer: str | None = None, crs: str | int | None = None
) -> LoadResult:
    """Load named places (stations, centres, squares) used to name zones.

    Parameters
    ----------
    path : str or Path
        CSV with ``name``, ``kind``, ``lon``, ``lat`` (or x/y and `crs`), or a point file.
    layer, crs
        As for `load_incidents`.

    Returns
    -------
    LoadResult
        ``frame`` has `name, kind, row, geometry` (points, EPSG:3006).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "g.csv")
    >>> _ = open(p, "w").write("name,kind,lon,lat\\nJakobsbergs station,station,17.8336,59.4236\\n")
    >>> load_gazetteer(p).frame.loc[0, "name"]
    'Jakobsbergs station'
    """
    table = _read_table(path, layer)
    found, notes = guess_columns(table.data.columns, ("name", "kind", "lon", "lat", "x", "y"), None,
                                 file_name=table.name)  # fmt: skip
    if "name" not in found:
        raise InputError(
            f"Filen {table.name} saknar en namnkolumn; hittade kolumnerna: "
            f"{', '.join(map(str, table.data.columns))}."
        )
    rej = _Rejections(len(table.row))
    warnings: list[str] = []
    located = _locate(table, found, {}, crs, rej, warnings, _POINT)
    names = _text(table.data[found["name"]])
    rej.add(names.isna().to_numpy(), REASON_NO_NAME)
    kinds = (
        _text(table.data[found["kind"]])
        if "kind" in found
        else pd.Series([None] * len(names), dtype="str")
    )
    return _finish(
        table,
        rej,
        {
            schema.PLACE_NAME: names,
            schema.PLACE_KIND: kinds,
        },
        located,
        warnings,
        notes,
    )


# --- areas --------------------------------------------------------------------------------
def _finest_level(areas: gpd.GeoDataFrame, level: str | None) -> gpd.GeoDataFrame:
    if level is not None:
        if level not in schema.AREA_LEVELS:
            raise ValueError(f"`level` was {level!r} but is expected to be in {schema.AREA_LEVELS}")
        return areas[areas[schema.LEVEL] == level]
    if schema.LEVEL not in areas.columns:
        return areas
    present = [lv for lv in schema.AREA_LEVELS if (areas[schema.LEVEL] == lv).any()]
    return areas[areas[schema.LEVEL] == present[-1]] if present else areas


def assign_areas(
    points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, level: str | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Give each point the area it lies in; list the points that lie in none.

    Parameters
    ----------
    points : GeoDataFrame
        Incidents or dialogue places (any CRS; compared in the areas' CRS).
    areas : GeoDataFrame
        Areas with `area_id`, `area_name` (and `level`).
    level : str, optional
        Use only areas of this level. Default: each point gets the innermost area that holds
        it — the finest level (order of `schema.AREA_LEVELS`) among the areas it lies in, so
        a point gets its stadsdel or kommundel rather than its kommun, also when one file
        holds kommundelar for one kommun and stadsdelar for another. Without a `level`
        column, the smallest area that holds it.

    Returns
    -------
    (GeoDataFrame, DataFrame)
        A copy of `points` with `area_id` and `area_name` (missing for points outside every
        area; a point on a shared border gets the first area in `areas`' order), and the
        points outside every area: `row` (or the index where there is no `row`), `id` when
        present, and `reason` "utanför alla områden".

    Examples
    --------
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"], "level": ["kommundel"]},
    ...                          geometry=[shapely.box(0, 0, 10, 10)], crs=3006)
    >>> pts = gpd.GeoDataFrame({"row": [2, 3]}, geometry=shapely.points([5, 50], [5, 5]), crs=3006)
    >>> framed, outside = assign_areas(pts, areas)
    >>> framed["area_id"].tolist(), outside["row"].tolist()
    (['a', None], [3])
    """
    for arg, frame in (("points", points), ("areas", areas)):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise TypeError(
                f"`{arg}` was {type(frame).__name__} but is expected to be a GeoDataFrame"
            )
    chosen = areas if level is None else _finest_level(areas, level)
    pts = points.to_crs(chosen.crs) if points.crs != chosen.crs else points
    hit = shapely.STRtree(chosen.geometry.values).query(pts.geometry.values, predicate="intersects")
    pt_idx, area_idx = hit
    # Innermost first: the finest level that holds the point (a Järfälla point gets its
    # kommundel, a Farsta point its stadsdel, in one file); without levels, the smallest area.
    if schema.LEVEL in chosen.columns:
        rank = chosen[schema.LEVEL].map({lv: i for i, lv in enumerate(schema.AREA_LEVELS)})
        depth = -rank.fillna(-1).to_numpy(dtype=float)
    else:
        depth = chosen.geometry.area.to_numpy(dtype=float)
    order = np.lexsort((area_idx, depth[area_idx], pt_idx))
    pt_idx, area_idx = pt_idx[order], area_idx[order]
    first = np.unique(pt_idx, return_index=True)[1]
    pick = np.full(len(pts), -1)
    pick[pt_idx[first]] = area_idx[first]
    inside = pick >= 0
    out = points.copy()
    for col in (schema.AREA_ID, schema.AREA_NAME):
        vals = np.full(len(pts), None, dtype=object)
        vals[inside] = chosen[col].to_numpy(dtype=object)[pick[inside]]
        out[col] = pd.Series(vals, index=out.index, dtype=object)
    outside_cols = {}
    rows = (
        points[schema.ROW].to_numpy() if schema.ROW in points.columns else points.index.to_numpy()
    )
    outside_cols[schema.ROW] = rows[~inside]
    if schema.ID in points.columns:
        outside_cols[schema.ID] = points[schema.ID].to_numpy()[~inside]
    outside_cols["reason"] = REASON_OUTSIDE_AREAS
    return out, pd.DataFrame(outside_cols)


def flag_centre_points(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    tolerance_m: float = CENTRE_TOLERANCE_M,
    min_count: int = CENTRE_MIN_COUNT,
) -> gpd.GeoDataFrame:
    """Flag points stacked on one coordinate at an area's centre point (a geocoding fallback).

    A coordinate shared by at least `min_count` points is a stack. A stack within
    `tolerance_m` of any area's centroid or representative point (`point_on_surface`) is
    where a system put events it could not place; its points get
    ``schema.AT_AREA_CENTRE = True``. Stacks elsewhere (a station, a shopping centre: a real
    address) are left alone, as are all unstacked points.

    Parameters
    ----------
    incidents : GeoDataFrame
        Points, in a metric CRS (EPSG:3006).
    areas : GeoDataFrame
        Areas of any levels, same CRS.
    tolerance_m : float, default 150
        Distance from the centre point within which a stack counts as a fallback, metres.
    min_count : int, default 10
        Points needed on one coordinate to be a stack.

    Returns
    -------
    GeoDataFrame
        A copy of `incidents` with a boolean ``at_area_centre`` column.

    Examples
    --------
    >>> areas = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000)], crs=3006)
    >>> xs = [500] * 10 + [900] * 10 + [100]   # 10 at the centre, 10 at a station, 1 alone
    >>> pts = gpd.GeoDataFrame(geometry=shapely.points(xs, [500] * 10 + [900] * 10 + [100]),
    ...                        crs=3006)
    >>> flag_centre_points(pts, areas)["at_area_centre"].sum()
    np.int64(10)
    """
    if tolerance_m < 0:
        raise ValueError(f"`tolerance_m` was {tolerance_m} but is expected to be >= 0")
    if min_count < 2:
        raise ValueError(f"`min_count` was {min_count} but is expected to be >= 2")
    if incidents.crs is None or not incidents.crs.is_projected:
        raise ValueError(
            f"`incidents` CRS was {incidents.crs} but is expected to be metric (EPSG:3006)"
        )
    areas = areas.to_crs(incidents.crs) if areas.crs != incidents.crs else areas
    out = incidents.copy()
    flags = np.zeros(len(out), dtype=bool)
    geoms = out.geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    x = np.where(is_point, shapely.get_x(geoms), np.nan)
    y = np.where(is_point, shapely.get_y(geoms), np.nan)
    key = np.ascontiguousarray(np.column_stack([x, y])).view(np.complex128).ravel()
    codes, uniques = pd.factorize(key)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    stacks = np.flatnonzero((counts >= min_count) & np.isfinite(uniques.real))
    if stacks.size and len(areas):
        centres = np.concatenate(
            [
                shapely.centroid(areas.geometry.values),
                shapely.point_on_surface(areas.geometry.values),
            ]
        )
        stack_pts = shapely.points(uniques[stacks].real, uniques[stacks].imag)
        near = shapely.STRtree(centres).query(stack_pts, predicate="dwithin", distance=tolerance_m)[
            0
        ]
        flags = np.isin(codes, stacks[np.unique(near)])
    out[schema.AT_AREA_CENTRE] = flags
    return out
