"""Tests for geo.compare: periods, the exact rate-ratio test, WDQ, WDD and the zone table."""

from __future__ import annotations

import math
import shutil
import subprocess
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from shapely.geometry import Point, box

from geo import compare, compare_report, schema
from geo.compare import Period
from geo.errors import InputError

BEFORE = Period(date(2017, 1, 1), date(2017, 12, 31))  # 365 days
AFTER = Period(date(2018, 1, 1), date(2018, 12, 31))  # 365 days
B_DAY, A_DAY = "2017-06-01 12:00", "2018-06-01 12:00"
# The hand-made incidents fall on a few days only; say the data covers both years in full
# (otherwise the periods would be cut to the first and last incident, as tested below).
FULL = compare.Coverage(date(2016, 1, 1), date(2019, 12, 31))


def compare_zones(*args, **kwargs):
    kwargs.setdefault("coverage", FULL)
    return compare.compare_zones(*args, **kwargs)


def make_incidents(spec, *, category="våld på offentlig plats"):
    """spec: list of (x, y, local time text, how many)."""
    rows = [(x, y, t) for x, y, t, n in spec for _ in range(n)]
    return gpd.GeoDataFrame(
        {
            schema.ID: [str(i) for i in range(len(rows))],
            schema.OCCURRED_AT: pd.to_datetime(
                [t for _, _, t in rows], format="ISO8601"
            ).tz_localize(schema.TZ),
            schema.CATEGORY: category,
            schema.WEIGHT: 1.0,
        },
        geometry=[Point(x, y) for x, y, _ in rows],
        crs=schema.CRS_METRIC,
    )


def zone_frame():
    # zone 0..100 square; its 250 m ring reaches to -250..350
    return gpd.GeoDataFrame(
        {schema.ZONE_ID: ["z1"], schema.NAME: ["Stationen"]},
        geometry=[box(0, 0, 100, 100)],
        crs=schema.CRS_METRIC,
    )


def area_frame():
    return gpd.GeoDataFrame(
        {schema.AREA_ID: ["k"], schema.AREA_NAME: ["Kommunen"]},
        geometry=[box(-3000, -3000, 3000, 3000)],
        crs=schema.CRS_METRIC,
    )


def scenario(zone=(40, 10), ring=(10, 30), control=(200, 200)):
    """Counts before/after in the zone (50,50), the ring (200,50) and the control (2000,2000)."""
    return make_incidents(
        [
            (50, 50, B_DAY, zone[0]),
            (50, 50, A_DAY, zone[1]),
            (200, 50, B_DAY, ring[0]),
            (200, 50, A_DAY, ring[1]),
            (2000, 2000, B_DAY, control[0]),
            (2000, 2000, A_DAY, control[1]),
        ]
    )


# --- periods ------------------------------------------------------------------------------


def test_period_days_and_text():
    assert BEFORE.days == 365
    assert Period(date(2016, 1, 1), date(2016, 12, 31)).days == 366  # leap year
    assert Period(date(2018, 3, 1), date(2018, 3, 1)).days == 1
    assert str(Period.parse(" 2018-03-01 : 2018-03-31 ")) == "2018-03-01:2018-03-31"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2018-01-01", "är inte START:SLUT"),
        ("2018-01-01:2018-02-30", "inte är ÅÅÅÅ-MM-DD"),
        ("2018-13-01:2018-12-31", "inte är ÅÅÅÅ-MM-DD"),
        ("2018-05-01:2018-04-30", "slutar innan den börjar"),
    ],
    ids=["no-colon", "bad-day", "bad-month", "reversed"],
)
def test_period_parse_errors(text, message):
    with pytest.raises(InputError, match=message):
        Period.parse(text)


def test_period_type_error():
    with pytest.raises(TypeError, match="expected to be a datetime.date"):
        Period("2018-01-01", date(2018, 2, 1))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("2017-01-01:2017-12-31", "2017-12-31:2018-06-30"),
        ("2018-01-01:2018-12-31", "2017-01-01:2017-12-31"),
    ],
    ids=["overlap-one-day", "wrong-order"],
)
def test_check_periods_rejects(before, after):
    with pytest.raises(InputError, match="överlappar eller kommer i fel ordning"):
        compare.check_periods(Period.parse(before), Period.parse(after))


def test_promise_year_presets():
    before, after = compare.promise_year_presets(date(2018, 1, 1))
    assert (str(before), str(after)) == ("2017-01-01:2017-12-31", "2018-01-01:2018-12-31")
    # 2020-02-29 a year later has no 29 February: 2021-02-28
    before, after = compare.promise_year_presets(date(2020, 2, 29))
    assert (str(before), str(after)) == ("2019-02-28:2020-02-28", "2020-02-29:2021-02-27")
    with pytest.raises(TypeError, match="expected to be a date"):
        compare.promise_year_presets("2018-01-01")


def test_same_months_year_apart():
    before, after = compare.same_months_year_apart(date(2018, 6, 1), date(2018, 8, 31))
    assert (str(before), str(after)) == ("2017-06-01:2017-08-31", "2018-06-01:2018-08-31")
    with pytest.raises(InputError, match="överlappar"):
        compare.same_months_year_apart(date(2018, 1, 1), date(2019, 3, 1))


# --- exact rate-ratio test ----------------------------------------------------------------


def clopper_pearson(x, n, alpha=0.05):
    """Independent reference: the Clopper–Pearson interval from beta quantiles."""
    low = 0.0 if x == 0 else stats.beta.ppf(alpha / 2, x, n - x + 1)
    high = 1.0 if x == n else stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
    return low, high


@pytest.mark.parametrize(
    ("b", "a", "t_b", "t_a"),
    [(20, 10, 365, 365), (40, 10, 365, 181), (7, 15, 90, 120), (0, 5, 30, 30), (5, 0, 30, 60)],
    ids=["equal-halved", "unequal-lengths", "increase", "none-before", "none-after"],
)
def test_rate_ratio_against_scipy_and_beta(b, a, t_b, t_a):
    result = compare.rate_ratio_test(b, a, t_b, t_a)
    n = a + b
    expected_p = stats.binomtest(a, n, t_a / (t_a + t_b)).pvalue
    np.testing.assert_allclose(result.p_value, expected_p, rtol=1e-12)
    low, high = clopper_pearson(a, n)
    odds = [p / (1 - p) * t_b / t_a if p < 1 else math.inf for p in (low, high)]
    np.testing.assert_allclose([result.ci_low, result.ci_high], odds, rtol=1e-7)
    rr = math.inf if b == 0 else (a / t_a) / (b / t_b)
    np.testing.assert_allclose(result.rate_ratio, rr)
    assert result.ci_low <= result.rate_ratio <= result.ci_high


def test_rate_ratio_hand_values():
    # 10 before, 0 after, equal lengths: P(all 10 on one side) = 2 * 0.5**10 = 0.001953125
    result = compare.rate_ratio_test(10, 0, 100, 100)
    np.testing.assert_allclose(result.p_value, 0.001953125)
    # x = 0: upper p = 1 - 0.025**(1/10) = 0.30849...; RR_high = p / (1 - p)
    p_high = 1 - 0.025 ** (1 / 10)
    np.testing.assert_allclose(result.ci_high, p_high / (1 - p_high))
    assert result.rate_ratio == 0.0 and result.ci_low == 0.0
    # 10 vs 10 in equal periods: p-value 1
    np.testing.assert_allclose(compare.rate_ratio_test(10, 10, 365, 365).p_value, 1.0)


