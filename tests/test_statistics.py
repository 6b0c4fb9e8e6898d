"""Statistics of replicates: t intervals, per-mode summaries, paired tests, Holm.

Checked against scipy's own t distribution and tests, and against examples
worked by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hmc_lite.diagnostics import (
    HolmComparison,
    HolmResult,
    ModeSummary,
    PairedDifference,
    holm,
    holm_comparisons,
    mode_summary,
    paired_difference,
    t_interval,
)


def test_t_interval_matches_scipy():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=7)
    low, high = t_interval(x, level=0.9)
    want = stats.t.interval(0.9, df=6, loc=x.mean(), scale=stats.sem(x))
    assert (low, high) == pytest.approx(want, rel=1e-12)
    # by hand: mean 2, sd 1, n = 3, t_{0.975, 2} = 4.302653
    low, high = t_interval([1.0, 2.0, 3.0])
    assert low == pytest.approx(2.0 - 4.302653 / np.sqrt(3), abs=1e-6)
    assert high == pytest.approx(2.0 + 4.302653 / np.sqrt(3), abs=1e-6)
    assert np.isnan(t_interval([1.0])).all()


def test_t_interval_covers_the_mean_at_its_level():
    rng = np.random.default_rng(1)
    hits = [
        lo <= 0 <= hi
        for lo, hi in (t_interval(rng.standard_normal(4), 0.8) for _ in range(4000))
    ]
    assert np.mean(hits) == pytest.approx(0.8, abs=0.02)  # sd of the rate is 0.006


def test_mode_summary_averages_within_modes_first():
    # mode 2 has three chains and mode 0 one: the mean over modes weighs modes equally
    values = np.array([10.0, 1.0, 2.0, 3.0, 4.0, 6.0])
    mode = np.array([2, 0, 2, 2, 1, 1])
    s = mode_summary(values, mode)
    assert isinstance(s, ModeSummary)
    np.testing.assert_allclose(s.mode_means, [1.0, 5.0, 5.0])
    assert s.n_modes == 3
    assert s.mean == pytest.approx(11.0 / 3)
    assert s.standard_error == pytest.approx(
        np.std([1.0, 5.0, 5.0], ddof=1) / np.sqrt(3)
    )
    assert (s.low, s.high) == pytest.approx(t_interval([1.0, 5.0, 5.0], 0.95))
    assert s.level == 0.95
    one = mode_summary([1.0, 3.0], [7, 7])
    assert one.mean == 2.0 and one.n_modes == 1 and np.isnan(one.standard_error)


def test_paired_difference_matches_scipy_ttest_rel():
    rng = np.random.default_rng(2)
    a = rng.normal(1.0, 1.0, size=6)
    b = a - 0.8 + 0.5 * rng.standard_normal(6)
    d = paired_difference(a, b, level=0.99)
    ref = stats.ttest_rel(a, b)
    assert isinstance(d, PairedDifference)
    assert d.t == pytest.approx(ref.statistic, rel=1e-12)
    assert d.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert d.mean == pytest.approx(np.mean(a - b))
    assert d.standard_error == pytest.approx(stats.sem(a - b))
    assert (d.low, d.high) == pytest.approx(
        stats.t.interval(0.99, 5, loc=d.mean, scale=d.standard_error)
    )
    assert d.n == 6 and d.level == 0.99
    # by hand: differences 1, 2, 3: mean 2, se 1/sqrt(3), t = 2 sqrt(3)
    hand = paired_difference([2.0, 3.0, 5.0], [1.0, 1.0, 2.0])
    assert hand.t == pytest.approx(2 * np.sqrt(3))
    assert hand.p_value == pytest.approx(2 * stats.t.sf(2 * np.sqrt(3), 2))


def test_paired_difference_of_identical_values():
    d = paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert d.mean == 0.0 and d.t == 0.0 and d.p_value == 1.0


def test_holm_by_hand():
    # sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 ->
    # 0.06)
    p = np.array([0.04, 0.01, 0.03, 0.02])
    res = holm(p, alpha=0.05)
    assert isinstance(res, HolmResult)
    np.testing.assert_allclose(res.adjusted, [0.06, 0.04, 0.06, 0.06])
    np.testing.assert_array_equal(res.reject, [False, True, False, False])
    # a looser alpha rejects all; adjusted values never exceed 1
    assert holm(p, alpha=0.1).reject.all()
    np.testing.assert_allclose(holm([0.5, 0.9]).adjusted, [1.0, 1.0])


def test_holm_matches_the_step_down_definition():
    p = np.random.default_rng(3).uniform(0, 0.1, size=8)
    res = holm(p, alpha=0.05)
    order = np.argsort(p)
    m = p.size
    reject = np.zeros(m, dtype=bool)
    for i, j in enumerate(order):  # step down: stop at the first failure
        if p[j] > 0.05 / (m - i):
            break
        reject[j] = True
    np.testing.assert_array_equal(res.reject, reject)


def test_holm_comparisons_keep_order_and_match_holm():
    rng = np.random.default_rng(5)
    base = rng.normal(size=(4, 6))
    shifts = [0.0, 0.3, 2.0, -1.5]
    diffs = [
        paired_difference(b + s, b + rng.normal(0, 0.2, 6))
        for b, s in zip(base, shifts)
    ]
    family = holm_comparisons(diffs, alpha=0.05)
    expected = holm(np.array([d.p_value for d in diffs]), alpha=0.05)
    assert [m.difference for m in family] == diffs  # same order as given
    assert all(isinstance(m, HolmComparison) for m in family)
    np.testing.assert_allclose([m.p_holm for m in family], expected.adjusted)
    assert [m.reject for m in family] == expected.reject.tolist()
    assert family[2].reject and family[3].reject and not family[0].reject
    with pytest.raises(TypeError, match="differences"):
        holm_comparisons([0.01, 0.2])  # p values, not comparisons


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: t_interval(np.ones((2, 2))), "values"),
        (lambda: t_interval([1.0, np.nan]), "values"),
        (lambda: t_interval([1.0, 2.0], level=1.0), "level"),
        (lambda: mode_summary([1.0, 2.0], [0]), "mode"),
        (lambda: mode_summary([], []), "values"),
        (lambda: paired_difference([1.0, 2.0], [1.0]), "b"),
        (lambda: paired_difference([1.0], [2.0]), "2 pairs"),
        (lambda: paired_difference([1.0, 2.0], [1.0, 3.0], level=0), "level"),
        (lambda: holm([0.1, 1.5]), "p_values"),
        (lambda: holm([0.1], alpha=0.0), "alpha"),
        (lambda: holm_comparisons([]), "differences"),
    ],
)
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
