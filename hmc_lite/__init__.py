"""hmc_lite: a small, readable Hamiltonian Monte Carlo library for the book
*HMC on ReLU networks is inefficient*.

Layers: the sampler core (:mod:`potential`, :mod:`integrators`, :mod:`kernel`,
:mod:`diagnostics`) knows nothing of neural networks; :mod:`models` builds
potentials; :mod:`scaling` holds optimal-scaling formulas; :mod:`datasets`,
:mod:`warmup` and :mod:`plotting` serve the chapters.
"""

from . import datasets
from .adaptation import AdaptationResult, DualAveragingState, adapt_step_size, dual_averaging_init, dual_averaging_update
from .checks import IntegratorReport, check_integrator
from .grid import GridResult, run_grid
from .diagnostics import AcceptanceSummary, acceptance_summary, ess, mcse_mean, rhat
from .integrators import Path, Trajectory, kinetic_energy, leapfrog, leapfrog_path
from .kernel import HMCInfo, HMCState, SampleResult, hmc_step, init_state, sample
from .models import (
    ACTIVATIONS,
    Activation,
    MLPPotential,
    gaussian_potential,
    get_activation,
    kinked_product_potential,
    mlp_potential,
)
from .potential import Potential, ValueAndGrad
from .scaling import (
    efficiency_curve,
    expected_acceptance,
    kink_variance_constant,
    optimal_acceptance,
    optimal_scale,
    predicted_acceptance,
)
from .warmup import WarmupResult, adam, shared_warmup

__version__ = "0.1.0"

__all__ = [
    "AdaptationResult", "DualAveragingState", "adapt_step_size", "dual_averaging_init", "dual_averaging_update",
    "ACTIVATIONS",
    "AcceptanceSummary",
    "Activation",
    "HMCInfo",
    "HMCState",
    "IntegratorReport",
    "MLPPotential",
    "Path",
    "GridResult",
    "Potential",
    "SampleResult",
    "Trajectory",
    "ValueAndGrad",
    "WarmupResult",
    "acceptance_summary",
    "check_integrator",
    "adam",
    "datasets",
    "efficiency_curve",
    "ess",
    "expected_acceptance",
    "gaussian_potential",
    "get_activation",
    "hmc_step",
    "init_state",
    "kinetic_energy",
    "kinked_product_potential",
    "leapfrog",
    "leapfrog_path",
    "mcse_mean",
    "mlp_potential",
    "kink_variance_constant",
    "optimal_acceptance",
    "optimal_scale",
    "predicted_acceptance",
    "rhat",
    "run_grid",
    "sample",
    "shared_warmup",
]
