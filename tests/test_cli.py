"""The `lagesbild` command line as a whole: every --help, and the same mapping options on
every command that reads incidents (table-driven)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from geo import cli
from geo.commands._mapping import check_out, load_inputs, loader_options
from geo.errors import InputError

#: Every subcommand (and sub-action) whose --help must work.
HELP = [
    ["validate"],
    ["demo-data"],
    ["fetch-assets"],
    ["hotspots"],
    ["zones"],
    ["compare"],
    ["trends"],
    ["nearrepeat"],
    ["issues"],
    ["issues", "export"],
    ["issues", "import"],
    ["users"],
    ["users", "add"],
    ["users", "remove"],
    ["users", "list"],
]

#: Commands that read incidents -> the arguments they need besides the mapping options.
READERS = {
    "validate": ["validate", "incidents", "{inc}"],
    "hotspots": ["hotspots", "--incidents", "{inc}", "--out", "{tmp}/h.gpkg"],
    "zones": ["zones", "--incidents", "{inc}", "--out", "{tmp}/z.geojson"],
    "compare": [
        "compare", "--incidents", "{inc}", "--zones", "{tmp}/z.geojson",
        "--before", "2017-01-01:2017-12-31", "--after", "2018-01-01:2018-12-31",
    ],
}  # fmt: skip

# Column names no guess would find, x/y in SWEREF 99 TM, a day-first time, a code for rån.
MAPPING_FLAGS = [
    "--x-col", "Öst", "--y-col", "Nord", "--crs", "EPSG:3006",
    "--time-col", "När", "--time-format", "%d.%m.%Y %H:%M",
    "--category-col", "Kod", "--category-map", "{tmp}/koder.toml",
    "--id-col", "Nr", "--strict-categories",
]  # fmt: skip
CSV = "Nr;När;Kod;Öst;Nord\nK1;02.03.2018 23:30;0312;661000;6590000\nK2;03.03.2018 01:10;9999;661050;6590050\n"


def _help_of(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_help_lists_every_command(capsys):
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(commands.choices) == [m.replace("_", "-") for m in cli.COMMANDS]
    assert {argv[0] for argv in HELP} == set(commands.choices)  # HELP covers them all
    out = _help_of([], capsys)
    assert all(name in out for name in commands.choices)


@pytest.mark.parametrize("argv", HELP, ids=[" ".join(a) for a in HELP])
def test_every_help_exits_0(argv, capsys):
    out = _help_of(argv, capsys)
    assert out.startswith(f"usage: lagesbild {' '.join(argv)}")


def test_a_broken_command_module_fails_loudly(monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "no_such_command"))
    with pytest.raises(ModuleNotFoundError, match="no_such_command"):
        cli.build_parser()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    inc = tmp_path / "export.csv"
    inc.write_text(CSV, encoding="utf-8")
    (tmp_path / "koder.toml").write_text('[categories]\n"0312" = "rån"\n', encoding="utf-8")
    return {"inc": str(inc), "tmp": str(tmp_path)}


def _parse(command: str, extra: list[str], files: dict[str, str]) -> argparse.Namespace:
    argv = [a.format(**files) for a in [*READERS[command], *extra]]
    return cli.build_parser().parse_args(argv)


@pytest.mark.parametrize("command", READERS, ids=list(READERS))
def test_every_reader_takes_the_same_mapping_options(command, files, capsys):
    args = _parse(command, MAPPING_FLAGS, files)
    assert loader_options(args) == {
        "mapping": {"x": "Öst", "y": "Nord", "time": "När", "category": "Kod", "id": "Nr"},
        "category_map": f"{files['tmp']}/koder.toml",
        "layer": None,
        "crs": "EPSG:3006",
        "time_format": "%d.%m.%Y %H:%M",
        "strict_categories": True,
    }
    if command == "validate":
        return  # validate has KIND FILE, not --incidents; its own tests load it
    # The shared loader reads the file the same way for every command: K1 is rån, K2's code
    # 9999 is not in the map and --strict-categories rejects it (1 of 2 rows, on stderr).
    inputs = load_inputs(args)
    assert inputs.incidents["id"].tolist() == ["K1"]
    assert inputs.incidents["category"].tolist() == ["rån"]
    assert inputs.areas is None and inputs.dialogue is None and inputs.gazetteer is None
    assert f"lagesbild {command}: export.csv: 1 av 2 rader avvisades" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["hotspots", "zones", "compare"])
def test_every_analysis_command_takes_the_same_boundary_options(command, files):
    extra = ["--boundaries", "{tmp}/b.geojson", "--area-id-col", "KOD", "--area-name-col", "NAMN"]
    args = _parse(command, extra, files)
    boundaries = (args.boundaries, args.area_id_col, args.area_name_col)
    assert boundaries == (Path(files["tmp"]) / "b.geojson", "KOD", "NAMN")


@pytest.mark.parametrize("command", ["hotspots", "zones", "compare"])
def test_no_incident_loaded_is_an_input_error(command, files, tmp_path):
    bad = tmp_path / "alla_fel.csv"
    bad.write_text("id,tid,lon,lat\n1,igår,17.83,59.42\n", encoding="utf-8")
    args = _parse(command, [], {**files, "inc": str(bad)})
    with pytest.raises(InputError, match="alla_fel.csv: inga händelser kunde läsas in"):
        load_inputs(args)


@pytest.mark.parametrize(
    ("out", "suffixes", "match"),
    [
        ("x.shp", (".gpkg",), 'okänt format ".shp", använd .gpkg.'),
        ("x.docx", (".csv", ".pdf"), "använd .csv eller .pdf"),
        ("saknas/x.csv", None, 'Mappen ".*saknas" finns inte'),
    ],
    ids=["one-suffix", "two-suffixes", "missing-folder"],
)
def test_check_out(tmp_path, out, suffixes, match):
    with pytest.raises(InputError, match=match):
        check_out(tmp_path / out, suffixes)
    check_out(tmp_path / "ok.csv", (".csv",))  # a good name in an existing folder passes
