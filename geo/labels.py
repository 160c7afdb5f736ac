"""Swedish words for the project's internal keys: parameters, audit actions, roles, times.

One table each, read by every place a user sees them — the PDF briefings' parameter blocks,
the CSV exports' parameter column and the Granskning page — so an internal key such as
``buffer_m``, ``study_area_km2`` or ``data.import`` never reaches a user. A key missing
from a table is shown through :func:`humanize` (words, never underscores) and is caught by
``tests/test_labels.py``, which lists every key the code records.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import pandas as pd

from geo import schema

#: Parameter key -> (Swedish label, unit or None).
PARAMS: dict[str, tuple[str, str | None]] = {
    "window": ("Tidsfönster", None),
    "categories": ("Kategorier", None),
    "start": ("Från", None),
    "end": ("Till", None),
    "before": ("Före", None),
    "after": ("Efter", None),
    "as_of": ("Per dag", None),
    "areas": ("Områden", None),
    "area": ("Område", None),
    "area_id": ("Område", None),
    "k": ("Antal zoner (K)", None),
    "budget_km2": ("Ytbudget", "km²"),
    "candidates": ("Kandidater", None),
    "window_incidents": ("Händelser i fönstret", None),
    "study_area_km2": ("Studerad yta", "km²"),
    "max_zone_km2": ("Största zonyta", "km²"),
    "method": ("Metod", None),
    "created_at": ("Skapad", None),
    "created_by": ("Skapad av", None),
    "software": ("Program", None),
    "dropped_zones": ("Borttagna zoner", None),
    "drawn_zones": ("Ritade zoner", None),
    "buffer_m": ("Närområde (buffert)", "m"),
    "cell_size_m": ("Rutstorlek", "m"),
    "band_m": ("Grannavstånd", "m"),
    "eps_m": ("Klusteravstånd", "m"),
    "min_weight": ("Minsta antal i ett kluster", None),
    "min_samples": ("Minsta antal i ett kluster", None),
    "min_cluster_size": ("Minsta klusterstorlek", None),
    "dialogue_weight": ("Vikt för ett dialogomnämnande", None),
    "format": ("Format", None),
    "fmt": ("Format", None),
    "rows": ("Rader", None),
    "bytes": ("Storlek", "byte"),
    "kind": ("Slag", None),
    "file": ("Fil", None),
    "name": ("Namn", None),
    "loaded": ("Inlästa rader", None),
    "rejected": ("Avvisade rader", None),
    "status": ("Status", None),
    "from": ("Från", None),
    "to": ("Till", None),
    "note": ("Anteckning", None),
    "round": ("Runda", None),
    "round_id": ("Runda", None),
    "responsible": ("Ansvarig", None),
    "zones": ("Zoner", None),
    "zone_source": ("Zoner", None),
    "control": ("Kontrollområde", None),
    "actors": ("Användare", None),
    "actions": ("Händelser", None),
    "outcomes": ("Utfall", None),
    "text": ("Sökord", None),
    "role": ("Roll", None),
    "username": ("Användarnamn", None),
    "reason": ("Orsak", None),
    "page": ("Sida", None),
    "step": ("Steg", None),
    "public": ("Offentlig version", None),
    "days": ("Dagar", None),
    "purged": ("Borttagna", None),
    "promise_id": ("Medborgarlöfte", None),
    "activity_type": ("Aktivitet", None),
    "target": ("Mål", None),
    "what": ("Vad", None),
    "fields": ("Fält", None),
    "issues": ("Ärenden", None),
    "party": ("Ansvarig part", None),
}

#: Audit action -> Swedish. Exports are ``export.<what>`` (see :func:`action_label`).
ACTIONS: dict[str, str] = {
    "auth.login": "inloggning",
    "auth.logout": "utloggning",
    "auth.session_end": "sessionen avslutad",
    "auth.denied": "nekat försök",
    "user.add": "konto tillagt eller ändrat",
    "user.remove": "konto borttaget",
    "data.import": "dataimport",
    "data.purge": "gallring av gamla data",
    "issue.create": "ärende markerat",
    "issue.edit": "ärende ändrat",
    "inspection_round.create": "besiktningsrunda startad",
    "inspection_issue.create": "ärende markerat",
    "inspection_issue.created": "ärende markerat",
    "inspection_issue.status": "ärendets status ändrad",
    "inspection_issue.note": "anteckning på ärende",
    "inspection_issue.photo": "foto på ärende",
    "inspection_issue.moved": "ärende flyttat",
    "inspection_issue.edit": "ärende ändrat",
    "inspection_issue.import": "ärenden importerade",
    "inspection_issue.export": "export: trygghetsbesiktningens ärenden",
    "promise.create": "medborgarlöfte skapat",
    "promise.edit": "medborgarlöfte ändrat",
    "promise.add_target": "mål tillagt i löftet",
    "promise.task_done": "engångsuppgift klar",
    "promise.report_export": "invånarrapport exporterad",
    "activity.create": "aktivitet registrerad",
    "activity.edit": "aktivitet ändrad",
    "activity.import": "aktiviteter importerade",
    "proposal.create": "förslag registrerat",
}
#: What an ``export.<what>`` action exported.
EXPORTS: dict[str, str] = {
    "zones": "hotspotzoner",
    "helgforstarkning_zones": "patrullzoner (helgförstärkning)",
    "compare": "före/efter-jämförelse",
    "inspection": "trygghetsbesiktningens ärenden",
    "audit": "granskningsloggen",
    "rejected_rows": "avvisade rader",
    "promise_report": "invånarrapport",
}
#: English words that internal values use, as shown.
VALUES: dict[str, str] = {
    "incidents": "händelser",
    "dialogue": "otrygga platser (medborgardialog)",
    "areas": "områdesgränser",
    "boundaries": "områdesgränser",
    "gistar": "Gi* (rutnät)",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
    "before_hotspots": "hotspotzoner i före-perioden",
    "file": "egen fil",
    "drawn": "ritade zoner",
    "rest": "resten av området",
}
#: A role missing from an entry: the command line, run under an operating-system user.
NO_ROLE = "kommandorad (ingen roll)"

MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)

SHORT_MONTHS = tuple(m[:3] for m in MONTHS)
#: A Vega expression for Swedish month labels on a temporal axis (Vega-Lite's own locale
#: is English and Streamlit offers no way to change it): ``alt.Axis(labelExpr=...)``.
VEGA_MONTH_EXPR = (
    "[" + ",".join(f"'{m}'" for m in SHORT_MONTHS) + "][month(datum.value)]"
    " + (month(datum.value) == 0 ? ' ' + year(datum.value) : '')"
)


def month_label(month: str | pd.Period) -> str:
    """``"2018-03"`` as ``"mar 2018"``.

    Examples
    --------
    >>> month_label("2018-03"), month_label(pd.Period("2018-12", "M"))
    ('mar 2018', 'dec 2018')
    """
    p = pd.Period(month, "M")
    return f"{SHORT_MONTHS[p.month - 1]} {p.year}"


def date_label(day) -> str:
    """A date in words: ``"16 mars 2018"``.

    Examples
    --------
    >>> date_label(dt.date(2018, 3, 16))
    '16 mars 2018'
    """
    d = pd.Timestamp(day)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def count_text(n: int, one: str, many: str) -> str:
    """A count with the noun in the right number: ``"1 händelse"``, ``"1 200 händelser"``.

    Examples
    --------
    >>> count_text(1, "händelse", "händelser"), count_text(1200, "händelse", "händelser")
    ('1 händelse', '1 200 händelser')
    """
    return f"{number_text(n)} {one if int(n) == 1 else many}"


def points_text(delta: float) -> str:
    """A change in percentage points, signed, never "-0": ``"+3 procentenheter"``.

    Examples
    --------
    >>> points_text(0.034 * 100), points_text(-0.2), points_text(-1.0)
    ('+3 procentenheter', '0 procentenheter', '−1 procentenhet')
    """
    n = round(float(delta))
    unit = "procentenhet" if abs(n) == 1 else "procentenheter"
    if n == 0:
        return f"0 {unit}"
    return f"{'+' if n > 0 else '−'}{abs(n)} {unit}"


def humanize(key: str) -> str:
    """A key the tables lack, as words (``"some_key"`` -> ``"Some key"``).

    Examples
    --------
    >>> humanize("zone_count")
    'Zone count'
    """
    text = str(key).replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


def param_label(key: str) -> str:
    """The Swedish label of a parameter key.

    Examples
    --------
    >>> param_label("buffer_m"), param_label("study_area_km2")
    ('Närområde (buffert)', 'Studerad yta')
    """
    return PARAMS.get(key, (humanize(key), None))[0]


def number_text(value: float) -> str:
    """A number the Swedish way: decimal comma, no trailing zeros, no "-0".

    Examples
    --------
    >>> number_text(75.0), number_text(0.1234), number_text(-0.0), number_text(12000)
    ('75', '0,123', '0', '12 000')
    """
    if isinstance(value, bool):
        return "ja" if value else "nej"
    v = float(value)
    if v == int(v) and abs(v) < 1e15:
        text = f"{int(v):,}".replace(",", " ")
    else:
        text = f"{v:.3g}" if abs(v) < 1 else f"{v:,.2f}".rstrip("0").rstrip(".")
        text = text.replace(",", " ").replace(".", ",")
    return "0" if text in ("-0", "-0,0") else text


def time_text(value) -> str:
    """A moment in Swedish local time: ``"2 december 2026 kl. 14:31"`` (Europe/Stockholm).

    Accepts an ISO string, a datetime or a Timestamp; naive values are taken as UTC (how
    the machine's clock and the database keep them).

    Examples
    --------
    >>> time_text("2026-12-02T13:31:00+00:00")
    '2 december 2026 kl. 14:31'
    >>> time_text("2018-06-01")
    '1 juni 2018'
    """
    if isinstance(value, str) and len(value) == 10:
        d = dt.date.fromisoformat(value)
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    ts = ts.tz_convert(schema.TZ)
    return f"{ts.day} {MONTHS[ts.month - 1]} {ts.year} kl. {ts:%H:%M}"


def value_text(key: str, value) -> str:
    """A parameter's value in Swedish, with its unit.

    Examples
    --------
    >>> value_text("buffer_m", 75.0), value_text("categories", ["rån", "stöld"])
    ('75 m', 'rån, stöld')
    >>> value_text("public", True), value_text("created_at", "2026-12-02T13:31:00Z")
    ('ja', '2 december 2026 kl. 14:31')
    """
    unit = PARAMS.get(key, (None, None))[1]
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if key in ("created_at", "at") and isinstance(value, str):
        try:
            return time_text(value)
        except ValueError:
            return value
    if isinstance(value, list | tuple):
        return ", ".join(value_text(key, v) for v in value) or "–"
    if isinstance(value, Mapping):
        return "; ".join(f"{param_label(k)}: {value_text(k, v)}" for k, v in value.items())
    if isinstance(value, int | float):
        text = number_text(value)
        return f"{text} {unit}" if unit else text
    return VALUES.get(str(value), str(value))


def params_pairs(params: Mapping | None, *, skip=()) -> list[tuple[str, str]]:
    """``(label, value)`` in Swedish for every parameter given (empty ones left out).

    Examples
    --------
    >>> params_pairs({"buffer_m": 250, "drawn_zones": 0, "k": None})
    [('Närområde (buffert)', '250 m'), ('Ritade zoner', '0')]
    """
    return [
        (param_label(k), value_text(k, v))
        for k, v in dict(params or {}).items()
        if k not in skip and v is not None and v != "" and v != []
    ]


def params_text(params: Mapping | str | None) -> str:
    """Parameters as one Swedish line (``"Format: pdf · Rader: 12"``); JSON text is read.

    Examples
    --------
    >>> params_text('{"format": "pdf", "rows": 12}')
    'Format: pdf · Rader: 12'
    >>> params_text("{}")
    ''
    """
    if isinstance(params, str):
        try:
            params = json.loads(params) if params.strip() else {}
        except ValueError:
            return params
    if not isinstance(params, Mapping):
        return "" if params is None else str(params)
    return " · ".join(f"{k}: {v}" for k, v in params_pairs(params))


def action_label(action: str) -> str:
    """The Swedish name of an audit action.

    Examples
    --------
    >>> action_label("data.import"), action_label("export.zones")
    ('dataimport', 'export: hotspotzoner')
    """
    if action in ACTIONS:
        return ACTIONS[action]
    if action.startswith("export."):
        what = action.split(".", 1)[1]
        return f"export: {EXPORTS.get(what, humanize(what).lower())}"
    return humanize(action).lower()


def role_label(role) -> str:
    """A role as shown: the role itself, or :data:`NO_ROLE` for an entry without one.

    Examples
    --------
    >>> role_label("planerare"), role_label(None)
    ('planerare', 'kommandorad (ingen roll)')
    """
    if role is None or (isinstance(role, float) and pd.isna(role)) or str(role) in ("", "None"):
        return NO_ROLE
    return str(role)
