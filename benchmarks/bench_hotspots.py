"""The whole hotspot run: ``geo.analysis.run_hotspots`` from a loaded frame to zones.

1 000 000 incidents (Gaussian blobs over a 20 × 20 km kommun split into 4 areas, 10 %
noise, timestamps over a year), method "gistar" with automatic cell size and band, and
"dbscan" with automatic parameters, each also at 100 000 incidents (the ratio of the peaks
checks that memory grows no faster than the data); 100 000 incidents for "hdbscan".
Baseline beside it: the plain library calls for the same job at a size they manage —
scikit-learn DBSCAN on 100k points plus shapely hulls. Memory: tracemalloc peak of the
call and the process peak RSS so far.
Usage: ``.venv/bin/python benchmarks/bench_hotspots.py``.
"""

from __future__ import annotations

import platform
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from bench_clusters import blobs, rss_mb, run  # noqa: E402  (same generator)
from sklearn.cluster import DBSCAN

from geo import schema
from geo.analysis import run_hotspots

ORIGIN = np.array([660_000.0, 6_580_000.0])  # SWEREF 99 TM, near Stockholm


def frame(n: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    xy = blobs(n) + ORIGIN
    rng = np.random.default_rng(2)
    t0 = pd.Timestamp("2018-01-01", tz=schema.TZ)
    times = t0 + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min")
    inc = gpd.GeoDataFrame(
        {
            schema.ID: np.arange(n).astype(str),
            schema.OCCURRED_AT: times,
            schema.CATEGORY: rng.choice(schema.CATEGORIES, n),
            schema.WEIGHT: 1.0,
            schema.AT_AREA_CENTRE: False,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=schema.CRS_METRIC,
    )
    boxes = [
        shapely.box(
            *(ORIGIN + [i * 10_000 - 1, j * 10_000 - 1]),
            *(ORIGIN + [i * 10_000 + 10_001, j * 10_000 + 10_001]),
        )
        for i in range(2)
        for j in range(2)
    ]
    areas = gpd.GeoDataFrame(
        {
            schema.AREA_ID: [f"a{k}" for k in range(4)],
            schema.AREA_NAME: [f"Område {k}" for k in range(4)],
        },
        geometry=boxes,
        crs=schema.CRS_METRIC,
    )
    return inc, areas


def measure(label, func, *args, **kwargs):
    out, secs, peak = run(func, *args, **kwargs)
    print(
        f"{label}: {secs:.2f} s, tracemalloc peak {peak:.0f} MB, process peak RSS {rss_mb():.0f} MB"
    )
    return out, secs, peak


def baseline(inc: gpd.GeoDataFrame) -> None:
    xy = np.column_stack([inc.geometry.x, inc.geometry.y])
    labels = DBSCAN(eps=150, min_samples=10).fit(xy).labels_
    for lab in np.unique(labels[labels >= 0]):
        shapely.convex_hull(shapely.multipoints(xy[labels == lab]))


def main() -> None:
    print(f"# {platform.node()} {platform.python_version()} {time.strftime('%Y-%m-%d')}")
    peaks: dict[tuple[str, int], float] = {}
    inc100, _ = frame(100_000)
    for n in (100_000, 1_000_000):
        inc, areas = frame(n)
        label = f"{n // 1000}k" if n < 1_000_000 else "1M"
        # The baseline again before each size, so every ratio is back to back.
        _, t_base, _ = measure("baseline 100k: sklearn DBSCAN + hulls", baseline, inc100)
        for method in ("gistar", "dbscan", "hdbscan"):
            if method == "hdbscan" and n > 100_000:
                continue  # the HDBSCAN target is for 100k incidents
            out, secs, peak = measure(
                f"ours {label} {method} (auto)", run_hotspots, inc, areas, method=method
            )
            peaks[method, n] = peak
            print(f"  {len(out.zones)} zones, choices {[(c.name, c.value) for c in out.choices]}")
            print(f"  ratio baseline (sklearn DBSCAN + hulls, 100k) / ours: x{t_base / secs:.2f}")
    for method in ("gistar", "dbscan"):
        ratio = peaks[method, 1_000_000] / peaks[method, 100_000]
        print(f"memory {method}: peak 1M / peak 100k = {ratio:.1f} (data x10)")


if __name__ == "__main__":
    main()
