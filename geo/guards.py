"""Hardening of inputs: upload limits, zip bombs, enormous GeoJSON, and data retention.

* **Type and size per kind** (`check_upload`): a file's suffix must be one the importers read
  and its size under the limit for that format (`MAX_BYTES`). Streamlit's own
  ``server.maxUploadSize`` (200 MB) is the outer bound; these are tighter.
* **Zipped shapefiles** (`check_zip`): GDAL decompresses a zip on the fly, so a small zip can
  expand to gigabytes. Before any reading, the zip's directory is checked: at most
  `MAX_ZIP_MEMBERS` members, at most `MAX_ZIP_UNCOMPRESSED_BYTES` in total, and no member
  compressed more than `MAX_ZIP_RATIO` times; nested zips and absolute or ``..`` paths are
  refused. The sizes come from the zip directory, which an attacker writes; GDAL reads through
  a stream that stops at the declared size, so a lying directory only truncates the member.
* **GeoJSON** (`check_geojson`): before GDAL parses it, the file is scanned in chunks for
  ``"Feature"`` type tags (JSON ``\\u00XX`` escapes decoded first, so ``"typ\\u0065"`` counts
  too); more than `MAX_GEOJSON_FEATURES` is refused without parsing. A GeoJSON inside a zip
  is scanned the same way, through the zip stream.
* **GeoPackage** (`check_geopackage`): a GeoPackage is an SQLite database whose layers may
  be views, and a view may be a query that never ends (``WITH RECURSIVE … UNION ALL …``).
  Before GDAL opens it, every layer is counted with SQLite's own reader under a budget of
  `GPKG_COUNT_BUDGET_S` seconds and `MAX_FEATURES` rows.
* **Parquet** (`check_parquet`): the footer says how many rows and bytes the file will
  expand to; more than `MAX_FEATURES` rows or `MAX_PARQUET_UNCOMPRESSED_BYTES` is refused
  before any column is read.
* **Hostile readers in a box** (`run_limited`): GDAL and Parquet reads run in a child process
  (forked from a preloaded server, ~40 ms) with an address-space limit (`read_memory_bytes`,
  env ``LAGESBILD_READ_MEMORY_MB``, default 2048) and a time limit (`read_timeout_s`, env
  ``LAGESBILD_READ_TIMEOUT_S``, default 60). Whatever a file does to its reader, the server
  keeps its memory and its cores; the user gets one Swedish sentence.
* **Retention** (`purge_older_than`): imported incidents older than a configurable period
  (env ``LAGESBILD_RETENTION_DAYS``, `retention_days`) are dropped when the data is used.

`check_file` runs the checks that fit a file's type; `geo.io` calls it before reading any
file, and the Data page calls `check_upload` before writing an upload to disk.

**Local files** (`local_files`): the limits above are for uploads from a browser. The
command line and other server-side paths read the analyst's own files, which may hold
15 million incidents: inside ``with local_files(max_mb):`` a file may be as large as
``max_mb`` (the CLI option ``--max-file-mb``, else env ``LAGESBILD_MAX_FILE_MB``, else no
limit: as large as the machine allows), the row counts of GeoJSON, GeoPackage and Parquet
are not capped, and readers run in the process itself (a child process would send every
column back through a pipe: a second copy of the data). Zip bombs are still refused.
`geo.cli` enters it for every command; the web app never does.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import multiprocessing
import os
import re
import resource
import sqlite3
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import schema
from geo.errors import InputError

MB = 1024 * 1024
#: Largest upload per suffix, in bytes.
MAX_BYTES: dict[str, int] = {
    ".csv": 100 * MB,
    ".txt": 100 * MB,
    ".tsv": 100 * MB,
    ".geojson": 100 * MB,
    ".json": 100 * MB,
    ".gpkg": 200 * MB,
    ".zip": 100 * MB,
    ".parquet": 100 * MB,
    ".geoparquet": 100 * MB,
    ".fgb": 200 * MB,
    ".shp": 200 * MB,
}
#: Suffixes the Data page accepts for each kind of upload.
UPLOAD_TYPES: dict[str, tuple[str, ...]] = {
    "incidents": ("csv", "geojson", "json", "gpkg", "zip", "parquet"),
    "dialogue": ("csv", "geojson", "json", "gpkg", "zip", "parquet"),
    "areas": ("geojson", "json", "gpkg", "zip", "parquet"),
    "gazetteer": ("csv", "geojson", "json", "gpkg", "zip", "parquet"),
}
MAX_ZIP_MEMBERS = 64
MAX_ZIP_UNCOMPRESSED_BYTES = 1024 * MB
MAX_ZIP_RATIO = 100
MAX_GEOJSON_FEATURES = 1_000_000
#: Most rows a GeoPackage layer or a Parquet file may have.
MAX_FEATURES = 2_000_000
#: Most bytes a Parquet file's columns may expand to (its footer says).
MAX_PARQUET_UNCOMPRESSED_BYTES = 2048 * MB
#: Seconds SQLite may spend counting a GeoPackage layer before the file is refused.
GPKG_COUNT_BUDGET_S = 3.0
RETENTION_ENV = "LAGESBILD_RETENTION_DAYS"
READ_TIMEOUT_ENV = "LAGESBILD_READ_TIMEOUT_S"
READ_MEMORY_ENV = "LAGESBILD_READ_MEMORY_MB"
DEFAULT_READ_TIMEOUT_S = 60.0
DEFAULT_READ_MEMORY_MB = 2048
#: Largest local file (CLI, server-side paths) in MB; unset: no limit.
MAX_FILE_ENV = "LAGESBILD_MAX_FILE_MB"

_FEATURE_TAG = re.compile(rb'"type"\s*:\s*"Feature"')
_ASCII_ESCAPE = re.compile(rb"\\u00([0-7][0-9a-fA-F])")
_CHUNK = 4 * MB


def _fmt_mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:.1f}".replace(".", ",") + " MB"


# --- local files: the analyst's own, on the command line or the server ----------------------
@dataclass(frozen=True)
class LocalLimits:
    """Limits for local files (see `local_files`); ``max_bytes`` None: no size limit."""

    max_bytes: int | None = None
    source: str = "ingen gräns"


_local: contextvars.ContextVar[LocalLimits | None] = contextvars.ContextVar(
    "lagesbild_local_files", default=None
)


def local_limits(max_mb: float | None = None) -> LocalLimits:
    """The local-file limits: ``max_mb`` if given, else env ``LAGESBILD_MAX_FILE_MB``, else
    no limit.

    Raises
    ------
    InputError
        For a limit that is not a positive number.

    Examples
    --------
    >>> local_limits(500).max_bytes == 500 * MB
    True
    >>> local_limits(0)
    Traceback (most recent call last):
    ...
    geo.errors.InputError: --max-file-mb var 0; ange ett positivt antal MB.
    """
    if max_mb is not None:
        if not (isinstance(max_mb, int | float) and max_mb > 0):
            raise InputError(f"--max-file-mb var {max_mb:g}; ange ett positivt antal MB.")
        return LocalLimits(int(max_mb * MB), f"--max-file-mb {max_mb:g}")
    if os.environ.get(MAX_FILE_ENV, "").strip():
        value = _env_number(MAX_FILE_ENV, 0)
        return LocalLimits(int(value * MB), f"{MAX_FILE_ENV}={value:g}")
    return LocalLimits()


@contextlib.contextmanager
def local_files(max_mb: float | None = None) -> Iterator[LocalLimits]:
    """Within the block, files are the user's own local files, not uploads.

    The upload limits (`MAX_BYTES`, feature and row counts, the reader in a child process)
    give way to `local_limits` (``max_mb``, env ``LAGESBILD_MAX_FILE_MB``, or none); zip
    bombs are still refused. The web app's uploads are never read inside this block.

    Examples
    --------
    >>> with local_files(1) as limits:
    ...     limits.max_bytes == MB and reading_local_files()
    True
    >>> reading_local_files()
    False
    """
    token = _local.set(local_limits(max_mb))
    try:
        yield _local.get()
    finally:
        _local.reset(token)


def reading_local_files() -> bool:
    """True inside `local_files`."""
    return _local.get() is not None


def _check_local_size(path: Path, limits: LocalLimits) -> None:
    size = path.stat().st_size
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise InputError(
            f"Filen {path.name} är {_fmt_mb(size)}; största tillåtna storlek är "
            f"{_fmt_mb(limits.max_bytes)} ({limits.source}). Ändra gränsen med "
            f"--max-file-mb eller {MAX_FILE_ENV}."
        )


def check_upload(name: str, size_bytes: int, *, kind: str | None = None) -> None:
    """Refuse an upload of the wrong type or over the size limit for its format.

    Parameters
    ----------
    name : str
        The file name as uploaded (only its suffix is used).
    size_bytes : int
        Its size.
    kind : str, optional
        ``incidents``, ``dialogue``, ``areas`` or ``gazetteer``: the suffix must be in
        `UPLOAD_TYPES`.

    Raises
    ------
    InputError
        For an unsupported suffix or a file over `MAX_BYTES` for it.

    Examples
    --------
    >>> check_upload("brott.csv", 10_000, kind="incidents")
    >>> check_upload("brott.exe", 10, kind="incidents")
    Traceback (most recent call last):
    ...
    geo.errors.InputError: Filen brott.exe har en filtyp som inte tas emot (.exe); tillåtna är csv, geojson, json, gpkg, zip, parquet.
    """
    suffix = Path(str(name)).suffix.lower()
    types = UPLOAD_TYPES.get(kind) if kind is not None else None
    if kind is not None and types is None:
        raise ValueError(f"kind was {kind!r} but is expected to be in {tuple(UPLOAD_TYPES)}")
    accepted = types or tuple(s.lstrip(".") for s in MAX_BYTES)
    if suffix.lstrip(".") not in accepted:
        raise InputError(
            f"Filen {Path(str(name)).name} har en filtyp som inte tas emot "
            f"({suffix or 'ingen filändelse'}); tillåtna är {', '.join(accepted)}."
        )
    limit = MAX_BYTES[suffix]
    if size_bytes > limit:
        raise InputError(
            f"Filen {Path(str(name)).name} är {_fmt_mb(size_bytes)}; största tillåtna storlek "
            f"för {suffix} är {_fmt_mb(limit)}."
        )


def check_zip(
    path: str | os.PathLike,
    *,
    max_members: int = MAX_ZIP_MEMBERS,
    max_total_bytes: int = MAX_ZIP_UNCOMPRESSED_BYTES,
    max_ratio: float = MAX_ZIP_RATIO,
    member_limits: bool = True,
) -> int:
    """Refuse a zip that would expand too far; return its total uncompressed size in bytes.

    ``member_limits`` False (local files) drops the per-suffix size and GeoJSON feature
    limits of the members; the count, path, nesting, ratio and total checks stay.

    Raises
    ------
    InputError
        Not a zip, too many members, a nested zip, an unsafe member path, a total over
        ``max_total_bytes`` or a member compressed more than ``max_ratio`` times.

    Examples
    --------
    >>> import io, tempfile
    >>> p = Path(tempfile.mkdtemp()) / "bomb.zip"
    >>> with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
    ...     z.writestr("a.shp", b"\\0" * 2_000_000)
    >>> check_zip(p)
    Traceback (most recent call last):
    ...
    geo.errors.InputError: Filen bomb.zip ser ut som en zip-bomb: a.shp packas upp 1024 gånger (högst 100).
    """
    path = Path(path)
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"Filen {name} är ingen giltig zip-fil ({exc}).") from exc
    files = [i for i in infos if not i.is_dir()]
    if len(files) > max_members:
        raise InputError(f"Filen {name} har {len(files)} filer; högst {max_members} tas emot.")
    total = 0
    for info in files:
        member = PurePosixPath(info.filename.replace("\\", "/"))
        if member.is_absolute() or ".." in member.parts:
            raise InputError(f"Filen {name} innehåller en otillåten sökväg: {info.filename}.")
        if member.suffix.lower() in (".zip", ".gz", ".7z", ".tar", ".rar"):
            raise InputError(
                f"Filen {name} innehåller en packad fil ({member.name}); packa upp den först."
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MB and ratio > max_ratio:
            raise InputError(
                f"Filen {name} ser ut som en zip-bomb: {member.name} packas upp "
                f"{ratio:.0f} gånger (högst {max_ratio:.0f})."
            )
        limit = MAX_BYTES.get(member.suffix.lower()) if member_limits else None
        if limit is not None and info.file_size > limit:
            raise InputError(
                f"Filen {name} innehåller {member.name} som packas upp till "
                f"{_fmt_mb(info.file_size)}; största tillåtna storlek för "
                f"{member.suffix.lower()} är {_fmt_mb(limit)}, packad eller inte."
            )
    if total > max_total_bytes:
        raise InputError(
            f"Filen {name} packas upp till {_fmt_mb(total)}; högst {_fmt_mb(max_total_bytes)} tas emot."
        )
    if not member_limits:
        return total
    with zipfile.ZipFile(path) as zf:  # a GeoJSON is as dangerous zipped as it is plain
        for info in files:
            if PurePosixPath(info.filename).suffix.lower() in (".geojson", ".json"):
                with zf.open(info) as member_fh:
                    n = _count_features(member_fh, stop_after=MAX_GEOJSON_FEATURES)
                if n > MAX_GEOJSON_FEATURES:
                    raise InputError(
                        f"Filen {name} innehåller {PurePosixPath(info.filename).name} med fler "
                        f"än {MAX_GEOJSON_FEATURES} objekt; dela upp den eller filtrera den först."
                    )
    return total


def _count_features(fh, *, stop_after: int | None = None) -> int:
    overlap = 64
    count = 0
    tail = b""
    while chunk := fh.read(_CHUNK):
        buf = tail + chunk
        # "typ\u0065" is "type" to a JSON parser: decode ASCII escapes before matching
        # (a chunk that ends inside an escape is completed by the overlap next time)
        plain = (
            _ASCII_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), buf) if b"\\u" in buf else buf
        )
        skip = (
            len(_ASCII_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), tail))
            if b"\\u" in tail
            else len(tail)
        )
        # count tags that end after the overlap region, so none is counted twice
        count += sum(1 for m in _FEATURE_TAG.finditer(plain) if m.end() > skip)
        tail = buf[-overlap:]
        if stop_after is not None and count > stop_after:
            break
    return count


def count_geojson_features(path: str | os.PathLike, *, stop_after: int | None = None) -> int:
    """Count ``"type": "Feature"`` tags in a file by scanning bytes (no JSON parsing).

    JSON escapes of ASCII characters (``"typ\\u0065": "Featur\\u0065"``) are decoded first,
    as a JSON parser would. Stops early once ``stop_after`` is exceeded. Chunks overlap so a
    tag split across two reads is counted once.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.geojson"
    >>> _ = p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}, '
    ...                  '{"type":"Feature"}, {"typ\\\\u0065": "Featur\\\\u0065"}]}')
    >>> count_geojson_features(p)
    3
    """
    with open(path, "rb") as fh:
        return _count_features(fh, stop_after=stop_after)


def check_geojson(path: str | os.PathLike, *, max_features: int | None = None) -> int:
    """Refuse a GeoJSON file with more than ``max_features`` (default
    `MAX_GEOJSON_FEATURES`) features before it is parsed.

    Returns the number of features counted.

    Raises
    ------
    InputError
        Over the limit.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "big.geojson"
    >>> _ = p.write_text('{"features": [' + ", ".join(['{"type": "Feature"}'] * 3) + "]}")
    >>> check_geojson(p, max_features=2)
    Traceback (most recent call last):
    ...
    geo.errors.InputError: Filen big.geojson har fler än 2 objekt; dela upp den eller filtrera den först.
    """
    if max_features is None:
        max_features = MAX_GEOJSON_FEATURES
    n = count_geojson_features(path, stop_after=max_features)
    if n > max_features:
        raise InputError(
            f"Filen {Path(path).name} har fler än {max_features} objekt; dela upp den eller "
            "filtrera den först."
        )
    return n


def check_file(path: str | os.PathLike) -> None:
    """Run the checks that fit the file's type: size for every file, `check_zip` for a zip,
    `check_geojson` for GeoJSON. Unknown suffixes pass (the importer reports them).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "ok.csv"
    >>> _ = p.write_text("lon,lat\\n18,59\\n")
    >>> check_file(p)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file() or suffix not in MAX_BYTES:
        return
    local = _local.get()
    if local is not None:  # the analyst's own file: its size limit, and no zip bombs
        _check_local_size(path, local)
        if suffix == ".zip":
            check_zip(path, max_total_bytes=local.max_bytes or 2**62, member_limits=False)
        return
    check_upload(path.name, path.stat().st_size)
    if suffix == ".zip":
        check_zip(path)
    elif suffix in (".geojson", ".json"):
        check_geojson(path)
    elif suffix == ".gpkg":
        check_geopackage(path)


