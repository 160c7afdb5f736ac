"""``lagesbild zones``: choose helgförstärkning zones and export them.

Reads incidents (and optionally boundaries), keeps the period, categories and time window,
finds hotspots, chooses K zones (or zones within an area budget) by greedy maximal coverage,
and writes them as GeoJSON, KML, GeoPackage, CSV or a one-page PDF briefing. The file is
written only when everything succeeded (temp file + rename). See docs/patrol.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo import schema as S
from geo.commands._mapping import (
    add_input_arguments,
    add_selection_arguments,
    add_zone_cap_argument,
    check_out,
    load_inputs,
    lov_calendars_from_args,
    record_cli_export,
    split_list,
)
from geo.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    from geo.patrol import DEFAULT_WINDOW

    parser = subparsers.add_parser(
        "zones",
        help="choose helgförstärkning patrol zones and export them",
        description=(
            "Chooses patrol-focus zones that cover the most incidents in a time window "
            "(greedy maximal coverage over the hotspot zones), with recommended hours, hit "
            "rate, PAI and a persistence check, and writes them to --out "
            "(.geojson, .kml, .gpkg, .csv or .pdf). See docs/patrol.md."
        ),
    )
    add_input_arguments(
        parser, places=True, boundaries_help="area polygons (default: the incidents' hull)"
    )
    add_selection_arguments(
        parser,
        period=("12 months before --to", "the newest incident"),
        window=DEFAULT_WINDOW,
        categories=S.VIOLENCE,
        area_ids=True,
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--k", type=int, metavar="N",
                      help="number of zones (default 3, or fewer when there are fewer candidates)")  # fmt: skip
    size.add_argument("--budget-km2", type=float, metavar="X", help="total zone area in km²")
    add_zone_cap_argument(parser)
    parser.add_argument("--no-persistence", action="store_true", help="skip the persistence check")
    parser.add_argument("--who", metavar="NAME",
                        help="name recorded in the export metadata (default: OS user)")  # fmt: skip
    parser.add_argument("--out", required=True, type=Path, metavar="FILE",
                        help="FILE.geojson, .kml, .gpkg, .csv or .pdf")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def summary(plan, out: Path) -> dict:
    """The plan as a JSON-able dict (what ``--json`` prints)."""
    from geo.exports import export_frame, metadata

    frame = export_frame(plan.zones)
    zones = json.loads(frame.drop(columns="geometry").to_json(orient="records", force_ascii=False))
    return {
        "out": str(out),
        "zones": zones,
        "parameters": metadata(plan.params),
        "warning": plan.warning,
        "persistence": _check(plan.persistence),
        "forward": _check(plan.forward),
        "messages": plan.messages,
    }


def _check(pers) -> dict | None:
    """A persistence check as JSON: shares (training, test), periods, verdict, sentence."""
    if pers is None:
        return None
    return {
        "train_share": round(pers.train_share, 4),
        "test_share": round(pers.test_share, 4),
        "periods": {k: [str(t.date()) for t in v] for k, v in pers.periods.items()},
        "label": pers.label,
        "message": pers.message,
    }


def run(args: argparse.Namespace) -> int:
    from geo.exports import export_zones, format_of
    from geo.patrol import plan_zones

    format_of(args.out)  # a bad suffix stops before any work
    check_out(args.out)
    if args.k is not None and args.k < 1:
        raise InputError(f"--k måste vara minst 1, fick {args.k}.")
    if args.budget_km2 is not None and not args.budget_km2 > 0:
        raise InputError(f"--budget-km2 måste vara större än 0, fick {args.budget_km2}.")
    inputs = load_inputs(args)
    plan = plan_zones(
        inputs.incidents,
        inputs.areas,
        window=args.window,
        categories=split_list(args.categories),
        start=args.start,
        end=args.end,
        area_ids=split_list(args.areas),
        dialogue=inputs.dialogue,
        gazetteer=inputs.gazetteer,
        k=args.k,
        budget_km2=args.budget_km2,
        check_persistence=not args.no_persistence,
        who=args.who,
        lov_calendars=lov_calendars_from_args(args),
        max_zone_km2=args.max_zone_km2,
    )
    export_zones(
        plan.zones,
        args.out,
        params=plan.params,
        who=args.who,
        areas=plan.areas,
        persistence=plan.persistence,
        forward=plan.forward,
        places=inputs.gazetteer,
    )
    record_cli_export("zones", args.out, zones=len(plan.zones), **plan.params)
    info = summary(plan, args.out)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    checks = [c.message for c in (plan.forward, plan.persistence) if c is not None]
    if plan.warning:
        print(f"VARNING: {plan.warning}", file=sys.stderr)
    for note in plan.messages:
        if note not in checks:  # printed below, on stdout
            print(f"OBS: {note}", file=sys.stderr)
    print(
        f"{len(plan.zones)} zoner för {plan.params['window']} "
        f"({plan.params['start']} – {plan.params['end']}) skrivna till {args.out}"
    )
    for z in info["zones"]:
        print(
            f"  {z.get('pick', '')}. {z[S.NAME]}: {z.get('recommended_hours', '–')}, "
            f"{z.get(S.INCIDENT_COUNT)} händelser, träffandel {z.get(S.HIT_RATE, 0):.0%}, "
            f"kumulativt {z.get('cumulative_hit_rate', 0):.0%}, PAI {z.get(S.PAI)}"
        )
    for message in checks:
        print(message)
    return 0
