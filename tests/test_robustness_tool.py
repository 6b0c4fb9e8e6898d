"""tools/robustness.py on tiny generated notebooks: statuses, merging and exit code."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "robustness.py"


def _notebook(path: pathlib.Path, cells: list[tuple[str, list[str]]]) -> pathlib.Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i, (source, tags) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
        cell.id = f"c{i}"
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def _run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


def test_statuses_exit_code_and_merging(tmp_path):
    # even seeds only
    seeded = _notebook(
        tmp_path / "seeded.ipynb",
        [
            ("import math", []),
            ("SEED = 0  # the parameters cell", ["parameters"]),
            (
                "x = 2 * SEED\nif SEED == 3:\n    raise RuntimeError('no y for seed "
                "3')\ny = 1",
                [],
            ),
            ("assert SEED % 2 == 0, f'odd seed {SEED}'", ["remove-cell"]),
            ("assert x == 2 * SEED", ["remove-cell"]),  # always
            ("assert y == 1", ["remove-cell"]),  # y missing for 3
            ("print('a visible cell that mentions assert')", []),  # not hidden
        ],
    )
    out = tmp_path / "robustness.json"

    proc = _run(seeded, "--seeds", 1, 2, 3, "--out", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    payload = json.loads(out.read_text())
    (key,) = payload["chapters"]
    entry = payload["chapters"][key]
    assert entry["parameters_cell"] is True
    assert [a["cell_id"] for a in entry["asserts"]] == ["c3", "c4", "c5"]
    assert entry["asserts"][0]["first_assert"].startswith("assert SEED % 2 == 0")
    assert set(entry["machine"]) >= {"platform", "processor", "cpu_count"}
    assert set(entry["versions"]) >= {
        "python",
        "numpy",
        "scipy",
        "autograd",
        "matplotlib",
    }
    status = {seed: {cid: v["status"] for cid, v in run["asserts"].items()}
              for seed, run in entry["runs"].items()}
    assert status == {
        "1": {"c3": "failed", "c4": "held", "c5": "held"},
        "2": {"c3": "held", "c4": "held", "c5": "held"},
        "3": {"c3": "failed", "c4": "held", "c5": "not reached"},
    }
    assert entry["runs"]["1"]["asserts"]["c3"]["error"] == "AssertionError: odd seed 1"
    assert entry["runs"]["3"]["errors"][0]["cell_id"] == "c2"
    assert "RuntimeError" in entry["runs"]["3"]["errors"][0]["error"]
    assert all(run["seconds"] >= 0 for run in entry["runs"].values())
    # the injected cell came right after the parameters cell: SEED was k from then on
    # the source is left untouched
    assert "injected-parameters" not in seeded.read_text()

    # A chapter without a parameters cell is reported and not run; other entries are
    # kept.
    plain = _notebook(tmp_path / "plain.ipynb", [("assert True", ["remove-cell"])])
    proc = _run(plain, "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no cell tagged 'parameters'" in proc.stdout
    payload = json.loads(out.read_text())
    assert len(payload["chapters"]) == 2
    plain_entry = next(
        v for k, v in payload["chapters"].items() if k.endswith("plain.ipynb")
    )
    assert plain_entry["parameters_cell"] is False and plain_entry["runs"] == {}

    # Only even seeds: every assert holds and the exit code is 0; runs of the same code
    # merge.
    proc = _run(seeded, "--seeds", 4, "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = json.loads(out.read_text())["chapters"][key]["runs"]
    assert list(runs) == ["1", "2", "3", "4"]
    assert all(v["status"] == "held" for v in runs["4"]["asserts"].values())
