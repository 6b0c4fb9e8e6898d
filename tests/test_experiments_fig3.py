"""Figure 3, acceptance against network size (chapter 7): pieces, resume, Dask, CLI."""

from __future__ import annotations

import numpy as np
import pytest

from hmc_lite.experiments import fig3 as module
from test_experiments_common import (
    assert_same,
    check_bad_output_refused,
    check_cli_on_dask,
    check_resume,
    check_shapes,
)

TINY = module.FIG3_SCALES["tiny"]


@pytest.fixture(scope="module")
def serial():
    ticks = []
    result = module.run_fig3(TINY, progress=ticks.append)
    assert sum(ticks) == module.fig3_cost(TINY)  # the progress bar reaches its total
    return result


def test_loaded_result_has_the_documented_shapes(serial, tmp_path):
    s = TINY
    A, D, W, C, M, N = (
        len(s.models),
        2,
        len(s.shallow_widths),
        s.chains,
        s.n_modes,
        s.n_samples,
    )
    shapes = {
        "models": (A,),
        "depths": (D,),
        "hidden_width": (D, W),
        "hidden_layers": (D,),
        "dim": (D, W),
        "step_sizes": (A, D, W, 2, C),
        "n_steps": (A, D, W, 2, C),
        "accept_prob": (A, D, W, 2, C, N),
        "divergent": (A, D, W, 2, C, N),
        "crossings": (A, D, W, C),
        "final_position": (A, D, W, C, int(serial.dim.max())),
        "mode": (A, D, W, C),
        "stability_limit": (A, D, W, C),
        "start_potential": (A, D, W, C),
        "mode_potential": (A, D, W, M),
        "equilibrium_transitions": (A, D, W),
        "equilibrium_converged": (A, D, W),
        "equilibrium_retried": (A, D, W),
        "equilibrium_reoptimised": (A, D, W),
        "step_size": (),
        "limit_fraction": (),
        "path_length": (),
        "seed": (),
        "n_modes": (),
        "chains": (),
        "n_samples": (),
    }
    loaded = module.load_fig3(module.save_fig3(serial, tmp_path / "f.npz"))
    assert_same(loaded, serial)
    check_shapes(loaded, shapes)
    np.testing.assert_array_equal(
        loaded.dim,
        [
            [3 * w + 1 for w in s.shallow_widths],
            [
                (s.deep_layers - 1) * w * w + (s.deep_layers + 2) * w + 1
                for w in s.deep_widths
            ],
        ],
    )
    np.testing.assert_allclose(
        loaded.step_sizes[..., 1, :], s.limit_fraction * loaded.stability_limit
    )


def test_cli_on_a_local_dask_cluster_equals_the_serial_run(serial, tmp_path):
    check_cli_on_dask("fig3", module, serial, tmp_path)


def test_an_interrupted_run_resumes_from_its_parts(serial, tmp_path, monkeypatch):
    check_resume(
        "fig3",
        module,
        serial,
        f"size-{TINY.models[-1]}-deep1",
        "_equilibrium_piece",
        tmp_path,
        monkeypatch,
    )


def test_bad_output_path_refused_before_computing(tmp_path, monkeypatch, capsys):
    check_bad_output_refused("fig3", tmp_path, monkeypatch, capsys)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="models"):
        module.run_fig3(TINY._replace(models=("tanh",)))
    with pytest.raises(ValueError, match="deep_widths"):
        module.run_fig3(TINY._replace(deep_widths=(2,)))
    with pytest.raises(ValueError, match="step_size"):
        module.run_fig3(TINY._replace(step_size=0.0))
    with pytest.raises(ValueError, match="deep_layers"):
        module.run_fig3(TINY._replace(deep_layers=0))
    with pytest.raises(ValueError, match="seed"):
        module.run_fig3(TINY, seed=-1)
    with pytest.raises(TypeError, match="settings"):
        module.run_fig3(object())
    nets = module.fig3_networks(
        module.FIG3_SCALES["book"]
    )  # chapter 7's order of networks
    assert [n[3] for n in nets[:6]] == [
        (1, 17, 1),
        (1, 34, 1),
        (1, 56, 1),
        (1, 4, 4, 4, 1),
        (1, 6, 6, 6, 1),
        (1, 8, 8, 8, 1),
    ]
    assert [n[0] for n in nets] == ["sigmoid"] * 6 + ["relu"] * 6


def test_final_positions_are_padded_to_the_largest_network(serial):
    for a in range(len(TINY.models)):
        for d in range(2):
            for w in range(len(TINY.shallow_widths)):
                dim = int(serial.dim[d, w])
                q = serial.final_position[a, d, w]
                assert np.all(np.isfinite(q[:, :dim])) and np.all(np.isnan(q[:, dim:]))
