"""``lagesbild issues``: inspection rounds, export of issues, import of field lists.

    lagesbild issues round create --date YYYY-MM-DD --area AREA [--team "..."]
                                  [--organisations kommun,polis,SL] [--name N] [--by NAME]
    lagesbild issues round list
    lagesbild issues export --format csv|geojson|pdf [--status S] [--round ID]
                            [--responsible R] --out FILE
    lagesbild issues import FILE [--round ID | --new-round NAME --date YYYY-MM-DD --area AREA
                                  [--team ...] [--organisations ...]] [--by NAME]
                                  [--rejected OUT.csv]

All use the project database (`geo.store.Store`: ``LAGESBILD_DATABASE_URL`` or the SQLite
file under ``LAGESBILD_DATA_DIR``), or ``--database URL``. Import follows the rule of
``lagesbild validate``: exit 0 when the file loads, even with rejected rows (their count,
reasons and row numbers are printed, and written with ``--rejected``); exit 2 on a structural
error (unreadable file, missing column, unknown round), in which case nothing is stored and no
round is created.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

from geo.commands._mapping import check_out, split_list
from geo.errors import InputError
from geo.exports import os_user
from geo.inspections import (
    create_round,
    export_csv,
    export_geojson,
    export_pdf,
    import_issues,
    issues_frame,
    read_field_list,
    rejected_csv,
    rounds_frame,
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

    imp = actions.add_parser(
        "import",
        help="import a field list of issues",
        description="Exit 0 when the file loads (rejected rows are reported), 2 on a "
        "structural error (nothing is stored).",
    )
    imp.add_argument("file", type=Path, metavar="FILE")
    which = imp.add_mutually_exclusive_group()
    which.add_argument("--round", type=int, metavar="ID",
                       help="round for rows without a round_id column")  # fmt: skip
    which.add_argument("--new-round", metavar="NAME",
                       help="create this round (needs --date and --area) and import into it")  # fmt: skip
    _round_arguments(imp, required=False)
    imp.add_argument("--by", metavar="NAME", help="who marked them (default: OS user)")
    imp.add_argument("--rejected", type=Path, metavar="OUT.csv",
                     help="write the rejected rows (row, reason, fields) to this CSV")  # fmt: skip
    imp.set_defaults(func=run_import)

    rnd = actions.add_parser("round", help="create or list inspection rounds")
    round_actions = rnd.add_subparsers(dest="round_command", metavar="ACTION", required=True)
    create = round_actions.add_parser("create", help="start an inspection round; prints its id")
    _round_arguments(create, required=True)
    create.add_argument("--name", metavar="NAME",
                        help='name of the round (default: "Trygghetsbesiktning AREA DATE")')  # fmt: skip
    create.add_argument("--by", metavar="NAME", help="who starts it (default: OS user)")
    create.set_defaults(func=run_round_create)
    listing = round_actions.add_parser("list", help="list the rounds, newest first")
    listing.set_defaults(func=run_round_list)


def _round_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_argument_group("round" if required else "new round (with --new-round)")
    group.add_argument("--date", type=_date, required=required, metavar="YYYY-MM-DD",
                       help="the day of the walk")  # fmt: skip
    group.add_argument("--area", required=required, metavar="AREA",
                       help="the area walked, as users know it (e.g. Jakobsberg)")  # fmt: skip
    group.add_argument("--team", default="", metavar="TEXT", help="the people walking")
    group.add_argument("--organisations", metavar="A,B",
                       help="organisations taking part, e.g. kommun,polis,SL")  # fmt: skip


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{text}" är inget datum (ÅÅÅÅ-MM-DD)') from None


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


def _round_fields(args: argparse.Namespace, name: str | None, who: str) -> dict:
    return {
        "name": name or f"Trygghetsbesiktning {args.area} {args.date.isoformat()}",
        "held_on": args.date,
        "area_name": args.area,
        "created_by": who,
        "team": args.team,
        "organisations": split_list(args.organisations) or (),
    }


def _new_round(store: Store, args: argparse.Namespace, name: str | None, who: str) -> int:
    return create_round(store, **_round_fields(args, name, who))


def run_round_create(args: argparse.Namespace) -> int:
    store = _open(args.database)
    try:
        round_id = _new_round(store, args, args.name, args.by or os_user("cli"))
    finally:
        store.close()
    print(round_id)
    return 0


def run_round_list(args: argparse.Namespace) -> int:
    store = _open(args.database)
    try:
        table = rounds_frame(store)
    finally:
        store.close()
    if table.empty:
        print("Inga rundor ännu; skapa en med: lagesbild issues round create --date ... --area ...")
    else:
        print(table.to_string(index=False))
    return 0


def run_import(args: argparse.Namespace) -> int:
    if args.new_round is not None and (args.date is None or args.area is None):
        raise InputError("--new-round behöver --date ÅÅÅÅ-MM-DD och --area OMRÅDE.")
    if args.new_round is None and (args.date or args.area or args.team or args.organisations):
        raise InputError("--date, --area, --team och --organisations hör till --new-round.")
    if args.rejected is not None:
        check_out(args.rejected, (".csv",))
    who = args.by or os_user("cli")
    # Check the file before a new round is created: a structural error stores nothing.
    read_field_list(args.file, round_given=args.round is not None or args.new_round is not None)
    store = _open(args.database)
    try:
        # a new round is created in the import's own transaction: killed half-way, nothing stays
        new = None if args.new_round is None else _round_fields(args, args.new_round, who)
        result = import_issues(store, args.file, marked_by=who, round_id=args.round, new_round=new)
        if new is not None:
            print(f"Ny runda {result.round_id}: {args.new_round}")
    finally:
        store.close()
    print(f"Rader lästa: {result.rows}, importerade: {result.loaded}, "
          f"avvisade: {len(result.rejected)}")  # fmt: skip
    for reason, n in Counter(result.rejected["reason"]).most_common():
        print(f"  {n} × {reason}")
    for row, reason in zip(result.rejected["row"], result.rejected["reason"], strict=True):
        print(f"  rad {row}: {reason}", file=sys.stderr)
    if args.rejected is not None:
        rejected_csv(result, args.rejected)
        print(f"Avvisade rader skrivna till {args.rejected}")
    return 0
