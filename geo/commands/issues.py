"""``lagesbild issues``: export trygghetsbesiktning issues and import field lists.

    lagesbild issues export --format csv|geojson|pdf [--status S] [--round ID]
                            [--responsible R] --out FILE
    lagesbild issues import FILE [--round ID] [--by NAME]

Both use the project database (`geo.store.Store`: ``LAGESBILD_DATABASE_URL`` or the SQLite
file under ``LAGESBILD_DATA_DIR``), or ``--database URL``. Import exits 1 when any row was
rejected (each is listed with its row number and reason), 0 when all were stored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.commands._mapping import check_out
from geo.errors import InputError
from geo.exports import os_user
from geo.inspections import (
    export_csv,
    export_geojson,
    export_pdf,
    import_issues,
    issues_frame,
)
from geo.store import ISSUE_STATUSES, Store, record_audit

FORMATS = ("csv", "geojson", "pdf")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "issues",
        help="export or import trygghetsbesiktning issues",
        description="Export trygghetsbesiktning issues (CSV, GeoJSON, PDF per responsible "
        "party) or import a list made in the field (CSV with lon/lat, GeoJSON, GeoPackage).",
    )
    parser.add_argument("--database", metavar="URL", default=None,
                        help="database URL (default: LAGESBILD_DATABASE_URL or the SQLite "
                        "file under LAGESBILD_DATA_DIR)")  # fmt: skip
    actions = parser.add_subparsers(dest="issues_command", metavar="ACTION", required=True)

    exp = actions.add_parser("export", help="write issues to a file")
    exp.add_argument("--format", choices=FORMATS, required=True)
    exp.add_argument("--status", choices=ISSUE_STATUSES, action="append",
                     help="only issues with this status (repeatable)")  # fmt: skip
    exp.add_argument("--round", type=int, metavar="ID", help="only this inspection round")
    exp.add_argument("--responsible", metavar="PARTY",
                     help="only this responsible party (required for --format pdf)")  # fmt: skip
    exp.add_argument("--out", type=Path, required=True, metavar="FILE")
    exp.add_argument("--by", metavar="NAME", help="who exports (audit log; default: OS user)")
    exp.set_defaults(func=run_export)

    imp = actions.add_parser("import", help="import a field list of issues")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--round", type=int, metavar="ID",
                     help="round for rows without a round_id column")  # fmt: skip
    imp.add_argument("--by", metavar="NAME", help="who marked them (default: OS user)")
    imp.set_defaults(func=run_import)


def _open(url: str | None) -> Store:
    try:
        return Store(url)
    except ValueError as exc:
        raise InputError(f"--database: {exc}") from None


def run_export(args: argparse.Namespace) -> int:
    if args.format == "pdf" and not args.responsible:
        raise InputError("--format pdf behöver --responsible: PDF:en är en lista för en part.")
    check_out(args.out, (f".{args.format}",))
    store = _open(args.database)
    try:
        frame = issues_frame(store, status=args.status, round_id=args.round,
                             responsible=args.responsible)  # fmt: skip
        who = args.by or os_user("cli")
        if args.format == "csv":
            export_csv(frame, args.out)
        elif args.format == "geojson":
            export_geojson(frame, args.out)
        else:
            export_pdf(frame, args.responsible, args.out, author=who)
        with store.session() as s:
            record_audit(s, actor=who, action="inspection_issue.export", target_type="file",
                         target_id=args.out.name,
                         params={"format": args.format, "status": args.status,
                                 "round": args.round, "responsible": args.responsible,
                                 "rows": len(frame)})  # fmt: skip
    finally:
        store.close()
    print(f"{len(frame)} brister skrivna till {args.out}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    store = _open(args.database)
    try:
        result = import_issues(store, args.file, marked_by=args.by or os_user("cli"),
                               round_id=args.round)  # fmt: skip
    finally:
        store.close()
    print(f"Rader lästa: {result.rows}, importerade: {result.loaded}, "
          f"avvisade: {len(result.rejected)}")  # fmt: skip
    for row, reason in zip(result.rejected["row"], result.rejected["reason"], strict=True):
        print(f"  rad {row}: {reason}", file=sys.stderr)
    return 1 if len(result.rejected) else 0
