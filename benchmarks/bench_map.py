"""Map payload and build time with many incidents: geo.maps vs naive folium GeoJson points.

Run: .venv/bin/python benchmarks/bench_map.py [N ...]   (default 10000 100000)
Baseline and ours run back to back in one process so the ratio holds on a busy machine.
"""

from __future__ import annotations

import platform
import sys
import time
from types import SimpleNamespace

import folium
import geopandas as gpd
import numpy as np
from shapely.geometry import box

from geo import maps, schema
from geo.assets import use_local_assets


def _data(n: int):
    rng = np.random.default_rng(1)
    x0, y0 = 660_000, 6_583_000
    # half spread over the area, half in three hotspots: like the demo data
    spread = rng.uniform([x0, y0], [x0 + 8000, y0 + 10000], size=(n // 2, 2))
    centres = np.array([[x0 + 3000, y0 + 4000], [x0 + 5000, y0 + 7000], [x0 + 1500, y0 + 2000]])
    hot = centres[rng.integers(0, 3, n - n // 2)] + rng.normal(0, 120, (n - n // 2, 2))
    xy = np.vstack([spread, hot])
    incidents = gpd.GeoDataFrame(
        {schema.CATEGORY: [schema.VIOLENCE] * n, schema.WEIGHT: np.ones(n)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=schema.CRS_METRIC,
    )
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["a"], schema.AREA_NAME: ["Järfälla"]},
        geometry=[box(x0, y0, x0 + 8000, y0 + 10000)],
        crs=schema.CRS_METRIC,
    )
    return incidents, areas


def naive(incidents, areas):
    m = folium.Map(location=[59.42, 17.83], zoom_start=12, tiles=None)
    folium.GeoJson(incidents.to_crs(4326).to_json()).add_to(m)
    return m


def ours(incidents, areas, layer):
    return maps.hotspot_map(
        SimpleNamespace(zones=None, cells=None), areas, incidents=incidents, incident_layer=layer
    )


def measure(fn, *args):
    t = time.perf_counter()
    m = fn(*args)
    html = m.get_root().render()
    return time.perf_counter() - t, len(html.encode())


def main(sizes):
    use_local_assets()
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()} python {platform.python_version()} {time.strftime('%Y-%m-%d')}"
    )
    print("| n | map | build+render s | HTML MB | size vs naive | time vs naive |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        incidents, areas = _data(n)
        t0, s0 = measure(naive, incidents, areas)
        print(
            f"| {n} | naive GeoJson points (baseline) | {t0:.2f} | {s0 / 1e6:.2f} | 1.00 | 1.00 |"
        )
        for layer in ("heat", "points"):
            t, s = measure(ours, incidents, areas, layer)
            label = "geo.maps heat" if layer == "heat" else "geo.maps heat + FastMarkerCluster"
            print(f"| {n} | {label} | {t:.2f} | {s / 1e6:.2f} | {s / s0:.3f} | {t / t0:.2f} |")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
