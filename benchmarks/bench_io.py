"""Benchmark: load and validate a 1,000,000-row lon/lat incident CSV.

Generates the file (seeded) in a temporary folder, then times back to back in one process:

- baseline: plain ``pd.read_csv`` + ``gpd.points_from_xy`` + ``to_crs(EPSG:3006)`` (no time
  parsing, no validation);
- ours: ``geo.io.load_incidents`` (encoding and separator sniffing, column guesses, time
  parsing to Europe/Stockholm with DST handling, category mapping, Sweden check, duplicate
  ids, stacked-coordinate warning, EPSG:3006 points).

Run: ``.venv/bin/python benchmarks/bench_io.py [N_ROWS]``. Target: ours <= 5 s on the
2-core project machine. Prints one line per measurement and the ratio ours / baseline.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import schema
from geo.io import load_incidents

RAW_CATEGORIES = ["misshandel", "rån", "klotter", "cykelstöld", "rattfylleri", "bostadsinbrott"]


def make_csv(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write an incident CSV shaped like a police export: id, occurred_at, brottstyp, lon, lat."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 2 * 365 * 86400, n_rows)
    times = (pd.Timestamp("2017-01-01") + pd.to_timedelta(seconds, unit="s")).strftime(
        "%Y-%m-%d %H:%M"
    )
    pd.DataFrame(
        {
            "id": np.char.add("A", np.arange(n_rows).astype(str)),
            "occurred_at": times,
            "brottstyp": rng.choice(RAW_CATEGORIES, n_rows),
            "lon": np.round(17.7 + rng.random(n_rows) * 0.5, 6),
            "lat": np.round(59.2 + rng.random(n_rows) * 0.3, 6),
        }
    ).to_csv(path, index=False)


def baseline(path: Path) -> gpd.GeoDataFrame:
    df = pd.read_csv(path)
    points = gpd.points_from_xy(df["lon"], df["lat"], crs=schema.CRS_WGS84)
    return gpd.GeoDataFrame(df, geometry=points).to_crs(schema.CRS_METRIC)


def timed(func, *args):
    t0 = time.perf_counter()
    out = func(*args)
    return out, time.perf_counter() - t0


def peak_rss_mib(which: str, path: Path) -> float:
    """Peak resident memory of a fresh process that imports everything and runs `which` once."""
    cmd = [sys.executable, __file__, "--peak", which, str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _peak_child(which: str, path: str) -> None:
    (baseline if which == "baseline" else load_incidents)(Path(path))
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork + exec (the parent's peak)
    status = Path("/proc/self/status").read_text()
    print(int(status.split("VmHWM:")[1].split()[0]) / 1024)


def main(n_rows: int = 1_000_000, repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incidents.csv"
        make_csv(path, n_rows)
        size_mb = path.stat().st_size / 2**20
        print(f"# {n_rows:,} rows, {size_mb:.0f} MB, {platform.node()} {platform.machine()}, "
              f"Python {platform.python_version()}, {pd.Timestamp.now():%Y-%m-%d}")  # fmt: skip
        best = {"baseline": np.inf, "load_incidents": np.inf}
        for _ in range(repeats):
            _, t_base = timed(baseline, path)
            res, t_ours = timed(load_incidents, path)
            best["baseline"] = min(best["baseline"], t_base)
            best["load_incidents"] = min(best["load_incidents"], t_ours)
            print(f"baseline {t_base:.2f} s   load_incidents {t_ours:.2f} s")
        if res.loaded != n_rows:
            raise RuntimeError(f"expected {n_rows} loaded rows, got {res.loaded}: {res.reasons}")
        mem = {which: peak_rss_mib(which, path) for which in best}
        print(f"peak RSS (fresh process, imports included): baseline {mem['baseline']:.0f} MiB, "
              f"load_incidents {mem['load_incidents']:.0f} MiB")  # fmt: skip
        ratio = best["load_incidents"] / best["baseline"]
        print(f"best: baseline {best['baseline']:.2f} s, load_incidents "
              f"{best['load_incidents']:.2f} s, ratio {ratio:.2f}")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--peak":
        _peak_child(sys.argv[2], sys.argv[3])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
