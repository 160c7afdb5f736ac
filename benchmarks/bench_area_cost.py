"""What one area costs in a national run: ``run_hotspots`` on one kommun at a time.

Loads a national file from ``make_national.py`` (default: 1 000 000 incidents) and the 290
real kommuner, then times ``geo.analysis.run_hotspots`` for single kommuner of different
kinds (a city, a suburb, a median kommun, the largest) with the national grid cap
(``NATIONAL_AREA_CELLS``, ``cells="occupied"``). Prints incidents, cells analysed and
written, cell size, band, seconds and the peak traced memory (tracemalloc, second run).
These per-area costs are what docs/ARCHITECTURE.md "Past one machine" reasons from.
Usage: ``.venv/bin/python benchmarks/bench_area_cost.py FILE.parquet``.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from geo import schema
from geo.analysis import NATIONAL_AREA_CELLS, run_hotspots
from geo.guards import local_files
from geo.io import flag_centre_points, load_boundaries, load_incidents
from geo.spatial import locate_points

KOMMUNER = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/boundaries/se-kommuner-scb/kommun.parquet"
)
NAMES = ("Stockholm", "Järfälla", "Nykvarn", "Östersund", "Kiruna")


def main(path: str) -> None:
    with local_files():
        inc = load_incidents(path, mapping={"x": "x", "y": "y", "time": "tid", "category": "brottstyp"},
                             crs="EPSG:3006").frame  # fmt: skip
        areas = load_boundaries(KOMMUNER).frame
    inc = flag_centre_points(inc, areas)
    xy = np.column_stack([inc.geometry.x, inc.geometry.y])
    where = locate_points(xy[:, 0], xy[:, 1], areas.geometry.values)
    for name in NAMES:
        i = int(np.flatnonzero(areas[schema.AREA_NAME].to_numpy() == name)[0])
        sub, area = inc.iloc[np.flatnonzero(where == i)], areas.iloc[[i]]
        opts = {"cells": "occupied", "max_cells": NATIONAL_AREA_CELLS}
        t = time.perf_counter()
        run = run_hotspots(sub, area, **opts)
        s = time.perf_counter() - t
        tracemalloc.start()
        run_hotspots(sub, area, **opts)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        c = {ch.name: ch.value for ch in run.choices if ch.name in ("cell_size_m", "band_m")}
        print(f"{name}: {len(sub)} incidents, {area.geometry.area.iloc[0] / 1e6:.0f} km², "
              f"{run.cells_analysed} cells analysed, {len(run.cells)} written, "
              f"cell {c['cell_size_m']:g} m, band {c['band_m']:g} m, {len(run.zones)} zones, "
              f"{s:.2f} s, peak {peak:.0f} MB", flush=True)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
