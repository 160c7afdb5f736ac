"""geo.report_public: the residents' report shows aggregates only, escaped, with <5."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box

from geo import promises as pr
from geo import report_public as rp
from geo.compare import Coverage
from geo.store import AuditEntry

pytest_plugins = ("dbfixtures",)

XSS = "<script>alert('x')</script>"
COVERAGE = Coverage(dt.date(2017, 1, 1), dt.date(2018, 12, 31))  # the data's days
SECRET = "INTERNT-hemlig-uppgift-om-person"


@pytest.fixture
def setup(store):
    areas = gpd.GeoDataFrame(
        {"area_id": ["a"], "area_name": ["Alby"], "level": ["stadsdel"]},
        geometry=[box(600_000, 6_500_000, 601_000, 6_501_000)], crs="EPSG:3006",
    )  # fmt: skip
    pid = pr.create_promise(
        store, title=f"Löfte {XSS}", period_start=dt.date(2018, 1, 1),
        period_end=dt.date(2018, 12, 31), created_by="anna", area_ids=["a"],
        text=f"Vi lovar {XSS}",
        targets=[pr.TargetSpec("count", "Minst tre nattvandringar", "nattvandring", 3)],
    )  # fmt: skip
    lon, lat = gpd.GeoSeries([Point(600_500, 6_500_500)], crs=3006).to_crs(4326).iloc[0].coords[0]
    for day in ("2018-03-02", "2018-03-09"):  # 2 in March → "<5"
        pr.add_activity(store, created_by="anna", activity_type="nattvandring",
                        starts_at=f"{day} 21:00", lon=lon, lat=lat, promise_id=pid,
                        notes=SECRET, place_name=XSS)  # fmt: skip
    # Incidents inside the area: 12 rån before (2017), 7 after (2018); 3 stöld after only;
    # 40 rån outside the area (must not be counted).
    times = (["2017-05-01 12:00"] * 12 + ["2018-05-01 12:00"] * 7 + ["2018-06-01 12:00"] * 3
             + ["2017-05-01 12:00"] * 40)  # fmt: skip
    cats = ["rån"] * 19 + ["stöld"] * 3 + ["rån"] * 40
    pts = [Point(600_500, 6_500_500)] * 22 + [Point(700_000, 6_600_000)] * 40
    incidents = gpd.GeoDataFrame(
        {"occurred_at": pd.to_datetime(times).tz_localize("Europe/Stockholm"), "category": cats},
        geometry=pts, crs="EPSG:3006",
    )  # fmt: skip
    return store, pid, areas, incidents


def _count_cells(page: str) -> list[str]:
    return re.findall(r'<td class="n">([^<]*)</td>', page)


def _tables(page: str) -> list[list[list[str]]]:
    """Every HTML table of the page as rows of cell texts (header row included)."""
    out = []
    for table in re.findall(r"<table>(.*?)</table>", page, flags=re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
        out.append([[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", r)]
                    for r in rows])  # fmt: skip
    return out


def _incident_table(page: str) -> list[list[str]]:
    return next(t for t in _tables(page) if t[0][0] == "Brottskategori")


def test_html_is_escaped_aggregated_and_suppressed(setup):
    store, pid, areas, incidents = setup
    page = rp.export_report(store, pid, fmt="html", actor="anna", areas=areas,
                            incidents=incidents, as_of=dt.date(2018, 12, 31), coverage=COVERAGE).decode()  # fmt: skip
    assert XSS not in page and "<script" not in page.lower()
    assert "&lt;script&gt;" in page  # the promise's own title and text are escaped, not lost
    assert SECRET not in page  # activity notes are internal
    assert "alert(&#x27;x&#x27;)</td>" not in page  # the place name never appears as a cell
    assert "http://" not in page and "https://" not in page and "<link" not in page
    # Activities are public: March's 2 nattvandringar are shown as 2, not "<5".
    assert re.search(r"<td>mars 2018</td><td class=\"n\">2</td>", page)
    # Incidents: rån 12 → 7, stöld 0 → 3, counted per whole month. Before: stöld 0 alone
    # would be Totalt − rån, so rån is hidden with it ("dolt": one of them is 5 or more).
    # After: the report for May showed Totalt 7 (rån); December's Totalt 10 would give
    # June's 3 stöld by subtraction, so it is hidden, and rån 7 can be shown.
    assert _incident_table(page) == [
        ["Brottskategori", "Året innan", "Under löftet", "Förändring"],
        ["rån", "dolt", "7", "–"],
        ["stöld", "dolt", "dolt", "–"],
        ["Totalt", "12", "dolt", "–"],
    ]
    may = rp.export_report(
        store,
        pid,
        fmt="html",
        actor="anna",
        areas=areas,
        incidents=incidents,
        as_of=dt.date(2018, 5, 31),
        coverage=COVERAGE,
    )
    assert _incident_table(may.decode())[-1] == ["Totalt", "12", "7", "−42 %"]  # fmt: skip
    assert "minskat" not in page or "17 procent" in page  # the text's % is the table's
    assert "40" not in _count_cells(page) and "52" not in _count_cells(page)  # outside the area


def test_activity_counts_under_5_are_numbers_and_text_totals_equal_tables(setup):
    store, pid, areas, incidents = setup
    page = rp.export_report(store, pid, fmt="html", actor="anna", areas=areas,
                            incidents=incidents, as_of=dt.date(2018, 12, 31), coverage=COVERAGE).decode()  # fmt: skip
    targets = next(t for t in _tables(page) if t[0][0] == "Vi lovade")
    monthly = next(t for t in _tables(page) if t[0][0] == "Månad")
    whole = dict(zip(monthly[0][1:], monthly[-1][1:], strict=True))  # "Hela perioden"
    assert monthly[-1][0] == "Hela perioden" and whole == {"nattvandring": "2"}
    # 2 walks against "minst 3": the number in the text is the table's total
    assert targets[1][2] == "2 genomförda (målet är minst 3)"
    monthly_sum = sum(int(r[1]) for r in monthly[1:-1])
    assert monthly_sum == int(whole["nattvandring"])


def _report_rows(report):
    return {row[0]: row[1:3] for row in report.change}


def test_suppression_holds_against_subtraction_within_and_between_reports(setup):
    store, pid, areas, _ = setup
    # Incidents that a naive report would give away: small counts on single days, both years.
    rng = np.random.default_rng(7)
    days = pd.date_range("2017-01-01", "2018-12-31", freq="D")
    rows = []
    for day in days:
        for cat, rate in (("våld på offentlig plats", 1.2), ("rån", 0.05), ("stöld", 0.3),
                          ("inbrott", 0.02)):  # fmt: skip
            rows += [(day + pd.Timedelta(hours=14), cat)] * int(rng.poisson(rate))
    incidents = gpd.GeoDataFrame(
        {"occurred_at": pd.DatetimeIndex([t for t, _ in rows]).tz_localize("Europe/Stockholm"),
         "category": [c for _, c in rows]},
        geometry=[Point(600_500, 6_500_500)] * len(rows), crs="EPSG:3006",
    )  # fmt: skip
    reports = {}
    for as_of in pd.date_range("2018-01-01", "2018-12-31", freq="D").date:
        status = pr.promise_status(store, pid, areas=areas, as_of=as_of)
        reports[as_of] = rp.build_report(status, incidents)
    # 1. No day-by-day slicing: within a month every day's report gives the same table.
    for as_of, report in reports.items():
        month_start = as_of.replace(day=1)
        assert report.change == reports[month_start].change or as_of.day == 1 or (
            as_of + dt.timedelta(days=1)).month != as_of.month  # fmt: skip
    distinct = list(dict.fromkeys(r.change for r in reports.values() if r.change))
    assert 10 <= len(distinct) <= 12  # one table per whole month (January's still empty)
    # 2. Totalt minus the shown categories never gives back one hidden count.
    recovered = []
    for change in distinct:
        body = {row[0]: row[1:3] for row in change}
        for col in (0, 1):
            total = body["Totalt"][col]
            if not total.isdigit():
                continue
            hidden = [c for c, v in body.items() if c != "Totalt" and not v[col].isdigit()]
            shown = sum(int(v[col]) for c, v in body.items() if c != "Totalt" and v[col].isdigit())
            if len(hidden) == 1:
                recovered.append((hidden[0], int(total) - shown))
            if hidden:
                assert int(total) - shown >= 5  # the hidden ones together are not small
    assert recovered == []
    # 3. Two reports subtracted never give a small count (1–4) for a shown cell.
    for i, earlier in enumerate(distinct):
        for later in distinct[i + 1 :]:
            a, b = {r[0]: r[1:3] for r in earlier}, {r[0]: r[1:3] for r in later}
            for cell in set(a) & set(b):
                for col in (0, 1):
                    if a[cell][col].isdigit() and b[cell][col].isdigit():
                        diff = abs(int(b[cell][col]) - int(a[cell][col]))
                        assert diff == 0 or diff >= 5, (cell, col, diff)
    # the common category stays visible: suppression does not blank the report
    assert _report_rows(reports[dt.date(2018, 12, 31)])["våld på offentlig plats"][1].isdigit()


def test_pdf_has_the_same_privacy(setup):
    store, pid, areas, incidents = setup
    data = rp.export_report(store, pid, fmt="pdf", actor="anna", areas=areas,
                            incidents=incidents, as_of=dt.date(2018, 12, 31), coverage=COVERAGE)  # fmt: skip
    assert data[:5] == b"%PDF-"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    assert SECRET not in text
    assert "Följ med i hur det går" in text and "<5" in text
    assert "Offentlig sammanfattning" in text and "INTERN / BEGRÄNSAD" not in text


def test_export_is_audited(setup):
    store, pid, areas, incidents = setup
    rp.export_report(store, pid, fmt="html", actor="bo", areas=areas, incidents=incidents)
    with store.read_session() as s:
        rows = s.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "promise.report_export")
        ).all()
    assert [(r.actor, r.target_id, r.params["format"]) for r in rows] == [("bo", str(pid), "html")]


def test_unknown_format(setup):
    store, pid, *_ = setup
    with pytest.raises(ValueError, match='`fmt` was "docx"'):
        rp.export_report(store, pid, fmt="docx", actor="bo")


@pytest.mark.parametrize(("count", "text"), [(0, "<5"), (4, "<5"), (5, "5"), (17, "17")],
                         ids=["zero", "four", "five", "many"])  # fmt: skip
def test_suppress(count, text):
    assert rp.suppress(count) == text


@pytest.mark.parametrize("as_of", [dt.date(2018, 4, 15), dt.date(2018, 9, 30), dt.date(2018, 12, 31)],
                         ids=["april", "september", "year-end"])  # fmt: skip
def test_demo_reports_text_totals_equal_their_tables(store, as_of):
    from geo import demo, io

    paths = demo.demo_paths()
    if not paths["areas"].is_file():
        pytest.skip("demo data not generated")
    areas = io.load_boundaries(paths["areas"]).frame
    pr.seed_demo_promises(store, areas=areas)
    for pid in pr.promises_frame(store)["id"]:
        status = pr.promise_status(store, int(pid), areas=areas, as_of=as_of)
        report = rp.build_report(status, None)
        whole = report.monthly.sum()
        for row, (_, _, result) in zip(status.progress.to_dict("records"), report.targets,
                                       strict=True):  # fmt: skip
            if row["kind"] != "count":
                continue
            # "Målet (minst 4) är nått: 4 genomförda" / "99 genomförda, varav 98 räknas (…)"
            numbers = re.findall(r"(\d+) genomförda", result)
            assert numbers == [str(int(whole.get(row["activity_type"], 0)))], result
            if row["done"] != row["logged"]:
                assert f"varav {row['done']} räknas" in result
            assert "<5" not in result  # activities are public: never suppressed
