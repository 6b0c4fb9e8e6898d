"""Experiments that combine models with the sampler core, at named scales.

One module per experiment holds its settings, its run and its result file
(:mod:`.fig1`, the acceptance-rate experiment of chapter 6, the paper's Figure
1). An experiment is cut into independent pieces that :mod:`.runner` runs here
or on a Dask cluster, saving each finished piece so that an interrupted run
resumes; :mod:`.store` writes arrays atomically and reads them without pickle;
the command line is :mod:`.__main__`::

    python -m hmc_lite.experiments fig1 --scale book --out results/fig1_book.npz
    python -m hmc_lite.experiments fig1 --scale paper --out results/fig1.npz

:func:`hmc_lite.grid.run_grid`, the batched grid
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
    load_fig1,
    run_fig1,
    save_fig1,
)
from .runner import Piece, run_pieces
from .store import check_output_path, load_arrays, save_arrays

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
    "save_arrays",
    "load_arrays",
    "Piece",
    "run_pieces",
]
