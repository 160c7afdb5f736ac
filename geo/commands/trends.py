"""``lagesbild trends``: emerging hotspots (space-time cube, Gi*, Mann–Kendall) to a GeoPackage.

Reads incidents (column mapping as ``lagesbild validate``) and optional boundaries, keeps the
period, categories and time window, runs ``geo.spacetime.emerging_hotspots`` and writes the
layers ``cells`` (``category``, ``mk_tau``, ``mk_p``, ...) and ``bins`` (one row per cell and
step with its Gi* z) to ``--out``. ``--json`` prints the counts per category and per area, the
parameters with their reasons and the commander's sentence. See docs/space-time.md.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from geo.commands._mapping import (
    add_input_arguments,
    add_selection_arguments,
    check_out,
    input_errors,
    load_inputs,
    select_incidents,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``trends`` subcommand."""
    from geo.spacetime import STEPS

    p = subparsers.add_parser(
        "trends",
        help="emerging hotspots over time (new, intensifying, diminishing, ...); GeoPackage",
        description="Emerging Hot Spot Analysis: Gi* per cell and time step over space-time "
        "neighbours, a Mann-Kendall trend per cell and ArcGIS's categories.",
    )
    add_input_arguments(
        p, places=True, boundaries_help="area polygons (default: the incidents' hull)"
    )
    add_selection_arguments(p)
    a = p.add_argument_group("analysis (chosen from the data and reported when not given)")
    a.add_argument(
        "--step", choices=tuple(STEPS), default="month", help="time step (default month)"
    )
    a.add_argument("--cell-size", type=float, dest="cell_size_m", metavar="M",
                   help="cell size, metres (default: per area, 50-250 m)")  # fmt: skip
    a.add_argument("--band", type=float, dest="band_m", metavar="M",
                   help="distance band, metres (default: per area, at most 1000 m)")  # fmt: skip
    a.add_argument("--include-centre-points", action="store_true",
                   help="keep points stacked on an area's centre point")  # fmt: skip
    p.add_argument("--out", required=True, type=Path, metavar="FILE.gpkg",
                   help="GeoPackage with layers cells and bins")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print counts per category and area")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from geo import spacetime
    from geo.patrol import study_area

    check_out(args.out, (".gpkg",))
    inputs = load_inputs(args)
    incidents = inputs.incidents
    chosen = select_incidents(args, inputs)
    areas = inputs.areas if inputs.areas is not None else study_area(incidents, buffer_m=250)
    if inputs.areas is not None:
        from geo.analysis import innermost_areas

        areas, _notes = innermost_areas(areas)
    with input_errors():
        result = spacetime.emerging_hotspots(
            chosen,
            areas,
            step=args.step,
            cell_size_m=args.cell_size_m,
            band_m=args.band_m,
            start=args.start,
            end=args.end,
            gazetteer=inputs.gazetteer,
            include_centre_points=args.include_centre_points,
        )
    tmp = args.out.with_name(args.out.name + ".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    result.cells.to_file(tmp, layer="cells", driver="GPKG")
    bins = result.bins.assign(step_start=result.bins["step_start"].astype(str))
    import geopandas as gpd

    gpd.GeoDataFrame(bins).to_file(tmp, layer="bins", driver="GPKG")
    os.replace(tmp, args.out)
    info = {
        **spacetime.category_counts(result),
        "steps": result.steps,
        "step": result.step,
        "parameters": [
            {"name": c.name, "value": c.value, "reason": c.reason, "area_id": c.area_id}
            for c in result.choices
        ],
        "summary": spacetime.commander_summary(result),
        "messages": list(result.messages),
        "incidents_loaded": len(incidents),
        "incidents_selected": len(chosen),
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        hot = {k: v for k, v in info["categories"].items() if k != spacetime.NO_PATTERN}
        listed = ", ".join(f"{spacetime.CATEGORY_LABELS[k]} {v}" for k, v in sorted(hot.items()))
        print(f"{len(result.cells)} rutor, {len(result.steps)} tidssteg -> {args.out}")
        print(f"  {listed or 'inga mönster'}")
        print(f"  {info['summary']}")
        for note in result.messages:
            print(f"  {note}")
    return 0
