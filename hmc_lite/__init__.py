"""hmc_lite: a small, readable Hamiltonian Monte Carlo library for the book
*HMC on ReLU networks is inefficient*.

Layers, each importing only the ones above it:

- the sampler core: :mod:`~hmc_lite.potential`, :mod:`~hmc_lite.integrators`,
  :mod:`~hmc_lite.kernel`, :mod:`~hmc_lite.diagnostics`, :mod:`~hmc_lite.adaptation`,
  :mod:`~hmc_lite.checks`, the No-U-Turn sampler :mod:`hmc_lite.nuts` (imported on
  demand) and the argument checks of every entry point (``hmc_lite._validation``);
  it knows nothing of neural networks;
- targets: :mod:`~hmc_lite.models` (Gaussian, kinked product targets, Bayesian MLPs)
  and the formulas of :mod:`~hmc_lite.scaling`;
- data and runs: :mod:`~hmc_lite.datasets`, :mod:`~hmc_lite.warmup`,
  :mod:`~hmc_lite.equilibrium`,
  :mod:`~hmc_lite.grid`, and (imported on demand) :mod:`hmc_lite.experiments`
  and :mod:`hmc_lite.benchmark`;
- :mod:`~hmc_lite.plotting`, the book's figure style (imported on demand).
"""

from . import datasets
from .adaptation import (
    AdaptationResult,
    DualAveragingState,
    MassAdaptationResult,
    adapt_diagonal_mass,
    adapt_step_size,
    dual_averaging_init,
    dual_averaging_update,
)
from .checks import IntegratorReport, check_integrator
from .diagnostics import AcceptanceSummary, acceptance_summary, ess, mcse_mean, rhat
from .equilibrium import EquilibriumResult, equilibrate
from .grid import GridResult, run_grid
from .integrators import (
    LeapfrogPath,
    LeapfrogPoint,
    energy_error,
    kinetic_energy,
    leapfrog,
    leapfrog_path,
)
from .kernel import HMCInfo, HMCState, SampleResult, hmc_step, init_state, sample
from .models import (
    ACTIVATIONS,
    Activation,
    MLPPotential,
    gaussian_potential,
    get_activation,
    kinked_product_potential,
    mlp_potential,
    product_potential,
)
from .potential import Potential, ValueAndGrad, WhitenedPotential
from .scaling import (
    efficiency_curve,
    expected_acceptance,
    kink_variance_constant,
    optimal_acceptance,
    optimal_scale,
    one_step_acceptance,
    predicted_acceptance,
)
from .warmup import WarmupResult, adam, shared_warmup

__version__ = "0.1.0"

__all__ = [
    "acceptance_summary",
    "AcceptanceSummary",
    "Activation",
    "ACTIVATIONS",
    "adam",
    "adapt_diagonal_mass",
    "adapt_step_size",
    "AdaptationResult",
    "check_integrator",
    "datasets",
    "dual_averaging_init",
    "dual_averaging_update",
    "DualAveragingState",
    "efficiency_curve",
    "energy_error",
    "equilibrate",
    "EquilibriumResult",
    "ess",
    "expected_acceptance",
    "gaussian_potential",
    "get_activation",
    "GridResult",
    "hmc_step",
    "HMCInfo",
    "HMCState",
    "init_state",
    "IntegratorReport",
    "kinetic_energy",
    "kink_variance_constant",
    "kinked_product_potential",
    "leapfrog",
    "leapfrog_path",
    "LeapfrogPath",
    "LeapfrogPoint",
    "MassAdaptationResult",
    "mcse_mean",
    "mlp_potential",
    "MLPPotential",
    "one_step_acceptance",
    "optimal_acceptance",
    "optimal_scale",
    "Potential",
    "predicted_acceptance",
    "product_potential",
    "rhat",
    "run_grid",
    "sample",
    "SampleResult",
    "shared_warmup",
    "ValueAndGrad",
    "WarmupResult",
    "WhitenedPotential",
]
