"""Argument checks shared by every public entry point of :mod:`hmc_lite`.

Each helper returns the argument in the form the caller computes with (an
``int``, a ``float``, a float array of a known shape) or raises an error that
names the argument. One kind of mistake, one error type:

* ``TypeError`` when the argument is not the right kind of thing (a float
  where an integer is needed, a string, a boolean, a complex array);
* ``ValueError`` when it is the right kind but out of range or of the wrong
  shape (a negative count, a NaN, a step size of zero, two columns too many).

Booleans are refused everywhere a number is expected: ``True`` is an ``int`` to
Python, but passing it as a step size or a count is always a slip.

The helpers are called once, where a public function receives its arguments;
inner loops work with the checked values and do not check again.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_rng",
    "check_int",
    "check_positive_float",
    "check_probability",
    "check_positions",
    "check_state",
    "check_float_array",
    "check_per_chain",
    "check_step_size",
    "check_n_steps",
    "check_inverse_mass",
    "MAX_N_STEPS",
]


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


def check_rng(rng: object) -> np.random.Generator:
    """Refuse anything but a :class:`numpy.random.Generator` (``TypeError``)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)); "
            f"got {type(rng).__name__}"
        )
    return rng


def check_int(
    value: object, name: str, minimum: int = 1, maximum: int | None = None
) -> int:
    """Return ``value`` as an ``int`` in ``[minimum, maximum]``.

    Python and NumPy integers are accepted, and so are floats with an integral
    value (``1e3``), as for arrays of step counts (:func:`check_n_steps`).
    Other floats, booleans and strings raise ``TypeError``; integers out of
    range raise ``ValueError``.
    """
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if not isinstance(value, numbers.Integral) and not (
        np.isfinite(value) and float(value).is_integer()
    ):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}; got {value!r}")
    return int(value)


def _real_number(value: object, name: str, what: str) -> float:
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}; got {value!r}")
    return float(value)


def check_positive_float(value: object, name: str) -> float:
    """Return ``value`` as a ``float`` that is positive and finite.

    Non-numbers (booleans included) raise ``TypeError``; zero, negative,
    infinite or NaN values raise ``ValueError``.
    """
    v = _real_number(value, name, "a positive number")
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be positive and finite; got {value!r}")
    return v


def check_probability(value: object, name: str) -> float:
    """Return ``value`` as a ``float`` strictly between 0 and 1."""
    v = _real_number(value, name, "a number strictly between 0 and 1")
    if not 0.0 < v < 1.0:  # also refuses NaN
        raise ValueError(f"{name} must lie strictly between 0 and 1; got {value!r}")
    return v


def check_positions(
    q: object, name: str = "position", dim: int | None = None
) -> np.ndarray:
    """Return ``q`` as a finite float array of shape ``(chains, dim)``.

    Raises
    ------
    TypeError
        If ``q`` is not a real numeric array (booleans, complex numbers and
        strings, numeric ones included, are refused).
    ValueError
        If ``q`` is not two-dimensional, is empty, has other than ``dim``
        columns, or holds non-finite values.
    """
    kind = np.asarray(q).dtype.kind
    # refuses bool, complex, strings (also numeric ones) and dates
    if kind not in "iufO":
        raise TypeError(
            f"{name} must be a real numeric array, got dtype {np.asarray(q).dtype}"
        )
    try:
        arr = np.asarray(q, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a numeric array, got {type(q).__name__}"
        ) from err
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (chains, dim); got an array with shape {arr.shape}"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{name} must have at least one chain and one dimension; got {arr.shape}"
        )
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(
            f"{name} must have {dim} columns (the potential's dim); got {arr.shape[1]}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or infinite values")
    return arr


