"""geo.report_public: the residents' report shows aggregates only, escaped, with <5."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box

from geo import promises as pr
from geo import report_public as rp
from geo.store import AuditEntry

pytest_plugins = ("dbfixtures",)

XSS = "<script>alert('x')</script>"
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


def test_html_is_escaped_aggregated_and_suppressed(setup):
    store, pid, areas, incidents = setup
    page = rp.export_report(store, pid, fmt="html", actor="anna", areas=areas,
                            incidents=incidents, as_of=dt.date(2018, 12, 31)).decode()  # fmt: skip
    assert XSS not in page and "<script" not in page.lower()
    assert "&lt;script&gt;" in page  # the promise's own title and text are escaped, not lost
    assert SECRET not in page  # activity notes are internal
    assert "alert(&#x27;x&#x27;)</td>" not in page  # the place name never appears as a cell
    assert "http://" not in page and "https://" not in page and "<link" not in page
    cells = _count_cells(page)
    # every count cell is "<5", "–" or a number >= 5 (or a change in per cent)
    for cell in cells:
        value = cell.replace("&lt;", "<")
        if value.endswith("%") or value in ("<5", "–"):
            continue
        assert int(value) >= 5, cell
    # rån 12 → 7 shown; stöld 0 → 3 both "<5"; total 12 → 10; March's 2 walks are "<5"
    assert re.search(r"<td>rån</td><td class=\"n\">12</td><td class=\"n\">7</td>", page)
    assert re.search(r"<td>stöld</td><td class=\"n\">&lt;5</td><td class=\"n\">&lt;5</td>"
                     r"<td class=\"n\">–</td>", page)  # fmt: skip
    assert re.search(r"<td>mars 2018</td><td class=\"n\">&lt;5</td>", page)
    assert "40" not in cells and "52" not in cells  # incidents outside the area not counted


def test_pdf_has_the_same_privacy(setup):
    store, pid, areas, incidents = setup
    data = rp.export_report(store, pid, fmt="pdf", actor="anna", areas=areas,
                            incidents=incidents, as_of=dt.date(2018, 12, 31))  # fmt: skip
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
