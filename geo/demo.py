"""Seeded, synthetic demo data for Järfälla and Farsta(-Vantör).

This module owns the files under ``data/``: approximate boundaries, incidents, dialogue
places (otrygga platser), a gazetteer and approximate lov calendars. Everything is made
here from a seed; nothing is copied from real registers.

Data caveats
------------
* The boundaries are **approximate**: Voronoi cells around hand-placed district centre
  points (DESIGN.md §5, ±300 m), clipped to a hand-drawn outline of the kommun or police
  area. They are neither the official kommundelar nor Stockholm's stadsdelar; every feature
  carries ``approximate: true``. Load official boundaries for real work.
* The incidents and dialogue places are **synthetic**. They carry planted truths (hotspots,
  a 2018 drop with displacement, perception gaps, a stacked geocoding-fallback coordinate)
  listed in :data:`PLANTED` and in ``data/README.md`` so that analyses can be tested
  against a known answer.
* The lov calendars are approximate (week 9/8 sportlov, week 44 höstlov, ...), not
  transcribed from the kommuner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import holidays
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Polygon

from geo import schema

DEFAULT_SEED = 20180101
#: The Järfälla medborgarlöfte's actions start here (the after period begins).
PROMISE_START = "2018-03-01"
PERIOD_START = "2017-01-01"
PERIOD_END = "2018-12-31"  # inclusive

#: The repository's data folder, where the committed demo files live.
DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: File names relative to the data folder; keys are those of :func:`demo_paths`.
_RELATIVE_PATHS = {
    "areas": "boundaries/demo_areas.geojson",
    "incidents": "incidents/demo_incidents.csv",
    "category_map": "incidents/category_map.toml",
    "dialogue": "incidents/demo_dialogue.csv",
    "gazetteer": "places/gazetteer.csv",
    "calendar_jarfalla": "calendar/jarfalla_lov_2017_2018.csv",
    "calendar_stockholm": "calendar/stockholm_lov_2017_2018.csv",
    "provenance": "PROVENANCE.md",
}

#: Column of the raw offence name in the incident CSV.
RAW_CATEGORY_COLUMN = "brottstyp"
INCIDENT_COLUMNS = (schema.ID, schema.OCCURRED_AT, RAW_CATEGORY_COLUMN, "lon", "lat")
DIALOGUE_COLUMNS = (
    schema.ID,
    "lon",
    "lat",
    schema.REASON,
    schema.REASON_CATEGORY,
    schema.TIME_OF_DAY,
    schema.MENTIONS,
    schema.DIALOGUE_ROUND,
    schema.DIALOGUE_DATE,
)
GAZETTEER_COLUMNS = (schema.PLACE_NAME, schema.PLACE_KIND, "lon", "lat")
CALENDAR_COLUMNS = ("school_term", "date_start", "date_end", "kind", "label_sv", "source_url")

_MINUTE_NS = 60 * 10**9
_TO_METRIC = Transformer.from_crs(schema.CRS_WGS84, schema.CRS_METRIC, always_xy=True)
_TO_LONLAT = Transformer.from_crs(schema.CRS_METRIC, schema.CRS_WGS84, always_xy=True)


def _metric(lat: float, lon: float) -> tuple[float, float]:
    x, y = _TO_METRIC.transform(lon, lat)
    return float(x), float(y)


# --- places ---------------------------------------------------------------------------------

#: Gazetteer: (name, kind, lat, lon). DESIGN.md §5 where it names the place, otherwise
#: placed by hand at the real location to about ±300 m.
PLACES: tuple[tuple[str, str, float, float], ...] = (
    # Järfälla
    ("Jakobsbergs station", "station", 59.4236, 17.8336),
    ("Jakobsbergs centrum", "centrum", 59.4253, 17.8330),
    ("Riddarplatsen", "torg", 59.4262, 17.8318),
    ("Söderhöjden", "bostadsområde", 59.42045, 17.8336),
    ("Barkarby station", "station", 59.4037, 17.8690),
    ("Veddesta", "industriområde", 59.4180, 17.8640),
    ("Skälby", "bostadsområde", 59.4105, 17.8520),
    ("Säbysjön", "park", 59.4125, 17.8430),
    ("Gångvägen vid Säbysjön", "gångväg", 59.4142, 17.8418),
    ("Kallhälls station", "station", 59.4531, 17.8060),
    ("Viksjö centrum", "centrum", 59.4138, 17.8097),
    ("Gångtunneln under Viksjöleden", "gångtunnel", 59.4180, 17.8200),
    ("Görvälns slott", "park", 59.4380, 17.7930),
    ("Stäket", "bostadsområde", 59.4860, 17.8180),
    # Farsta(-Vantör)
    ("Farsta centrum", "centrum", 59.2436, 18.0931),
    ("Farsta strand", "station", 59.2351, 18.1017),
    ("Hökarängen centrum", "centrum", 59.2577, 18.0826),
    ("Gubbängen", "station", 59.2627, 18.0820),
    ("Gubbängsfältet", "park", 59.2610, 18.0730),
    ("Gångvägen över Gubbängsfältet", "gångväg", 59.2603, 18.0745),
    ("Högdalen centrum", "centrum", 59.2637, 18.0430),
    ("Rågsved", "centrum", 59.2565, 18.0282),
    ("Hagsätra", "centrum", 59.2626, 18.0124),
    ("Bandhagen", "station", 59.2704, 18.0494),
    ("Tallkrogen", "station", 59.2712, 18.0853),
    ("Sköndal", "centrum", 59.2560, 18.1140),
)
_PLACE_M = {name: _metric(lat, lon) for name, _kind, lat, lon in PLACES}

# --- boundaries -----------------------------------------------------------------------------

# Hand-drawn outlines, SWEREF 99 TM metres, within a few hundred metres of the real ones.
_JARFALLA_OUTLINE_M = (
    (658900, 6594700),
    (658900, 6599800),
    (661000, 6598900),
    (660200, 6595700),
    (662800, 6593900),
    (664000, 6590500),
    (663300, 6588000),
    (661500, 6586400),
    (660200, 6587900),
    (658900, 6586700),
    (657600, 6588200),
    (657500, 6590500),
)
_FARSTA_OUTLINE_M = (
    (670900, 6573300),
    (671800, 6574500),
    (672600, 6574300),
    (673500, 6574600),
    (674500, 6574900),
    (675200, 6575200),
    (676300, 6574800),
    (676600, 6573800),
    (678300, 6573500),
    (678500, 6571100),
    (678000, 6570100),
    (676200, 6569800),
    (674600, 6570600),
    (673900, 6571300),
    (672700, 6571800),
)

# District centre points (SWEREF 99 TM metres, ±300 m) with an approximate population that
# weights the residential background of incidents.
_KOMMUNDELAR = {
    "Jakobsberg": ((660600, 6591000), 30_000),
    "Barkarby": ((662850, 6588550), 10_000),
    "Skälby": ((662000, 6589700), 6_000),
    "Viksjö": ((659400, 6589400), 15_000),
    "Kallhäll": ((659200, 6594000), 10_000),
    "Görväln": ((658400, 6592300), 2_000),
    "Stäket": ((659600, 6597900), 3_000),
}
_STADSDELAR = {
    "Farsta": ((676400, 6571300), 9_000),
    "Farsta strand": ((676900, 6570300), 5_000),
    "Farstanäset": ((675300, 6570500), 1_000),
    "Larsboda": ((677500, 6570950), 2_000),
    "Sköndal": ((677600, 6572800), 9_000),
    "Hökarängen": ((675750, 6572800), 10_000),
    "Gubbängen": ((675650, 6573400), 8_000),
    "Tallkrogen": ((675900, 6574150), 4_000),
    "Svedmyra": ((674850, 6574450), 4_000),
    "Fagersjö": ((674450, 6572200), 4_000),
    "Högdalen": ((673450, 6573350), 7_000),
    "Bandhagen": ((673800, 6574150), 6_000),
    "Rågsved": ((672650, 6572550), 10_000),
    "Hagsätra": ((671700, 6573200), 10_000),
}
JARFALLA_ID = "0123"
LPO_JARFALLA_ID = "lpo-jarfalla"
LPO_FARSTA_ID = "lpo-farsta"

#: Nobody lives in parks, underpasses and industrial areas: the residential background
#: leaves discs of this radius around such gazetteer places empty.
_NO_HOMES_KINDS = ("park", "gångväg", "gångtunnel", "industriområde")
_NO_HOMES_RADIUS_M = 120.0

#: Residential background incidents a year per 1000 residents.
_BACKGROUND_PER_1000 = {"jarfalla": 58.0, "stockholm": 70.0}


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ascii_name.lower().replace(" ", "-")


def _partition(outline: Polygon, seeds: Mapping[str, tuple[float, float]]) -> dict[str, object]:
    """Voronoi cells of ``seeds`` clipped to ``outline``: no gaps, no overlaps."""
    cells = shapely.voronoi_polygons(MultiPoint(list(seeds.values())), extend_to=outline)
    parts = {}
    for name, xy in seeds.items():
        point = shapely.Point(xy)
        cell = next(c for c in cells.geoms if c.contains(point))
        parts[name] = cell.intersection(outline)
    return parts


def _build_areas() -> gpd.GeoDataFrame:
    rows = []
    for parent_rows, outline, seeds, level, id_prefix in (
        ([(JARFALLA_ID, "Järfälla", "kommun"), (LPO_JARFALLA_ID, "Järfälla", "lpo")],
         _JARFALLA_OUTLINE_M, _KOMMUNDELAR, "kommundel", JARFALLA_ID),
        ([(LPO_FARSTA_ID, "Farsta", "lpo")], _FARSTA_OUTLINE_M, _STADSDELAR, "stadsdel", "0180"),
    ):  # fmt: skip
        parts = _partition(Polygon(outline), {k: v[0] for k, v in seeds.items()})
        # The parent is the union of its children, so it carries every vertex they put on
        # its edges and they still tile it exactly after the round trip through lon/lat.
        parent = shapely.union_all(list(parts.values()))
        rows += [(area_id, name, lvl, None, parent) for area_id, name, lvl in parent_rows]
        parent_id = parent_rows[0][0]
        rows += [
            (f"{id_prefix}-{_slug(name)}", name, level, parent_id, geom)
            for name, geom in parts.items()
        ]
    frame = pd.DataFrame(
        rows,
        columns=[schema.AREA_ID, schema.AREA_NAME, schema.LEVEL, schema.PARENT_ID, "geom"],
    )
    frame["approximate"] = True
    return gpd.GeoDataFrame(
        frame.drop(columns="geom"), geometry=list(frame["geom"]), crs=schema.CRS_METRIC
    )


# --- calendars ------------------------------------------------------------------------------


def _iso_week(year: int, week: int, days: int = 5) -> tuple[str, str]:
    start = dt.date.fromisocalendar(year, week, 1)
    return start.isoformat(), (start + dt.timedelta(days=days - 1)).isoformat()


# Per school year: first spring day, påsklov (start, end, ISO week), last spring day, first
# and last autumn day. The next year's first day ends the jullov.
_SCHOOL_YEARS = {
    2017: ("2017-01-10", ("2017-04-10", "2017-04-13", 15), "2017-06-14", "2017-08-21", "2017-12-21"),
    2018: ("2018-01-09", ("2018-04-03", "2018-04-06", 14), "2018-06-13", "2018-08-20", "2018-12-20"),
    2019: ("2019-01-08", None, None, None, None),
}  # fmt: skip


def _day(text: str, shift_days: int) -> str:
    return (dt.date.fromisoformat(text) + dt.timedelta(days=shift_days)).isoformat()


def _calendar(sportlov_week: int) -> pd.DataFrame:
    """Approximate school terms and lov 2017–2018 (sportlov week differs by kommun)."""
    rows = [("HT2016", "2016-12-22", _day(_SCHOOL_YEARS[2017][0], -1), "lov", "Jullov")]
    for year in (2017, 2018):
        vt_start, (pa_start, pa_end, pa_week), vt_end, ht_start, ht_end = _SCHOOL_YEARS[year]
        vt, ht = f"VT{year}", f"HT{year}"
        sportlov = f"Sportlov (vecka {sportlov_week})"
        rows += [
            (vt, vt_start, vt_start, "term_start", "Terminens första dag"),
            (vt, *_iso_week(year, sportlov_week), "lov", sportlov),
            (vt, pa_start, pa_end, "lov", f"Påsklov (vecka {pa_week})"),
            (vt, vt_end, vt_end, "term_end", "Läsårsavslutning"),
            (vt, _day(vt_end, 1), _day(ht_start, -1), "lov", "Sommarlov"),
            (ht, ht_start, ht_start, "term_start", "Läsårets första dag"),
            (ht, *_iso_week(year, 44), "lov", "Höstlov (vecka 44)"),
            (ht, ht_end, ht_end, "term_end", "Terminsavslutning"),
            (ht, _day(ht_end, 1), _day(_SCHOOL_YEARS[year + 1][0], -1), "lov", "Jullov"),
        ]
    frame = pd.DataFrame(rows, columns=list(CALENDAR_COLUMNS[:-1]))
    frame["source_url"] = "approximate"
    return frame


_CALENDARS = {"jarfalla": 9, "stockholm": 8}  # sportlov week

# --- time patterns --------------------------------------------------------------------------

# Relative intensity by clock hour 0..23, by evening weekday (Mon..Sun; a night belongs to the
# evening it started), by month, on helgdag evenings and on lov days, per time-pattern kind.
_HOUR_SHAPE = {
    "night": (10, 9, 7, 5, 3, 1.5, 1, 1, 1.2, 1.5, 2, 2.5, 3, 3, 3.2, 3.5, 4, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10),
    "evening": (4, 3, 2, 1.2, 0.8, 0.5, 0.5, 0.8, 1.2, 1.8, 2.5, 3, 3.5, 4, 4.5, 5.5, 6.5, 7, 7.5, 7.5, 7, 6.5, 6, 5),
    "day": (0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 2, 3.5, 5, 6, 7, 7.5, 7.5, 7.5, 7.5, 7.5, 7, 6, 4.5, 3, 2, 1.2, 0.8),
    "home": (1, 0.8, 0.6, 0.5, 0.5, 0.5, 0.8, 1.5, 3, 4.5, 5.5, 6, 6, 6, 6, 6, 6, 6, 5.5, 4.5, 3.5, 2.5, 1.8, 1.3),
}  # fmt: skip
_HOUR_SHAPE["bike"] = _HOUR_SHAPE["day"]
_WEEKDAY = {
    "night": (0.7, 0.7, 0.8, 1.0, 2.0, 2.3, 0.9),
    "evening": (0.9, 0.9, 1.0, 1.1, 1.4, 1.4, 0.9),
    "day": (1.05, 1.0, 1.0, 1.0, 1.1, 1.0, 0.8),
    "bike": (1.05, 1.0, 1.0, 1.0, 1.1, 1.0, 0.8),
    "home": (1.1, 1.1, 1.1, 1.1, 1.0, 0.8, 0.8),
}
_MONTH = {
    "night": (0.8, 0.8, 0.9, 1.0, 1.1, 1.25, 1.2, 1.2, 1.1, 1.0, 0.9, 0.85),
    "evening": (0.9, 0.9, 0.95, 1.0, 1.05, 1.1, 1.1, 1.1, 1.05, 1.0, 0.95, 0.9),
    "day": (0.9, 0.85, 0.9, 1.0, 1.05, 1.1, 1.1, 1.1, 1.05, 1.0, 1.0, 1.15),
    "bike": (0.3, 0.3, 0.6, 1.0, 1.5, 1.7, 1.7, 1.6, 1.4, 1.0, 0.6, 0.3),
    "home": (1.1, 1.0, 0.95, 0.95, 0.95, 1.0, 1.35, 1.2, 0.95, 1.0, 1.05, 1.25),
}
_HOLIDAY_FACTOR = {"night": 1.8, "evening": 1.3, "day": 0.8, "bike": 0.8, "home": 1.3}
#: Extra factor on top of the helgdag factor for the two biggest party nights.
_BIG_NIGHTS = ("Nyårsafton", "Midsommarafton")
_BIG_NIGHT_FACTOR = 1.7
_LOV_FACTOR = {"night": 1.2, "evening": 1.4, "day": 1.0, "bike": 1.0, "home": 1.3}

#: Raw offence name -> time-pattern kind. Every raw name is also a key (lower-cased) of
#: ``schema.DEFAULT_CATEGORY_MAP``, so the files load without a category map.
_KIND = {
    "Misshandel, utomhus": "night",
    "Misshandel": "night",
    "Grov misshandel": "night",
    "Olaga hot": "night",
    "Våld mot tjänsteman": "night",
    "Rån": "night",
    "Personrån": "night",
    "Ordningsstörning": "night",
    "Fylleri/LOB": "night",
    "Rattfylleri": "night",
    "Inbrott": "night",
    "Narkotikabrott, innehav": "evening",
    "Narkotikabrott, överlåtelse": "evening",
    "Skadegörelse": "evening",
    "Klotter": "evening",
    "Stöld": "day",
    "Fickstöld": "day",
    "Väskryckning": "day",
    "Cykelstöld": "bike",
    "Bostadsinbrott": "home",
}
RAW_CATEGORIES = tuple(_KIND)
#: The category map written to ``category_map.toml``.
CATEGORY_MAP = {raw: schema.DEFAULT_CATEGORY_MAP[raw.lower()] for raw in RAW_CATEGORIES}

# --- category mixes (relative shares) -------------------------------------------------------
_MIX = {
    "station_night": {
        "Misshandel, utomhus": 22, "Misshandel": 5, "Grov misshandel": 4, "Olaga hot": 5,
        "Våld mot tjänsteman": 2, "Narkotikabrott, innehav": 17,
        "Narkotikabrott, överlåtelse": 5, "Ordningsstörning": 10, "Fylleri/LOB": 6, "Rån": 3,
        "Personrån": 3, "Skadegörelse": 5, "Klotter": 3, "Stöld": 4, "Fickstöld": 3,
        "Cykelstöld": 3,
    },
    "shopping": {
        "Stöld": 30, "Fickstöld": 10, "Väskryckning": 2, "Misshandel, utomhus": 12,
        "Misshandel": 4, "Olaga hot": 5, "Rån": 3, "Personrån": 2,
        "Narkotikabrott, innehav": 10, "Ordningsstörning": 10, "Skadegörelse": 6,
        "Klotter": 4, "Cykelstöld": 4,
    },
    "suburb_centre": {
        "Misshandel, utomhus": 14, "Misshandel": 5, "Grov misshandel": 2, "Olaga hot": 6,
        "Rån": 4, "Personrån": 3, "Narkotikabrott, innehav": 15,
        "Narkotikabrott, överlåtelse": 4, "Ordningsstörning": 10, "Skadegörelse": 10,
        "Klotter": 8, "Stöld": 10, "Cykelstöld": 9,
    },
    "commuter_station": {
        "Cykelstöld": 30, "Stöld": 15, "Fickstöld": 8, "Skadegörelse": 12, "Klotter": 10,
        "Misshandel, utomhus": 8, "Olaga hot": 4, "Ordningsstörning": 7,
        "Narkotikabrott, innehav": 6,
    },
    "industrial": {"Skadegörelse": 30, "Klotter": 20, "Inbrott": 35, "Stöld": 15},
    "residential": {
        "Bostadsinbrott": 15, "Cykelstöld": 14, "Stöld": 12, "Skadegörelse": 12, "Klotter": 8,
        "Misshandel": 7, "Misshandel, utomhus": 3, "Olaga hot": 6, "Ordningsstörning": 8,
        "Rattfylleri": 5, "Narkotikabrott, innehav": 5, "Fickstöld": 2, "Personrån": 2,
        "Grov misshandel": 1,
    },
}  # fmt: skip
#: Categories the Jakobsberg promise's actions target (they drop most in the after period).
TARGET_CATEGORIES = (schema.VIOLENCE, "narkotikabrott")
_MIX["displaced"] = {
    raw: share
    for raw, share in _MIX["station_night"].items()
    if CATEGORY_MAP[raw] in TARGET_CATEGORIES
}


@dataclass(frozen=True)
class _Source:
    """One generating process: a hotspot (Gaussian around a place) or a residential area."""

    key: str
    calendar: str  # "jarfalla" or "stockholm"
    annual: float  # expected incidents a year at the 2017 level
    mix: str  # key of _MIX
    place: str | None = None  # gazetteer name of the Gaussian centre
    sigma_m: float = 0.0
    area_id: str | None = None  # residential background inside this area
    #: Multipliers from PROMISE_START on: (target categories, other categories).
    after: tuple[float, float] = (1.0, 1.0)
    #: Multiplier before PROMISE_START (0 for a process that only starts with the promise).
    before: float = 1.0


#: Everything planted in the demo data, for tests and docs (see data/README.md).
PLANTED: dict[str, object] = {
    "seed": DEFAULT_SEED,
    "promise_start": PROMISE_START,
    "jakobsberg_station": {
        "place": "Jakobsbergs station",
        "lon": 17.8336,
        "lat": 59.4236,
        "sigma_m": 80.0,
        "incidents_per_year_2017": 700.0,
        "mix": "station_night",
        "drop_target_categories": 0.40,  # −40 % violence and narcotics from PROMISE_START
        "drop_other_categories": 0.15,
        "treatment_radius_m": 200.0,
        "buffer_ring_m": (200.0, 450.0),
    },
    "displacement": {
        "place": "Söderhöjden",
        "lon": 17.8336,
        "lat": 59.42045,
        "distance_from_station_m": 350.0,
        "bearing": "south",
        "sigma_m": 40.0,
        "share_of_removed": 0.30,
        "baseline_per_year": 20.0,
    },
    "stacked_centre": {"count": 150, "area_id": JARFALLA_ID},
    "stacked_address": {"count": 80, "place": "Barkarby station", "raw_category": "Cykelstöld"},
    "perception_gaps": ("Gångtunneln under Viksjöleden", "Gångvägen över Gubbängsfältet",
                        "Gångvägen vid Säbysjön"),
    "unnamed_hotspot": "Veddesta",
    # Space and time (issue 16), from their own random stream so nothing above moves:
    # (in Farsta: Järfälla's control area of the displacement figures stays as it was)
    "new_hotspot": {  # violence only in the last month: Emerging Hot Spot Analysis "new"
        "place": "Tallkrogen", "month": "2018-12", "count": 30, "sigma_m": 60.0,
    },
    "diminishing_hotspot": {  # violence: steady in 2017, then falling through 2018
        "place": "Sköndal", "per_year_before": 240.0, "falls_from": "2018-01",
        "per_year_start": 480.0, "per_year_end": 100.0, "sigma_m": 90.0,
    },
    "near_repeat_burglary": {  # Bostadsinbrott followed by more nearby within days
        "area_id": "0123-viksjo", "originators_per_year": 60, "followers_mean": 1.5,
        "radius_m": 150.0, "days": (1, 7), "raw_category": "Bostadsinbrott",
    },
}  # fmt: skip

_STATION = PLANTED["jakobsberg_station"]
_DISPLACED = PLANTED["displacement"]
_removed_per_year = (
    _STATION["incidents_per_year_2017"]
    * _STATION["drop_target_categories"]
    * sum(_MIX["displaced"].values())
    / sum(_MIX["station_night"].values())
)

_HOTSPOTS = (
    _Source("jakobsbergs_station", "jarfalla", _STATION["incidents_per_year_2017"],
            "station_night", "Jakobsbergs station", _STATION["sigma_m"],
            after=(1 - _STATION["drop_target_categories"], 1 - _STATION["drop_other_categories"])),
    _Source("soderhojden_baseline", "jarfalla", _DISPLACED["baseline_per_year"],
            "displaced", "Söderhöjden", _DISPLACED["sigma_m"]),
    _Source("soderhojden_displaced", "jarfalla", _DISPLACED["share_of_removed"] * _removed_per_year,
            "displaced", "Söderhöjden", _DISPLACED["sigma_m"], before=0.0),
    _Source("jakobsbergs_centrum", "jarfalla", 200, "shopping", "Jakobsbergs centrum", 90),
    _Source("barkarby_station", "jarfalla", 250, "commuter_station", "Barkarby station", 100),
    _Source("kallhalls_station", "jarfalla", 120, "suburb_centre", "Kallhälls station", 90),
    _Source("viksjo_centrum", "jarfalla", 80, "suburb_centre", "Viksjö centrum", 90),
    _Source("veddesta", "jarfalla", 150, "industrial", "Veddesta", 180),
    _Source("farsta_centrum", "stockholm", 600, "shopping", "Farsta centrum", 110),
    _Source("farsta_strand", "stockholm", 100, "commuter_station", "Farsta strand", 90),
    _Source("hokarangen_centrum", "stockholm", 250, "suburb_centre", "Hökarängen centrum", 90),
    _Source("hogdalen_centrum", "stockholm", 250, "suburb_centre", "Högdalen centrum", 90),
    _Source("ragsved", "stockholm", 150, "suburb_centre", "Rågsved", 90),
    _Source("hagsatra", "stockholm", 150, "suburb_centre", "Hagsätra", 90),
    _Source("bandhagen", "stockholm", 80, "commuter_station", "Bandhagen", 80),
)  # fmt: skip


def _background_sources() -> tuple[_Source, ...]:
    sources = []
    for calendar, prefix, districts in (
        ("jarfalla", JARFALLA_ID, _KOMMUNDELAR),
        ("stockholm", "0180", _STADSDELAR),
    ):
        for name, (_xy, population) in districts.items():
            annual = population / 1000 * _BACKGROUND_PER_1000[calendar]
            area_id = f"{prefix}-{_slug(name)}"
            sources.append(_Source(f"background:{area_id}", calendar, annual, "residential",
                                   area_id=area_id))  # fmt: skip
    return tuple(sources)


# --- dialogue places ------------------------------------------------------------------------

_REASONS = {
    "dålig belysning": (
        "Mörkt och dåligt upplyst, jag undviker att gå här på kvällen",
        "Belysningen har varit trasig länge",
        "Lamporna fungerar inte, man ser ingenting när det är mörkt",
        "Kolsvart på vintern, jag tar omvägen",
    ),
    "narkotika": (
        "Langning helt öppet vid perrongerna",
        "Folk som säljer knark vid trappan",
        "Man blir erbjuden narkotika på väg hem",
    ),
    "stök/ordningsstörning": (
        "Berusade personer och bråk på kvällarna",
        "Stökigt med grupper som skriker och kastar saker",
        "Mycket fylla här på helgerna",
    ),
    "gäng": (
        "Grupper av unga som hänger här och hotar folk",
        "Gänget som håller till vid busshållplatsen",
    ),
    "trafik": (
        "Bilarna kör för fort förbi övergångsstället",
        "Farlig korsning för barnen på väg till skolan",
    ),
    "skymd sikt": (
        "Buskarna skymmer sikten, man ser inte vem som står där",
        "Trångt och man ser inte ut åt andra hållet",
    ),
    "våld": (
        "Jag blev slagen här förra året",
        "Ofta slagsmål här på fredagsnätterna",
    ),
    "annat": (
        "Nedskräpat och ödsligt",
        "Klotter överallt, det känns övergivet",
    ),
}
_ROUNDS = {
    "jarfalla": (("Järfälla hösten 2017", "2017-10-14"), ("Järfälla hösten 2018", "2018-10-13")),
    "stockholm": (
        ("Farsta-Vantör hösten 2017", "2017-11-08"),
        ("Farsta-Vantör hösten 2018", "2018-11-07"),
    ),
}
_HOTSPOT_REASONS = {
    "narkotika": 35, "stök/ordningsstörning": 25, "våld": 15, "gäng": 15, "dålig belysning": 10,
}  # fmt: skip
_CENTRE_REASONS = {
    "stök/ordningsstörning": 35, "gäng": 20, "narkotika": 15, "våld": 10, "annat": 10,
    "dålig belysning": 10,
}  # fmt: skip
_DARK_REASONS = {"dålig belysning": 60, "skymd sikt": 25, "annat": 15}
_SCATTERED_REASONS = {
    "trafik": 35, "dålig belysning": 25, "annat": 20, "stök/ordningsstörning": 10, "skymd sikt": 10,
}  # fmt: skip
_EVENING_TIMES = {"dag": 10, "kväll": 50, "natt": 40}
_DARK_TIMES = {"dag": 0, "kväll": 55, "natt": 45}
_ANY_TIMES = {"dag": 40, "kväll": 40, "natt": 20}

# (place or area, calendar, count, sigma_m, reasons, times, mean extra mentions)
_DIALOGUE_SITES = (
    ("Jakobsbergs station", "jarfalla", 60, 70, _HOTSPOT_REASONS, _EVENING_TIMES, 2.0),
    ("Gångtunneln under Viksjöleden", "jarfalla", 30, 25, _DARK_REASONS, _DARK_TIMES, 2.5),
    ("Gångvägen vid Säbysjön", "jarfalla", 20, 40, _DARK_REASONS, _DARK_TIMES, 1.5),
    ("Barkarby station", "jarfalla", 15, 80, _CENTRE_REASONS, _EVENING_TIMES, 0.5),
    ("Kallhälls station", "jarfalla", 12, 80, _CENTRE_REASONS, _EVENING_TIMES, 0.5),
    ("Viksjö centrum", "jarfalla", 10, 80, _CENTRE_REASONS, _ANY_TIMES, 0.5),
    (JARFALLA_ID, "jarfalla", 20, 0, _SCATTERED_REASONS, _ANY_TIMES, 0.2),
    ("Farsta centrum", "stockholm", 35, 90, _CENTRE_REASONS, _EVENING_TIMES, 1.5),
    ("Hökarängen centrum", "stockholm", 25, 80, _HOTSPOT_REASONS, _EVENING_TIMES, 1.0),
    ("Högdalen centrum", "stockholm", 20, 80, _HOTSPOT_REASONS, _EVENING_TIMES, 1.0),
    ("Gångvägen över Gubbängsfältet", "stockholm", 25, 40, _DARK_REASONS, _DARK_TIMES, 2.0),
    ("Rågsved", "stockholm", 10, 80, _CENTRE_REASONS, _EVENING_TIMES, 0.5),
    ("Hagsätra", "stockholm", 10, 80, _CENTRE_REASONS, _EVENING_TIMES, 0.5),
    (LPO_FARSTA_ID, "stockholm", 25, 0, _SCATTERED_REASONS, _ANY_TIMES, 0.2),
)

# --- the generator --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoData:
    """The demo frames, as written to ``data/``.

    Attributes
    ----------
    areas : geopandas.GeoDataFrame
        ``area_id, area_name, level, parent_id, approximate, geometry`` in EPSG:3006.
    incidents : pandas.DataFrame
        ``id, occurred_at`` (ISO 8601 text with offset), ``brottstyp, lon, lat`` (WGS 84).
    dialogue : pandas.DataFrame
        :data:`DIALOGUE_COLUMNS`, lon/lat in WGS 84.
    gazetteer : pandas.DataFrame
        ``name, kind, lon, lat``.
    calendars : dict of str to pandas.DataFrame
        ``"jarfalla"`` and ``"stockholm"`` lov calendars (:data:`CALENDAR_COLUMNS`).
    category_map : dict of str to str
        Raw offence name -> Lägesbild category.
    seed : int
    scale : float
    """

    areas: gpd.GeoDataFrame
    incidents: pd.DataFrame
    dialogue: pd.DataFrame
    gazetteer: pd.DataFrame
    calendars: dict[str, pd.DataFrame]
    category_map: dict[str, str]
    seed: int
    scale: float


def demo_paths(root: str | Path | None = None) -> dict[str, Path]:
    """Paths of the demo files.

    Parameters
    ----------
    root : str or Path, optional
        The data folder; default the repository's ``data/`` (:data:`DATA_DIR`).

    Returns
    -------
    dict of str to Path
        Keys ``areas, incidents, category_map, dialogue, gazetteer, calendar_jarfalla,
        calendar_stockholm, provenance``.

    Examples
    --------
    >>> paths = demo_paths()
    >>> paths["incidents"].relative_to(DATA_DIR).as_posix()
    'incidents/demo_incidents.csv'
    """
    base = DATA_DIR if root is None else Path(root)
    return {key: base / rel for key, rel in _RELATIVE_PATHS.items()}


def _hour_frame() -> pd.DataFrame:
    """Every real hour of the period (UTC start) with its local keys for the weights."""
    start = pd.Timestamp(PERIOD_START, tz=schema.TZ).tz_convert("UTC")
    end = (pd.Timestamp(PERIOD_END, tz=schema.TZ) + pd.Timedelta(days=1)).tz_convert("UTC")
    utc = pd.date_range(start, end, freq="h", inclusive="left").as_unit("ns")
    local = utc.tz_convert(schema.TZ)
    evening = (local.tz_localize(None) - pd.Timedelta(hours=6)).normalize()
    return pd.DataFrame(
        {
            "utc": utc,
            "hour": local.hour,
            "month": local.month,
            "weekday": evening.day_of_week,
            "evening": evening,
        }
    )


def _day_flags(hours: pd.DataFrame, calendar: pd.DataFrame) -> dict[str, np.ndarray]:
    evening = hours["evening"].to_numpy()
    years = sorted({d.year for d in hours["evening"]})
    days = holidays.country_holidays(
        "SE", years=years, categories=("public", "de_facto"), language="sv"
    )
    holiday_dates = np.array(sorted(days), dtype="datetime64[ns]")
    big = np.array(sorted(d for d, n in days.items() if n in _BIG_NIGHTS), dtype="datetime64[ns]")
    lov = np.zeros(len(evening), dtype=bool)
    for row in calendar[calendar["kind"] == "lov"].itertuples():
        lov |= (evening >= np.datetime64(row.date_start)) & (evening <= np.datetime64(row.date_end))
    return {
        "holiday": np.isin(evening, holiday_dates),
        "big": np.isin(evening, big),
        "lov": lov,
    }


def _time_weights(hours: pd.DataFrame, calendars: Mapping[str, pd.DataFrame]) -> dict:
    """(calendar, kind) -> weight per hour, normalised to sum 1 over 2017."""
    in_2017 = (hours["utc"] < pd.Timestamp("2018-01-01", tz=schema.TZ)).to_numpy()
    hour, month, weekday = (hours[c].to_numpy() for c in ("hour", "month", "weekday"))
    weights = {}
    for cal_name, calendar in calendars.items():
        flags = _day_flags(hours, calendar)
        for kind in _HOUR_SHAPE:
            w = (
                np.asarray(_HOUR_SHAPE[kind])[hour]
                * np.asarray(_WEEKDAY[kind])[weekday]
                * np.asarray(_MONTH[kind])[month - 1]
                * np.where(flags["holiday"], _HOLIDAY_FACTOR[kind], 1.0)
                * np.where(flags["lov"], _LOV_FACTOR[kind], 1.0)
            )
            if kind == "night":
                w = w * np.where(flags["big"], _BIG_NIGHT_FACTOR, 1.0)
            weights[cal_name, kind] = w / w[in_2017].sum()
    return weights


def _gaussian_points(rng, n, centre_xy, sigma_m, within) -> np.ndarray:
    """``n`` points N(centre, sigma) kept inside ``within`` (rejection sampling)."""
    shapely.prepare(within)
    kept = np.empty((0, 2))
    while len(kept) < n:
        draw = rng.normal(centre_xy, sigma_m, size=(2 * (n - len(kept)) + 8, 2))
        inside = shapely.contains_xy(within, draw[:, 0], draw[:, 1])
        kept = np.vstack([kept, draw[inside]])
    return kept[:n]


def _to_lonlat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_LONLAT.transform(xy[:, 0], xy[:, 1])
    return np.round(lon, 6), np.round(lat, 6)


def _format_times(utc_ns: np.ndarray) -> np.ndarray:
    """ISO 8601 local time with offset, to the minute: 2017-03-04T22:13:00+01:00."""
    utc = pd.DatetimeIndex(utc_ns.astype("datetime64[ns]"), tz="UTC")
    wall = utc.tz_convert(schema.TZ).tz_localize(None).to_numpy()
    offset_h = (wall - utc.tz_localize(None).to_numpy()) // np.timedelta64(1, "h")
    text = np.datetime_as_string(wall, unit="m").astype(object)
    return text + np.where(offset_h == 2, ":00+02:00", ":00+01:00").astype(object)


def _incidents(rng, address_rng, scale, areas, hours, weights, trend_rng=None) -> pd.DataFrame:
    trend_rng = np.random.default_rng([DEFAULT_SEED, 2]) if trend_rng is None else trend_rng
    geoms = areas.set_index(schema.AREA_ID).geometry
    outlines = {"jarfalla": geoms[JARFALLA_ID], "stockholm": geoms[LPO_FARSTA_ID]}
    after = (hours["utc"] >= pd.Timestamp(PROMISE_START, tz=schema.TZ)).to_numpy()
    utc_ns = hours["utc"].array.asi8
    no_homes = shapely.union_all(
        [shapely.Point(_PLACE_M[name]).buffer(_NO_HOMES_RADIUS_M) for name, kind, *_ in PLACES
         if kind in _NO_HOMES_KINDS]
    )  # fmt: skip
    code = {raw: i for i, raw in enumerate(RAW_CATEGORIES)}
    parts = []  # (utc ns, raw category code, x, y) arrays
    for source in (*_HOTSPOTS, *_background_sources()):
        if source.place is not None:
            centre, sigma = _PLACE_M[source.place], source.sigma_m
            within = outlines[source.calendar]
        else:
            area = geoms[source.area_id]
            centre, sigma = (area.centroid.x, area.centroid.y), 0.4 * math.sqrt(area.area)
            within = area.difference(no_homes)
        mix = _MIX[source.mix]
        total_share = sum(mix.values())
        for raw, share in mix.items():
            target = CATEGORY_MAP[raw] in TARGET_CATEGORIES
            factor = np.where(after, source.after[0 if target else 1], source.before)
            lam = scale * source.annual * share / total_share
            counts = rng.poisson(lam * weights[source.calendar, _KIND[raw]] * factor)
            n = int(counts.sum())
            if n == 0:
                continue
            xy = _gaussian_points(rng, n, centre, sigma, within)
            minutes = rng.integers(0, 60, size=n)
            utc = utc_ns[np.repeat(np.arange(len(counts)), counts)] + minutes * _MINUTE_NS
            parts.append((utc, np.full(n, code[raw]), xy[:, 0], xy[:, 1]))
    # A geocoding fallback: incidents without a place put on the kommun's centre point.
    centre = geoms[JARFALLA_ID].centroid
    n_centre = round(PLANTED["stacked_centre"]["count"] * scale)
    parts.append(
        _stacked(rng, n_centre, (centre.x, centre.y), _MIX["residential"], "day", hours,
                 weights, code)
    )  # fmt: skip
    # A real address: bicycle thefts reported at the station's address (own stream, so the
    # rest of the data does not depend on it).
    address = PLANTED["stacked_address"]
    parts.append(
        _stacked(address_rng, round(address["count"] * scale), _PLACE_M[address["place"]],
                 {address["raw_category"]: 1}, "bike", hours, weights, code)
    )  # fmt: skip
    parts += _space_time_parts(trend_rng, scale, geoms, hours, weights, code)
    utc, codes, x, y = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.argsort(utc, kind="stable")
    lon, lat = _to_lonlat(np.column_stack([x[order], y[order]]))
    return pd.DataFrame(
        {
            schema.ID: [f"D{i:06d}" for i in range(1, len(order) + 1)],
            schema.OCCURRED_AT: _format_times(utc[order]),
            RAW_CATEGORY_COLUMN: np.asarray(RAW_CATEGORIES, dtype=object)[codes[order]],
            "lon": lon,
            "lat": lat,
        }
    )


_VIOLENCE_MIX = {"Misshandel, utomhus": 3, "Misshandel": 1, "Olaga hot": 1}


def _space_time_parts(rng, scale, geoms, hours, weights, code) -> list[tuple[np.ndarray, ...]]:
    """The planted new and diminishing hotspots and the near-repeat burglaries
    (``PLANTED``), as (utc ns, category code, x, y) parts."""
    parts = []
    utc_ns = hours["utc"].array.asi8
    within = geoms[LPO_FARSTA_ID]
    local = hours["utc"].dt.tz_convert(schema.TZ)
    raws = list(_VIOLENCE_MIX)
    p_raw = np.array(list(_VIOLENCE_MIX.values()), float)
    p_raw /= p_raw.sum()

    def emit(lam: np.ndarray, centre, sigma):
        counts = rng.poisson(lam)
        n = int(counts.sum())
        xy = _gaussian_points(rng, n, centre, sigma, within)
        utc = (
            utc_ns[np.repeat(np.arange(len(counts)), counts)] + rng.integers(0, 60, n) * _MINUTE_NS
        )
        kinds = rng.choice(len(raws), size=n, p=p_raw)
        parts.append((utc, np.array([code[raws[k]] for k in kinds], dtype=int), xy[:, 0], xy[:, 1]))

    w = weights["stockholm", "night"]
    new = PLANTED["new_hotspot"]
    month = (local.dt.strftime("%Y-%m") == new["month"]).to_numpy()
    lam = np.where(month, w, 0.0)
    emit(lam / lam.sum() * new["count"] * scale, _PLACE_M[new["place"]], new["sigma_m"])
    dim = PLANTED["diminishing_hotspot"]
    # monthly totals follow the plan exactly (no season), hours follow the night pattern
    months = local.dt.strftime("%Y-%m").to_numpy()
    labels = sorted(set(months))
    falling = [m for m in labels if m >= dim["falls_from"]]
    plan = {m: dim["per_year_before"] / 12 for m in labels}
    first, last = dim["per_year_start"], dim["per_year_end"]
    for k, m in enumerate(falling):
        plan[m] = (first + k / max(len(falling) - 1, 1) * (last - first)) / 12
    month_sum = pd.Series(w).groupby(months).transform("sum").to_numpy()
    target = np.array([plan[m] for m in months])
    emit(w / month_sum * target * scale, _PLACE_M[dim["place"]], dim["sigma_m"])

    burglary = PLANTED["near_repeat_burglary"]
    area = geoms[burglary["area_id"]]
    home = weights["jarfalla", "home"]
    n0 = rng.poisson(burglary["originators_per_year"] * 2 * scale)
    hour_idx = np.sort(rng.choice(len(home), size=n0, p=home / home.sum()))
    xy0 = _uniform_points(rng, n0, area)
    t0 = utc_ns[hour_idx] + rng.integers(0, 60, n0) * _MINUTE_NS
    followers = rng.poisson(burglary["followers_mean"], n0)
    src = np.repeat(np.arange(n0), followers)
    m = len(src)
    angle = rng.uniform(0, 2 * np.pi, m)
    radius = burglary["radius_m"] * np.sqrt(rng.uniform(0, 1, m))
    xy1 = xy0[src] + np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    lo, hi = burglary["days"]
    t1 = t0[src] + (rng.uniform(lo, hi, m) * 86_400e9).astype(np.int64)
    jarfalla = geoms[JARFALLA_ID]
    shapely.prepare(jarfalla)
    keep = (t1 < utc_ns[-1]) & shapely.contains_xy(jarfalla, xy1[:, 0], xy1[:, 1])
    xy = np.vstack([xy0, xy1[keep]])
    t = np.concatenate([t0, t1[keep]])
    parts.append((t, np.full(len(t), code[burglary["raw_category"]]), xy[:, 0], xy[:, 1]))
    return parts


def stacked_centre_lonlat(areas: gpd.GeoDataFrame | None = None) -> tuple[float, float]:
    """The coordinate the demo stacks geocoding-fallback incidents on (Järfälla's centroid).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame, optional
        Demo areas in EPSG:3006; default the generator's own.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` rounded to 6 decimals, as written in the incident CSV.

    Examples
    --------
    >>> stacked_centre_lonlat()
    (17.830011, 59.434022)
    """
    areas = _build_areas() if areas is None else areas
    centre = areas.set_index(schema.AREA_ID).geometry[JARFALLA_ID].centroid
    lon, lat = _to_lonlat(np.array([[centre.x, centre.y]]))
    return float(lon[0]), float(lat[0])


def _stacked(rng, n, xy, mix, kind, hours, weights, code) -> tuple[np.ndarray, ...]:
    """``n`` incidents on exactly one coordinate (times from ``kind``'s Järfälla pattern)."""
    raws = rng.choice(list(mix), size=n, p=np.array(list(mix.values())) / sum(mix.values()))
    w = weights["jarfalla", kind]
    idx = np.sort(rng.choice(len(w), size=n, p=w / w.sum()))
    utc = hours["utc"].array.asi8[idx] + rng.integers(0, 60, size=n) * _MINUTE_NS
    codes = np.array([code[raw] for raw in raws], dtype=int)
    return utc, codes, np.full(n, float(xy[0])), np.full(n, float(xy[1]))


def _dialogue(rng, scale, areas) -> pd.DataFrame:
    geoms = areas.set_index(schema.AREA_ID).geometry
    rows = []
    for site, calendar, count, sigma, reasons, times, extra in _DIALOGUE_SITES:
        n = max(1, round(count * scale))
        if site in geoms.index:  # scattered over a whole area
            xy = _uniform_points(rng, n, geoms[site])
        else:
            xy = _gaussian_points(rng, n, _PLACE_M[site], sigma, geoms[JARFALLA_ID]
                                  if calendar == "jarfalla" else geoms[LPO_FARSTA_ID])  # fmt: skip
        cats = _choice(rng, reasons, n)
        lon, lat = _to_lonlat(xy)
        rounds = rng.integers(0, 2, size=n)
        for i in range(n):
            texts = _REASONS[cats[i]]
            round_name, round_date = _ROUNDS[calendar][rounds[i]]
            rows.append(
                {
                    "lon": lon[i],
                    "lat": lat[i],
                    schema.REASON: texts[rng.integers(len(texts))],
                    schema.REASON_CATEGORY: cats[i],
                    schema.TIME_OF_DAY: _choice(rng, times, 1)[0],
                    schema.MENTIONS: 1 + int(rng.poisson(extra)),
                    schema.DIALOGUE_ROUND: round_name,
                    schema.DIALOGUE_DATE: round_date,
                }
            )
    frame = pd.DataFrame(rows)
    frame.insert(0, schema.ID, [f"M{i:04d}" for i in range(1, len(frame) + 1)])
    return frame[list(DIALOGUE_COLUMNS)]


def _choice(rng, weights: Mapping[str, float], n: int) -> list[str]:
    keys = [k for k, w in weights.items() if w > 0]
    p = np.array([weights[k] for k in keys], dtype=float)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum())]


