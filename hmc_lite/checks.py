"""Checks a student can run on their own leapfrog implementation.

:func:`check_integrator` takes a function with the signature

.. code-block:: python

    def step_fn(grad_U, q, p, eps, L):
        '''Apply L leapfrog steps of size eps and return the end point (q, p).'''

where ``grad_U`` maps a position (a 1-D NumPy array of shape ``(d,)``) to the
gradient of the potential energy there (shape ``(d,)``), ``q`` and ``p`` are
1-D arrays of shape ``(d,)``, ``eps > 0`` is a float and ``L >= 1`` an int. The
function must return the final position and momentum as two arrays of shape
``(d,)`` and must not modify ``q`` or ``p`` in place. Unit mass is assumed:
``H(q, p) = U(q) + |p|^2 / 2``.

It runs the integrator on a smooth, non-quadratic two-dimensional potential and
checks the three properties that HMC relies on:

1. **reversibility**: integrate, flip the momentum, integrate again and flip
   back: the start must be recovered (to rounding error);
2. **volume preservation**: the Jacobian determinant of the map
   ``(q, p) -> (q', p')``, by central finite differences, must be 1;
3. **order of the energy error**: the error of one step must shrink like
   ``eps^3`` and the error at a fixed integration time like ``eps^2``
   (slopes of log-log fits within 0.3 and 0.2 of these values).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = ["IntegratorReport", "check_integrator", "test_potential"]

StepFn = Callable[[Callable[[np.ndarray], np.ndarray], np.ndarray, np.ndarray, float, int],
                  tuple[np.ndarray, np.ndarray]]

#: Tolerances of :func:`check_integrator`.
REVERSIBILITY_TOL = 1e-8
VOLUME_TOL = 1e-6
LOCAL_ORDER, LOCAL_ORDER_TOL = 3.0, 0.3
GLOBAL_ORDER, GLOBAL_ORDER_TOL = 2.0, 0.2


class IntegratorReport(NamedTuple):
    """What :func:`check_integrator` measured.

    Attributes
    ----------
    reversibility_error:
        Largest distance from the start after integrate-flip-integrate-flip.
    volume_error:
        Largest ``|det J - 1|`` of the finite-difference Jacobian.
    local_order:
        Fitted slope of ``log |dH|`` against ``log eps`` for one step (3 for leapfrog).
    global_order:
        Fitted slope at a fixed integration time ``T = L eps`` (2 for leapfrog).
    failures:
        One message per failed check (empty if every check passed).
    """

    reversibility_error: float
    volume_error: float
    local_order: float
    global_order: float
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """``True`` when every check passed."""
        return not self.failures


def test_potential(q: np.ndarray) -> float:
    """The smooth test potential ``U(q) = q_1^2/2 + (q_2 - q_1^2/2)^2/2`` (a bent Gaussian)."""
    return 0.5 * q[0] ** 2 + 0.5 * (q[1] - 0.5 * q[0] ** 2) ** 2


test_potential.__test__ = False  # not a pytest test, despite its name


def _grad_test_potential(q: np.ndarray) -> np.ndarray:
    r = q[1] - 0.5 * q[0] ** 2
    return np.array([q[0] - r * q[0], r])


def _hamiltonian(q: np.ndarray, p: np.ndarray) -> float:
    return float(test_potential(q) + 0.5 * np.dot(p, p))


def _call(step_fn: StepFn, q: np.ndarray, p: np.ndarray, eps: float, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Run the student's function on copies and check what it returns."""
    q_in, p_in = q.copy(), p.copy()
    with np.errstate(all="ignore"):
        out = step_fn(_grad_test_potential, q_in, p_in, float(eps), int(L))
    if not np.array_equal(q_in, q, equal_nan=True) or not np.array_equal(p_in, p, equal_nan=True):
        raise AssertionError("step_fn modified its input arrays q or p in place; "
                             "work on copies (e.g. q = q.copy()) or use q = q + ...")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(f"step_fn must return a pair (q, p); got {type(out).__name__}")
    q1, p1 = out
    q1, p1 = np.asarray(q1, dtype=float), np.asarray(p1, dtype=float)
    if q1.shape != q.shape or p1.shape != p.shape:
        raise AssertionError(f"step_fn must return q and p of shape {q.shape}; got {q1.shape} and {p1.shape}")
    if not (np.all(np.isfinite(q1)) and np.all(np.isfinite(p1))):
        raise _Exploded(
            f"finite values: with eps = {eps:g} and L = {int(L)} from q = {np.round(q, 3)}, "
            f"p = {np.round(p, 3)}, step_fn returned NaN or infinite values. Leapfrog is stable "
            "at this step size, so the integration blew up: check the sign of each kick "
            "(p - eps * grad_U(q), not p + ...) and that each drift adds eps * p to q."
        )
    return q1, p1


class _Exploded(Exception):
    """Raised inside :func:`check_integrator` when the student's integrator returns NaN or inf."""


