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
import sys
from pathlib import Path

import geopandas as gpd
import shapely

from geo import schema
from geo.commands._mapping import add_mapping_arguments, mapping_from_args
from geo.errors import InputError

TOP_ZONES = 3
METHODS = ("gistar", "dbscan", "hdbscan")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hotspots`` subcommand."""
    p = subparsers.add_parser(
        "hotspots",
        help="find hotspot cells and ranked zones; write a GeoPackage",
        description="Getis-Ord Gi* cells, density clusters and ranked, named zones per area.",
    )
    p.add_argument("--incidents", required=True, type=Path, help="incident file")
    add_mapping_arguments(p)
    p.add_argument("--dialogue", type=Path, help="dialogue places (otrygga platser)")
    p.add_argument("--gazetteer", type=Path, help="named places for zone names (name,kind,lon,lat)")
    p.add_argument("--boundaries", type=Path, help="area polygons (default: the incidents' hull)")
    p.add_argument("--area-id-col", help="column of the boundary file with the area id")
    p.add_argument("--area-name-col", help="column of the boundary file with the area name")
    p.add_argument("--from", dest="start", help="first day YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="last day YYYY-MM-DD")
    p.add_argument("--window", help='time window name or text, e.g. "natt" or "fre,lör 18-03"')
    p.add_argument("--categories", help="comma-separated categories")
    p.add_argument("--method", choices=METHODS, default="gistar", help="default gistar")
    p.add_argument("--cell-size", type=float, dest="cell_size_m", help="Gi* cell size, metres")
    p.add_argument("--band", type=float, dest="band_m", help="Gi* distance band, metres")
    p.add_argument("--eps", type=float, dest="eps_m", help="DBSCAN radius, metres")
    p.add_argument("--min-weight", type=float, help="DBSCAN/HDBSCAN core or cluster weight")
    p.add_argument("--include-centre-points", action="store_true",
                   help="keep points stacked on an area's centre point")  # fmt: skip
    p.add_argument("--out", required=True, type=Path, help="FILE.gpkg")
    p.add_argument("--json", action="store_true", help="print parameters, counts and top zones")
    p.set_defaults(func=run)


def _areas(args, incidents) -> gpd.GeoDataFrame:
    if args.boundaries is None:
        hull = shapely.buffer(
            shapely.convex_hull(shapely.union_all(incidents.geometry.values)), 250
        )
        return gpd.GeoDataFrame(
            {schema.AREA_ID: ["alla"], schema.AREA_NAME: ["Alla händelser"]},
            geometry=[hull],
            crs=incidents.crs,
        )
    from geo.io import load_boundaries

    return load_boundaries(
        args.boundaries, id_col=args.area_id_col, name_col=args.area_name_col
    ).frame


def summary(run, loaded: int, used: int) -> dict:
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
        "parameters": [{"name": c.name, "value": c.value, "reason": c.reason} for c in run.choices],
        "counts": {
            "incidents_loaded": loaded,
            "incidents_selected": used,
            "cells": len(run.cells),
            "hot_cells": int((run.cells[schema.GI_BIN] >= 2).sum()),
            "zones": len(zones),
            "clusters": None if run.clusters is None else len(run.clusters),
        },
        "top_zones": top,
        "messages": list(run.messages),
    }


def run(args: argparse.Namespace) -> int:
    from geo import timewin
    from geo.analysis import run_hotspots
    from geo.io import load_dialogue, load_gazetteer, load_incidents

    if args.out.suffix.lower() != ".gpkg":
        raise InputError(f'--out {args.out.name}: okänt format "{args.out.suffix}", använd .gpkg')
    mapping, category_map = mapping_from_args(args)
    result = load_incidents(
        args.incidents,
        mapping=mapping,
        category_map=category_map,
        layer=args.layer,
        crs=args.crs,
        time_format=args.time_format,
    )
    if len(result.rejected):
        print(
            f"lagesbild hotspots: {len(result.rejected)} av {result.rows} rader i "
            f"{args.incidents.name} avvisades (se lagesbild validate).",
            file=sys.stderr,
        )
    incidents = result.frame
    if incidents.empty:
        raise InputError(f"{args.incidents.name}: inga händelser kunde läsas in.")
    categories = [c.strip() for c in args.categories.split(",")] if args.categories else None
    try:
        chosen = timewin.filter_incidents(
            incidents, start=args.start, end=args.end, categories=categories, window=args.window
        )
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    areas = _areas(args, incidents)
    dialogue = load_dialogue(args.dialogue).frame if args.dialogue else None
    gazetteer = load_gazetteer(args.gazetteer).frame if args.gazetteer else None
    try:
        hot = run_hotspots(
            chosen,
            areas,
            dialogue=dialogue,
            gazetteer=gazetteer,
            method=args.method,
            cell_size_m=args.cell_size_m,
            band_m=args.band_m,
            eps_m=args.eps_m,
            min_weight=args.min_weight,
            include_centre_points=args.include_centre_points,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    tmp = args.out.with_name(args.out.name + ".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    hot.cells.to_file(tmp, layer="cells", driver="GPKG")
    hot.zones.to_file(tmp, layer="zones", driver="GPKG")
    if hot.clusters is not None:
        hot.clusters.to_file(tmp, layer="clusters", driver="GPKG")
    os.replace(tmp, args.out)
    info = summary(hot, len(incidents), len(chosen))
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(
            f"{info['counts']['zones']} zoner, {info['counts']['hot_cells']} heta celler av "
            f"{info['counts']['cells']} ({len(chosen)} av {len(incidents)} händelser) -> {args.out}"
        )
        for note in hot.messages:
            print(f"  {note}")
    return 0
