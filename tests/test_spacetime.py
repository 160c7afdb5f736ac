"""Emerging hotspots: Mann–Kendall against scipy, every category on a hand-made series, and
whole cubes whose answer is known (a cell hot only in the last month is "new", ...)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from geo import schema
from geo import spacetime as st

# --- Mann–Kendall ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "series",
    [
        [1.0, 2.0, 3.0, 4.0, 5.0],
        [3.1, 1.2, 5.5, 2.2, 7.0, 6.1, 8.3],
        [1.0, 1.0, 2.0, 2.0, 2.0, 0.5, 3.0, 3.0],  # ties: groups of 2, 3, 2
        [-0.7, -0.7, -0.7, -1.2, 0.4, 0.4, 2.0, -3.0, 1.1, 1.1, 1.1, 1.1],
    ],
    ids=["rising", "noisy", "ties", "many-ties"],
)
def test_mann_kendall_matches_scipy_kendalltau_on_time(series):
    x = np.array(series)
    t = np.arange(len(x))
    ref = stats.kendalltau(t, x, method="asymptotic")
    got = st.mann_kendall(x, continuity=False)
    np.testing.assert_allclose(got.tau[0], ref.statistic, rtol=1e-12)
    np.testing.assert_allclose(got.p[0], ref.pvalue, rtol=1e-9)


def test_mann_kendall_tie_corrected_variance_by_hand():
    # x = 1, 2, 2, 4: S = +1 +1 +1 (from 1) + 0 +1 (from 2) + 1 (from 2) = 5
    # var = (4·3·13 − 2·1·9) / 18 = (156 − 18)/18 = 7.667; z = (5 − 1)/√7.667 = 1.4446
    r = st.mann_kendall(np.array([[1.0, 2.0, 2.0, 4.0]]))
    assert r.s[0] == 5
    np.testing.assert_allclose(r.var_s[0], 138 / 18)
    np.testing.assert_allclose(r.z[0], 4 / np.sqrt(138 / 18))
    np.testing.assert_allclose(r.p[0], 2 * stats.norm.sf(4 / np.sqrt(138 / 18)))


def test_mann_kendall_is_vectorised_row_by_row():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 9)).round(1)  # rounding makes ties
    whole = st.mann_kendall(x)
    for i in (0, 17, 49):
        one = st.mann_kendall(x[i])
        np.testing.assert_allclose(whole.z[i], one.z[0])
        np.testing.assert_allclose(whole.var_s[i], one.var_s[0])


def test_mann_kendall_refuses_short_or_nan_series():
    with pytest.raises(ValueError, match="at least 3"):
        st.mann_kendall(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="NaN"):
        st.mann_kendall(np.array([1.0, np.nan, 2.0]))


# --- every category on a hand-made series of bins ------------------------------------------------

H, C, N = 2, -2, 0  # hot, cold, not significant (95 % bins)
UP, DOWN, FLAT = (3.0, 0.001), (-3.0, 0.001), (0.5, 0.6)  # (mk_z, mk_p)

CASES = [
    # (bins over 10 steps, trend, expected)
    ([N] * 9 + [H], FLAT, "new_hotspot"),
    ([N] * 7 + [H] * 3, UP, "consecutive_hotspot"),
    ([N] + [H] * 9, UP, "intensifying_hotspot"),  # hot in 9 of 10 with a rising trend
    ([H] * 10, FLAT, "persistent_hotspot"),
    ([H] * 9 + [N, H][1:], DOWN, "diminishing_hotspot"),
    ([H, N, N, H, N, H, N, N, N, H], FLAT, "sporadic_hotspot"),
    ([C, N, N, H, N, N, N, N, N, H], FLAT, "oscillating_hotspot"),
    ([H] * 9 + [N], DOWN, "historical_hotspot"),
    ([N] * 9 + [C], FLAT, "new_coldspot"),
    ([N] * 6 + [C] * 4, DOWN, "consecutive_coldspot"),
    ([C] * 10, DOWN, "intensifying_coldspot"),
    ([C] * 10, FLAT, "persistent_coldspot"),
    ([N] + [C] * 9, UP, "diminishing_coldspot"),
    ([N, C, N, C, N, N, N, N, N, C], FLAT, "sporadic_coldspot"),
    ([N, H, N, N, N, N, N, N, N, C], FLAT, "oscillating_coldspot"),
    ([C] * 9 + [N], UP, "historical_coldspot"),
    ([N] * 10, FLAT, "no_pattern"),
    ([H, H, N, N, N, N, N, N, N, N], DOWN, "no_pattern"),  # hot earlier, not last, < 90 %
]


@pytest.mark.parametrize(
    "bins, trend, expected", CASES, ids=[c[2] + f"-{i}" for i, c in enumerate(CASES)]
)
def test_every_category_on_a_hand_made_series(bins, trend, expected):
    got = st.classify(np.array([bins]), np.array([trend[0]]), np.array([trend[1]]))
    assert got.tolist() == [expected]


def test_all_seventeen_categories_are_covered():
    assert {c[2] for c in CASES} == set(st.CATEGORIES)
    assert set(st.CATEGORY_LABELS) == set(st.CATEGORIES)
    assert st.CATEGORY_LABELS["persistent_hotspot"] == "ihållande hotspot"


def test_rule_choices_where_implementations_disagree():
    # 90 % is h/n ≥ 0.9 exactly: 10 of 12 hot (83 %) is not "most steps" (xarray-spatial
    # floors 0.9·12 to 10 and would call it persistent); it was never cold: sporadic.
    bins = np.array([[N, H, N] + [H] * 9])
    assert st.classify(bins, np.array([0.1]), np.array([0.8])).tolist() == ["sporadic_hotspot"]
    # sporadic needs the last step hot (ArcGIS; sfdep does not): hot twice, then quiet
    bins = np.array([[N, H, N, H, N, N, N, N, N, N]])
    assert st.classify(bins, np.array([0.0]), np.array([1.0])).tolist() == ["no_pattern"]
    # hot in ≥ 90 % but not the last, no trend: historical (sfdep tries persistent first)
    bins = np.array([[H] * 9 + [N]])
    assert st.classify(bins, np.array([0.0]), np.array([0.9])).tolist() == ["historical_hotspot"]
    # 90 % bins count when asked (min_bin=1)
    bins = np.array([[0] * 9 + [1]])
    assert st.classify(bins, np.zeros(1), np.ones(1)).tolist() == ["no_pattern"]
    assert st.classify(bins, np.zeros(1), np.ones(1), min_bin=1).tolist() == ["new_hotspot"]


def test_classify_refuses_an_unknown_bin_level():
    with pytest.raises(ValueError, match="min_bin"):
        st.classify(np.zeros((1, 5)), np.zeros(1), np.ones(1), min_bin=4)


# --- space-time Gi* --------------------------------------------------------------------------


def test_space_time_gistar_equals_gi_star_on_the_whole_cube():
    # Brute force: every bin of a 4-step 5×5 cube, neighbours = band in this and the
    # previous step; Gi* with the cube's global mean and sd (esda's formula).
    rng = np.random.default_rng(0)
    v = rng.poisson(1.0, (4, 5, 5)).astype(float)
    mask = np.ones((5, 5), bool)
    mask[0, 0] = False
    z = st.space_time_gistar(v, mask, 1.5, 1)
    cells = [(r, c) for r in range(5) for c in range(5) if mask[r, c]]
    bins = [(t, r, c) for t in range(4) for r, c in cells]
    y = np.array([v[b] for b in bins])
    n, mean, sd = len(y), y.mean(), y.std()
    for t, r, c in bins[::7]:
        nb = [
            k
            for k, (t2, r2, c2) in enumerate(bins)
            if t2 in (t, t - 1) and (r2 - r) ** 2 + (c2 - c) ** 2 <= 1.5**2
        ]
        k = len(nb)
        expect = (y[nb].sum() - k * mean) / (sd * np.sqrt((n * k - k * k) / (n - 1)))
        np.testing.assert_allclose(z[t, r, c], expect, rtol=1e-10)
    assert np.isnan(z[:, 0, 0]).all()


# --- whole cubes ------------------------------------------------------------------------------

AREA = gpd.GeoDataFrame(
    {"area_id": ["a"], "area_name": ["Prov"]},
    geometry=[shapely.box(0, 0, 2000, 2000)],
    crs=schema.CRS_METRIC,
)
RNG_SEED = 7


def _incidents(spec):
    """spec: list of (x, y, month index 0..11, count). Times on the 15th at 21:00 of 2018."""
    xs, ys, ts = [], [], []
    for x, y, m, n in spec:
        xs += [x] * n
        ys += [y] * n
        ts += [pd.Timestamp(2018, m + 1, 15, 21)] * n
    return gpd.GeoDataFrame(
        {schema.OCCURRED_AT: pd.DatetimeIndex(ts).tz_localize(schema.TZ)},
        geometry=gpd.points_from_xy(xs, ys),
        crs=schema.CRS_METRIC,
    )


def _background():
    # one incident in each of 16 spread-out cells every month: a flat background
    rng = np.random.default_rng(RNG_SEED)
    pts = rng.uniform(100, 1900, (16, 2))
    # (moved 7 m a month: twelve on one coordinate near the centre would be a stack)
    return [(x + 7 * m, y, m, 1) for x, y in pts for m in range(12)]


def _run(spec, **kw):
    inc = _incidents(_background() + spec)
    return st.emerging_hotspots(
        inc, AREA, cell_size_m=100, band_m=100, start="2018-01-01", end="2018-12-31", **kw
    )


def _category_at(result, x, y):
    hit = result.cells[result.cells.contains(shapely.Point(x, y))]
    return hit[st.CATEGORY].iloc[0]


def test_cube_cell_hot_only_in_the_last_month_is_new():
    r = _run([(1450, 650, 11, 12)])
    assert _category_at(r, 1450, 650) == "new_hotspot"
    assert len(r.steps) == 12 and r.steps[0] == "2018-01" and r.steps[-1] == "2018-12"


def test_cube_cell_hot_every_month_and_rising_is_intensifying():
    r = _run([(1450, 650, m, 4 + 2 * m) for m in range(12)])
    assert _category_at(r, 1450, 650) == "intensifying_hotspot"


def test_cube_cell_hot_every_month_and_falling_is_diminishing():
    r = _run([(1450, 650, m, 30 - 2 * m) for m in range(12)])
    assert _category_at(r, 1450, 650) == "diminishing_hotspot"


def test_cube_cell_hot_every_month_at_one_level_is_persistent():
    r = _run([(1450, 650, m, 8) for m in range(12)])
    assert _category_at(r, 1450, 650) == "persistent_hotspot"


def test_cube_cell_hot_until_the_last_month_is_historical():
    # Without time neighbours the quiet last month is not hot: historical.
    r = _run([(1450, 650, m, 10) for m in range(11)], time_steps=0)
    assert _category_at(r, 1450, 650) == "historical_hotspot"
    # With ArcGIS's default neighbourhood time step (1) the last month's Gi* still holds
    # November's ten incidents: hot in every step, persistent.
    r = _run([(1450, 650, m, 10) for m in range(11)])
    assert _category_at(r, 1450, 650) == "persistent_hotspot"


def test_cube_bins_layer_has_every_cell_and_step():
    r = _run([(1450, 650, 11, 12)])
    assert len(r.bins) == len(r.cells) * 12
    assert r.bins[schema.COUNT].sum() == pytest.approx(16 * 12 + 12)
    assert set(r.bins[schema.GI_BIN].unique()) <= {-3, -2, -1, 0, 1, 2, 3}
    cell = r.cells[r.cells.contains(shapely.Point(1450, 650))]["cell_id"].iloc[0]
    series = st.step_series(r, cell)
    assert series[schema.COUNT].iloc[-1] >= 12 and series[schema.GI_BIN].iloc[-1] >= 2


def test_cube_chooses_patrol_scale_parameters_when_not_given():
    inc = _incidents(_background() + [(1450, 650, m, 6) for m in range(12)])
    r = st.emerging_hotspots(inc, AREA)
    size = next(c for c in r.choices if c.name == "cell_size_m")
    band = next(c for c in r.choices if c.name == "band_m")
    assert 50 <= size.value <= 250 and size.area_id == "a"
    assert size.value <= band.value <= 1000


def test_cube_notes_a_partial_last_month_and_few_steps():
    inc = _incidents([(1450, 650, m, 10) for m in range(4)])
    r = st.emerging_hotspots(inc, AREA, cell_size_m=100, band_m=100, end="2018-04-20")
    text = " ".join(r.messages)
    assert "Sista månaden (2018-04) täcks bara delvis" in text
    assert "Bara 4 månader" in text


def test_cube_refuses_too_few_steps_and_bad_step():
    inc = _incidents([(1450, 650, m, 10) for m in range(2)])
    with pytest.raises(ValueError, match="minst 3"):
        st.emerging_hotspots(inc, AREA, cell_size_m=100, band_m=100)
    with pytest.raises(ValueError, match='`step` was "day"'):
        st.emerging_hotspots(inc, AREA, step="day")


def test_cube_leaves_out_points_stacked_on_the_area_centre():
    inc = _incidents(_background() + [(1000, 1000, m, 10) for m in range(12)])
    r = st.emerging_hotspots(inc, AREA, cell_size_m=100, band_m=100)
    assert r.bins[schema.COUNT].sum() == pytest.approx(16 * 12)
    assert "120 händelser ligger staplade på ett områdes mittpunkt" in r.messages[0]
    kept = st.emerging_hotspots(inc, AREA, cell_size_m=100, band_m=100, include_centre_points=True)
    assert kept.bins[schema.COUNT].sum() == pytest.approx(16 * 12 + 120)


def test_weeks_and_quarters():
    inc = _incidents(_background() + [(1450, 650, 11, 12)])
    r = st.emerging_hotspots(inc, AREA, step="quarter", cell_size_m=100, band_m=100,
                             start="2018-01-01", end="2018-12-31")  # fmt: skip
    assert r.steps == ["2018 kv1", "2018 kv2", "2018 kv3", "2018 kv4"]
    w = st.emerging_hotspots(inc, AREA, step="week", cell_size_m=100, band_m=100,
                             start="2018-01-01", end="2018-12-30")  # fmt: skip
    assert w.steps[0] == "2018-V01" and len(w.steps) == 52


def test_commander_summary_names_the_new_places():
    gaz = gpd.GeoDataFrame({"name": ["Torget"]}, geometry=[shapely.Point(1450, 650)], crs=3006)
    inc = _incidents(_background() + [(1450, 650, 11, 12)])
    r = st.emerging_hotspots(inc, AREA, cell_size_m=100, band_m=100, start="2018-01-01",
                             end="2018-12-31", gazetteer=gaz)  # fmt: skip
    text = st.commander_summary(r)
    assert text.startswith("En ny hotspot i december 2018: Torget")


def test_category_counts_per_area():
    r = _run([(1450, 650, 11, 12)])
    counts = st.category_counts(r)
    assert counts["categories"]["new_hotspot"] >= 1
    assert sum(counts["per_area"]["a"].values()) == len(r.cells)
