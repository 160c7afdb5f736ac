"""Start the app server warm: ``python -m ui.serve app.py [streamlit flags]`` (``./dev app``).

``streamlit run`` imports nothing of the app until the first browser session, so the first
commander to open Karta on a fresh server waits for the whole analysis stack to import
(geopandas, GDAL, PROJ, scikit-learn, SQLAlchemy …), for GDAL and PROJ to initialise on the
first file, and for the database to be created — about 10 s of a 12 s first load on the
project's machine. Streamlit runs every page in the server's own process, so doing that
work here, before the server listens, takes it off every session: the health check
(``/_stcore/health``) answers once the server is warm, and the first page costs what a
later one costs.

The warm-up reads the demo files once (GDAL, PROJ and the file cache warm up; the frames
themselves are read again, and cached, by the first session through ``ui.common``), runs
one hotspot analysis on them, and opens the database (migrations, the demo round in demo
mode). It changes nothing a session sees: a failure in it is printed and the server
starts anyway, as plain ``streamlit run`` would. It must not import Streamlit: Streamlit
reads ``.streamlit/config.toml`` when it is first imported, and the server options read
before ``streamlit run`` parses its flags are then kept (static serving off: no offline
Leaflet, a blank map). ``tests/test_serve.py`` checks that.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time


def warm() -> float:
    """Import the stack and touch the data and the database once; returns seconds taken."""
    t0 = time.perf_counter()
    import altair  # noqa: F401 - imported for its import time
    import folium  # noqa: F401

    from geo import analysis, demo, io, maps, schema, timewin  # noqa: F401
    from geo import inspections as ins
    from geo.store import Store, default_url

    paths = demo.demo_paths()
    areas = io.load_boundaries(paths["areas"]).frame
    incidents = io.load_incidents(paths["incidents"], category_map=paths["category_map"]).frame
    io.load_dialogue(paths["dialogue"])
    io.load_gazetteer(paths["gazetteer"])
    area = areas.iloc[:1]
    inside, _ = io.assign_areas(incidents, area)
    last = incidents[schema.OCCURRED_AT].max().date()
    chosen = timewin.filter_incidents(
        inside[inside[schema.AREA_ID].notna().to_numpy()],
        start=last - dt.timedelta(days=364),
        end=last,
        categories=[schema.VIOLENCE],
        window="kväll och natt",
    )
    analysis.run_hotspots(chosen, area)
    store = Store(default_url())
    if os.environ.get("LAGESBILD_AUTH") == "demo":
        ins.seed_demo(store)
    ins.issues_frame(store)
    store.close()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        took = warm()
        print(f"[lagesbild] warm in {took:.1f} s", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - the warm-up must never keep the app from starting
        print(f"[lagesbild] warm-up skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", *args]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
