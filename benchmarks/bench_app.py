"""Server time of a filter change on the Karta page (issue 4 §4: under 1 s with the demo data).

Run: .venv/bin/python benchmarks/bench_app.py [--repeat N] [--profile]

Drives the real page with Streamlit's AppTest (the whole script runs, the folium map is built
and rendered to HTML by st_folium; no browser), on the demo data:

- baseline ("kall"): every cache cleared, then one run — what a page costs without caching
  (it includes reading the demo files);
- "nytt filter": the demo data cached, the time window changed to one not seen before
  (the incidents are filtered and the hotspots computed anew);
- "tillbaka": back to a window seen before (everything from the cache).

Baseline and ours run back to back in one process, best of ``--repeat`` each, so the
ratios hold on a busy machine. ``--profile`` prints where a new-filter run spends its time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LAGESBILD_DATA_DIR", tempfile.mkdtemp(prefix="lagesbild-bench-"))
os.environ.setdefault("LAGESBILD_AUTH", "demo")

import streamlit as st  # noqa: E402, TID251 - measures the app itself
from streamlit.testing.v1 import AppTest  # noqa: E402, TID251

APP = str(ROOT / "app.py")
WINDOWS = ("kväll och natt", "natt", "kväll", "alla", "lov")


def _timed_run(at: AppTest) -> float:
    t = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])
    return elapsed


def _window_box(at: AppTest):
    return at.sidebar.selectbox(key="f_window")


def measure(repeat: int) -> dict[str, float]:
    cold, new, back = [], [], []
    for _ in range(repeat):
        st.cache_data.clear()
        at = AppTest.from_file(APP, default_timeout=300)
        cold.append(_timed_run(at))  # baseline: nothing cached
        options = [w for w in WINDOWS if w in _window_box(at).options and w != "kväll och natt"]
        # a window not yet computed in this cache: filter + hotspots + map anew
        st.cache_data.clear()
        at = AppTest.from_file(APP, default_timeout=300)
        at.run()
        _window_box(at).set_value(options[0])
        new.append(_timed_run(at))
        _window_box(at).set_value("kväll och natt")
        back.append(_timed_run(at))  # seen before: cached
    return {"kall": min(cold), "nytt filter": min(new), "tillbaka": min(back)}


def profile() -> None:
    """Time the main calls of one new-filter run (AppTest runs the page in another thread,
    so cProfile on this one sees nothing; the calls are wrapped with timers instead)."""
    import functools

    import folium
    import streamlit_folium

    import geo.analysis
    from geo import maps, timewin
    from ui import common

    spent: dict[str, float] = {}

    def wrap(owner, name, label):
        real = getattr(owner, name)

        @functools.wraps(real)
        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return real(*a, **kw)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t

        setattr(owner, name, timed)

    wrap(geo.analysis, "run_hotspots", "run_hotspots")
    wrap(timewin, "filter_incidents", "filter_incidents")
    wrap(maps, "hotspot_map", "hotspot_map (build)")
    wrap(maps, "briefing", "briefing")
    wrap(maps, "zone_details", "zone_details")
    wrap(common, "open_issues", "open_issues (database)")
    wrap(common, "incidents_for", "incidents_for")
    wrap(folium.Figure, "render", "folium render")
    wrap(streamlit_folium, "st_folium", "st_folium (incl. render)")
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    _window_box(at).set_value("natt")
    spent.clear()
    total = _timed_run(at)
    print(f"new-filter run: {total:.2f} s")
    for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {label:28s} {seconds:.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(f"# {dt.date.today()} · {platform.node()} · {os.cpu_count()} cores · "
          f"Python {platform.python_version()} · load {os.getloadavg()[0]:.1f}")  # fmt: skip
    if args.profile:
        profile()
        return 0
    times = measure(args.repeat)
    base = times["kall"]
    print("| run (Karta, demo data) | server time (s) | × of cold |")
    print("|---|---:|---:|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.2f} | {seconds / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