def check_geopackage(
    path: str | os.PathLike,
    *,
    budget_s: float | None = None,
    max_features: int | None = None,
) -> dict[str, int]:
    """Count every layer of a GeoPackage with SQLite itself, under a time budget, before GDAL
    reads it; return ``{layer: rows}``.

    The file is opened read-only and immutable, with ``trusted_schema`` off (its views may
    not call functions with side effects). A layer that is a never-ending view (a recursive
    query) or holds more than ``max_features`` rows is refused within ``budget_s`` seconds.

    Raises
    ------
    InputError
        Not a GeoPackage, a layer that cannot be counted within the budget, or too many rows.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "loop.gpkg"
    >>> con = sqlite3.connect(p)
    >>> _ = con.executescript(
    ...     "CREATE TABLE gpkg_contents (table_name TEXT, data_type TEXT);"
    ...     "CREATE VIEW loop AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r)"
    ...     " SELECT i AS fid FROM r WHERE i < 0;"  # counts for ever, finds nothing
    ...     "INSERT INTO gpkg_contents VALUES ('loop', 'features');")
    >>> con.close()
    >>> check_geopackage(p, budget_s=0.5)
    Traceback (most recent call last):
    ...
    geo.errors.InputError: Filen loop.gpkg kan inte läsas: lagret loop kunde inte räknas på 0,5 sekunder (en vy som aldrig tar slut, eller en skadad fil).
    """
    budget_s = GPKG_COUNT_BUDGET_S if budget_s is None else budget_s
    max_features = MAX_FEATURES if max_features is None else max_features
    path = Path(path)
    name = path.name
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=1)
    except sqlite3.Error as exc:
        raise InputError(
            f"Filen {name} kan inte läsas som geodata: filen är ingen giltig GeoPackage ({exc})."
        ) from exc
    deadline = [0.0]
    con.set_progress_handler(lambda: int(time.monotonic() > deadline[0]), 10_000)
    counts: dict[str, int] = {}
    try:
        con.execute("PRAGMA trusted_schema = OFF")
        deadline[0] = time.monotonic() + budget_s
        try:
            layers = [
                str(r[0])
                for r in con.execute(
                    "SELECT table_name FROM gpkg_contents WHERE data_type IN "
                    "('features', 'attributes', 'aspatial')"
                )
            ]
        except sqlite3.Error:
            raise InputError(
                f"Filen {name} kan inte läsas som geodata: filen är ingen giltig GeoPackage "
                "(SQLite)."
            ) from None
        for layer in layers:
            deadline[0] = time.monotonic() + budget_s
            quoted = '"' + layer.replace('"', '""') + '"'
            try:
                (n,) = con.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {quoted} LIMIT {max_features + 1})"
                ).fetchone()
            except sqlite3.OperationalError as exc:
                if "interrupted" not in str(exc):
                    raise InputError(
                        f"Filen {name}: lagret {layer} kan inte läsas ({exc})."
                    ) from exc
                budget = f"{budget_s:g}".replace(".", ",")
                raise InputError(
                    f"Filen {name} kan inte läsas: lagret {layer} kunde inte räknas på {budget} "
                    "sekunder (en vy som aldrig tar slut, eller en skadad fil)."
                ) from None
            except sqlite3.Error as exc:
                raise InputError(f"Filen {name}: lagret {layer} kan inte läsas ({exc}).") from exc
            if n > max_features:
                raise InputError(
                    f"Filen {name}: lagret {layer} har fler än {max_features} objekt; dela upp "
                    "det eller filtrera det först."
                )
            counts[layer] = int(n)
    finally:
        con.close()
    return counts


