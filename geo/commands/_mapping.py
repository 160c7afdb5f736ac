"""Options and input loading shared by the commands that read an incident file.

Every command that reads incidents (``validate``, ``hotspots``, ``zones``, ``compare``) takes
the same column-mapping options (``--lon-col``, ``--lat-col``, ``--x-col``, ``--y-col``,
``--crs``, ``--time-col``, ``--time-format``, ``--category-col``, ``--category-map``,
``--strict-categories``, ``--id-col``, ``--layer``, ``--mapping``) and the same boundary
options (``--boundaries``, ``--area-id-col``, ``--area-name-col``), added here. `load_inputs`
reads the files named on the command line and prints what was rejected or warned about to
stderr, so the loading code and its messages are written once.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import InputError

if TYPE_CHECKING:  # geopandas is imported by the loaders, when a command runs
    import geopandas as gpd

#: Option name (without "--") -> the role in ``geo.io``'s column mapping.
COLUMN_OPTIONS = {
    "lon-col": ("lon", "column with longitude (WGS 84)"),
    "lat-col": ("lat", "column with latitude (WGS 84)"),
    "x-col": ("x", "column with x / easting (needs --crs)"),
    "y-col": ("y", "column with y / northing (needs --crs)"),
    "time-col": ("time", "column with the time"),
    "category-col": ("category", "column with offence name or code"),
    "id-col": ("id", "column with the record's id"),
}


def add_mapping_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the column-mapping options of ``lagesbild validate`` to ``parser`` (one group)."""
    group = parser.add_argument_group("column mapping (guessed from the column names if not given)")
    for option, (_, text) in COLUMN_OPTIONS.items():
        group.add_argument(f"--{option}", metavar="C", help=text)
    group.add_argument(
        "--crs", metavar="EPSG:N", help="CRS of x/y columns or of a file without one"
    )
    group.add_argument("--time-format", metavar="F", help="strftime format of the time column")
    group.add_argument("--category-map", metavar="FILE", help="TOML file with a [categories] table")
    group.add_argument("--strict-categories", action="store_true",
                       help="reject rows whose category is not in the map")  # fmt: skip
    group.add_argument(
        "--mapping", metavar="FILE", help="TOML file with [columns] (and [categories])"
    )
    group.add_argument("--layer", metavar="L", help="layer of a GeoPackage or zip with several")


def add_boundaries_arguments(parser: argparse.ArgumentParser, *, help: str) -> None:
    """Add ``--boundaries FILE --area-id-col C --area-name-col C`` (``help`` for the file)."""
    group = parser.add_argument_group("boundaries")
    group.add_argument("--boundaries", type=Path, metavar="FILE", help=help)
    group.add_argument("--area-id-col", metavar="C", help="column with the area id")
    group.add_argument("--area-name-col", metavar="C", help="column with the area name")


def add_input_arguments(
    parser: argparse.ArgumentParser, *, places: bool = False, boundaries_help: str
) -> None:
    """Add ``--incidents FILE``, the mapping and boundary options, and with ``places`` also
    ``--dialogue FILE`` and ``--gazetteer FILE``."""
    parser.add_argument("--incidents", required=True, type=Path, metavar="FILE",
                        help="incident file (CSV, GeoJSON, GeoPackage, Shapefile, GeoParquet)")  # fmt: skip
    add_mapping_arguments(parser)
    add_boundaries_arguments(parser, help=boundaries_help)
    if places:
        group = parser.add_argument_group("places")
        group.add_argument("--dialogue", type=Path, metavar="FILE",
                           help="dialogue places (otrygga platser)")  # fmt: skip
        group.add_argument("--gazetteer", type=Path, metavar="FILE",
                           help="named places for zone names (name,kind,lon,lat)")  # fmt: skip


def add_selection_arguments(
    parser: argparse.ArgumentParser,
    *,
    period: tuple[str, str] | None = ("the first incident", "the last incident"),
    window: str | None = None,
    categories: str | None = None,
    area_ids: bool = False,
) -> None:
    """Add ``--from``/``--to``, ``--window``, ``--categories`` (and ``--areas ID,ID``).

    ``period`` names the defaults of ``--from`` and ``--to`` (None: no such options);
    ``window`` and ``categories`` are the defaults (None: all day, all categories).
    """
    group = parser.add_argument_group("selection")
    if period is not None:
        group.add_argument("--from", dest="start", metavar="DATE",
                           help=f"first day YYYY-MM-DD (default: {period[0]})")  # fmt: skip
        group.add_argument("--to", dest="end", metavar="DATE",
                           help=f"last day YYYY-MM-DD (default: {period[1]})")  # fmt: skip
    group.add_argument(
        "--window", default=window, metavar="NAME",
        help=f'time window: a name such as "natt" or days and hours such as "fre,lör 18-03" '
        f"(default: {window or 'all day'})",
    )  # fmt: skip
    group.add_argument(
        "--categories", default=categories, metavar="A,B",
        help=f"comma-separated categories (default: {categories or 'all'})",
    )  # fmt: skip
    if area_ids:
        group.add_argument("--areas", metavar="ID,ID",
                           help="comma-separated area ids (default: all)")  # fmt: skip
    group.add_argument(
        "--lov-calendar", action="append", default=[], metavar="KOMMUNKOD=FILE",
        help="lov calendar CSV of a kommun for --window lov (repeatable), or an index "
        "FILE.toml like data/calendar/lov_calendars.toml (default: the demo calendars)",
    )  # fmt: skip


