"""Smoke tests: the benchmark script runs with --quick and writes its JSON (no timing
asserted)."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import hmc_lite.benchmark

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_potential.py"


def load_script():
    spec = importlib.util.spec_from_file_location("bench_potential", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_runs_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    # this checkout's hmc_lite, whatever is installed
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--no-jax", "--json", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "µs per chain-gradient" in proc.stdout and "autograd" in proc.stdout
    assert "JAX not timed" in proc.stdout
    payload = json.loads(out.read_text())
    rows = payload["results"]
    expected = {(a, tuple(w), c) for a, w, c in load_script().configurations()}
    assert {
        (r["activation"], tuple(r["widths"]), r["chains"]) for r in rows
    } == expected
    assert all(
        r["hmc_lite_us"] > 0 and r["jax_us"] is None and r["speedup"] is None
        for r in rows
    )
    assert payload["goal"]["geometric_mean_speedup"] is None
    assert set(payload["environment"]) >= {
        "python",
        "numpy",
        "autograd",
        "hmc_lite",
        "cpu_count",
        "blas",
        "jax",
    }


def test_configurations_cover_the_goal_and_the_scaling_range():
    script = load_script()
    configs = script.configurations()
    assert len(set(configs)) == len(configs)
    for a in ("relu", "sigmoid"):
        for c in (16, 112):  # the goal's rows
            assert (a, (1, 50, 1), c) in configs
        assert {c for act, w, c in configs if (act, w) == (a, (1, 50, 1))} >= {16, 512}


def test_without_jax_the_script_says_so_and_skips_the_column(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(hmc_lite.benchmark, "jax_version", lambda: None)
    script = load_script()
    monkeypatch.setattr(script, "configurations", lambda: [("relu", (1, 3, 1), 2)])
    assert script.main(["--quick", "--json", str(tmp_path / "b.json")]) == 0
    text = capsys.readouterr().out
    assert "JAX is not installed" in text and "pip install 'hmc_lite[jax]'" in text
    (row,) = json.loads((tmp_path / "b.json").read_text())["results"]
    assert row["jax_us"] is None and row["hmc_lite_us"] > 0