def test_rate_ratio_no_incidents_is_undefined():
    result = compare.rate_ratio_test(0, 0, 365, 365)
    assert all(math.isnan(v) for v in (result.rate_ratio, result.p_value, result.ci_low))


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((-1, 3, 10, 10), ValueError, "count_before` was -1"),
        ((1.5, 3, 10, 10), TypeError, "whole number"),
        ((1, 3, 0, 10), ValueError, "days_before` was 0"),
        ((1, 3, 10, "x"), TypeError, "days_after"),
    ],
    ids=["negative", "fraction", "zero-days", "text-days"],
)
def test_rate_ratio_errors(args, error, message):
    with pytest.raises(error, match=message):
        compare.rate_ratio_test(*args)


# --- WDQ (Bowers & Johnson 2003) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "success", "buffer", "quotient", "net", "note"),
    [
        # Success = 50/1000 - 100/1000 = -0.05; Buffer = 60/1000 - 40/1000 = 0.02;
        # WDQ = 0.02 / -0.05 = -0.4; TNE = (100 - 50) + (40 - 60) = 30
        ((100, 50, 40, 60, 1000, 1000), -0.05, 0.02, -0.4, 30.0, "ungefär 4 fler i närområdet"),
        # Buffer = 20/1000 - 40/1000 = -0.02; WDQ = 0.4; TNE = 50 + 20 = 70
        ((100, 50, 40, 20, 1000, 1000), -0.05, -0.02, 0.4, 70.0, "ungefär 4 färre i närområdet"),
        # control halves: Success = 20/100 - 60/200 = -0.1; Buffer = 20/100 - 10/200 = 0.15;
        # WDQ = -1.5; TNE = (60*0.5 - 20) + (10*0.5 - 20) = 10 - 15 = -5
        ((60, 20, 10, 20, 200, 100), -0.1, 0.15, -1.5, -5.0, "under −1"),
        # Buffer = 10/100 - 5/100 = 0.05... diffusion bigger than the effect:
        # Success = 40/100 - 50/100 = -0.1; Buffer = 10/100 - 30/100 = -0.2; WDQ = 2
        ((50, 40, 30, 10, 100, 100), -0.1, -0.2, 2.0, 30.0, "WDQ 2,00, över 1"),
    ],
    ids=["displacement", "diffusion", "control-halves", "diffusion-above-1"],
)
def test_wdq_hand_cases(counts, success, buffer, quotient, net, note):
    d = compare.wdq(*counts)
    np.testing.assert_allclose(
        [d.success, d.buffer, d.wdq, d.net_effect], [success, buffer, quotient, net]
    )
    assert note in d.note


def test_wdq_undefined_when_success_zero():
    # Success = 30/250 - 60/500 = 0.12 - 0.12 = 0
    d = compare.wdq(60, 30, 20, 30, 500, 250)
    assert d.success == 0 and math.isnan(d.wdq)
    assert "odefinierad" in d.note


def test_wdq_not_interpreted_when_zone_got_worse():
    d = compare.wdq(10, 30, 10, 10, 100, 100)  # Success = 0.3 - 0.1 = 0.2 > 0
    np.testing.assert_allclose(d.wdq, 0.0)
    assert "tolkas inte" in d.note


def test_wdq_empty_control():
    d = compare.wdq(10, 5, 3, 3, 0, 10)
    assert math.isnan(d.wdq) and "kontrollområdet saknar" in d.note


def test_wdq_rejects_negative():
    with pytest.raises(ValueError, match="r_before` was -1"):
        compare.wdq(-1, 5, 3, 3, 10, 10)


# --- WDD (Wheeler & Ratcliffe 2018) -------------------------------------------------------


def test_wdd_design_worked_case():
    # DESIGN.md §4: control 100 -> 90, treated 100 -> 80: WDD = -20 - (-10) = -10,
    # SE = sqrt(100 + 80 + 100 + 90) = sqrt(370) = 19.235...
    r = compare.wdd(100, 80, 100, 90)
    np.testing.assert_allclose([r.wdd, r.se], [-10.0, 19.235384])
    np.testing.assert_allclose(r.z, -10 / math.sqrt(370))
    np.testing.assert_allclose(r.p_value, 2 * stats.norm.cdf(-10 / math.sqrt(370)))
    assert r.form == "ΔT − ΔC"


@pytest.mark.parametrize(
    ("args", "kwargs", "value", "variance", "form"),
    [
        # + buffer 50 -> 60: -20 + 10 + 10 = 0; variance 370 + 110 = 480
        ((100, 80, 100, 90, 50, 60), {}, 0.0, 480.0, "ΔT − ΔC + ΔD"),
        # + control buffer 40 -> 30: 0 - (-10) = 10; variance 480 + 70 = 550
        ((100, 80, 100, 90, 50, 60, 40, 30), {}, 10.0, 550.0, "ΔT − ΔC + ΔD − ΔDC"),
        # after period half as long (scale 2): T 100 -> 2*40, C 100 -> 2*45: -20 + 10 = -10;
        # variance 100 + 4*40 + 100 + 4*45 = 540
        ((100, 40, 100, 45), {"after_scale": 2.0}, -10.0, 540.0, "ΔT − ΔC"),
    ],
    ids=["with-buffer", "full-form", "unequal-periods"],
)
def test_wdd_forms(args, kwargs, value, variance, form):
    r = compare.wdd(*args, **kwargs)
    np.testing.assert_allclose([r.wdd, r.se], [value, math.sqrt(variance)])
    assert r.form == form


def test_wdd_all_zero_has_no_z():
    r = compare.wdd(0, 0, 0, 0)
    assert r.wdd == 0 and r.se == 0 and math.isnan(r.z) and math.isnan(r.p_value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, 1, 1, 1, 5, None), "both `buffer_before` and `buffer_after`"),
        ((1, 1, 1, 1, None, None, 3, 4), "needs the treated buffer"),
        ((1, 1, 1, 1, None, None, 3, None), "both `control_buffer_before`"),
        ((1, -1, 1, 1), "treated_after` was -1"),
    ],
    ids=["half-buffer", "dc-without-buffer", "half-dc", "negative"],
)
def test_wdd_errors(args, message):
    with pytest.raises(ValueError, match=message):
        compare.wdd(*args)


def test_buffer_vs_control_is_fisher():
    table = [[30, 10], [200, 200]]  # after/before for the ring, then the control
    expected = stats.fisher_exact(table).pvalue
    np.testing.assert_allclose(compare.buffer_vs_control_p(10, 30, 200, 200), expected)
    assert math.isnan(compare.buffer_vs_control_p(0, 0, 10, 10))


# --- verdicts -----------------------------------------------------------------------------


