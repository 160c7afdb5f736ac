"""geo.maps: folium builders tested through their rendered HTML (no browser)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import maps, schema
from geo.assets import use_local_assets, use_remote_assets

# A 4 km × 5 km square area near Jakobsberg in SWEREF 99 TM.
X0, Y0 = 660_000, 6_583_000


@pytest.fixture
def areas():
    return gpd.GeoDataFrame(
        {schema.AREA_ID: ["0123", "x"], schema.AREA_NAME: ["Järfälla", "Annat"]},
        geometry=[box(X0, Y0, X0 + 4000, Y0 + 5000), box(X0 + 10_000, Y0, X0 + 12_000, Y0 + 2000)],
        crs=schema.CRS_METRIC,
    )


@pytest.fixture
def zones():
    return gpd.GeoDataFrame(
        {
            schema.ZONE_ID: ["z1", "z2", "z3"],
            schema.AREA_ID: ["0123"] * 3,
            schema.RANK: [1, 2, 7],
            schema.NAME: ["Jakobsbergs station", "<script>alert(1)</script>", "Viksjö"],
            schema.INCIDENT_COUNT: [40, 12, 5],
            schema.SHARE_OF_AREA: [0.4, 0.12, 0.05],
            schema.DIALOGUE_MENTIONS: [3, 0, 1],
            schema.PEAK_HOURS: ["fre–lör 21–02", "lör 22–01", ""],
            schema.PAI: [12.5, 4.0, 1.5],
            schema.AREA_KM2: [0.09, 0.09, 0.04],
            f"n_{schema.VIOLENCE}": [30, 10, 5],
            "n_rån": [10, 2, 0],
        },
        geometry=[
            box(X0 + 1000, Y0 + 1000, X0 + 1300, Y0 + 1300),
            box(X0 + 2000, Y0 + 2000, X0 + 2300, Y0 + 2300),
            box(X0 + 1200, Y0 + 1200, X0 + 1400, Y0 + 1400),  # overlaps z1
        ],
        crs=schema.CRS_METRIC,
    )


@pytest.fixture
def cells():
    bins = [3, 2, 1, 0, -1, -3]
    return gpd.GeoDataFrame(
        {
            schema.CELL_ID: list(range(6)),
            schema.GI_BIN: bins,
            schema.COUNT: [9, 7, 5, 1, 0, 0],
            schema.GI_Z: [3.2, 2.1, 1.7, 0.3, -1.7, -2.9],
        },
        geometry=[box(X0 + 200 * i, Y0, X0 + 200 * (i + 1), Y0 + 200) for i in range(6)],
        crs=schema.CRS_METRIC,
    )


def _incidents(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform([X0, Y0], [X0 + 4000, Y0 + 5000], size=(n, 2))
    return gpd.GeoDataFrame(
        {schema.CATEGORY: [schema.VIOLENCE] * n, schema.WEIGHT: np.ones(n)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=schema.CRS_METRIC,
    )


def _remote_asset_urls(page: str) -> list[str]:
    """Script and stylesheet URLs in the page that point off the machine."""
    srcs = re.findall(r'<script[^>]+src="([^"]+)"', page)
    hrefs = re.findall(r'<link[^>]+href="([^"]+)"', page)
    return [u for u in srcs + hrefs if re.match(r"(https?:)?//", u)]


def remote_assets_offline(m: folium.Map) -> list[str]:
    """Render ``m`` as the app does offline (after ``use_local_assets``); its remote URLs.

    Every page's map goes through this (tests/test_pages.py feeds it what ``st_folium``
    receives), so one check covers all map builders. An empty list means the map works
    without internet.
    """
    use_local_assets("/app/static/vendor")
    try:
        page = m.get_root().render()
    finally:
        use_remote_assets()
    return _remote_asset_urls(page)


def test_offline_map_references_no_remote_asset(areas, zones, cells):
    use_local_assets("/app/static/vendor")
    try:
        run = SimpleNamespace(zones=zones, cells=cells)
        m = maps.hotspot_map(run, areas, incidents=_incidents(500), incident_layer="points")
        folium.plugins.Draw().add_to(m)
        page = m.get_root().render()
    finally:
        use_remote_assets()
    assert _remote_asset_urls(page) == []
    assert "/app/static/vendor/leaflet/leaflet.js" in page
    assert "/app/static/vendor/markercluster/leaflet.markercluster.js" in page
    assert "/app/static/vendor/folium/leaflet_heat.min.js" in page
    # no tiles by default: no tile URL at all
    assert "tile.openstreetmap" not in page and "tileLayer" not in page


def test_remote_mode_is_detected_by_the_same_check(areas):
    # The check above must be able to fail: folium's own defaults are CDN URLs.
    use_remote_assets()
    page = maps.base_map(areas).get_root().render()
    assert any("cdn.jsdelivr.net" in u for u in _remote_asset_urls(page))


def test_fit_bounds_is_the_focus_area(areas):
    m = maps.base_map(areas, focus_area_ids=["0123"])
    page = m.get_root().render()
    expected = maps.lonlat_bounds(areas.iloc[[0]])
    match = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", page, re.S)
    got = json.loads(match.group(1))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # Järfälla only: the second area (10 km east) is outside the fitted bounds
    other = maps.lonlat_bounds(areas.iloc[[1]])
    assert other[0][1] > got[1][1]


def test_unknown_focus_area_is_an_error(areas):
    with pytest.raises(ValueError, match=r"focus_area_ids \['nope'\] match no area"):
        maps.base_map(areas, focus_area_ids=["nope"])


def test_layers_are_named_in_the_layer_control(areas, zones, cells):
    run = SimpleNamespace(zones=zones, cells=cells)
    m = maps.hotspot_map(run, areas, incidents=_incidents(50))
    page = m.get_root().render()
    for name in ("Hotspotzoner", "Gi*-celler (signifikans)", "Täthet (värmekarta)"):
        assert json.dumps(name)[1:-1] in page, name
    assert "L.control.layers" in page
    assert "lagesbild-legend" in page


def test_zone_names_are_escaped(areas, zones):
    m = maps.base_map(areas)
    maps.add_zones(m, zones)
    page = m.get_root().render()
    # The name reaches the page only as the HTML entity (&lt;script&gt;), JSON-encoded.
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page
    assert "<script>alert(1)" not in page
    assert "\\u003cscript\\u003ealert" not in page


def test_zone_colours_follow_rank(areas, zones):
    m = maps.base_map(areas)
    maps.add_zones(m, zones)
    page = m.get_root().render()
    pairs = [(r, c) for c, r in re.findall(r'"colour": "(#[0-9a-f]{6})", "rank": (\d+)', page)]
    # drawn worst-first so rank 1 ends on top; tiers from RANK_TIERS
    assert pairs == [("7", "#fdbe85"), ("2", "#e31a1c"), ("1", "#99000d")]


@pytest.mark.parametrize(
    ("rank", "colour"),
    [
        (1, "#99000d"),
        (2, "#e31a1c"),
        (3, "#e31a1c"),
        (4, "#fd8d3c"),
        (6, "#fd8d3c"),
        (7, "#fdbe85"),
    ],
    ids=["1", "2", "3", "4", "6", "7"],
)
def test_rank_colour(rank, colour):
    assert maps.rank_colour(rank) == colour


def test_cells_use_arcgis_colours_and_skip_bin_zero(areas, cells):
    m = maps.base_map(areas)
    maps.add_cells(m, cells)
    page = m.get_root().render()
    for b in (3, 2, 1, -1, -3):
        assert maps.GI_BIN_COLOURS[b] in page
    # bin -2 is absent from the data, so neither its colour nor its legend row appears
    assert maps.GI_BIN_COLOURS[-2] not in page
    # five significant cells drawn, the not-significant one left out
    geo = re.findall(r'"colour": "(#[0-9a-f]{6})"', page)
    assert len(geo) == 5


def test_tooltip_carries_key_figures(areas, zones):
    m = maps.base_map(areas)
    maps.add_zones(m, zones)
    page = m.get_root().render()
    tips = [json.loads(f'"{t}"') for t in re.findall(r'"tip": "((?:[^"\\]|\\.)*)"', page)]
    first = next(t for t in tips if "Jakobsbergs station" in t)
    # 0.4 share -> "40 %"; PAI 12.5 -> "12,5"; two top categories listed
    assert "Brott: 40 (40 % av områdets)" in first
    assert "Medborgardialog: 3 omnämnanden" in first
    assert "Mest: fre–lör 21–02" in first
    assert "PAI 12,5" in first
    assert f"{schema.VIOLENCE} 30" in first and "rån 10" in first


def test_large_incident_layers_are_compact(areas):
    n = 5000
    m = maps.base_map(areas)
    maps.add_incidents(m, _incidents(n), show=True)
    page = m.get_root().render()
    assert "markerClusterGroup" in page
    # one array, no per-incident marker objects
    assert page.count("L.marker(") <= 1
    assert page.count("L.circleMarker(") == 0


def test_heat_data_merges_points_on_the_same_spot():
    pts = gpd.GeoDataFrame(
        {schema.WEIGHT: [1.0, 2.0, 0.5]},
        geometry=[Point(17.83361, 59.42361), Point(17.83364, 59.42359), Point(17.9, 59.4)],
        crs=schema.CRS_WGS84,
    )
    # both first points round to (59.4236, 17.8336): 1.0 + 2.0 = 3.0
    assert maps.heat_data(pts) == [[59.4, 17.9, 0.5], [59.4236, 17.8336, 3.0]]


def test_dialogue_reason_escaped_and_in_legend(areas):
    d = _dialogue('mörkt & "otäckt" <img src=x>')
    m = maps.base_map(areas)
    maps.add_dialogue(m, d)
    maps.finish_map(m)
    page = m.get_root().render()
    tips = [json.loads(f'"{t}"') for t in re.findall(r'"tip": "((?:[^"\\]|\\.)*)"', page)]
    assert tips == [
        "<b>Otrygg plats</b>: mörkt &amp; &quot;otäckt&quot; &lt;img src=x&gt;<br>"
        "Kategori: dålig belysning<br>Tid: kväll<br>Omnämnd 4 gånger"
    ]
    assert "Otrygg plats" in json.loads(re.search(r"div.innerHTML = (\".*?\");", page).group(1))


@pytest.mark.parametrize(
    ("spec", "kind"),
    [("none", "none"), ("", "none"), ("osm", "osm"), ("https://k.local/{z}/{x}/{y}.png", "custom")],
    ids=["none", "empty", "osm", "custom"],
)
def test_tiles_from(spec, kind):
    assert maps.tiles_from(spec).kind == kind


def test_tiles_from_rejects_garbage():
    with pytest.raises(ValueError, match='tiles was "satellit" but is expected'):
        maps.tiles_from("satellit")


def test_tiles_from_env(monkeypatch):
    monkeypatch.setenv("LAGESBILD_TILES", "https://k.local/{z}/{x}/{y}.png")
    monkeypatch.setenv("LAGESBILD_TILES_ATTRIBUTION", "<Lantmäteriet>")
    t = maps.tiles_from(None)
    assert t.url == "https://k.local/{z}/{x}/{y}.png"
    assert t.attribution == "&lt;Lantmäteriet&gt;"


def test_tiles_get_attribution(areas):
    page = maps.base_map(areas, tiles="osm").get_root().render()
    assert "tile.openstreetmap.org" in page and "OpenStreetMap" in page


def test_zone_at_picks_best_rank_where_zones_overlap(zones):
    # (X0+1250, Y0+1250) lies in z1 (rank 1) and z3 (rank 7)
    p = gpd.GeoSeries([Point(X0 + 1250, Y0 + 1250)], crs=schema.CRS_METRIC).to_crs(
        schema.CRS_WGS84
    )[0]
    assert maps.zone_at(zones, p.y, p.x) == "z1"
    q = gpd.GeoSeries([Point(X0 + 3500, Y0 + 4500)], crs=schema.CRS_METRIC).to_crs(
        schema.CRS_WGS84
    )[0]
    assert maps.zone_at(zones, q.y, q.x) is None


def test_zone_at_tolerance(zones):
    # 10 m east of z2's east edge (X0+2300): inside the 15 m tolerance, outside 5 m
    p = gpd.GeoSeries([Point(X0 + 2310, Y0 + 2100)], crs=schema.CRS_METRIC).to_crs(
        schema.CRS_WGS84
    )[0]
    assert maps.zone_at(zones, p.y, p.x) == "z2"
    assert maps.zone_at(zones, p.y, p.x, tolerance_m=5) is None


def test_selection_layer_outlines_the_zone(areas, zones):
    group = maps.selection_layer(zones, "z2")
    m = maps.base_map(areas)
    group.add_to(m)
    page = m.get_root().render()
    assert maps.SELECTED_COLOUR in page
    assert len(maps.selection_layer(zones, "nope")._children) == 0


def test_zone_view_centres_on_the_zone(zones):
    centre, zoom = maps.zone_view(zones, "z1")
    c = gpd.GeoSeries([Point(X0 + 1150, Y0 + 1150)], crs=schema.CRS_METRIC).to_crs(
        schema.CRS_WGS84
    )[0]
    np.testing.assert_allclose(centre, [c.y, c.x], atol=1e-6)
    assert 15 <= zoom <= 17
    with pytest.raises(ValueError, match='zone_id was "q" but is not among'):
        maps.zone_view(zones, "q")


def test_nearest_place():
    g = gpd.GeoDataFrame(
        {schema.PLACE_NAME: ["A", "B"], schema.PLACE_KIND: ["station", "torg"]},
        geometry=[Point(0, 0), Point(300, 400)],
        crs=schema.CRS_METRIC,
    )
    # distance from (300, 0) to A is 300, to B is 400
    assert maps.nearest_place(g, Point(300, 0)) == ("A", "station", 300.0)


def test_builders_check_their_input(areas):
    with pytest.raises(TypeError, match="areas must be a GeoDataFrame, got DataFrame"):
        maps.base_map(pd.DataFrame(areas.drop(columns="geometry")))
    with pytest.raises(ValueError, match=r"zones lacks the columns \['rank'"):
        maps.add_zones(maps.base_map(areas), areas.assign(zone_id="a"))
    with pytest.raises(ValueError, match='incident_layer was "pins"'):
        maps.hotspot_map(SimpleNamespace(zones=None, cells=None), areas, incident_layer="pins")


def test_builders_do_not_mutate_inputs(areas, zones, cells):
    before = (zones.copy(), cells.copy(), areas.copy())
    maps.hotspot_map(SimpleNamespace(zones=zones, cells=cells), areas, incidents=_incidents(20))
    for a, b in zip((zones, cells, areas), before, strict=True):
        assert a.equals(b) and a.crs == b.crs


def _issues() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [1, 2], "category": ["belysning", "klotter"], "status": ["ny", "åtgärd beställd"]},
        geometry=[Point(X0 + 1100, Y0 + 1100), Point(X0 + 3000, Y0 + 4000)],
        crs=schema.CRS_METRIC,
    )


def test_hotspot_map_has_an_issues_layer_with_legend(areas, zones):
    run = SimpleNamespace(zones=zones, cells=None)
    page = maps.hotspot_map(run, areas, issues=_issues()).get_root().render()
    assert json.dumps(maps.ISSUES_LAYER)[1:-1] in page  # named in the layer control
    assert "belysning – ny" in page and "klotter – åtgärd beställd" in page
    # legend rows (JSON in the page: å is \u00e5)
    assert "Brist: ny" in page and json.dumps("Brist: åtgärd beställd")[1:-1] in page


def test_issues_added_to_a_finished_map_come_before_its_layer_control(areas):
    m = maps.finish_map(maps.base_map(areas))
    maps.add_issues(m, _issues())
    page = m.get_root().render()
    group = re.search(r"var (feature_group_\w+) = L.featureGroup", page).group(1)
    # the control names the group: defined later, the map's script would stop there
    assert page.index(f"var {group}") < page.index("L.control.layers")
    assert "Brist: ny" in page  # the legend was rebuilt with the new section


def test_view_fits_the_chosen_area_whole_by_default(areas, zones):
    run = SimpleNamespace(zones=zones, cells=None)
    page = (
        maps.hotspot_map(run, areas, focus_area_ids=[areas.iloc[0]["area_id"]]).get_root().render()
    )
    assert page.count("fitBounds") == 1
    got = json.loads(re.search(r"fitBounds\(\s*(\[\[.*?\]\])", page, re.S).group(1))
    np.testing.assert_allclose(got, maps.lonlat_bounds(areas.iloc[[0]]), atol=1e-6)


def test_map_scale_is_metric_and_the_legend_starts_collapsed(areas, zones):
    run = SimpleNamespace(zones=zones, cells=None)
    page = maps.hotspot_map(run, areas).get_root().render()
    assert "imperial: false" in page and "L.control.scale()" not in page
    assert "Teckenförklaring</summary>" in page


def test_place_names_of_the_chosen_area_are_written_on_the_map(areas, zones):
    inside = areas.iloc[0].geometry.representative_point()
    places = gpd.GeoDataFrame(
        {"name": ["Torget", "Långt borta"]},
        geometry=[inside, Point(inside.x + 50_000, inside.y)],
        crs=areas.crs,
    )
    run = SimpleNamespace(zones=zones, cells=None)
    m = maps.hotspot_map(run, areas, focus_area_ids=[areas.iloc[0]["area_id"]], places=places)
    page = m.get_root().render()
    assert '"Torget"' in page and "Långt borta" not in page
    assert maps.PLACES_LAYER in page  # a layer of its own in the layer control


def test_view_fits_the_zones_above_the_legend_strip(areas, zones):
    run = SimpleNamespace(zones=zones, cells=None)
    page = maps.hotspot_map(run, areas, fit_zones=True).get_root().render()
    assert page.count("fitBounds") == 1
    got = json.loads(re.search(r"fitBounds\(\s*(\[\[.*?\]\])", page, re.S).group(1))
    whole = maps.lonlat_bounds(areas.iloc[[0]])
    # zones span 1000–2300 m inside a 4000 × 5000 m area: the view is tighter than the area
    assert got[0][0] > whole[0][0] and got[1][0] < whole[1][0]
    assert f"[0, {maps.LEGEND_STRIP_PX}]" in page.replace("\n", "").replace("  ", "")


def test_legend_section_follows_its_layer(areas, cells):
    m = maps.base_map(areas)
    maps.add_cells(m, cells, show=False)
    page = maps.finish_map(m).get_root().render()
    # the Gi* section starts hidden like its layer, and the script toggles it on overlayadd
    assert 'data-layer=\\"Gi*-celler (signifikans)\\" style=\\"display:none\\"' in page
    assert '"overlayadd"' in page


def _dialogue(reason: str = "mörkt") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.REASON: [reason],
            schema.REASON_CATEGORY: ["dålig belysning"],
            schema.TIME_OF_DAY: ["kväll"],
            schema.MENTIONS: [4],
        },
        geometry=[Point(X0 + 100, Y0 + 100)],
        crs=schema.CRS_METRIC,
    )


def test_medborgarloften_map_works_offline(areas, zones):
    """Every layer of the Medborgarlöften map, as views/medborgarloften.py stacks them."""
    from geo import promises as pr

    acts = gpd.GeoDataFrame(
        {
            pr.ACTIVITY_TYPE: ["nattvandring"],
            pr.STARTS_AT: pd.to_datetime(["2018-03-16 21:00"]).tz_localize("Europe/Stockholm"),
            pr.PLACE_NAME: ["Torget"],
        },
        geometry=[Point(X0 + 1200, Y0 + 1200)],
        crs=schema.CRS_METRIC,
    )
    props = gpd.GeoDataFrame(
        {"text": ["Mer ljus"], "status": ["ny"]},
        geometry=[Point(X0 + 2000, Y0 + 2000)],
        crs=schema.CRS_METRIC,
    )
    m = maps.base_map(areas)
    maps.add_zones(m, zones)
    maps.add_dialogue(m, _dialogue(), show=False)
    pr.activities_layer(acts).add_to(m)
    pr.proposals_layer(props).add_to(m)
    maps.add_issues(m, _issues())
    maps.finish_map(m)
    assert remote_assets_offline(m) == []
    page = m.get_root().render()
    assert "L.divIcon" in page and pr.PROPOSAL_COLOUR in page  # the proposal's diamond


def test_offline_check_catches_a_plugin_with_a_cdn_script(areas):
    # RegularPolygonMarker (the old proposal marker) loads leaflet-dvf from a CDN.
    m = maps.base_map(areas)
    folium.RegularPolygonMarker(location=[59.3, 17.9]).add_to(m)
    assert any("leaflet-dvf" in u for u in remote_assets_offline(m))


def test_no_module_uses_a_folium_class_whose_assets_stay_remote():
    """A folium class with CDN files geo.assets cannot localise must not appear in the app."""
    from pathlib import Path

    from geo import assets

    remote = sorted(
        cls.__name__
        for cls in assets._asset_classes()
        if any(
            url.startswith(("http:", "https:", "//")) and url not in assets.URL_MAP
            for _, url in [*vars(cls).get("default_js", []), *vars(cls).get("default_css", [])]
        )
    )
    assert "RegularPolygonMarker" in remote  # the check sees the classes it guards against
    root = Path(__file__).resolve().parents[1]
    sources = [p for d in ("geo", "ui", "views") for p in (root / d).rglob("*.py")]
    sources.append(root / "app.py")
    used = {
        (p.relative_to(root).as_posix(), name)
        for p in sources
        for name in remote
        if re.search(rf"\b{name}\s*\(", p.read_text(encoding="utf-8"))
    }
    assert used == set()