def check_parquet(
    path: str | os.PathLike,
    *,
    max_rows: int = MAX_FEATURES,
    max_uncompressed_bytes: int = MAX_PARQUET_UNCOMPRESSED_BYTES,
) -> int:
    """Refuse a Parquet file whose footer claims too many rows or too many bytes once
    uncompressed (a 5 MB file can claim 300 million rows); return its row count.

    Inside `local_files` the footer must still be readable, but its counts are not capped.

    Raises
    ------
    InputError
        An unreadable footer, or a claim over the limits.

    Examples
    --------
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> p = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pq.write_table(pa.table({"a": [1, 2, 3]}), p)
    >>> check_parquet(p)
    3
    >>> check_parquet(p, max_rows=2)
    Traceback (most recent call last):
    ...
    geo.errors.InputError: Filen t.parquet säger sig ha 3 rader; högst 2 tas emot.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = Path(path).name
    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"Filen {name} kan inte läsas som Parquet: {first}.") from exc
    if _local.get() is not None:
        return int(meta.num_rows)
    if meta.num_rows > max_rows:
        raise InputError(
            f"Filen {name} säger sig ha {meta.num_rows} rader; högst {max_rows} tas emot."
        )
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > max_uncompressed_bytes:
        raise InputError(
            f"Filen {name} packas upp till {_fmt_mb(size)}; högst "
            f"{_fmt_mb(max_uncompressed_bytes)} tas emot."
        )
    return int(meta.num_rows)


# --- hostile readers in a child process ----------------------------------------------------
def _env_number(env: str, default: float) -> float:
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InputError(f"{env} var {raw!r}; ange ett positivt tal.")
    return value


def read_timeout_s() -> float:
    """Seconds a file read may take (env ``LAGESBILD_READ_TIMEOUT_S``, default 60).

    Examples
    --------
    >>> read_timeout_s() > 0
    True
    """
    return _env_number(READ_TIMEOUT_ENV, DEFAULT_READ_TIMEOUT_S)


def read_memory_bytes() -> int:
    """Memory a file read may add to its process (env ``LAGESBILD_READ_MEMORY_MB``, default
    2048 MB), in bytes.

    Examples
    --------
    >>> read_memory_bytes() >= MB
    True
    """
    return int(_env_number(READ_MEMORY_ENV, DEFAULT_READ_MEMORY_MB) * MB)


_context_lock = threading.RLock()
_context: Any = None


def _without_main(name: str) -> dict:
    # A child needs the readers, not the program that started it: multiprocessing would import
    # the parent's __main__ again in every child, and under Streamlit that is a page script.

    data = _real_preparation_data(name)
    data.pop("init_main_from_path", None)
    data.pop("init_main_from_name", None)
    return data


_real_preparation_data: Any = None


def _start(child) -> None:
    from multiprocessing import spawn

    global _real_preparation_data
    with _context_lock:
        _real_preparation_data = spawn.get_preparation_data
        spawn.get_preparation_data = _without_main
        try:
            child.start()
        finally:
            spawn.get_preparation_data = _real_preparation_data


def _reader_context():
    global _context
    with _context_lock:
        if _context is None:
            # forkserver: children fork from a clean single-threaded server that has imported
            # the readers once (fork from a threaded web server is unsafe; spawn is slow)
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["geo.io"])
            _context = ctx
        return _context


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limited_child(conn, memory_bytes: int, func: Callable, args: tuple) -> None:
    try:
        limit = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        outcome: tuple = ("ok", func(*args))
    except MemoryError:
        outcome = ("memory", None)
    except InputError as exc:
        outcome = ("input", str(exc))
    except OSError as exc:  # Arrow and GDAL report a refused allocation or thread like this
        text = str(exc)
        memory = any(w in text for w in ("Resource temporarily unavailable", "emory"))
        outcome = ("memory", None) if memory else ("error", f"{type(exc).__name__}: {text}"[:1000])
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        outcome = ("error", f"{type(exc).__name__}: {exc}"[:1000])
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory", None))
    finally:
        conn.close()


def run_limited(
    func: Callable,
    *args: Any,
    name: str,
    timeout_s: float | None = None,
    memory_bytes: int | None = None,
) -> Any:
    """Run ``func(*args)`` in a child process with a memory and a time limit; return its
    result. ``func`` must be a module-level function and its result picklable.

    Inside `local_files` (the analyst's own file, no limits given here) ``func`` runs in
    this process: no second copy of the data through a pipe.

    Raises
    ------
    InputError
        ``func``'s own `InputError`; or, naming the file ``name``, a read that ran out of
        time or memory (the child is killed and nothing of it stays).
    RuntimeError
        Any other error in ``func`` (a bug, reported with its type and message).

    Examples
    --------
    >>> run_limited(divmod, 7, 2, name="x")
    (3, 1)
    """
    if _local.get() is not None and timeout_s is None and memory_bytes is None:
        return func(*args)
    timeout_s = read_timeout_s() if timeout_s is None else timeout_s
    memory_bytes = read_memory_bytes() if memory_bytes is None else memory_bytes
    ctx = _reader_context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_limited_child, args=(send, memory_bytes, func, args), daemon=True)
    _start(child)
    send.close()
    try:
        if not receive.poll(timeout_s):
            raise InputError(
                f"Filen {name} tog för lång tid att läsa (mer än {timeout_s:g} s) och avbröts; "
                "den kan vara skadad eller byggd för att låsa servern."
            )
        try:
            kind, value = receive.recv()
        except (EOFError, OSError):
            kind, value = "died", None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join(timeout=10)
    if kind == "ok":
        return value
    if kind == "input":
        raise InputError(value)
    if kind in ("memory", "died"):
        raise InputError(
            f"Filen {name} kräver mer än {memory_bytes // MB} MB minne att läsa och avbröts; "
            "dela upp den eller filtrera den först."
        )
    raise RuntimeError(f"reading {name} failed in the child process: {value}")


# --- retention -----------------------------------------------------------------------------
def retention_days() -> int | None:
    """The retention period from env ``LAGESBILD_RETENTION_DAYS`` (None: keep everything).

    Raises
    ------
    InputError
        When the variable is not a positive whole number.

    Examples
    --------
    >>> os.environ.pop(RETENTION_ENV, None) and None
    >>> retention_days() is None
    True
    """
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(f"{RETENTION_ENV} var {raw!r}; ange ett positivt antal dagar, t.ex. 730.")
    return int(raw)


def purge_older_than(
    incidents: gpd.GeoDataFrame, *, days: int, now: dt.datetime | None = None
) -> tuple[gpd.GeoDataFrame, int]:
    """Incidents that occurred within the last ``days`` days, and how many were dropped.

    Parameters
    ----------
    incidents : GeoDataFrame
        With ``occurred_at`` (tz-aware). Not modified.
    days : int
        The retention period in days (≥ 1).
    now : datetime, optional
        tz-aware "now"; default the current time in Europe/Stockholm.

    Examples
    --------
    >>> import shapely
    >>> t = pd.to_datetime(["2020-01-01 12:00", "2024-06-01 12:00"]).tz_localize(schema.TZ)
    >>> g = gpd.GeoDataFrame({"occurred_at": t}, geometry=shapely.points([0, 1], [0, 1]))
    >>> now = pd.Timestamp("2024-12-31", tz=schema.TZ).to_pydatetime()
    >>> kept, dropped = purge_older_than(g, days=365, now=now)
    >>> len(kept), dropped
    (1, 1)
    """
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ValueError(f"days was {days!r} but is expected to be a whole number >= 1")
    if now is None:
        now = pd.Timestamp.now(tz=schema.TZ).to_pydatetime()
    elif now.tzinfo is None:
        raise ValueError(f"now {now.isoformat()} has no time zone; give a tz-aware one")
    cutoff = pd.Timestamp(now) - pd.Timedelta(days=days)
    keep = (incidents[schema.OCCURRED_AT] >= cutoff).to_numpy()
    return incidents[keep].copy(), int((~keep).sum())


def retain(frame: gpd.GeoDataFrame, *, days: int | None = None) -> tuple[gpd.GeoDataFrame, int]:
    """Apply the retention period to an imported frame: ``days`` or `retention_days`.

    Frames without ``occurred_at`` (boundaries, dialogue places) and a period that is not
    configured leave the frame as it is. Returns the frame and how many rows were dropped.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"name": ["a"]}, geometry=shapely.points([0], [0]))
    >>> retain(g, days=30)[1]
    0
    """
    days = retention_days() if days is None else days
    if days is None or schema.OCCURRED_AT not in frame.columns:
        return frame, 0
    return purge_older_than(frame, days=days)
