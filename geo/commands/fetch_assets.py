"""``lagesbild fetch-assets``: put the map's Leaflet files under ``static/vendor`` for offline use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.assets import DEFAULT_DEST, fetch_assets


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch-assets",
        help="fetch Leaflet and its plugins from the npm registry for the offline map",
        description=(
            "Runs `npm pack` for Leaflet, its plugins, jQuery, Bootstrap and Font Awesome and "
            "unpacks the files the map needs into DEST (served by Streamlit at "
            "/app/static/vendor). Does nothing when DEST already holds them."
        ),
    )
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help="target folder (default: static/vendor)"
    )
    parser.add_argument("--force", action="store_true", help="fetch even when present")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        written = fetch_assets(args.dest, force=args.force)
    except RuntimeError as exc:
        print(f"lagesbild fetch-assets: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        if written:
            print(f"{len(written)} files written to {args.dest}")
        else:
            print(f"{args.dest} already holds the map's files")
    return 0
