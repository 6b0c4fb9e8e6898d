"""Experiments that combine models with the sampler core, at named scales.

One module per experiment holds its settings, its run and its result file:
:mod:`.fig1` (acceptance rates, chapter 6, the paper's Figure 1), :mod:`.fig2`
(efficiency on the synthetic data, chapter 7, Figure 2), :mod:`.fig3` (acceptance
against network size, chapter 7, Figure 3), :mod:`.table1` (real data, chapter 8:
Table 1 and the real-data panel of Figure 2), :mod:`.tuning` (the tuning study of
chapter 9) and :mod:`.nuts_study` (NUTS, chapter 11). An experiment is cut into
independent pieces that :mod:`.runner` runs here or on a Dask cluster, saving each
finished piece so that an interrupted run resumes; :mod:`.store` writes arrays
atomically and reads them without pickle; the command line is :mod:`.__main__`::

    python -m hmc_lite.experiments fig1 --scale book --out results/fig1_book.npz
    python -m hmc_lite.experiments fig1 --scale paper --out results/fig1.npz
    python -m hmc_lite.experiments tuning --scale paper --out tuning.npz --workers 4

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
from .fig2 import FIG2_SCALES, Fig2Result, Fig2Settings, load_fig2, run_fig2, save_fig2
from .fig3 import FIG3_SCALES, Fig3Result, Fig3Settings, load_fig3, run_fig3, save_fig3
from .nuts_study import (
    NUTS_SCALES,
    NutsConfig,
    NutsResult,
    NutsSettings,
    load_nuts,
    nuts_configs,
    nuts_cost,
    nuts_potential,
    nuts_problem,
    run_nuts,
    save_nuts,
)
from ._shared import describe_settings
from .runner import Piece, run_pieces
from .store import check_output_path, load_arrays, save_arrays
from .table1 import (
    TABLE1_SCALES,
    Table1Result,
    Table1Settings,
    load_table1,
    run_table1,
    save_table1,
)
from .tuning import (
    TUNING_SCALES,
    TuningResult,
    TuningSettings,
    load_tuning,
    run_tuning,
    save_tuning,
)

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
    "describe_settings",
    "FIG2_SCALES",
    "Fig2Settings",
    "Fig2Result",
    "run_fig2",
    "save_fig2",
    "load_fig2",
    "FIG3_SCALES",
    "Fig3Settings",
    "Fig3Result",
    "run_fig3",
    "save_fig3",
    "load_fig3",
    "TABLE1_SCALES",
    "Table1Settings",
    "Table1Result",
    "run_table1",
    "save_table1",
    "load_table1",
    "TUNING_SCALES",
    "TuningSettings",
    "TuningResult",
    "run_tuning",
    "save_tuning",
    "load_tuning",
    "NUTS_SCALES",
    "NutsSettings",
    "NutsConfig",
    "NutsResult",
    "nuts_configs",
    "nuts_cost",
    "nuts_potential",
    "nuts_problem",
    "run_nuts",
    "save_nuts",
    "load_nuts",
]