def verdict_row(**overrides):
    """A zone that fell 40 → 10 (significant), ring unchanged, net test significant."""
    row = {
        compare.KIND: "zon",
        compare.BEFORE_COUNT: 40,
        compare.AFTER_COUNT: 10,
        compare.P_VALUE: 0.001,
        compare.RATE_RATIO: 0.25,
        compare.CONTROL_BEFORE: 200,
        compare.CONTROL_AFTER: 200,
        compare.CONTROL_NAME: "resten av Kommunen",
        compare.CONTROL_STATE: "ok",
        compare.SUCCESS: -0.15,
        compare.SUCCESS_P: 0.001,
        compare.BUFFER_TERM: 0.0,
        compare.BUFFER_P: 0.9,
        compare.NET_TEST: "WDD",
        compare.NET_P: 0.01,
        compare.NET_RATIO: 0.5,
        compare.WDD: -30.0,
        compare.WDD_P: 0.01,
    }
    row.update(overrides)
    return row


SIG, NOT = 0.01, 0.4
UP = {compare.BUFFER_TERM: 0.1, compare.BUFFER_P: SIG}  # ring rose against the control
DOWN = {compare.BUFFER_TERM: -0.1, compare.BUFFER_P: SIG}  # ring fell against the control
NO_NET = {compare.NET_P: NOT, compare.WDD_P: NOT}
SMALL = {compare.CONTROL_STATE: "för litet", compare.CONTROL_BEFORE: 4, compare.CONTROL_AFTER: 1}
LARGE = {compare.CONTROL_STATE: "stort", compare.NET_TEST: "kvottest", compare.WDD_P: NOT}
LIKE_CONTROL = {compare.SUCCESS_P: NOT}  # the zone changed as the control did


@pytest.mark.parametrize(
    ("overrides", "headline", "sentence"),
    [
        ({compare.BEFORE_COUNT: 5, compare.AFTER_COUNT: 4}, compare.TOO_FEW,
         "För få våldsbrott i zonen (9 före och efter sammanlagt)"),
        ({compare.P_VALUE: 0.2}, compare.NO_CHANGE, "Ingen säker förändring av antalet våldsbrott"),
        ({compare.RATE_RATIO: 3.0}, compare.INCREASE, "Fler våldsbrott i zonen efter insatserna"),
        ({compare.RATE_RATIO: 3.0, **LIKE_CONTROL}, compare.INCREASE,
         "men lika mycket fler i kontrollområdet (resten av Kommunen)"),
        ({compare.RATE_RATIO: 3.0, **LIKE_CONTROL, **SMALL}, compare.INCREASE,
         "Fler våldsbrott i zonen efter insatserna"),
        ({}, compare.DECREASE, "utan tecken på att de flyttat till närområdet: en säker nettominskning"),
        ({**LARGE}, compare.DECREASE, "en säker nettominskning"),  # the ratio test decides
        ({**SMALL}, compare.UNCONTROLLED, "har för få händelser för att visa om det var insatserna"),
        ({**SMALL, **UP}, compare.UNCONTROLLED, "har för få händelser"),
        ({**UP}, compare.DISPLACEMENT, "men fler i närområdet; räknat tillsammans ändå en säker nettominskning"),
        ({**UP, **NO_NET}, compare.DISPLACEMENT, "men fler i närområdet: ingen säker nettoeffekt"),
        ({**UP, **LARGE, compare.NET_P: NOT}, compare.DISPLACEMENT, "ingen säker nettoeffekt"),
        ({**DOWN}, compare.DIFFUSION, "både i zonen och i närområdet: en säker nettominskning"),
        ({**DOWN, **NO_NET}, compare.NO_NET, "i zonen och i närområdet, men inte säkert mer än i kontrollområdet"),
        ({**NO_NET}, compare.NO_NET, "men lika många i närområdet: ingen säker nettoeffekt"),
        ({**NO_NET, **LIKE_CONTROL}, compare.NO_NET, "men lika mycket färre i kontrollområdet (resten av Kommunen): ingen säker effekt"),
        # zone worse than the control (Success > 0): a rising ring is not displacement
        ({compare.SUCCESS: 0.1, **UP}, compare.DECREASE, "en säker nettominskning"),
        # a significant WDD that says "more" is no net reduction
        ({compare.WDD: 12.0}, compare.NO_NET, "ingen säker nettoeffekt"),
    ],
    ids=["too-few", "no-change", "increase", "increase-like-control", "increase-small-control",
         "decrease", "decrease-large-control", "small-control", "small-control-ring-up",
         "displacement-net", "displacement-no-net", "displacement-large-control", "diffusion",
         "diffusion-no-net", "no-net", "no-net-like-control", "success-positive", "wdd-up"],
)  # fmt: skip
def test_verdict_for_each_zone_buffer_and_control_outcome(overrides, headline, sentence):
    found = compare.verdict(verdict_row(**overrides), noun="våldsbrott")
    assert found.headline == headline
    assert sentence in found.sentence
    # headline and sentence agree: a "säker" gain is never claimed without a significant test
    if "säker nettominskning" in found.sentence and "ändå" not in found.sentence:
        assert found.headline in (compare.DECREASE, compare.DIFFUSION)


def test_verdict_uses_the_adjusted_p_values():
    row = verdict_row(**{compare.P_ADJ: 0.09})  # raw 0.001, but not after Holm
    assert compare.verdict(row).headline == compare.NO_CHANGE


def test_verdict_warnings():
    found = compare.verdict(verdict_row(**{compare.BEFORE_COUNT: 5, compare.AFTER_COUNT: 4}))
    assert any("För få händelser (9" in w for w in found.warnings)
    found = compare.verdict(verdict_row(**NO_NET))
    assert any("minskade inte säkert mer än kontrollområdet (WDD (p = 0,40))" in w
               for w in found.warnings)  # fmt: skip


def test_area_rows_get_zone_free_sentences():
    row = {compare.KIND: "område", schema.NAME: "Järfälla (lpo)", compare.BEFORE_COUNT: 900,
           compare.AFTER_COUNT: 700, compare.P_VALUE: 0.0001, compare.RATE_RATIO: 0.78}  # fmt: skip
    found = compare.verdict(row)
    assert (found.headline, found.sentence) == (
        compare.DECREASE, "Färre händelser i Järfälla (lpo): en säker minskning."
    )  # fmt: skip


# --- Holm across zones ----------------------------------------------------------------------


def test_holm_hand_worked_case():
    # Holm (1979), m = 4: sorted p 0.005, 0.01, 0.03, 0.04 → 4·0.005 = 0.02, 3·0.01 = 0.03,
    # 2·0.03 = 0.06, 1·0.04 = 0.04 → made monotone: 0.06. At α 0.05 the first two hold.
    adjusted = compare.holm([0.01, 0.04, 0.005, 0.03])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.02, 0.06])
    np.testing.assert_allclose(compare.holm([0.6, 0.9]), [1.0, 1.0])  # 2·0.6 capped at 1; monotone
    assert compare.holm([]).tolist() == []


