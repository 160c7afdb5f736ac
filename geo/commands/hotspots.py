"""``lagesbild hotspots``: Gi* cells, density clusters and ranked zones to a GeoPackage.

Reads incidents (column mapping as ``lagesbild validate``), optional dialogue places,
boundaries and gazetteer, keeps the period, categories and time window, runs
``geo.analysis.run_hotspots`` and writes the layers ``cells`` and ``zones`` (and
``clusters`` for the density methods) to ``--out``. ``--json`` prints the parameters used
with their reasons, the counts and the top zones per area. See docs/zones.md.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from geo import schema
from geo.commands._mapping import (
    add_input_arguments,
    add_selection_arguments,
    add_zone_cap_argument,
    check_out,
    input_errors,
    load_inputs,
    lov_calendars_from_args,
    split_list,
)

TOP_ZONES = 3
METHODS = ("gistar", "dbscan", "hdbscan")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hotspots`` subcommand."""
    p = subparsers.add_parser(
        "hotspots",
        help="find hotspot cells and ranked zones; write a GeoPackage",
        description="Getis-Ord Gi* cells, density clusters and ranked, named zones per area.",
    )
    add_input_arguments(
        p, places=True, boundaries_help="area polygons (default: the incidents' hull)"
    )
    add_selection_arguments(p)
    a = p.add_argument_group("analysis (chosen from the data and reported when not given)")
    a.add_argument("--method", choices=METHODS, default="gistar", help="default gistar")
    a.add_argument("--cell-size", type=float, dest="cell_size_m", metavar="M",
                   help="Gi* cell size, metres (default: per area, 50-250 m)")  # fmt: skip
    a.add_argument("--band", type=float, dest="band_m", metavar="M",
                   help="Gi* distance band, metres (default: per area, at most 1000 m)")  # fmt: skip
    a.add_argument("--eps", type=float, dest="eps_m", metavar="M", help="DBSCAN radius, metres")
    a.add_argument("--min-weight", type=float, metavar="W",
                   help="DBSCAN/HDBSCAN core or cluster weight")  # fmt: skip
    add_zone_cap_argument(a)
    a.add_argument("--include-centre-points", action="store_true",
                   help="keep points stacked on an area's centre point")  # fmt: skip
    p.add_argument("--out", required=True, type=Path, metavar="FILE.gpkg",
                   help="GeoPackage with layers cells, zones (and clusters)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print parameters, counts and top zones")
    p.set_defaults(func=run)


def summary(run, loaded: int, used: int, notes: list[str] | None = None) -> dict:
    """The ``--json`` object: parameters with reasons, counts, top zones per area, notes."""
    zones = run.zones
    top = {}
    for aid, grp in zones.groupby(schema.AREA_ID, sort=True):
        top[str(aid)] = [
            {
                "rank": int(r[schema.RANK]),
                "name": str(r[schema.NAME]),
                "incident_count": int(r[schema.INCIDENT_COUNT]),
                "dialogue_mentions": int(r[schema.DIALOGUE_MENTIONS]),
                "score": round(float(r[schema.SCORE]), 3),
                "pai": None if r[schema.PAI] != r[schema.PAI] else round(float(r[schema.PAI]), 3),
                "peak_hours": str(r[schema.PEAK_HOURS]),
            }
            for _, r in grp.nsmallest(TOP_ZONES, schema.RANK).iterrows()
        ]
    return {
        "parameters": [
            {"name": c.name, "value": c.value, "reason": c.reason, "area_id": c.area_id}
            for c in run.choices
        ],
        "counts": {
            "incidents_loaded": loaded,
            "incidents_selected": used,
            "cells": len(run.cells),
            "hot_cells": int((run.cells[schema.GI_BIN] >= 2).sum()),
            "zones": len(zones),
            "clusters": None if run.clusters is None else len(run.clusters),
        },
        "top_zones": top,
        "messages": list(notes or []) + list(run.messages),
    }


def run(args: argparse.Namespace) -> int:
    from geo import timewin
    from geo.analysis import run_hotspots
    from geo.patrol import study_area

    check_out(args.out, (".gpkg",))
    inputs = load_inputs(args)
    incidents = inputs.incidents
    with input_errors():
        chosen = timewin.filter_incidents(
            incidents,
            start=args.start,
            end=args.end,
            categories=split_list(args.categories),
            window=args.window,
            areas=inputs.areas,
            lov_calendars=lov_calendars_from_args(args),
        )
    areas = inputs.areas if inputs.areas is not None else study_area(incidents, buffer_m=250)
    with input_errors():
        hot = run_hotspots(
            chosen,
            areas,
            dialogue=inputs.dialogue,
            gazetteer=inputs.gazetteer,
            method=args.method,
            cell_size_m=args.cell_size_m,
            band_m=args.band_m,
            eps_m=args.eps_m,
            min_weight=args.min_weight,
            include_centre_points=args.include_centre_points,
            max_zone_km2=args.max_zone_km2,
        )
    tmp = args.out.with_name(args.out.name + ".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    hot.cells.to_file(tmp, layer="cells", driver="GPKG")
    hot.zones.to_file(tmp, layer="zones", driver="GPKG")
    if hot.clusters is not None:
        hot.clusters.to_file(tmp, layer="clusters", driver="GPKG")
    os.replace(tmp, args.out)
    undated = timewin.date_only_note(chosen[schema.OCCURRED_AT], args.window)
    notes = [undated] if undated else []
    info = summary(hot, len(incidents), len(chosen), notes)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(
            f"{info['counts']['zones']} zoner, {info['counts']['hot_cells']} heta celler av "
            f"{info['counts']['cells']} ({len(chosen)} av {len(incidents)} händelser) -> {args.out}"
        )
        for note in info["messages"]:
            print(f"  {note}")
    return 0
