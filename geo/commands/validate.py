"""`lagesbild validate KIND FILE`: load a file as Lägesbild would and report what happened.

Prints rows read, loaded and rejected, the reasons with counts, warnings, column guesses,
the source CRS and the time range (Swedish), or with ``--json`` one JSON object
``{"rows", "loaded", "rejected", "reasons", "warnings", "crs", "time_range"}``.
Exit 0 when the file loads (even with rejected rows); structural errors raise `InputError`,
which `geo.cli` turns into one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from geo import io, schema
from geo.commands._mapping import add_mapping_arguments, loader_options, record_cli_export

KINDS = ("incidents", "dialogue", "boundaries")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    p = subparsers.add_parser(
        "validate",
        help="check and load an input file; report rejected rows",
        description="Load a file with validation and report rows read, loaded and rejected.",
    )
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=f"one of {', '.join(KINDS)}")
    p.add_argument("file", metavar="FILE", help="CSV, GeoJSON, GeoPackage, Shapefile or GeoParquet")
    add_mapping_arguments(p)
    areas = p.add_argument_group("boundaries (KIND boundaries)")
    areas.add_argument("--area-id-col", metavar="C", help="column with the area id (or --id-col)")
    areas.add_argument("--area-name-col", "--name-col", metavar="C",
                       help="column with the area name")  # fmt: skip
    areas.add_argument("--level", choices=schema.AREA_LEVELS, help="level of every area")
    p.add_argument("--rejected", metavar="OUT.csv", help="write the rejected rows to this CSV")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def load(args: argparse.Namespace) -> io.LoadResult:
    """Call the loader for ``args.kind`` with the options given on the command line."""
    options = loader_options(args)
    if args.kind == "incidents":
        return io.load_incidents(args.file, **options)
    if args.kind == "dialogue":
        return io.load_dialogue(
            args.file, mapping=options["mapping"], layer=args.layer, crs=args.crs,
            time_format=args.time_format,
        )  # fmt: skip
    return io.load_boundaries(
        args.file,
        id_col=args.area_id_col or args.id_col,
        name_col=args.area_name_col,
        level=args.level,
        layer=args.layer,
        crs=args.crs,
    )


def format_report(result: io.LoadResult, file: str) -> str:
    """The human-readable Swedish report.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:3006")
    >>> res = io.LoadResult(empty, 2, pd.DataFrame({"row": [2, 3]}), {"ogiltig tid": 2})
    >>> print(format_report(res, "h.csv"))  # doctest: +NORMALIZE_WHITESPACE
    Fil: h.csv
    Rader lästa: 2
    Inlästa: 0
    Avvisade: 2
      ogiltig tid: 2
    Koordinatsystem i filen: okänt
    Tidsperiod: saknas
    """
    lines = [
        f"Fil: {file}",
        f"Rader lästa: {result.rows}",
        f"Inlästa: {result.loaded}",
        f"Avvisade: {len(result.rejected)}",
    ]
    lines += [f"  {reason}: {count}" for reason, count in result.reasons.items()]
    lines.append(f"Koordinatsystem i filen: {result.crs or 'okänt'}")
    if result.time_range is None:
        lines.append("Tidsperiod: saknas")
    else:
        start, end = result.time_range
        lines.append(f"Tidsperiod: {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}")
    if result.warnings:
        lines.append("Varningar:")
        lines += [f"  - {w}" for w in result.warnings]
    if result.notes:
        lines.append("Tolkningar:")
        lines += [f"  - {n}" for n in result.notes]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Load, report, optionally write the rejected rows; return the exit code."""
    result = load(args)
    if args.rejected:
        result.write_rejected(args.rejected)  # formulas defused (geo.safecsv)
        record_cli_export(
            "rejected_rows", Path(args.rejected), kind=args.kind, source=Path(args.file).name,
            rows=len(result.rejected),
        )  # fmt: skip
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False))
    else:
        print(format_report(result, args.file))
        if args.rejected:
            print(f"Avvisade rader skrivna till {args.rejected}")
    return 0
