"""The before/after comparison as a Swedish table, CSV, trend chart and PDF report.

Takes the frames made by :mod:`geo.compare` and renders them; computes no statistics of its
own. The PDF uses the shared builder :class:`geo.pdf.Briefing` (handling marking
"INTERN / BEGRÄNSAD", date, page numbers). Numbers are written the Swedish way (decimal
comma). The report is internal: counts are not suppressed here, unlike public summaries.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo import compare, safecsv, schema
from geo.compare import Period
from geo.pdf import Briefing, write_atomic

#: Columns of the compact table in the PDF and on the page, in order.
SUMMARY_COLUMNS = {
    schema.NAME: "Zon / område",
    compare.BEFORE_COUNT: "Före",
    compare.AFTER_COUNT: "Efter",
    compare.BEFORE_RATE: "Per 30 d före",
    compare.AFTER_RATE: "Per 30 d efter",
    compare.CHANGE_PCT: "Förändring",
    "rate_ratio_text": "Kvot (95 % KI)",
    compare.P_VALUE: "p",
    compare.WDQ: "WDQ",
    "wdd_text": "WDD (medelfel)",
    compare.VERDICT: "Bedömning",
}


def _number(value: Any, digits: int = 2) -> str:
    """Swedish number text; empty for a missing value, "∞" for infinity."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if isinstance(value, int | np.integer):
        text = str(int(value))
    else:
        text = f"{float(value):.{digits}f}".replace(".", ",")
    if text.startswith("-") and not text.strip("-0,"):
        text = text[1:]  # -0.3 rounded to 0 digits is 0, not "−0"
    return text.replace("-", "−")


def number_text(value: Any, digits: int = 2) -> str:
    """A number as Swedish text (decimal comma, "−", "–" for missing, "∞").

    Examples
    --------
    >>> number_text(-0.4), number_text(float("nan")), number_text(12)
    ('−0,40', '–', '12')
    """
    return _number(value, digits)


