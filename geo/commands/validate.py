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

from geo import io

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
    p.add_argument("--lon-col", metavar="C", help="column with longitude (WGS 84)")
    p.add_argument("--lat-col", metavar="C", help="column with latitude (WGS 84)")
    p.add_argument("--x-col", metavar="C", help="column with x / easting (needs --crs)")
    p.add_argument("--y-col", metavar="C", help="column with y / northing (needs --crs)")
    p.add_argument("--crs", metavar="EPSG:N", help="CRS of x/y columns or of a file without one")
    p.add_argument("--time-col", metavar="C", help="column with the time (incidents)")
    p.add_argument("--time-format", metavar="F", help="strftime format of the time column")
    p.add_argument("--category-col", metavar="C", help="column with offence name or code")
    p.add_argument("--category-map", metavar="FILE", help="TOML file with a [categories] table")
    p.add_argument("--strict-categories", action="store_true",
                   help="reject rows whose category is not in the map")  # fmt: skip
    p.add_argument("--mapping", metavar="FILE", help="TOML file with [columns] (and [categories])")
    p.add_argument("--id-col", metavar="C", help="column with the record's id")
    p.add_argument("--name-col", metavar="C", help="column with the area's name (boundaries)")
    p.add_argument("--level", choices=("kommun", "lpo", "kommundel", "stadsdel"),
                   help="level of every area (boundaries)")  # fmt: skip
    p.add_argument("--layer", metavar="L", help="layer of a GeoPackage or zip with several")
    p.add_argument("--rejected", metavar="OUT.csv", help="write the rejected rows to this CSV")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _mapping(args: argparse.Namespace) -> dict[str, str]:
    pairs = {
        "lon": args.lon_col,
        "lat": args.lat_col,
        "x": args.x_col,
        "y": args.y_col,
        "time": args.time_col,
        "category": args.category_col,
        "id": args.id_col,
    }
    return {role: col for role, col in pairs.items() if col}


def load(args: argparse.Namespace) -> io.LoadResult:
    """Call the loader for ``args.kind`` with the options given on the command line."""
    columns = _mapping(args)
    if args.mapping:
        from_file, categories = io.read_mapping_toml(args.mapping)
        columns = {**from_file, **columns}
    else:
        categories = None
    if args.kind == "incidents":
        return io.load_incidents(
            args.file,
            mapping=columns,
            category_map=args.category_map or categories,
            layer=args.layer,
            crs=args.crs,
            time_format=args.time_format,
            strict_categories=args.strict_categories,
        )
    if args.kind == "dialogue":
        return io.load_dialogue(
            args.file, mapping=columns, layer=args.layer, crs=args.crs, time_format=args.time_format
        )
    return io.load_boundaries(
        args.file,
        id_col=args.id_col,
        name_col=args.name_col,
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
        result.write_rejected(args.rejected)
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False))
    else:
        print(format_report(result, args.file))
        if args.rejected:
            print(f"Avvisade rader skrivna till {args.rejected}")
    return 0