def positive_number(expected: str, unit: str):
    """An argparse ``type`` for a positive number (decimal comma allowed) in ``unit``.

    Examples
    --------
    >>> positive_number("ett antal MB", "MB")("1,5")
    1.5
    >>> positive_number("ett antal MB", "MB")("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: måste vara större än 0 MB, fick 0
    """

    def parse(text: str) -> float:
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            raise argparse.ArgumentTypeError(f"väntade {expected}, fick {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"måste vara större än 0 {unit}, fick {text}")
        return value

    return parse


_positive_km2 = positive_number("ett tal i km²", "km²")


def add_zone_cap_argument(parser) -> None:
    """``--max-zone-km2``: the largest zone (default 0.25 km², about 500 × 500 m)."""
    parser.add_argument(
        "--max-zone-km2",
        type=_positive_km2,
        default=0.25,
        metavar="X",
        help="largest zone in km² (default 0.25: about 500 x 500 m, what a patrol covers); "
        "larger hot regions are split around their peaks",
    )


def lov_calendars_from_args(args: argparse.Namespace):
    """The `geo.timewin.LovCalendars` named by ``--lov-calendar`` (None: not given).

    ``FILE.toml`` replaces the demo index; ``KOMMUNKOD=FILE`` adds or replaces one kommun's
    calendar, in the order given.

    Raises
    ------
    InputError
        For a value that is neither ``KOMMUNKOD=FILE`` nor a ``.toml`` index, or a bad file.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_selection_arguments(p)
    >>> lov_calendars_from_args(p.parse_args([])) is None
    True
    >>> lov_calendars_from_args(p.parse_args(["--lov-calendar", "kalender.csv"]))
    Traceback (most recent call last):
    geo.errors.InputError: --lov-calendar kalender.csv: skriv KOMMUNKOD=FIL (t.ex. 0180=stockholm.csv) eller ett index FIL.toml.
    """
    values = getattr(args, "lov_calendar", None) or []
    if not values:
        return None
    from geo.timewin import LovCalendars, default_lov_calendars

    calendars: LovCalendars = default_lov_calendars()
    for value in values:
        code, sep, path = value.partition("=")
        if sep and code.strip() and path.strip():
            calendars = calendars.with_calendar(code.strip(), Path(path.strip()))
        elif not sep and value.lower().endswith(".toml"):
            calendars = LovCalendars.load(Path(value))
        else:
            raise InputError(
                f"--lov-calendar {value}: skriv KOMMUNKOD=FIL (t.ex. 0180=stockholm.csv) "
                "eller ett index FIL.toml."
            )
    return calendars


def mapping_from_args(args: argparse.Namespace) -> tuple[dict[str, str], object]:
    """The column mapping and the category map (path or dict or None) from parsed options.

    Options on the command line win over a ``--mapping`` file's ``[columns]``.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_mapping_arguments(p)
    >>> mapping_from_args(p.parse_args(["--lon-col", "X", "--time-col", "T"]))
    ({'lon': 'X', 'time': 'T'}, None)
    """
    columns = {
        role: getattr(args, option.replace("-", "_"))
        for option, (role, _) in COLUMN_OPTIONS.items()
        if getattr(args, option.replace("-", "_"), None)
    }
    categories = None
    if getattr(args, "mapping", None):
        from geo.io import read_mapping_toml

        from_file, categories = read_mapping_toml(args.mapping)
        columns = {**from_file, **columns}
    return columns, args.category_map or categories or None


def loader_options(args: argparse.Namespace) -> dict[str, object]:
    """Keyword arguments for `geo.io.load_incidents` from the mapping options.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_mapping_arguments(p)
    >>> loader_options(p.parse_args(["--x-col", "E", "--y-col", "N", "--crs", "EPSG:3011"]))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'mapping': {'x': 'E', 'y': 'N'}, 'category_map': None, 'layer': None, 'crs': 'EPSG:3011',
     'time_format': None, 'strict_categories': False}
    """
    columns, category_map = mapping_from_args(args)
    return {
        "mapping": columns,
        "category_map": category_map,
        "layer": args.layer,
        "crs": args.crs,
        "time_format": args.time_format,
        "strict_categories": args.strict_categories,
    }


def select_incidents(args: argparse.Namespace, inputs):
    """The loaded incidents within the command line's SELECTION (period, categories, time
    window, lov calendars), in the loaded areas; bad choices as one Swedish message."""
    from geo import timewin

    with input_errors():
        return timewin.filter_incidents(
            inputs.incidents,
            start=args.start,
            end=args.end,
            categories=split_list(args.categories),
            window=args.window,
            areas=inputs.areas,
            lov_calendars=lov_calendars_from_args(args),
        )


def split_list(text: str | None) -> list[str] | None:
    """A comma-separated option as a list (None when not given).

    Examples
    --------
    >>> split_list("rån, stöld,"), split_list(None)
    (['rån', 'stöld'], None)
    """
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def record_cli_export(what: str, path: Path, **params: object) -> None:
    """Record a file the CLI wrote in the audit log (``export.<what>``): its name, format,
    size, sha256 and every parameter, with the OS user as the actor (`geo.cli.main`)."""
    import hashlib

    from geo import audit
    from geo.auth import cli_identity
    from geo.store import Store

    data = Path(path).read_bytes()
    me = cli_identity()
    store = Store()
    try:
        audit.record_export(
            store,
            me.username,
            me.role,
            what=what,
            fmt=Path(path).suffix.lower().lstrip("."),
            file=Path(path).name,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            **params,
        )
    finally:
        store.close()


def check_out(path: Path, suffixes: Sequence[str] | None = None) -> None:
    """Stop before any work when ``--out`` has another suffix or its folder is missing.

    Examples
    --------
    >>> check_out(Path("rapport.docx"), (".csv", ".pdf"))
    Traceback (most recent call last):
    geo.errors.InputError: --out rapport.docx: okänt format ".docx", använd .csv eller .pdf.
    """
    suffix = path.suffix.lower()
    if suffixes is not None and suffix not in suffixes:
        allowed = " eller ".join(", ".join(suffixes).rsplit(", ", 1))
        raise InputError(f'--out {path.name}: okänt format "{suffix}", använd {allowed}.')
    if not path.parent.is_dir():
        raise InputError(f'Mappen "{path.parent}" finns inte; kan inte skriva "{path}".')


@contextlib.contextmanager
def input_errors() -> Iterator[None]:
    """Turn a ValueError or TypeError about the options into an `InputError` (exit 2)."""
    try:
        yield
    except InputError:
        raise
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None


def report_load(result, path: Path, command: str) -> gpd.GeoDataFrame:
    """Print the rejected rows' count and the warnings of a load to stderr; the frame."""
    prefix = f"lagesbild {command}: {path.name}"
    if len(result.rejected):
        print(f"{prefix}: {len(result.rejected)} av {result.rows} rader avvisades "
              "(se lagesbild validate).", file=sys.stderr)  # fmt: skip
    for warning in result.warnings:
        print(f"{prefix}: {warning}", file=sys.stderr)
    return result.frame


@dataclass(frozen=True)
class Inputs:
    """What `load_inputs` read: incidents, and the optional files (None when not given)."""

    incidents: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame | None = None
    dialogue: gpd.GeoDataFrame | None = None
    gazetteer: gpd.GeoDataFrame | None = None


def load_polygons(
    args: argparse.Namespace, path: Path | None, **options
) -> gpd.GeoDataFrame | None:
    """Polygons from ``path`` with `geo.io.load_boundaries` (report to stderr); None without."""
    if path is None:
        return None
    from geo.io import load_boundaries

    return report_load(load_boundaries(path, **options), path, args.command)


def load_inputs(args: argparse.Namespace) -> Inputs:
    """Load ``--incidents`` (with the mapping options), ``--boundaries`` and, where the
    command has them, ``--dialogue`` and ``--gazetteer``; print each load's report to stderr.

    Raises
    ------
    InputError
        A structural error in any file, or an incident file of which no row could be loaded.
    """
    from geo.io import flag_centre_points, load_dialogue, load_gazetteer, load_incidents

    incidents = report_load(
        load_incidents(args.incidents, **loader_options(args)), args.incidents, args.command
    )
    if incidents.empty:
        raise InputError(f"{args.incidents.name}: inga händelser kunde läsas in.")
    areas = load_polygons(
        args, args.boundaries, id_col=args.area_id_col, name_col=args.area_name_col
    )
    if areas is not None:
        # on the whole file, before any filter: a stack is judged by all its points
        incidents = flag_centre_points(incidents, areas)
    places = {}
    for name, loader in (("dialogue", load_dialogue), ("gazetteer", load_gazetteer)):
        path = getattr(args, name, None)
        places[name] = None if path is None else report_load(loader(path), path, args.command)
    return Inputs(incidents, areas, **places)
