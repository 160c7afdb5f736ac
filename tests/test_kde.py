"""Quartic kernel density surface (geo.kde)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer

from geo import schema
from geo.kde import KDEResult, kde_surface, quartic_kernel


def test_kernel_integrates_to_one():
    # ∫ 3/(π r²)(1 − d²/r²)² 2π d dd over 0..r = 1; check numerically with a fine ring sum.
    r = 250.0
    d = np.linspace(0, r, 200_001)
    integral = np.trapezoid(quartic_kernel(d, r) * 2 * math.pi * d, d)
    assert integral == pytest.approx(1.0, rel=1e-6)


def test_kernel_shape_on_one_point():
    # One point at the centre of cell (50, 50) of a 10 m grid; bandwidth 100 m.
    centre = (505.0, 505.0)
    result = kde_surface(
        np.array([centre]), bandwidth_m=100, cell_size_m=10, bounds=(0, 0, 1000, 1000)
    )
    density = np.flipud(result.density_per_km2)  # back to row 0 = south
    rows, cols = np.indices(density.shape)
    d = np.hypot(cols * 10 + 5 - centre[0], rows * 10 + 5 - centre[1])
    expected_shape = np.where(d < 100, (1 - (d / 100) ** 2) ** 2, 0.0)
    np.testing.assert_allclose(density / density.max(), expected_shape, atol=1e-9)
    # Peak height ≈ 3/(π r²) per m² = 95.49 per km² (the sampled kernel is renormalised: ~1 %).
    assert density.max() == pytest.approx(3 / (math.pi * 100**2) * 1e6, rel=0.02)


@pytest.mark.parametrize(
    ("bandwidth_m", "cell_size_m"),
    [(150.0, 10.0), (400.0, 25.0), (30.0, 50.0)],
    ids=["fine", "coarse", "bandwidth-below-cell"],
)
def test_mass_is_conserved(bandwidth_m, cell_size_m):
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 2000, (500, 2))
    w = rng.choice([1.0, 0.5, 2.0], 500)
    result = kde_surface(xy, bandwidth_m=bandwidth_m, cell_size_m=cell_size_m, weights=w)
    # Default bounds pad by the bandwidth: nothing spills over the edge.
    assert result.total == pytest.approx(w.sum(), rel=1e-9)


def test_default_cell_size_is_arcgis_short_side_over_250():
    xy = np.array([[0.0, 0.0], [5000.0, 2500.0]])
    result = kde_surface(xy, bandwidth_m=500)
    assert result.cell_size_m == pytest.approx(10.0)  # min(5000, 2500) / 250
    minx, miny, maxx, maxy = result.bounds
    assert (minx, miny) == (-500.0, -500.0)
    assert maxx >= 5500 and maxy >= 3000
    nrows, ncols = result.density_per_km2.shape
    assert (maxx - minx) == pytest.approx(ncols * 10) and (maxy - miny) == pytest.approx(nrows * 10)


def test_image_orientation_north_up():
    # A point near the north edge shows in the top rows.
    result = kde_surface(
        np.array([[500.0, 950.0]]), bandwidth_m=40, cell_size_m=10, bounds=(0, 0, 1000, 1000)
    )
    top_row = np.unravel_index(np.argmax(result.density_per_km2), result.density_per_km2.shape)[0]
    assert top_row == 4  # y 950 is in cell row 95 from the south → 100 − 1 − 95 = 4 from the north


def test_geodataframe_input_with_weight_column_and_reprojection():
    to_wgs = Transformer.from_crs(schema.CRS_METRIC, schema.CRS_WGS84, always_xy=True)
    lon, lat = to_wgs.transform([661_000.0, 661_200.0], [6_590_000.0, 6_590_100.0])
    frame = gpd.GeoDataFrame(
        {schema.WEIGHT: [2.0, 3.0]}, geometry=gpd.points_from_xy(lon, lat), crs=schema.CRS_WGS84
    )
    before = frame.copy()
    result = kde_surface(frame, bandwidth_m=200, cell_size_m=20, weights=schema.WEIGHT)
    assert result.total == pytest.approx(5.0)
    assert result.bounds[0] == pytest.approx(661_000 - 200, abs=1e-3)
    assert frame.equals(before)


def test_points_outside_given_bounds_are_left_out():
    xy = np.array([[100.0, 100.0], [5000.0, 5000.0]])
    result = kde_surface(xy, bandwidth_m=10, cell_size_m=10, bounds=(0, 0, 1000, 1000))
    assert result.total == pytest.approx(1.0)


def test_bounds_wgs84_contains_the_points():
    result = kde_surface(np.array([[661_000.0, 6_590_000.0]]), bandwidth_m=300, cell_size_m=50)
    (south, west), (north, east) = result.bounds_wgs84()
    lon, lat = Transformer.from_crs(schema.CRS_METRIC, schema.CRS_WGS84, always_xy=True).transform(
        661_000.0, 6_590_000.0
    )
    assert south < lat < north and west < lon < east
    assert isinstance(result, KDEResult)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (np.zeros((2, 3)), {"bandwidth_m": 10}, TypeError, r"\(n, 2\) array"),
        (np.zeros((2, 2)), {"bandwidth_m": 0}, ValueError, "`bandwidth_m` was 0"),
        (
            np.zeros((2, 2)),
            {"bandwidth_m": 10, "cell_size_m": -1},
            ValueError,
            "`cell_size_m` was -1",
        ),
        (np.zeros((0, 2)), {"bandwidth_m": 10}, ValueError, "No points and no `bounds`"),
        (
            np.zeros((2, 2)),
            {"bandwidth_m": 10, "weights": [1.0]},
            ValueError,
            r"`weights` has shape \(1,\)",
        ),
        (
            np.zeros((2, 2)),
            {"bandwidth_m": 10, "weights": "weight"},
            ValueError,
            "names the column 'weight'",
        ),
        (np.zeros((2, 2)), {"bandwidth_m": 10, "bounds": (0, 0, 0, 5)}, ValueError, "`bounds` was"),
        (
            np.array([[0.0, 0.0]]),
            {"bandwidth_m": 10, "cell_size_m": 0.1, "bounds": (0, 0, 1e4, 1e4)},
            ValueError,
            "choose a larger `cell_size_m`",
        ),
    ],
    ids=[
        "shape",
        "bandwidth",
        "cell-size",
        "empty",
        "weights-shape",
        "weights-column",
        "bounds",
        "too-big",
    ],
)
def test_errors(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        kde_surface(args, **kwargs)


def test_frame_without_crs_is_refused():
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0], [0.0]))
    with pytest.raises(ValueError, match="has no CRS"):
        kde_surface(frame, bandwidth_m=10)
