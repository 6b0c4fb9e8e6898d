"""Figure 2 on synthetic data (chapter 7): pieces, resume, Dask, command line."""

from __future__ import annotations

import numpy as np
import pytest

from hmc_lite.experiments import fig2 as module
from test_experiments_common import (
    assert_same,
    check_bad_output_refused,
    check_cli_on_dask,
    check_resume,
    check_shapes,
)

TINY = module.FIG2_SCALES["tiny"]


@pytest.fixture(scope="module")
def serial():
    ticks = []
    result = module.run_fig2(TINY, progress=ticks.append)
    assert sum(ticks) == module.fig2_cost(TINY)  # the progress bar reaches its total
    return result


def test_loaded_result_has_the_documented_shapes(serial, tmp_path):
    s = TINY
    A, F, C, M, N = len(s.models), len(s.fractions), s.chains, s.n_modes, s.n_samples
    shapes = {
        "models": (A,),
        "widths": (len(s.widths),),
        "fractions": (F,),
        "step_sizes": (A, F),
        "n_steps": (A, F),
        "accept_prob": (A, F, C, N),
        "divergent": (A, F, C, N),
        "mode": (A, C),
        "stability_limit": (A, C),
        "start_potential": (A, C),
        "mode_potential": (A, M),
        "equilibrium_transitions": (A,),
        "equilibrium_converged": (A,),
        "equilibrium_retried": (A,),
        "equilibrium_reoptimised": (A,),
        "path_length": (),
        "seed": (),
        "n_modes": (),
        "chains": (),
        "n_samples": (),
    }
    loaded = module.load_fig2(module.save_fig2(serial, tmp_path / "f.npz"))
    assert_same(loaded, serial)
    check_shapes(loaded, shapes)
    np.testing.assert_allclose(
        loaded.step_sizes,
        np.asarray(s.fractions) * np.median(loaded.stability_limit, axis=1)[:, None],
    )


def test_cli_on_a_local_dask_cluster_equals_the_serial_run(serial, tmp_path):
    check_cli_on_dask("fig2", module, serial, tmp_path)


def test_an_interrupted_run_resumes_from_its_parts(serial, tmp_path, monkeypatch):
    check_resume(
        "fig2",
        module,
        serial,
        f"efficiency-{TINY.models[-1]}",
        "_equilibrium_piece",
        tmp_path,
        monkeypatch,
    )


def test_bad_output_path_refused_before_computing(tmp_path, monkeypatch, capsys):
    check_bad_output_refused("fig2", tmp_path, monkeypatch, capsys)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="models"):
        module.run_fig2(TINY._replace(models=("tanh",), streams=(0,)))
    with pytest.raises(ValueError, match="streams"):
        module.run_fig2(TINY._replace(streams=(1,)))
    with pytest.raises(ValueError, match="fractions"):
        module.run_fig2(TINY._replace(fractions=(0.5, -1.0)))
    with pytest.raises(ValueError, match="n_modes"):
        module.run_fig2(TINY._replace(n_modes=0))
    with pytest.raises(ValueError, match="seed"):
        module.run_fig2(TINY, seed=-1)
    with pytest.raises(TypeError, match="settings"):
        module.run_fig2(object())
    assert module.FIG2_SCALES["book"].fractions == tuple(
        np.round(np.arange(0.4, 1.25, 0.1), 2).tolist()
    )


def test_book_streams_are_chapter_7s_network_numbers():
    # chapter 7 numbers the networks of both experiments in one list (Figure 3's order,
    # then leaky ReLU [1, 56, 1]); a network draws the same numbers in fig2 and fig3
    from hmc_lite.experiments.fig3 import FIG3_SCALES, fig3_networks

    nets = fig3_networks(FIG3_SCALES["book"])
    number = {(n[0], n[3]): k for k, n in enumerate(nets)}
    book = module.FIG2_SCALES["book"]
    assert book.streams == (
        number["sigmoid", book.widths],
        number["relu", book.widths],
        len(nets),
    )
