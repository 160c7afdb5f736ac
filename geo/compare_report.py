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
    return text.replace("-", "−")


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


def _with_periods(table: pd.DataFrame, before: Period, after: Period) -> pd.DataFrame:
    out = table.copy()
    out.insert(0, "after_period", str(after))
    out.insert(0, "before_period", str(before))
    out[compare.WARNINGS] = [
        " | ".join(w) if isinstance(w, list | tuple) else ("" if pd.isna(w) else str(w))
        for w in table[compare.WARNINGS]
    ]
    return out


def comparison_csv(
    table: pd.DataFrame,
    *,
    before: Period,
    after: Period,
    path: str | os.PathLike | None = None,
) -> bytes:
    """The full comparison as CSV (UTF-8 with BOM so spreadsheets show å ä ö).

    Headers are the Swedish labels of :data:`geo.compare.COLUMN_LABELS_SV`, after two
    columns with the periods; warnings are joined by " | ". Numbers keep full precision with
    a decimal point, for further analysis.

    Parameters
    ----------
    table : DataFrame
        From :func:`geo.compare.compare_zones`.
    before, after : Period
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
    >>> text = comparison_csv(compare.compare_zones(inc, z, before=b, after=a),
    ...     before=b, after=a).decode("utf-8-sig")
    >>> text.splitlines()[0].split(",")[:4]
    ['Före-period', 'Efter-period', 'Zon-id', 'Namn']
    """
    labels = {"before_period": "Före-period", "after_period": "Efter-period"}
    labels.update(compare.COLUMN_LABELS_SV)
    data = safecsv.to_csv_bytes(_with_periods(table, before, after), labels=labels)
    if path is not None:
        write_atomic(path, data)
    return data


def comparison_records(table: pd.DataFrame, *, before: Period, after: Period) -> list[dict]:
    """The comparison as JSON-ready dicts: English keys, ``None`` for undefined numbers.

    Infinite values (an unbounded interval) also become ``None``; the ``wdq_note`` says why
    a WDQ is missing.

    Examples
    --------
    >>> t = pd.DataFrame([{"zone_id": "a", "wdq": float("nan"), "rr_ci_high": float("inf"),
    ...     "before_count": 3, "warnings": ["x"]}])
    >>> b, a = compare.promise_year_presets(date(2018, 1, 1))
    >>> comparison_records(t, before=b, after=a)[0]["rr_ci_high"] is None
    True
    """
    records = []
    for rec in table.to_dict("records"):
        clean: dict[str, Any] = {
            "before_period": str(before),
            "after_period": str(after),
        }
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
        ax.plot(part[compare.PERIOD_START], part[schema.COUNT], marker=".", label=str(name))
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
    """Every warning once, prefixed with its zone's name (the regression warning stands alone).

    Examples
    --------
    >>> t = pd.DataFrame({"name": ["A", "B"], "warnings": [["För få", "Regression x"],
    ...     ["Regression x"]]})
    >>> warning_lines(t)
    ['A: För få', 'Regression x']
    """
    lines: list[str] = []
    for rec in table.to_dict("records"):
        for warning in rec.get(compare.WARNINGS) or []:
            line = warning if warning.startswith("Regression") else f"{rec[schema.NAME]}: {warning}"
            if line not in lines:
                lines.append(line)
    return lines


_METHOD_TEXT = (
    "Antalet händelser räknas per zon i före- och efterperioden och räknas om till antal per "
    "30 dagar, så att perioder av olika längd kan jämföras. Kvoten efter/före testas med ett "
    "exakt binomialtest (givet det totala antalet); intervallet är ett 95 % konfidensintervall "
    "(Clopper–Pearson). Närområdet är en ring runt zonen; kontrollområdet är resten av "
    "området, utan zoner och ringar, om inget eget kontrollområde har angetts. "
    "WDQ (Bowers & Johnson 2003) jämför förändringen i närområdet med förändringen i zonen, "
    "båda i förhållande till kontrollområdet: negativ WDQ betyder förskjutning till "
    "närområdet, positiv betyder spridning av positiva effekter. WDD (Wheeler & Ratcliffe "
    "2018) är skillnaden i förändring mellan zon och kontroll plus närområdets förändring, "
    "med medelfel; negativ WDD betyder en minskning utöver den allmänna utvecklingen."
)