def _p_text(p: Any) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<0,001" if p < 0.001 else _number(p, 3)


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison as short Swedish text columns for the page and the PDF.

    Parameters
    ----------
    table : DataFrame
        From :func:`geo.compare.compare_zones`.

    Returns
    -------
    DataFrame
        Columns named by :data:`SUMMARY_COLUMNS`, every value a string.

    Examples
    --------
    >>> row = {"name": "A", "before_count": 40, "after_count": 10, "before_rate_30d": 3.29,
    ...        "after_rate_30d": 0.82, "change_pct": -75.0, "rate_ratio": 0.25,
    ...        "rr_ci_low": 0.11, "rr_ci_high": 0.5, "p_value": 0.00002, "wdq": float("nan"),
    ...        "wdd": -30.0, "wdd_se": 7.07, "verdict": "minskning"}
    >>> summary_table(pd.DataFrame([row])).iloc[0].tolist()
    ['A', '40', '10', '3,29', '0,82', '−75 %', '0,25 (0,11–0,50)', '<0,001', '–', '−30,0 (7,1)', 'minskning']
    """
    rows = []
    for rec in table.to_dict("records"):
        change = rec.get(compare.CHANGE_PCT)
        wdd = rec.get(compare.WDD)
        rows.append(
            {
                SUMMARY_COLUMNS[schema.NAME]: str(rec[schema.NAME]),
                SUMMARY_COLUMNS[compare.BEFORE_COUNT]: _number(int(rec[compare.BEFORE_COUNT])),
                SUMMARY_COLUMNS[compare.AFTER_COUNT]: _number(int(rec[compare.AFTER_COUNT])),
                SUMMARY_COLUMNS[compare.BEFORE_RATE]: _number(rec[compare.BEFORE_RATE]),
                SUMMARY_COLUMNS[compare.AFTER_RATE]: _number(rec[compare.AFTER_RATE]),
                SUMMARY_COLUMNS[compare.CHANGE_PCT]: "–"
                if pd.isna(change)
                else f"{_number(change, 0)} %",
                SUMMARY_COLUMNS["rate_ratio_text"]: f"{_number(rec[compare.RATE_RATIO])} "
                f"({_number(rec[compare.RR_CI_LOW])}–{_number(rec[compare.RR_CI_HIGH])})",
                SUMMARY_COLUMNS[compare.P_VALUE]: _p_text(rec[compare.P_VALUE]),
                SUMMARY_COLUMNS[compare.WDQ]: _number(rec.get(compare.WDQ)),
                SUMMARY_COLUMNS["wdd_text"]: "–"
                if wdd is None or pd.isna(wdd)
                else f"{_number(wdd, 1)} ({_number(rec[compare.WDD_SE], 1)})",
                SUMMARY_COLUMNS[compare.VERDICT]: str(rec[compare.VERDICT]),
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS.values()))


#: The numbers behind one verdict, in the order a reader asks for them (counts first).
FIGURES = {
    compare.BEFORE_COUNT: "Antal före",
    compare.AFTER_COUNT: "Antal efter",
    compare.BEFORE_DAYS: "Dagar med data före",
    compare.AFTER_DAYS: "Dagar med data efter",
    compare.BEFORE_RATE: "Per 30 dagar före",
    compare.AFTER_RATE: "Per 30 dagar efter",
    compare.RATE_RATIO: "Kvot efter/före",
    compare.P_VALUE: "p-värde",
    compare.P_ADJ: "p-värde justerat (Holm)",
    compare.BUFFER_BEFORE: "Närområde före",
    compare.BUFFER_AFTER: "Närområde efter",
    compare.CONTROL_BEFORE: "Kontroll före",
    compare.CONTROL_AFTER: "Kontroll efter",
    compare.CONTROL_STATE: "Kontrollområdets storlek",
    compare.SUCCESS: "Success",
    compare.BUFFER_TERM: "Buffer",
    compare.BUFFER_P_ADJ: "p-värde närområde mot kontroll, justerat",
    compare.WDQ: "WDQ",
    compare.WDD: "WDD",
    compare.WDD_SE: "WDD medelfel",
    compare.NET_TEST: "Nettotest",
    compare.NET_P_ADJ: "p-värde netto, justerat",
}
_COUNTS = {compare.BEFORE_COUNT, compare.AFTER_COUNT, compare.BEFORE_DAYS, compare.AFTER_DAYS,
           compare.BUFFER_BEFORE, compare.BUFFER_AFTER, compare.CONTROL_BEFORE,
           compare.CONTROL_AFTER}  # fmt: skip


def figures(rec: Mapping[str, Any]) -> pd.DataFrame:
    """The numbers behind one row's verdict as Swedish text ("Mått", "Värde").

    Examples
    --------
    >>> figures({"before_count": 40.0, "after_count": 10, "p_value": 0.0002, "wdq": float("nan"),
    ...     "net_test": "WDD"}).values.tolist()
    [['Antal före', '40'], ['Antal efter', '10'], ['p-värde', '<0,001'], ['Nettotest', 'WDD']]
    """
    rows = []
    for col, label in FIGURES.items():
        value = rec.get(col)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, str):
            text = value
        elif col in _COUNTS:
            text = str(int(value))
        elif "p_value" in col:
            text = _p_text(float(value))
        else:
            text = _number(float(value))
        rows.append({"Mått": label, "Värde": text})
    return pd.DataFrame(rows, columns=["Mått", "Värde"])


def _with_periods(
    table: pd.DataFrame, before: Period | None = None, after: Period | None = None
) -> pd.DataFrame:
    """The table with the compared periods as its first two columns, warnings as one text."""
    out = table.copy()
    for col, period in ((compare.AFTER_PERIOD, after), (compare.BEFORE_PERIOD, before)):
        values = out.pop(col) if col in out.columns else str(period)
        out.insert(0, col, values)
    out[compare.WARNINGS] = [
        " | ".join(w) if isinstance(w, list | tuple) else ("" if pd.isna(w) else str(w))
        for w in table[compare.WARNINGS]
    ]
    return out


def comparison_csv(
    table: pd.DataFrame,
    *,
    before: Period | None = None,
    after: Period | None = None,
    path: str | os.PathLike | None = None,
) -> bytes:
    """The full comparison as CSV (UTF-8 with BOM so spreadsheets show å ä ö).

    Headers are the Swedish labels of :data:`geo.compare.COLUMN_LABELS_SV`; the first two
    columns are the periods compared (the days with data); warnings are joined by " | ".
    Numbers keep full precision with a decimal point, for further analysis.

    Parameters
    ----------
    table : DataFrame
        From :func:`geo.compare.compare_zones`.
    before, after : Period, optional
        Only for a table without the period columns.
    path : path-like, optional
        Also written there (atomically).

    Returns
    -------
    bytes

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> import geopandas as gpd
    >>> inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(["2017-05-01", "2018-05-01"]
    ...     ).tz_localize(schema.TZ), "category": "rån"}, geometry=[Point(1, 1)] * 2,
    ...     crs="EPSG:3006")
    >>> z = gpd.GeoDataFrame({"zone_id": ["a"]}, geometry=[box(0, 0, 5, 5)], crs="EPSG:3006")
    >>> b, a = compare.promise_year_presets(date(2018, 1, 1))
    >>> text = comparison_csv(compare.compare_zones(inc, z, before=b, after=a)).decode("utf-8-sig")
    >>> text.splitlines()[0].split(",")[:4]
    ['Före (dagar med data)', 'Efter (dagar med data)', 'Zon-id', 'Namn']
    """
    data = safecsv.to_csv_bytes(
        _with_periods(table, before, after), labels=compare.COLUMN_LABELS_SV
    )
    if path is not None:
        write_atomic(path, data)
    return data


def comparison_records(
    table: pd.DataFrame,
    *,
    before: Period | None = None,
    after: Period | None = None,
    periods: compare.CoveredPeriods | None = None,
) -> list[dict]:
    """The comparison as JSON-ready dicts: English keys, ``None`` for undefined numbers.

    Infinite values (an unbounded interval) also become ``None``; the ``wdq_note`` says why
    a WDQ is missing. ``before_period``/``after_period`` are the periods compared; with
    ``periods`` also the periods asked for and the data's coverage (``data_first``,
    ``data_last``). ``warnings`` holds every warning, a period cut to the data included.

    Examples
    --------
    >>> t = pd.DataFrame([{"zone_id": "a", "wdq": float("nan"), "rr_ci_high": float("inf"),
    ...     "before_count": 3, "warnings": ["x"]}])
    >>> b, a = compare.promise_year_presets(date(2018, 1, 1))
    >>> comparison_records(t, before=b, after=a)[0]["rr_ci_high"] is None
    True
    """
    records = []
    for rec in (
        _with_periods(table, before, after)
        .drop(columns=compare.WARNINGS)
        .assign(**{compare.WARNINGS: list(table[compare.WARNINGS])})
        .to_dict("records")
    ):
        clean: dict[str, Any] = {}
        if periods is not None:
            clean.update(
                requested_before_period=str(periods.requested_before),
                requested_after_period=str(periods.requested_after),
                data_first=periods.coverage.first.isoformat(),
                data_last=periods.coverage.last.isoformat(),
            )
        for key, value in rec.items():
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            elif hasattr(value, "item") and not isinstance(value, list | tuple):
                value = value.item()
                if isinstance(value, float) and not math.isfinite(value):
                    value = None
            elif isinstance(value, tuple):
                value = list(value)
            clean[key] = value
        records.append(clean)
    return records


def trend_chart_png(
    series: pd.DataFrame,
    *,
    intervention: date | None = None,
    title: str | None = None,
    width_in: float = 7.0,
    height_in: float = 3.2,
    dpi: int = 150,
) -> bytes:
    """A line chart of incidents per period per zone, with the intervention date marked.

    Parameters
    ----------
    series : DataFrame
        From :func:`geo.compare.trend` (``zone_id``, ``name``, ``period_start``, ``count``).
    intervention : datetime.date, optional
        Drawn as a dashed vertical line labelled "Insatserna börjar".
    title : str, optional
    width_in, height_in : float
        Size in inches.
    dpi : int, default 150

    Returns
    -------
    bytes
        PNG image (matplotlib Agg, no display needed).

    Examples
    --------
    >>> s = pd.DataFrame({"zone_id": ["a", "a"], "name": ["A", "A"],
    ...     "period_start": pd.to_datetime(["2018-01-01", "2018-02-01"]), "count": [3, 1]})
    >>> trend_chart_png(s, intervention=date(2018, 1, 15))[:4]
    b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for (_, name), part in series.groupby([schema.ZONE_ID, schema.NAME], sort=False):
        (line,) = ax.plot(
            part[compare.PERIOD_START], part[schema.COUNT], marker=".", label=str(name)
        )
        if compare.PARTIAL in part and part[compare.PARTIAL].any():
            edge = part[part[compare.PARTIAL].astype(bool)]
            ax.plot(edge[compare.PERIOD_START], edge[schema.COUNT], linestyle="none", marker="o",
                    markerfacecolor="white", markeredgecolor=line.get_color())  # fmt: skip
    if intervention is not None:
        ax.axvline(pd.Timestamp(intervention), color="#b2182b", linestyle="--", linewidth=1.2)
        ax.annotate(
            "Insatserna börjar",
            (pd.Timestamp(intervention), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -10),
            textcoords="offset points",
            fontsize=8,
            color="#b2182b",
        )
    ax.set_ylabel("Antal händelser")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if series[schema.ZONE_ID].nunique() > 0:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title, fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def warning_lines(table: pd.DataFrame) -> list[str]:
    """Every warning once: those that every row shares (periods cut to the data, lov
    coverage) and the regression warning stand alone; the rest carry their row's name.

    Examples
    --------
    >>> t = pd.DataFrame({"name": ["A", "B"], "warnings": [["Datan slutar", "För få"],
    ...     ["Datan slutar"]]})
    >>> warning_lines(t)
    ['Datan slutar', 'A: För få']
    """
    records = table.to_dict("records")
    lists = [list(rec.get(compare.WARNINGS) or []) for rec in records]
    shared = set.intersection(*(set(w) for w in lists)) if len(lists) > 1 else set()
    lines: list[str] = []
    for warning in (w for ws in lists for w in ws):
        if warning in shared and warning not in lines:
            lines.append(warning)
    for rec, warnings in zip(records, lists, strict=True):
        for warning in warnings:
            if warning in shared:
                continue
            line = warning if warning.startswith("Regression") else f"{rec[schema.NAME]}: {warning}"
            if line not in lines:
                lines.append(line)
    return lines


