"""Knox near-repeat test: counts against a brute-force pair count, pointpats' burkitt
reference, hand-made cases, and the chains."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo import nearrepeat as nr
from geo import schema


def _brute(xy, days, s, S, tau, T, distance="euclidean"):
    out = np.zeros((S + 2, T + 1), dtype=int)
    n = len(xy)
    for a in range(n):
        for b in range(a + 1, n):
            diff = xy[a] - xy[b]
            d = np.hypot(*diff) if distance == "euclidean" else np.abs(diff).sum()
            if d == 0:
                sb = 0
            elif d <= S * s:
                sb = int(np.ceil(d / s - 1e-9))
            else:
                sb = S + 1
            tb = min(int(np.floor(abs(days[a] - days[b]) / tau)), T)
            out[sb, tb] += 1
    return out


@pytest.mark.parametrize("distance", ["euclidean", "manhattan"])
def test_observed_counts_equal_a_brute_force_pair_count(distance):
    rng = np.random.default_rng(5)
    xy = np.round(rng.uniform(0, 1500, (300, 2)), 0)
    xy[:20] = xy[20:40]  # some repeats at the same place
    days = np.floor(rng.uniform(0, 120, 300))
    r = nr.knox_table(xy, days, space_band_m=100, space_bands=4, time_band_days=7,
                      time_bands=3, distance=distance, permutations=9, seed=0)  # fmt: skip
    np.testing.assert_array_equal(r.observed_matrix(), _brute(xy, days, 100, 4, 7, 3, distance))
    assert r.observed_matrix().sum() == 300 * 299 // 2


def test_expected_counts_sum_to_the_invariant_totals():
    # Locations fixed, dates permuted: row totals (distance bands) and column totals (time
    # bands) are the same in every permutation, so expected rows/columns sum to observed ones.
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 1000, (200, 2))
    days = rng.uniform(0, 60, 200)
    r = nr.knox_table(xy, days, space_band_m=50, space_bands=3, time_band_days=5,
                      time_bands=2, permutations=49, seed=3)  # fmt: skip
    exp = r.table.pivot(index="space_band", columns="time_band", values="expected").to_numpy()
    obs = r.observed_matrix()
    np.testing.assert_allclose(exp.sum(axis=1), obs.sum(axis=1))
    np.testing.assert_allclose(exp.sum(axis=0), obs.sum(axis=0))


def test_planted_near_repeats_are_found_with_the_calculators_sentence():
    # background: 400 incidents over a year and 3 km; planted: 40 pairs 30 m and 1 day apart
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 3000, (400, 2))
    days = rng.uniform(0, 365, 400)
    first = rng.uniform(0, 3000, (40, 2))
    t0 = rng.uniform(0, 360, 40)
    xy = np.vstack([xy, first, first + [30, 0]])
    days = np.concatenate([days, t0, t0 + 1])
    r = nr.knox_table(xy, days, space_band_m=100, space_bands=3, time_band_days=7,
                      time_bands=3, permutations=99, seed=42)  # fmt: skip
    cell = r.table[(r.table.space_band == 1) & (r.table.time_band == 0)].iloc[0]
    assert cell.observed >= 40 and cell.p == pytest.approx(0.01) and cell.ratio > 2
    same = r.table[(r.table.space_band == 0) & (r.table.time_band == 0)].iloc[0]
    assert same.observed == 0 and same.p == 1.0  # no repeats at the same place were planted
    text = r.summary()
    assert text[0].startswith("Inom 1–100 m är risken förhöjd i upp till 7 dagar")
    assert "% högre än om tid och plats vore oberoende" in text[0]


def test_p_value_is_one_plus_count_over_r_plus_one():
    # 3 incidents; any permutation gives the same pairs' distances; p ≥ 1/(R+1) always
    xy = np.array([[0, 0], [10, 0], [20, 0]], float)
    r = nr.knox_table(xy, np.array([0.0, 1.0, 2.0]), space_band_m=100, space_bands=1,
                      time_band_days=10, time_bands=1, permutations=19, seed=0)  # fmt: skip
    # every pair is within 100 m and 10 days in every permutation: #sim ≥ obs = 19
    cell = r.table[(r.table.space_band == 1) & (r.table.time_band == 0)].iloc[0]
    assert cell.observed == 3 and cell.expected == 3 and cell.p == 1.0
    assert r.permutations == 19


def test_seeded_permutations_repeat():
    rng = np.random.default_rng(2)
    xy, days = rng.uniform(0, 500, (80, 2)), rng.uniform(0, 30, 80)
    kw = dict(space_band_m=50, space_bands=2, time_band_days=3, time_bands=2, permutations=29)
    a = nr.knox_table(xy, days, seed=9, **kw).table
    b = nr.knox_table(xy, days, seed=9, **kw).table
    pd.testing.assert_frame_equal(a, b)


def test_bad_parameters_are_refused_with_the_value():
    xy, days = np.zeros((3, 2)), np.zeros(3)
    with pytest.raises(ValueError, match="`space_band_m` was -1"):
        nr.knox_table(xy, days, space_band_m=-1, space_bands=1, time_band_days=1, time_bands=1)
    with pytest.raises(ValueError, match='`distance` was "chebyshev"'):
        nr.knox_table(xy, days, space_band_m=1, space_bands=1, time_band_days=1, time_bands=1,
                      distance="chebyshev")  # fmt: skip
    with pytest.raises(ValueError, match="`time_bands` was 1.5"):
        nr.knox_table(xy, days, space_band_m=1, space_bands=1, time_band_days=1, time_bands=1.5)


# --- pointpats' burkitt reference --------------------------------------------------------------


def _burkitt():
    import libpysal

    path = Path(libpysal.examples.get_path("burkitt.shp"))
    frame = gpd.read_file(path)
    xy = np.column_stack([frame.geometry.x, frame.geometry.y])
    return xy, frame["T"].to_numpy(dtype=float)


def test_burkitt_reference_13_close_pairs_and_p_017():
    # pointpats' knox docstring: δ = 20, τ = 5 → 13 pairs with d ≤ 20 and |Δt| ≤ 5, p ≈ 0.17
    # with 99 permutations after np.random.seed(100). Its close set is "≤ 20 and ≤ 5": our
    # same-location + first band (0, 20], and, T being whole days, our [0, 6) days.
    xy, t = _burkitt()
    assert len(xy) == 188 and np.all(t == np.round(t))
    # pointpats shuffles its time column in place 99 times with the legacy global RNG:
    # reproduce that stream as explicit orders.
    rs = np.random.RandomState(100)
    order = np.arange(len(t))
    orders = []
    for _ in range(99):
        rs.shuffle(order)
        orders.append(order.copy())
    r = nr.knox_table(xy, t, space_band_m=20, space_bands=1, time_band_days=6, time_bands=1,
                      permutations=np.array(orders))  # fmt: skip
    obs = r.observed_matrix()
    close = obs[0, 0] + obs[1, 0]
    assert close == 13
    # pointpats folds its p (min(larger, R − larger) + 1)/(R + 1); recount from the same draws
    sims = []
    for o in orders:
        s = nr.knox_table(xy, t[o], space_band_m=20, space_bands=1, time_band_days=6,
                          time_bands=1, permutations=1, seed=0).observed_matrix()  # fmt: skip
        sims.append(s[0, 0] + s[1, 0])
    larger = int((np.array(sims) >= 13).sum())
    folded = (min(larger, 99 - larger) + 1) / 100
    assert f"{folded:.2f}" == "0.17"


# --- chains -------------------------------------------------------------------------------------


def test_chains_roles_and_ids_by_hand():
    # A(0,0) day 0 → B same place day 2 (repeat) → C 80 m away day 3 (near-repeat of A/B);
    # D far away; E, F: a second chain 50 m apart starting on day 10
    xy = np.array([[0, 0], [0, 0], [80, 0], [9000, 0], [4000, 0], [4050, 0]], float)
    days = np.array([0.0, 2.0, 3.0, 1.0, 11.0, 10.0])
    c = nr.chains(xy, days, link_m=100, link_days=7)
    assert c["role"].tolist() == [
        "originator",
        "repeat",
        "near_repeat",
        "none",
        "near_repeat",
        "originator",
    ]
    assert c["chain_id"].tolist() == [1, 1, 1, 0, 2, 2]
    assert c["chain_size"].tolist() == [3, 3, 3, 1, 2, 2]


def test_near_repeat_on_frames_writes_a_defused_csv():
    times = pd.DatetimeIndex(["2018-01-01", "2018-01-03", "2018-01-04", "2018-05-01"]).tz_localize(
        schema.TZ
    )
    inc = gpd.GeoDataFrame(
        {schema.ID: ["=1+1", "b", "c", "d"], schema.OCCURRED_AT: times, schema.CATEGORY: "inbrott"},
        geometry=gpd.points_from_xy([660000, 660000, 660060, 670000], [6590000] * 4),
        crs=schema.CRS_METRIC,
    )
    r = nr.near_repeat(inc, permutations=19, seed=1)
    assert "bara datum" in " ".join(r.messages)
    text = nr.chains_csv(r).decode("utf-8-sig")
    assert text.splitlines()[0] == "id,tidpunkt,kategori,lon,lat,roll,kedja,händelser i kedjan"
    assert "'=1+1" in text and "första i kedjan" in text and "upprepning (samma plats)" in text
    assert r.chain_summary().startswith("1 kedja med sammanlagt 3 händelser")
