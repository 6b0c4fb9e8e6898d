"""Keep the chapters nbval executes, so that `make test` executes each chapter once.

`make test` runs every chapter under nbval and then builds the book strictly; without
this, the build would execute every chapter a second time. With the environment
variable ``HMC_LITE_EXECUTED`` set to a folder, each chapter all of whose cells passed
under nbval is written there as an executed notebook: the source notebook with the
outputs nbval received from the kernel and execution counts 1, 2, .... The strict-build
fixture of ``tests/test_book.py`` stores these in the build's execution cache
(jupyter-cache, which matches a notebook to a chapter by its code), so the build
executes only the chapters not found there. Without the variable nothing is written.

This file sits at the top of the repository because nbval's items live in ``book/``,
outside ``tests/``.
"""

from __future__ import annotations

import os
import pathlib

import nbformat

#: Notebook paths (node ids) with a failed cell in this process.
_FAILED: set[str] = set()
#: Outputs of the cells run so far, by notebook node id and cell number.
_OUTPUTS: dict[str, dict[int, list]] = {}


def _folder() -> pathlib.Path | None:
    value = os.environ.get("HMC_LITE_EXECUTED")
    return pathlib.Path(value) if value else None


def _is_nbval_cell(item) -> bool:
    return hasattr(item, "cell_num") and hasattr(item, "test_outputs")


def pytest_configure(config) -> None:
    """Let nbval run cells as JupyterLab and nbclient do, with the kernel's history on.

    nbval sends each cell with ``store_history=False``; IPython then cannot see the
    cell's source when it decides whether a trailing ``;`` hides the cell's value, and
    shows it. The chapters end check calls with ``;``, and the kept notebooks must show
    what the book shows.
    """
    try:
        from nbval.kernel import RunningKernel
    except ImportError:  # nbval is not installed: no notebooks to run
        return

    def execute_cell_input(self, cell_input, allow_stdin=None):
        return self.kc.execute(
            cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False
        )

    RunningKernel.execute_cell_input = execute_cell_input


def pytest_runtest_logreport(report) -> None:
    if report.failed and ".ipynb::" in report.nodeid:
        _FAILED.add(report.nodeid.split("::")[0])


def pytest_runtest_teardown(item, nextitem) -> None:
    folder = _folder()
    if folder is None or not _is_nbval_cell(item):
        return
    notebook = item.parent
    outputs = _OUTPUTS.setdefault(notebook.nodeid, {})
    if item.test_outputs is not None:
        outputs[item.cell_num] = item.test_outputs
    if nextitem is not None and nextitem.parent is notebook:
        return  # not the notebook's last cell
    ran = _OUTPUTS.pop(notebook.nodeid)
    nb = nbformat.from_dict(notebook.nb)  # a copy: nbval's own stays as it was read
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if notebook.nodeid in _FAILED or sorted(ran) != list(range(len(code))):
        return  # a cell failed or did not run: the build executes this chapter itself
    for count, cell in enumerate(code, start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.from_dict(out) for out in ran[count - 1]]
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = count
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / pathlib.Path(str(notebook.fspath)).name
    partial = target.with_suffix(".partial")
    nbformat.write(nb, partial)
    partial.replace(target)  # whole or absent, never half written
