"""Lines of code are at most 88 characters: the package, tests, tools, benchmarks and
the chapters' code cells (CONTRIBUTING, "Conventions").

A long line is reported with its file and line number; wrap it (``black`` does most of
the work, comments and docstrings are rewrapped by hand).
"""

from __future__ import annotations

import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIMIT = 88
FOLDERS = ("hmc_lite", "tests", "tools", "benchmarks")
# Files being written by other changes in flight; remove an entry when its file is
# wrapped. None at present: every file fits.
IN_FLIGHT: set[str] = set()


def long_lines(text: str, limit: int = LIMIT) -> list[tuple[int, int]]:
    """``(line number, length)`` of every line of ``text`` longer than ``limit``."""
    lines = text.split("\n")
    return [(n, len(line)) for n, line in enumerate(lines, 1) if len(line) > limit]


def _python_files() -> list[pathlib.Path]:
    files = sorted(ROOT.glob("*.py"))  # the top-level conftest.py
    for folder in FOLDERS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if f.relative_to(ROOT).as_posix() not in IN_FLIGHT]


def _chapters() -> list[pathlib.Path]:
    return sorted((ROOT / "book").glob("*.ipynb"))


def test_long_lines_are_found():
    assert long_lines("x = 1\n" + "y" * 89 + "\n" + "z" * 88) == [(2, 89)]


def _name(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", _python_files(), ids=_name)
def test_python_lines_fit_in_88_columns(path):
    assert long_lines(path.read_text(encoding="utf-8")) == [], path


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.name)
def test_chapter_code_lines_fit_in_88_columns(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = [
        (i, n, length)
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code"
        for n, length in long_lines("".join(cell["source"]))
    ]
    assert found == [], f"{path.name}: (cell, line, length) {found}"
