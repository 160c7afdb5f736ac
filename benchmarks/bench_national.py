"""National scale and the whole process (issue 15): ``lagesbild hotspots`` as a user runs it.

Every case is a fresh process timed by ``/usr/bin/time -v`` (wall clock and peak RSS: the
whole process, imports and writing the GeoPackage included). Cases:

* ``national``: N incidents (``--n``, default 15 000 000) from ``make_national.py`` over the
  290 real kommuner, ``--boundaries kommun.parquet``, automatic parameters per kommun; the
  largest cell size chosen in any kommun is reported (target ≤ 250 m).
* ``plain``: 1 000 000 incidents in Gaussian blobs over 20 × 20 km (bench_clusters' generator),
  100 m cells, 300 m band: ``lagesbild hotspots --cell-size 100 --band 300`` against the plain
  geopandas + libpysal + esda pipeline for the same job (read Parquet, points, convex hull,
  100 m grid clipped to it, points counted per cell by a spatial join, ``DistanceBand`` and
  ``G_Local(star=True)``, the cells written to a GeoPackage), back to back.
* ``wide``: 1 000 000 incidents over 100 × 100 km (a million 100 m cells), 100 m / 300 m.

Usage::

    .venv/bin/python benchmarks/bench_national.py [national|plain|wide ...] [--n N]
        [--data DIR]   # where the generated Parquet files are kept (default /tmp/lagesbild-bench)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
KOMMUNER = ROOT.parent / "shared/data/boundaries/se-kommuner-scb/kommun.parquet"
MAPPING = ["--x-col", "x", "--y-col", "y", "--crs", "EPSG:3006", "--time-col", "tid",
           "--category-col", "brottstyp"]  # fmt: skip

PLAIN = r"""
import sys
import geopandas as gpd, numpy as np, pandas as pd, shapely
from esda.getisord import G_Local
from libpysal.weights import DistanceBand
src, out = sys.argv[1], sys.argv[2]
df = pd.read_parquet(src)
pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.x, df.y), crs=3006)
hull = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(pts.geometry.values)))
area = hull.buffer(250)
x0, y0, x1, y1 = area.bounds
xs, ys = np.meshgrid(np.arange(x0, x1, 100.0), np.arange(y0, y1, 100.0))
boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 100, ys.ravel() + 100)
boxes = boxes[shapely.intersects(area, boxes)]
cells = gpd.GeoDataFrame(geometry=shapely.intersection(boxes, area), crs=3006)
joined = gpd.sjoin(pts[["geometry"]], cells, predicate="within")
cells["count"] = joined.groupby("index_right").size().reindex(cells.index, fill_value=0)
w = DistanceBand.from_dataframe(cells.set_geometry(cells.centroid), threshold=300, binary=True,
                                silence_warnings=True)
g = G_Local(cells["count"].to_numpy(float), w, transform="B", star=True, permutations=0)
cells["gi_z"] = g.Zs
cells.to_file(out, layer="cells", driver="GPKG")
print(len(cells))
"""


def timed(cmd: list[str]) -> dict:
    """Run ``cmd`` under /usr/bin/time -v; wall seconds, peak RSS (GB), stdout."""
    t = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - t
    if proc.returncode:
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return {"s": round(wall, 1), "peak_gb": round(rss / 1024**2, 2), "stdout": proc.stdout}


def make_blobs(path: Path, n: int, side_m: float, seed: int = 1) -> Path:
    """Incidents in 60 Gaussian blobs (sd 50–400 m) plus 10 % noise over a square, Parquet."""
    if path.exists():
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, side_m, (max(60, int(60 * (side_m / 20_000) ** 2)), 2))
    sd = rng.uniform(50, 400, len(centres))
    k = rng.integers(0, len(centres), int(n * 0.9))
    xy = centres[k] + rng.normal(0, 1, (len(k), 2)) * sd[k, None]
    xy = np.vstack([xy, rng.uniform(0, side_m, (n - len(k), 2))])
    xy = np.clip(xy, 0, side_m) + [600_000.0, 6_500_000.0]
    minutes = rng.integers(0, 365 * 24 * 60, n)
    table = pa.table(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "tid": pa.array(
                np.datetime64("2018-01-01T00:00", "s") + (minutes * 60).astype("timedelta64[s]"),
                pa.timestamp("s"),
            ),
            "brottstyp": pa.array(rng.choice(["Misshandel", "Rån", "Stöld"], n)),
        }
    )
    pq.write_table(table, path, compression="zstd")
    return path


def hotspots(src: Path, out: Path, *extra: str) -> dict:
    cmd = [str(ROOT / ".venv/bin/lagesbild"), "hotspots", "--incidents", str(src), *MAPPING,
           "--out", str(out), "--json", "--no-progress", *extra]  # fmt: skip
    r = timed(cmd)
    info = json.loads(r.pop("stdout"))
    sizes = [p["value"] for p in info["parameters"] if p["name"] == "cell_size_m"]
    bands = [p["value"] for p in info["parameters"] if p["name"] == "band_m"]
    r.update(
        areas=len(sizes),
        max_cell_m=max(sizes),
        max_band_m=max(bands),
        cells=info["counts"]["cells"],
        cells_written=info["counts"]["cells_written"],
        zones=info["counts"]["zones"],
    )
    return r


def national(data: Path, n: int) -> dict:
    src = data / f"national-{n}.parquet"
    if not src.exists():
        subprocess.run([PY, str(ROOT / "benchmarks/make_national.py"), str(src), "--n", str(n)],
                       check=True)  # fmt: skip
    return hotspots(src, data / f"national-{n}.gpkg", "--boundaries", str(KOMMUNER))


def plain(data: Path) -> dict:
    src = make_blobs(data / "blobs-1m-20km.parquet", 1_000_000, 20_000.0)
    script = data / "plain_pipeline.py"
    script.write_text(PLAIN)
    base = timed([PY, str(script), str(src), str(data / "plain.gpkg")])
    base.pop("stdout")
    ours = hotspots(src, data / "ours-plain.gpkg", "--cell-size", "100", "--band", "300")
    return {"baseline": base, "ours": ours, "ratio": round(ours["s"] / base["s"], 2)}


def wide(data: Path) -> dict:
    src = make_blobs(data / "blobs-1m-100km.parquet", 1_000_000, 100_000.0)
    return hotspots(src, data / "ours-wide.gpkg", "--cell-size", "100", "--band", "300")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cases", nargs="*", default=["plain", "wide", "national"])
    p.add_argument("--n", type=int, default=15_000_000)
    p.add_argument("--data", type=Path, default=Path("/tmp/lagesbild-bench"))
    a = p.parse_args()
    a.data.mkdir(parents=True, exist_ok=True)
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    for case in a.cases:
        result = national(a.data, a.n) if case == "national" else globals()[case](a.data)
        print(case, json.dumps(result), f"(load {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