def check_state(state: object, dim: int) -> int:
    """Check a sampler state (position, potential energy, gradient) and return its
    number of chains.

    ``state`` is an :class:`~hmc_lite.kernel.HMCState` or anything with the same
    three fields; the position must be a finite ``(chains, dim)`` array and the
    cached energy and gradient must have the matching shapes ``(chains,)`` and
    ``(chains, dim)``. Raises ``ValueError`` naming ``state`` otherwise.
    """
    q = check_positions(state.position, "state.position", dim)
    if (
        np.shape(state.potential_energy) != (q.shape[0],)
        or np.shape(state.gradient) != q.shape
    ):
        raise ValueError(
            "state must hold the potential energy (chains,) and gradient (chains, dim) "
            "at its "
            "position; build it with init_state"
        )
    return q.shape[0]


def check_float_array(value: object, name: str) -> np.ndarray:
    """Return ``value`` (a number or an array of numbers) as a float array.

    Booleans, complex numbers, strings (numeric ones included) and objects
    that are not numbers raise ``TypeError``. Shape and range checks are the
    caller's.
    """
    if _is_bool(value) or np.asarray(value).dtype.kind not in "iufO":
        raise TypeError(
            f"{name} must be a number or an array of numbers; got {value!r}"
        )
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a number or an array of numbers; got {value!r}"
        ) from err


def check_per_chain(value: object, name: str, chains: int) -> np.ndarray:
    """A number or one number per chain, as a float array of shape ``(chains,)``.

    Raises ``TypeError`` for non-numbers (booleans included) and ``ValueError``
    for a wrong shape. Range checks are the caller's.
    """
    arr = check_float_array(value, name)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != chains):
        raise ValueError(
            f"{name} must be a scalar or have shape ({chains},); got shape {arr.shape}"
        )
    return np.broadcast_to(arr, (chains,)).copy()


def check_inverse_mass(
    inverse_mass: np.ndarray | None, chains: int, dim: int
) -> np.ndarray | None:
    """Return the diagonal inverse mass as an array of shape ``(chains, dim)``, or
    ``None``.

    ``inverse_mass`` is ``None`` (unit mass), shape ``(dim,)`` (shared by all
    chains) or shape ``(chains, dim)``; its entries must be positive and
    finite. Errors name the argument.
    """
    if inverse_mass is None:
        return None
    if _is_bool(inverse_mass):
        raise TypeError(
            f"inverse_mass must be an array of numbers or None; got {inverse_mass!r}"
        )
    try:
        arr = np.asarray(inverse_mass, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"inverse_mass must be an array of numbers or None; got {inverse_mass!r}"
        ) from err
    if arr.shape not in ((dim,), (chains, dim)):
        raise ValueError(
            f"inverse_mass must have shape ({dim},) or ({chains}, {dim}); got "
            f"{arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("inverse_mass must be positive and finite")
    return np.broadcast_to(arr, (chains, dim)).copy()


def check_step_size(step_size: float | np.ndarray, chains: int) -> np.ndarray:
    """Return the step size as an array of shape ``(chains,)`` or raise ``ValueError``.
    """
    eps = check_per_chain(step_size, "step_size", chains)
    if not np.all(np.isfinite(eps)) or np.any(eps <= 0):
        raise ValueError(f"step_size must be positive and finite; got {step_size!r}")
    return eps


#: Largest accepted number of leapfrog steps per trajectory (far beyond any run's
#: budget).
MAX_N_STEPS = 10**12


def check_n_steps(n_steps: int | np.ndarray, chains: int) -> np.ndarray:
    """Return the number of steps as an integer array of shape ``(chains,)`` or raise.
    """
    arr = np.asarray(n_steps)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(
            f"n_steps must be an integer or an array of integers, got {n_steps!r}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise TypeError(
            f"n_steps must be an integer or an array of integers, got {n_steps!r}"
        )
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != chains):
        raise ValueError(
            f"n_steps must be a scalar or have shape ({chains},); got {arr.shape}"
        )
    if np.any(arr < 1):
        raise ValueError(f"n_steps must be at least 1; got {n_steps!r}")
    if np.any(arr > MAX_N_STEPS):  # larger values would wrap around in a 64-bit integer
        raise ValueError(f"n_steps must be at most {MAX_N_STEPS:.0e}; got {n_steps!r}")
    return np.broadcast_to(arr.astype(int), (chains,)).copy()