def _slope(eps: np.ndarray, err: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        logs = np.log(err)
    if not np.all(np.isfinite(logs)):
        return float("nan")
    return float(np.polyfit(np.log(eps), logs, 1)[0])


def check_integrator(step_fn: StepFn, *, raise_on_failure: bool = True) -> IntegratorReport:
    """Check a leapfrog implementation for reversibility, volume preservation and order.

    Parameters
    ----------
    step_fn:
        ``step_fn(grad_U, q, p, eps, L) -> (q, p)``: ``L`` steps of size ``eps``
        from ``(q, p)`` (1-D arrays of shape ``(d,)``) with the gradient
        function ``grad_U``; see the module docstring.
    raise_on_failure:
        If ``True`` (default), raise ``AssertionError`` listing every failed
        check; otherwise return the report either way.

    Returns
    -------
    IntegratorReport
        The measured errors and orders.

    Raises
    ------
    AssertionError
        If a check fails (and ``raise_on_failure``), or if ``step_fn`` returns
        something other than two arrays of the input shape or modifies its
        inputs in place.

    Examples
    --------
    >>> def leapfrog(grad_U, q, p, eps, L):
    ...     p = p - 0.5 * eps * grad_U(q)
    ...     for i in range(L):
    ...         q = q + eps * p
    ...         p = p - (eps if i < L - 1 else 0.5 * eps) * grad_U(q)
    ...     return q, p
    >>> check_integrator(leapfrog).passed
    True
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable; got {type(step_fn).__name__}")
    rng = np.random.default_rng(20240521)
    starts = [(0.8 * rng.standard_normal(2), rng.standard_normal(2)) for _ in range(8)]
    failures = []

    rev = vol = local_order = global_order = float("nan")
    try:
        # 1. Reversibility.
        rev = 0.0
        for q0, p0 in starts[:4]:
            for eps, L in ((0.05, 20), (0.3, 7)):
                q1, p1 = _call(step_fn, q0, p0, eps, L)
                q2, p2 = _call(step_fn, q1, -p1, eps, L)
                rev = max(rev, float(np.max(np.abs(np.concatenate([q2 - q0, -p2 - p0])))))
        if not rev < REVERSIBILITY_TOL:
            failures.append(
                f"reversibility: integrating L steps, flipping the momentum, integrating L steps and "
                f"flipping back misses the start by {rev:.2e} (tolerance {REVERSIBILITY_TOL:.0e}). "
                "A reversible step is symmetric: half kick, drift, half kick, all with the same eps."
            )

        # 2. Volume preservation (central finite differences, step h).
        h = 1e-5
        vol = 0.0
        for q0, p0 in starts[:3]:
            z0 = np.concatenate([q0, p0])
            J = np.empty((4, 4))
            for j in range(4):
                dz = np.zeros(4)
                dz[j] = h
                plus = np.concatenate(_call(step_fn, (z0 + dz)[:2], (z0 + dz)[2:], 0.2, 10))
                minus = np.concatenate(_call(step_fn, (z0 - dz)[:2], (z0 - dz)[2:], 0.2, 10))
                J[:, j] = (plus - minus) / (2 * h)
            vol = max(vol, abs(float(np.linalg.det(J)) - 1.0))
        if not vol < VOLUME_TOL:
            failures.append(
                f"volume preservation: |det J - 1| = {vol:.2e} for the map (q, p) -> (q', p') "
                f"(tolerance {VOLUME_TOL:.0e}). Each kick must use the gradient at the current "
                "position and each drift the current momentum, so that every sub-step is a shear."
            )

        # 3. Order of the energy error, averaged over starting points.
        eps_local = np.geomspace(0.004, 0.04, 7)
        local = np.zeros_like(eps_local)
        T = 2.0
        n_steps = np.array([10, 14, 20, 28, 40, 56, 80, 113, 160])
        eps_global = T / n_steps
        glob = np.zeros_like(eps_global)
        with np.errstate(all="ignore"):
            for q0, p0 in starts:
                h0 = _hamiltonian(q0, p0)
                for i, eps in enumerate(eps_local):
                    local[i] += abs(_hamiltonian(*_call(step_fn, q0, p0, eps, 1)) - h0)
                for i, (eps, L) in enumerate(zip(eps_global, n_steps)):
                    glob[i] += abs(_hamiltonian(*_call(step_fn, q0, p0, eps, L)) - h0)
        local_order, global_order = _slope(eps_local, local), _slope(eps_global, glob)
        if not abs(local_order - LOCAL_ORDER) <= LOCAL_ORDER_TOL:
            failures.append(
                f"local order: the energy error of one step shrinks like eps^{local_order:.2f}; "
                f"leapfrog gives eps^3 (tolerance {LOCAL_ORDER_TOL}). A value near 2 means a "
                "first-order method (e.g. Euler, or kick-drift without the half steps); a value "
                "near 1 means the kicks or drifts of one step do not add up to eps."
            )
        if not abs(global_order - GLOBAL_ORDER) <= GLOBAL_ORDER_TOL:
            failures.append(
                f"global order: at fixed time T = L eps = {T} the energy error shrinks like "
                f"eps^{global_order:.2f}; leapfrog gives eps^2 (tolerance {GLOBAL_ORDER_TOL}). "
                "Check that the first and last kicks are half kicks."
            )
    except _Exploded as err:  # a failure to report, not a crash: what was not measured is NaN
        failures.append(str(err))
    report = IntegratorReport(rev, vol, local_order, global_order, tuple(failures))
    if failures and raise_on_failure:
        raise AssertionError("check_integrator found problems:\n- " + "\n- ".join(failures))
    return report
