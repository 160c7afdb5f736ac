"""The `lagesbild` command line.

Each subcommand lives in its own module under `geo.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the
parsed arguments and returning the exit code. The project's own errors (`InputError`)
become one line on stderr and exit code 2, never a traceback.

Only the module of the command being run is imported (``lagesbild hotspots`` never loads
the PDF, store or user code of the others); ``--help`` without a command imports them all
to list them. Every command reads its files as the user's own local files
(`geo.guards.local_files`): as large as the machine allows, or ``--max-file-mb`` /
``LAGESBILD_MAX_FILE_MB``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from geo import __version__
from geo.errors import InputError

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


def _positive_mb(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"väntade ett antal MB, fick {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"måste vara större än 0 MB, fick {text}")
    return value


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (None: none, or one this CLI does not have)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--max-file-mb":
            skip = True
        elif not arg.startswith("-"):
            name = arg.replace("-", "_")
            return name if name in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a command, only that command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="lagesbild",
        description="Lägesbild: hotspots, patrol-focus zones and medborgarlöfte follow-up.",
    )
    parser.add_argument("--version", action="version", version=f"lagesbild {__version__}")
    parser.add_argument(
        "--max-file-mb",
        type=_positive_mb,
        metavar="MB",
        help="largest input file in MB (default: env LAGESBILD_MAX_FILE_MB, else no limit; "
        "the web app's upload limits do not apply here)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen_command(argv) if argv is not None else None
    for name in (chosen,) if chosen else COMMANDS:
        importlib.import_module(f"geo.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    from geo.auth import cli_identity
    from geo.guards import local_files
    from geo.store import acting_as

    me = cli_identity()
    try:
        # every audit entry of this command names the OS user (a --by NAME becomes a note)
        with acting_as(me.username, me.role), local_files(args.max_file_mb):
            return int(args.func(args) or 0)
    except InputError as exc:
        print(f"lagesbild: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
