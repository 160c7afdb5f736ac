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
from geo.commands.compare import _add_mapping_arguments
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
    parser.add_argument("--incidents", required=True, type=Path, help="incident file")
    _add_mapping_arguments(parser)
    parser.add_argument(
        "--boundaries", type=Path, help="area polygons (default: the incidents' hull)"
    )
    parser.add_argument("--area-id-col", help="column of the boundary file with the area id")
    parser.add_argument("--area-name-col", help="column of the boundary file with the area name")
    parser.add_argument("--areas", help="comma-separated area ids to plan for (default: all)")
    parser.add_argument(
        "--window",
        default=DEFAULT_WINDOW,
        help=f'time window, e.g. "{DEFAULT_WINDOW}" (default) or a name such as "natt"',
    )
    parser.add_argument(
        "--categories",
        default=S.VIOLENCE,
        help=f'comma-separated categories (default "{S.VIOLENCE}")',
    )
    parser.add_argument(
        "--from", dest="start", help="first day YYYY-MM-DD (default: 12 months back)"
    )
    parser.add_argument(
        "--to", dest="end", help="last day YYYY-MM-DD (default: the newest incident)"
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--k",
        type=int,
        help="number of zones (default 3, or fewer when there are fewer candidates)",
    )
    size.add_argument("--budget-km2", type=float, help="total zone area in km²")
    parser.add_argument("--no-persistence", action="store_true", help="skip the persistence check")
    parser.add_argument("--who", help="name recorded in the export metadata (default: OS user)")
    parser.add_argument(
        "--out", required=True, type=Path, help="FILE.geojson, .kml, .gpkg, .csv or .pdf"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def _load(args: argparse.Namespace):
    from geo.io import load_boundaries, load_incidents

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
            f"lagesbild zones: {len(result.rejected)} av {result.rows} rader i "
            f"{args.incidents.name} avvisades (se lagesbild validate).",
            file=sys.stderr,
        )
    areas = None
    if args.boundaries is not None:
        areas = load_boundaries(
            args.boundaries, id_col=args.area_id_col, name_col=args.area_name_col
        ).frame
    return result.frame, areas


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def summary(plan, out: Path) -> dict:
    """The plan as a JSON-able dict (what ``--json`` prints)."""
    from geo.exports import export_frame, metadata

    frame = export_frame(plan.zones)
    zones = json.loads(frame.drop(columns="geometry").to_json(orient="records", force_ascii=False))
    pers = plan.persistence
    return {
        "out": str(out),
        "zones": zones,
        "parameters": metadata(plan.params),
        "persistence": None
        if pers is None
        else {
            "train_share": round(pers.train_share, 4),
            "test_share": round(pers.test_share, 4),
            "label": pers.label,
            "message": pers.message,
        },
        "messages": plan.messages,
    }


def run(args: argparse.Namespace) -> int:
    from geo.exports import export_zones, format_of
    from geo.patrol import plan_zones

    format_of(args.out)  # a bad suffix stops before any work
    if not args.out.parent.is_dir():
        raise InputError(f'Mappen "{args.out.parent}" finns inte; kan inte skriva "{args.out}".')
    if args.k is not None and args.k < 1:
        raise InputError(f"--k måste vara minst 1, fick {args.k}.")
    if args.budget_km2 is not None and not args.budget_km2 > 0:
        raise InputError(f"--budget-km2 måste vara större än 0, fick {args.budget_km2}.")
    incidents, areas = _load(args)
    plan = plan_zones(
        incidents,
        areas,
        window=args.window,
        categories=_split(args.categories),
        start=args.start,
        end=args.end,
        area_ids=_split(args.areas),
        k=args.k,
        budget_km2=args.budget_km2,
        check_persistence=not args.no_persistence,
        who=args.who,
    )
    export_zones(
        plan.zones,
        args.out,
        params=plan.params,
        who=args.who,
        areas=plan.areas,
        persistence=plan.persistence,
    )
    info = summary(plan, args.out)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    for note in plan.messages:
        print(f"OBS: {note}", file=sys.stderr)
    print(
        f"{len(plan.zones)} zoner för {plan.params['window']} "
        f"({plan.params['start']} – {plan.params['end']}) skrivna till {args.out}"
    )
    for z in info["zones"]:
        print(
            f"  {z.get('pick', '')}. {z[S.NAME]}: {z.get('recommended_hours', '–')}, "
            f"{z.get(S.INCIDENT_COUNT)} incidenter, träffandel {z.get(S.HIT_RATE, 0):.0%}, "
            f"kumulativt {z.get('cumulative_hit_rate', 0):.0%}, PAI {z.get(S.PAI)}"
        )
    if plan.persistence is not None:
        print(f"Beständighet: {plan.persistence.message}")
    return 0
