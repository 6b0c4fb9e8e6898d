"""Chapter 8 runs to the end on a UTKFace folder (a generated one: the real data cannot
ship).

The chapter's parameters cell is replaced by one that points ``UTKFACE_PATH`` at a
folder of small random images named like UTKFace's aligned crops,
``{age}_{gender}_{race}_{date}.jpg.chip.jpg``, and asks for few, tiny images and few
transitions per setting so that the run stays short. The whole notebook is then executed
with nbclient: every cell must run without an error or output on stderr, and every
hidden assert cell (tagged ``remove-cell``) must have run, so the checks that apply to
any data set hold on UTKFace too.
"""

from __future__ import annotations

import os
import pathlib

import nbformat
import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "08_real_data.ipynb"
N_IMAGES, IMAGE_SIZE = 80, 4  # 16 features: a [16, 20, 1] network, 361 parameters
N_SAMPLES = 6  # transitions per chain and setting: enough to exercise every cell


def _make_folder(root: pathlib.Path, n: int, rng: np.random.Generator) -> None:
    """RGB noise faces whose brightness grows, weakly and noisily, with the age in the
    file name.

    A strong signal would make the posterior very narrow and every HMC step tiny (slow).
    """
    for k in range(n):
        age = int(rng.integers(1, 90))
        pixels = (
            rng.integers(0, 160, size=(24, 24, 3)) + 0.5 * age + rng.normal(0.0, 30.0)
        )
        img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
        name = f"{age}_{k % 2}_{k % 5}_2017011{k % 10}{k:09d}.jpg.chip.jpg"
        img.save(root / name, "JPEG")


def _parameters(path: pathlib.Path) -> str:
    return (
        f"SEED = 0\nUTKFACE_PATH = {str(path)!r}\n"
        f"UTKFACE_N, UTKFACE_IMAGE_SIZE = {N_IMAGES}, {IMAGE_SIZE}\nN_SAMPLES = "
        f"{N_SAMPLES}\n"
    )


def test_chapter_8_runs_on_a_generated_utkface_folder(tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    folder = tmp_path / "UTKFace"
    folder.mkdir()
    _make_folder(folder, N_IMAGES, np.random.default_rng(0))

    nb = nbformat.read(CHAPTER, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "chapter 8 must have exactly one cell tagged 'parameters'"
    for name in ("SEED = 0", "UTKFACE_PATH", "UTKFACE_N", "N_SAMPLES"):
        assert name in params[0].source, name
    params[0].source = _parameters(folder)

    monkeypatch.delenv("UTKFACE_DIR", raising=False)
    env = {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(CHAPTER.parent)}},
    )
    client.execute()

    problems, printed = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"cell {i}: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append(f"cell {i} wrote to stderr: {out.text[:300]}")
            elif out.output_type == "stream":
                printed.append(out.text)
        tags = cell.metadata.get("tags", [])
        if "remove-cell" in tags and "assert" in cell.source:
            assert (
                cell.get("execution_count") is not None
            ), f"hidden assert cell {i} did not run"
    assert not problems, "\n".join(problems)
    text = "".join(printed)
    assert f"UTKFace ({N_IMAGES} images, {IMAGE_SIZE}x{IMAGE_SIZE} grey)" in text, text[
        :500
    ]
    assert "diabetes" not in text
