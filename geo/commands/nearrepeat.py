"""``lagesbild nearrepeat``: the Knox near-repeat test and the chains of incidents, to a CSV.

Reads incidents (column mapping as ``lagesbild validate``), keeps the period, categories and
time window, runs ``geo.nearrepeat.near_repeat`` and writes every incident in a chain (its
role and chain id, WGS 84 lon/lat) to ``--out`` through ``geo.safecsv``. ``--json`` prints,
for every space × time cell, ``observed``, ``expected``, ``ratio`` and ``p`` with the band
labels, the iterations and the summary sentences. See docs/space-time.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from geo.commands._mapping import (
    add_input_arguments,
    add_selection_arguments,
    check_out,
    input_errors,
    load_inputs,
    lov_calendars_from_args,
    split_list,
)


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text.replace(",", "."))
        except ValueError:
            raise argparse.ArgumentTypeError(f"väntade ett positivt tal, fick {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"måste vara större än 0, fick {text}")
        return value

    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``nearrepeat`` subcommand."""
    from geo.nearrepeat import DEFAULT_PERMUTATIONS, DISTANCES

    p = subparsers.add_parser(
        "nearrepeat",
        help="near-repeat (Knox) test and chains of incidents; CSV",
        description="Knox test over bands of distance and days, as the Near Repeat Calculator, "
        "with Monte Carlo permutations of the dates; writes the chains of incidents.",
    )
    add_input_arguments(p, boundaries_help="area polygons (only for --window lov)")
    add_selection_arguments(p)
    a = p.add_argument_group("bands")
    a.add_argument("--space-band", type=_positive(float), required=True, metavar="M",
                   help="width of a distance band, metres")  # fmt: skip
    a.add_argument("--space-bands", type=_positive(int), required=True, metavar="N",
                   help="number of distance bands")  # fmt: skip
    a.add_argument("--time-band", type=_positive(float), required=True, metavar="D",
                   help="width of a time band, days")  # fmt: skip
    a.add_argument("--time-bands", type=_positive(int), required=True, metavar="N",
                   help="number of time bands")  # fmt: skip
    a.add_argument("--distance", choices=DISTANCES, default="euclidean", help="default euclidean")
    a.add_argument("--permutations", type=_positive(int), default=DEFAULT_PERMUTATIONS,
                   metavar="R", help=f"Monte Carlo permutations (default {DEFAULT_PERMUTATIONS})")  # fmt: skip
    a.add_argument("--seed", type=int, default=None, metavar="S", help="random seed")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.csv",
                   help="CSV of the incidents in chains (role, chain id)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the Knox table as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from geo import nearrepeat, timewin

    check_out(args.out, (".csv",))
    inputs = load_inputs(args)
    with input_errors():
        chosen = timewin.filter_incidents(
            inputs.incidents,
            start=args.start,
            end=args.end,
            categories=split_list(args.categories),
            window=args.window,
            areas=inputs.areas,
            lov_calendars=lov_calendars_from_args(args),
        )
        result = nearrepeat.near_repeat(
            chosen,
            space_band_m=args.space_band,
            space_bands=args.space_bands,
            time_band_days=args.time_band,
            time_bands=args.time_bands,
            distance=args.distance,
            permutations=args.permutations,
            seed=args.seed,
        )
    args.out.write_bytes(nearrepeat.chains_csv(result))
    if args.json:
        info = {**result.knox.to_json_dict(), "chains": result.chain_summary(),
                "messages": list(result.messages)}  # fmt: skip
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(f"{result.knox.n} händelser, {result.knox.permutations} permutationer -> {args.out}")
        for line in result.knox.summary():
            print(f"  {line}")
        print(f"  {result.chain_summary()}")
        for note in result.messages:
            print(f"  {note}")
    return 0
