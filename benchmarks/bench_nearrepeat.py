"""Knox near-repeat test: geo.nearrepeat against a materialised all-pairs baseline.

Runs, back to back in one process:

1. baseline: every pair materialised (``scipy.spatial.distance.pdist`` for space, all |Δt|
   from ``np.subtract.outer``), binned with ``np.histogram2d`` for the observed table and
   for each permutation — what a direct port of the Near Repeat Calculator does — on 3 000
   incidents (4.5 M pairs); checks both give the same observed table;
2. ours: ``geo.nearrepeat.knox_table`` (k-d tree pairs within the largest finite band only,
   invariant totals for the "more than" cells) on the same 3 000 incidents, then on
   12 000 incidents in a year with 999 permutations, and 100 000 incidents with 99 and 999.

Incidents: half spread uniformly, half around 40 local centres (σ 150 m) — a city-like
pattern; 3 000 and 12 000 on 10 × 10 km, 100 000 on 20 × 20 km (a large city's year).
Bands 100 m × 5 and 7 days × 4 (the defaults of ``near_repeat``). Usage:
``.venv/bin/python benchmarks/bench_nearrepeat.py [--skip-100k-999]``.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import tracemalloc

import numpy as np
from scipy.spatial.distance import pdist

from geo.nearrepeat import knox_table

S_BAND, S_N, T_BAND, T_N = 100.0, 5, 7.0, 4


def pattern(n: int, side_m: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    half = n // 2
    centres = rng.uniform(0, side_m, (40, 2))
    near = centres[rng.integers(0, 40, n - half)] + rng.normal(0, 150, (n - half, 2))
    xy = np.vstack([rng.uniform(0, side_m, (half, 2)), near])
    days = rng.uniform(0, 365, n)
    return xy, days


def baseline(xy, days, permutations, seed=0):
    """All pairs materialised, binned per permutation."""
    d = pdist(xy)
    s_edges = np.concatenate([[-0.5, 0.0], np.arange(1, S_N + 1) * S_BAND, [np.inf]])
    # same location goes to [−0.5, 0]; (0, s] via a tiny shift (histogram bins are [a, b))
    d_shift = np.where(d == 0, -0.25, d - 1e-9)
    t_edges = np.concatenate([np.arange(0, T_N + 1) * T_BAND, [np.inf]])
    iu = np.triu_indices(len(days), 1)

    def table(t):
        dt = np.abs(t[iu[0]] - t[iu[1]])
        return np.histogram2d(d_shift, dt, bins=[s_edges, t_edges])[0]

    observed = table(days)
    rng = np.random.default_rng(seed)
    ge = np.zeros_like(observed)
    for _ in range(permutations):
        ge += table(days[rng.permutation(len(days))]) >= observed
    return observed


def timed(func, *args, **kwargs):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return elapsed, peak, out


def main() -> None:
    print(f"# {platform.node()} {platform.processor() or platform.machine()} "
          f"cores={os.cpu_count()} load={os.getloadavg()[0]:.1f} {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    xy, days = pattern(3000, 10_000)
    tb, mb, obs_b = timed(baseline, xy, days, 99)
    to, mo, res = timed(knox_table, xy, days, space_band_m=S_BAND, space_bands=S_N,
                        time_band_days=T_BAND, time_bands=T_N, permutations=99, seed=0)  # fmt: skip
    same = np.array_equal(obs_b.astype(int), res.observed_matrix())
    print(f"3000 / 99: baseline {tb:.2f} s {mb:.0f} MB | ours {to:.3f} s {mo:.0f} MB | "
          f"ratio {tb / to:.0f}x | same observed table: {same}")  # fmt: skip
    runs = [(12_000, 10_000, 999), (100_000, 20_000, 99)]
    if "--skip-100k-999" not in sys.argv:
        runs.append((100_000, 20_000, 999))
    for n, side, perms in runs:
        xy, days = pattern(n, side, seed=1)
        t, m, r = timed(knox_table, xy, days, space_band_m=S_BAND, space_bands=S_N,
                        time_band_days=T_BAND, time_bands=T_N, permutations=perms, seed=0)  # fmt: skip
        close = int(r.observed_matrix()[: S_N + 1].sum())
        print(f"{n} / {perms}: ours {t:.1f} s, peak {m:.0f} MB, pairs within {S_N * S_BAND:.0f} m: "
              f"{close:,} of {n * (n - 1) // 2:,}")  # fmt: skip


if __name__ == "__main__":
    main()
