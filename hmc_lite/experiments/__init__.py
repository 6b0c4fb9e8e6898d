"""Experiments that combine models with the sampler core, at named scales.

One module per experiment holds its settings and its run (:mod:`.fig1`, the
acceptance-rate experiment of chapter 6, the paper's Figure 1); results are
saved and loaded by :mod:`.store`; the command line is :mod:`.__main__`::

    python -m hmc_lite.experiments fig1 --scale book --out results/fig1_book.npz
    python -m hmc_lite.experiments fig1 --scale paper --out results/fig1.npz

Results are written with :func:`numpy.savez`, atomically, and read back with
:func:`load_fig1` (no pickle). :func:`hmc_lite.grid.run_grid`, the batched grid
of sampler settings the experiments build on, is re-exported here.
"""

from __future__ import annotations

from ..grid import GridResult, run_grid
from .fig1 import (
    FIG1_MODELS,
    FIG1_SCALES,
    Fig1Result,
    Fig1Settings,
    fig1_cost,
    fig1_potential,
    run_fig1,
)
from .store import check_output_path, load_fig1, save_fig1

__all__ = [
    "GridResult",
    "run_grid",
    "FIG1_MODELS",
    "FIG1_SCALES",
    "Fig1Settings",
    "Fig1Result",
    "fig1_potential",
    "fig1_cost",
    "run_fig1",
    "check_output_path",
    "save_fig1",
    "load_fig1",
]
