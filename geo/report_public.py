"""The report to residents: "Följ med i hur det går" — what was promised, done and changed.

This module owns the public, privacy-safe summary of a medborgarlöfte, as self-contained
HTML (no external assets, inline CSS, everything escaped) and as PDF (`geo.pdf.Briefing`).

What goes in, and what never does:

* **In**: the promise as published (title, period, partners, text, target descriptions), a
  status per target, activities counted by type and month, incidents in the promise's area
  counted by category before (the same days one year earlier) and during the promise.
* **Never**: incident points or times, activity notes, place names, actors or who logged
  anything (the police's own records), inspection round names. Only aggregates.
* **Activities are public, incidents are not.** Counts of police and kommun activities are
  what the promise made public: they are shown as numbers, small ones included, and every
  number in the text equals its table. Incident counts (per category, and their totals) are
  personal data: below `geo.schema.SUPPRESS_BELOW` (5) they print "<5", zero included.
* **No recovery by differencing.** "Totalt" minus the shown categories must not give back a
  suppressed count: when a column has suppressed cells whose sum is below 5, or a single
  one, the smallest shown cell is suppressed too (complementary suppression); when nothing
  is left to suppress, the total is suppressed. Incidents are counted over **whole months**
  only (to the end of the last month that is over on the chosen day and covered by the
  data), so reports for consecutive "Läge per dag" dates give the same table; and a count
  is shown only if it differs by at least 5 from every shown count of the same cell in the
  reports of earlier month ends (or equals it), so two reports cannot be subtracted into a
  small count.
  A change in per cent is only given when both counts are shown.

`build_report` makes a `PublicReport` (plain values only, so nothing else can leak into the
renderers); `to_html` and `to_pdf` render it; `export_report` does all three for a promise
in the database and writes the audit row (``promise.report_export``).
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo import schema
from geo.compare import shift_years
from geo.labels import MONTHS
from geo.promises import (
    COUNT,
    COVERAGE,
    DONE,
    KIND,
    LOGGED,
    MET,
    MINIMUM,
    MISSING,
    NOT_MET,
    STATUS,
    TASK,
    PromiseStatus,
    monthly_counts,
    promise_status,
)
from geo.store import Store, record_audit

PUBLIC_MARKING = "Offentlig sammanfattning – endast sammanräknade uppgifter"
PRIVACY_NOTE = (
    f"Aktiviteterna är de som löftet lovade och visas med sina antal. Anmälda brott färre än "
    f"{schema.SUPPRESS_BELOW} visas som <{schema.SUPPRESS_BELOW}, så att ingen enskild kan "
    'pekas ut; "dolt" står där ett antal döljs för att inget litet antal ska kunna räknas '
    "fram ur totalen eller ur en tidigare rapport. Brotten räknas per hela månader."
)
REPORT_TITLE = "Följ med i hur det går"
FORMATS = ("html", "pdf")
_MONTHS = MONTHS  # fmt: skip
_STATUS_TEXT = {
    MET: "Klart",
    "på väg": "På väg",
    "efter plan": "Efter plan",
    NOT_MET: "Inte uppnått",
}


def suppress(count: int | float) -> str:
    """A count as public text: below 5 (zero included) it is "<5".

    Examples
    --------
    >>> suppress(0), suppress(4), suppress(5), suppress(12)
    ('<5', '<5', '5', '12')
    """
    value = int(count)
    return f"<{schema.SUPPRESS_BELOW}" if value < schema.SUPPRESS_BELOW else str(value)


def _date_text(day: dt.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _month_text(key: str) -> str:
    year, month = key.split("-")
    return f"{_MONTHS[int(month) - 1]} {year}"


@dataclass(frozen=True)
class PublicReport:
    """Everything the public report shows — aggregates and published text only.

    ``targets``: (description, status text, result text). ``monthly``: months × activity
    types of activity counts (public, shown as they are). ``change``: text rows (category,
    before, after, change) with suppression already applied, the last one "Totalt" when
    there are categories. ``verdict``: a plain-Swedish sentence about the total change,
    from the shown totals only.
    """

    title: str
    period_text: str
    area_text: str
    partners: tuple[str, ...]
    promise_text: str
    targets: tuple[tuple[str, str, str], ...]
    monthly: pd.DataFrame
    change: tuple[tuple[str, str, str, str], ...]
    before_text: str
    after_text: str
    verdict: str
    made_on: dt.date
    notes: tuple[str, ...] = field(default_factory=tuple)


def _target_result(row: dict[str, Any]) -> str:
    """The result column of a target: activity counts as numbers (they are public).

    The number of activities named is the one the monthly table sums to (``logged``);
    when the target counts only some of them (evenings, weekends, lov, one per evening),
    the text also says how many of those count.

    Examples
    --------
    >>> _target_result({"kind": "count", "status": "uppfyllt", "minimum": 4, "done": 4,
    ...     "logged": 4})
    'Målet (minst 4) är nått: 4 genomförda'
    >>> _target_result({"kind": "count", "status": "ej uppfyllt", "minimum": 104, "done": 98,
    ...     "logged": 99})
    '99 genomförda, varav 98 räknas (målet är minst 104)'
    """
    kind = row[KIND]
    if kind == TASK:
        return "Genomfört" if row[DONE] else "Inte genomfört ännu"
    if kind == COVERAGE:
        missing = list(row[MISSING] or [])
        text = f"{row[DONE]} av {row[MINIMUM]} områden har haft minst ett tillfälle"
        return text + (f"; återstår: {', '.join(missing)}" if missing else "")
    if kind == COUNT:
        logged, done = int(row.get(LOGGED, row[DONE])), int(row[DONE])
        counted = "" if logged == done else f", varav {done} räknas"
        if row[STATUS] == MET:
            return f"Målet (minst {row[MINIMUM]}) är nått: {logged} genomförda{counted}"
        return f"{logged} genomförda{counted} (målet är minst {row[MINIMUM]})"
    raise ValueError(f'target kind was "{kind}" but is expected to be in {(COUNT, COVERAGE, TASK)}')


TOTAL = "Totalt"
#: Printed for an incident count hidden so that no small count can be worked out.
HIDDEN = "dolt"


def reportable_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """The days an incident count may end on: each month's last day in the period, and its end.

    Examples
    --------
    >>> [d.isoformat() for d in reportable_ends(dt.date(2018, 3, 1), dt.date(2018, 5, 20))]
    ['2018-03-31', '2018-04-30', '2018-05-20']
    """
    ends = []
    month = pd.Timestamp(start).to_period("M")
    while True:
        last = month.end_time.date()
        if last >= end:
            ends.append(end)
            return ends
        ends.append(last)
        month += 1


def suppression(history: Sequence[Mapping[str, int]]) -> list[dict[str, bool]]:
    """Which cells of one column may be shown, report by report (True: shown).

    ``history`` holds one column (e.g. "under löftet") at each reportable end, oldest first:
    category → count, and ``"Totalt"`` → their sum. At each end a cell is suppressed when

    1. its count is below 5 (zero included), or
    2. it differs by 1 to 4 from the same cell's count at an earlier end where it was shown
       (two reports subtracted would give a small count; the same count again tells
       nothing new), or
    3. "Totalt" minus the shown cells would give back a suppressed count: then the smallest
       shown category is suppressed too, until at least two are suppressed and they sum to
       5 or more; with nothing left to suppress, the total goes.

    Examples
    --------
    >>> # rån 3 is suppressed; the smallest other cell (stöld 6) goes with it, so Totalt - 20
    >>> # gives only rån + stöld = 9, not rån.
    >>> suppression([{"rån": 3, "stöld": 6, "våld": 20, "Totalt": 29}])
    [{'rån': False, 'stöld': False, 'våld': True, 'Totalt': True}]
    >>> # a month later våld is 22: 22 - 20 < 5, so it is not shown again
    >>> suppression([{"våld": 20, "Totalt": 20}, {"våld": 22, "Totalt": 22}])[1]
    {'våld': False, 'Totalt': False}
    """
    out: list[dict[str, bool]] = []
    for j, counts in enumerate(history):
        shown = {}
        for cell, value in counts.items():
            earlier = [
                history[i][cell] for i in range(j) if out[i].get(cell) and cell in history[i]
            ]
            shown[cell] = value >= schema.SUPPRESS_BELOW and all(
                not 0 < abs(value - v) < schema.SUPPRESS_BELOW for v in earlier
            )
        if shown.get(TOTAL):
            cats = [c for c in counts if c != TOTAL]
            while True:
                hidden = [c for c in cats if not shown[c]]
                if not hidden or (len(hidden) >= 2 and sum(counts[c] for c in hidden) >= 5):
                    break
                candidates = sorted((counts[c], c) for c in cats if shown[c])
                if not candidates:
                    shown[TOTAL] = False
                    break
                shown[candidates[0][1]] = False
        out.append(shown)
    return out


def _counts_in(incidents: gpd.GeoDataFrame, area: Any, start: dt.date, end: dt.date) -> pd.Series:
    local = incidents[schema.OCCURRED_AT].dt.tz_convert(schema.TZ).dt.date
    keep = ((local >= start) & (local <= end)).to_numpy()
    sub = incidents[keep]
    if area is not None and len(sub):
        pts = sub.to_crs(schema.CRS_METRIC).geometry
        sub = sub[shapely.contains_xy(area, pts.x.to_numpy(), pts.y.to_numpy())]
    return sub[schema.CATEGORY].value_counts()


def build_report(
    status: PromiseStatus,
    incidents: gpd.GeoDataFrame | None,
    *,
    area_names: Sequence[str] = (),
    categories: Sequence[str] | None = None,
    made_on: dt.date | None = None,
    coverage: Any = None,
) -> PublicReport:
    """The public summary of one promise (aggregates only).

    Parameters
    ----------
    status : PromiseStatus
        From `geo.promises.promise_status` (its ``area`` is the promise's area, EPSG:3006).
    incidents : GeoDataFrame or None
        Incidents (``occurred_at``, ``category``, points). Counted inside the promise's area
        during the promise (up to ``status.as_of``) and on the same days one year earlier.
        None: the "what changed" part says that no incident data was given.
    area_names : sequence of str
        Names of the promise's areas, for the text.
    categories : sequence of str, optional
        Categories to list; all present by default.
    made_on : datetime.date, optional
        Date printed on the report (today by default).
    coverage : geo.compare.Coverage, optional
        The days the incident data covers (default: its first and last incident). Months
        past its end are not counted; without data for the year before, nothing is compared.

    Returns
    -------
    PublicReport
    """

    p = status.promise
    start, end = p["period_start"], min(p["period_end"], status.as_of)
    targets = tuple(
        (str(r["description"]), _STATUS_TEXT.get(r[STATUS], r[STATUS]), _target_result(r))
        for r in status.progress.to_dict("records")
    )
    acts = status.activities
    if len(acts):
        day = acts["starts_at"].dt.tz_convert(schema.TZ).dt.date
        acts = acts[((day >= start) & (day <= end)).to_numpy()]
    # Only the type and start time leave the activity log; notes, places and actors stay.
    monthly = monthly_counts(acts[["activity_type", "starts_at"]], start=start, end=end)
    notes: list[str] = []
    change: list[tuple[str, str, str, str]] = []
    verdict = "Inga uppgifter om anmälda brott fanns med i underlaget."
    counted_start, counted_end = start, end
    if incidents is not None:
        change, verdict, counted_end, incident_notes = _incident_section(
            incidents, status.area, categories, start, p["period_end"], end, coverage
        )
        notes += incident_notes
    before_start = shift_years(counted_start, -1)
    before_end = shift_years(counted_end, -1)
    return PublicReport(
        title=str(p["title"]),
        period_text=f"{_date_text(p['period_start'])} – {_date_text(p['period_end'])}",
        area_text=", ".join(area_names) or ", ".join(p["area_ids"]),
        partners=tuple(p["partners"] or ()),
        promise_text=str(p["text"] or ""),
        targets=targets,
        monthly=monthly,
        change=tuple(change),
        before_text=f"{_date_text(before_start)} – {_date_text(before_end)}",
        after_text=f"{_date_text(counted_start)} – {_date_text(counted_end)}",
        verdict=verdict,
        made_on=made_on or pd.Timestamp.now(tz=schema.TZ).date(),
        notes=tuple(notes),
    )


def _incident_section(
    incidents: gpd.GeoDataFrame,
    area: Any,
    categories: Sequence[str] | None,
    start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    coverage: Any = None,
) -> tuple[list[tuple[str, str, str, str]], str, dt.date, list[str]]:
    """(rows, verdict, last day counted, notes) of "what changed", suppression applied."""
    from geo.compare import data_coverage, rate_ratio_test

    notes: list[str] = []
    coverage = data_coverage(incidents) if coverage is None else coverage
    if area is None:
        notes.append("Löftets område saknas i områdesgränserna; hela underlaget räknas.")
    ends = [e for e in reportable_ends(start, period_end) if e <= min(as_of, coverage.last)]
    if not ends:
        notes.append(
            "Anmälda brott räknas per hel månad; den första hela månaden av löftet (med "
            "uppgifter om brott) är inte slut ännu."
        )
        return (
            [],
            "Siffror om anmälda brott kommer när den första hela månaden har gått.",
            as_of,
            notes,
        )
    if shift_years(start, -1) < coverage.first:
        notes.append(
            f"Uppgifterna om brott börjar {_date_text(coverage.first)}: samma tid året innan "
            "saknas, så ingen jämförelse kan göras."
        )
        return [], "Ingen jämförelse med året innan är möjlig.", ends[-1], notes
    history_b, history_a = [], []
    wanted: list[str] | None = list(categories) if categories else None
    counted = []
    for day in ends:
        b = _counts_in(incidents, area, shift_years(start, -1), shift_years(day, -1))
        a = _counts_in(incidents, area, start, day)
        counted.append((b, a))
    if wanted is None:
        last_b, last_a = counted[-1]
        wanted = [c for c in schema.CATEGORIES if last_b.get(c, 0) or last_a.get(c, 0)]
    for b, a in counted:
        for series, history in ((b, history_b), (a, history_a)):
            column = {c: int(series.get(c, 0)) for c in wanted}
            column[TOTAL] = sum(column.values())
            history.append(column)
    shown_b, shown_a = suppression(history_b)[-1], suppression(history_a)[-1]
    last_b, last_a = history_b[-1], history_a[-1]
    # A hidden cell prints "<5" only where every hidden cell of its column is below 5;
    # otherwise all of them print "dolt", so the text never says "<5" of a larger count and
    # never tells which hidden cell is the small one.
    marks = []
    for shown, last in ((shown_b, last_b), (shown_a, last_a)):
        large = any(not shown[c] and last[c] >= schema.SUPPRESS_BELOW for c in shown)
        marks.append(HIDDEN if large else suppress(0))
    rows = []
    for cell in [*wanted, TOTAL] if wanted else []:
        both = shown_b[cell] and shown_a[cell]
        rows.append((
            cell,
            str(last_b[cell]) if shown_b[cell] else marks[0],
            str(last_a[cell]) if shown_a[cell] else marks[1],
            _pct_change(last_b[cell], last_a[cell]) if both else "–",
        ))  # fmt: skip
    days = (ends[-1] - start).days + 1
    if not (shown_b.get(TOTAL) and shown_a.get(TOTAL)):
        verdict = (
            "Förändringen av det totala antalet anmälda händelser visas inte: antalen är för "
            "små, eller små antal skulle gå att räkna fram ur dem."
        )
    else:
        verdict = _verdict(last_b[TOTAL], last_a[TOTAL], days)
        moved = []
        for cell in wanted:
            if not (shown_b[cell] and shown_a[cell]):
                continue
            rr = rate_ratio_test(last_b[cell], last_a[cell], days, days)
            if rr.p_value < 0.05:
                word = "minskat" if rr.rate_ratio < 1 else "ökat"
                moved.append(f"{cell} har {word} med {_pct_word(last_b[cell], last_a[cell])}")
        if moved:
            verdict += " Förändringar större än slumpen brukar ge: " + "; ".join(moved) + "."
    notes.append(
        "Anmälda händelser räknas inom löftets område, per hela månader. Förändringar kan "
        "ha andra orsaker än löftets insatser, till exempel att fler anmäler."
    )
    return rows, verdict, ends[-1], notes


def _verdict(before: int, after: int, days: int) -> str:
    from geo.compare import rate_ratio_test

    rr = rate_ratio_test(before, after, days, days)
    if rr.p_value >= 0.05:
        return (
            "Det totala antalet anmälda händelser i området har inte förändrats mer än vad "
            "slumpen brukar ge jämfört med samma tid året innan."
        )
    word = "minskat" if rr.rate_ratio < 1 else "ökat"
    return (
        f"Det totala antalet anmälda händelser i området har {word} med "
        f"{_pct_word(before, after)} jämfört med samma tid året innan, mer än vad slumpen "
        "brukar ge."
    )


def _pct(before: int, after: int) -> int:
    """The change in whole per cent; one rounding for the table and the text."""
    return round(100 * (after - before) / before)


def _pct_word(before: int, after: int) -> str:
    return f"ungefär {abs(_pct(before, after))} procent"


def _pct_change(before: int, after: int) -> str:
    return f"{_pct(before, after):+d} %".replace("-", "−")


def _monthly_rows(report: PublicReport) -> tuple[list[str], list[list[str]]]:
    """Activities per month and type, as numbers: the promise made them public."""
    header = ["Månad", *report.monthly.columns.tolist()]
    rows = [
        [_month_text(month), *(str(int(v)) for v in values)]
        for month, values in zip(report.monthly.index, report.monthly.to_numpy(), strict=True)
    ]
    if len(report.monthly.columns):
        rows.append(["Hela perioden", *(str(int(v)) for v in report.monthly.sum().to_numpy())])
    return header, rows


def _change_rows(report: PublicReport) -> list[list[str]]:
    return [list(r) for r in report.change]


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.5}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:2px solid #1f4e79;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.95rem}
th,td{border:1px solid #bbb;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#eef2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:600}.small{font-size:.85rem;color:#444}
.marking{background:#eef2f7;padding:.4rem .6rem;font-size:.85rem}
"""


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_esc(v)}</td>' if i >= numeric_from else f"<td>{_esc(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(report: PublicReport) -> bytes:
    """The report as one self-contained HTML page (UTF-8, inline CSS, no scripts or links).

    Examples
    --------
    >>> r = PublicReport("Löfte <1>", "1 mars 2018 – 31 december 2018", "Jakobsberg", ("polis",),
    ...     "Text", (("Minst 4", "Klart", "4 genomförda"),), pd.DataFrame(),
    ...     (("rån", "<5", "9", "–"),),
    ...     "x", "y", "Oförändrat.", dt.date(2019, 1, 10))
    >>> page = to_html(r).decode()
    >>> "Löfte &lt;1&gt;" in page, '<td class="n">&lt;5</td>' in page, "<script" in page
    (True, True, False)
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="sv"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(REPORT_TITLE)}: {_esc(report.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<p class="marking">{_esc(PUBLIC_MARKING)}</p>',
        f"<h1>{_esc(REPORT_TITLE)}</h1>",
        f"<p><strong>{_esc(report.title)}</strong><br>{_esc(report.area_text)} · "
        f"{_esc(report.period_text)}</p>",
        "<h2>Det här lovade vi</h2>",
    ]
    if report.partners:
        parts.append(f"<p>Löftet gavs av {_esc(', '.join(report.partners))}.</p>")
    for paragraph in report.promise_text.split("\n"):
        if paragraph.strip():
            parts.append(f"<p>{_esc(paragraph)}</p>")
    parts.append("<h2>Så går det</h2>")
    parts.append(
        _html_table(["Vi lovade", "Läge", "Resultat"], [list(t) for t in report.targets], 99)
    )
    parts.append("<h2>Det här har vi gjort</h2>")
    if len(report.monthly.columns):
        header, rows = _monthly_rows(report)
        parts.append("<p>Antal genomförda aktiviteter per månad.</p>")
        parts.append(_html_table(header, rows, 1))
    else:
        parts.append("<p>Inga aktiviteter är registrerade för perioden ännu.</p>")
    parts.append("<h2>Det här har förändrats</h2>")
    parts.append(f"<p>{_esc(report.verdict)}</p>")
    if report.change:
        parts.append(
            f"<p>Anmälda händelser i området under löftet ({_esc(report.after_text)}) och samma "
            f"tid året innan ({_esc(report.before_text)}).</p>"
        )
        parts.append(
            _html_table(["Brottskategori", "Året innan", "Under löftet", "Förändring"],
                        _change_rows(report), 1)
        )  # fmt: skip
    for note in report.notes:
        parts.append(f'<p class="small">{_esc(note)}</p>')
    parts.append(
        f'<p class="small">{_esc(PRIVACY_NOTE)} '
        f"Sammanställt {_esc(_date_text(report.made_on))} med Lägesbild.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


def to_pdf(report: PublicReport, path: str | os.PathLike | None = None) -> bytes:
    """The report as PDF (`geo.pdf.Briefing`, marked as a public summary).

    Examples
    --------
    >>> r = PublicReport("Löfte", "p", "a", (), "Text", (), pd.DataFrame(), (), "x", "y", "v",
    ...                  dt.date(2019, 1, 10))
    >>> to_pdf(r)[:5]
    b'%PDF-'
    """
    from geo.pdf import Briefing

    doc = Briefing(
        REPORT_TITLE,
        subtitle=f"{report.title} · {report.area_text} · {report.period_text}",
        marking=PUBLIC_MARKING,
        date=report.made_on,
        subject="Medborgarlöfte – uppföljning till invånarna",
    )
    doc.heading("Det här lovade vi")
    if report.partners:
        doc.paragraph(f"Löftet gavs av {', '.join(report.partners)}.")
    if report.promise_text.strip():
        doc.paragraph(report.promise_text)
    doc.heading("Så går det")
    if report.targets:
        doc.table([list(t) for t in report.targets], columns=["Vi lovade", "Läge", "Resultat"])
    doc.heading("Det här har vi gjort")
    if len(report.monthly.columns):
        header, rows = _monthly_rows(report)
        doc.paragraph("Antal genomförda aktiviteter per månad.")
        doc.table(rows, columns=header, font_size=7.0)
    else:
        doc.paragraph("Inga aktiviteter är registrerade för perioden ännu.")
    doc.heading("Det här har förändrats")
    doc.paragraph(report.verdict)
    if report.change:
        doc.paragraph(
            f"Anmälda händelser i området under löftet ({report.after_text}) och samma tid "
            f"året innan ({report.before_text})."
        )
        doc.table(
            _change_rows(report),
            columns=["Brottskategori", "Året innan", "Under löftet", "Förändring"],
        )
    for note in report.notes:
        doc.paragraph(note, small=True)
    doc.paragraph(PRIVACY_NOTE, small=True)
    return doc.build(path)


def export_report(
    store: Store,
    promise_id: int,
    *,
    fmt: str,
    actor: str,
    areas: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    as_of: dt.date | None = None,
    path: str | os.PathLike | None = None,
    coverage: Any = None,
) -> bytes:
    """Build and render the public report of a promise; audited as ``promise.report_export``.

    Parameters
    ----------
    store : Store
    promise_id : int
    fmt : {"html", "pdf"}
    actor : str
        Who exports (audit log).
    areas, incidents : GeoDataFrame, optional
        Boundaries (for the promise's area and names) and incidents (for "what changed").
    as_of : datetime.date, optional
        Judge progress on this day (default: today or the period's end).
    path : path-like, optional
        Also write the file (atomically).
    coverage : geo.compare.Coverage, optional
        The days the incident data covers (see `build_report`).

    Returns
    -------
    bytes
    """
    if fmt not in FORMATS:
        raise ValueError(f'`fmt` was "{fmt}" but is expected to be in {FORMATS}')
    status = promise_status(store, promise_id, areas=areas, as_of=as_of)
    names: list[str] = []
    if areas is not None and len(areas):
        lookup = dict(zip(areas[schema.AREA_ID].astype(str), areas[schema.AREA_NAME], strict=True))
        names = [str(lookup.get(a, a)) for a in status.promise["area_ids"]]
    report = build_report(status, incidents, area_names=names, coverage=coverage)
    if fmt == "html":
        data = to_html(report)
        if path is not None:
            from geo.pdf import write_atomic

            write_atomic(path, data)
    else:
        data = to_pdf(report, path)
    with store.session() as s:
        record_audit(
            s, actor=actor or "okänd", action="promise.report_export", target_type="promise",
            target_id=promise_id,
            params={"format": fmt, "as_of": status.as_of.isoformat(), "bytes": len(data),
                    "incidents": incidents is not None and len(incidents) > 0},
        )  # fmt: skip
    return data


__all__ = [
    "FORMATS", "PUBLIC_MARKING", "PublicReport", "REPORT_TITLE", "build_report",
    "export_report", "suppress", "to_html", "to_pdf",
]  # fmt: skip
