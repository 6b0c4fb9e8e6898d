"""The book as a whole: clean notebooks, a consistent table of contents, the strict build."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def _chapters() -> list[pathlib.Path]:
    return sorted(BOOK.glob("*.ipynb"))


def test_every_toc_entry_is_a_file():
    for entry in _toc_files():
        matches = [p for p in (ROOT / f"{entry}.ipynb", ROOT / f"{entry}.md") if p.exists()]
        assert matches, f"_toc.yml lists {entry}, which is neither .ipynb nor .md"


def test_every_notebook_is_in_the_toc():
    listed = set(_toc_files())
    for nb in _chapters():
        assert str(nb.relative_to(ROOT).with_suffix("")) in listed, f"{nb.name} is not in _toc.yml"


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} has stored outputs"
            assert cell.get("execution_count") is None, f"{path.name} has execution counts"


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.name)
def test_notebook_imports_hmc_lite_and_installs_from_the_configured_repository(path):
    nb = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "import hmc_lite" in code or "from hmc_lite" in code
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    if "git+" in code:
        assert f"git+{url}" in code, f"{path.name}: the Colab install line must use {url}"


@pytest.mark.book
def test_strict_build(tmp_path):
    """Build the whole book from clean, with warnings as errors."""
    jb = shutil.which("jupyter-book") or str(pathlib.Path(sys.executable).parent / "jupyter-book")
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run(
        [jb, "build", str(ROOT), "--path-output", str(tmp_path), "-W", "-n", "--keep-going", "--all"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
    assert proc.returncode == 0, f"strict build failed:\n{tail}"
    html = tmp_path / "_build" / "html"
    for entry in _toc_files():
        assert (html / f"{entry}.html").exists(), f"no page for {entry}"
