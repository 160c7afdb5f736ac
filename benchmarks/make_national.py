"""Synthetic national incidents inside Sweden's real kommun boundaries, as plain Parquet.

Writes ``N`` incidents (default 15 000 000, ten years of Swedish offences) over the 290
kommuner of ``../shared/data/boundaries/se-kommuner-scb/kommun.parquet`` (SCB geometry,
reprojected to SWEREF 99 TM). Each kommun gets a share drawn from a lognormal (cities and
small kommuner alike; at least ``MIN_PER_KOMMUN``), and inside it the incidents follow a
real-looking uneven pattern: a few town centres (Gaussian, sd 300–1500 m) holding 60 %,
small hotspots (sd 30–80 m: a station, a square) holding 25 %, and 15 % spread uniformly
over the kommun. Every point lies inside its kommun (rejection sampling against the
polygon); the rows are shuffled over the whole country. Columns: ``x, y`` (EPSG:3006, float64), ``tid`` (local time, naive timestamp over
2015–2024), ``brottstyp`` (raw Swedish offence names, dictionary-encoded) — the layout of a
police export converted to Parquet.

Usage::

    .venv/bin/python benchmarks/make_national.py OUT.parquet [--n 15000000] [--seed 1]
        [--kommuner 0180,0123]   # only these kommuner (a smaller national-style file)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

KOMMUNER = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/boundaries/se-kommuner-scb/kommun.parquet"
)
MIN_PER_KOMMUN = 2_000
OFFENCES = (
    "Misshandel",
    "Rån",
    "Skadegörelse",
    "Narkotikabrott",
    "Stöld",
    "Inbrott",
    "Klotter",
    "Ofredande",
)
T0 = np.datetime64("2015-01-01T00:00", "s")
SPAN_S = 10 * 365 * 24 * 3600


def kommuner(path: Path = KOMMUNER, codes: list[str] | None = None) -> gpd.GeoDataFrame:
    """The kommun polygons in EPSG:3006 (optionally only ``codes``)."""
    k = gpd.read_parquet(path).to_crs(3006)
    if codes:
        k = k[k["kommun_kod"].isin(codes)].reset_index(drop=True)
    return k


def _inside(geom, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return shapely.intersects_xy(geom, x, y)


def _uniform_in(geom, n: int, rng) -> np.ndarray:
    x0, y0, x1, y1 = geom.bounds
    out: list[np.ndarray] = [np.zeros((0, 2))]
    have = 0
    frac = max(geom.area / ((x1 - x0) * (y1 - y0)), 0.05)
    while have < n:
        m = int((n - have) / frac * 1.2) + 16
        x, y = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
        keep = _inside(geom, x, y)
        out.append(np.column_stack([x[keep], y[keep]]))
        have += int(keep.sum())
    return np.vstack(out)[:n]


def _blobs_in(geom, n: int, centres: np.ndarray, sd: np.ndarray, rng) -> np.ndarray:
    """``n`` points in Gaussian blobs, each kept only inside ``geom`` (drawn again if not)."""
    out: list[np.ndarray] = [np.zeros((0, 2))]
    have = 0
    share = rng.dirichlet(np.ones(len(centres)))
    while have < n:
        m = int((n - have) * 1.3) + 16
        which = rng.choice(len(centres), m, p=share)
        xy = centres[which] + rng.normal(0, 1, (m, 2)) * sd[which, None]
        keep = _inside(geom, xy[:, 0], xy[:, 1])
        out.append(xy[keep])
        have += int(keep.sum())
    return np.vstack(out)[:n]


def points_in(geom, n: int, rng) -> np.ndarray:
    """``n`` incident coordinates inside one kommun (see the module docstring)."""
    shapely.prepare(geom)
    towns = _uniform_in(geom, int(rng.integers(2, 6)), rng)
    spots = _uniform_in(geom, int(rng.integers(10, 30)), rng)
    n_town, n_spot = int(0.60 * n), int(0.25 * n)
    parts = [
        _blobs_in(geom, n_town, towns, rng.uniform(300, 1500, len(towns)), rng),
        _blobs_in(geom, n_spot, spots, rng.uniform(30, 80, len(spots)), rng),
        _uniform_in(geom, n - n_town - n_spot, rng),
    ]
    return np.vstack(parts)


def make(n: int, out: Path, *, seed: int = 1, codes: list[str] | None = None) -> dict:
    """Write the file; return counts and timings."""
    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    k = kommuner(codes=codes)
    share = rng.lognormal(0, 1.0, len(k))
    floor = min(MIN_PER_KOMMUN, n // len(k))
    counts = floor + np.floor(share / share.sum() * (n - floor * len(k))).astype(int)
    counts[np.argmax(counts)] += n - counts.sum()  # exactly n in all
    xy = np.vstack(
        [points_in(g, int(m), rng) for g, m in zip(k.geometry.values, counts, strict=True)]
    )
    # shuffled over the whole country, like an export sorted by anything but place
    xy = xy[rng.permutation(len(xy))]
    seconds = rng.integers(0, SPAN_S // 60, len(xy)) * 60
    table = pa.table(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "tid": pa.array(T0 + seconds.astype("timedelta64[s]"), pa.timestamp("s")),
            "brottstyp": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(OFFENCES), len(xy)).astype("int8")),
                pa.array(OFFENCES),
            ),
        }
    )
    pq.write_table(table, out, compression="zstd", row_group_size=1_000_000)
    return {
        "incidents": int(counts.sum()),
        "kommuner": len(k),
        "seconds": round(time.perf_counter() - t, 1),
        "mb": round(out.stat().st_size / 1e6, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--n", type=int, default=15_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kommuner", help="comma-separated kommun codes (default: all 290)")
    a = p.parse_args()
    codes = [c.strip() for c in a.kommuner.split(",")] if a.kommuner else None
    print(make(a.n, a.out, seed=a.seed, codes=codes))


if __name__ == "__main__":
    main()