def comparison_pdf(
    table: pd.DataFrame,
    *,
    before: Period,
    after: Period,
    series: pd.DataFrame | None = None,
    intervention: date | None = None,
    title: str = "Före/efter-utvärdering",
    area_label: str | None = None,
    parameters: Mapping[str, object] | None = None,
    author: str | None = None,
    report_date: date | None = None,
    path: str | os.PathLike | None = None,
) -> bytes:
    """The comparison as a Swedish PDF report marked "INTERN / BEGRÄNSAD".

    Contents: title, periods and parameters, the figures per zone and area, the verdict and
    WDQ comment per zone, every warning (regression to the mean, small counts, control
    trend), the trend chart with the intervention date, and a short method note.

    Parameters
    ----------
    table : DataFrame
        From :func:`geo.compare.compare_zones`.
    before, after : Period
    series : DataFrame, optional
        From :func:`geo.compare.trend`; adds the trend chart.
    intervention : datetime.date, optional
        Marked on the chart; default ``after.start``.
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
    ...     "verdict": "ingen säker förändring", "warnings": ["För få händelser"]}
    >>> b, a = compare.promise_year_presets(date(2018, 1, 1))
    >>> comparison_pdf(pd.DataFrame([row]), before=b, after=a)[:5]
    b'%PDF-'
    """
    doc = Briefing(
        title,
        subtitle=area_label,
        date=report_date,
        author=author,
        subject="Före/efter-utvärdering",
        keywords=[f"före={before}", f"efter={after}"]
        + [f"{k}={v}" for k, v in (parameters or {}).items()],
        landscape=True,
    )
    doc.heading("Perioder och val")
    pairs: list[tuple[str, object]] = [
        ("Före", f"{before.start} – {before.end} ({before.days} dagar)"),
        ("Efter", f"{after.start} – {after.end} ({after.days} dagar)"),
    ]
    pairs += [(str(k), str(v)) for k, v in (parameters or {}).items()]
    doc.key_values(pairs)

    doc.heading("Resultat per zon och område")
    doc.table(summary_table(table), font_size=7.5)
    doc.paragraph(
        "Kvot = antal per dag efter delat med antal per dag före. p = exakt test av kvoten. "
        "WDQ och WDD mäter förskjutning till närområdet (se Metod).",
        small=True,
    )

    doc.heading("Bedömningar")
    for rec in table.to_dict("records"):
        text = f"{rec[schema.NAME]}: {rec[compare.VERDICT]}."
        note = rec.get(compare.WDQ_NOTE)
        if isinstance(note, str) and note:
            text += f" {note}"
        doc.paragraph(text)

    warnings = warning_lines(table)
    doc.heading("Varningar")
    doc.paragraph("\n".join(f"• {w}" for w in warnings) if warnings else "Inga varningar.")

    if series is not None and len(series):
        doc.heading("Utveckling över tid")
        png = trend_chart_png(
            series,
            intervention=intervention if intervention is not None else after.start,
        )
        doc.image(
            png,
            width_mm=190,
            caption="Antal händelser per period och zon; streckad linje: insatserna börjar.",
        )

    doc.heading("Metod")
    doc.paragraph(_METHOD_TEXT, small=True)
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
    import geopandas as gpd
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
    if zones is not None and len(zones):
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
        legend += [("line", "#111111", "Zon (streckad: närområde)")]
    m.lagesbild_legend = getattr(m, "lagesbild_legend", []) + [("Förändring", legend)]
    return maps.finish_map(m)