def test_several_zones_are_judged_with_holm():
    # Three zones, each 30 → 15 against a steady control: raw p = binomtest(15, 45) = 0.036
    # each, below 0.05; Holm multiplies the smallest by 3 (0.108): no zone is "säker".
    spec = []
    for x in (50, 1050, 2050):
        spec += [(x, 50, B_DAY, 30), (x, 50, A_DAY, 15)]
    spec += [(5000, 5000, B_DAY, 300), (5000, 5000, A_DAY, 300)]
    zones = gpd.GeoDataFrame(
        {schema.ZONE_ID: ["a", "b", "c"]}, crs=schema.CRS_METRIC,
        geometry=[box(0, 0, 100, 100), box(1000, 0, 1100, 100), box(2000, 0, 2100, 100)],
    )  # fmt: skip
    out = compare_zones(make_incidents(spec), zones, before=BEFORE, after=AFTER)
    z = out[out[compare.KIND] == "zon"]
    raw = stats.binomtest(15, 45, 0.5).pvalue
    np.testing.assert_allclose(z[compare.P_VALUE], [raw] * 3)
    np.testing.assert_allclose(z[compare.P_ADJ], [min(1, 3 * raw)] * 3)
    assert raw < 0.05 and set(z[compare.VERDICT]) == {compare.NO_CHANGE}
    one = compare_zones(make_incidents(spec), zones.iloc[:1], before=BEFORE, after=AFTER)
    assert one.iloc[0][compare.VERDICT] != compare.NO_CHANGE  # alone, the same zone is sure


def test_a_control_too_small_to_mean_anything_gets_no_wdq():
    # The zone covers nearly the whole area: the control holds 4 → 2 incidents.
    incidents = scenario(control=(4, 2))
    z = compare_zones(incidents, zone_frame(), before=BEFORE, after=AFTER, areas=area_frame())
    z = z.iloc[0]
    assert z[compare.CONTROL_STATE] == "för litet" and math.isnan(z[compare.WDQ])
    assert "WDQ räknas inte" in z[compare.WDQ_NOTE]
    assert z[compare.VERDICT] == compare.UNCONTROLLED
    assert any("för få händelser (4 före, 2 efter" in w for w in z[compare.WARNINGS])


# --- compare_zones ------------------------------------------------------------------------


def test_compare_zones_displacement_by_hand():
    incidents = scenario()
    zones, areas = zone_frame(), area_frame()
    before_inc, before_zones = incidents.copy(), zones.copy()
    out = compare_zones(incidents, zones, before=BEFORE, after=AFTER, areas=areas)
    pd.testing.assert_frame_equal(incidents, before_inc)  # inputs untouched
    pd.testing.assert_frame_equal(zones, before_zones)
    assert list(out[compare.KIND]) == ["zon", "område"]
    z = out.iloc[0]
    assert (z[compare.BEFORE_COUNT], z[compare.AFTER_COUNT]) == (40, 10)
    assert (z[compare.BUFFER_BEFORE], z[compare.BUFFER_AFTER]) == (10, 30)
    assert (z[compare.CONTROL_BEFORE], z[compare.CONTROL_AFTER]) == (200, 200)
    # rates: 40/365*30 = 3.2877, 10/365*30 = 0.8219; change -75 %; RR 0.25
    np.testing.assert_allclose(
        z[[compare.BEFORE_RATE, compare.AFTER_RATE, compare.CHANGE_PCT, compare.RATE_RATIO]].astype(
            float
        ),
        [40 / 365 * 30, 10 / 365 * 30, -75.0, 0.25],
    )
    np.testing.assert_allclose(z[compare.P_VALUE], stats.binomtest(10, 50, 0.5).pvalue)
    # Success = 10/200 - 40/200 = -0.15; Buffer = 30/200 - 10/200 = 0.1; WDQ = -2/3
    np.testing.assert_allclose(
        z[[compare.SUCCESS, compare.BUFFER_TERM, compare.WDQ]].astype(float), [-0.15, 0.1, -2 / 3]
    )
    # WDD = (10-40) - (200-200) + (30-10) = -10; variance 40+10+200+200+10+30 = 490
    np.testing.assert_allclose(
        z[[compare.WDD, compare.WDD_SE]].astype(float), [-10, math.sqrt(490)]
    )
    assert z[compare.WDD_FORM] == "ΔT − ΔC + ΔD"
    assert z[compare.VERDICT] == compare.DISPLACEMENT
    area = out.iloc[1]
    # area total: 40+10+200 before, 10+30+200 after
    assert (area[compare.BEFORE_COUNT], area[compare.AFTER_COUNT]) == (250, 240)
    assert area[schema.NAME] == "Kommunen"
    assert math.isnan(area[compare.WDQ])


def test_compare_zones_diffusion_and_rtm_warning():
    out = compare_zones(
        scenario(ring=(40, 10)),
        zone_frame(),
        before=BEFORE,
        after=AFTER,
        areas=area_frame(),
        zones_source="before_hotspots",
    )
    z = out.iloc[0]
    assert z[compare.VERDICT] == compare.DIFFUSION
    assert any("Regression mot medelvärdet" in w for w in z[compare.WARNINGS])


def test_compare_zones_without_areas_uses_everything_else_as_control():
    out = compare_zones(scenario(), zone_frame(), before=BEFORE, after=AFTER)
    assert (out.iloc[0][compare.CONTROL_BEFORE], out.iloc[0][compare.CONTROL_AFTER]) == (200, 200)
    assert out.iloc[1][schema.NAME] == "Alla händelser"


def test_compare_zones_user_control_uses_full_wdd():
    incidents = pd.concat(
        [
            scenario(control=(0, 0)),
            make_incidents([(1000, 1000, B_DAY, 50), (1000, 1000, A_DAY, 40)]),  # control
            make_incidents([(1000, 1150, B_DAY, 20), (1000, 1150, A_DAY, 25)]),  # its ring
        ],
        ignore_index=True,
    )
    control = gpd.GeoDataFrame(geometry=[box(900, 900, 1100, 1100)], crs=schema.CRS_METRIC)
    z = compare_zones(incidents, zone_frame(), before=BEFORE, after=AFTER, control=control)
    z = z.iloc[0]
    assert (z[compare.CONTROL_BEFORE], z[compare.CONTROL_AFTER]) == (50, 40)
    assert (z[compare.CONTROL_BUFFER_BEFORE], z[compare.CONTROL_BUFFER_AFTER]) == (20, 25)
    # WDD = (10-40) - (40-50) + (30-10) - (25-20) = -30 + 10 + 20 - 5 = -5
    # variance = 40+10 + 50+40 + 10+30 + 20+25 = 225
    np.testing.assert_allclose(z[[compare.WDD, compare.WDD_SE]].astype(float), [-5, 15])
    assert z[compare.WDD_FORM] == "ΔT − ΔC + ΔD − ΔDC"


def test_compare_zones_unequal_periods_per_30_days():
    incidents = make_incidents([(50, 50, "2017-03-10", 60), (50, 50, "2018-03-10", 10)])
    before = Period(date(2017, 1, 1), date(2017, 6, 29))  # 180 days
    after = Period(date(2018, 3, 1), date(2018, 3, 30))  # 30 days
    z = compare_zones(incidents, zone_frame(), before=before, after=after).iloc[0]
    # 60 in 180 days = 10 per 30 days; 10 in 30 days = 10 per 30 days: no change
    np.testing.assert_allclose(z[[compare.BEFORE_RATE, compare.AFTER_RATE]].astype(float), [10, 10])
    np.testing.assert_allclose(z[compare.RATE_RATIO], 1.0)
    np.testing.assert_allclose(z[compare.P_VALUE], stats.binomtest(10, 70, 30 / 210).pvalue)
    assert z[compare.VERDICT] == compare.NO_CHANGE