def _uniform_points(rng, n, within) -> np.ndarray:
    shapely.prepare(within)
    minx, miny, maxx, maxy = within.bounds
    kept = np.empty((0, 2))
    while len(kept) < n:
        draw = rng.uniform((minx, miny), (maxx, maxy), size=(2 * n + 8, 2))
        kept = np.vstack([kept, draw[shapely.contains_xy(within, draw[:, 0], draw[:, 1])]])
    return kept[:n]


def _gazetteer() -> pd.DataFrame:
    frame = pd.DataFrame(PLACES, columns=[schema.PLACE_NAME, schema.PLACE_KIND, "lat", "lon"])
    return frame[list(GAZETTEER_COLUMNS)]


def generate(
    *, seed: int = DEFAULT_SEED, out_dir: str | Path | None = None, scale: float = 1.0
) -> DemoData:
    """Generate the demo data (and write it when ``out_dir`` is given).

    Parameters
    ----------
    seed : int, default DEFAULT_SEED
        Seed of the single random stream; the same seed gives identical frames and files.
    out_dir : str or Path, optional
        Write the files there in the layout of ``data/`` (see :func:`demo_paths`).
    scale : float, default 1.0
        Multiplies every expected count (0.1 gives a tenth of the incidents, for fast tests).

    Returns
    -------
    DemoData

    Raises
    ------
    TypeError
        If ``seed`` is not an int.
    ValueError
        If ``scale`` is not positive.

    Examples
    --------
    >>> demo = generate(seed=1, scale=0.02)
    >>> list(demo.incidents.columns)
    ['id', 'occurred_at', 'brottstyp', 'lon', 'lat']
    >>> sorted(demo.areas["level"].unique())
    ['kommun', 'kommundel', 'lpo', 'stadsdel']
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"`seed` was {seed!r} ({type(seed).__name__}) but must be an int")
    if not (isinstance(scale, int | float) and scale > 0 and math.isfinite(scale)):
        raise ValueError(f"`scale` was {scale!r} but must be a positive number")
    rng = np.random.default_rng(int(seed))
    areas = _build_areas()
    calendars = {name: _calendar(week) for name, week in _CALENDARS.items()}
    hours = _hour_frame()
    weights = _time_weights(hours, calendars)
    demo = DemoData(
        areas=areas,
        incidents=_incidents(
            rng,
            np.random.default_rng([int(seed), 1]),
            scale,
            areas,
            hours,
            weights,
            np.random.default_rng([int(seed), 2]),
        ),
        dialogue=_dialogue(rng, scale, areas),
        gazetteer=_gazetteer(),
        calendars=calendars,
        category_map=dict(CATEGORY_MAP),
        seed=int(seed),
        scale=float(scale),
    )
    if out_dir is not None:
        write(demo, out_dir)
    return demo


# --- writing --------------------------------------------------------------------------------


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format="%.6f", lineterminator="\n", encoding="utf-8")


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def category_map_toml(category_map: Mapping[str, str]) -> str:
    """The category map as TOML: a ``[categories]`` table of "raw name" = "category".

    Examples
    --------
    >>> print(category_map_toml({"Rån": "rån"}), end="")
    # Raw offence names (column brottstyp) -> Lägesbild categories.
    [categories]
    "Rån" = "rån"
    """
    lines = ["# Raw offence names (column brottstyp) -> Lägesbild categories.", "[categories]"]
    lines += [f"{_toml_string(raw)} = {_toml_string(cat)}" for raw, cat in category_map.items()]
    return "\n".join(lines) + "\n"


def write(demo: DemoData, out_dir: str | Path) -> dict[str, Path]:
    """Write ``demo`` into ``out_dir`` in the layout of ``data/``; return the paths.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write(generate(seed=1, scale=0.02), tmp)
    ...     paths["areas"].exists()
    True
    """
    paths = demo_paths(out_dir)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    areas = demo.areas.to_crs(schema.CRS_WGS84)
    if paths["areas"].exists():
        paths["areas"].unlink()
    areas.to_file(paths["areas"], driver="GeoJSON", engine="pyogrio", RFC7946="YES")
    _write_csv(demo.incidents, paths["incidents"])
    paths["category_map"].write_text(category_map_toml(demo.category_map), encoding="utf-8")
    _write_csv(demo.dialogue, paths["dialogue"])
    _write_csv(demo.gazetteer, paths["gazetteer"])
    _write_csv(demo.calendars["jarfalla"], paths["calendar_jarfalla"])
    _write_csv(demo.calendars["stockholm"], paths["calendar_stockholm"])
    paths["provenance"].write_text(_provenance_text(demo, paths), encoding="utf-8")
    return paths


# --- planted truths, measured -------------------------------------------------------------


def incidents_metric(incidents: pd.DataFrame) -> gpd.GeoDataFrame:
    """The demo incident table as points in EPSG:3006 with tz-aware times and categories.

    A light reader for the demo's own checks (not an importer: use ``geo.io`` for files).

    Examples
    --------
    >>> frame = incidents_metric(generate(seed=1, scale=0.02).incidents)
    >>> str(frame.crs), str(frame["occurred_at"].dt.tz)
    ('EPSG:3006', 'Europe/Stockholm')
    """
    frame = gpd.GeoDataFrame(
        {
            schema.ID: incidents[schema.ID],
            schema.OCCURRED_AT: pd.to_datetime(
                incidents[schema.OCCURRED_AT], utc=True
            ).dt.tz_convert(schema.TZ),
            schema.RAW_CATEGORY: incidents[RAW_CATEGORY_COLUMN],
            schema.CATEGORY: incidents[RAW_CATEGORY_COLUMN].map(CATEGORY_MAP),
        },
        geometry=gpd.points_from_xy(incidents["lon"], incidents["lat"]),
        crs=schema.CRS_WGS84,
    )
    return frame.to_crs(schema.CRS_METRIC)


def treatment_figures(demo: DemoData) -> dict[str, dict[str, int]]:
    """Counts of target-category incidents in the planted treatment zone, ring and control.

    Treatment R: circle ``treatment_radius_m`` around Jakobsbergs station; buffer D: the
    ring out to ``buffer_ring_m[1]``; control C: the rest of Järfälla kommun. Before is
    2017-03-01..2017-12-31, after 2018-03-01..2018-12-31 (306 days each).

    Returns
    -------
    dict
        ``{"R": {"before": n, "after": n}, "D": {...}, "C": {...}}``.

    Examples
    --------
    >>> fig = treatment_figures(generate(seed=1, scale=0.5))
    >>> fig["R"]["after"] < fig["R"]["before"] and fig["D"]["after"] > fig["D"]["before"]
    True
    """
    frame = incidents_metric(demo.incidents)
    frame = frame[frame[schema.CATEGORY].isin(TARGET_CATEGORIES)]
    station = shapely.Point(_PLACE_M[_STATION["place"]])
    inner, outer = _STATION["treatment_radius_m"], _STATION["buffer_ring_m"][1]
    distance = frame.distance(station)
    kommun = demo.areas.set_index(schema.AREA_ID).geometry[JARFALLA_ID]
    zone = np.select(
        [distance <= inner, distance <= outer, frame.within(kommun)], ["R", "D", "C"], ""
    )
    t = frame[schema.OCCURRED_AT]
    period = np.select(
        [
            (t >= pd.Timestamp("2017-03-01", tz=schema.TZ))
            & (t < pd.Timestamp("2018-01-01", tz=schema.TZ)),
            t >= pd.Timestamp(PROMISE_START, tz=schema.TZ),
        ],
        ["before", "after"],
        "",
    )
    return {
        z: {p: int(((zone == z) & (period == p)).sum()) for p in ("before", "after")}
        for z in ("R", "D", "C")
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _provenance_text(demo: DemoData, paths: Mapping[str, Path]) -> str:
    """PROVENANCE.md: how the files were made, their sizes and hashes, measured truths."""
    fig = treatment_figures(demo)
    r, d, c = fig["R"], fig["D"], fig["C"]
    success = r["after"] / c["after"] - r["before"] / c["before"]
    buffer = d["after"] / c["after"] - d["before"] / c["before"]
    lon, lat = stacked_centre_lonlat(demo.areas)
    address = PLANTED["stacked_address"]
    address_lon, address_lat = (
        float(v[0]) for v in _to_lonlat(np.array([_PLACE_M[address["place"]]]))
    )
    lines = [
        "# Provenance of the demo data",
        "",
        "Synthetic data. Every file here except README.md is written by `geo/demo.py`",
        f"(`lagesbild demo-data --out data --seed {demo.seed}`), scale {demo.scale:g}. Nothing",
        "is copied from real registers. Boundaries are approximate (see README.md).",
        "This file is generated; do not edit it by hand.",
        "",
        "| file | rows | sha256 |",
        "|---|---|---|",
    ]
    rows = {
        "areas": len(demo.areas),
        "incidents": len(demo.incidents),
        "category_map": len(demo.category_map),
        "dialogue": len(demo.dialogue),
        "gazetteer": len(demo.gazetteer),
        "calendar_jarfalla": len(demo.calendars["jarfalla"]),
        "calendar_stockholm": len(demo.calendars["stockholm"]),
    }
    base = paths["provenance"].parent
    for key, n in rows.items():
        path = paths[key]
        lines.append(f"| `{path.relative_to(base).as_posix()}` | {n} | `{_sha256(path)}` |")
    lines += [
        "",
        "## Measured planted truths (this seed)",
        "",
        "Violence and narcotics (`våld på offentlig plats`, `narkotikabrott`) in Järfälla;",
        "before 2017-03-01..2017-12-31, after 2018-03-01..2018-12-31 (306 days each).",
        f"R = within {_STATION['treatment_radius_m']:g} m of Jakobsbergs station, "
        f"D = ring {_STATION['buffer_ring_m'][0]:g}–{_STATION['buffer_ring_m'][1]:g} m, "
        "C = rest of Järfälla kommun.",
        "",
        "| | before | after |",
        "|---|---|---|",
        f"| R (treatment) | {r['before']} | {r['after']} |",
        f"| D (buffer) | {d['before']} | {d['after']} |",
        f"| C (control) | {c['before']} | {c['after']} |",
        "",
        f"Success = Ra/Ca − Rb/Cb = {success:.4f}; Buffer = Da/Ca − Db/Cb = {buffer:.4f}; "
        f"WDQ = {buffer / success:.3f}.",
        "",
        f"Stacked geocoding-fallback coordinate: lon {lon:.6f}, lat {lat:.6f}, "
        f"{_count_at(demo.incidents, lon, lat)} incidents.",
        f"Stacked real address ({address['place']}, {address['raw_category']}): "
        f"lon {address_lon:.6f}, lat {address_lat:.6f}, "
        f"{_count_at(demo.incidents, address_lon, address_lat)} incidents.",
        "",
    ]
    return "\n".join(lines)


def _count_at(incidents: pd.DataFrame, lon: float, lat: float) -> int:
    return int(((incidents["lon"] == lon) & (incidents["lat"] == lat)).sum())
