"""Column names, categories and coordinate rules shared by every module.

Every frame that crosses a module boundary uses these names. Coordinates inside the
project are SWEREF 99 TM (EPSG:3006) metres; times are tz-aware Europe/Stockholm.
"""

from __future__ import annotations

CRS_METRIC = "EPSG:3006"
CRS_WGS84 = "EPSG:4326"
TZ = "Europe/Stockholm"

#: Sanity extent for Sweden as (min_lon, min_lat, max_lon, max_lat), DESIGN.md §3.
SWEDEN_BOUNDS_LONLAT = (10.0, 55.3, 24.2, 69.1)

# --- incidents ------------------------------------------------------------------------
ID = "id"
OCCURRED_AT = "occurred_at"  # datetime64[ns, Europe/Stockholm]
#: End of the span when the record gives one ("mellan fredag 17:00 och måndag 07:00"); NaT
#: for a moment. Hour-based results spread the weight over the span (geo.aoristic).
OCCURRED_UNTIL = "occurred_until"  # datetime64[ns, Europe/Stockholm], optional
CATEGORY = "category"  # a Lägesbild category (CATEGORIES)
RAW_CATEGORY = "raw_category"  # the offence name or code as it stood in the file
WEIGHT = "weight"  # float, 1.0 unless the file says otherwise
ROW = "row"  # where the record stood in its file (see docs/ARCHITECTURE.md)
GEOMETRY = "geometry"
#: True where the point sits on a stacked coordinate at an area's centre point (a geocoding
#: fallback, not the incident's place); hotspot detection leaves these out by default.
AT_AREA_CENTRE = "at_area_centre"

# --- areas (boundaries) ---------------------------------------------------------------
AREA_ID = "area_id"
AREA_NAME = "area_name"
LEVEL = "level"  # one of AREA_LEVELS
PARENT_ID = "parent_id"  # area_id of the enclosing area, or missing
AREA_LEVELS = ("kommun", "lpo", "kommundel", "stadsdel")

# --- dialogue places (otrygga platser, residents' proposals) ---------------------------
REASON = "reason"  # free text as the resident said it
REASON_CATEGORY = "reason_category"  # one of REASON_CATEGORIES
TIME_OF_DAY = "time_of_day"  # one of TIMES_OF_DAY or missing
MENTIONS = "mentions"  # int >= 1
DIALOGUE_ROUND = "dialogue_round"
DIALOGUE_DATE = "dialogue_date"
TIMES_OF_DAY = ("dag", "kväll", "natt")
REASON_CATEGORIES = (
    "dålig belysning",
    "narkotika",
    "stök/ordningsstörning",
    "gäng",
    "trafik",
    "skymd sikt",
    "våld",
    "annat",
)

# --- gazetteer (named places for naming zones) -----------------------------------------
PLACE_NAME = "name"
PLACE_KIND = "kind"  # station, centrum, torg, park, skola, ...

# --- grid cells (Gi*) -----------------------------------------------------------------
CELL_ID = "cell_id"
COUNT = "count"  # number of incidents in the cell
# WEIGHT (above) is the weighted sum of incidents in the cell
DIALOGUE_COUNT = "dialogue_count"  # dialogue mentions in the cell
GI_Z = "gi_z"
GI_P = "gi_p"
GI_BIN = "gi_bin"  # ArcGIS convention: -3..3 after FDR

# --- zones ----------------------------------------------------------------------------
ZONE_ID = "zone_id"
RANK = "rank"  # 1 = hottest within its area
NAME = "name"  # from the nearest gazetteer place
SCORE = "score"
INCIDENT_COUNT = "incident_count"
DIALOGUE_MENTIONS = "dialogue_mentions"
SHARE_OF_AREA = "share_of_area_incidents"
HIT_RATE = "hit_rate"
PAI = "pai"
PEAK_HOURS = "peak_hours"  # plain-Swedish text, e.g. "fre–lör 21–02"
AREA_KM2 = "area_km2"

# --- categories -----------------------------------------------------------------------
VIOLENCE = "våld på offentlig plats"
CATEGORIES = (
    VIOLENCE,
    "rån",
    "narkotikabrott",
    "skadegörelse",
    "inbrott",
    "stöld",
    "ordningsstörning",
    "trafikbrott",
    "övrigt",
)

#: Raw offence names (lower-cased) mapped to Lägesbild categories when the user gives no
#: category map. A user's map (TOML or keyword) always wins.
DEFAULT_CATEGORY_MAP = {
    "misshandel": VIOLENCE,
    "misshandel, utomhus": VIOLENCE,
    "grov misshandel": VIOLENCE,
    "våld mot tjänsteman": VIOLENCE,
    "olaga hot": VIOLENCE,
    "våld på offentlig plats": VIOLENCE,
    "rån": "rån",
    "personrån": "rån",
    "väskryckning": "rån",
    "narkotikabrott": "narkotikabrott",
    "narkotikabrott, innehav": "narkotikabrott",
    "narkotikabrott, överlåtelse": "narkotikabrott",
    "skadegörelse": "skadegörelse",
    "klotter": "skadegörelse",
    "inbrott": "inbrott",
    "bostadsinbrott": "inbrott",
    "stöld": "stöld",
    "cykelstöld": "stöld",
    "fickstöld": "stöld",
    "ordningsstörning": "ordningsstörning",
    "fylleri/lob": "ordningsstörning",
    "brott mot ordningslagen": "ordningsstörning",
    "trafikbrott": "trafikbrott",
    "rattfylleri": "trafikbrott",
}

#: Weight of one dialogue mention relative to one incident when both feed one analysis.
#: A mention is evidence of felt unsafety, not a crime; see docs/methods.md.
DEFAULT_DIALOGUE_WEIGHT = 0.5

#: Public outputs show counts below this as "<5" (DESIGN.md §6).
SUPPRESS_BELOW = 5