def test_compare_zones_period_bounds_are_local_days():
    incidents = make_incidents(
        [
            (50, 50, "2017-12-31 23:59", 1),  # last minute of the before period
            (50, 50, "2018-01-01 00:00", 1),  # first minute of the after period
            (50, 50, "2016-12-31 23:59", 1),  # outside both
        ]
    )
    z = compare_zones(incidents, zone_frame(), before=BEFORE, after=AFTER).iloc[0]
    assert (z[compare.BEFORE_COUNT], z[compare.AFTER_COUNT]) == (1, 1)
    assert any("För få händelser (2" in w for w in z[compare.WARNINGS])


def test_compare_zones_categories_and_reprojected_zones():
    incidents = pd.concat(
        [scenario(), make_incidents([(50, 50, A_DAY, 100)], category="stöld")], ignore_index=True
    )
    zones_wgs84 = zone_frame().to_crs(schema.CRS_WGS84)
    z = compare_zones(
        incidents,
        zones_wgs84,
        before=BEFORE,
        after=AFTER,
        categories=["våld på offentlig plats"],
    ).iloc[0]
    assert (z[compare.BEFORE_COUNT], z[compare.AFTER_COUNT]) == (40, 10)


def test_compare_zones_window():
    incidents = make_incidents([(50, 50, "2017-06-02 23:00", 12), (50, 50, "2017-06-02 12:00", 7)])
    z = compare_zones(incidents, zone_frame(), before=BEFORE, after=AFTER, window="natt").iloc[0]
    assert z[compare.BEFORE_COUNT] == 12  # 23:00 is night, 12:00 is not


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"buffer_m": 0}, ValueError, "buffer_m` was 0"),
        ({"zones_source": "magic"}, ValueError, 'zones_source` was "magic"'),
        ({"after": Period.parse("2017-06-01:2017-07-01")}, InputError, "överlappar"),
        ({"categories": ["kaffe"]}, ValueError, "kaffe"),
    ],
    ids=["buffer", "source", "overlap", "category"],
)
def test_compare_zones_errors(kwargs, error, message):
    args = {"before": BEFORE, "after": AFTER, **kwargs}
    with pytest.raises(error, match=message):
        compare_zones(scenario(), zone_frame(), **args)


@pytest.mark.parametrize(
    ("zones", "message"),
    [
        (gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]), "saknar koordinatsystem"),
        (gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=schema.CRS_METRIC), "måste vara polygoner"),
        (gpd.GeoDataFrame(geometry=[], crs=schema.CRS_METRIC), "tomt"),
        (
            gpd.GeoDataFrame(
                {schema.ZONE_ID: ["a", "a"]}, geometry=[box(0, 0, 1, 1)] * 2, crs=schema.CRS_METRIC
            ),
            "unika",
        ),
    ],
    ids=["no-crs", "points", "empty", "repeated-id"],
)
def test_prepare_zones_errors(zones, message):
    with pytest.raises(InputError, match=message):
        compare.prepare_zones(zones)


def test_prepare_zones_reads_area_columns():
    areas = area_frame()
    out = compare.prepare_zones(areas)
    assert out[[schema.ZONE_ID, schema.NAME]].values.tolist() == [["k", "Kommunen"]]
    with pytest.raises(TypeError, match="expected to be a GeoDataFrame"):
        compare.prepare_zones(pd.DataFrame({"a": [1]}))


# --- trend --------------------------------------------------------------------------------


def test_trend_weekly_fills_empty_weeks():
    incidents = make_incidents(
        [
            (50, 50, "2018-01-01 10:00", 2),
            (50, 50, "2018-01-07 23:00", 1),
            (50, 50, "2018-01-17", 3),
        ]
    )
    out = compare.trend(incidents, zone_frame(), freq="W")
    # weeks starting Mon 1 Jan (2018-01-01 and Sun 7 Jan), Mon 8 Jan (none), Mon 15 Jan (3)
    assert out[schema.COUNT].tolist() == [3, 0, 3]
    assert [str(d.date()) for d in out[compare.PERIOD_START]] == [
        "2018-01-01",
        "2018-01-08",
        "2018-01-15",
    ]


def test_trend_monthly_with_span_and_error():
    incidents = make_incidents([(50, 50, "2018-02-10", 4), (5000, 5000, "2018-02-10", 9)])
    out = compare.trend(
        incidents, zone_frame(), freq="MS", start=date(2018, 1, 1), end=date(2018, 3, 31)
    )
    assert out[schema.COUNT].tolist() == [0, 4, 0]
    with pytest.raises(ValueError, match='`freq` was "D"'):
        compare.trend(incidents, zone_frame(), freq="D")


# --- report (geo.compare_report) ----------------------------------------------------------


def comparison(**kwargs):
    return compare_zones(
        scenario(), zone_frame(), before=BEFORE, after=AFTER, areas=area_frame(), **kwargs
    )


def test_summary_table_swedish_numbers():
    table = compare_report.summary_table(comparison())
    row = table.iloc[0]
    assert row["Zon / område"] == "Stationen"
    assert (row["Före"], row["Efter"], row["Förändring"]) == ("40", "10", "−75 %")
    assert row["Kvot (95 % KI)"].startswith("0,25 (")
    assert row["Bedömning"] == compare.DISPLACEMENT
    assert table.iloc[1]["WDQ"] == "–"  # the area row has no WDQ


def test_comparison_csv_round_trip(tmp_path):
    table = comparison(zones_source="before_hotspots")
    path = tmp_path / "jämförelse.csv"
    data = compare_report.comparison_csv(table, before=BEFORE, after=AFTER, path=path)
    assert data.startswith(b"\xef\xbb\xbf") and path.read_bytes() == data
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back["Före (dagar med data)"].unique()) == [str(BEFORE)]
    assert back["Antal före"].tolist() == [40, 250]
    np.testing.assert_allclose(back.loc[0, "WDQ"], -2 / 3)
    assert "Regression mot medelvärdet" in back.loc[0, "Varningar"]


def test_comparison_records_are_json_safe():
    import json

    records = compare_report.comparison_records(comparison(), before=BEFORE, after=AFTER)
    text = json.dumps(records, allow_nan=False)  # raises on NaN or inf
    back = json.loads(text)
    assert back[0]["before_count"] == 40 and back[0]["verdict"] == compare.DISPLACEMENT
    assert back[1]["wdq"] is None and back[0]["before_period"] == str(BEFORE)


