"""``lagesbild demo-data``: write the seeded synthetic demo data (see ``data/README.md``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.demo import DEFAULT_SEED, generate
from geo.errors import InputError


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo-data",
        help="generate the synthetic demo data for Järfälla and Farsta",
        description=(
            "Generates approximate boundaries, incidents 2017-2018, dialogue places, a "
            "gazetteer and lov calendars from a seed and writes them into DIR in the layout "
            "of the repository's data/ folder (boundaries/, incidents/, places/, calendar/, "
            "PROVENANCE.md). The same seed always gives byte-identical files."
        ),
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="target folder")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--scale",
        type=_positive_float,
        default=1.0,
        help="multiply every expected count (default 1.0; 0.1 for a small file)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"{args.out}: exists and is not a folder; give a folder for --out.")
    demo = generate(seed=args.seed, out_dir=args.out, scale=args.scale)
    print(
        f"{len(demo.incidents)} incidents, {len(demo.dialogue)} dialogue places, "
        f"{len(demo.areas)} areas and {len(demo.gazetteer)} places written to {args.out} "
        f"(seed {demo.seed})"
    )
    return 0
