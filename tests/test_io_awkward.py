"""Table-driven test of awkward and bad input files for geo.io (issue 2, section 4).

Each case writes a tiny file, loads it and checks either the exact structural error or the
rows loaded/rejected, the reasons, a warning and a value. Every loaded case also checks the
invariant loaded + rejected == rows.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo import io, schema
from geo.errors import InputError

HEADER = "id,tid,brottstyp,lon,lat\n"
JAKOBSBERG = "17.8336,59.4236"  # Jakobsbergs station, DESIGN.md §5


def write_text(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(text.encode(encoding))
        return path

    return make


def write_bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return make


def write_frame(name: str, frame: gpd.GeoDataFrame, **kw) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        frame.to_file(path, **kw)
        return path

    return make


def shapefile_without_prj(tmp: Path) -> Path:
    path = tmp / "ytor.shp"
    gpd.GeoDataFrame(
        {"namn": ["A"]}, geometry=[shapely.box(670000, 6580000, 671000, 6581000)], crs=3006
    ).to_file(path)
    path.with_suffix(".prj").unlink()
    return path


def two_layer_gpkg(tmp: Path) -> Path:
    path = tmp / "ytor.gpkg"
    frame = gpd.GeoDataFrame(
        {"namn": ["A"]}, geometry=[shapely.box(17.8, 59.4, 17.9, 59.5)], crs=4326
    )
    frame.to_file(path, layer="kommuner")
    frame.to_file(path, layer="stadsdelar")
    return path


def zip_of_shapefiles(*stems: str, folder: str = "") -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / "ytor.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for stem in stems:
                shp = tmp / f"{stem}.shp"
                gpd.GeoDataFrame(
                    {"namn": [stem]}, geometry=[shapely.box(17.8, 59.4, 17.9, 59.5)], crs=4326
                ).to_file(shp)
                for part in tmp.glob(f"{stem}.*"):
                    zf.write(part, folder + part.name)
        return path

    return make


BOWTIE = shapely.Polygon([(17.80, 59.40), (17.90, 59.50), (17.90, 59.40), (17.80, 59.50)])
MIXED = gpd.GeoDataFrame(
    {"namn": ["Yta", "Punkt", "Linje"]},
    geometry=[
        shapely.box(17.8, 59.4, 17.9, 59.5),
        shapely.Point(17.85, 59.45),
        shapely.LineString([(17.8, 59.4), (17.9, 59.5)]),
    ],
    crs=4326,
)
WITH_EMPTY = gpd.GeoDataFrame(
    {"namn": ["Yta", "Tom"]},
    geometry=[shapely.box(17.8, 59.4, 17.9, 59.5), None],
    crs=4326,
)


@dataclass
class Case:
    make: Callable[[Path], Path]
    loader: Callable = io.load_incidents
    kwargs: dict = field(default_factory=dict)
    error: str | None = None  # the exact message (file name as written by `make`)
    rows: int | None = None
    loaded: int | None = None
    reasons: dict | None = None
    rejected_rows: list | None = None
    warning: str | None = None  # a substring of one warning
    check: Callable[[io.LoadResult], None] | None = None


def first_time(res: io.LoadResult) -> str:
    return str(res.frame[schema.OCCURRED_AT].iloc[0])


def assert_lonlat(res: io.LoadResult, lon: float, lat: float) -> None:
    x, y = pyproj.Transformer.from_crs(4326, 3006, always_xy=True).transform(lon, lat)
    geom = res.frame.geometry.iloc[0]
    np.testing.assert_allclose([geom.x, geom.y], [x, y], atol=1e-6)


CASES = {
    "missing time column": Case(
        write_text("h.csv", "id,lon,lat\n1,17.83,59.42\n"),
        error="Filen h.csv saknar en tidskolumn; hittade kolumnerna: id, lon, lat.",
    ),
    "missing coordinate columns": Case(
        write_text("h.csv", "id,tid,plats\n1,2018-03-02 23:30,Jakobsberg\n"),
        error="Filen h.csv saknar koordinatkolumner (lon/lat eller x/y med koordinatsystem); "
        "hittade kolumnerna: id, tid, plats.",
    ),
    "empty file": Case(write_text("h.csv", ""), error="Filen h.csv är tom."),
    "header only": Case(
        write_text("h.csv", HEADER),
        error="Filen h.csv har inga datarader, bara rubrikraden (id, tid, brottstyp, lon, lat).",
    ),
    "non-UTF-8 (cp1252) text": Case(
        write_text("h.csv", HEADER + f"1,2018-03-02 23:30,Rån,{JAKOBSBERG}\n", "cp1252"),
        rows=1,
        loaded=1,
        warning="Filen h.csv är inte UTF-8 och lästes som Windows-1252",
        check=lambda r: (
            r.frame[schema.RAW_CATEGORY].tolist() == ["Rån"] and r.frame[schema.CATEGORY][0] == "rån"
        ),
    ),
    "UTF-8 with BOM": Case(
        write_bytes("h.csv", b"\xef\xbb\xbf" + (HEADER + f"A1,2018-03-02 23:30,rån,{JAKOBSBERG}\n").encode()),
        rows=1,
        loaded=1,
        check=lambda r: r.frame[schema.ID].tolist() == ["A1"],
    ),
    "Swedish Excel: semicolons and decimal commas": Case(
        write_text("h.csv", "id;tid;brottstyp;lon;lat\n1;2018-03-02 23:30;misshandel;17,8336;59,4236\n"),
        rows=1,
        loaded=1,
        check=lambda r: assert_lonlat(r, 17.8336, 59.4236) is None,
    ),
    "swapped lat/lon": Case(
        write_text("h.csv", HEADER + "1,2018-03-02 23:30,rån,59.4236,17.8336\n"
                   "2,2018-03-02 23:40,rån,59.2436,18.0931\n"),  # fmt: skip
        error="Koordinaterna i filen h.csv ser ut att vara omkastade ('lon' och 'lat'): alla "
        "punkter hamnar utanför Sverige men innanför om de byts.",
    ),
    "points outside Sweden": Case(
        write_text("h.csv", HEADER + f"1,2018-03-02 23:30,rån,{JAKOBSBERG}\n"
                   "2,2018-03-02 23:40,rån,2.35,48.86\n3,2018-03-02 23:50,rån,24.94,60.17\n"),  # fmt: skip
        rows=3,
        loaded=1,
        reasons={"utanför Sverige": 2},
        rejected_rows=[3, 4],  # header is row 1: Paris on row 3, Helsinki on row 4
    ),
    "undeclared CRS for x/y": Case(
        write_text("h.csv", "id,tid,x,y\n1,2018-03-02 23:30,667000,6590000\n"),
        error="Filen h.csv har x/y-koordinater ('x' och 'y') men inget angivet koordinatsystem; "
        "ange det med --crs, t.ex. EPSG:3006.",
    ),
    "declared CRS for x/y": Case(
        write_text("h.csv", "id,tid,x,y\n1,2018-03-02 23:30,667000,6590000\n"),
        kwargs={"crs": "EPSG:3006"},
        rows=1,
        loaded=1,
        check=lambda r: r.crs == "EPSG:3006" and r.frame.geometry.iloc[0].equals(shapely.Point(667000, 6590000)),
    ),
    "metres in lon/lat columns": Case(
        write_text("h.csv", HEADER + "1,2018-03-02 23:30,rån,667000,6590000\n"),
        error="Koordinaterna i filen h.csv ('lon' och 'lat') ser ut att vara meter i SWEREF 99 TM, "
        "inte grader; ange koordinatsystemet med --crs EPSG:3006 (och x/y-kolumner i CSV).",
    ),
    "GeoJSON in SWEREF 99 TM without crs member": Case(
        write_text("ytor.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"properties": {"namn": "A"}, "geometry": {"type": "Polygon", "coordinates": '
                   '[[[667000, 6590000], [668000, 6590000], [668000, 6591000], [667000, 6590000]]]}}]}'),
        loader=io.load_boundaries,
        error="Koordinaterna i filen ytor.geojson (x och y i geometrin) ser ut att vara meter i "
        "SWEREF 99 TM, inte grader; ange koordinatsystemet med --crs EPSG:3006 (och x/y-kolumner i CSV).",
    ),
    "GeoJSON in SWEREF 99 TM with crs given": Case(
        write_text("ytor.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"properties": {"namn": "A"}, "geometry": {"type": "Polygon", "coordinates": '
                   '[[[667000, 6590000], [668000, 6590000], [668000, 6591000], [667000, 6590000]]]}}]}'),
        loader=io.load_boundaries,
        kwargs={"crs": "EPSG:3006"},
        rows=1,
        loaded=1,
        warning="Filen ytor.geojson anger koordinatsystemet EPSG:4326 men EPSG:3006 användes, som du angav.",
        check=lambda r: abs(r.frame.geometry.area.iloc[0] - 500_000) < 1e-6,  # triangle 1000 x 1000 / 2
    ),
    "unknown CRS": Case(
        write_text("h.csv", "id,tid,x,y\n1,2018-03-02 23:30,667000,6590000\n"),
        kwargs={"crs": "EPSG:999999"},
        error="Okänt koordinatsystem 'EPSG:999999' för h.csv; ange t.ex. EPSG:3006 eller EPSG:3011.",
    ),
    "shapefile without .prj": Case(
        shapefile_without_prj,
        loader=io.load_boundaries,
        error="Filen ytor.shp anger inget koordinatsystem (t.ex. en shapefil utan .prj-fil); "
        "ange det med --crs, t.ex. EPSG:3006.",
    ),
    "GeoPackage with several layers": Case(
        two_layer_gpkg,
        loader=io.load_boundaries,
        error="Filen ytor.gpkg har flera lager (kommuner, stadsdelar); välj ett med --layer.",
    ),
    "GeoPackage layer chosen": Case(
        two_layer_gpkg,
        loader=io.load_boundaries,
        kwargs={"layer": "stadsdelar"},
        rows=1,
        loaded=1,
    ),
    "zip with the shapefile in a folder": Case(
        zip_of_shapefiles("stadsdelar", folder="export/"),
        loader=io.load_boundaries,
        rows=1,
        loaded=1,
    ),
    "zip with two shapefiles": Case(
        zip_of_shapefiles("kommuner", "stadsdelar"),
        loader=io.load_boundaries,
        error="Filen ytor.zip har flera lager (kommuner, stadsdelar); välj ett med --layer.",
    ),
    "zip with two shapefiles, layer chosen": Case(
        zip_of_shapefiles("kommuner", "stadsdelar"),
        loader=io.load_boundaries,
        kwargs={"layer": "stadsdelar"},
        rows=1,
        loaded=1,
        check=lambda r: r.frame[schema.AREA_NAME].tolist() == ["stadsdelar"],
    ),
    "zip without geodata": Case(
        write_bytes("ytor.zip", b"PK\x05\x06" + b"\x00" * 18),  # an empty zip archive
        loader=io.load_boundaries,
        error="Zip-filen ytor.zip innehåller ingen shapefil eller annan geodatafil.",
    ),
    "mixed geometry types in boundaries": Case(
        write_frame("ytor.geojson", MIXED),
        loader=io.load_boundaries,
        rows=3,
        loaded=1,
        reasons={"fel geometrityp": 2},
        check=lambda r: r.rejected["reason"].tolist()
        == ["fel geometrityp (Point)", "fel geometrityp (LineString)"],
    ),
    "invalid polygon repaired": Case(
        write_frame("ytor.geojson", gpd.GeoDataFrame({"namn": ["Fluga"]}, geometry=[BOWTIE], crs=4326)),
        loader=io.load_boundaries,
        rows=1,
        loaded=1,
        warning="1 geometrier var ogiltiga och reparerades med make_valid (rad 1).",
        check=lambda r: bool(r.frame.geometry.is_valid.all()) and r.frame.geometry.area.iloc[0] > 0,
    ),
    "empty geometry": Case(
        write_frame("ytor.geojson", WITH_EMPTY),
        loader=io.load_boundaries,
        rows=2,
        loaded=1,
        reasons={"tom geometri": 1},
        rejected_rows=[2],
    ),
    "unparseable and missing times": Case(
        write_text("h.csv", HEADER + f"1,igår kväll,rån,{JAKOBSBERG}\n2,,rån,{JAKOBSBERG}\n"
                   f"3,2018-02-30 10:00,rån,{JAKOBSBERG}\n4,2018-03-02 23:30,rån,{JAKOBSBERG}\n"),  # fmt: skip
        rows=4,
        loaded=1,
        reasons={"ogiltig tid": 2, "saknar tid": 1},
        rejected_rows=[2, 3, 4],
    ),
    "DST-ambiguous times (autumn)": Case(
        write_text("h.csv", HEADER + f"1,2018-10-28 02:30,rån,{JAKOBSBERG}\n"),
        rows=1,
        loaded=1,
        warning="1 tider var tvetydiga",
        check=lambda r: first_time(r) == "2018-10-28 02:30:00+02:00",  # first occurrence: CEST
    ),
    "DST gap (spring forward)": Case(
        write_text("h.csv", HEADER + f"1,2018-03-25 02:30,rån,{JAKOBSBERG}\n"),
        rows=1,
        loaded=1,
        warning="1 tider fanns inte",
        check=lambda r: first_time(r) == "2018-03-25 03:30:00+02:00",  # 02:30 CET == 03:30 CEST
    ),
    "ISO 8601 with offsets": Case(
        write_text("h.csv", HEADER + f"1,2018-06-01T10:00:00Z,rån,{JAKOBSBERG}\n"
                   f"2,2018-06-01T10:00:00+01:00,rån,{JAKOBSBERG}\n"),  # fmt: skip
        rows=2,
        loaded=2,
        check=lambda r: [str(t) for t in r.frame[schema.OCCURRED_AT]]
        == ["2018-06-01 12:00:00+02:00", "2018-06-01 11:00:00+02:00"],
    ),
    "duplicate ids": Case(
        write_text("h.csv", HEADER + f"A,2018-03-02 23:30,rån,{JAKOBSBERG}\n"
                   f"B,2018-03-02 23:31,rån,{JAKOBSBERG}\nA,2018-03-02 23:32,rån,{JAKOBSBERG}\n"),  # fmt: skip
        rows=3,
        loaded=2,
        reasons={"dubblett": 1},
        check=lambda r: r.rejected["reason"].tolist() == ["dubblett av rad 2"],
    ),
    "NaN and non-numeric coordinates": Case(
        write_text("h.csv", HEADER + "1,2018-03-02 23:30,rån,,59.42\n2,2018-03-02 23:30,rån,NaN,59.42\n"
                   "3,2018-03-02 23:30,rån,sjutton,59.42\n"),  # fmt: skip
        rows=3,
        loaded=0,
        reasons={"saknar koordinater": 1, "ogiltiga koordinater": 2},
    ),
    "absurd numbers": Case(
        write_text("h.csv", HEADER + f"1,2018-03-02 23:30,rån,{JAKOBSBERG}\n2,2018-03-02 23:30,rån,1e10,59.4\n"
                   "3,2018-03-02 23:30,rån,17.8,-999\n4,2018-03-02 23:30,rån,inf,59.4\n"),  # fmt: skip
        rows=4,
        loaded=1,
        reasons={"ogiltiga koordinater": 3},
        rejected_rows=[3, 4, 5],
    ),
    "unmapped categories kept as övrigt": Case(
        write_text("h.csv", HEADER + f"1,2018-03-02 23:30,Brott mot griftefrid,{JAKOBSBERG}\n"
                   f"2,2018-03-02 23:31,misshandel,{JAKOBSBERG}\n"),  # fmt: skip
        rows=2,
        loaded=2,
        warning="1 händelse har en kategori som saknas i kategorimappningen och fick kategorin "
        "övrigt: 'Brott mot griftefrid' (1).",
        check=lambda r: r.frame[schema.CATEGORY].tolist() == ["övrigt", schema.VIOLENCE],
    ),
    "unmapped categories rejected in strict mode": Case(
        write_text("h.csv", HEADER + f"1,2018-03-02 23:30,Brott mot griftefrid,{JAKOBSBERG}\n"),
        kwargs={"strict_categories": True},
        rows=1,
        loaded=0,
        reasons={"okänd kategori": 1},
    ),
    "separate date and clock columns": Case(
        write_text("h.csv", f"datum,klockslag,lon,lat\n2018-03-02,23.30,{JAKOBSBERG}\n"),
        rows=1,
        loaded=1,
        check=lambda r: first_time(r) == "2018-03-02 23:30:00+01:00",
    ),
    "ragged CSV rows": Case(
        write_text("h.csv", HEADER + f"1,2018-03-02 23:30,rån,{JAKOBSBERG},extra\n"
                   f"2,2018-03-02 23:30,rån,{JAKOBSBERG}\n3,2018-03-02 23:30\n"),
        rows=3,
        loaded=1,
        reasons={"fel antal fält": 2},
        rejected_rows=[2, 4],
        check=lambda r: r.rejected["rådata"].tolist() == [f"1,2018-03-02 23:30,rån,{JAKOBSBERG},extra",
                                                          "3,2018-03-02 23:30"]
        and r.frame[schema.ROW].tolist() == [3],
    ),
    "unbalanced quote": Case(
        write_text("h.csv", 'id,tid,lon,lat\n1,"2018-03-02 23:30,17.8,59.4\n'),
        rows=1,
        loaded=0,
        reasons={"fel antal fält": 1},
    ),
    "unsupported format": Case(
        write_text("h.xlsx", "x"), error="Filen h.xlsx har ett format som inte stöds (.xlsx); "
        "använd CSV, GeoJSON, GeoPackage, Shapefile (.shp eller .zip) eller GeoParquet.",
    ),
    "stacked coordinates warned": Case(
        write_text("h.csv", HEADER + "".join(f"{i},2018-03-02 23:{i:02d},rån,{JAKOBSBERG}\n" for i in range(12))),
        rows=12,
        loaded=12,
        warning="12 händelser ligger på exakt samma koordinat som minst 9 andra, på 1 plats (flest, "
        "12, vid 59.42360 N 17.83360 Ö).",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_awkward_input(case: Case, tmp_path: Path) -> None:
    path = case.make(tmp_path)
    if case.error is not None:
        with pytest.raises(InputError, match=re.escape(case.error) + "$"):
            case.loader(path, **case.kwargs)
        return
    res = case.loader(path, **case.kwargs)
    assert res.loaded + len(res.rejected) == res.rows
    if case.rows is not None:
        assert res.rows == case.rows
    if case.loaded is not None:
        assert res.loaded == case.loaded
    assert res.reasons == (case.reasons or {})
    if case.rejected_rows is not None:
        assert res.rejected[schema.ROW].tolist() == case.rejected_rows
    if case.warning is not None:
        assert any(case.warning in w for w in res.warnings), res.warnings
    if case.check is not None:
        assert case.check(res) is not False


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^Filen saknas\.csv finns inte"):
        io.load_incidents(tmp_path / "saknas.csv")


def test_unreadable_file_is_one_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "mapp.csv"
    folder.mkdir()
    with pytest.raises(InputError, match=r"^Filen mapp\.csv kan inte läsas: .*\.$"):
        io.load_incidents(folder)


def test_missing_layer_lists_layers(tmp_path: Path) -> None:
    path = two_layer_gpkg(tmp_path)
    with pytest.raises(
        InputError, match=r"har inget lager 'x'; lagren är: kommuner, stadsdelar\.$"
    ):
        io.load_boundaries(path, layer="x")


def test_rejected_rows_keep_raw_values(tmp_path: Path) -> None:
    path = write_text(
        "h.csv", HEADER + f"1,2018-03-02 23:30,rån,{JAKOBSBERG}\n2,igår,rån,{JAKOBSBERG}\n"
    )(tmp_path)
    res = io.load_incidents(path)
    row = res.rejected.iloc[0]
    assert (row["row"], row["reason"], row["tid"], row["id"]) == (3, "ogiltig tid", "igår", "2")
    out = res.write_rejected(tmp_path / "avvisade.csv")
    back = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert back.columns.tolist() == ["row", "reason", "id", "tid", "brottstyp", "lon", "lat"]
    assert back["tid"].tolist() == ["igår"]


def test_every_reason_is_a_constant() -> None:
    assert len(set(io.REASONS)) == len(io.REASONS)
    assert all(isinstance(r, str) and r == r.strip() and r for r in io.REASONS)
