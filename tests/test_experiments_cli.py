"""The Figure 1 experiment of chapter 6 and its command line, at a tiny scale."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import hmc_lite
from hmc_lite.diagnostics import stability_limit
from hmc_lite.experiments import (
    FIG1_SCALES,
    Fig1Result,
    fig1_cost,
    check_output_path,
    fig1_potential,
    load_fig1,
    run_fig1,
    save_fig1,
)
from hmc_lite.experiments.__main__ import main
from hmc_lite.experiments.fig1 import _piece_rng

TINY = FIG1_SCALES["tiny"]


def _expected_shapes(s) -> dict[str, tuple[int, ...]]:
    A, S, F, K = (
        len(s.models),
        len(s.step_sizes),
        len(s.limit_fractions),
        len(s.n_steps),
    )
    M, C, N = s.n_modes, s.n_modes * s.chains_per_mode, s.n_samples
    return {
        "models": (A,),
        "step_sizes": (S,),
        "n_steps": (K,),
        "limit_fractions": (F,),
        "accept_prob": (A, S, K, C, N),
        "energy_error": (A, S, K, C, N),
        "divergent": (A, S, K, C, N),
        "rel_step_sizes": (A, F),
        "rel_accept_prob": (A, F, K, C, N),
        "rel_energy_error": (A, F, K, C, N),
        "rel_divergent": (A, F, K, C, N),
        "mode": (A, C),
        "start_position": (A, C, 151),
        "start_potential": (A, C),
        "mode_potential": (A, M),
        "stability_limit": (A, C),
        "mode_stability_limit": (A, M),
        "equilibrium_step_size": (A, C),
        "equilibrium_transitions": (A,),
        "equilibrium_converged": (A,),
        "scan_step_sizes": (len(s.scan_step_sizes),),
        "scan_divergent": (A, len(s.scan_step_sizes), C, s.scan_samples),
        "pred_x": (101,),
        "pred_f": (A, C, N, 101),
        "seed": (),
        "n_modes": (),
        "chains": (),
        "n_samples": (),
    }


def test_every_field_has_a_stated_shape():
    assert set(_expected_shapes(TINY)) == set(Fig1Result._fields)


def test_cli_writes_npz_that_loads_without_pickle(tmp_path):
    out = tmp_path / "sub" / "fig1.npz"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hmc_lite.experiments",
            "fig1",
            "--scale",
            "tiny",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
    assert "100%" in proc.stderr  # the progress bar goes to stderr ...
    assert "%" not in proc.stdout  # ... and never to stdout
    # A plain npz archive of .npy arrays, none of them object arrays.
    assert zipfile.is_zipfile(out)
    with np.load(out, allow_pickle=False) as npz:
        assert set(npz.files) == set(Fig1Result._fields)
        for name, shape in _expected_shapes(TINY).items():
            assert npz[name].shape == shape, name
            assert npz[name].dtype != object, name
    res = load_fig1(out)
    assert list(res.models) == list(TINY.models)
    np.testing.assert_allclose(res.step_sizes, TINY.step_sizes)
    assert np.all((res.accept_prob >= 0) & (res.accept_prob <= 1))
    assert res.divergent.dtype == bool
    # A divergent transition has acceptance probability 0.
    assert np.all(res.accept_prob[res.divergent] == 0)
    assert int(res.chains) == TINY.chains and int(res.seed) == TINY.seed
    _check_result(res, TINY)


def _check_result(res, s) -> None:
    """What every Figure 1 result satisfies, whatever the seed."""
    A = len(s.models)
    # every mode holds chains_per_mode chains, labelled 0..n_modes-1
    for a in range(A):
        counts = np.bincount(res.mode[a], minlength=s.n_modes)
        assert counts.tolist() == [s.chains_per_mode] * s.n_modes
    assert res.mode.dtype.kind == "i" and int(res.n_modes) == s.n_modes
    for a, model in enumerate(res.models):
        np.testing.assert_allclose(res.start_potential[a],
                                   fig1_potential(str(model))(res.start_position[a]))
    assert np.all(np.isfinite(res.stability_limit)) and np.all(res.stability_limit > 0)
    assert np.all(np.isfinite(res.mode_stability_limit)) and np.all(
        res.mode_stability_limit > 0
    )
    # the relative grid is limit_fractions times each network's median limit at
    # equilibrium
    np.testing.assert_allclose(
        res.rel_step_sizes,
        np.outer(np.median(res.stability_limit, axis=1), s.limit_fractions))
    assert res.equilibrium_converged.dtype == bool and res.equilibrium_converged.all()
    assert np.all(res.equilibrium_transitions >= s.n_adapt + 2 * s.block)
    for acc, div in (
        (res.accept_prob, res.divergent),
        (res.rel_accept_prob, res.rel_divergent),
    ):
        assert np.all((acc >= 0) & (acc <= 1))
        assert np.all(acc[div] == 0)


def test_run_fig1_is_reproducible_and_models_are_independent():
    one = run_fig1(TINY)
    two = run_fig1(TINY._replace(models=TINY.models[1:]))
    # The same seed gives the same numbers, and a model's results do not
    # depend on which other models run with it.
    for field in (
        "accept_prob",
        "rel_accept_prob",
        "stability_limit",
        "start_position",
        "mode",
    ):
        np.testing.assert_array_equal(
            getattr(one, field)[1:], getattr(two, field), err_msg=field
        )
    _check_result(one, TINY)


def test_seed_is_a_parameter():
    base = run_fig1(TINY, seed=5)
    same = run_fig1(TINY._replace(seed=5))
    other = run_fig1(TINY, seed=6)
    assert int(base.seed) == 5 and int(other.seed) == 6
    for a, b in zip(base, same):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(base.start_position, other.start_position)
    assert not np.array_equal(base.accept_prob, other.accept_prob)
    _check_result(other, TINY)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="seed"):
            run_fig1(TINY, seed=bad)


def test_chains_start_from_equilibrate():
    """The grid starts where hmc_lite.equilibrate leaves the chains, with its mode
    labels."""
    s = TINY._replace(models=("relu",))
    res = run_fig1(s, seed=2)
    eq = hmc_lite.equilibrate(
        fig1_potential("relu"),
        s.chains,
        rng=_piece_rng(2, "relu", 0),
        n_modes=s.n_modes,
        n_adam=s.n_adam,
        n_lbfgs=s.n_lbfgs,
        path_length=s.path_length,
        target_accept=s.target_accept,
        n_adapt=s.n_adapt,
        block=s.block,
        max_blocks=s.max_blocks,
    )
    np.testing.assert_array_equal(res.start_position[0], eq.position)
    np.testing.assert_array_equal(res.mode[0], eq.mode)
    np.testing.assert_array_equal(res.equilibrium_step_size[0], eq.step_size)
    assert int(res.equilibrium_transitions[0]) == eq.n_transitions
    np.testing.assert_allclose(res.stability_limit[0],
                               stability_limit(fig1_potential("relu"), eq.position,
                                               n_iter=s.n_lanczos))


def test_book_and_paper_scales():
    book, paper = FIG1_SCALES["book"], FIG1_SCALES["paper"]
    assert book.n_modes >= 4 and paper.n_modes >= book.n_modes
    assert paper.chains > book.chains and set(book.models) <= set(paper.models)
    assert "leaky_relu_0.1" in paper.models
    assert len(paper.step_sizes) > len(book.step_sizes) and max(paper.n_steps) > max(
        book.n_steps
    )
    assert fig1_cost(paper) > 20 * fig1_cost(book)
    for s in (book, paper):
        # the step sizes straddle the stability limits at equilibrium (about 1.1e-3 for
        # the ReLU family and 3.5e-3 for sigmoid)
        assert min(s.step_sizes) < 5e-4 and max(s.step_sizes) > 3.5e-3
        assert min(s.limit_fractions) <= 0.25 and max(s.limit_fractions) >= 0.75


def test_progress_counts_every_gradient():
    seen = []
    run_fig1(TINY, progress=seen.append)
    assert sum(seen) == fig1_cost(TINY)


def test_main_in_process_and_seed_override(tmp_path, capsys):
    out = tmp_path / "a.npz"
    assert (
        main(
            [
                "fig1",
                "--scale",
                "tiny",
                "--out",
                str(out),
                "--seed",
                "3",
                "--no-progress",
            ]
        )
        == 0
    )
    assert int(load_fig1(out).seed) == 3
    captured = capsys.readouterr()
    assert captured.err == ""  # --no-progress: nothing on stderr


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no experiment
        ["fig9", "--out", "x.npz"],  # unknown experiment
        ["fig1"],  # --out missing
        ["fig1", "--scale", "huge", "--out", "x.npz"],  # unknown scale
        ["fig1", "--scale", "tiny", "--out", "x.txt"],  # not an .npz
        ["fig1", "--scale", "tiny", "--out", "x.npz", "--seed", "-1"],
        ["fig1", "--scale", "tiny", "--out", "x.npz", "--seed", "one"],
    ],
)
def test_bad_arguments_are_refused(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists() and not (tmp_path / "x.txt").exists()


def test_load_refuses_pickles_and_foreign_files(tmp_path):
    pickled = tmp_path / "obj.npz"
    np.savez(
        pickled, **{f: np.array([{"a": 1}], dtype=object) for f in Fig1Result._fields}
    )
    with pytest.raises(ValueError, match="pickle"):
        load_fig1(pickled)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ValueError, match="missing"):
        load_fig1(other)
    with pytest.raises(FileNotFoundError):
        load_fig1(tmp_path / "absent.npz")


def test_save_checks_its_arguments(tmp_path):
    res = run_fig1(TINY._replace(models=("relu",)))
    with pytest.raises(ValueError, match="path"):
        save_fig1(res, tmp_path / "x.npy")
    with pytest.raises(TypeError, match="result"):
        save_fig1(res._asdict(), tmp_path / "x.npz")
    round_trip = load_fig1(save_fig1(res, tmp_path / "x.npz"))
    for a, b in zip(res, round_trip):
        np.testing.assert_array_equal(a, b)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="models"):
        run_fig1(TINY._replace(models=("tanh",)))
    with pytest.raises(ValueError, match="step_sizes"):
        run_fig1(TINY._replace(step_sizes=(1e-3, -1e-3)))
    with pytest.raises(ValueError, match="n_steps"):
        run_fig1(TINY._replace(n_steps=(0,)))
    with pytest.raises(ValueError, match="n_modes"):
        run_fig1(TINY._replace(n_modes=0))
    with pytest.raises(ValueError, match="chains_per_mode"):
        run_fig1(TINY._replace(chains_per_mode=0))
    with pytest.raises(ValueError, match="chains"):
        run_fig1(TINY._replace(n_modes=1, chains_per_mode=1))
    with pytest.raises(ValueError, match="limit_fractions"):
        run_fig1(TINY._replace(limit_fractions=(0.5, 0.0)))
    with pytest.raises(ValueError, match="block"):
        run_fig1(TINY._replace(block=1))
    with pytest.raises(ValueError, match="target_accept"):
        run_fig1(TINY._replace(target_accept=1.0))
    with pytest.raises(ValueError, match="models"):
        run_fig1(TINY._replace(models=("relu", "relu")))
    with pytest.raises(TypeError, match="settings"):
        run_fig1(dict(TINY._asdict()))


def test_fig1_potential_models():
    sig, leaky = fig1_potential("sigmoid"), fig1_potential("leaky_relu_0.1")
    assert sig.dim == 151 and sig.widths == (1, 50, 1)
    assert sig.noise_sd == 0.1 and sig.prior_sd == 1.0
    assert leaky.activation.params["slope"] == 0.1
    assert fig1_potential("leaky_relu").activation.params["slope"] == 0.01
    with pytest.raises(ValueError, match="model"):
        fig1_potential("swish")


@pytest.mark.parametrize("name", [".npz", "x.npz/", "folder.npz"])
def test_cli_checks_the_output_path_before_computing(
    name, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.npz").mkdir()
    calls = []
    monkeypatch.setattr(
        "hmc_lite.experiments.__main__.run_fig1", lambda *a, **k: calls.append(1)
    )
    with pytest.raises(SystemExit) as exc:
        main(["fig1", "--scale", "tiny", "--out", name, "--no-progress"])
    assert exc.value.code == 2 and "--out" in capsys.readouterr().err
    assert calls == []  # refused before any computing


def test_cli_refuses_an_unwritable_folder(tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        # e.g. running as root: permissions are not enforced
        if os.access(locked, os.W_OK):
            pytest.skip("the file system lets this user write anywhere")
        monkeypatch.setattr(
            "hmc_lite.experiments.__main__.run_fig1", lambda *a, **k: pytest.fail("ran")
        )
        with pytest.raises(SystemExit):
            main(
                [
                    "fig1",
                    "--scale",
                    "tiny",
                    "--out",
                    str(locked / "x.npz"),
                    "--no-progress",
                ]
            )
    finally:
        locked.chmod(0o700)


def test_check_output_path_refuses_a_file_as_folder(tmp_path):
    (tmp_path / "plain").write_text("not a folder")
    with pytest.raises(ValueError, match="cannot write"):
        check_output_path(tmp_path / "plain" / "x.npz")
    assert check_output_path(tmp_path / "new" / "x.npz") == tmp_path / "new" / "x.npz"
    assert list((tmp_path / "new").iterdir()) == []  # the probe file is gone


def test_an_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    res = run_fig1(TINY._replace(models=("relu",)))
    out = save_fig1(res, tmp_path / "x.npz")
    before = out.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_fig1(res, out)
    assert out.read_bytes() == before
    # no temporary file left behind
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"plain text"])
def test_load_refuses_damaged_files_with_value_error(content, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content)
    with pytest.raises(ValueError, match="bad.npz"):
        load_fig1(bad)


def test_load_refuses_a_single_array(tmp_path):
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        load_fig1(single)


def test_huge_seeds_are_refused():
    with pytest.raises(ValueError, match="seed"):
        run_fig1(TINY, seed=2**64)
