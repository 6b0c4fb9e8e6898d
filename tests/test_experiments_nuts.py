"""NUTS on Bayesian networks (chapter 11): configurations, settings, results, resume,
Dask and the command line, at the tiny scale."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hmc_lite.datasets import UTKFACE_ENV
from hmc_lite.experiments import nuts_study as module
from hmc_lite.experiments.__main__ import main
from hmc_lite.experiments.table1 import Table1Settings, table1_problem
from test_experiments_common import assert_same, check_bad_output_refused, check_shapes

TINY = module.NUTS_SCALES["tiny"]


@pytest.fixture(scope="module")
def serial():
    ticks: list[int] = []
    result = module.run_nuts(TINY, progress=ticks.append)
    assert sum(ticks) == module.nuts_cost(TINY)  # the progress bar reaches its total
    assert all(t > 0 for t in ticks) and len(ticks) > len(TINY.models)
    return result


def _expected_configs(s: module.NutsSettings) -> list[module.NutsConfig]:
    """The configurations as NutsSettings documents them, written out independently."""
    out = []
    for i, m in enumerate(s.models):
        out.append(module.NutsConfig(m, "nuts", "diag", 0.8, i))
        if m in s.strict_models:
            out.append(module.NutsConfig(m, "nuts", "diag", s.strict_target, 10 + i))
        if m in s.identity_models:
            out.append(module.NutsConfig(m, "nuts", "identity", 0.8, 20 + i))
        if m in s.remedy_models:
            out.append(module.NutsConfig(m, "hmc", "diag", 0.8, 30 + i))
    return out


@pytest.mark.parametrize("scale", sorted(module.NUTS_SCALES))
def test_configurations_of_every_scale(scale):
    s = module.NUTS_SCALES[scale]
    module._check_settings(s)  # every named scale is a valid run
    configs = module.nuts_configs(s)
    assert configs == _expected_configs(s)
    assert len({c.stream for c in configs}) == len(configs)  # one stream each
    for i, m in enumerate(s.models):
        mine = [c for c in configs if c.model == m]
        # diag at 0.8 for every network, first, on stream i
        assert mine[0] == module.NutsConfig(m, "nuts", "diag", 0.8, i)
        assert sum(c.mass == "identity" for c in mine) == (m in s.identity_models)
        assert sum(c.sampler == "hmc" for c in mine) == (m in s.remedy_models)
        assert sum(c.target == s.strict_target for c in mine) == (m in s.strict_models)
    # the cost counts every configuration's adaptation (NUTS only) and draws
    equilibration = len(s.models) * module._equilibration_cost(s)
    n_nuts = sum(c.sampler == "nuts" for c in configs)
    assert module.nuts_cost(s) == equilibration + s.chains * (
        len(configs) * s.n_draws + n_nuts * s.n_adapt
    )
    assert s.problem == ("real" if scale.endswith("-real") else "synthetic")


def test_configurations_of_custom_settings():
    s = module.NutsSettings(
        models=("tanh", "relu", "gelu"),
        strict_models=("gelu",),
        identity_models=("tanh", "gelu"),
        remedy_models=("relu", "gelu"),
        strict_target=0.9,
    )
    got = [tuple(c) for c in module.nuts_configs(s)]
    assert got == [
        ("tanh", "nuts", "diag", 0.8, 0),
        ("tanh", "nuts", "identity", 0.8, 20),
        ("relu", "nuts", "diag", 0.8, 1),
        ("relu", "hmc", "diag", 0.8, 31),
        ("gelu", "nuts", "diag", 0.8, 2),
        ("gelu", "nuts", "diag", 0.9, 12),
        ("gelu", "nuts", "identity", 0.8, 22),
        ("gelu", "hmc", "diag", 0.8, 32),
    ]


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(problem="mnist"), "problem"),
        (dict(models=("relu", "swish")), "models"),
        (dict(models=()), "models"),
        (dict(models=("sigmoid", "relu", "sigmoid")), "models"),
        (dict(strict_models=("tanh",)), "strict_models"),
        (dict(identity_models=("relu", "gelu")), "identity_models"),
        (dict(remedy_models=("silu",)), "remedy_models"),
        (dict(strict_target=0.0), "strict_target"),
        (dict(strict_target=1.0), "strict_target"),
        (dict(strict_target=1.5), "strict_target"),
        (dict(remedy_fraction=0.0), "remedy_fraction"),
        (dict(remedy_fraction=-0.5), "remedy_fraction"),
        (dict(remedy_fraction=float("nan")), "remedy_fraction"),
        (dict(beta=0.0), "beta"),
        (dict(hidden=0), "hidden"),
        (dict(n_modes=0), "n_modes"),
        (dict(chains_per_mode=0), "chains_per_mode"),
        (dict(max_tree_depth=0), "max_tree_depth"),
        (dict(n_adapt=0), "n_adapt"),
        (dict(n_draws=0), "n_draws"),
        (dict(n_track=0), "n_track"),
        (dict(thin=0), "thin"),
        (dict(n_lanczos=0), "n_lanczos"),
        (dict(n_adam=-1), "n_adam"),
        (dict(base_window=2.5), "base_window"),
        (dict(eq_path_length=0.0), "eq_path_length"),
        (dict(eq_n_adapt=0), "eq_n_adapt"),
        (dict(block=1), "block"),
        (dict(block=2.0), "block"),
        (dict(max_blocks=0), "max_blocks"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(change, field, monkeypatch):
    # refused before any computing
    monkeypatch.setattr(module, "_network_piece", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(ValueError, match=rf"settings\.{field}\b"):
        module.run_nuts(TINY._replace(**change))


def test_bad_seed_and_settings_type_are_refused():
    with pytest.raises(ValueError, match="seed"):
        module.run_nuts(TINY, seed=-1)
    with pytest.raises(TypeError, match="settings"):
        module.run_nuts(TINY._asdict())


def test_a_bad_utkface_setting_is_refused_naming_it(monkeypatch):
    monkeypatch.setattr(module, "_network_piece", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(TypeError, match=r"settings\.utkface"):
        module.run_nuts(TINY._replace(problem="real", utkface=3))


def test_result_has_the_documented_shapes_and_values(serial):
    s = TINY
    configs = module.nuts_configs(s)
    A, K, M, C, N, T = (
        len(s.models), len(configs), s.n_modes, s.chains, s.n_draws, s.n_track
    )
    D = module.nuts_potential(s, "relu").dim
    assert D == 3 * s.hidden + 1  # [1, hidden, 1]
    P = serial.y_test.size
    per_config = {f: (K,) for f in (
        "config_model", "config_sampler", "config_mass", "config_target", "step_size",
        "n_steps", "adapt_divergent", "adapt_tree_depth",
    )}
    per_transition = {f: (K, C, N) for f in (
        "tree_depth", "n_grad_evals", "accept_prob", "divergent"
    )}
    scalars = {f: () for f in (
        "problem", "data_name", "noise_sd", "dim", "seed", "n_modes", "chains",
        "max_tree_depth", "hidden", "n_adapt",
    )}
    check_shapes(serial, {
        **per_config,
        **per_transition,
        **scalars,
        "models": (A,),
        "inverse_mass": (K, D),
        "tracked": (K, C, N, T),
        "rmse": (K, M),
        "stability_limit": (K, C),
        "final_position": (K, C, D),
        "equilibrium_position": (A, C, D),
        "equilibrium_converged": (A,),
        "equilibrium_transitions": (A,),
        "x_track": (T, 1),
        "y_test": (P,),
    })
    for field in serial._fields:
        value = getattr(serial, field)
        assert value.dtype != object, field
        if value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), field
    assert str(serial.problem) == "synthetic" and serial.models.tolist() == list(
        s.models
    )
    for name, value in (("dim", D), ("seed", s.seed), ("n_modes", M), ("chains", C),
                        ("max_tree_depth", s.max_tree_depth), ("hidden", s.hidden),
                        ("n_adapt", s.n_adapt)):
        assert int(getattr(serial, name)) == value, name
    assert float(serial.noise_sd) == 0.1
    assert serial.config_model.tolist() == [c.model for c in configs]
    assert serial.config_sampler.tolist() == [c.sampler for c in configs]
    assert serial.config_mass.tolist() == [c.mass for c in configs]
    np.testing.assert_array_equal(serial.config_target, [c.target for c in configs])
    assert serial.divergent.dtype == bool
    assert serial.equilibrium_converged.dtype == bool
    assert np.all((serial.accept_prob >= 0) & (serial.accept_prob <= 1))
    assert np.all(serial.step_size > 0) and np.all(serial.inverse_mass > 0)
    assert np.all(serial.rmse > 0) and np.all(serial.stability_limit > 0)
    assert np.all(serial.equilibrium_transitions > 0)
    # the tracked inputs are evenly spaced in [0, 4]
    x = serial.x_track[:, 0]
    assert np.all((x >= 0) & (x <= 4)) and np.allclose(np.diff(x), x[1] - x[0])
    assert x[1] > x[0]
    # the predictions after the last transition are those at the final positions
    pot = {m: module.nuts_potential(s, m) for m in s.models}
    for k, c in enumerate(configs):
        np.testing.assert_allclose(
            serial.tracked[k, :, -1],
            pot[c.model].predict(serial.final_position[k], serial.x_track),
            err_msg=str(c),
        )


def test_nuts_stays_under_its_depth_cap_and_the_remedy_runs_long_hmc(serial):
    s, r = TINY, serial
    cap = s.max_tree_depth
    configs = module.nuts_configs(s)
    is_nuts = r.config_sampler == "nuts"
    assert is_nuts.sum() == len(configs) - len(s.remedy_models)
    # NUTS: at most 2^cap - 1 gradients per transition, depth within the cap; the
    # kept trajectory (2^depth points) took 2^depth - 1 of them (a rejected doubling
    # costs gradients but is not counted in the depth)
    assert np.all(r.tree_depth[is_nuts] >= 0) and np.all(r.tree_depth[is_nuts] <= cap)
    assert np.all(r.n_grad_evals[is_nuts] >= 1)
    assert np.all(r.n_grad_evals[is_nuts] <= 2**cap - 1)
    assert np.all(r.n_grad_evals[is_nuts] >= 2 ** r.tree_depth[is_nuts] - 1)
    assert np.all(r.n_steps[is_nuts] == 0)
    adapt_depth = r.adapt_tree_depth[is_nuts]
    assert np.all((adapt_depth >= 0) & (adapt_depth <= cap))
    steps = math.ceil((2**cap - 1) / s.remedy_fraction)
    assert steps == 14  # 7 gradients of a depth-3 tree, at half the step size
    for k, c in enumerate(configs):
        diag = configs.index(module.NutsConfig(c.model, "nuts", "diag", 0.8,
                                               s.models.index(c.model)))
        if c.sampler == "hmc":
            assert np.all(r.tree_depth[k] == 0)
            assert np.all(r.n_grad_evals[k] == steps) and int(r.n_steps[k]) == steps
            assert r.step_size[k] == s.remedy_fraction * r.step_size[diag]
            np.testing.assert_array_equal(r.inverse_mass[k], r.inverse_mass[diag])
            assert int(r.adapt_divergent[k]) == 0 and r.adapt_tree_depth[k] == 0
        if c.mass == "identity":
            np.testing.assert_array_equal(r.inverse_mass[k], np.ones(int(r.dim)))
    # the diagonal mass is adapted (not left at the identity)
    diag_rows = (r.config_mass == "diag") & is_nuts
    assert not np.allclose(r.inverse_mass[diag_rows], 1.0)


def test_the_remedy_follows_the_first_configuration_even_at_an_equal_target():
    s = TINY._replace(
        models=("relu",), strict_target=0.8, identity_models=(), max_tree_depth=2
    )
    r = module.run_nuts(s)
    assert r.config_sampler.tolist() == ["nuts", "nuts", "hmc"]
    assert r.step_size[2] == s.remedy_fraction * r.step_size[0]
    np.testing.assert_array_equal(r.inverse_mass[2], r.inverse_mass[0])


def test_same_seed_same_arrays_other_seed_other_arrays(serial):
    # the same seed, given as the keyword or in the settings: identical arrays (the
    # resume and command-line tests rerun seed 0 and compare with `serial` too)
    other = module.run_nuts(TINY, seed=1)
    assert_same(module.run_nuts(TINY._replace(seed=1)), other)
    assert int(other.seed) == 1
    for field in ("equilibrium_position", "final_position", "step_size", "tracked"):
        assert not np.array_equal(getattr(other, field), getattr(serial, field)), field


def test_save_and_load_round_trip(serial, tmp_path):
    path = module.save_nuts(serial, tmp_path / "n.npz")
    assert path == tmp_path / "n.npz"
    assert_same(module.load_nuts(path), serial)
    with pytest.raises(ValueError, match="path"):
        module.save_nuts(serial, tmp_path / "n.npy")


def test_an_interrupted_run_recomputes_only_the_missing_piece(
    serial, tmp_path, monkeypatch
):
    parts = tmp_path / "n.parts"
    assert_same(module.run_nuts(TINY, parts=parts), serial)
    names = sorted(p.name for p in parts.glob("*.npz"))
    assert names == sorted(f"network-{m}.npz" for m in TINY.models)
    lost = TINY.models[-1]
    (parts / f"network-{lost}.npz").unlink()
    with pytest.raises(ValueError, match="another run"):
        module.run_nuts(TINY, parts=parts, seed=TINY.seed + 1)
    calls: list[str] = []
    piece = module._network_piece

    def counted(s, model, *, progress=None):
        calls.append(model)
        return piece(s, model, progress=progress)

    monkeypatch.setattr(module, "_network_piece", counted)
    ticks: list[int] = []
    again = module.run_nuts(TINY, parts=parts, progress=ticks.append)
    assert calls == [lost]
    assert sum(ticks) == module.nuts_cost(TINY)  # the saved pieces count too
    assert_same(again, serial)
    module.run_nuts(TINY, parts=parts)  # nothing missing: nothing runs
    assert calls == [lost]


def test_a_local_dask_cluster_gives_the_serial_arrays(serial):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ticks: list[int] = []
        result = module.run_nuts(TINY, client=client, progress=ticks.append)
    assert sum(ticks) == module.nuts_cost(TINY)
    assert_same(result, serial)


def test_the_real_problem_runs_on_the_diabetes_data(monkeypatch):
    monkeypatch.delenv(UTKFACE_ENV, raising=False)
    s = TINY._replace(problem="real", models=("relu",), strict_models=(),
                      identity_models=(), remedy_models=("relu",))
    r = module.run_nuts(s)
    data = table1_problem(Table1Settings(utkface=""))
    assert str(r.problem) == "real" and str(r.data_name).startswith("diabetes")
    np.testing.assert_array_equal(r.x_track, data.x_test[: s.n_track])
    np.testing.assert_array_equal(r.y_test, data.y_test)
    assert float(r.noise_sd) == data.noise_sd
    d_in = data.x_train.shape[1]
    assert int(r.dim) == (d_in + 1) * s.hidden + s.hidden + 1
    assert r.tracked.shape == (2, s.chains, s.n_draws, s.n_track)
    assert r.final_position.shape == (2, s.chains, int(r.dim))
    for field in ("tracked", "rmse", "stability_limit", "accept_prob", "step_size"):
        assert np.all(np.isfinite(getattr(r, field))), field
    assert module.nuts_problem(s).x_track.shape == (s.n_track, d_in)


def test_cli_writes_the_tiny_run(serial, tmp_path, capsys):
    out = tmp_path / "n.npz"
    assert main(["nuts", "--scale", "tiny", "--out", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().err == ""  # --no-progress: nothing on stderr
    assert not (tmp_path / "n.parts").exists()  # parts removed once saved
    assert_same(module.load_nuts(out), serial)


def test_cli_help_lists_the_scales(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["nuts", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--scale", "--out", "--seed", "--parts", "--workers", "--scheduler"):
        assert option in text
    assert "{" + ",".join(sorted(module.NUTS_SCALES)) + "}" in text
    assert {"tiny", "book", "paper"} <= set(module.NUTS_SCALES)
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "nuts" in capsys.readouterr().out


def test_bad_output_path_refused_before_computing(tmp_path, monkeypatch, capsys):
    check_bad_output_refused("nuts", tmp_path, monkeypatch, capsys)
