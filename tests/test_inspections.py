"""geo.inspections on SQLite and PostgreSQL: workflow, locking, validation, layer, exports."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from PIL import Image
from shapely.geometry import Point, box

from geo.errors import ConflictError, InputError
from geo.inspections import (
    DEMO_ROUND,
    MAX_PHOTO_BYTES,
    add_photo,
    create_issue,
    create_round,
    escape_text,
    export_csv,
    export_geojson,
    export_pdf,
    flag_near_hotspots,
    import_issues,
    issue_history,
    issues_frame,
    issues_layer,
    latest_photo,
    lonlat_to_sweref,
    pdfs_per_responsible,
    rounds_frame,
    seed_demo,
    set_status,
    update_issue,
    validate_photo,
)
from geo.store import AuditEntry, InspectionIssue, IssueHistory, IssuePhoto

pytest_plugins = ("dbfixtures",)  # the db_url and store fixtures

CENTRE = (17.8336, 59.4236)  # Jakobsbergs station
XSS = "<script>alert('x')</script>"


def png_bytes(size=(4, 3), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, fmt)
    return buf.getvalue()


@pytest.fixture
def round_id(store) -> int:
    x, y = lonlat_to_sweref(*CENTRE)
    return create_round(
        store,
        name="Vårrundan",
        held_on=dt.date(2026, 4, 2),
        area_name="Jakobsbergs station",
        area_id="jakobsberg",
        area=Point(x, y).buffer(500),
        organisations=["kommun", "SL"],
        created_by="anna",
    )


def mark(store, rid, **kw) -> int:
    values = dict(
        round_id=rid,
        lon=CENTRE[0],
        lat=CENTRE[1],
        category="belysning",
        severity=3,
        responsible="kommun",
        marked_by="anna",
        description="Mörk gångtunnel",
    )
    return create_issue(store, **{**values, **kw})


def count(store, model) -> int:
    with store.read_session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


# --- create and validate ------------------------------------------------------------------
def test_create_stores_sweref_and_history(store, round_id):
    iid = mark(store, round_id, photo=png_bytes(), photo_name="tunnel.png")
    frame = issues_frame(store)
    row = frame.iloc[0]
    x, y = lonlat_to_sweref(*CENTRE)
    np.testing.assert_allclose([row.geometry.x, row.geometry.y], [x, y])
    assert (row["id"], row["status"], row["version"], row["has_photo"]) == (iid, "ny", 1, True)
    assert (row["round_name"], row["area_id"]) == ("Vårrundan", "jakobsberg")
    hist = issue_history(store, iid)
    assert hist[["action", "changed_by", "to_status"]].values.tolist() == [
        ["created", "anna", "ny"]
    ]
    data, ctype, name = latest_photo(store, iid)
    assert (data, ctype, name) == (png_bytes(), "image/png", "tunnel.png")


def _too_big() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_PHOTO_BYTES


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"category": ""}, "Välj en kategori"),
        ({"category": "buskar"}, 'Kategorin "buskar" finns inte'),
        ({"severity": 7}, "Allvarlighetsgraden"),
        ({"responsible": "  "}, "Ange ansvarig part"),
        # ~0.01° lon at 59.4° N is ~570 m east of the centre: outside the 500 m area.
        ({"lon": CENTRE[0] + 0.01}, "utanför rundans område"),
        ({"lon": 59.42, "lat": 17.83}, "bytt plats"),
        ({"photo": b"GIF89a" + b"\0" * 20}, "ingen bild i formatet"),
        ({"photo": b"<html>hello</html>"}, "ingen bild i formatet"),
        ({"photo": png_bytes()[:30]}, "skadad"),
        ({"photo": _too_big()}, "för stor"),
        ({"round_id": 999}, "Besiktningsrundan 999 finns inte"),
    ],
    ids=[
        "no-category",
        "unknown-category",
        "severity",
        "no-responsible",
        "outside-area",
        "swapped",
        "gif",
        "html",
        "truncated-png",
        "oversized",
        "no-round",
    ],
)
def test_bad_input_stores_nothing(store, round_id, kw, match):
    with pytest.raises(InputError, match=match):
        mark(store, round_id, **kw)
    assert count(store, InspectionIssue) == 0
    assert count(store, IssueHistory) == 0
    assert count(store, IssuePhoto) == 0


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"], ids=["jpeg", "png", "webp"])
def test_photo_formats_accepted(fmt):
    assert validate_photo(png_bytes(fmt=fmt)) == f"image/{fmt.lower()}"


def test_photo_renamed_gif_refused():
    buf = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buf, "GIF")
    with pytest.raises(InputError, match="ingen bild i formatet JPEG, PNG eller WebP"):
        validate_photo(buf.getvalue())


# --- edit, status, history ----------------------------------------------------------------
def test_status_workflow_with_dates_and_history(store, round_id):
    iid = mark(store, round_id)
    v = set_status(
        store,
        iid,
        "åtgärd beställd",
        expected_version=1,
        editor="bo",
        on=dt.date(2026, 4, 5),
        note="beställt av kommunen",
    )
    v = set_status(
        store, iid, "åtgärdad", expected_version=v, editor="cia", on=dt.date(2026, 4, 20)
    )
    row = issues_frame(store).iloc[0]
    assert (row["status"], row["ordered_on"], row["fixed_on"], row["version"]) == (
        "åtgärdad",
        dt.date(2026, 4, 5),
        dt.date(2026, 4, 20),
        3,
    )
    hist = issue_history(store, iid)
    assert hist[["changed_by", "from_status", "to_status"]].values.tolist() == [
        ["anna", "", "ny"],
        ["bo", "ny", "åtgärd beställd"],
        ["cia", "åtgärd beställd", "åtgärdad"],
    ]
    assert hist["note"].iloc[1] == "beställt av kommunen"
    assert json.loads(hist["changes"].iloc[2])["fixed_on"] == [None, "2026-04-20"]
    # every change is also in the audit log
    with store.read_session() as s:
        actions = s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["inspection_issue.status", "inspection_issue.status"]


@pytest.mark.parametrize(
    ("moves", "match"),
    [
        ([("ny", None)], "har redan status ny"),
        ([("åtgärdad", dt.date(2026, 4, 1)), ("åtgärd beställd", None)], "kan inte gå från"),
        (
            [("åtgärd beställd", dt.date(2026, 4, 9)), ("åtgärdad", dt.date(2026, 4, 8))],
            "ligger före",
        ),
        ([("klar", None)], 'Status "klar" finns inte'),
    ],
    ids=["same", "backwards", "fixed-before-ordered", "unknown"],
)
def test_bad_status_moves(store, round_id, moves, match):
    iid = mark(store, round_id)
    version = 1
    with pytest.raises(InputError, match=match):
        for status, on in moves:
            version = set_status(store, iid, status, expected_version=version, editor="bo", on=on)
    # the failing move left no trace
    assert len(issue_history(store, iid)) == len(moves)


def test_reopen_clears_dates(store, round_id):
    iid = mark(store, round_id)
    v = set_status(store, iid, "åtgärdad", expected_version=1, editor="bo", on=dt.date(2026, 4, 9))
    set_status(store, iid, "ny", expected_version=v, editor="bo", note="lampan trasig igen")
    row = issues_frame(store).iloc[0]
    assert (row["status"], row["fixed_on"]) == ("ny", None)


def test_edit_records_changed_fields(store, round_id):
    iid = mark(store, round_id)
    v = update_issue(
        store,
        iid,
        expected_version=1,
        editor="bo",
        severity="låg",
        description="Lagad delvis",
        category="belysning",
    )
    assert v == 2  # category unchanged, two fields changed
    changes = json.loads(issue_history(store, iid)["changes"].iloc[-1])
    assert changes == {"severity": [3, 1], "description": ["Mörk gångtunnel", "Lagad delvis"]}
    assert update_issue(store, iid, expected_version=2, editor="bo", severity=1) == 2


def test_move_outside_area_refused(store, round_id):
    iid = mark(store, round_id)
    with pytest.raises(InputError, match="utanför rundans område"):
        update_issue(store, iid, expected_version=1, editor="bo", lon=CENTRE[0] + 0.01)
    assert issues_frame(store).iloc[0]["version"] == 1


def test_add_photo_checks_version(store, round_id):
    iid = mark(store, round_id)
    assert add_photo(store, iid, png_bytes(fmt="JPEG"), expected_version=1, uploaded_by="bo") == 2
    with pytest.raises(ConflictError):
        add_photo(store, iid, png_bytes(), expected_version=1, uploaded_by="cia")
    assert count(store, IssuePhoto) == 1


# --- concurrency --------------------------------------------------------------------------
def test_stale_version_conflicts_with_clear_message(store, round_id):
    iid = mark(store, round_id)
    update_issue(store, iid, expected_version=1, editor="bo", severity=2)
    with pytest.raises(ConflictError, match=r"har ändrats av bo .* version 1, nu gäller version 2"):
        update_issue(store, iid, expected_version=1, editor="cia", description="annat")
    assert issues_frame(store).iloc[0]["description"] == "Mörk gångtunnel"


def test_concurrent_editors_one_wins(store, round_id):
    # Six editors read version 1 and save at once: exactly one wins, five get ConflictError.
    iid = mark(store, round_id)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def edit(n: int) -> None:
        barrier.wait()
        try:
            update_issue(store, iid, expected_version=1, editor=f"e{n}", description=f"d{n}")
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"]
    row = issues_frame(store).iloc[0]
    assert row["version"] == 2
    assert row["description"] == f"d{row['updated_by'][1:]}"  # the winner's text
    assert len(issue_history(store, iid)) == 2


def test_concurrent_writers_lose_no_update(store, round_id):
    # Four writers each append their tag 5 times, re-reading and retrying on conflict:
    # 4 * 5 = 20 tags must all be there (a lost update would drop one).
    iid = mark(store, round_id, description="")

    def writer(tag: str) -> None:
        for _ in range(5):
            while True:
                row = issues_frame(store).iloc[0]
                try:
                    update_issue(
                        store,
                        iid,
                        expected_version=int(row["version"]),
                        editor=tag,
                        description=(row["description"] + " " + tag).strip(),
                    )
                    break
                except ConflictError:
                    continue

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    row = issues_frame(store).iloc[0]
    tags = row["description"].split()
    assert sorted(tags) == sorted([f"w{n}" for n in range(4)] * 5)
    assert row["version"] == 21  # 1 + 20 edits
    assert len(issue_history(store, iid)) == 21


# --- list and filter ----------------------------------------------------------------------
def test_filters(store, round_id):
    other = create_round(
        store,
        name="Höstrundan",
        held_on=dt.date(2026, 10, 1),
        area_name="Barkarby",
        area_id="barkarby",
        created_by="anna",
    )
    a = mark(store, round_id, category="klotter", responsible="SL")
    b = mark(store, round_id, category="belysning", responsible="kommun")
    c = mark(
        store, other, lon=17.869, lat=59.4037, category="klotter", responsible="fastighetsägare"
    )
    set_status(store, b, "åtgärd beställd", expected_version=1, editor="bo")

    def ids(**kw):
        return issues_frame(store, **kw)["id"].tolist()

    assert ids() == [a, b, c]
    assert ids(round_id=other) == [c]
    assert ids(area_id="jakobsberg") == [a, b]
    assert ids(category="klotter") == [a, c]
    assert ids(status=["åtgärd beställd"]) == [b]
    assert ids(responsible=["SL", "fastighetsägare"]) == [a, c]
    assert ids(category="klotter", area_id="barkarby") == [c]
    rounds = rounds_frame(store)
    assert rounds[["name", "issue_count"]].values.tolist() == [["Höstrundan", 1], ["Vårrundan", 2]]


def test_flag_near_hotspots():
    # zone ranks 1 and 9; top_n=5 keeps only rank 1. Points 100 m, 140 m and 160 m east of
    # the rank-1 square; one inside the rank-9 square (ignored).
    zones = gpd.GeoDataFrame(
        {"rank": [1, 9], "name": ["Stationen", "Torget"]},
        geometry=[box(0, 0, 100, 100), box(1000, 0, 1100, 100)],
        crs="EPSG:3006",
    )
    pts = gpd.GeoDataFrame(
        {"id": [1, 2, 3, 4]},
        geometry=[Point(200, 50), Point(240, 50), Point(260, 50), Point(1050, 50)],
        crs="EPSG:3006",
    )
    out = flag_near_hotspots(pts, zones, distance_m=150, top_n=5)
    assert out["near_hotspot"].tolist() == [True, True, False, False]
    assert out["hotspot_name"].tolist() == ["Stationen", "Stationen", None, None]
    np.testing.assert_allclose(out["hotspot_distance_m"], [100, 140, 160, 950])
    assert "near_hotspot" not in pts.columns  # input untouched
    assert not flag_near_hotspots(pts, None)["near_hotspot"].any()
    with pytest.raises(ValueError, match="zones need a 'rank' column"):
        flag_near_hotspots(pts, zones.drop(columns="rank"))


# --- escaping -----------------------------------------------------------------------------
def test_script_in_description_is_text_on_the_map(store, round_id):
    mark(store, round_id, description=XSS + "`${document.cookie}`", responsible="<b>kommun</b>")
    frame = issues_frame(store)
    m = folium.Map(location=[CENTRE[1], CENTRE[0]], tiles=None)
    issues_layer(frame).add_to(m)
    page = m.get_root().render()
    assert XSS not in page
    assert "<b>kommun</b>" not in page
    assert escape_text(XSS) in page
    assert "${document.cookie}" not in page  # no template-literal injection
    # the table shown on the page holds the text as typed (st.dataframe shows text)
    assert frame["description"].iloc[0].startswith(XSS)


def test_layer_colours_and_hotspot_outline():
    frame = gpd.GeoDataFrame(
        {
            "id": [1, 2],
            "category": ["klotter", "belysning"],
            "status": ["ny", "åtgärdad"],
            "severity": [1, 3],
            "near_hotspot": [True, False],
            "hotspot_name": ["Stationen", None],
        },
        geometry=[Point(660760, 6590650), Point(660800, 6590700)],
        crs="EPSG:3006",
    )
    group = issues_layer(frame)
    markers = [c for c in group._children.values() if isinstance(c, folium.CircleMarker)]
    assert [m.options["fillColor"] for m in markers] == ["#d7301f", "#1a9641"]
    assert [m.options["weight"] for m in markers] == [3, 1.5]
    assert [m.options["radius"] for m in markers] == [7, 11]  # 5 + 2 * severity


# --- exports ------------------------------------------------------------------------------
def test_csv_round_trip_through_import(store, round_id, tmp_path):
    mark(store, round_id, description="=cmd|' /C calc'!A0")
    set_status(store, 1, "åtgärd beställd", expected_version=1, editor="bo", on=dt.date(2026, 4, 3))
    path = tmp_path / "issues.csv"
    export_csv(issues_frame(store), path)
    text = path.read_text(encoding="utf-8-sig")
    assert "'=cmd" in text  # defused for spreadsheets
    table = pd.read_csv(path, encoding="utf-8-sig")
    table["round_id"] = round_id
    table.to_csv(path, index=False)
    result = import_issues(store, path, marked_by="bo")
    assert (result.rows, result.loaded, len(result.rejected)) == (1, 1, 0)
    again = issues_frame(store).iloc[1]
    assert again["description"] == "=cmd|' /C calc'!A0"
    assert (again["status"], again["ordered_on"]) == ("åtgärd beställd", dt.date(2026, 4, 3))


def test_geojson_export_is_wgs84(store, round_id, tmp_path):
    mark(store, round_id)
    data = json.loads(export_geojson(issues_frame(store), tmp_path / "i.geojson"))
    lon, lat = data["features"][0]["geometry"]["coordinates"]
    np.testing.assert_allclose([lon, lat], CENTRE, atol=1e-7)
    assert data["features"][0]["properties"]["category"] == "belysning"
    back = import_issues(store, tmp_path / "i.geojson", marked_by="bo", round_id=round_id)
    assert back.loaded == 1


def test_pdf_per_responsible(store, round_id, tmp_path):
    import shutil
    import subprocess

    mark(store, round_id, responsible="SL", description="Klotter <på> väggen & rutan")
    mark(store, round_id, responsible="kommun", description="Mörk tunnel")
    pdfs = pdfs_per_responsible(issues_frame(store))
    assert sorted(pdfs) == ["SL", "kommun"]
    assert all(p.startswith(b"%PDF-") for p in pdfs.values())
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "sl.pdf"
    export_pdf(issues_frame(store), "SL", path)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = " ".join(text.split())  # table cells wrap
    assert "åtgärdslista för SL" in text
    assert "Klotter <på> väggen & rutan" in text
    assert "Mörk tunnel" not in text
    assert "59.42360" in text  # coordinates to ~1 m, not the table's default 2 decimals


def test_pdf_lists_only_open_issues_numbered_as_on_the_map(store, round_id, tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    mark(store, round_id, responsible="SL", description="Trasig lampa", severity=1)
    mark(store, round_id, responsible="SL", description="Klotter på skärmen", severity=3)
    mark(store, round_id, responsible="SL", description="Redan lagad bänk")
    set_status(store, 3, "åtgärdad", expected_version=1, editor="bo", on=dt.date(2026, 4, 3))
    path = tmp_path / "sl.pdf"
    export_pdf(issues_frame(store), "SL", path)
    text = " ".join(
        subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                       check=True).stdout.split()
    )  # fmt: skip
    assert "2 öppna ärenden" in text
    assert "Redan lagad bänk" not in text  # fixed: counted, not listed
    assert "1 ärende för SL är redan åtgärdade" in text
    # numbered most severe first: 1 is the graffiti (severity 3, issue 2), 2 the lamp (issue 1)
    assert text.index("Klotter på skärmen") < text.index("Trasig lampa")
    assert "hög" in text and "låg" in text  # severity in words


def test_csv_has_swedish_headings_and_severity_in_words(store, round_id):
    mark(store, round_id, severity=3)
    lines = export_csv(issues_frame(store)).decode("utf-8-sig").splitlines()
    head = lines[0].split(",")
    assert head[:3] == ["nr", "runda", "rundans datum"]
    assert {"kategori", "allvarlighet", "ansvarig", "status"} <= set(head)
    assert not {"category", "severity", "responsible"} & set(head)
    assert lines[1].split(",")[head.index("allvarlighet")] == "hög"


# --- import -------------------------------------------------------------------------------
def test_import_reports_every_row(store, round_id, tmp_path):
    path = tmp_path / "falt.csv"
    path.write_text(
        "lon,lat,category,severity,responsible,description\n"
        f"{CENTRE[0]},{CENTRE[1]},klotter,1,SL,ok rad\n"  # row 2: ok
        f"{CENTRE[0]},{CENTRE[1]},,2,kommun,utan kategori\n"  # row 3: no category
        f"{CENTRE[0] + 0.01},{CENTRE[1]},belysning,hög,kommun,utanför\n"  # row 4: outside
        f"{CENTRE[0]},{CENTRE[1]},belysning,medel,kommun,{XSS}\n"  # row 5: ok
        "abc,59.4,belysning,1,kommun,trasig lon\n",  # row 6: not a number
        encoding="utf-8",
    )
    result = import_issues(store, path, marked_by="bo", round_id=round_id)
    assert (result.rows, result.loaded) == (5, 2)
    assert result.loaded + len(result.rejected) == result.rows
    assert result.rejected["row"].tolist() == [3, 4, 6]
    reasons = result.rejected["reason"].tolist()
    assert "Välj en kategori" in reasons[0]
    assert "utanför rundans område" in reasons[1]
    assert "inga tal" in reasons[2]
    assert count(store, InspectionIssue) == 2
    assert count(store, IssueHistory) == 2  # the rejected rows left no history behind
    assert issues_frame(store)["description"].tolist() == ["ok rad", XSS]


@pytest.mark.parametrize(
    ("content", "name", "kw", "match"),
    [
        (
            "lon,lat,severity,responsible\n17.8,59.4,1,SL\n",
            "a.csv",
            {"round_id": 1},
            "saknar kolumnen category",
        ),
        (
            "x,y,category,severity,responsible\n1,2,klotter,1,SL\n",
            "b.csv",
            {"round_id": 1},
            "saknar kolumnen lon, lat",
        ),
        (
            "lon,lat,category,severity,responsible\n17.8,59.4,klotter,1,SL\n",
            "c.csv",
            {},
            "ingen kolumn round_id",
        ),
        ("hej", "d.xlsx", {"round_id": 1}, "format som inte stöds"),
        (
            "lon,lat,category,severity,responsible\n",
            "e.csv",
            {"round_id": 99},
            "Besiktningsrundan 99 finns inte",
        ),
    ],
    ids=["no-category-col", "no-lonlat", "no-round", "xlsx", "unknown-round"],
)
def test_import_structural_errors(store, round_id, tmp_path, content, name, kw, match):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        import_issues(store, path, marked_by="bo", **kw)
    assert count(store, InspectionIssue) == 0


def test_import_missing_file(store, tmp_path):
    with pytest.raises(InputError, match="finns inte"):
        import_issues(store, tmp_path / "nej.csv", marked_by="bo", round_id=1)


# --- demo ---------------------------------------------------------------------------------
def test_seed_demo_once(store):
    assert seed_demo(store) is True
    assert seed_demo(store) is False
    frame = issues_frame(store)
    assert set(frame["round_name"]) == {DEMO_ROUND}
    assert {"belysning", "vegetation/skymd sikt", "klotter"} <= set(frame["category"])
    assert len(frame) == 5


def test_seed_demo_concurrently_seeds_once(store):
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(seed_demo(store))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, True]
    assert len(rounds_frame(store)) == 1
