"""``lagesbild compare``: before/after figures per zone as a table, JSON, CSV or PDF."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from geo import compare, compare_report
from geo.commands._mapping import (
    add_input_arguments,
    add_selection_arguments,
    check_out,
    input_errors,
    load_inputs,
    load_polygons,
    lov_calendars_from_args,
    record_cli_export,
    split_list,
)
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
    add_input_arguments(
        parser, boundaries_help="area polygons: one total row per area and the default control"
    )
    parser.add_argument("--zones", required=True, type=Path, metavar="FILE",
                        help="zone polygons (GeoJSON, GeoPackage, ...)")  # fmt: skip
    parser.add_argument(
        "--zone-id-col", metavar="C", help="column of the zone file with the zone id"
    )
    parser.add_argument("--zone-name-col", metavar="C",
                        help="column of the zone file with the zone name (default: name)")  # fmt: skip
    parser.add_argument("--zones-layer", metavar="L",
                        help='layer of the zone file (default: "zones" when a GeoPackage has it)')  # fmt: skip
    parser.add_argument("--before", required=True, metavar="START:END",
                        help="before period YYYY-MM-DD:YYYY-MM-DD")  # fmt: skip
    parser.add_argument("--after", required=True, metavar="START:END",
                        help="after period YYYY-MM-DD:YYYY-MM-DD")  # fmt: skip
    parser.add_argument("--data-until", metavar="YYYY-MM-DD",
                        help="the last day the incident file covers (default: its last "
                        "incident); periods reaching past it are cut to the data")  # fmt: skip
    parser.add_argument("--buffer-m", type=float, default=compare.DEFAULT_BUFFER_M, metavar="M",
                        help="width of the buffer ring around each zone in metres "
                        f"(default {compare.DEFAULT_BUFFER_M:g})")  # fmt: skip
    parser.add_argument("--control", type=Path, metavar="FILE",
                        help="control area polygons (default: per zone, the rest of its "
                        "kommun / LPO outside the zones and rings)")  # fmt: skip
    parser.add_argument("--control-layer", metavar="L", help="layer of the control file")
    add_selection_arguments(parser, period=None)
    parser.add_argument(
        "--zones-from-before",
        action="store_true",
        help="the zones were picked from the before period (adds the regression warning)",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write FILE.csv or FILE.pdf")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one per zone")
    parser.set_defaults(func=run)


def parse_periods(before: str, after: str) -> tuple[Period, Period]:
    """Parse and check the two ``--before``/``--after`` texts (InputError if bad)."""
    periods = Period.parse(before), Period.parse(after)
    compare.check_periods(*periods)
    return periods


def run(args: argparse.Namespace) -> int:
    before, after = parse_periods(args.before, args.after)
    if args.out is not None:
        check_out(args.out, _OUT_SUFFIXES)
    categories = split_list(args.categories)
    inputs = load_inputs(args)
    incidents = inputs.incidents
    zones, notes = compare.load_zones(
        args.zones, id_col=args.zone_id_col, name_col=args.zone_name_col, layer=args.zones_layer
    )
    for note in notes:
        print(f"lagesbild compare: {note}", file=sys.stderr)
    control = None
    if args.control is not None:
        layer, _ = compare.pick_layer(args.control, args.control_layer, option="--control-layer")
        control = load_polygons(args, args.control, layer=layer)
    with input_errors():
        until = None
        if args.data_until:
            try:
                until = date.fromisoformat(args.data_until)
            except ValueError:
                raise InputError(
                    f'--data-until "{args.data_until}" är inte ett datum ÅÅÅÅ-MM-DD.'
                ) from None
        coverage = compare.data_coverage(incidents, until=until)
        periods = compare.cover_periods(before, after, coverage)
        table = compare.compare_zones(
            incidents,
            zones,
            before=before,
            after=after,
            buffer_m=args.buffer_m,
            control=control,
            areas=inputs.areas,
            categories=categories,
            window=args.window,
            zones_source="before_hotspots" if args.zones_from_before else "file",
            lov_calendars=lov_calendars_from_args(args),
            coverage=coverage,
        )
    if args.out is not None:
        if args.out.suffix.lower() == ".csv":
            compare_report.comparison_csv(table, path=args.out)
        else:
            series = compare.trend(
                incidents,
                zones,
                freq="MS",
                start=periods.before.start,
                end=periods.after.end,
                categories=categories,
                window=args.window,
                coverage=coverage,
            )
            cells = None
            if inputs.areas is not None:
                cells = compare.change_grid(
                    incidents, inputs.areas, before=periods.before, after=periods.after,
                    cell_size_m=200, categories=categories, window=args.window,
                )  # fmt: skip
            compare_report.comparison_pdf(
                table,
                periods=periods,
                series=series,
                cells=cells,
                areas=inputs.areas,
                zones=zones,
                parameters=_parameters(args),
                path=args.out,
            )
        record_cli_export(
            "compare", args.out, before=str(before), after=str(after), **_parameters(args)
        )
    if args.json:
        records = compare_report.comparison_records(table, periods=periods)
        json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(f"Före: {periods.before} ({periods.before.days} dagar) · "
              f"Efter: {periods.after} ({periods.after.days} dagar) · {periods.coverage.describe()}")  # fmt: skip
        summary = compare_report.summary_table(table)
        print(summary.to_string(index=False))
        for name, headline, sentence in compare_report.verdict_lines(table):
            print(f"{name} – {headline}. {sentence}")
        print(compare_report.correction_text(int((table[compare.KIND] == "zon").sum())))
        for line in compare_report.warning_lines(table):
            print(f"varning – {line}", file=sys.stderr)
    return 0


def _parameters(args: argparse.Namespace) -> dict[str, str]:
    return {
        "Närområde (buffert)": f"{args.buffer_m:g} m",
        "Kontrollområde": args.control.name if args.control else "resten av zonens kommun/LPO",
        "Kategorier": args.categories or "alla",
        "Tidsfönster": args.window or "hela dygnet",
        "Zoner": args.zones.name,
        "Händelser": args.incidents.name,
    }
