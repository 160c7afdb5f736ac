"""Grid and Getis-Ord Gi* (geo.grid), checked by hand and against esda."""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.weights import DistanceBand

from geo import schema
from geo.grid import (
    GI_P_SIM,
    LATTICE_COL,
    LATTICE_ROW,
    Choice,
    GridResult,
    bh_threshold,
    choose_band,
    choose_cell_size,
    confidence_bins,
    disk_kernel,
    gistar_cells,
    gistar_lattice,
    gistar_points,
    gistar_z,
    make_grid,
    two_sided_p,
)

ESDA_XY = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], dtype=float)
ESDA_Y = np.array([2, 3, 3.2, 5, 8, 7])
ESDA_ZS = np.array([-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331])


def esda_zs(xy: np.ndarray, y: np.ndarray, band_m: float) -> np.ndarray:
    """The reference: libpysal DistanceBand + esda G_Local, binary, star."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = DistanceBand(xy, threshold=band_m, binary=True, silence_warnings=True)
        return esda.G_Local(y, w, transform="B", star=True, permutations=0).Zs


def square(x0=0.0, y0=0.0, x1=1000.0, y1=1000.0, area_id="a") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.AREA_ID: [area_id]}, geometry=[shapely.box(x0, y0, x1, y1)], crs=schema.CRS_METRIC
    )


def points(xy, **columns) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(
        columns, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=schema.CRS_METRIC
    )


# --- the statistic against esda ------------------------------------------------------------------


def test_esda_reference_vector():
    np.testing.assert_allclose(gistar_points(ESDA_XY, ESDA_Y, 15), ESDA_ZS, atol=1e-7)
    np.testing.assert_allclose(esda_zs(ESDA_XY, ESDA_Y, 15), ESDA_ZS, atol=1e-7)


@pytest.mark.parametrize(
    ("shape", "radius", "density", "seed"),
    [
        ((12, 15), 1.0, 0.5, 1),
        ((20, 20), 2.5, 1.5, 2),
        ((25, 18), 3.7, 0.2, 3),
        ((30, 30), 6.2, 3.0, 4),
    ],
    ids=["rook", "r2.5", "sparse-r3.7", "fft-r6.2"],
)
def test_lattice_with_mask_matches_esda(shape, radius, density, seed):
    rng = np.random.default_rng(seed)
    values = rng.poisson(density, shape).astype(float)
    rows, cols = np.indices(shape)
    # An irregular study area: a disk with a bite taken out, so edges cut neighbourhoods.
    centre = np.array(shape) / 2
    mask = ((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= (min(shape) / 2) ** 2) & ~(
        (rows < shape[0] / 3) & (cols > shape[1] / 2)
    )
    z = gistar_lattice(values, mask, radius)
    cell = 50.0
    xy = np.column_stack([cols[mask] * cell + cell / 2, rows[mask] * cell + cell / 2])
    reference = esda_zs(xy, values[mask], radius * cell)
    np.testing.assert_allclose(z[mask], reference, atol=1e-6, rtol=0)
    assert np.isnan(z[~mask]).all()


def test_gistar_cells_matches_esda_on_its_own_cells():
    rng = np.random.default_rng(7)
    area = gpd.GeoDataFrame(
        {schema.AREA_ID: ["a", "b"]},
        geometry=[
            shapely.Polygon([(0, 0), (900, 0), (900, 400), (0, 700)]),
            shapely.box(900, 0, 1300, 300),
        ],
        crs=schema.CRS_METRIC,
    )
    xy = np.column_stack([rng.normal(400, 150, 300), rng.normal(250, 80, 300)])
    inside = shapely.covers(shapely.union_all(area.geometry.values), shapely.points(xy))
    inc = points(xy[inside], weight=rng.choice([1.0, 2.0], inside.sum()))
    result = gistar_cells(inc, area, cell_size_m=50, band_m=130, fdr=False)
    cells = result.cells
    centres = np.column_stack([cells[LATTICE_COL] * 50 + 25, cells[LATTICE_ROW] * 50 + 25]).astype(
        float
    )
    y = cells[schema.WEIGHT].to_numpy()
    np.testing.assert_allclose(cells[schema.GI_Z], esda_zs(centres, y, 130), atol=1e-6, rtol=0)
    assert cells[schema.WEIGHT].sum() == pytest.approx(inc[schema.WEIGHT].sum())


def test_gistar_z_formula_by_hand():
    y = np.array([0.0, 0.0, 0.0, 4.0])
    # n=4, x̄=1, s=√(16/4 − 1)=√3; cell 3 with k=2, S=4: (4 − 2)/(√3·√((8−4)/3)) = 2/2 = 1
    np.testing.assert_allclose(gistar_z(y, np.array([4.0]), np.array([2.0])), [1.0])


@pytest.mark.parametrize(
    ("y", "sums", "counts"),
    [
        (np.zeros(5), np.zeros(5), np.full(5, 3.0)),
        (np.full(4, 2.0), np.full(4, 4.0), np.full(4, 2.0)),
        (np.array([1.0, 3.0]), np.array([4.0, 4.0]), np.array([2.0, 2.0])),
    ],
    ids=["all-zero", "all-equal", "k-equals-n"],
)
def test_gistar_z_undefined_is_nan(y, sums, counts):
    assert np.isnan(gistar_z(y, sums, counts)).all()


def test_disk_kernel_and_fft_path_agree():
    # A radius-6 disk has 113 offsets (> 49): summed by FFT; compare with direct sums.
    kernel = disk_kernel(6)
    assert int(kernel.sum()) == 113
    rng = np.random.default_rng(0)
    values = rng.poisson(1.0, (40, 40)).astype(float)
    from scipy import ndimage

    from geo.grid import band_sums

    np.testing.assert_allclose(
        band_sums(values, kernel),
        ndimage.correlate(values, kernel.astype(float), mode="constant"),
        atol=1e-9,
    )


# --- FDR and bins --------------------------------------------------------------------------------


def test_bh_threshold_matches_esda_fdr_significant_set():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 0.0002, 40), rng.uniform(0, 1, 960)])
    for alpha in (0.10, 0.05, 0.01):
        ours = p <= bh_threshold(p, alpha)
        reference = p < esda.fdr(p, alpha)
        np.testing.assert_array_equal(ours, reference)
        assert ours.sum() >= 30  # the 40 planted small p-values are mostly found


def test_bh_threshold_none_pass():
    # sorted p .5, .6: .5 > 1·.05/2 and .6 > .05 → nothing significant
    assert bh_threshold(np.array([0.6, 0.5]), 0.05) == 0.0
    assert bh_threshold(np.array([np.nan]), 0.05) == 0.0


def test_confidence_bins_with_fdr_by_hand():
    # Four tests. p = .004, .02, .03, .5.  Level 0.10: thresholds k·.1/4 = .025,.05,.075,.1
    # → .004, .02, .03 pass (largest passing is .03). Level .05: .0125,.025,.0375,.05 → .004,
    # .02, .03 pass. Level .01: .0025, .005, .0075, .01 → .004 ≤ .005 passes (k=2: .02 > .005,
    # but BH takes the largest k with p(k) ≤ k·α/m: k=1 .004 > .0025, k=2 .02 > .005 ✗ → none).
    p = np.array([0.004, 0.02, 0.03, 0.5])
    z = np.array([2.9, -2.3, 2.2, 0.7])
    np.testing.assert_array_equal(confidence_bins(z, p, fdr=True), [2, -2, 2, 0])
    # Without FDR: .004 ≤ .01 → 3; .02 ≤ .05 → 2; .03 → 2; .5 → 0.
    np.testing.assert_array_equal(confidence_bins(z, p, fdr=False), [3, -2, 2, 0])


def test_confidence_bins_rejects_bad_levels():
    with pytest.raises(ValueError, match="`alpha_levels` was"):
        confidence_bins(np.zeros(2), np.ones(2), alpha_levels=(0.1, 1.5))


def test_two_sided_p():
    np.testing.assert_allclose(
        two_sided_p(np.array([1.6448536, -2.5758293])), [0.10, 0.01], atol=1e-7
    )


# --- make_grid -----------------------------------------------------------------------------------


def test_make_grid_clips_and_keeps_empty_cells():
    area = gpd.GeoDataFrame(
        {schema.AREA_ID: ["tri"]},
        geometry=[shapely.Polygon([(0, 0), (300, 0), (0, 300)])],
        crs=schema.CRS_METRIC,
    )
    grid = make_grid(area, 100)
    # A right triangle with legs of 3 cells covers 6 lattice cells with positive area
    # (3 + 2 + 1 along the diagonal); the diagonal cells are clipped to half squares.
    assert len(grid) == 6
    assert grid.area.sum() == pytest.approx(45_000)  # 300·300/2
    assert set(grid[schema.AREA_ID]) == {"tri"}
    assert grid.crs.to_epsg() == 3006
    assert grid[schema.CELL_ID].is_unique


def test_make_grid_snaps_origin_and_names_cells():
    grid = make_grid(square(130, 20, 330, 220), 100)
    # Snapped origin (100, 0); the area spans x 130..330 → columns 100,200,300; y 20..220 → 0,100,200.
    assert sorted(grid[schema.CELL_ID])[:2] == ["E100N0", "E100N100"]
    assert len(grid) == 9
    assert grid.area.sum() == pytest.approx(200 * 200)


def test_make_grid_area_id_by_centre_then_overlap():
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["west", "east"]},
        geometry=[shapely.box(0, 0, 140, 100), shapely.box(140, 0, 200, 100)],
        crs=schema.CRS_METRIC,
    )
    grid = make_grid(areas, 100).set_index(schema.CELL_ID)
    # Cell E100N0 has its centre (150, 50) in "east", though "west" covers 40 % of it.
    assert grid.loc["E0N0", schema.AREA_ID] == "west"
    assert grid.loc["E100N0", schema.AREA_ID] == "east"
    # Origin given: cell E-30N0 centre (20,50) in west; centre of the last cell (170,...)
    shifted = make_grid(areas, 100, origin=(-30, 0)).set_index(schema.CELL_ID)
    assert shifted.loc["E-30N0", schema.AREA_ID] == "west"
    assert (
        shifted.loc["E170N0", schema.AREA_ID] == "east"
    )  # centre (220, 50) outside both → overlap


def test_make_grid_reprojects_and_validates():
    wgs = square(0, 0, 1, 1).set_crs(None, allow_override=True)
    with pytest.raises(ValueError, match="has no CRS"):
        make_grid(wgs, 100)
    with pytest.raises(ValueError, match="lacks the column"):
        make_grid(square().drop(columns=schema.AREA_ID), 100)
    with pytest.raises(TypeError, match="must be a GeoDataFrame"):
        make_grid(pd.DataFrame({"area_id": ["a"]}), 100)
    with pytest.raises(ValueError, match="`cell_size_m` was -5"):
        make_grid(square(), -5)
    with pytest.raises(ValueError, match="`origin`"):
        make_grid(square(), 100, origin=(10, 10))
    with pytest.raises(ValueError, match="over 5 000 000"):
        make_grid(square(0, 0, 100_000, 100_000), 10)
    lonlat = gpd.GeoDataFrame(
        {schema.AREA_ID: ["j"]},
        geometry=[shapely.box(17.82, 59.41, 17.85, 59.43)],
        crs=schema.CRS_WGS84,
    )
    assert make_grid(lonlat, 250).crs.to_epsg() == 3006


# --- gistar_cells: hand-checkable cases -------------------------------------------------------------


def test_single_hot_cell_by_hand():
    inc = points([(450, 450)] * 8)
    cells = gistar_cells(inc, square(), cell_size_m=100, band_m=150).cells.set_index(schema.CELL_ID)
    # 100 cells, x̄ = 0.08, s² = 64/100 − 0.0064 = 0.6336; the hot cell's 3×3 neighbourhood:
    # z = (8 − 9·0.08) / (√0.6336 · √((900 − 81)/99)) = 3.1798
    assert cells.loc["E400N400", schema.GI_Z] == pytest.approx(3.1798, abs=1e-4)
    # A corner cell far away: k=4, S=0 → z = −0.32 / (√0.6336·√((400−16)/99)) = −0.2042
    assert cells.loc["E0N0", schema.GI_Z] == pytest.approx(-0.2042, abs=1e-4)
    assert (cells[schema.GI_BIN] > 0).sum() == 9
    assert cells[schema.COUNT].sum() == 8


def test_empty_area_gives_undefined_z_and_no_bins():
    result = gistar_cells(points(np.zeros((0, 2))), square(), cell_size_m=100, band_m=150)
    cells = result.cells
    assert len(cells) == 100
    assert cells[schema.GI_Z].isna().all() and cells[schema.GI_P].isna().all()
    assert (cells[schema.GI_BIN] == 0).all()
    assert any("odefinierat i 100" in m for m in result.messages)


def test_one_incident():
    cells = gistar_cells(points([(50, 50)]), square(), cell_size_m=100, band_m=100).cells
    # Corner cell E0N0 with rook neighbours: k=3, S=1; n=100, x̄=.01, s²=.01−.0001=.0099
    # z = (1 − .03) / (√.0099·√((300 − 9)/99)) = .97 / (.0995·1.7145) = 5.686
    z = cells.set_index(schema.CELL_ID).loc["E0N0", schema.GI_Z]
    assert z == pytest.approx(0.97 / (np.sqrt(0.0099) * np.sqrt(291 / 99)), rel=1e-9)


def test_all_incidents_in_one_cell_equals_single_cell_case_scaled():
    # Gi* is scale-free: 50 incidents in one cell give the same z as 1 incident there.
    one = gistar_cells(points([(250, 250)]), square(), cell_size_m=100, band_m=150).cells
    many = gistar_cells(points([(250, 250)] * 50), square(), cell_size_m=100, band_m=150).cells
    np.testing.assert_allclose(one[schema.GI_Z], many[schema.GI_Z])
    assert many[schema.COUNT].max() == 50


def test_points_on_the_outer_edge_are_not_lost():
    # Corners and edges of a 1000 m square, including the far (top/right) edge.
    edge = [(0, 0), (1000, 1000), (1000, 0), (0, 1000), (1000, 500), (500, 1000)]
    result = gistar_cells(points(edge), square(), cell_size_m=100, band_m=150)
    assert result.cells[schema.COUNT].sum() == 6
    assert result.messages == []
    cells = result.cells.set_index(schema.CELL_ID)
    assert cells.loc["E900N900", schema.COUNT] == 1  # (1000, 1000) in the top-right cell


def test_points_outside_are_reported():
    result = gistar_cells(points([(500, 500), (5000, 5000)]), square(), cell_size_m=100, band_m=150)
    assert result.cells[schema.COUNT].sum() == 1
    assert result.messages == [
        "1 händelse(r) ligger utanför analysområdet eller saknar plats och ingår inte i rutnätet."
    ]


def test_rows_without_a_place_are_reported_not_misaligned():
    inc = gpd.GeoDataFrame(
        {schema.WEIGHT: [5.0, 1.0, 2.0]},
        geometry=[None, shapely.Point(), shapely.Point(150, 150)],
        crs=schema.CRS_METRIC,
    )
    result = gistar_cells(inc, square(), cell_size_m=100, band_m=150)
    cells = result.cells.set_index(schema.CELL_ID)
    # Only the third row has a place; its weight 2 lands in E100N100, not the missing row's 5.
    assert cells.loc["E100N100", schema.WEIGHT] == 2.0 and cells[schema.WEIGHT].sum() == 2.0
    assert result.messages[0].startswith("2 händelse(r)")


def test_automatic_parameters_without_incidents():
    result = gistar_cells(points(np.zeros((0, 2))), square(0, 0, 2000, 2000))
    size, band = result.choices[0], result.choices[1]
    # No spacing to measure: 100 m (a block); band falls back to 2 cells.
    assert size.value == 100 and "för få olika händelseplatser" in size.reason
    assert band.value == 200 and "ingen tydlig topp" in band.reason
    assert (result.cells[schema.GI_BIN] == 0).all()


def test_weights_and_dialogue_are_kept_apart():
    inc = points([(50, 50), (50, 50), (950, 950)], weight=[1.0, 2.0, 1.0])
    dialogue = gpd.GeoDataFrame(
        {schema.MENTIONS: [4, 2]},
        geometry=[shapely.Point(950, 950), shapely.box(400, 400, 480, 480)],
        crs=schema.CRS_METRIC,
    )
    result = gistar_cells(
        inc, square(), cell_size_m=100, band_m=150, dialogue=dialogue, dialogue_weight=0.5
    )
    cells = result.cells.set_index(schema.CELL_ID)
    assert cells.loc["E0N0", [schema.COUNT, schema.WEIGHT, schema.DIALOGUE_COUNT]].tolist() == [
        2,
        3.0,
        0.0,
    ]
    assert cells.loc["E900N900", [schema.COUNT, schema.WEIGHT, schema.DIALOGUE_COUNT]].tolist() == [
        1,
        1.0,
        4.0,
    ]
    assert (
        cells.loc["E400N400", schema.DIALOGUE_COUNT] == 2.0
    )  # the polygon counts at a point inside
    # The analysed value y = weight + 0.5 × mentions: check z against the lattice directly.
    y = np.zeros((10, 10))
    y[0, 0] = 3.0
    y[9, 9] = 1.0 + 0.5 * 4
    y[4, 4] = 0.5 * 2
    z = gistar_lattice(y, np.ones((10, 10), bool), 1.5)
    assert cells.loc["E900N900", schema.GI_Z] == pytest.approx(z[9, 9])
    assert [c.name for c in result.choices] == ["cell_size_m", "band_m", "dialogue_weight", "fdr"]


def test_never_mutates_inputs():
    inc = points([(50, 50), (450, 460)], weight=[1.0, 1.0])
    areas = square()
    inc_before, areas_before = inc.copy(), areas.copy()
    gistar_cells(inc, areas)
    pd.testing.assert_frame_equal(inc, inc_before)
    pd.testing.assert_frame_equal(areas, areas_before)


def test_reprojects_incidents_from_wgs84():
    areas = square(660_000, 6_589_000, 662_000, 6_591_000)
    wgs = points([(661_000, 6_590_000)]).to_crs(schema.CRS_WGS84)
    cells = gistar_cells(wgs, areas, cell_size_m=250, band_m=400).cells
    assert cells[schema.COUNT].sum() == 1


def test_output_columns_follow_schema():
    cells = gistar_cells(points([(50, 50)]), square(), cell_size_m=100, band_m=150).cells
    assert list(cells.columns[:8]) == [
        schema.CELL_ID,
        schema.AREA_ID,
        schema.COUNT,
        schema.WEIGHT,
        schema.DIALOGUE_COUNT,
        schema.GI_Z,
        schema.GI_P,
        schema.GI_BIN,
    ]
    assert cells.crs.to_epsg() == 3006 and cells.geometry.name == "geometry"


# --- permutations ----------------------------------------------------------------------------------


def test_permutations_are_seeded_and_find_the_hot_cell():
    rng = np.random.default_rng(11)
    xy = np.vstack([rng.uniform(0, 1000, (60, 2)), np.full((30, 2), 455.0)])
    a = gistar_cells(
        points(xy), square(), cell_size_m=100, band_m=150, permutations=199, random_state=5
    ).cells
    b = gistar_cells(
        points(xy), square(), cell_size_m=100, band_m=150, permutations=199, random_state=5
    ).cells
    np.testing.assert_array_equal(a[GI_P_SIM], b[GI_P_SIM])
    # Conditional randomisation keeps a cell's own value: the hot cell's neighbour E300N400
    # is extreme unless one of its 8 random "neighbours" is the hot cell (chance 8/99 ≈ 0.08),
    # so its p_sim is near (0.08·199 + 1)/200 ≈ 0.085.
    neighbour = a.set_index(schema.CELL_ID).loc["E300N400", GI_P_SIM]
    assert 0.03 < neighbour < 0.15
    assert a[GI_P_SIM].between(1 / 200, 0.5 + 1e-12).all()
    c = gistar_cells(
        points(xy), square(), cell_size_m=100, band_m=150, permutations=199, random_state=6
    ).cells
    assert not np.array_equal(a[GI_P_SIM], c[GI_P_SIM])


def test_permutation_p_close_to_esda():
    # Same statistic, different random draws: p_sim agrees with esda's to Monte-Carlo error.
    rng = np.random.default_rng(2)
    xy = np.vstack([rng.uniform(0, 600, (80, 2)), rng.normal(300, 40, (40, 2))])
    result = gistar_cells(
        points(xy),
        square(0, 0, 600, 600),
        cell_size_m=100,
        band_m=150,
        permutations=999,
        random_state=1,
    )
    cells = result.cells
    centres = np.column_stack(
        [cells[LATTICE_COL] * 100 + 50, cells[LATTICE_ROW] * 100 + 50]
    ).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = DistanceBand(centres, threshold=150, binary=True, silence_warnings=True)
        ref = esda.G_Local(
            cells[schema.WEIGHT].to_numpy(), w, transform="B", star=True, permutations=999, seed=1
        )
    np.testing.assert_allclose(cells[GI_P_SIM], ref.p_sim, atol=0.05)


def test_permutations_refused_on_big_grids():
    with pytest.raises(ValueError, match="at most 50000 cells"):
        gistar_cells(
            points([(5, 5)]),
            square(0, 0, 30_000, 30_000),
            cell_size_m=100,
            band_m=150,
            permutations=9,
        )


# --- automatic choices -----------------------------------------------------------------------------


def test_automatic_choices_have_reasons():
    rng = np.random.default_rng(4)
    xy = np.vstack([rng.uniform(0, 2000, (300, 2)), rng.normal(700, 60, (200, 2))])
    xy = xy[(xy >= 0).all(axis=1) & (xy <= 2000).all(axis=1)]
    result = gistar_cells(points(xy), square(0, 0, 2000, 2000))
    size, band = result.choices[0], result.choices[1]
    assert isinstance(size, Choice) and size.name == "cell_size_m"
    assert size.value in (25, 30, 40, 50, 75, 100) and "närmaste annan händelseplats" in size.reason
    assert band.name == "band_m" and band.value % size.value == 0 and band.value >= size.value
    assert "Morans I" in band.reason
    assert isinstance(result, GridResult)


def test_choose_cell_size_stays_at_patrol_scale():
    # 2 points 1 m apart: nn 1 m → the 50 m floor (a boundary file's extent never sets the
    # cell size; 100 km² at 50 m is 40 000 cells).
    c = choose_cell_size(np.array([[0, 0], [1, 0]], float), 1e8)
    assert c.value == 50 and "patrullskalan 50–250 m" in c.reason
    # Points 2 km apart: nn 2000 m → the 250 m ceiling.
    c = choose_cell_size(np.array([[0, 0], [2000, 0], [4000, 0]], float), 1e8)
    assert c.value == 250
    # A county as one area (100 000 km²): 250 m gives 1.6 M cells > 1 000 000, so the cell
    # grows past patrol scale, with the reason.
    c = choose_cell_size(np.array([[0, 0], [2000, 0], [4000, 0]], float), 1e11)
    assert c.value == 400 and "högst 1 000 000 rutor" in c.reason


def test_choose_band_never_reports_the_range_edge_as_a_peak():
    # Moran's I rising with distance at every band (clustering at every scale): a smooth
    # hill much wider than the 1 km range. The last band tried is not a peak.
    rows, cols = np.indices((80, 80))
    values = np.exp(-((rows - 40) ** 2 + (cols - 40) ** 2) / (2 * 25.0**2)) * 10
    xy = np.column_stack([cols.ravel() * 50.0, rows.ravel() * 50.0])
    choice = choose_band(values, np.ones(values.shape, bool), 50, xy=xy)
    assert "första topp" not in choice.reason and "stiger med avståndet" in choice.reason
    # fallback: the 10th nearest of a 50 m lattice is 100 m away → 2 cells
    assert choice.value == 100
    assert 100 <= choice.value <= 1000


@pytest.mark.parametrize(
    "values",
    [np.zeros((20, 20)), np.random.default_rng(8).poisson(1.0, (20, 20)).astype(float)],
    ids=["all-zero", "iid-noise"],
)
def test_choose_band_without_structure_falls_back(values):
    # No incidents (Moran's I undefined) or independent noise (no significant peak).
    choice = choose_band(values, np.ones((20, 20), bool), 100)
    assert choice.value == 200 and "ingen tydlig topp" in choice.reason


def test_choose_band_finds_the_scale_of_blobs():
    # Blobs of radius ~3 cells on a quiet background: autocorrelation peaks at a few cells.
    rng = np.random.default_rng(9)
    values = rng.poisson(0.1, (60, 60)).astype(float)
    rows, cols = np.indices(values.shape)
    for r0, c0 in ((15, 15), (40, 45), (15, 45)):
        values[(rows - r0) ** 2 + (cols - c0) ** 2 <= 9] += 3
    choice = choose_band(values, np.ones(values.shape, bool), 50)
    assert 100 <= choice.value <= 300 and "första topp" in choice.reason


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"band_m": 50}, ValueError, r"`band_m` was 50; expected at least the cell size \(100 m\)"),
        ({"dialogue_weight": -1}, ValueError, "`dialogue_weight` was -1"),
        ({"permutations": -3}, ValueError, "`permutations` was -3"),
        ({"permutations": 2.5}, ValueError, "`permutations` was 2.5"),
    ],
    ids=["band-below-cell", "dialogue-weight", "permutations-negative", "permutations-float"],
)
def test_gistar_cells_parameter_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        gistar_cells(points([(5, 5)]), square(), cell_size_m=100, **kwargs)


def test_gistar_cells_frame_errors():
    with pytest.raises(TypeError, match="`incidents` must be a GeoDataFrame"):
        gistar_cells(pd.DataFrame({"x": [1]}), square(), cell_size_m=100)
    with pytest.raises(ValueError, match="`areas` is empty"):
        gistar_cells(points([(5, 5)]), square().iloc[:0], cell_size_m=100)
    with pytest.raises(ValueError, match="`xy` must be"):
        gistar_points(np.zeros((3, 3)), np.zeros(3), 10)


def test_a_point_outside_the_area_in_a_cut_edge_cell_is_not_counted():
    # A triangle cuts the cell E0N0 along its diagonal: (80, 10) lies inside the square but
    # outside the area, (10, 80) inside both.
    tri = gpd.GeoDataFrame(
        {schema.AREA_ID: ["t"]},
        geometry=[shapely.Polygon([(0, 0), (0, 300), (300, 300)])],
        crs=schema.CRS_METRIC,
    )
    result = gistar_cells(points([(80, 10), (10, 80)]), tri, cell_size_m=100, band_m=150)
    cells = result.cells.set_index(schema.CELL_ID)
    assert cells.loc["E0N0", schema.COUNT] == 1 and cells[schema.COUNT].sum() == 1
    assert result.messages[0].startswith("1 händelse(r) ligger utanför")


def test_each_area_gets_its_own_scale():
    from geo.grid import gistar_by_area

    rng = np.random.default_rng(5)
    dense = rng.normal(500, 40, (400, 2))  # a tight town: short spacing
    sparse = rng.uniform(0, 20_000, (60, 2)) + [30_000, 0]  # a rural kommun
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["town", "rural"], schema.AREA_NAME: ["Stad", "Land"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(30_000, 0, 50_000, 20_000)],
        crs=schema.CRS_METRIC,
    )
    result = gistar_by_area(points(np.vstack([dense, sparse])), areas)
    size = {c.area_id: c.value for c in result.choices if c.name == "cell_size_m"}
    band = {c.area_id: c.value for c in result.choices if c.name == "band_m"}
    assert size == {"town": 50.0, "rural": 250.0}  # each from its own incidents
    assert band["rural"] <= 1000 and band["town"] <= 1000
    assert set(result.cells[schema.AREA_ID]) == {"town", "rural"}