#: The measures in plain Swedish, with the worked examples of DESIGN.md §4. One text for
#: the Före/efter page, the Om page and the PDF.
GUIDE: tuple[tuple[str, str], ...] = (
    (
        "Kvot och p-värde",
        "Kvoten är antal händelser per dag efter delat med antal per dag före: 0,75 betyder "
        "25 % färre. p-värdet är chansen att få minst så stor skillnad av ren slump om "
        "ingenting hade förändrats. Under 0,05 kallas skillnaden säker. Bara dagar med data "
        "räknas: når en period förbi datan kortas den, och det sägs i varningarna.",
    ),
    (
        "Närområde (buffert)",
        "En ring runt zonen (standard 250 m bred). Flyttade brotten bara runt hörnet när "
        "polisen kom, syns det som fler händelser i ringen.",
    ),
    (
        "Kontrollområde",
        "Resten av kommunen eller polisområdet, utan zoner och ringar, om du inte anger ett "
        "eget. Det visar den allmänna utvecklingen: fick hela kommunen 10 % färre brott är "
        "10 % färre i zonen ingen effekt av insatserna. Ett kontrollområde med färre än 10 "
        "händelser i en period är för litet för att visa något. Ett som är mer än tre gånger "
        "så belastat som zonen och ringen gör WDD oanvändbart; då jämförs kvoterna i stället.",
    ),
    (
        "Success och Buffer",
        "Success = zonens antal delat med kontrollområdets, efter minus före (Ra/Ca − Rb/Cb): "
        "negativt betyder att zonen blev bättre än kontrollområdet. Buffer = samma sak för "
        "ringen (Da/Ca − Db/Cb): positivt betyder fler i ringen (förskjutning), negativt färre "
        "(spridning av positiva effekter).",
    ),
    (
        "WDQ",
        "WDQ = Buffer / Success (Bowers & Johnson 2003): hur mycket av zonens vinst som dök "
        "upp i ringen. Exempel: zonen 100 → 50, ringen 40 → 60, kontrollområdet 1000 → 1000 "
        "ger Success = 50/1000 − 100/1000 = −0,05 och Buffer = 60/1000 − 40/1000 = 0,02, så "
        "WDQ = 0,02 / −0,05 = −0,4: för varje 10 färre händelser i zonen kom ungefär 4 fler i "
        "ringen. En del flyttade, men mindre än zonen vann. Under −1 flyttade mer än zonen "
        "vann; över 0 blev ringen också bättre.",
    ),
    (
        "WDD",
        "WDD = förändringen i zonen − förändringen i kontrollområdet + förändringen i ringen "
        "(Wheeler & Ratcliffe 2018), i antal händelser. Negativ WDD är en minskning utöver "
        "den allmänna utvecklingen, räknat med det som flyttade. Medelfelet är roten ur "
        "summan av alla antal. Exempel: kontrollområdet 100 → 90 och zonen 100 → 80 ger "
        "WDD = (80 − 100) − (90 − 100) = −10 med medelfel √(100 + 80 + 100 + 90) = √370 ≈ "
        "19,2. −10 är bara halva medelfelet: minskningen ryms inom slumpen.",
    ),
    (
        "Nettobedömningen",
        "Blev det totalt färre i zon och ring än den allmänna utvecklingen säger? Med ett "
        "kontrollområde av zonens storlek avgör WDD. Med ett mycket större kontrollområde "
        "(det vanliga, resten av kommunen) avgör ett exakt test om kvoten efter/före för zon "
        "och ring skiljer sig från kontrollområdets (kvottest).",
    ),
    (
        "Flera zoner samtidigt",
        "Prövas många zoner blir någon av dem 'säker' av ren slump. P-värdena justeras därför "
        "med Holms metod: risken att minst en zon felaktigt får en säker bedömning är högst "
        "5 %. Med en enda zon ändras ingenting.",
    ),
)