def test_trend_chart_png():
    series = compare.trend(scenario(), zone_frame(), freq="MS")
    png = compare_report.trend_chart_png(series, intervention=AFTER.start, title="Trend")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def pdf_text(path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_comparison_pdf_text(tmp_path):
    table = comparison(zones_source="before_hotspots")
    series = compare.trend(scenario(), zone_frame(), freq="MS")
    path = tmp_path / "rapport.pdf"
    data = compare_report.comparison_pdf(
        table,
        before=BEFORE,
        after=AFTER,
        series=series,
        area_label="Järfälla <kommun>",
        parameters={"Närområde (buffert)": "250 m"},
        report_date=date(2018, 12, 31),
        path=path,
    )
    assert data[:5] == b"%PDF-" and path.read_bytes() == data
    text = pdf_text(path)
    for expected in (
        "Före/efter-utvärdering",
        "Järfälla <kommun>",
        "INTERN / BEGRÄNSAD",
        "31 december 2018",
        "2017-01-01 – 2017-12-31 (365 dagar)",
        "Stationen",
        "förskjutning till närområdet",
        "Regression mot medelvärdet",
        "Utveckling över tid",
        "250 m",
    ):
        assert expected in text, expected


def test_comparison_pdf_small_count_warning(tmp_path):
    incidents = make_incidents([(50, 50, B_DAY, 3), (50, 50, A_DAY, 2)])
    table = compare_zones(incidents, zone_frame(), before=BEFORE, after=AFTER)
    path = tmp_path / "liten.pdf"
    compare_report.comparison_pdf(table, before=BEFORE, after=AFTER, path=path)
    text = " ".join(pdf_text(path).split())
    assert "För få händelser (5 före och efter sammanlagt)" in text
    assert "Stationen – för få händelser. För få händelser i zonen (5 före" in text


# --- the planted 2018 effect in the demo data ---------------------------------------------


@pytest.fixture(scope="module")
def demo_comparison():
    demo = pytest.importorskip("geo.demo")
    data = demo.generate()  # seeded: the same data as data/
    incidents = demo.incidents_metric(data.incidents)
    areas = data.areas.to_crs(schema.CRS_METRIC)
    kommun = areas[areas[schema.AREA_ID] == demo.JARFALLA_ID]
    planted = demo.PLANTED["jakobsberg_station"]
    station = gpd.GeoSeries.from_xy([planted["lon"]], [planted["lat"]], crs=schema.CRS_WGS84)
    radius_m = planted["treatment_radius_m"]
    zones = gpd.GeoDataFrame(
        {schema.ZONE_ID: ["js"], schema.NAME: ["Jakobsbergs station"]},
        geometry=station.to_crs(schema.CRS_METRIC).buffer(radius_m).to_numpy(),
        crs=schema.CRS_METRIC,
    )
    before = Period(date(2017, 3, 1), date(2017, 12, 31))
    after = Period(date(2018, 3, 1), date(2018, 12, 31))
    table = compare_zones(
        incidents,
        zones,
        before=before,
        after=after,
        buffer_m=planted["buffer_ring_m"][1] - radius_m,
        areas=kommun,
        categories=list(demo.TARGET_CATEGORIES),
    )
    return table, demo.treatment_figures(data)


def test_demo_station_drop_is_a_significant_decrease(demo_comparison):
    table, figures = demo_comparison
    zone = table.iloc[0]
    # the same counts as the demo's own independent tally of R, D and C
    assert (zone[compare.BEFORE_COUNT], zone[compare.AFTER_COUNT]) == (
        figures["R"]["before"],
        figures["R"]["after"],
    )
    assert (zone[compare.BUFFER_BEFORE], zone[compare.BUFFER_AFTER]) == (
        figures["D"]["before"],
        figures["D"]["after"],
    )
    assert (zone[compare.CONTROL_BEFORE], zone[compare.CONTROL_AFTER]) == (
        figures["C"]["before"],
        figures["C"]["after"],
    )
    assert zone[compare.P_VALUE] < 0.001
    assert zone[compare.RR_CI_HIGH] < 1.0  # planted −40 % in the target categories


def test_demo_displacement_shows_in_the_buffer(demo_comparison):
    zone = demo_comparison[0].iloc[0]
    assert zone[compare.SUCCESS] < 0 and zone[compare.BUFFER_TERM] > 0
    assert zone[compare.WDQ] < 0  # displacement (Bowers & Johnson)
    assert zone[compare.BUFFER_P] < 0.05
    assert zone[compare.VERDICT] == compare.DISPLACEMENT


def test_area_rows_and_control_only_from_areas_holding_a_zone():
    areas = pd.concat(
        [
            area_frame().assign(**{schema.LEVEL: "kommun"}),
            gpd.GeoDataFrame(
                {
                    schema.AREA_ID: ["far"],
                    schema.AREA_NAME: ["Långt bort"],
                    schema.LEVEL: ["kommun"],
                },
                geometry=[box(10_000, 10_000, 12_000, 12_000)],
                crs=schema.CRS_METRIC,
            ),
        ],
        ignore_index=True,
    )
    incidents = pd.concat(
        [scenario(), make_incidents([(11_000, 11_000, B_DAY, 500)])], ignore_index=True
    )
    out = compare_zones(incidents, zone_frame(), before=BEFORE, after=AFTER, areas=areas)
    # the far area holds no zone: no row, and its 500 incidents stay out of the control
    assert out[schema.NAME].tolist() == ["Stationen", "Kommunen (kommun)"]
    assert out.iloc[0][compare.CONTROL_BEFORE] == 200


@pytest.mark.parametrize(
    ("columns", "id_col", "expected_ids"),
    [
        ({"zone_id": ["z7"], "name": ["Torget"]}, None, ["z7"]),
        ({"namn": ["Torget"]}, None, ["Torget"]),
        ({"kod": ["k1"], "zone_id": ["z7"], "name": ["Torget"]}, "kod", ["k1"]),
    ],
    ids=["exported-zone-id", "name-only", "explicit-column"],
)
def test_read_zones_file(tmp_path, columns, id_col, expected_ids):
    path = tmp_path / "zoner.geojson"
    # in Järfälla: io rejects shapes outside Sweden
    square = box(660_000, 6_590_000, 660_100, 6_590_100)
    gpd.GeoDataFrame(columns, geometry=[square], crs=schema.CRS_METRIC).to_crs(
        schema.CRS_WGS84
    ).to_file(path)
    zones = compare.read_zones(path, id_col=id_col)
    assert zones[schema.ZONE_ID].tolist() == expected_ids
    assert zones[schema.NAME].tolist() == ["Torget"]
    np.testing.assert_allclose(zones.area, [10_000], rtol=1e-3)  # back in metres


def test_read_zones_prefers_zone_name_over_area_name(tmp_path):
    path = tmp_path / "zoner.geojson"
    square = box(660_000, 6_590_000, 660_100, 6_590_100)
    gpd.GeoDataFrame(
        {
            "area_id": ["0123-jakobsberg"],
            "area_name": ["Jakobsberg"],
            "zone_id": ["0123-jakobsberg-1"],
            "name": ["Jakobsbergs station"],
        },
        geometry=[square],
        crs=schema.CRS_METRIC,
    ).to_file(path)
    zones = compare.read_zones(path)
    assert zones[[schema.ZONE_ID, schema.NAME]].values.tolist() == [
        ["0123-jakobsberg-1", "Jakobsbergs station"]
    ]


def _three_layer_gpkg(path, layers=("cells", "zones", "clusters")):
    for i, layer in enumerate(layers):
        square = box(660_000 + 1000 * i, 6_590_000, 660_100 + 1000 * i, 6_590_100)
        gpd.GeoDataFrame(
            {"zone_id": [f"{layer}-1"], "name": [f"{layer.capitalize()} 1"]},
            geometry=[square],
            crs=schema.CRS_METRIC,
        ).to_file(path, layer=layer)
    return path


def test_load_zones_picks_the_zones_layer_and_says_so(tmp_path):
    path = _three_layer_gpkg(tmp_path / "hot.gpkg")
    zones, notes = compare.load_zones(path)
    assert zones[schema.ZONE_ID].tolist() == ["zones-1"]
    assert notes == [
        'hot.gpkg har flera lager (cells, zones, clusters): lagret "zones" används '
        "(välj ett annat med --zones-layer)."
    ]
    chosen, notes = compare.load_zones(path, layer="clusters")
    assert chosen[schema.ZONE_ID].tolist() == ["clusters-1"] and notes == []


@pytest.mark.parametrize(
    ("layers", "layer", "message"),
    [
        (
            ("cells", "clusters"),
            None,
            r"flera lager \(cells, clusters\); välj ett med --zones-layer",
        ),
        (("cells", "zones"), "zoner", r"inget lager 'zoner'; lagren är: cells, zones"),
    ],
    ids=["no-zones-layer", "unknown-layer"],
)
def test_load_zones_layer_errors(tmp_path, layers, layer, message):
    path = _three_layer_gpkg(tmp_path / "x.gpkg", layers)
    with pytest.raises(InputError, match=message):
        compare.load_zones(path, layer=layer)


def two_kommuner():
    """Kommun A (0..3000) with kommundel A1 (0..1500), kommun B (10000..13000): apart."""
    return gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["A", "A1", "B"],
            schema.AREA_NAME: ["Kommun A", "Del A1", "Kommun B"],
            schema.LEVEL: ["kommun", "kommundel", "kommun"],
            schema.PARENT_ID: [None, "A", None],
        },
        geometry=[
            box(0, 0, 3000, 3000),
            box(0, 0, 1500, 1500),
            box(10_000, 0, 13_000, 3000),
        ],
        crs=schema.CRS_METRIC,
    )


