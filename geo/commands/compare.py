"""``lagesbild compare``: before/after figures per zone as a table, JSON, CSV or PDF."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo import compare, compare_report, schema
from geo.compare import Period
from geo.errors import InputError

_OUT_SUFFIXES = (".csv", ".pdf")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="before/after evaluation of zones (rate ratio, WDQ, WDD, verdict)",
        description=(
            "Counts incidents in each zone before and after, per 30 days, tests the rate ratio "
            "exactly, and measures displacement to a buffer ring against a control area "
            "(WDQ, WDD). See docs/before-after.md."
        ),
    )
    parser.add_argument("--incidents", required=True, type=Path, help="incident file")
    _add_mapping_arguments(parser)
    parser.add_argument(
        "--zones", required=True, type=Path, help="zone polygons (GeoJSON, GeoPackage, ...)"
    )
    parser.add_argument("--zone-id-col", help="column of the zone file with the zone id")
    parser.add_argument("--before", required=True, help="before period YYYY-MM-DD:YYYY-MM-DD")
    parser.add_argument("--after", required=True, help="after period YYYY-MM-DD:YYYY-MM-DD")
    parser.add_argument(
        "--buffer-m",
        type=float,
        default=compare.DEFAULT_BUFFER_M,
        help="width of the buffer ring around each zone in metres (default 250)",
    )
    parser.add_argument(
        "--control",
        type=Path,
        help="control area polygons (default: everything outside the zones and rings)",
    )
    parser.add_argument(
        "--areas", type=Path, help="boundaries: one total row per area and the default control"
    )
    parser.add_argument("--categories", help="comma-separated categories, e.g. 'rån,stöld'")
    parser.add_argument("--window", help="time window name or text, e.g. 'natt' or 'fre,lör 18-03'")
    parser.add_argument(
        "--zones-from-before",
        action="store_true",
        help="the zones were picked from the before period (adds the regression warning)",
    )
    parser.add_argument("--out", type=Path, help="write FILE.csv or FILE.pdf")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one per zone")
    parser.set_defaults(func=run)


def _add_mapping_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mapping", type=Path, help="TOML file with [columns] and [categories] (docs/import.md)"
    )
    parser.add_argument(
        "--category-map", type=Path, help="TOML file: raw offence names or codes -> categories"
    )
    parser.add_argument("--crs", help="CRS of x/y columns, e.g. EPSG:3006")
    parser.add_argument("--layer", help="layer name in a multi-layer file")
    parser.add_argument("--time-format", help="strftime format of the time column")


def _load_incidents(args: argparse.Namespace):
    from geo.io import load_incidents

    result = load_incidents(
        args.incidents,
        mapping=args.mapping,
        category_map=args.category_map,
        layer=args.layer,
        crs=args.crs,
        time_format=args.time_format,
    )
    if len(result.rejected):
        print(
            f"lagesbild compare: {len(result.rejected)} av {result.rows} rader i "
            f"{args.incidents.name} avvisades (se lagesbild validate).",
            file=sys.stderr,
        )
    return result.frame


def _load_polygons(path: Path | None):
    if path is None:
        return None
    from geo.io import load_boundaries

    return load_boundaries(path).frame


def parse_periods(before: str, after: str) -> tuple[Period, Period]:
    """Parse and check the two ``--before``/``--after`` texts (InputError if bad)."""
    periods = Period.parse(before), Period.parse(after)
    compare.check_periods(*periods)
    return periods


def run(args: argparse.Namespace) -> int:
    before, after = parse_periods(args.before, args.after)
    if args.out is not None and args.out.suffix.lower() not in _OUT_SUFFIXES:
        raise InputError(f"--out {args.out} must end in .csv or .pdf.")
    categories = (
        [c.strip() for c in args.categories.split(",") if c.strip()] if args.categories else None
    )
    incidents = _load_incidents(args)
    zones = compare.read_zones(args.zones, id_col=args.zone_id_col)
    areas = _load_polygons(args.areas)
    control = _load_polygons(args.control)
    try:
        table = compare.compare_zones(
            incidents,
            zones,
            before=before,
            after=after,
            buffer_m=args.buffer_m,
            control=control,
            areas=areas,
            categories=categories,
            window=args.window,
            zones_source="before_hotspots" if args.zones_from_before else "file",
        )
    except (ValueError, TypeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(str(exc)) from None
    if args.out is not None:
        if args.out.suffix.lower() == ".csv":
            compare_report.comparison_csv(table, before=before, after=after, path=args.out)
        else:
            series = compare.trend(
                incidents,
                zones,
                freq="MS",
                start=before.start,
                end=after.end,
                categories=categories,
                window=args.window,
            )
            compare_report.comparison_pdf(
                table,
                before=before,
                after=after,
                series=series,
                parameters=_parameters(args),
                path=args.out,
            )
    if args.json:
        records = compare_report.comparison_records(table, before=before, after=after)
        json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        summary = compare_report.summary_table(table)
        print(summary.to_string(index=False))
        for rec in table.to_dict("records"):
            for warning in rec[compare.WARNINGS]:
                print(f"varning – {rec[schema.NAME]}: {warning}", file=sys.stderr)
    return 0


def _parameters(args: argparse.Namespace) -> dict[str, str]:
    return {
        "Närområde (buffert)": f"{args.buffer_m:g} m",
        "Kontrollområde": args.control.name if args.control else "resten av området",
        "Kategorier": args.categories or "alla",
        "Tidsfönster": args.window or "hela dygnet",
        "Zoner": args.zones.name,
        "Händelser": args.incidents.name,
    }
