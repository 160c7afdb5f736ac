"""Density clustering: geo.clusters against scikit-learn's DBSCAN and HDBSCAN.

Back to back in one process (the ratio holds on a busy machine):

1. DBSCAN, 100 000 clustered points (60 Gaussian blobs of sd 50–400 m over 20 km, 10 %
   uniform noise), eps 150 m / min 10 (STACK-NOTES' parameters) and the automatic eps:
   scikit-learn ``DBSCAN(...).fit(xy)`` against ``geo.clusters.dbscan_labels``; labels of
   core points must be identical (checked, printed).
2. DBSCAN, 1 000 000 points, same generator: ours only (scikit-learn took 36 s and 6.8 GB
   there, STACK-NOTES), with the automatic parameters and with eps 150 m / min 10.
3. HDBSCAN, 10 000 and 100 000 points: scikit-learn ``HDBSCAN`` (10k always, 100k unless
   ``--quick``) against ``hdbscan_labels``; adjusted Rand index printed.

Wall time is one untraced run each (these are seconds long); memory is the process peak
RSS after each step (``resource``) and tracemalloc's peak for our call, from a second run
(tracemalloc slows numpy-heavy code several times over).
Usage: ``.venv/bin/python benchmarks/bench_clusters.py [--quick]``.
"""

from __future__ import annotations

import platform
import resource
import sys
import time
import tracemalloc

import numpy as np
from sklearn.cluster import DBSCAN, HDBSCAN
from sklearn.metrics import adjusted_rand_score

from geo.clusters import dbscan_labels, hdbscan_labels, suggest_density

#: The blobs' square, 20 km x 20 km: the study area of the automatic parameters.
STUDY_AREA_M2 = 20_000.0**2


def blobs(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 20_000, (60, 2))
    k = rng.integers(0, 60, int(n * 0.9))
    spread = rng.uniform(50, 400, 60)[k, None]
    xy = centres[k] + rng.normal(0, 1, (len(k), 2)) * spread
    return np.vstack([xy, rng.uniform(0, 20_000, (n - len(k), 2))])


def run(func, *args, **kwargs):
    """(result, wall seconds, tracemalloc peak MB): timed untraced, then run again traced.

    tracemalloc slows numpy-heavy code by up to ×4 here, so the time comes from a run
    without it and the peak from a second run with it.
    """
    t = time.perf_counter()
    out = func(*args, **kwargs)
    secs = time.perf_counter() - t
    tracemalloc.start()
    func(*args, **kwargs)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, secs, peak


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"# {platform.node()} {platform.python_version()} {time.strftime('%Y-%m-%d')}")
    xy = blobs(100_000)
    peaks: dict[tuple[float, float], list[float]] = {}
    auto = suggest_density(xy, area_m2=STUDY_AREA_M2)
    auto_eps, auto_w = auto.eps_m, auto.min_weight
    for eps, mw in ((150.0, 10), (auto_eps, auto_w)):
        t = time.perf_counter()
        sk = DBSCAN(eps=eps, min_samples=int(mw)).fit(xy)
        t_sk = time.perf_counter() - t
        ours, t_ours, peak = run(dbscan_labels, xy, eps_m=eps, min_weight=mw)
        peaks[(150.0, 10) if eps == 150.0 else (-1.0, 0)] = [peak]
        core = np.zeros(len(xy), dtype=bool)
        core[sk.core_sample_indices_] = True
        same = np.array_equal(ours[core], sk.labels_[core])
        print(
            f"DBSCAN 100k eps={eps:.0f} min={mw:.0f}: sklearn {t_sk:.2f} s, ours {t_ours:.2f} s "
            f"(x{t_sk / t_ours:.1f}), ours tracemalloc peak {peak:.0f} MB, core labels identical: "
            f"{same}, ARI {adjusted_rand_score(sk.labels_, ours):.4f}"
        )
    big = blobs(1_000_000)
    auto = suggest_density(big, area_m2=STUDY_AREA_M2)
    auto_eps, auto_w = auto.eps_m, auto.min_weight
    for eps, mw in ((auto_eps, auto_w), (150.0, 10)):
        labels, secs, peak = run(dbscan_labels, big, eps_m=eps, min_weight=mw)
        key = (150.0, 10) if eps == 150.0 else (-1.0, 0)
        if key in peaks:
            peaks[key].append(peak)
        print(
            f"DBSCAN 1M eps={eps:.0f} min={mw:.0f}: ours {secs:.2f} s, tracemalloc peak "
            f"{peak:.0f} MB, RSS {rss_mb():.0f} MB, {labels.max() + 1} clusters "
            f"(sklearn STACK-NOTES: 36 s, 6.8 GB at eps 150 / min 10)"
        )
    for (eps, mw), pair in peaks.items():
        if len(pair) == 2:
            what = f"eps {eps:.0f} / min {mw:.0f}" if eps > 0 else "automatic parameters"
            print(
                f"DBSCAN memory, {what}: peak 1M / peak 100k = {pair[1] / pair[0]:.1f} (data x10)"
            )
    for n in (10_000,) if quick else (10_000, 100_000):
        pts = blobs(n)
        t = time.perf_counter()
        sk = HDBSCAN(min_cluster_size=50, min_samples=10, copy=True).fit(pts).labels_
        t_sk = time.perf_counter() - t
        ours, t_ours, peak = run(hdbscan_labels, pts, min_cluster_weight=50, min_samples=10)
        print(
            f"HDBSCAN {n // 1000}k mcs=50 ms=10: sklearn {t_sk:.2f} s, ours {t_ours:.2f} s "
            f"(x{t_sk / t_ours:.1f}), tracemalloc peak {peak:.0f} MB, "
            f"ARI {adjusted_rand_score(sk, ours):.4f}"
        )


if __name__ == "__main__":
    main()
