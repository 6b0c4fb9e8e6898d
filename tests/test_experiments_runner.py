"""Experiments in pieces: resumable from a parts folder, the same on a Dask cluster."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hmc_lite.experiments import FIG1_SCALES, Piece, run_fig1, run_pieces
from hmc_lite.experiments import fig1 as fig1_module
from hmc_lite.experiments.__main__ import main
from hmc_lite.experiments.runner import check_seed, open_parts, remove_parts, start_run

TINY = FIG1_SCALES["tiny"]


def _square(x, *, progress=None):
    if progress is not None:
        progress(3)
    return {"y": np.asarray(x) ** 2}


def _pieces(n=3):
    return [Piece(f"p{i}", _square, (np.arange(i + 1),), ("y",), 3) for i in range(n)]


def _assert_same(a, b):
    for field in a._fields:
        np.testing.assert_array_equal(
            getattr(a, field), getattr(b, field), err_msg=field
        )


def test_pieces_run_here_with_progress_and_are_saved(tmp_path):
    ticks = []
    parts = open_parts(tmp_path / "parts", {"run": 1})
    out = run_pieces(_pieces(), parts=parts, progress=ticks.append)
    assert sum(ticks) == 9 and sorted(out) == ["p0", "p1", "p2"]
    np.testing.assert_array_equal(out["p2"]["y"], [0, 1, 4])
    assert sorted(p.name for p in parts.glob("*.npz")) == ["p0.npz", "p1.npz", "p2.npz"]
    remove_parts(parts)
    assert not parts.exists()


def test_saved_pieces_are_read_back_not_run_again(tmp_path):
    parts = open_parts(tmp_path / "parts", {"run": 1})
    run_pieces(_pieces(2), parts=parts)
    calls = []

    def spy(x, *, progress=None):
        calls.append(x)
        return _square(x, progress=progress)

    again = [p._replace(fn=spy) for p in _pieces(3)]
    ticks = []
    out = run_pieces(again, parts=parts, progress=ticks.append)
    # only the missing piece ran; all are counted
    assert len(calls) == 1 and sum(ticks) == 9
    np.testing.assert_array_equal(out["p1"]["y"], [0, 1])


def test_bad_pieces_and_foreign_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        run_pieces(_pieces(2) + _pieces(1))
    with pytest.raises(RuntimeError, match="returned"):
        run_pieces([Piece("p", _square, (1,), ("z",), 0)])
    open_parts(tmp_path / "a", {"seed": 1})
    with pytest.raises(ValueError, match="another run"):
        open_parts(tmp_path / "a", {"seed": 2})
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="other files"):
        open_parts(tmp_path / "b", {"seed": 1})
    remove_parts(tmp_path / "b")  # not a parts folder: left alone
    assert (tmp_path / "b" / "notes.txt").exists()


def test_an_interrupted_fig1_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    full = run_fig1(TINY)
    parts = tmp_path / "fig1.parts"
    grid_piece = fig1_module._grid_piece
    done = []

    def interrupted(*args, **kwargs):
        if len(done) == 2:
            raise KeyboardInterrupt
        done.append(1)
        return grid_piece(*args, **kwargs)

    monkeypatch.setattr(fig1_module, "_grid_piece", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_fig1(TINY, parts=parts)
    monkeypatch.setattr(fig1_module, "_grid_piece", grid_piece)
    saved = sorted(p.stem for p in parts.glob("*.npz"))
    assert len(saved) == len(TINY.models) + 2  # every equilibrium and two grid pieces
    monkeypatch.setattr(fig1_module, "_equilibrium_piece",
                        lambda *a, **k: pytest.fail("an equilibrium piece ran again"))
    _assert_same(run_fig1(TINY, parts=parts), full)
    assert json.loads((parts / "run.json").read_text())["settings"]["seed"] == TINY.seed
    with pytest.raises(ValueError, match="another run"):
        run_fig1(TINY, seed=TINY.seed + 1, parts=parts)


def test_fig1_on_a_local_dask_cluster_equals_the_serial_run():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ticks = []
        on_cluster = run_fig1(TINY, client=client, progress=ticks.append)
    _assert_same(on_cluster, run_fig1(TINY))
    assert sum(ticks) == fig1_module.fig1_cost(TINY)


def test_cli_workers_and_resume(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "fig1.npz"
    assert (
        main(
            [
                "fig1",
                "--scale",
                "tiny",
                "--out",
                str(out),
                "--workers",
                "2",
                "--no-progress",
            ]
        )
        == 0
    )
    # parts removed once saved
    assert out.exists() and not (tmp_path / "fig1.parts").exists()
    _assert_same(fig1_module.load_fig1(out), run_fig1(TINY))
    with pytest.raises(SystemExit):
        main(["fig1", "--scale", "tiny", "--out", str(out), "--workers", "0"])


def test_start_run_applies_the_seed_and_opens_the_parts_folder(tmp_path):
    s, run = start_run("fig1", TINY, seed=7, parts=tmp_path / "p", client=None,
                       progress=None, record={"n_pred": 3})
    assert s == TINY._replace(seed=7) and run["client"] is None
    record = json.loads((run["parts"] / "run.json").read_text())
    assert record["experiment"] == "fig1" and record["n_pred"] == 3
    assert record["settings"]["seed"] == 7
    same, run = start_run("fig1", TINY, seed=None, parts=None, client=None,
                          progress=None)
    assert same is TINY and run["parts"] is None
    assert check_seed(3.0) == 3 and isinstance(check_seed(np.int64(3)), int)
    for bad in (-1, 2**63, 1.5, True, "3", None):
        with pytest.raises(ValueError, match="seed"):
            check_seed(bad)
