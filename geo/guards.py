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
  ``"Feature"`` type tags; more than `MAX_GEOJSON_FEATURES` is refused without parsing.
* **Retention** (`purge_older_than`): imported incidents older than a configurable period
  (env ``LAGESBILD_RETENTION_DAYS``, `retention_days`) are dropped when the data is used.

`check_file` runs the checks that fit a file's type; `geo.io` calls it before reading any
file, and the Data page calls `check_upload` before writing an upload to disk.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path, PurePosixPath

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
}
MAX_ZIP_MEMBERS = 64
MAX_ZIP_UNCOMPRESSED_BYTES = 1024 * MB
MAX_ZIP_RATIO = 100
MAX_GEOJSON_FEATURES = 1_000_000
RETENTION_ENV = "LAGESBILD_RETENTION_DAYS"

_FEATURE_TAG = re.compile(rb'"type"\s*:\s*"Feature"')
_CHUNK = 4 * MB


def _fmt_mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:.1f}".replace(".", ",") + " MB"


def check_upload(name: str, size_bytes: int, *, kind: str | None = None) -> None:
    """Refuse an upload of the wrong type or over the size limit for its format.

    Parameters
    ----------
    name : str
        The file name as uploaded (only its suffix is used).
    size_bytes : int
        Its size.
    kind : str, optional
        ``incidents``, ``dialogue`` or ``areas``: the suffix must be in `UPLOAD_TYPES`.

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
) -> int:
    """Refuse a zip that would expand too far; return its total uncompressed size in bytes.

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
    if total > max_total_bytes:
        raise InputError(
            f"Filen {name} packas upp till {_fmt_mb(total)}; högst {_fmt_mb(max_total_bytes)} tas emot."
        )
    return total


def count_geojson_features(path: str | os.PathLike, *, stop_after: int | None = None) -> int:
    """Count ``"type": "Feature"`` tags in a file by scanning bytes (no JSON parsing).

    Stops early once ``stop_after`` is exceeded. Chunks overlap so a tag split across two
    reads is counted once.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.geojson"
    >>> _ = p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}, '
    ...                  '{"type":"Feature"}]}')
    >>> count_geojson_features(p)
    2
    """
    overlap = 64
    count = 0
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            buf = tail + chunk
            # count tags that end after the overlap region, so none is counted twice
            count += sum(1 for m in _FEATURE_TAG.finditer(buf) if m.end() > len(tail))
            tail = buf[-overlap:]
            if stop_after is not None and count > stop_after:
                break
    return count


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
    check_upload(path.name, path.stat().st_size)
    if suffix == ".zip":
        check_zip(path)
    elif suffix in (".geojson", ".json"):
        check_geojson(path)


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
