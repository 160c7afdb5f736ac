"""The one CSV writer for every file a user can download (OWASP "CSV injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK("http://…")``, ``+cmd|' /C calc'!A0``, ``-2+3``, ``@SUM(…)``), and Excel also
strips a leading tab or carriage return before it looks. Every text cell that starts with one
of these characters gets a leading apostrophe (``'=HYPERLINK(…)``), which spreadsheets show as
text. Numbers stay numbers: a value of a numeric column, or a text that is only a number such
as ``-12.5`` or ``+46701234567``, is not a formula and is written as it is, so coordinates in a
rejected-rows file still read back as numbers.

Why not the ``defusedcsv`` package: it wraps the ``csv`` module row by row, also escapes ``|``
and ``%`` and adds a trailing quote, which changes the text that Lägesbild's own importers
read back (`geo.inspections.import_issues` undoes exactly the apostrophe written here).

Callers: zones (`geo.exports.to_csv`), före/efter (`geo.compare_report.comparison_csv`),
rejected rows (`geo.io.LoadResult.write_rejected` and the Data page), trygghetsbesiktning
issues and their rejected rows (`geo.inspections`), and the audit log (`geo.audit.to_csv`).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet cell a formula (or hide one behind whitespace).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def defuse(value: object) -> object:
    """``value`` safe for a spreadsheet cell: a formula-like text gets a leading ``'``.

    Examples
    --------
    >>> defuse("=HYPERLINK(1)"), defuse("-2+3"), defuse("@SUM(A1)"), defuse("\\t=1")
    ("'=HYPERLINK(1)", "'-2+3", "'@SUM(A1)", "'\\t=1")
    >>> defuse("-12.5"), defuse("+46701234567"), defuse(-3), defuse("Farsta")
    ('-12.5', '+46701234567', -3, 'Farsta')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        if not _PLAIN_NUMBER.fullmatch(value):
            return "'" + value
    return value


def undefuse(value: object) -> object:
    """Undo `defuse` on a value read back from a file Lägesbild wrote.

    Examples
    --------
    >>> undefuse("'=1"), undefuse("'hej"), undefuse("=1")
    ('=1', "'hej", '=1')
    """
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and every column name) defused.

    Examples
    --------
    >>> defuse_frame(pd.DataFrame({"a": ["=1", "x"], "n": [-1, 2]})).to_dict("list")
    {'a': ["'=1", 'x'], 'n': [-1, 2]}
    """
    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype(object).map(defuse)
    out.columns = [defuse(str(c)) for c in out.columns]
    return out


def to_csv_text(frame: pd.DataFrame, *, labels: Mapping[str, str] | None = None) -> str:
    """The frame as CSV text: columns renamed by ``labels`` (Swedish headings), every text
    cell defused, no index, ``\\r\\n`` line ends (RFC 4180; a carriage return inside a cell
    is then quoted, so it cannot split the row).

    Examples
    --------
    >>> to_csv_text(pd.DataFrame({"name": ["=cmd|' /C calc'!A0"]}), labels={"name": "namn"})
    "namn\\r\\n'=cmd|' /C calc'!A0\\r\\n"
    """
    table = frame.rename(columns=dict(labels)) if labels else frame
    buf = io.StringIO()
    defuse_frame(table).to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    return buf.getvalue()


def to_csv_bytes(frame: pd.DataFrame, *, labels: Mapping[str, str] | None = None) -> bytes:
    """`to_csv_text` encoded as UTF-8 with a byte-order mark, so Excel shows å, ä and ö.

    Examples
    --------
    >>> to_csv_bytes(pd.DataFrame({"å": ["+1+1"]}))
    b"\\xef\\xbb\\xbf\\xc3\\xa5\\r\\n'+1+1\\r\\n"
    """
    return to_csv_text(frame, labels=labels).encode("utf-8-sig")


def write_csv(
    frame: pd.DataFrame, path: str | os.PathLike, *, labels: Mapping[str, str] | None = None
) -> Path:
    """Write `to_csv_bytes` to ``path`` atomically (a temporary file, then a rename).

    Examples
    --------
    >>> import tempfile
    >>> p = write_csv(pd.DataFrame({"a": ["=1"]}), Path(tempfile.mkdtemp()) / "x.csv")
    >>> p.read_bytes().decode("utf-8-sig").splitlines()
    ['a', "'=1"]
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(to_csv_bytes(frame, labels=labels))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
