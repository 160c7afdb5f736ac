"""Karta as a commander meets it, timed in Debian's chromium (issue 14 §6).

Run: .venv/bin/python benchmarks/bench_karta_browser.py [--runs N] [--baseline DIR]

For each run a fresh app server is started (a new process: empty caches, nothing
imported but what the server itself imports) and, once ``/_stcore/health`` answers, a new
browser tab opens Karta on the demo data. Times, wall clock, as the browser sees them:

- **first paint**: from ``page.goto`` until the Leaflet map inside the streamlit-folium
  iframe has drawn its hotspot polygons;
- **redraw**: after the page has settled, the sidebar's time window is changed (to
  windows not seen before in that server, then back to one seen before) and timed from
  the click on the new option until the map shows polygons again in a new map document
  and the script has finished.

``--baseline DIR`` runs the same measurements against another checkout (e.g. a
``git worktree`` of the commit before the speed work, with this checkout's ``static/``
linked in) started the same way, back to back in the same process, so the ratio holds on
a busy machine. Both servers run with ``LAGESBILD_AUTH=demo`` and no tiles, each with a
fresh data folder.

The server is started as ``./dev app`` starts it: ``python -m ui.serve`` when the checkout
has that launcher (it imports the analysis stack and reads the demo data before the
server accepts its first session), ``python -m streamlit run app.py`` otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]  # fmt: skip
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
#: Windows chosen in turn: new ones (filter and hotspots computed), then one seen before.
REDRAWS = ("alla", "natt", "kväll", "kväll och natt")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(checkout: Path, port: int):
    """A fresh server for ``checkout``; returns (process, seconds until healthy)."""
    data_dir = tempfile.mkdtemp(prefix="lagesbild-bench-")
    env = {**os.environ, "LAGESBILD_AUTH": "demo", "LAGESBILD_TILES": "none",
           "LAGESBILD_DATA_DIR": data_dir, "PYTHONPATH": str(checkout)}  # fmt: skip
    flags = ["--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # fmt: skip
    if (checkout / "ui" / "serve.py").exists():
        cmd = [sys.executable, "-m", "ui.serve", "app.py", *flags]
    else:
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", *flags]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc, time.perf_counter() - t0
        except OSError:
            if proc.poll() is not None or time.perf_counter() - t0 > 180:
                raise RuntimeError(f"server for {checkout} did not start") from None
            time.sleep(0.1)


def stop_server(proc) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _map_drawn(page, *, fresh: bool) -> None:
    """Wait until a map document (not the tagged old one when ``fresh``) shows polygons."""
    page.wait_for_function(
        """([sel, fresh]) => Array.from(document.querySelectorAll(sel)).some(f => {
            const d = f.contentDocument;
            if (!d || !d.documentElement) return false;
            if (fresh && d.documentElement.dataset.bench === "old") return false;
            return d.querySelector(".leaflet-overlay-pane path") !== null;
        })""",
        arg=[IFRAME, fresh],
        timeout=180_000,
        polling="raf",
    )


def label(window: str) -> str:
    """The window as the page's caption writes it."""
    sys.path.insert(0, str(ROOT))
    from geo.timewin import resolve_window

    return resolve_window(window).label


def _settled(page) -> None:
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=180_000
    )


def measure(browser, url: str) -> dict:
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(IFRAME, state="attached", timeout=180_000)
    _map_drawn(page, fresh=False)
    first = time.perf_counter() - t0
    _settled(page)
    redraws = []
    seen = {"kväll och natt"}  # the default window, drawn by the first paint
    for window in REDRAWS:
        page.evaluate(
            """(sel) => document.querySelectorAll(sel).forEach(f => {
                const d = f.contentDocument;
                if (d && d.documentElement) d.documentElement.dataset.bench = "old";
            })""",
            IFRAME,
        )
        box = page.locator(
            '[data-testid="stSidebar"] [data-testid="stSelectbox"]', has_text="Tidsfönster"
        ).first.get_by_role("combobox")
        option = page.get_by_role("option", name=window, exact=True)
        for _attempt in range(10):  # a rerun (the map's first report) can close the list
            box.click()
            try:
                option.wait_for(timeout=3_000)
                break
            except PlaywrightTimeout:
                _settled(page)
        t1 = time.perf_counter()
        option.click()
        # the caption under the title names the window once the new run has drawn it
        page.locator(
            '[data-testid="stCaptionContainer"]', has_text=f"· {label(window)} ·"
        ).first.wait_for(timeout=180_000)
        # a window not seen before gives a new map document; one seen before may show the
        # cached map without one (same map: nothing for the browser to rebuild)
        _map_drawn(page, fresh=window not in seen)
        _settled(page)
        redraws.append(time.perf_counter() - t1)
        seen.add(window)
    page.close()
    return {"first_paint": first, "redraws": redraws}


def run(checkout: Path, browser, runs: int) -> list[dict]:
    out = []
    for _ in range(runs):
        port = _free_port()
        proc, ready = start_server(checkout, port)
        try:
            result = measure(browser, f"http://127.0.0.1:{port}/")
        finally:
            stop_server(proc)
        result["server_ready"] = ready
        out.append(result)
    return out


def _summary(name: str, results: list[dict]) -> dict:
    first = [r["first_paint"] for r in results]
    new = [t for r in results for t in r["redraws"][:-1]]
    seen = [r["redraws"][-1] for r in results]
    ready = [r["server_ready"] for r in results]
    row = {
        "name": name,
        "server_ready": statistics.median(ready),
        "first_paint": statistics.median(first),
        "first_paint_max": max(first),
        "redraw_new": statistics.median(new),
        "redraw_new_max": max(new),
        "redraw_seen": statistics.median(seen),
    }
    print(
        f"{name:10s} server ready {row['server_ready']:5.1f} s · first paint median "
        f"{row['first_paint']:5.2f} s (max {row['first_paint_max']:.2f}) · redraw, new window "
        f"{row['redraw_new']:.2f} s (max {row['redraw_new_max']:.2f}) · back to a window seen "
        f"{row['redraw_seen']:.2f} s"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · {platform.node()} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()} · load "
        f"{os.getloadavg()[0]:.1f}"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        rows = []
        # alternate baseline and ours, run by run, so both see the same load
        for _ in range(args.runs):
            if args.baseline:
                rows.append(("baseline", run(args.baseline.resolve(), browser, 1)[0]))
            rows.append(("ours", run(ROOT, browser, 1)[0]))
        browser.close()
    summaries = {}
    for name in ("baseline", "ours"):
        got = [r for n, r in rows if n == name]
        if got:
            summaries[name] = _summary(name, got)
    if "baseline" in summaries:
        b, o = summaries["baseline"], summaries["ours"]
        print(
            f"ratio ours/baseline: first paint {o['first_paint'] / b['first_paint']:.2f}, "
            f"redraw new {o['redraw_new'] / b['redraw_new']:.2f}, "
            f"redraw seen {o['redraw_seen'] / b['redraw_seen']:.2f}"
        )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
