"""The report to residents: "Följ med i hur det går" — what was promised, done and changed.

This module owns the public, privacy-safe summary of a medborgarlöfte, as self-contained
HTML (no external assets, inline CSS, everything escaped) and as PDF (`geo.pdf.Briefing`).

What goes in, and what never does:

* **In**: the promise as published (title, period, partners, text, target descriptions), a
  status per target, activities counted by type and month, incidents in the promise's area
  counted by category before (the same days one year earlier) and during the promise.
* **Never**: incident points or times, activity notes, place names, actors or who logged
  anything (the police's own records), inspection round names. Only aggregates.
* **Small counts**: every count below `geo.schema.SUPPRESS_BELOW` (5) is printed "<5",
  also zero; a change in per cent is only given when both counts are at least 5.

`build_report` makes a `PublicReport` (plain values only, so nothing else can leak into the
renderers); `to_html` and `to_pdf` render it; `export_report` does all three for a promise
in the database and writes the audit row (``promise.report_export``).
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo import schema
from geo.compare import shift_years
from geo.promises import (
    COUNT,
    COVERAGE,
    DONE,
    KIND,
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
REPORT_TITLE = "Följ med i hur det går"
FORMATS = ("html", "pdf")
_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december")  # fmt: skip
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
    types of raw counts (suppressed when rendered). ``change``: rows of (category, before,
    after) raw counts (suppressed when rendered). ``verdict``: a plain-Swedish sentence about
    the total change.
    """

    title: str
    period_text: str
    area_text: str
    partners: tuple[str, ...]
    promise_text: str
    targets: tuple[tuple[str, str, str], ...]
    monthly: pd.DataFrame
    change: tuple[tuple[str, int, int], ...]
    before_text: str
    after_text: str
    verdict: str
    made_on: dt.date
    notes: tuple[str, ...] = field(default_factory=tuple)


def _target_result(row: dict[str, Any]) -> str:
    kind = row[KIND]
    if kind == TASK:
        return "Genomfört" if row[DONE] else "Inte genomfört ännu"
    if kind == COVERAGE:
        missing = list(row[MISSING] or [])
        text = f"{row[DONE]} av {row[MINIMUM]} områden har haft minst ett tillfälle"
        return text + (f"; återstår: {', '.join(missing)}" if missing else "")
    if kind == COUNT:
        if row[STATUS] == MET:
            return f"Målet (minst {row[MINIMUM]}) är nått: {suppress(row[DONE])} genomförda"
        return f"{suppress(row[DONE])} genomförda (målet är minst {row[MINIMUM]})"
    raise ValueError(f'target kind was "{kind}" but is expected to be in {(COUNT, COVERAGE, TASK)}')


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

    Returns
    -------
    PublicReport
    """
    from geo.compare import rate_ratio_test

    p = status.promise
    start, end = p["period_start"], min(p["period_end"], status.as_of)
    before_start, before_end = shift_years(start, -1), shift_years(end, -1)
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
    change: list[tuple[str, int, int]] = []
    verdict = "Inga uppgifter om anmälda brott fanns med i underlaget."
    if incidents is not None:
        if status.area is None:
            notes.append("Löftets område saknas i områdesgränserna; hela underlaget räknas.")
        before = _counts_in(incidents, status.area, before_start, before_end)
        after = _counts_in(incidents, status.area, start, end)
        wanted = list(categories) if categories else [
            c for c in schema.CATEGORIES if before.get(c, 0) or after.get(c, 0)
        ]  # fmt: skip
        change = [(c, int(before.get(c, 0)), int(after.get(c, 0))) for c in wanted]
        total_b, total_a = sum(b for _, b, _ in change), sum(a for _, _, a in change)
        days = (end - start).days + 1
        verdict = _verdict(total_b, total_a, days)
        moved = []
        for category, b, a in change:
            if min(a, b) < schema.SUPPRESS_BELOW:
                continue
            rr = rate_ratio_test(b, a, days, days)
            if rr.p_value < 0.05:
                word = "minskat" if rr.rate_ratio < 1 else "ökat"
                moved.append(
                    f"{category} har {word} med ungefär {round(100 * abs(1 - rr.rate_ratio))} procent"
                )
        if moved:
            verdict += " Förändringar större än slumpen brukar ge: " + "; ".join(moved) + "."
        notes.append(
            "Anmälda händelser räknas inom löftets område. Förändringar kan ha andra orsaker "
            "än löftets insatser, till exempel att fler anmäler."
        )
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
        after_text=f"{_date_text(start)} – {_date_text(end)}",
        verdict=verdict,
        made_on=made_on or pd.Timestamp.now(tz=schema.TZ).date(),
        notes=tuple(notes),
    )


def _verdict(before: int, after: int, days: int) -> str:
    from geo.compare import rate_ratio_test

    if before < schema.SUPPRESS_BELOW or after < schema.SUPPRESS_BELOW:
        return "Antalet anmälda händelser är för litet för att säga något om förändringen."
    rr = rate_ratio_test(before, after, days, days)
    if rr.p_value >= 0.05:
        return (
            "Det totala antalet anmälda händelser i området har inte förändrats mer än vad "
            "slumpen brukar ge jämfört med samma tid året innan."
        )
    word = "minskat" if rr.rate_ratio < 1 else "ökat"
    return (
        f"Det totala antalet anmälda händelser i området har {word} med ungefär "
        f"{round(100 * abs(1 - rr.rate_ratio))} procent jämfört med samma tid året innan, "
        "mer än vad slumpen brukar ge."
    )


def _pct_change(before: int, after: int) -> str:
    if before < schema.SUPPRESS_BELOW or after < schema.SUPPRESS_BELOW:
        return "–"
    change = round(100 * (after - before) / before)
    return f"{change:+d} %".replace("-", "−")


def _monthly_rows(report: PublicReport) -> tuple[list[str], list[list[str]]]:
    header = ["Månad", *report.monthly.columns.tolist()]
    rows = [
        [_month_text(month), *(suppress(v) for v in values)]
        for month, values in zip(report.monthly.index, report.monthly.to_numpy(), strict=True)
    ]
    if len(report.monthly.columns):
        rows.append(["Hela perioden", *(suppress(v) for v in report.monthly.sum().to_numpy())])
    return header, rows


def _change_rows(report: PublicReport) -> list[list[str]]:
    rows = [[c, suppress(b), suppress(a), _pct_change(b, a)] for c, b, a in report.change]
    if report.change:
        b = sum(r[1] for r in report.change)
        a = sum(r[2] for r in report.change)
        rows.append(["Totalt", suppress(b), suppress(a), _pct_change(b, a)])
    return rows


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
    ...     "Text", (("Minst 4", "Klart", "<5 genomförda"),), pd.DataFrame(), (("rån", 3, 9),),
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
        f'<p class="small">Färre än {schema.SUPPRESS_BELOW} visas som '
        f"&lt;{schema.SUPPRESS_BELOW} för att ingen enskild ska kunna pekas ut. "
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
    doc.paragraph(
        f"Färre än {schema.SUPPRESS_BELOW} visas som <{schema.SUPPRESS_BELOW} för att ingen "
        "enskild ska kunna pekas ut.",
        small=True,
    )
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
    report = build_report(status, incidents, area_names=names)
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
