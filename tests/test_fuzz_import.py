"""Fuzzing the importers (hypothesis, bounded): garbled CSV and GeoJSON either load or raise
`geo.errors.InputError` — never another exception, never a traceback for the user.

Each property runs a fixed, small number of examples (`MAX_EXAMPLES`) with a derandomised
seed so CI is reproducible and takes seconds.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import io
from geo.errors import InputError

MAX_EXAMPLES = int(os.environ.get("LAGESBILD_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("LAGESBILD_FUZZ_EXAMPLES") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

HEADERS = ["id", "tid", "brottstyp", "lon", "lat", "x", "y", "vikt", "skäl", "antal", "datum", ""]
CELLS = st.one_of(
    st.sampled_from(
        [
            "17.83",
            "59.42",
            "2018-03-02 23:30",
            "misshandel",
            "",
            "NaN",
            "inf",
            "-1",
            "1e308",
            "59,42",
            '"',
            "\\",
            "Ω",
            "\x00",
            "24.5",
            "2018-02-30",
        ]
    ),
    st.text(max_size=12),
    st.floats(allow_nan=True).map(str),
)


@st.composite
def csv_bytes(draw) -> bytes:
    cols = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(cols) + 2), max_size=8))
    text = sep.join(cols) + "\n" + "\n".join(sep.join(r) for r in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # flip some bytes
        flips = draw(
            st.lists(
                st.tuples(st.integers(0, max(len(data) - 1, 0)), st.integers(0, 255)), max_size=4
            )
        )
        buf = bytearray(data)
        for i, b in flips:
            if buf:
                buf[i % len(buf)] = b
        data = bytes(buf)
    return data


GEOMETRIES = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "type": st.just("Point"),
            "coordinates": st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["Polygon", "LineString", "MultiPolygon", "Bogus"]),
            "coordinates": st.lists(
                st.lists(st.lists(st.floats(-200, 200), min_size=2, max_size=2), max_size=5),
                max_size=2,
            ),
        }
    ),
    st.text(max_size=5),
)
PROPS = st.dictionaries(
    st.sampled_from(
        ["id", "name", "namn", "occurred_at", "category", "reason", "mentions", "area_id"]
    ),
    st.one_of(st.text(max_size=10), st.integers(), st.floats(), st.none()),
    max_size=5,
)


@st.composite
def geojson_bytes(draw) -> bytes:
    feats = draw(
        st.lists(
            st.fixed_dictionaries(
                {"type": st.just("Feature"), "properties": PROPS, "geometry": GEOMETRIES}
            ),
            max_size=5,
        )
    )
    doc: object = {"type": "FeatureCollection", "features": feats}
    if draw(st.booleans()):
        doc["crs"] = {
            "type": "name",
            "properties": {
                "name": draw(
                    st.sampled_from(
                        [
                            "EPSG:3006",
                            "EPSG:4326",
                            "urn:ogc:def:crs:EPSG::3011",
                            "EPSG:999999",
                            "nonsense",
                        ]
                    )
                )
            },
        }
    data = json.dumps(doc, allow_nan=True).encode()
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return data if cut is None else data[:cut]


def _load(loader, suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            result = loader(path)
        except InputError as exc:
            assert str(exc).strip(), "an InputError must say what is wrong"
            return
        # loaded + rejected = rows read, always
        assert result.loaded + len(result.rejected) == result.rows


@FUZZ
@given(data=csv_bytes())
def test_incidents_csv(data):
    _load(io.load_incidents, ".csv", data)


@FUZZ
@given(data=csv_bytes())
def test_dialogue_csv(data):
    _load(io.load_dialogue, ".csv", data)


@FUZZ
@given(data=geojson_bytes())
def test_incidents_geojson(data):
    _load(io.load_incidents, ".geojson", data)


@FUZZ
@given(data=geojson_bytes())
def test_boundaries_geojson(data):
    _load(io.load_boundaries, ".geojson", data)


@FUZZ
@given(data=st.binary(max_size=300))
def test_raw_bytes_as_every_format(data):
    for loader, suffix in [
        (io.load_incidents, ".csv"),
        (io.load_boundaries, ".geojson"),
        (io.load_gazetteer, ".zip"),
        (io.load_boundaries, ".gpkg"),
    ]:
        _load(loader, suffix, data)
