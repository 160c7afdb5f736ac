"""Zone figures on the real incident pattern and on the demo, for docs/zones.md.

Runs ``geo.analysis.run_hotspots`` with every method on San Francisco's 2012 incidents
moved onto Farsta (``../shared/data/incidents/sf-2012``) — with no boundaries, with
Stockholm's stadsdelar and with Sweden's kommuner — and on the demo's evening and night
violence of 2017 in Järfälla, and prints one Markdown table: zones, zone sizes, the top
five zones' incidents, PAI and hit rate, and the automatic parameters chosen.
Usage: ``.venv/bin/python benchmarks/zones_real_pattern.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import shapely

from geo import demo, io, schema, timewin
from geo.analysis import run_hotspots
from geo.patrol import study_area

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SF = SHARED / "incidents" / "sf-2012" / "sf2012_moved_to_farsta_sweref99tm.csv"
MAPPING = {"x": "x", "y": "y", "time": "datum", "category": "brottstyp", "id": "arendenummer"}


def _inputs():
    inc = io.load_incidents(SF, mapping=MAPPING, crs="EPSG:3006").frame
    yield "sf-2012, inga gränser", inc, study_area(inc, buffer_m=250), None
    sdl = SHARED / "boundaries/stockholm-stadsdelar/geojson/fullsize/stadsdelar.geo.json"
    yield "sf-2012, stadsdelar", inc, io.load_boundaries(sdl).frame, None
    kommuner = io.load_boundaries(
        SHARED / "boundaries/se-kommuner-scb/kommun.geojson",
        id_col="kommun_kod",
        name_col="kommun",
        level="kommun",
    ).frame
    yield "sf-2012, kommuner", inc, kommuner, None
    paths = demo.demo_paths()
    areas = io.load_boundaries(paths["areas"]).frame
    dinc = io.load_incidents(paths["incidents"], category_map=paths["category_map"]).frame
    dinc = io.flag_centre_points(dinc, areas)
    chosen = timewin.filter_incidents(
        dinc,
        start="2017-01-01",
        end="2017-12-31",
        categories=[schema.VIOLENCE],
        window="kväll och natt",
    )
    jarfalla = areas[areas[schema.LEVEL].eq("kommun")]
    yield "demo, Järfälla kommun", chosen, jarfalla, io.load_gazetteer(paths["gazetteer"]).frame


def _span(values) -> str:
    values = sorted(set(values))
    if not values:
        return "–"
    return f"{values[0]:g}" if len(values) == 1 else f"{values[0]:g}–{values[-1]:g}"


def main() -> None:
    warnings.filterwarnings("ignore")
    print(
        "| data | method | areas | zones | zone km² median / max | top-5 incidents | "
        "top-5 PAI | top-5 hit rate | cells m | band m | eps m |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, inc, areas, gaz in _inputs():
        inc = io.flag_centre_points(inc, areas)
        for method in ("gistar", "dbscan", "hdbscan"):
            run = run_hotspots(inc, areas, method=method, gazetteer=gaz)
            z = run.zones
            top = z.nlargest(5, schema.INCIDENT_COUNT)
            km2 = z.geometry.area.to_numpy() / 1e6
            # hit rate and PAI of the five, against the areas they lie in (union, no overlap)
            n = float(top[schema.INCIDENT_COUNT].sum())
            big_n = float(run.cells[schema.COUNT].sum())
            a = float(shapely.union_all(top.geometry.values).area / 1e6)
            analysed = set(run.cells[schema.AREA_ID])
            big_a = float(areas[areas[schema.AREA_ID].astype(str).isin(analysed)].area.sum() / 1e6)
            choice = {
                name: [c.value for c in run.choices if c.name == name]
                for name in ("cell_size_m", "band_m", "eps_m")
            }
            print(
                f"| {label} | {method} | {len(analysed)} | {len(z)} | "
                f"{np.median(km2):.3f} / {km2.max():.3f} | {n:.0f} of {big_n:.0f} | "
                f"{(n / big_n) / (a / big_a):.0f} | {n / big_n:.0%} | "
                f"{_span(choice['cell_size_m'])} | {_span(choice['band_m'])} | "
                f"{_span(choice['eps_m'])} |"
            )


if __name__ == "__main__":
    main()
