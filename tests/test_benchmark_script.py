"""Smoke test: the benchmark script runs with --quick and writes its JSON (no timing asserted)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_benchmark_runs_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_potential.py"), "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "chain-gradients / s" in proc.stdout and "autograd" in proc.stdout
    payload = json.loads(out.read_text())
    rows = payload["results"]
    assert {(r["activation"], r["hidden"], r["chains"]) for r in rows} == {
        (a, h, c) for a in ("relu", "sigmoid") for h in (50, 200) for c in (1, 16, 256)
    }
    assert all(r["chain_gradients_per_second"] > 0 for r in rows)
    assert set(payload["environment"]) >= {"python", "numpy", "autograd", "hmc_lite", "cpu_count"}
