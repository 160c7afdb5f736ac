"""Gi* on a regular lattice: geo.grid against the plain esda + libpysal pipeline.

Runs, back to back in one process so the ratio holds on a busy machine:

1. baseline: libpysal ``DistanceBand`` weights + ``esda.G_Local(transform="B", star=True,
   permutations=0)`` on a 100 × 100 lattice (10 000 cells), band 2.5 cell widths
   (21 neighbours incl. self); checks our z-scores equal esda's there (max |Δz|);
2. ours: ``geo.grid.gistar_lattice`` on the same 10 000 cells, then on 1000 × 1000
   (1 000 000 cells) with the same band (direct sums) and with a 6.5-cell band (FFT);
3. ``geo.grid.gistar_cells`` end to end (grid geometry, binning, Gi*, FDR) on a
   500 × 500-cell study area with 1 000 000 incidents, for scale.

The baseline on 1M cells is not run (STACK-NOTES measured 147 s and 10.9 GB for it); the
ratio at 1M is against the baseline's 10k time scaled linearly (×100), which flatters the
baseline (its weights building is worse than linear). Usage:
``.venv/bin/python benchmarks/bench_gistar.py``.
"""

from __future__ import annotations

import os
import platform
import time
import tracemalloc
import warnings

import esda
import geopandas as gpd
import numpy as np
import shapely
from libpysal.weights import DistanceBand

from geo import schema
from geo.grid import gistar_cells, gistar_lattice


def timed(func, *args, repeat=3, **kwargs):
    """Best wall time of ``repeat`` runs and peak traced memory (MB) of one run."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    func(*args, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 1e6, result


def lattice_centres(shape: tuple[int, int]) -> np.ndarray:
    rows, cols = np.indices(shape)
    return np.column_stack([cols.ravel() + 0.5, rows.ravel() + 0.5]).astype(float)


def baseline_weights(xy: np.ndarray, band_cells: float) -> DistanceBand:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistanceBand(xy, threshold=band_cells, binary=True, silence_warnings=True)


def baseline_gi(values: np.ndarray, w: DistanceBand) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(values.ravel(), w, transform="B", star=True, permutations=0).Zs


def main() -> None:
    rng = np.random.default_rng(42)
    print(f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M %Z')}")

    small = rng.poisson(0.5, (100, 100)).astype(float)
    mask_small = np.ones(small.shape, bool)
    xy = lattice_centres(small.shape)
    t_w, m_w, w = timed(baseline_weights, xy, 2.5, repeat=2)
    t_g, m_g, z_ref = timed(baseline_gi, small, w, repeat=2)
    t_base, m_base = t_w + t_g, max(m_w, m_g)
    print(f"baseline DistanceBand 10k cells: {t_w:.3f} s; esda G_Local: {t_g:.3f} s")
    t_ours_small, m_ours_small, z_small = timed(gistar_lattice, small, mask_small, 2.5)
    max_dz = float(np.nanmax(np.abs(z_small.ravel() - z_ref)))
    print(f"baseline esda+DistanceBand 10k cells, band 2.5: {t_base:.3f} s, peak {m_base:.0f} MB")
    print(
        f"geo.grid.gistar_lattice 10k cells, band 2.5: {t_ours_small:.4f} s, peak "
        f"{m_ours_small:.1f} MB, max |z - esda| = {max_dz:.1e}"
    )

    big = rng.poisson(0.5, (1000, 1000)).astype(float)
    rows, cols = np.indices(big.shape)
    mask_big = (rows - 500) ** 2 + (cols - 500) ** 2 <= 600**2  # a clipped study area
    for band in (2.5, 6.5):
        t_big, m_big, _ = timed(gistar_lattice, big, mask_big, band)
        extrapolated = t_base * 100
        print(
            f"geo.grid.gistar_lattice 1M cells ({int(mask_big.sum()):,} in the area), band "
            f"{band}: {t_big:.3f} s, peak {m_big:.0f} MB; baseline ×100 = {extrapolated:.1f} s "
            f"→ ratio {extrapolated / t_big:.0f}×"
        )

    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["a"]}, geometry=[shapely.box(0, 0, 25_000, 25_000)], crs=schema.CRS_METRIC
    )
    xy = np.vstack(
        [
            rng.uniform(0, 25_000, (700_000, 2)),
            rng.normal(12_000, 800, (300_000, 2)).clip(0, 25_000),
        ]
    )
    incidents = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=schema.CRS_METRIC
    )
    t_cells, m_cells, result = timed(
        gistar_cells, incidents, areas, cell_size_m=50, band_m=125, repeat=1
    )
    print(
        f"geo.grid.gistar_cells end to end, 250k cells, 1M incidents: {t_cells:.2f} s, peak "
        f"{m_cells:.0f} MB ({len(result.cells):,} cells)"
    )


if __name__ == "__main__":
    main()
