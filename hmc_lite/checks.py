"""Checks a student can run on their own answers to the book's exercises.

Every check takes the student's function, runs it on cases whose answer is known, and
either returns a report or (by default) raises ``AssertionError`` with one message per
problem. Where a wrong answer matches a common mistake (a sign error, swapped arguments,
one step too few, an array of the wrong shape, two gradients per leapfrog step), the
message names the mistake.

One check per chapter, with the function it checks (the exercise states the signature):

- chapter 1, :func:`check_symplectic_euler`:
  ``my_symplectic_euler(grad_U, q, p, eps, L) -> (q, p)``;
- chapter 2, :func:`check_integrator`: ``my_leapfrog(grad_U, q, p, eps, L) -> (q, p)``;
- chapter 3, :func:`check_gradient_jump`:
  ``gradient_jump(w2_j, f_i, y_i, x_i, sigma_y)``;
- chapter 4, :func:`check_kink_error`: ``predicted_kink_error(q, v, n, eps, J)``;
- chapter 5, :func:`check_optimal_acceptance`: ``optimal_acceptance_k(k)``;
- chapter 6, :func:`check_usable_step`:
  ``largest_usable_step(eps, acceptance, threshold)``;
- chapter 7, :func:`check_cost`:
  ``gradients_per_accepted_time(step_size, accept_prob)``;
- chapter 8, :func:`check_rmse`: ``rmse_original_units(mse, y_sd)``;
- chapter 9, :func:`check_mean_acceptance`: ``mean_acceptance(delta_H)``;
- chapter 10, :func:`check_accepted_distance`: ``accepted_distance(ell, kappa, k)``;
- chapter 11, :func:`check_softplus`: ``my_softplus(z, beta)``.

:func:`check_integrator` takes a function with the signature

.. code-block:: python

    def step_fn(grad_U, q, p, eps, L):
        '''Apply L leapfrog steps of size eps and return the end point (q, p).'''

where ``grad_U`` maps a position (a 1-D NumPy array of shape ``(d,)``, or a batch of
shape ``(n, d)``, as in the idiom ``grad_U(q[None])[0]``) to the gradient of the
potential energy there (of the same shape), ``q`` and ``p`` are 1-D arrays of shape
``(d,)``, ``eps > 0`` is a float and ``L >= 1`` an int. The function must return the
final position and momentum as two arrays of shape ``(d,)``, must not modify ``q`` or
``p`` in place, and may evaluate the gradient at most ``L + 1`` times (once per step,
plus once at the start). Unit mass is assumed: ``H(q, p) = U(q) + |p|^2 / 2``.

It runs the integrator on a smooth, non-quadratic two-dimensional potential and checks
the three properties that HMC relies on:

1. **reversibility**: integrate, flip the momentum, integrate again and flip back: the
   start must be recovered (to rounding error);
2. **volume preservation**: the Jacobian determinant of the map ``(q, p) -> (q', p')``,
   by central finite differences, must be 1;
3. **order of the energy error**: the error of one step must shrink like ``eps^3`` and
   the error at a fixed integration time like ``eps^2`` (slopes of log-log fits within
   0.3 and 0.2 of these values).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr
from scipy.stats import norm

__all__ = [
    "CheckReport",
    "IntegratorReport",
    "check_accepted_distance",
    "check_cost",
    "check_gradient_jump",
    "check_integrator",
    "check_kink_error",
    "check_mean_acceptance",
    "check_optimal_acceptance",
    "check_rmse",
    "check_softplus",
    "check_symplectic_euler",
    "check_usable_step",
    "test_potential",
]

GradFn = Callable[[np.ndarray], np.ndarray]
StepFn = Callable[
    [GradFn, np.ndarray, np.ndarray, float, int], tuple[np.ndarray, np.ndarray]
]

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
    gradient_calls:
        Largest number of gradient evaluations in one call minus ``L`` (leapfrog: at
        most 1). failures: One message per failed check (empty if every check passed).
    """

    reversibility_error: float
    volume_error: float
    local_order: float
    global_order: float
    gradient_calls: int
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """``True`` when every check passed."""
        return not self.failures


class CheckReport(NamedTuple):
    """What one of the exercise checks found.

    Attributes
    ----------
    name:
        The name of the function checked (as the exercise states it).
    cases:
        Number of cases run.
    failures:
        One message per problem found (empty if the answer passed).
    """

    name: str
    cases: int
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """``True`` when every case gave the expected answer."""
        return not self.failures


def test_potential(q: np.ndarray) -> float:
    """The smooth test potential ``U(q) = q_1^2/2 + (q_2 - q_1^2/2)^2/2``."""
    return 0.5 * q[0] ** 2 + 0.5 * (q[1] - 0.5 * q[0] ** 2) ** 2


test_potential.__test__ = False  # not a pytest test, despite its name


def _grad_test_potential(q: np.ndarray) -> np.ndarray:
    """Gradient of :func:`test_potential` at ``q`` of shape ``(2,)`` or ``(n, 2)``."""
    q = np.asarray(q, dtype=float)
    r = q[..., 1] - 0.5 * q[..., 0] ** 2
    return np.stack([q[..., 0] - r * q[..., 0], r], axis=-1)


