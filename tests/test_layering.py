"""The package's layers import only downwards (the table in CONTRIBUTING.md).

Read from the source with ``ast`` (imports inside functions count too; doctest examples,
which are strings, do not), so that a convenience import that crosses a layer fails
here.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "hmc_lite"

CORE = {
    "_validation",
    "potential",
    "integrators",
    "kernel",
    "diagnostics",
    "adaptation",
    "checks",
    "nuts",
}
TARGETS = {"models", "scaling"}
RUNS = {"datasets", "warmup", "equilibrium", "grid", "experiments", "benchmark"}
PLOTTING = {"plotting"}
# What each layer may import from the package (besides itself).
ALLOWED = {
    **{m: CORE for m in CORE},
    **{m: CORE | TARGETS for m in TARGETS},
    **{m: CORE | TARGETS | RUNS for m in RUNS},
    **{m: set() for m in PLOTTING},  # the figure style needs nothing of the sampler
}


def _sources(module: str) -> list[pathlib.Path]:
    """The files of a top-level module: ``module.py``, or every file of the subpackage.
    """
    single = PACKAGE / f"{module}.py"
    return [single] if single.exists() else sorted((PACKAGE / module).glob("*.py"))


def _package_imports(module: str) -> set[str]:
    """Top-level modules of hmc_lite that ``module`` imports (its own files excluded).
    """
    found = set()
    for source in _sources(module):
        depth = 1 if source.parent == PACKAGE else 2  # the level of "from hmc_lite"
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level == depth and node.module:
                    found.add(node.module.split(".")[0])
                # from . import x (a module; __version__ is metadata)
                elif node.level == depth:
                    found.update(
                        a.name for a in node.names if not a.name.startswith("__")
                    )
                elif node.module and node.module.startswith("hmc_lite."):
                    found.add(node.module.split(".")[1])
                elif node.module == "hmc_lite":
                    found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("hmc_lite."):
                        found.add(alias.name.split(".")[1])
    return found - {module}


def test_every_module_has_a_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    modules |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert modules == set(ALLOWED), modules ^ set(ALLOWED)


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imports_only_go_down(module):
    crossing = _package_imports(module) - ALLOWED[module]
    assert (
        not crossing
    ), f"hmc_lite.{module} imports {sorted(crossing)} from a higher layer"


def test_the_check_sees_a_crossing(tmp_path, monkeypatch):
    (tmp_path / "kernel.py").write_text(
        "def f():\n    from .models import MLPPotential\n"
    )
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    assert _package_imports("kernel") == {"models"}


def test_the_check_reads_every_file_of_a_subpackage(tmp_path, monkeypatch):
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "__init__.py").write_text("from .fig1 import run\n")
    (tmp_path / "experiments" / "fig1.py").write_text(
        "from ..plotting import show\nfrom .store import x\n"
    )
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    assert _package_imports("experiments") == {"plotting"}
