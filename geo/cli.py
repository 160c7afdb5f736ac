"""The `lagesbild` command line.

Each subcommand lives in its own module under `geo.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the
parsed arguments and returning the exit code. The project's own errors (`InputError`)
become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from geo import __version__
from geo.auth import cli_identity
from geo.errors import InputError
from geo.store import acting_as

#: Subcommand modules under geo.commands, in the order `--help` lists them.
COMMANDS = (
    "validate",
    "demo_data",
    "fetch_assets",
    "hotspots",
    "zones",
    "compare",
    "trends",
    "nearrepeat",
    "issues",
    "users",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lagesbild",
        description="Lägesbild: hotspots, patrol-focus zones and medborgarlöfte follow-up.",
    )
    parser.add_argument("--version", action="version", version=f"lagesbild {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"geo.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    me = cli_identity()
    try:
        # every audit entry of this command names the OS user (a --by NAME becomes a note)
        with acting_as(me.username, me.role):
            return int(args.func(args) or 0)
    except InputError as exc:
        print(f"lagesbild: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