def test_default_control_is_the_rest_of_each_zones_kommun():
    zones = gpd.GeoDataFrame(
        {schema.ZONE_ID: ["za", "zb"], schema.NAME: ["Zon A", "Zon B"]},
        geometry=[box(0, 0, 100, 100), box(10_000, 0, 10_100, 100)],
        crs=schema.CRS_METRIC,
    )
    incidents = make_incidents(
        [
            (50, 50, B_DAY, 20),  # in zone A
            (2500, 2500, B_DAY, 30),  # rest of kommun A (outside A1 too)
            (2500, 2500, A_DAY, 33),
            (1000, 1000, B_DAY, 7),  # in kommundel A1: still kommun A
            (12_500, 2500, B_DAY, 100),  # rest of kommun B
            (12_500, 2500, A_DAY, 50),
            (200, 50, B_DAY, 4),  # zone A's ring (within 250 m): not control
        ]
    )
    out = compare_zones(incidents, zones, before=BEFORE, after=AFTER, areas=two_kommuner())
    zone_rows = out[out[compare.KIND] == "zon"].set_index(schema.ZONE_ID)
    # A: 30 + 7 before, 33 after; B: 100 before, 50 after — never each other's
    assert zone_rows.loc["za", [compare.CONTROL_BEFORE, compare.CONTROL_AFTER]].tolist() == [37, 33]
    assert zone_rows.loc["zb", [compare.CONTROL_BEFORE, compare.CONTROL_AFTER]].tolist() == [
        100,
        50,
    ]
    assert zone_rows[compare.CONTROL_NAME].tolist() == ["resten av Kommun A", "resten av Kommun B"]


def test_top_areas_without_parent_ids_takes_the_largest_holding_area():
    areas = two_kommuner().assign(**{schema.PARENT_ID: None})
    zones = gpd.GeoDataFrame(
        {schema.ZONE_ID: ["z"]}, geometry=[box(10, 10, 20, 20)], crs=schema.CRS_METRIC
    )
    top = compare.top_areas(zones, areas)
    assert top[schema.AREA_ID].tolist() == ["A"]  # A (9 km²) rather than A1 (2.25 km²)


def test_drawn_zones_keeps_polygons_only():
    square = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[17.83, 59.42], [17.84, 59.42], [17.84, 59.43], [17.83, 59.42]]],
        },
    }
    line = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[17.8, 59.4], [17.9, 59.5]]},
    }
    zones = compare.drawn_zones([line, square, square])
    assert zones[schema.ZONE_ID].tolist() == ["ritad-1", "ritad-2"]
    assert compare.drawn_zones(None).empty


def test_buffer_rings_leave_out_other_zones():
    zones = gpd.GeoDataFrame(
        {schema.ZONE_ID: ["a", "b"]},
        geometry=[box(0, 0, 100, 100), box(150, 0, 250, 100)],
        crs=schema.CRS_METRIC,
    )
    rings = compare.buffer_rings(zones, buffer_m=250)
    assert not rings.geometry.iloc[0].intersects(box(151, 1, 249, 99))  # b is not in a's ring
    assert rings.geometry.iloc[0].contains(Point(125, 50))  # the gap between them is


def test_read_zones_outside_sweden_says_why(tmp_path):
    path = tmp_path / "fel.geojson"
    gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=schema.CRS_METRIC).to_file(path)
    with pytest.raises(InputError, match=r"fel.geojson har ingen användbar polygon \(rad 1: "):
        compare.read_zones(path)


# --- change grid and change map -----------------------------------------------------------


def test_change_grid_counts_and_suppression():
    pytest.importorskip("geo.grid")
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["k"], schema.AREA_NAME: ["K"]},
        geometry=[box(0, 0, 300, 100)],
        crs=schema.CRS_METRIC,
    )
    incidents = make_incidents(
        [
            (50, 50, B_DAY, 6),
            (50, 50, A_DAY, 2),
            (150, 50, B_DAY, 1),
            (150, 50, A_DAY, 7),
            (250, 50, B_DAY, 4),
            (250, 50, A_DAY, 3),
        ]
    )
    before_copy = incidents.copy()
    cells = compare.change_grid(incidents, areas, before=BEFORE, after=AFTER, cell_size_m=100)
    pd.testing.assert_frame_equal(incidents, before_copy)
    cells = cells.iloc[np.argsort(cells.centroid.x.to_numpy())]  # west to east
    assert cells[compare.BEFORE_COUNT].tolist() == [6, 1, 4]
    assert cells[compare.AFTER_COUNT].tolist() == [2, 7, 3]
    assert cells[compare.SUPPRESSED].tolist() == [False, False, True]  # 4 and 3 are both < 5
    # (2 - 6) / 365 * 30 = -0.3288; (7 - 1) / 365 * 30 = 0.4932; suppressed: nan
    np.testing.assert_allclose(
        cells[compare.DIFF_RATE], [-4 / 365 * 30, 6 / 365 * 30, np.nan], equal_nan=True
    )
    assert cells[compare.BEFORE_LABEL].tolist() == ["6", "<5", "<5"]
    html = compare_report.change_map(cells, areas, zones=zone_frame()).get_root().render()
    assert compare_report.CHANGE_COLOURS[0] in html and compare_report.CHANGE_COLOURS[2] in html
    assert compare_report.SUPPRESSED_COLOUR in html
    assert "Stationen" in html and "dashArray" in html


