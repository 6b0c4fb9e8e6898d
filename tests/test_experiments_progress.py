"""The progress bars of the experiments move during equilibration and adaptation;
chapter 7's equilibria are computed once per network and settings; the
settings tables of the chapters."""

from __future__ import annotations

import numpy as np
import pytest

from hmc_lite.experiments import FIG2_SCALES, TUNING_SCALES, describe_settings
from hmc_lite.experiments import _shared
from hmc_lite.experiments import tuning as tuning_module


def test_bounded_progress_clips_and_finishes_at_the_budget():
    seen: list[int] = []
    bar = _shared.BoundedProgress(seen.append, 10)
    callback = bar.per_transition(4)
    for i in range(4):  # 16 units asked, 10 allowed
        callback(i)
    assert seen == [4, 4, 2]
    bar.finish()
    assert sum(seen) == 10
    short: list[int] = []
    bar = _shared.BoundedProgress(short.append, 10)
    bar.per_transition(3)(0)
    bar.finish()  # stopped early: the rest is reported at the end
    assert short == [3, 7]
    assert _shared.BoundedProgress(None, 5).per_transition(2) is None


def test_equilibration_moves_the_bar_transition_by_transition(monkeypatch):
    monkeypatch.setattr(_shared, "_CHAPTER7_CACHE", {})  # computed here, not recalled
    s = FIG2_SCALES["tiny"]
    seen: list[int] = []
    out = _shared.equilibrate_chapter7(s, "sigmoid", tuple(s.widths), 2, seen.append)
    budget = _shared.chapter7_equilibration_cost(s)
    assert sum(seen) == budget
    # one tick of s.chains per transition, then the rest of the budget
    moved = min(int(out["equilibrium_transitions"]), budget // s.chains)
    assert seen[:moved] == [s.chains] * moved and moved > 1


def test_equilibration_is_computed_once_per_network_and_settings(monkeypatch):
    monkeypatch.setattr(_shared, "_CHAPTER7_CACHE", {})
    monkeypatch.setattr(_shared, "_CHAPTER7_CACHE_SIZE", 2)
    computed = []
    compute = _shared._equilibrate_chapter7

    def counted(*args):
        computed.append(args[1:4])
        return compute(*args)

    monkeypatch.setattr(_shared, "_equilibrate_chapter7", counted)
    s = FIG2_SCALES["tiny"]
    widths = tuple(s.widths)
    first = _shared.equilibrate_chapter7(s, "sigmoid", widths, 2)
    first["position"][:] = 0.0  # the caller's copy: the remembered arrays are intact
    seen: list[int] = []
    again = _shared.equilibrate_chapter7(s, "sigmoid", widths, 2, seen.append)
    assert len(computed) == 1
    assert seen == [_shared.chapter7_equilibration_cost(s)]  # the whole budget at once
    fresh = compute(s, "sigmoid", widths, 2, _shared.BoundedProgress(None, 1))
    assert fresh.keys() == again.keys()
    for key, value in fresh.items():
        np.testing.assert_array_equal(again[key], value)
    # another stream, another seed: computed afresh
    other = _shared.equilibrate_chapter7(s, "sigmoid", widths, 3)
    _shared.equilibrate_chapter7(s._replace(seed=1), "sigmoid", widths, 2)
    assert len(computed) == 3
    assert not np.array_equal(other["position"], fresh["position"])
    # at most two remembered: the first network was dropped
    _shared.equilibrate_chapter7(s, "sigmoid", widths, 2)
    assert len(computed) == 4


def test_tuning_bar_moves_during_adaptation():
    s = TUNING_SCALES["tiny"]
    seen: list[int] = []
    tuning_module.run_tuning(s, progress=seen.append)
    assert sum(seen) == tuning_module.tuning_cost(s)
    # many small ticks (one per transition), not one lump per stage
    assert len(seen) > len(s.models) * (s.n_adapt + s.n_draws)
    assert np.all(np.asarray(seen) > 0)


def test_describe_settings_shows_every_field_but_the_seed():
    table = describe_settings(TUNING_SCALES["book"])
    assert "seed" not in table and table["targets"] == "0.45, 0.65, 0.8"
    assert table["n_modes"] == "4"
    assert table["cliff_fractions"].startswith("0.35, 0.402")
    with pytest.raises(TypeError, match="settings"):
        describe_settings({"n_modes": 4})
