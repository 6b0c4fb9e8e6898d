"""The tuning study of chapter 9: pieces, resume, Dask, command line."""

from __future__ import annotations

import numpy as np
import pytest

from hmc_lite.experiments import tuning as module
from test_experiments_common import (
    assert_same,
    check_bad_output_refused,
    check_cli_on_dask,
    check_resume,
    check_shapes,
)

TINY = module.TUNING_SCALES["tiny"]


@pytest.fixture(scope="module")
def serial():
    ticks = []
    result = module.run_tuning(TINY, progress=ticks.append)
    assert sum(ticks) == module.tuning_cost(TINY)  # the progress bar reaches its total
    return result


def test_loaded_result_has_the_documented_shapes(serial, tmp_path):
    s = TINY
    A, K, M, C, G = (
        len(s.models),
        len(s.targets),
        s.n_modes,
        s.chains,
        len(s.cliff_fractions),
    )
    T = serial.potential_trace.shape[-1]
    per_setting = {
        f: (A, K + 1, M)
        for f in (
            "step_size",
            "n_steps",
            "accept_prob",
            "divergent",
            "accept_prob_adapt",
            "divergent_adapt",
            "ess",
            "rhat",
            "stability_limit_setting",
            "step_size_rel",
            "u_start",
            "u_end",
        )
    }
    shapes = {
        "models": (A,),
        "targets": (K,),
        "x_star": (len(s.x_star),),
        "cliff_fractions": (G,),
        "has_mass": (A,),
        **per_setting,
        "step_size_trace": (A, K, s.n_adapt),
        "step_size_avg_trace": (A, K, s.n_adapt),
        "mass_sd": (A, C, 16),
        "test_rmse": (A,),
        "cliff_accept": (A, G),
        "cliff_divergent": (A, G),
        "mode": (A, C),
        "stability_limit": (A, C),
        "start_potential": (A, C),
        "mode_stability_limit": (A, M),
        "mode_potential": (A, M),
        "potential_trace": (A, M, T),
        "equilibrium_transitions": (A,),
        "equilibrium_converged": (A,),
        "mass_target": (),
        "path_length": (),
        "seed": (),
        "n_modes": (),
        "chains": (),
        "n_draws": (),
    }
    loaded = module.load_tuning(module.save_tuning(serial, tmp_path / "t.npz"))
    assert_same(loaded, serial)
    check_shapes(loaded, shapes)
    # the mass setting exists for ReLU only (NaN rows otherwise); the targets are filled
    np.testing.assert_array_equal(
        loaded.has_mass, [m in s.mass_models for m in s.models]
    )
    assert np.all(np.isfinite(loaded.ess[:, :K])) and np.all(
        np.isnan(loaded.ess[~loaded.has_mass, K])
    )
    assert np.all(np.isfinite(loaded.ess[loaded.has_mass, K]))
    assert np.all(np.isnan(loaded.mass_sd[~loaded.has_mass])) and np.all(
        loaded.mass_sd[loaded.has_mass] > 0
    )


def test_cli_on_a_local_dask_cluster_equals_the_serial_run(serial, tmp_path):
    check_cli_on_dask("tuning", module, serial, tmp_path)


def test_an_interrupted_run_resumes_from_its_parts(serial, tmp_path, monkeypatch):
    check_resume(
        "tuning",
        module,
        serial,
        f"experiment-{TINY.models[-1]}",
        "_equilibrium_piece",
        tmp_path,
        monkeypatch,
    )


def test_bad_output_path_refused_before_computing(tmp_path, monkeypatch, capsys):
    check_bad_output_refused("tuning", tmp_path, monkeypatch, capsys)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="models"):
        module.run_tuning(TINY._replace(models=("tanh",)))
    with pytest.raises(ValueError, match="mass_models"):
        module.run_tuning(TINY._replace(models=("sigmoid",)))
    with pytest.raises(ValueError, match="targets"):
        module.run_tuning(TINY._replace(targets=(0.5, 1.2)))
    with pytest.raises(ValueError, match="mass_target"):
        module.run_tuning(TINY._replace(mass_target=0.7))
    with pytest.raises(ValueError, match="chains_per_mode"):
        module.run_tuning(TINY._replace(chains_per_mode=1))
    with pytest.raises(ValueError, match="seed"):
        module.run_tuning(TINY, seed=-1)
    with pytest.raises(TypeError, match="settings"):
        module.run_tuning(object())
