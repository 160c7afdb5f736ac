"""The column-mapping options shared by commands that read an incident file.

The same options as ``lagesbild validate`` (``--lon-col``, ``--lat-col``, ``--x-col``,
``--y-col``, ``--crs``, ``--time-col``, ``--time-format``, ``--category-col``,
``--category-map``, ``--id-col``, ``--layer``, ``--mapping``), and the mapping dict that
``geo.io.load_incidents`` takes.
"""

from __future__ import annotations

import argparse

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
    """Add the column-mapping options of ``lagesbild validate`` to ``parser``."""
    for option, (_, text) in COLUMN_OPTIONS.items():
        parser.add_argument(f"--{option}", metavar="C", help=text)
    parser.add_argument(
        "--crs", metavar="EPSG:N", help="CRS of x/y columns or of a file without one"
    )
    parser.add_argument("--time-format", metavar="F", help="strftime format of the time column")
    parser.add_argument(
        "--category-map", metavar="FILE", help="TOML file with a [categories] table"
    )
    parser.add_argument(
        "--mapping", metavar="FILE", help="TOML file with [columns] (and [categories])"
    )
    parser.add_argument("--layer", metavar="L", help="layer of a GeoPackage or zip with several")


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
