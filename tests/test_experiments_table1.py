"""Table 1 and Figure 2 on real data (chapter 8): pieces, resume, Dask, command line."""

from __future__ import annotations

import numpy as np
import pytest

from hmc_lite.experiments import table1 as module
from test_experiments_common import (
    assert_same,
    check_bad_output_refused,
    check_cli_on_dask,
    check_resume,
    check_shapes,
)

TINY = module.TABLE1_SCALES["tiny"]


@pytest.fixture(scope="module")
def serial():
    ticks = []
    result = module.run_table1(TINY, progress=ticks.append)
    assert sum(ticks) == module.table1_cost(TINY)  # the progress bar reaches its total
    return result


def test_loaded_result_has_the_documented_shapes(serial, tmp_path):
    s = TINY
    A, S, K, E = len(s.models), len(s.fractions), len(s.n_steps), len(s.equal_fractions)
    C, M, N, P = s.chains, s.n_modes, s.n_samples, serial.y_test.size
    shapes = {
        "models": (A,),
        "data_name": (),
        "step_sizes": (S,),
        "n_steps": (K,),
        "equal_fractions": (E,),
        "accept_prob": (A, S, K, C, N),
        "divergent": (A, S, K, C, N),
        "pred_mean": (A, S, K, M, P),
        "equal_step_sizes": (A, E, C),
        "equal_accept_prob": (A, E, C, N),
        "equal_divergent": (A, E, C, N),
        "equal_pred_mean": (A, E, M, P),
        "stability_limit": (A, C),
        "start_potential": (A, C),
        "start_position": (A, C, int(serial.dim)),
        "mode_potential": (A, M),
        "equilibrium_pred_mean": (A, M, P),
        "equilibrium_transitions": (A,),
        "equilibrium_converged": (A,),
        "y_test": (P,),
        "y_sd": (),
        "noise_sd": (),
        "linear_mse": (),
        "ols_mse": (),
        "null_mse": (),
        "dim": (),
        "seed": (),
        "n_modes": (),
        "chains": (),
        "n_samples": (),
    }
    loaded = module.load_table1(module.save_table1(serial, tmp_path / "t.npz"))
    assert_same(loaded, serial)
    check_shapes(loaded, shapes)
    assert str(loaded.data_name).startswith("diabetes")
    assert int(loaded.dim) == (10 + 1) * s.hidden + s.hidden + 1


def test_cli_on_a_local_dask_cluster_equals_the_serial_run(serial, tmp_path):
    check_cli_on_dask("table1", module, serial, tmp_path)


def test_an_interrupted_run_resumes_from_its_parts(serial, tmp_path, monkeypatch):
    check_resume(
        "table1",
        module,
        serial,
        f"grid-{TINY.models[-1]}",
        "_equilibrium_piece",
        tmp_path,
        monkeypatch,
    )


def test_bad_output_path_refused_before_computing(tmp_path, monkeypatch, capsys):
    check_bad_output_refused("table1", tmp_path, monkeypatch, capsys)


def test_settings_are_checked(monkeypatch):
    with pytest.raises(ValueError, match="models"):
        module.run_table1(TINY._replace(models=("tanh",)))
    with pytest.raises(ValueError, match="n_steps"):
        module.run_table1(TINY._replace(n_steps=(0,)))
    with pytest.raises(ValueError, match="equal_fractions"):
        module.run_table1(TINY._replace(equal_fractions=()))
    with pytest.raises(ValueError, match="hidden"):
        module.run_table1(TINY._replace(hidden=0))
    with pytest.raises(TypeError, match="utkface"):
        module.run_table1(TINY._replace(utkface=3))
    with pytest.raises(ValueError, match="seed"):
        module.run_table1(TINY, seed=-1)
    with pytest.raises(TypeError, match="settings"):
        module.run_table1(object())
    # "" is the diabetes data whatever $UTKFACE_DIR says; None follows $UTKFACE_DIR
    monkeypatch.setenv("UTKFACE_DIR", "/nonexistent/utkface")
    assert module.table1_problem(TINY).name.startswith("diabetes")
    with pytest.raises((FileNotFoundError, ValueError, OSError)):
        module.table1_problem(TINY._replace(utkface=None))