def correction_text(n_zones: int) -> str:
    """One sentence on the error-rate control across ``n_zones`` zones.

    Examples
    --------
    >>> correction_text(1)
    'En zon: p-värdena behöver inte justeras.'
    """
    if n_zones <= 1:
        return "En zon: p-värdena behöver inte justeras."
    return (
        f"{n_zones} zoner bedöms samtidigt: p-värdena är justerade med Holms metod, så risken "
        "att minst en zon felaktigt får en säker bedömning är högst 5 %."
    )


def verdict_lines(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(name, headline, sentence) per row, zones first, as the page and the PDF show them.

    Examples
    --------
    >>> t = pd.DataFrame({"name": ["A"], "verdict": ["minskning"],
    ...     "verdict_text": ["Färre våldsbrott i zonen …"]})
    >>> verdict_lines(t)
    [('A', 'minskning', 'Färre våldsbrott i zonen …')]
    """
    return [
        (str(rec[schema.NAME]), str(rec[compare.VERDICT]), str(rec.get(compare.VERDICT_TEXT) or ""))
        for rec in table.to_dict("records")
    ]


def _period_pairs(
    table: pd.DataFrame, periods: compare.CoveredPeriods | None, before, after
) -> list[tuple[str, str]]:
    if periods is not None:
        pairs = []
        for label, used, asked in (
            ("Före", periods.before, periods.requested_before),
            ("Efter", periods.after, periods.requested_after),
        ):
            text = f"{used.start} – {used.end} ({used.days} dagar)"
            if used != asked:
                text += f"; begärt {asked.start} – {asked.end}, kortat till datan"
            pairs.append((label, text))
        pairs.append(("Data", periods.coverage.describe()))
        return pairs
    if before is None and compare.BEFORE_PERIOD in table.columns and len(table):
        before = Period.parse(str(table[compare.BEFORE_PERIOD].iloc[0]))
        after = Period.parse(str(table[compare.AFTER_PERIOD].iloc[0]))
    return [
        (label, f"{p.start} – {p.end} ({p.days} dagar)")
        for label, p in (("Före", before), ("Efter", after))
        if p is not None
    ]


def comparison_pdf(
    table: pd.DataFrame,
    *,
    before: Period | None = None,
    after: Period | None = None,
    periods: compare.CoveredPeriods | None = None,
    series: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
    areas: pd.DataFrame | None = None,
    zones: pd.DataFrame | None = None,
    intervention: date | None = None,
    title: str = "Före/efter-utvärdering",
    area_label: str | None = None,
    parameters: Mapping[str, object] | None = None,
    author: str | None = None,
    report_date: date | None = None,
    path: str | os.PathLike | None = None,
) -> bytes:
    """The comparison as a Swedish PDF report marked "INTERN / BEGRÄNSAD".

    Contents: title, the periods compared (with the periods asked for and the data's
    coverage when a period was cut), parameters, one verdict sentence per zone and area,
    the figures, every warning, the before and after maps side by side (with ``cells``
    from :func:`geo.compare.change_grid` and ``areas``), the trend chart with the
    intervention date, and the measures explained (:data:`GUIDE`).

    Parameters
    ----------
    table : DataFrame
        From :func:`geo.compare.compare_zones`.
    before, after : Period, optional
        Only when ``periods`` is not given and the table lacks its period columns.
    periods : geo.compare.CoveredPeriods, optional
        From :func:`geo.compare.cover_periods`: the periods asked for and used.
    series : DataFrame, optional
        From :func:`geo.compare.trend`; adds the trend chart.
    cells, areas, zones : DataFrame, optional
        Add the before and after maps.
    intervention : datetime.date, optional
        Marked on the chart; default the after period's first day.
    title : str
    area_label : str, optional
        Subtitle, e.g. "Järfälla kommun".
    parameters : mapping, optional
        Shown under the periods (buffer width, control, categories, time window …).
    author : str, optional
    report_date : datetime.date, optional
        Printed date; today by default.
    path : path-like, optional
        Also written there (atomically).

    Returns
    -------
    bytes
        The PDF.

    Examples
    --------
    >>> row = {"zone_id": "a", "name": "A", "kind": "zon", "before_count": 2,
    ...     "after_count": 1, "before_rate_30d": 0.2, "after_rate_30d": 0.1, "change_pct": -50.0,
    ...     "rate_ratio": 0.5, "rr_ci_low": 0.01, "rr_ci_high": 9.6, "p_value": 1.0,
    ...     "verdict": "för få händelser", "warnings": ["För få händelser"]}
    >>> b, a = compare.promise_year_presets(date(2018, 1, 1))
    >>> comparison_pdf(pd.DataFrame([row]), before=b, after=a)[:5]
    b'%PDF-'
    """
    pairs = _period_pairs(table, periods, before, after)
    doc = Briefing(
        title,
        subtitle=area_label,
        date=report_date,
        author=author,
        subject="Före/efter-utvärdering",
        keywords=[f"{k.lower()}={v}" for k, v in pairs[:2]]
        + [f"{k}={v}" for k, v in (parameters or {}).items()],
        landscape=True,
    )
    doc.heading("Perioder och val")
    doc.key_values(pairs + [(str(k), str(v)) for k, v in (parameters or {}).items()])

    doc.heading("Bedömningar")
    n_zones = int((table[compare.KIND] == "zon").sum()) if compare.KIND in table else 0
    for name, headline, sentence in verdict_lines(table):
        doc.paragraph(f"{name} – {headline}. {sentence}".strip())
    doc.paragraph(correction_text(n_zones), small=True)

    doc.heading("Resultat per zon och område")
    doc.table(summary_table(table), font_size=7.5)
    doc.paragraph(
        "Kvot = antal per dag efter delat med antal per dag före. p = exakt test av kvoten "
        "(justerat för flera zoner i bedömningen). WDQ och WDD mäter förskjutning till "
        "närområdet (se Så läser du måtten).",
        small=True,
    )
    notes = [
        f"{rec[schema.NAME]}: {rec[compare.WDQ_NOTE]}"
        for rec in table.to_dict("records")
        if isinstance(rec.get(compare.WDQ_NOTE), str) and rec.get(compare.WDQ_NOTE)
    ]
    if notes:
        doc.paragraph("\n".join(notes), small=True)

    warnings = warning_lines(table)
    doc.heading("Varningar")
    doc.paragraph("\n".join(f"• {w}" for w in warnings) if warnings else "Inga varningar.")

    if cells is not None and areas is not None and len(cells):
        doc.heading("Före och efter på kartan")
        doc.image(
            period_maps_png(cells, areas, zones=zones),
            caption="Händelser per 30 dagar per ruta, samma färgskala i båda kartorna; grått: "
            "färre än 5 händelser i perioden. Svart kant: zonerna.",
        )

    if series is not None and len(series):
        doc.heading("Utveckling över tid")
        start = intervention
        if start is None and len(table) and compare.AFTER_PERIOD in table:
            start = Period.parse(str(table[compare.AFTER_PERIOD].iloc[0])).start
        if start is None and after is not None:
            start = after.start
        png = trend_chart_png(series, intervention=start)
        doc.image(
            png,
            width_mm=190,
            caption="Antal händelser per period och zon; streckad linje: insatserna börjar; "
            "ofyllda punkter: period med bara delvis data.",
        )

    doc.heading("Så läser du måtten")
    for heading, text in GUIDE:
        doc.paragraph(f"{heading}. {text}", small=True)
    return doc.build(path)


# --- change map ------------------------------------------------------------------------------

#: Diverging colours of the change map: fewer (blue) … unchanged (white) … more (red).
CHANGE_COLOURS = ("#2166ac", "#f7f7f7", "#b2182b")
SUPPRESSED_COLOUR = "#9e9e9e"


def change_map(
    cells: pd.DataFrame,
    areas: pd.DataFrame,
    *,
    zones: pd.DataFrame | None = None,
    buffer_m: float = compare.DEFAULT_BUFFER_M,
    tiles: str | None = None,
):
    """A folium map of the change per grid cell, diverging colours, small counts suppressed.

    Cells whose counts are both below 5 are grey with the counts shown as "<5"; empty cells
    are not drawn. The colour scale is symmetric around zero, out to the largest shown
    change. Zones are outlined, their buffer rings dashed.

    Parameters
    ----------
    cells : GeoDataFrame
        From :func:`geo.compare.change_grid`.
    areas : GeoDataFrame
        Boundaries for the background (``geo.maps.base_map``).
    zones : GeoDataFrame, optional
    buffer_m : float, default 250
        Width of the drawn buffer rings.
    tiles : str, optional
        As in ``geo.maps.base_map``.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6590000, 660200, 6590100)], crs="EPSG:3006")
    >>> cells = gpd.GeoDataFrame({"before_count": [9, 2], "after_count": [3, 1],
    ...     "diff_per_30d": [-0.5, float("nan")], "suppressed": [False, True],
    ...     "before_label": ["9", "<5"], "after_label": ["<5", "<5"]},
    ...     geometry=[box(660000, 6590000, 660100, 6590100),
    ...     box(660100, 6590000, 660200, 6590100)], crs="EPSG:3006")
    >>> html = change_map(cells, areas).get_root().render()
    >>> "#2166ac" in html, "F\\\\u00e4rre \\\\u00e4n 5" in html  # JSON-escaped
    (True, True)
    """
    import html as html_lib

    import folium
    from branca.colormap import LinearColormap

    from geo import maps

    m = maps.base_map(areas, tiles=tiles)
    drawn = cells[(cells[compare.BEFORE_COUNT] + cells[compare.AFTER_COUNT]) > 0]
    shown = drawn[~drawn[compare.SUPPRESSED].astype(bool)]
    limit = float(shown[compare.DIFF_RATE].abs().max()) if len(shown) else 0.0
    limit = limit if limit > 0 else 1.0
    scale = LinearColormap(list(CHANGE_COLOURS), vmin=-limit, vmax=limit)
    colours, tips = [], []
    for rec in drawn.to_dict("records"):
        if rec[compare.SUPPRESSED]:
            colours.append(SUPPRESSED_COLOUR)
            tips.append("Färre än 5 händelser i båda perioderna (dolt)")
            continue
        colours.append(scale(rec[compare.DIFF_RATE]))
        tips.append(
            f"Före: {html_lib.escape(str(rec[compare.BEFORE_LABEL]))} · "
            f"Efter: {html_lib.escape(str(rec[compare.AFTER_LABEL]))}<br>"
            f"Förändring per 30 dagar: {_number(rec[compare.DIFF_RATE])}"
        )
    group = folium.FeatureGroup(name="Förändring per ruta")
    if len(drawn):
        maps.coloured_cells(drawn.geometry, colours, tips, weight=0.4, fill_opacity=0.7).add_to(
            group
        )
    group.add_to(m)
    legend = [
        ("box", CHANGE_COLOURS[0], f"Minskning ({_number(-limit, 1)} per 30 d)"),
        ("box", CHANGE_COLOURS[1], "Oförändrat"),
        ("box", CHANGE_COLOURS[2], f"Ökning (+{_number(limit, 1)} per 30 d)"),
        ("box", SUPPRESSED_COLOUR, "Färre än 5 båda perioderna"),
    ]
    legend += _outline_zones(m, zones, buffer_m)
    m.lagesbild_legend = getattr(m, "lagesbild_legend", []) + [("Förändring", legend)]
    return maps.finish_map(m)


# --- before and after maps, side by side --------------------------------------------------

#: Sequential colours (fewest … most incidents per 30 days) shared by both period maps.
PERIOD_COLOURS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")


def period_classes(cells: pd.DataFrame) -> tuple[list[float], list[str]]:
    """Class limits (per 30 days) over **both** periods, and their legend labels.

    Cells with fewer than 5 incidents in a period are left out of the scale (they are grey
    and say "färre än 5"). Five equal classes from 0 to the highest shown rate.

    Examples
    --------
    >>> c = pd.DataFrame({"before_count": [10, 3], "after_count": [5, 0],
    ...     "before_rate_30d": [2.0, 0.6], "after_rate_30d": [1.0, 0.0]})
    >>> period_classes(c)
    ([0.4, 0.8, 1.2, 1.6, 2.0], ['0,0–0,4', '0,4–0,8', '0,8–1,2', '1,2–1,6', '1,6–2,0'])
    """
    shown = []
    for count, rate in ((compare.BEFORE_COUNT, compare.BEFORE_RATE),
                        (compare.AFTER_COUNT, compare.AFTER_RATE)):  # fmt: skip
        keep = cells[count] >= schema.SUPPRESS_BELOW
        shown.append(cells.loc[keep, rate])
    top = float(pd.concat(shown).max()) if sum(len(x) for x in shown) else 0.0
    top = top if top > 0 else 1.0
    limits = [top * (i + 1) / len(PERIOD_COLOURS) for i in range(len(PERIOD_COLOURS))]
    lows = [0.0, *limits[:-1]]
    labels = [f"{_number(lo, 1)}–{_number(hi, 1)}" for lo, hi in zip(lows, limits, strict=True)]
    return limits, labels


def _period_colour(rate: float, limits: list[float]) -> str:
    for limit, colour in zip(limits, PERIOD_COLOURS, strict=True):
        if rate <= limit + 1e-12:
            return colour
    return PERIOD_COLOURS[-1]


def _period_cells(cells: pd.DataFrame, side: str, limits: list[float]):
    """(frame of drawn cells, colours, tips) for one period ("before" or "after")."""
    count = compare.BEFORE_COUNT if side == "before" else compare.AFTER_COUNT
    rate = compare.BEFORE_RATE if side == "before" else compare.AFTER_RATE
    drawn = cells[cells[count] > 0]
    colours, tips = [], []
    for rec in drawn.to_dict("records"):
        if rec[count] < schema.SUPPRESS_BELOW:
            colours.append(SUPPRESSED_COLOUR)
            tips.append("Färre än 5 händelser i perioden")
        else:
            colours.append(_period_colour(rec[rate], limits))
            n = int(rec[count])
            tips.append(
                f"{n} {'händelse' if n == 1 else 'händelser'} · {_number(rec[rate])} per 30 dagar"
            )
    return drawn, colours, tips


def period_maps(
    cells: pd.DataFrame,
    areas: pd.DataFrame,
    *,
    zones: pd.DataFrame | None = None,
    buffer_m: float = compare.DEFAULT_BUFFER_M,
    tiles: str | None = None,
    labels: tuple[str, str] = ("Före", "Efter"),
):
    """The before (left) and after (right) maps side by side, panning and zooming together.

    Both halves colour the grid cells of :func:`geo.compare.change_grid` by incidents per
    30 days on one shared scale (:func:`period_classes`), so a cell that looks the same
    had the same rate. Cells with 1–4 incidents in a period are grey ("färre än 5");
    empty cells are not drawn. Zones are outlined and their rings dashed on both halves.
    Built with ``folium.plugins.DualMap`` (its Leaflet.Sync script is served offline by
    ``geo.assets`` like every other map asset).

    Returns
    -------
    folium.plugins.DualMap

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(660000, 6590000, 660200, 6590100)], crs="EPSG:3006")
    >>> cells = gpd.GeoDataFrame({"before_count": [9, 2], "after_count": [3, 6],
    ...     "before_rate_30d": [0.9, 0.2], "after_rate_30d": [0.3, 0.6]},
    ...     geometry=[box(660000, 6590000, 660100, 6590100),
    ...     box(660100, 6590000, 660200, 6590100)], crs="EPSG:3006")
    >>> page = period_maps(cells, areas).get_root().render()
    >>> "0,90 per 30 dagar" in page, "0,60 per 30 dagar" in page, ".sync(" in page
    (True, True, True)
    """
    import folium

    from geo import maps

    dual = maps.dual_map(areas, tiles=tiles, focus=zones)
    limits, class_labels = period_classes(cells)
    legend = [
        ("box", c, f"{t} per 30 d") for c, t in zip(PERIOD_COLOURS, class_labels, strict=True)
    ]
    legend.append(("box", SUPPRESSED_COLOUR, "Färre än 5"))
    for m, side, label in ((dual.m1, "before", labels[0]), (dual.m2, "after", labels[1])):
        drawn, colours, tips = _period_cells(cells, side, limits)
        group = folium.FeatureGroup(name=f"Händelser per ruta, {label.lower()}")
        if len(drawn):
            maps.coloured_cells(
                drawn.geometry, colours, tips, weight=0.4, fill_opacity=0.75
            ).add_to(group)
        group.add_to(m)
        zone_legend = _outline_zones(m, zones, buffer_m)
        if side == "before":  # one scale for both: the full legend only once, on the right
            m.lagesbild_legend = [(label, [])]
        else:
            m.lagesbild_legend = [(label, legend + zone_legend)]
        maps.finish_map(m)
    return dual


def _outline_zones(m, zones: pd.DataFrame | None, buffer_m: float) -> list:
    """Zones outlined and their rings dashed on ``m``; the legend entry (empty without zones)."""
    import html as html_lib

    import folium
    import geopandas as gpd

    if zones is None or not len(zones):
        return []
    zone_frame = compare.prepare_zones(zones)
    rings = compare.buffer_rings(zone_frame, buffer_m=buffer_m)
    for frame, name, dash in ((zone_frame, "Zoner", None), (rings, "Närområden", "6 4")):
        display = gpd.GeoDataFrame(
            {"tip": [html_lib.escape(str(n)) for n in frame[schema.NAME]]},
            geometry=frame.geometry.to_numpy(),
            crs=frame.crs,
        ).to_crs(schema.CRS_WGS84)
        folium.GeoJson(
            display.to_json(drop_id=True),
            name=name,
            style_function=lambda f, dash=dash: {
                "color": "#111111",
                "weight": 2 if dash is None else 1.5,
                "fill": False,
                "dashArray": dash,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(m)
    return [("line", "#111111", "Zon (streckad: närområde)")]


def period_maps_png(
    cells: pd.DataFrame,
    areas: pd.DataFrame,
    *,
    zones: pd.DataFrame | None = None,
    labels: tuple[str, str] = ("Före", "Efter"),
    width_mm: float = 260.0,
    height_mm: float = 110.0,
) -> bytes:
    """The two period maps side by side as one PNG (offline, for the PDF).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["a"], "area_name": ["A"]},
    ...     geometry=[box(0, 0, 200, 100)], crs="EPSG:3006")
    >>> cells = gpd.GeoDataFrame({"before_count": [9], "after_count": [3],
    ...     "before_rate_30d": [0.9], "after_rate_30d": [0.3]},
    ...     geometry=[box(0, 0, 100, 100)], crs="EPSG:3006")
    >>> period_maps_png(cells, areas, width_mm=80, height_mm=40)[:4]
    b'\\x89PNG'
    """
    import geopandas as gpd
    from PIL import Image

    from geo.pdf import MapLayer, render_map

    limits, class_labels = period_classes(cells)
    focus = zones if zones is not None and len(zones) else None
    images = []
    for side, label in (("before", labels[0]), ("after", labels[1])):
        drawn, colours, _ = _period_cells(cells, side, limits)
        frame = gpd.GeoDataFrame({"colour": colours}, geometry=drawn.geometry.to_numpy(),
                                 crs=cells.crs)  # fmt: skip
        layers = [MapLayer(areas, kind="boundary", edgecolor="#1f4e79")]
        for colour, text in [*zip(PERIOD_COLOURS, class_labels, strict=True),
                             (SUPPRESSED_COLOUR, "färre än 5")]:  # fmt: skip
            part = frame[frame["colour"] == colour]
            unit = " per 30 d" if colour != SUPPRESSED_COLOUR else ""
            layers.append(MapLayer(part, facecolor=colour, edgecolor=colour, alpha=0.85,
                                   linewidth=0.2, legend=f"{text}{unit}"))  # fmt: skip
        if focus is not None:
            layers.append(MapLayer(compare.prepare_zones(focus), kind="boundary",
                                   edgecolor="#111111", linewidth=1.5))  # fmt: skip
        png = render_map(layers, width_mm=width_mm / 2, height_mm=height_mm, dpi=170,
                         title=label, focus=focus)  # fmt: skip
        images.append(Image.open(io.BytesIO(png)).convert("RGB"))
    width = sum(i.width for i in images)
    height = max(i.height for i in images)
    sheet = Image.new("RGB", (width, height), "white")
    x = 0
    for image in images:
        sheet.paste(image, (x, 0))
        x += image.width
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()