class _CountingGrad:
    """A gradient function that counts its evaluations (a batch of n counts n)."""

    def __init__(self, grad: GradFn, dim: int):
        self.grad, self.dim, self.calls = grad, dim, 0

    def __call__(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        if q.ndim not in (1, 2) or q.shape[-1] != self.dim:
            raise AssertionError(
                f"grad_U was called with an array of shape {q.shape}; it takes a "
                f"position of shape ({self.dim},) (or a batch of shape (n, "
                f"{self.dim}), as in grad_U(q[None])[0]). Check that you pass q, not "
                "p or a pair (q, p)."
            )
        self.calls += 1 if q.ndim == 1 else q.shape[0]
        return self.grad(q)


def _hamiltonian(q: np.ndarray, p: np.ndarray) -> float:
    return float(test_potential(q) + 0.5 * np.dot(p, p))


class _Exploded(Exception):
    """Raised inside :func:`check_integrator` when the integrator returns NaN or inf."""


class _Broken(Exception):
    """Raised when the student's function cannot be run (the message says why)."""


def _not_implemented(name: str) -> str:
    return (
        f"{name} is not implemented yet (it raised NotImplementedError or returned "
        "None): replace the stub by your code"
    )


def _run_step(
    step_fn: StepFn,
    grad: GradFn,
    q: np.ndarray,
    p: np.ndarray,
    eps: float,
    L: int,
    name: str,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Run ``step_fn`` on copies; return its end point and its gradient evaluations."""
    q_in, p_in = q.copy(), p.copy()
    counting = _CountingGrad(grad, q.shape[-1])
    try:
        with np.errstate(all="ignore"):
            out = step_fn(counting, q_in, p_in, float(eps), int(L))
    except NotImplementedError:
        raise _Broken(_not_implemented(name)) from None
    except AssertionError:
        raise
    except Exception as err:  # report the student's error as a failure with its type
        raise _Broken(
            f"{name} raised {type(err).__name__}: {err} (called with q, p of shape "
            f"{q.shape}, eps = {eps:g}, L = {L})"
        ) from None
    if out is None:
        raise _Broken(_not_implemented(name))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise AssertionError(
            f"{name} must return a pair (q, p); got {type(out).__name__}"
        )
    q1, p1 = (np.asarray(x, dtype=float) for x in out)
    if q1.shape != q.shape or p1.shape != p.shape:
        hint = ""
        if q1.size == q.size and p1.size == p.size:
            hint = (
                " (the right numbers in the wrong shape: if you used grad_U(q[None]), "
                "take [0] of the result; return arrays of the shape of the inputs)"
            )
        raise AssertionError(
            f"{name} must return q and p of shape {q.shape}; got {q1.shape} "
            f"and {p1.shape}{hint}"
        )
    if not (np.all(np.isfinite(q1)) and np.all(np.isfinite(p1))):
        raise _Exploded(
            f"finite values: with eps = {eps:g} and L = {int(L)} from q = "
            f"{np.round(q, 3)}, p = {np.round(p, 3)}, {name} returned NaN or infinite "
            "values. The step is stable at this step size, so the integration blew "
            "up: check the sign of each kick (p - eps * grad_U(q), not p + ...) and "
            "that each drift adds eps * p to q."
        )
    if not np.array_equal(q_in, q, equal_nan=True) or not np.array_equal(
        p_in, p, equal_nan=True
    ):
        raise AssertionError(
            f"{name} modified its input arrays q or p in place; work on "
            "copies (e.g. q = q.copy()) or write q = q + ... instead of q += ..."
        )
    return q1, p1, counting.calls


def _leapfrog(grad: GradFn, q, p, eps, L):
    for _ in range(L):
        p = p - 0.5 * eps * grad(q)
        q = q + eps * p
        p = p - 0.5 * eps * grad(q)
    return q, p


def _symplectic_euler(grad: GradFn, q, p, eps, L):
    for _ in range(L):
        p = p - eps * grad(q)
        q = q + eps * p
    return q, p


def _step_variants(reference: StepFn) -> list[tuple[str, StepFn]]:
    """Common mistakes, as maps to compare the student's output with, with hints."""

    def neg(grad):
        return lambda x: -grad(x)

    return [
        (
            "sign error: your kicks add eps * grad_U(q) to p; the force is minus the "
            "gradient, so a kick is p = p - eps * grad_U(q)",
            lambda g, q, p, e, L: reference(neg(g), q, p, e, L),
        ),
        (
            "one step too few: your function applies L - 1 steps (check the range of "
            "the loop)",
            lambda g, q, p, e, L: reference(g, q, p, e, L - 1),
        ),
        (
            "one step too many: your function applies L + 1 steps (check the range "
            "of the loop)",
            lambda g, q, p, e, L: reference(g, q, p, e, L + 1),
        ),
        (
            "swapped outputs: you return (p, q); return the position first, (q, p)",
            lambda g, q, p, e, L: reference(g, q, p, e, L)[::-1],
        ),
        (
            "swapped arguments: your function treats its second argument as the "
            "momentum; the signature is (grad_U, q, p, eps, L), position first",
            lambda g, q, p, e, L: reference(g, p, q, e, L),
        ),
        (
            "swapped arguments and outputs: your function takes and returns (p, q); "
            "the signature is (grad_U, q, p, eps, L) -> (q, p), position first",
            lambda g, q, p, e, L: reference(g, p, q, e, L)[::-1],
        ),
        (
            "step size: your steps have size eps / 2 (a half step where a full one "
            "belongs?)",
            lambda g, q, p, e, L: reference(g, q, p, 0.5 * e, L),
        ),
        (
            "step size: your steps have size 2 eps",
            lambda g, q, p, e, L: reference(g, q, p, 2.0 * e, L),
        ),
        (
            "the order of the sub-steps: your function drifts before it kicks; the "
            "exercise asks for the kick first",
            lambda g, q, p, e, L: _drift_first(reference, g, q, p, e, L),
        ),
    ]


def _drift_first(reference: StepFn, grad: GradFn, q, p, eps, L):
    """Symplectic Euler with the drift first (None for leapfrog: no such mistake)."""
    if reference is not _symplectic_euler:
        return None
    for _ in range(L):
        q = q + eps * p
        p = p - eps * grad(q)
    return q, p


def _diagnose_step(step_fn: StepFn, reference: StepFn, name: str) -> str | None:
    """Compare with ``reference`` on a few starts; name the first matching variant."""
    rng = np.random.default_rng(7)
    starts = [
        (0.5 * rng.standard_normal(2), rng.standard_normal(2), 0.1, 3) for _ in range(3)
    ]
    outs = []
    for q, p, eps, L in starts:
        try:
            q1, p1, _ = _run_step(step_fn, _grad_test_potential, q, p, eps, L, name)
        except (_Exploded, _Broken, AssertionError):
            q1 = p1 = np.full(2, np.nan)
        outs.append(np.concatenate([q1, p1]))
    with np.errstate(all="ignore"):
        for hint, variant in [("", reference), *_step_variants(reference)]:
            ok = True
            for out, (q, p, eps, L) in zip(outs, starts):
                expected = variant(_grad_test_potential, q, p, eps, L)
                if expected is None or not np.allclose(
                    out, np.concatenate(expected), rtol=1e-9, atol=1e-12
                ):
                    ok = False
                    break
            if ok:
                return hint or None
    return None


def _slope(eps: np.ndarray, err: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(err)
    if not np.all(np.isfinite(logs)):
        return float("nan")
    return float(np.polyfit(np.log(eps), logs, 1)[0])


def _order_message(
    kind: str, slope: float, target: float, tol: float, extra: str
) -> str:
    if np.isnan(slope):
        return (
            f"{kind}: the energy error could not be measured: it was exactly zero (no "
            "step taken?) or not finite for some step sizes. Check the number of "
            "steps and the signs of the kicks."
        )
    return (
        f"{kind}: the energy error shrinks like eps^{slope:.2f}; leapfrog gives "
        f"eps^{target:g} (tolerance {tol}). {extra}"
    )


def check_integrator(
    step_fn: StepFn, *, raise_on_failure: bool = True
) -> IntegratorReport:
    """Check a leapfrog implementation: gradient count, reversibility, volume, order.

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
    TypeError
        If ``step_fn`` is not callable.

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
    name = getattr(step_fn, "__name__", "step_fn")
    rng = np.random.default_rng(20240521)
    starts = [(0.8 * rng.standard_normal(2), rng.standard_normal(2)) for _ in range(8)]
    failures: list[str] = []
    extra_grads = 0

    def call(q, p, eps, L):
        nonlocal extra_grads
        q1, p1, calls = _run_step(step_fn, _grad_test_potential, q, p, eps, L, name)
        extra_grads = max(extra_grads, calls - int(L))
        return q1, p1

    rev = vol = local_order = global_order = float("nan")
    hint = None
    try:
        hint = _diagnose_step(step_fn, _leapfrog, name)
        if hint:
            failures.append(hint)
        # 1. Reversibility.
        rev = 0.0
        for q0, p0 in starts[:4]:
            for eps, L in ((0.05, 20), (0.3, 7)):
                q1, p1 = call(q0, p0, eps, L)
                q2, p2 = call(q1, -p1, eps, L)
                rev = max(
                    rev, float(np.max(np.abs(np.concatenate([q2 - q0, -p2 - p0]))))
                )
        if not rev < REVERSIBILITY_TOL:
            failures.append(
                "reversibility: integrating L steps, flipping the momentum, "
                f"integrating L steps and flipping back misses the start by {rev:.2e} "
                f"(tolerance {REVERSIBILITY_TOL:.0e}). A reversible step is "
                "symmetric: half kick, drift, half kick, all with the same eps."
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
                plus = np.concatenate(call((z0 + dz)[:2], (z0 + dz)[2:], 0.2, 10))
                minus = np.concatenate(call((z0 - dz)[:2], (z0 - dz)[2:], 0.2, 10))
                J[:, j] = (plus - minus) / (2 * h)
            vol = max(vol, abs(float(np.linalg.det(J)) - 1.0))
        if not vol < VOLUME_TOL:
            failures.append(
                f"volume preservation: |det J - 1| = {vol:.2e} for the map (q, p) -> "
                f"(q', p') (tolerance {VOLUME_TOL:.0e}). Each kick must use the "
                "gradient at the current position and each drift the current "
                "momentum, so that every sub-step is a shear."
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
                    local[i] += abs(_hamiltonian(*call(q0, p0, eps, 1)) - h0)
                for i, (eps, L) in enumerate(zip(eps_global, n_steps)):
                    glob[i] += abs(_hamiltonian(*call(q0, p0, eps, L)) - h0)
        local_order, global_order = _slope(eps_local, local), _slope(eps_global, glob)
        if not abs(local_order - LOCAL_ORDER) <= LOCAL_ORDER_TOL:
            failures.append(
                _order_message(
                    "local order",
                    local_order,
                    LOCAL_ORDER,
                    LOCAL_ORDER_TOL,
                    "A value near 2 means a first-order method (e.g. Euler, or "
                    "kick-drift without the half steps); a value near 1 means the "
                    "kicks or drifts of one step do not add up to eps.",
                )
            )
        if not abs(global_order - GLOBAL_ORDER) <= GLOBAL_ORDER_TOL:
            failures.append(
                _order_message(
                    "global order",
                    global_order,
                    GLOBAL_ORDER,
                    GLOBAL_ORDER_TOL,
                    f"(at a fixed time T = L eps = {T}) Check that the first and "
                    "last kicks are half kicks.",
                )
            )
        if extra_grads > 1:
            failures.append(
                f"gradient evaluations: {name} evaluates grad_U up to L + "
                f"{extra_grads} times for L steps; leapfrog needs L + 1. The gradient "
                "at the end of one step is the one at the start of the next: compute "
                "it once and reuse it (merge the two half kicks between steps into "
                "one full kick)."
            )
    except (
        _Exploded,
        _Broken,
    ) as err:  # a failure to report: what was not measured is NaN
        if not hint:  # a named mistake explains the blow-up better
            failures.append(str(err))
    report = IntegratorReport(
        rev, vol, local_order, global_order, extra_grads, tuple(failures)
    )
    if failures and raise_on_failure:
        raise AssertionError(
            "check_integrator found problems:\n- " + "\n- ".join(failures)
        )
    return report


def _finish(
    name: str, cases: int, failures: list[str], raise_on_failure: bool, check: str
) -> CheckReport:
    report = CheckReport(
        name, cases, tuple(dict.fromkeys(failures))
    )  # unique, in order
    if report.failures and raise_on_failure:
        raise AssertionError(
            f"{check} found problems with {name}:\n- " + "\n- ".join(report.failures)
        )
    if not report.failures:
        print(f"{check}: {name} passed all {cases} cases")
    return report


def check_symplectic_euler(
    step_fn: StepFn, *, raise_on_failure: bool = True
) -> CheckReport:
    """Check ``my_symplectic_euler(grad_U, q, p, eps, L) -> (q, p)`` (exercise 1.4).

    ``L`` steps of symplectic Euler: a kick ``p = p - eps * grad_U(q)`` followed by a
    drift ``q = q + eps * p``, with exactly one gradient evaluation per step; ``q`` and
    ``p`` are 1-D arrays of shape ``(d,)``.

    Parameters
    ----------
    step_fn:
        The student's function.
    raise_on_failure:
        If ``True`` (default), raise ``AssertionError`` with every problem found.

    Returns
    -------
    CheckReport
        The cases run and the problems found.

    Examples
    --------
    >>> def symplectic_euler(grad_U, q, p, eps, L):
    ...     for _ in range(L):
    ...         p = p - eps * grad_U(q)
    ...         q = q + eps * p
    ...     return q, p
    >>> check_symplectic_euler(symplectic_euler).passed
    symplectic Euler check: symplectic_euler passed all 4 cases
    True
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable; got {type(step_fn).__name__}")
    name = getattr(step_fn, "__name__", "step_fn")
    rng = np.random.default_rng(11)
    cases = [
        (0.7 * rng.standard_normal(2), rng.standard_normal(2), eps, L)
        for eps, L in ((0.1, 1), (0.2, 3), (0.05, 10), (0.3, 5))
    ]
    failures: list[str] = []
    try:
        for q, p, eps, L in cases:
            q1, p1, calls = _run_step(step_fn, _grad_test_potential, q, p, eps, L, name)
            expected = np.concatenate(
                _symplectic_euler(_grad_test_potential, q, p, eps, L)
            )
            if not np.allclose(
                np.concatenate([q1, p1]), expected, rtol=1e-9, atol=1e-12
            ):
                failures.append(
                    _diagnose_step(step_fn, _symplectic_euler, name)
                    or f"wrong end point for eps = {eps}, L = {L}: expected "
                    f"{np.round(expected, 6)}, got "
                    f"{np.round(np.concatenate([q1, p1]), 6)} (as (q, p))"
                )
                break
            if calls != L:
                failures.append(
                    f"gradient evaluations: {name} evaluated grad_U {calls} times "
                    f"for L = {L} steps; symplectic Euler needs exactly one per step"
                )
    except (_Exploded, _Broken, AssertionError) as err:
        failures.append(str(err))
    return _finish(
        name, len(cases), failures, raise_on_failure, "symplectic Euler check"
    )


Variant = tuple[str, Callable[..., Any]]


def _check_function(
    fn: Callable[..., Any],
    name: str,
    cases: Sequence[tuple],
    reference: Callable[..., Any],
    variants: Sequence[Variant],
    check: str,
    raise_on_failure: bool,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> CheckReport:
    """Run ``fn`` on ``cases``, compare with ``reference``, name the mistake."""
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    failures: list[str] = []
    for args in cases:
        if failures:  # one problem at a time: the first case that fails
            break
        shown = ", ".join(
            (
                np.array2string(np.asarray(a), precision=3, threshold=6)
                if isinstance(a, np.ndarray)
                else repr(a)
            )
            for a in args
        )
        expected = np.asarray(reference(*args), dtype=float)
        try:
            with np.errstate(all="ignore"):
                out = fn(*(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        except NotImplementedError:
            failures.append(_not_implemented(name))
            break
        except Exception as err:
            failures.append(f"{name}({shown}) raised {type(err).__name__}: {err}")
            continue
        if out is None:
            failures.append(_not_implemented(name))
            break
        try:
            got = np.asarray(out, dtype=float)
        except (TypeError, ValueError):
            failures.append(
                f"{name}({shown}) returned {type(out).__name__}; expected a number "
                f"or an array of shape {expected.shape}"
            )
            continue
        if got.shape != expected.shape:
            same = got.size == expected.size and np.allclose(
                got.ravel(), expected.ravel(), rtol=rtol, atol=atol
            )
            failures.append(
                f"shape: {name}({shown}) returned shape {got.shape}; expected "
                f"{expected.shape}"
                + (
                    " (the values are right: reshape, or do not add or keep an axis)"
                    if same
                    else " (one value per row of the input? check the axis you reduce)"
                )
            )
            continue
        if np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
            continue
        for hint, variant in variants:
            with np.errstate(all="ignore"):
                try:
                    alt = np.asarray(variant(*args), dtype=float)
                except Exception:
                    continue
            if alt.shape == got.shape and np.allclose(
                got, alt, rtol=rtol, atol=atol, equal_nan=True
            ):
                failures.append(hint)
                break
        else:
            failures.append(
                f"{name}({shown}) returned {np.round(got, 6)}; expected "
                f"{np.round(expected, 6)}"
            )
    return _finish(name, len(cases), failures, raise_on_failure, check)


def _gradient_jump(w2_j, f_i, y_i, x_i, sigma_y):
    return w2_j * (f_i - y_i) / sigma_y**2 * np.array([x_i, 1.0])


def check_gradient_jump(
    fn: Callable[..., Any], *, raise_on_failure: bool = True
) -> CheckReport:
    """Check ``gradient_jump(w2_j, f_i, y_i, x_i, sigma_y)`` (exercise 3.1).

    The predicted jump of the gradient of the restricted potential across the kink line
    of unit ``j`` on input ``x_i``: ``w2_j * (f_i - y_i) / sigma_y**2 * (x_i, 1)``, an
    array of shape ``(2,)`` (the derivative of ``G`` with respect to the unit's output
    times the normal ``(x_i, 1)``).

    Examples
    --------
    >>> import numpy as np
    >>> def gradient_jump(w2_j, f_i, y_i, x_i, sigma_y):
    ...     return w2_j * (f_i - y_i) / sigma_y**2 * np.array([x_i, 1.0])
    >>> check_gradient_jump(gradient_jump).passed
    gradient jump check: gradient_jump passed all 4 cases
    True
    """
    cases = [
        (0.7, 0.3, -0.2, 1.5, 0.1),
        (-1.2, -0.4, 0.5, -0.8, 0.1),
        (0.4, 1.1, 0.9, 0.3, 0.5),
        (2.0, 0.0, 0.25, 2.0, 0.2),
    ]
    variants: list[Variant] = [
        (
            "sign error: the residual is f_i - y_i (the derivative of (y - f)^2 / (2 "
            "sigma_y^2) with respect to f), not y_i - f_i",
            lambda w, f, y, x, s: _gradient_jump(w, y, f, x, s),
        ),
        (
            "variance, not standard deviation: divide by sigma_y**2",
            lambda w, f, y, x, s: _gradient_jump(w, f, y, x, s) * s,
        ),
        (
            "the normal of the kink line w x_i + b = 0 in the (w, b) plane is (x_i, "
            "1), in that order",
            lambda w, f, y, x, s: _gradient_jump(w, f, y, x, s)[::-1],
        ),
        (
            "swapped arguments: the signature is (w2_j, f_i, y_i, x_i, sigma_y)",
            lambda w, f, y, x, s: _gradient_jump(w, f, y, s, x),
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        _gradient_jump,
        variants,
        "gradient jump check",
        raise_on_failure,
    )


def _kink_error(q, v, n, eps, J):
    nv = v @ n
    alpha = -(q @ n) / (eps * nv)
    return eps * J * np.abs(nv) * (0.5 - alpha)


def check_kink_error(
    fn: Callable[..., Any], *, raise_on_failure: bool = True
) -> CheckReport:
    """Check ``predicted_kink_error(q, v, n, eps, J)`` (exercise 4.2).

    For positions ``q`` and half-step momenta ``v`` of shape ``(chains, 2)``, a unit
    normal ``n`` of shape ``(2,)``, a step size ``eps`` and a jump ``J``, the predicted
    energy error ``eps * J * |n . v| * (1/2 - alpha)`` with crossing fraction ``alpha =
    -(n . q) / (eps * n . v)``: an array of shape ``(chains,)``.

    Examples
    --------
    >>> import numpy as np
    >>> def predicted_kink_error(q, v, n, eps, J):
    ...     alpha = -(q @ n) / (eps * (v @ n))
    ...     return eps * J * np.abs(v @ n) * (0.5 - alpha)
    >>> check_kink_error(predicted_kink_error).passed
    kink error check: predicted_kink_error passed all 3 cases
    True
    """
    rng = np.random.default_rng(4)
    n = np.array([0.6, 0.8])
    cases = []
    for chains, eps in ((5, 1e-3), (1, 1e-2), (7, 0.05)):
        q = rng.standard_normal((chains, 2))
        q -= np.outer(q @ n, n) - np.outer(rng.uniform(-eps, eps, chains), n)
        cases.append((q, rng.standard_normal((chains, 2)), n, eps, 2.0))
    variants: list[Variant] = [
        (
            "sign error: the error is proportional to (1/2 - alpha), not (alpha - 1/2)",
            lambda q, v, n, e, J: -_kink_error(q, v, n, e, J),
        ),
        (
            "sign of alpha: the crossing fraction is alpha = -(n . q) / (eps n . v), "
            "positive for a step that crosses",
            lambda q, v, n, e, J: e
            * J
            * np.abs(v @ n)
            * (0.5 - (q @ n) / (e * (v @ n))),
        ),
        (
            "the normal speed enters as |n . v| (the error does not depend on the "
            "direction of crossing)",
            lambda q, v, n, e, J: e * J * (v @ n) * (0.5 + (q @ n) / (e * (v @ n))),
        ),
        (
            "swapped arguments: the signature is (q, v, n, eps, J), position first",
            lambda q, v, n, e, J: _kink_error(v, q, n, e, J),
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        _kink_error,
        variants,
        "kink error check",
        raise_on_failure,
    )


def _u_star(k: float) -> float:
    return brentq(lambda u: ndtr(-u) - k * u * norm.pdf(u), 1e-12, 20.0)


def check_optimal_acceptance(
    fn: Callable[..., Any], *, raise_on_failure: bool = True
) -> CheckReport:
    """Check ``optimal_acceptance_k(k)`` (exercise 5.1).

    The optimal acceptance ``a* = 2 Phi(-u*)``, where ``u*`` solves
    ``Phi(-u) = k u phi(u)``, for an energy error whose standard deviation grows like
    ``ell^k`` (``k`` a positive number). Returns a float.

    Examples
    --------
    >>> from hmc_lite import optimal_acceptance
    >>> check_optimal_acceptance(optimal_acceptance).passed
    optimal acceptance check: optimal_acceptance passed all 4 cases
    True
    """
    cases = [(1.0,), (2.0,), (3.0,), (1.5,)]
    variants: list[Variant] = [
        (
            "you return u*, the root of the equation; the acceptance is a* = 2 "
            "Phi(-u*)",
            lambda k: _u_star(k),
        ),
        (
            "a factor 2: the acceptance of a Gaussian energy error is 2 Phi(-s/2), "
            "so a* = 2 Phi(-u*), not Phi(-u*)",
            lambda k: ndtr(-_u_star(k)),
        ),
        ("sign error: a* = 2 Phi(-u*), not 2 Phi(u*)", lambda k: 2 * ndtr(_u_star(k))),
        (
            "the equation is Phi(-u) = k u phi(u), with k the order of the standard "
            "deviation (you seem to use 2k, the order of the variance)",
            lambda k: 2 * ndtr(-_u_star(2 * k)),
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        lambda k: 2 * ndtr(-_u_star(k)),
        variants,
        "optimal acceptance check",
        raise_on_failure,
        rtol=1e-4,
        atol=1e-5,
    )


def _usable(eps, acceptance, threshold):
    ok = acceptance >= threshold
    return np.where(ok.any(axis=1), np.where(ok, eps, -np.inf).max(axis=1), np.nan)


def check_usable_step(
    fn: Callable[..., Any], *, raise_on_failure: bool = True
) -> CheckReport:
    """Check ``largest_usable_step(eps, acceptance, threshold)`` (exercise 6.1).

    ``eps`` has shape ``(steps,)`` and ``acceptance`` shape ``(networks, steps)``; the
    result, of shape ``(networks,)``, is for each network the largest step size whose
    acceptance is at least ``threshold`` (NaN if there is none).

    Examples
    --------
    >>> import numpy as np
    >>> def largest_usable_step(eps, acceptance, threshold):
    ...     ok = acceptance >= threshold
    ...     best = np.where(ok, eps, -np.inf).max(axis=1)
    ...     return np.where(ok.any(axis=1), best, np.nan)
    >>> check_usable_step(largest_usable_step).passed
    usable step check: largest_usable_step passed all 3 cases
    True
    """
    eps = np.array([1e-3, 2e-3, 3e-3, 4e-3, 5e-3])
    acc = np.array(
        [
            [0.99, 0.95, 0.8, 0.6, 0.3],
            [0.9, 0.85, 0.81, 0.82, 0.1],
            [0.7, 0.5, 0.2, 0.1, 0.0],
        ]
    )
    cases = [
        (eps, acc[:2], 0.8),
        (eps, acc, 0.8),
        (eps[::-1].copy(), acc[:, ::-1].copy(), 0.85),
    ]
    variants: list[Variant] = [
        (
            "you take the last step size that reaches the threshold, which is the "
            "largest only if eps is sorted in increasing order: take the maximum of "
            "eps over the entries that pass",
            lambda e, a, t: np.array(
                [e[row >= t][-1] if (row >= t).any() else np.nan for row in a]
            ),
        ),
        (
            "strict inequality: 'at least the threshold' is acceptance >= threshold",
            lambda e, a, t: _usable(e, a, np.nextafter(t, 1)),
        ),
        (
            "the smallest step size: you want the largest step size that still "
            "reaches the threshold",
            lambda e, a, t: np.where(
                (a >= t).any(1), np.where(a >= t, e, np.inf).min(1), np.nan
            ),
        ),
        (
            "you return indices; return the step sizes eps[index]",
            lambda e, a, t: np.where(
                (a >= t).any(1), np.where(a >= t, e, -np.inf).argmax(1), np.nan
            ),
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        _usable,
        variants,
        "usable step check",
        raise_on_failure,
    )


def check_cost(fn: Callable[..., Any], *, raise_on_failure: bool = True) -> CheckReport:
    """Check ``gradients_per_accepted_time(step_size, accept_prob)`` (exercise 7.2).

    Gradient evaluations per unit of accepted integration time, ``1 / (eps * a)``,
    element by element for arrays of step sizes and acceptance rates of the same shape.

    Examples
    --------
    >>> def gradients_per_accepted_time(step_size, accept_prob):
    ...     return 1.0 / (step_size * accept_prob)
    >>> check_cost(gradients_per_accepted_time).passed
    cost check: gradients_per_accepted_time passed all 3 cases
    True
    """
    cases = [
        (np.array([1e-3, 2e-3]), np.array([0.9, 0.5])),
        (np.array([5e-4]), np.array([0.7])),
        (np.array([[1e-3, 3e-3], [2e-3, 4e-3]]), np.array([[0.95, 0.6], [0.8, 0.2]])),
    ]
    variants: list[Variant] = [
        (
            "the acceptance is missing: a trajectory of time T costs T / eps "
            "gradients but is kept only with probability a, so the cost per unit of "
            "accepted time is 1 / (eps a)",
            lambda e, a: 1.0 / e,
        ),
        (
            "acceptance in the numerator: rejected trajectories make the cost "
            "larger, so divide by a",
            lambda e, a: a / e,
        ),
        (
            "you return the accepted time per gradient, eps * a; the cost is its "
            "inverse",
            lambda e, a: e * a,
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        lambda e, a: 1.0 / (e * a),
        variants,
        "cost check",
        raise_on_failure,
    )


def check_rmse(fn: Callable[..., Any], *, raise_on_failure: bool = True) -> CheckReport:
    """Check ``rmse_original_units(mse, y_sd)`` (exercise 8.1).

    The root mean squared error in the original units of the target, ``y_sd *
    sqrt(mse)``, for a test MSE computed on the standardised scale (a number or an
    array).

    Examples
    --------
    >>> import numpy as np
    >>> def rmse_original_units(mse, y_sd):
    ...     return y_sd * np.sqrt(mse)
    >>> check_rmse(rmse_original_units).passed
    rmse check: rmse_original_units passed all 3 cases
    True
    """
    cases = [(0.5, 77.0), (np.array([0.45, 0.52, 0.61]), 12.5), (1.2, 0.4)]
    variants: list[Variant] = [
        (
            "square root missing: an MSE is a squared error; the RMSE is y_sd * "
            "sqrt(mse)",
            lambda m, s: s * m,
        ),
        (
            "you return the MSE in original units, y_sd**2 * mse; take the square root",
            lambda m, s: s**2 * m,
        ),
        (
            "the unit conversion goes the other way: multiply by y_sd (a "
            "standardised error e is e * y_sd in the original units)",
            lambda m, s: np.sqrt(m) / s,
        ),
        (
            "swapped arguments: the signature is (mse, y_sd)",
            lambda m, s: m * np.sqrt(s),
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        lambda m, s: s * np.sqrt(m),
        variants,
        "rmse check",
        raise_on_failure,
    )


def _mean_acc(dh):
    return float(np.mean(np.minimum(1.0, np.exp(-dh))))


def check_mean_acceptance(
    fn: Callable[..., Any], *, raise_on_failure: bool = True
) -> CheckReport:
    """Check ``mean_acceptance(delta_H)`` (exercise 9.3).

    The mean Metropolis acceptance probability ``mean(min(1, exp(-delta_H)))`` over an
    array of energy errors of any shape: one float.

    Examples
    --------
    >>> import numpy as np
    >>> def mean_acceptance(delta_H):
    ...     return float(np.mean(np.minimum(1.0, np.exp(-delta_H))))
    >>> check_mean_acceptance(mean_acceptance).passed
    mean acceptance check: mean_acceptance passed all 3 cases
    True
    """
    rng = np.random.default_rng(9)
    cases = [
        (np.array([-0.5, 0.2, 1.0, 0.0]),),
        (rng.normal(0.3, 0.8, 200),),
        (rng.normal(0.1, 0.5, (4, 25)),),
    ]
    variants: list[Variant] = [
        (
            "sign error: the acceptance is min(1, exp(-delta_H)); an energy increase "
            "must lower it",
            lambda d: float(np.mean(np.minimum(1.0, np.exp(d)))),
        ),
        (
            "min(1, .) missing: a proposal with delta_H < 0 is accepted with "
            "probability 1, not exp(-delta_H) > 1",
            lambda d: float(np.mean(np.exp(-d))),
        ),
        (
            "the mean of the probabilities, not the probability of the mean: apply "
            "min(1, exp(-delta_H)) to each energy error, then average",
            lambda d: min(1.0, float(np.exp(-np.mean(d)))),
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        _mean_acc,
        variants,
        "mean acceptance check",
        raise_on_failure,
    )


def _accepted_distance(ell, kappa, k):
    return ell * 2 * ndtr(-np.sqrt(kappa) * ell**k / 2)


def check_accepted_distance(
    fn: Callable[..., Any], *, raise_on_failure: bool = True
) -> CheckReport:
    """Check ``accepted_distance(ell, kappa, k)`` (exercise 10.2).

    The asymptotic efficiency ``ell * a(ell)`` with acceptance ``a = 2 Phi(-s/2)`` and
    ``s = sqrt(kappa) * ell**k`` (the standard deviation of the energy error), element
    by element for an array ``ell`` of scaled step sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import ndtr
    >>> def accepted_distance(ell, kappa, k):
    ...     return ell * 2 * ndtr(-np.sqrt(kappa) * ell**k / 2)
    >>> check_accepted_distance(accepted_distance).passed
    accepted distance check: accepted_distance passed all 3 cases
    True
    """
    ell = np.linspace(0.25, 4.0, 6)
    cases = [(ell, 0.4, 1), (ell, 0.4, 2), (np.array([0.5, 1.0]), 1.3, 1.5)]
    variants: list[Variant] = [
        (
            "the step is missing: the efficiency is distance times acceptance, ell * "
            "a(ell)",
            lambda e, c, k: 2 * ndtr(-np.sqrt(c) * e**k / 2),
        ),
        (
            "a factor 2: the acceptance of a Gaussian energy error is 2 Phi(-s/2)",
            lambda e, c, k: e * ndtr(-np.sqrt(c) * e**k / 2),
        ),
        (
            "kappa is the constant of the variance: the standard deviation is "
            "sqrt(kappa) ell^k",
            lambda e, c, k: e * 2 * ndtr(-c * e**k / 2),
        ),
        (
            "s/2, not s: the acceptance is 2 Phi(-s/2)",
            lambda e, c, k: e * 2 * ndtr(-np.sqrt(c) * e**k),
        ),
        (
            "ell^k is the order of the standard deviation; you used ell^(2k), the "
            "variance's",
            lambda e, c, k: e * 2 * ndtr(-np.sqrt(c) * e ** (2 * k) / 2),
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        _accepted_distance,
        variants,
        "accepted distance check",
        raise_on_failure,
    )


def _softplus(z, beta):
    return np.logaddexp(0.0, beta * z) / beta


def check_softplus(
    fn: Callable[..., Any], *, raise_on_failure: bool = True
) -> CheckReport:
    """Check ``softplus(z, beta)`` (exercise 11.2).

    ``log(1 + exp(beta z)) / beta`` element by element, finite for every finite ``z``
    and ``beta > 0`` (``beta * z`` can reach thousands: ``exp`` overflows there).

    Examples
    --------
    >>> import numpy as np
    >>> def softplus(z, beta):
    ...     return np.logaddexp(0.0, beta * z) / beta
    >>> check_softplus(softplus).passed
    softplus check: softplus passed all 4 cases
    True
    """
    z = np.linspace(-3, 3, 7)
    cases = [
        (z, 1.0),
        (z, 5.0),
        (np.array([[-40.0, 0.0], [40.0, 1.0]]), 20.0),
        (np.array([-200.0, 200.0]), 10.0),
    ]
    variants: list[Variant] = [
        (
            "the division by beta is missing: softplus_beta(z) = log(1 + exp(beta "
            "z)) / beta",
            lambda x, b: np.logaddexp(0.0, b * x),
        ),
        (
            "beta belongs inside the exponential: log(1 + exp(beta z)) / beta",
            lambda x, b: np.logaddexp(0.0, x) / b,
        ),
        (
            "overflow: exp(beta z) is inf for beta z > 709, so log(1 + exp(beta z)) "
            "is inf; use np.logaddexp(0, beta * z) / beta, or z + log(1 + exp(-beta "
            "z)) / beta for z > 0",
            lambda x, b: np.log1p(np.exp(b * x)) / b,
        ),
        (
            "overflow: use np.logaddexp(0, beta * z) / beta",
            lambda x, b: np.log(1 + np.exp(b * x)) / b,
        ),
        (
            "sign error: log(1 + exp(beta z)), not log(1 + exp(-beta z))",
            lambda x, b: np.logaddexp(0.0, -b * x) / b,
        ),
    ]
    return _check_function(
        fn,
        getattr(fn, "__name__", "fn"),
        cases,
        _softplus,
        variants,
        "softplus check",
        raise_on_failure,
    )
