"""The README's example is code that runs, not a listing that can drift."""

from __future__ import annotations

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    run, warm = namespace["run"], namespace["warm"]
    assert warm.converged
    assert sorted(np.bincount(warm.mode).tolist()) == [4, 4, 4, 4]
    assert run.positions.shape == (16, 50, 151)
    assert 0.0 < run.accept_prob.mean() <= 1.0
