"""``lagesbild hotspots``: Gi* cells, density clusters and ranked zones to a GeoPackage.

Reads incidents (column mapping as ``lagesbild validate``), optional dialogue places,
boundaries and gazetteer, keeps the period, categories and time window, runs
``geo.analysis.run_hotspots`` and writes the layers ``cells`` and ``zones`` (and
``clusters`` for the density methods) to ``--out``. ``--json`` prints the parameters used
with their reasons, the counts and the top zones per area. See docs/zones.md.

National scale (a kommun or police-area file and millions of incidents): the areas are
analysed a group at a time (``geo.analysis.iter_hotspots``), each group written to the
GeoPackage before the next is read, so memory is bounded by the group, not the country.
A progress bar goes to stderr when it is a terminal; stdout (``--json``) stays clean.
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
    select_incidents,
)
from geo.errors import InputError

TOP_ZONES = 3
METHODS = ("gistar", "dbscan", "hdbscan")
CELL_CHOICES = ("auto", "all", "occupied")


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
    p.add_argument(
        "--cells", choices=CELL_CHOICES, default="auto",
        help="cells written: all, or occupied (with incidents or dialogue mentions, or "
        "significant); auto: all unless the run has more than --batch-incidents incidents "
        "or more than 50 areas",
    )  # fmt: skip
    p.add_argument("--batch-incidents", type=int, default=None, metavar="N",
                   help="analyse areas in groups of about N incidents (default 1000000)")  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
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
            "cells": len(run.cells) if run.cells_analysed is None else run.cells_analysed,
            "cells_written": len(run.cells),
            "hot_cells": int((run.cells[schema.GI_BIN] >= 2).sum()),
            "zones": len(zones),
            "clusters": None if run.clusters is None else len(run.clusters),
        },
        "top_zones": top,
        "messages": list(notes or []) + list(run.messages),
    }


def _merge(total: dict | None, part: dict) -> dict:
    """Two groups' summaries as one: parameters and messages once each, counts added."""
    if total is None:
        return part
    seen = {json.dumps(p, sort_keys=True) for p in total["parameters"]}
    total["parameters"] += [
        p for p in part["parameters"] if json.dumps(p, sort_keys=True) not in seen
    ]
    for key, value in part["counts"].items():
        if key.startswith("incidents_"):
            continue
        if value is not None:
            total["counts"][key] = (total["counts"][key] or 0) + value
    total["top_zones"].update(part["top_zones"])
    total["messages"] += [m for m in part["messages"] if m not in total["messages"]]
    return total


class _Writer:
    """Layers of one GeoPackage, appended group by group (the file is created by the first)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written: set[str] = set()
        path.unlink(missing_ok=True)

    def write(self, layer: str, frame) -> None:
        import pyogrio

        if frame is None or (len(frame) == 0 and layer in self.written):
            return
        # multi-polygons throughout: groups after the first append to the first one's type
        pyogrio.write_dataframe(
            frame,
            self.path,
            layer=layer,
            driver="GPKG",
            append=layer in self.written,
            promote_to_multi=True,
        )
        self.written.add(layer)


def _progress_bar(enabled: bool):
    """A rich progress bar on stderr over the areas analysed, the wrapper run_hotspots takes
    and the plan callback of iter_hotspots (all None when disabled or stderr is not a
    terminal). Without a plan the total is the first group's number of areas."""
    import sys

    if not enabled or not sys.stderr.isatty():
        return None, None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    task = bar.add_task("Områden analyseras", total=None)

    def plan(total: int) -> None:
        bar.update(task, total=total)

    def wrap(areas):
        areas = list(areas)
        if bar.tasks[0].total is None:
            plan(len(areas))
        for area in areas:
            yield area
            bar.advance(task)

    return bar, wrap, plan


def run(args: argparse.Namespace) -> int:
    from geo import timewin
    from geo.analysis import BATCH_AREAS, BATCH_INCIDENTS, NATIONAL_AREA_CELLS, iter_hotspots
    from geo.patrol import study_area

    check_out(args.out, (".gpkg",))
    batch = BATCH_INCIDENTS if args.batch_incidents is None else args.batch_incidents
    if batch < 1:
        raise InputError(f"--batch-incidents var {batch}; ange ett positivt antal händelser.")
    inputs = load_inputs(args)
    incidents = inputs.incidents
    chosen = select_incidents(args, inputs)
    areas = inputs.areas if inputs.areas is not None else study_area(incidents, buffer_m=250)
    grouped = len(chosen) > batch or len(areas) > BATCH_AREAS
    cells_mode = args.cells if args.cells != "auto" else ("occupied" if grouped else "all")
    bar, wrap, plan = _progress_bar(not args.no_progress)
    tmp = args.out.with_name(args.out.name + ".tmp.gpkg")
    out = _Writer(tmp)
    info = None
    try:
        if bar is not None:
            bar.start()
        with input_errors():
            for hot in iter_hotspots(
                chosen,
                areas,
                max_batch_incidents=batch,
                progress=wrap,
                plan=plan,
                dialogue=inputs.dialogue,
                gazetteer=inputs.gazetteer,
                method=args.method,
                cell_size_m=args.cell_size_m,
                band_m=args.band_m,
                eps_m=args.eps_m,
                min_weight=args.min_weight,
                include_centre_points=args.include_centre_points,
                max_zone_km2=args.max_zone_km2,
                cells=cells_mode,
                max_cells=NATIONAL_AREA_CELLS if grouped else None,
            ):
                info = _merge(info, summary(hot, len(incidents), len(chosen)))
                out.write("cells", hot.cells)
                out.write("zones", hot.zones)
                out.write("clusters", hot.clusters)
                del hot
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.stop()
    os.replace(tmp, args.out)
    if info["counts"]["cells_written"] < info["counts"]["cells"]:
        info["messages"].append(
            f"Lagret cells har de {info['counts']['cells_written']} rutor som har händelser eller "
            f"dialogomnämnanden eller är signifikanta, av {info['counts']['cells']} analyserade "
            "(--cells all skriver alla)."
        )
    undated = timewin.date_only_note(chosen[schema.OCCURRED_AT], args.window)
    if undated:
        info["messages"].insert(0, undated)
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