def test_wdd_warns_when_the_control_dwarfs_the_zone():
    # zone: 20 -> 10 incidents; control: 400 -> 400, i.e. 400 / 20 = 20 times the zone's
    # before-count, far above WDD_COMPARABLE_FACTOR (3), so WDD's raw difference is mostly
    # the control's and the row says so.
    from shapely.geometry import Point, box

    zone = gpd.GeoDataFrame({"zone_id": ["z"]}, geometry=[box(0, 0, 100, 100)], crs="EPSG:3006")
    times_b = pd.Timestamp("2017-06-01 20:00", tz=schema.TZ)
    times_a = pd.Timestamp("2018-06-01 20:00", tz=schema.TZ)
    rows = (
        [(times_b, Point(50, 50))] * 20
        + [(times_a, Point(50, 50))] * 10
        + [(times_b, Point(5000, 5000))] * 400
        + [(times_a, Point(5000, 5000))] * 400
    )
    inc = gpd.GeoDataFrame(
        {"occurred_at": [t for t, _ in rows], "category": "rån"},
        geometry=[g for _, g in rows],
        crs="EPSG:3006",
    )
    table = compare_zones(
        inc,
        zone,
        before=Period.parse("2017-01-01:2017-12-31"),
        after=Period.parse("2018-01-01:2018-12-31"),
    )
    warnings = table.iloc[0][compare.WARNINGS]
    assert any("WDD jämför råa antal" in w and "20 gånger" in w for w in warnings)


# --- periods reaching past the data -------------------------------------------------------


def past_the_data():
    # Data 2017-01-01 .. 2018-12-31 (first and last incident); the promise preset asks for
    # an after period to 2019-02-28. Zone: 365 before in 2017-03..2018-02 (one a day), 306
    # after in 2018-03-01..2018-12-31 (one a day): the same rate, once the missing
    # January–February 2019 are not counted as zero days.
    days_b = pd.date_range("2017-03-01 12:00", "2018-02-28 12:00", freq="D")
    days_a = pd.date_range("2018-03-01 12:00", "2018-12-31 12:00", freq="D")
    spec = [(50, 50, str(t), 1) for t in days_b.append(days_a)]
    spec += [(2000, 2000, "2017-01-01 08:00", 50), (2000, 2000, "2018-12-31 20:00", 50)]
    spec += [(2000, 2000, str(t), 1) for t in days_b.append(days_a)]
    return make_incidents(spec)


def test_after_period_past_the_data_is_cut_to_covered_days(tmp_path):
    import json

    incidents = past_the_data()
    asked_b, asked_a = Period.parse("2017-03-01:2018-02-28"), Period.parse("2018-03-01:2019-02-28")
    cov = compare.data_coverage(incidents)
    assert (cov.first, cov.last) == (date(2017, 1, 1), date(2018, 12, 31))
    out = compare.compare_zones(incidents, zone_frame(), before=asked_b, after=asked_a)
    z = out.iloc[0]
    assert z[compare.AFTER_PERIOD] == "2018-03-01:2018-12-31"
    assert (z[compare.BEFORE_DAYS], z[compare.AFTER_DAYS]) == (365, 306)
    # 365/365*30 = 30 and 306/306*30 = 30 per 30 days: no change (not the −16 % of 306/365)
    np.testing.assert_allclose(z[[compare.BEFORE_RATE, compare.AFTER_RATE]].astype(float), [30, 30])
    assert z[compare.VERDICT] == compare.NO_CHANGE
    warning = "Efterperioden 2018-03-01 – 2019-02-28 når utanför datan (2017-01-01 – 2018-12-31)"
    assert all(any(warning in w for w in ws) for ws in out[compare.WARNINGS])  # every row
    assert any("306 av 365 dagar" in w for w in z[compare.WARNINGS])
    periods = compare.cover_periods(asked_b, asked_a, cov)
    # every output says so: JSON, CSV, PDF
    records = compare_report.comparison_records(out, periods=periods)
    assert records[0]["after_period"] == "2018-03-01:2018-12-31"
    assert records[0]["requested_after_period"] == "2018-03-01:2019-02-28"
    assert records[0]["data_last"] == "2018-12-31"
    assert any(warning in w for w in json.loads(json.dumps(records))[0]["warnings"])
    csv_text = compare_report.comparison_csv(out).decode("utf-8-sig")
    assert warning in csv_text and "2018-03-01:2018-12-31" in csv_text
    path = tmp_path / "kortad.pdf"
    compare_report.comparison_pdf(out, periods=periods, path=path)
    text = " ".join(pdf_text(path).split())
    assert "2018-03-01 – 2018-12-31 (306 dagar); begärt 2018-03-01 – 2019-02-28" in text
    assert "når utanför datan" in text


def test_user_set_data_until_and_periods_wholly_outside():
    incidents = past_the_data()
    cov = compare.data_coverage(incidents, until=date(2018, 11, 30))
    assert cov.source == "user" and "enligt användaren" in cov.describe()
    c = compare.cover_periods(
        Period.parse("2017-03-01:2017-12-31"), Period.parse("2018-03-01:2018-12-31"), cov
    )
    assert str(c.after) == "2018-03-01:2018-11-30" and c.cut
    assert any("olika många dagar med data (306 före, 275 efter)" in w for w in c.warnings)
    with pytest.raises(InputError, match="Efterperioden 2019-03-01 – 2019-12-31 ligger helt efter"):
        compare.cover_periods(
            Period.parse("2018-01-01:2018-12-31"), Period.parse("2019-03-01:2019-12-31"), cov
        )
    with pytest.raises(InputError, match="Föreperioden 2015-01-01 – 2015-12-31 ligger helt före"):
        compare.cover_periods(
            Period.parse("2015-01-01:2015-12-31"), Period.parse("2018-01-01:2018-06-30"), cov
        )
    with pytest.raises(InputError, match="före första händelsen"):
        compare.data_coverage(incidents, until=date(2016, 1, 1))


def test_presets_never_end_after_the_data():
    cov = compare.Coverage(date(2017, 1, 1), date(2018, 12, 31))
    before, after = compare.promise_year_presets(date(2018, 3, 1), coverage=cov)
    assert (str(before), str(after)) == ("2017-03-01:2017-12-31", "2018-03-01:2018-12-31")
    before, after = compare.same_months_year_apart(
        date(2018, 10, 1), date(2019, 3, 31), coverage=cov
    )
    assert str(after) == "2018-10-01:2018-12-31" and str(before) == "2017-10-01:2017-12-31"
    inside = compare.promise_year_presets(date(2017, 6, 1), coverage=cov)
    assert str(inside[1]) == "2017-06-01:2018-05-31"  # inside the data: unchanged
    with pytest.raises(InputError, match="efter sista dagen med data"):
        compare.same_months_year_apart(date(2019, 1, 1), date(2019, 3, 31), coverage=cov)


def test_trend_stops_at_the_data_and_marks_partial_months():
    incidents = past_the_data()
    cov = compare.Coverage(date(2017, 1, 1), date(2018, 12, 20))  # data t.o.m. 20 December
    series = compare.trend(incidents, zone_frame(), freq="MS", start=date(2017, 3, 1),
                           end=date(2019, 2, 28), coverage=cov)  # fmt: skip
    # March 2017 .. December 2018 = 22 months; no empty January–February 2019
    assert len(series) == 22
    assert series["period_start"].iloc[-1] == pd.Timestamp("2018-12-01")
    assert series["count"].iloc[-1] == 20  # one a day, 1–20 December
    assert series["partial"].tolist() == [False] * 21 + [True]
