"""The exercise checks of hmc_lite.checks: each accepts a correct answer and names the
mistake in several wrong ones (signs, swapped arguments, step counts, shapes, gradient
counts).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from hmc_lite import checks
from hmc_lite.checks import CheckReport, IntegratorReport, check_integrator


def leapfrog_two_gradients(grad_U, q, p, eps, L):
    """Leapfrog as written in textbooks: the right map, but two gradients per step."""
    for _ in range(L):
        p = p - 0.5 * eps * grad_U(q)
        q = q + eps * p
        p = p - 0.5 * eps * grad_U(q)
    return q, p


def leapfrog_merged(grad_U, q, p, eps, L):
    """Leapfrog with consecutive half kicks merged: the same map, L + 1 gradients."""
    p = p - 0.5 * eps * grad_U(q)
    for i in range(L):
        q = q + eps * p
        p = p - (eps if i < L - 1 else 0.5 * eps) * grad_U(q)
    return q, p


def leapfrog_batched(grad_U, q, p, eps, L):
    """The chapter's idiom: a batch of one position, grad_U(q[None])[0]."""
    g = grad_U(q[None])[0]
    for _ in range(L):
        p = p - 0.5 * eps * g
        q = q + eps * p
        g = grad_U(q[None])[0]
        p = p - 0.5 * eps * g
    return q, p


def position_verlet(grad_U, q, p, eps, L):
    for _ in range(L):
        q = q + 0.5 * eps * p
        p = p - eps * grad_U(q)
        q = q + 0.5 * eps * p
    return q, p


def euler(grad_U, q, p, eps, L):
    for _ in range(L):
        q, p = q + eps * p, p - eps * grad_U(q)
    return q, p


def symplectic_euler(grad_U, q, p, eps, L):
    """Kick then drift: volume preserving but neither symmetric nor second order."""
    for _ in range(L):
        p = p - eps * grad_U(q)
        q = q + eps * p
    return q, p


def stale_gradient(grad_U, q, p, eps, L):
    """Second half kick with the gradient at the old position: a common bug."""
    for _ in range(L):
        g = grad_U(q)
        p = p - 0.5 * eps * g
        q = q + eps * p
        p = p - 0.5 * eps * g
    return q, p


def sign_error(grad_U, q, p, eps, L):
    p = p + 0.5 * eps * grad_U(q)
    for i in range(L):
        q = q + eps * p
        p = p + (eps if i < L - 1 else 0.5 * eps) * grad_U(q)
    return q, p


def one_step_too_few(grad_U, q, p, eps, L):
    return leapfrog_merged(grad_U, q, p, eps, L - 1) if L > 1 else (q.copy(), p.copy())


def returns_p_q(grad_U, q, p, eps, L):
    q, p = leapfrog_merged(grad_U, q, p, eps, L)
    return p, q


def takes_p_q(grad_U, p, q, eps, L):
    return leapfrog_merged(grad_U, q, p, eps, L)


@pytest.mark.parametrize("fn", [leapfrog_merged, leapfrog_batched, position_verlet])
def test_correct_integrators_pass(fn):
    report = check_integrator(fn)
    assert isinstance(report, IntegratorReport) and report.passed
    assert report.reversibility_error < 1e-10
    assert report.volume_error < 1e-6
    assert abs(report.local_order - 3) < 0.3 and abs(report.global_order - 2) < 0.2
    assert report.gradient_calls <= 1


def test_two_gradients_per_step_fail_on_the_count():
    report = check_integrator(leapfrog_two_gradients, raise_on_failure=False)
    assert [f.split(":")[0] for f in report.failures] == ["gradient evaluations"]
    assert report.gradient_calls == 160  # 2L calls for the longest trajectory, L = 160
    with pytest.raises(AssertionError, match="reuse it"):
        check_integrator(leapfrog_two_gradients)


@pytest.mark.parametrize(
    "fn, phrase",
    [
        (sign_error, "sign error"),
        (one_step_too_few, "one step too few"),
        (returns_p_q, "swapped outputs"),
        (takes_p_q, "swapped arguments: your"),
    ],
)
def test_common_mistakes_get_a_specific_hint(fn, phrase):
    report = check_integrator(fn, raise_on_failure=False)
    assert not report.passed
    assert report.failures[0].startswith(phrase), report.failures
    assert not any("eps^nan" in f for f in report.failures), report.failures


def test_euler_fails_every_check():
    with pytest.raises(AssertionError, match="reversibility") as info:
        check_integrator(euler)
    for word in ("volume", "local order", "global order"):
        assert word in str(info.value)
    report = check_integrator(euler, raise_on_failure=False)
    assert not report.passed and len(report.failures) == 4
    assert report.local_order == pytest.approx(2, abs=0.3)
    assert report.global_order == pytest.approx(1, abs=0.3)


def test_asymmetric_splitting_preserves_volume_but_fails_the_rest():
    report = check_integrator(symplectic_euler, raise_on_failure=False)
    assert report.volume_error < 1e-6
    assert [f.split(":")[0] for f in report.failures] == [
        "reversibility",
        "local order",
        "global order",
    ]


def test_stale_gradient_bug_is_caught():
    with pytest.raises(AssertionError, match="volume"):
        check_integrator(stale_gradient)


def test_bad_step_functions_get_helpful_messages():
    def in_place(grad_U, q, p, eps, L):
        q += eps * p
        return q, p

    with pytest.raises(AssertionError, match="in place"):
        check_integrator(in_place)
    with pytest.raises(AssertionError, match="pair"):
        check_integrator(lambda grad_U, q, p, eps, L: q)
    with pytest.raises(AssertionError, match="shape"):
        check_integrator(lambda grad_U, q, p, eps, L: (q[:1], p))
    with pytest.raises(AssertionError, match=r"take \[0\]"):
        check_integrator(lambda grad_U, q, p, eps, L: (q[None], p[None]))
    with pytest.raises(
        AssertionError, match="grad_U was called with an array of shape"
    ):
        check_integrator(
            lambda grad_U, q, p, eps, L: (q, p - grad_U(np.concatenate([q, p])))
        )
    with pytest.raises(TypeError, match="step_fn"):
        check_integrator("leapfrog")


def test_a_stub_is_reported_as_not_implemented():
    def stub(grad_U, q, p, eps, L):
        raise NotImplementedError()

    report = check_integrator(stub, raise_on_failure=False)
    assert report.failures == (
        "stub is not implemented yet (it raised NotImplementedError or "
        "returned None): replace the stub by your code",
    )
    assert not checks.check_softplus(
        lambda z, beta: None, raise_on_failure=False
    ).passed


def test_an_integrator_that_blows_up_is_reported_not_blamed_on_in_place_edits():
    def explodes(grad_U, q, p, eps, L):
        return q * float("nan"), p - eps * L * grad_U(q)

    report = check_integrator(explodes, raise_on_failure=False)
    assert not report.passed
    assert any("NaN or infinite" in f for f in report.failures), report.failures
    assert not any("in place" in f for f in report.failures)
    with pytest.raises(AssertionError, match="sign of each kick"):
        check_integrator(explodes)


# Chapter 1: symplectic Euler.


def drift_then_kick(grad_U, q, p, eps, L):
    for _ in range(L):
        q = q + eps * p
        p = p - eps * grad_U(q)
    return q, p


def symplectic_euler_two_gradients(grad_U, q, p, eps, L):
    for _ in range(L):
        grad_U(q)
        p = p - eps * grad_U(q)
        q = q + eps * p
    return q, p


def test_check_symplectic_euler():
    assert checks.check_symplectic_euler(symplectic_euler).passed
    for fn, phrase in [
        (drift_then_kick, "the order of the sub-steps"),
        (symplectic_euler_two_gradients, "gradient evaluations"),
        (
            lambda g, q, p, e, L: symplectic_euler(g, q, p, e, L)[::-1],
            "swapped outputs",
        ),
        (
            lambda g, q, p, e, L: symplectic_euler(lambda x: -g(x), q, p, e, L),
            "sign error",
        ),
        (lambda g, q, p, e, L: symplectic_euler(g, q, p, e, L - 1), "one step too few"),
    ]:
        report = checks.check_symplectic_euler(fn, raise_on_failure=False)
        assert not report.passed and report.failures[0].startswith(
            phrase
        ), report.failures
    with pytest.raises(AssertionError, match="symplectic Euler check found problems"):
        checks.check_symplectic_euler(drift_then_kick)


# Chapters 3-11: one function each, a correct answer and typical wrong ones.

CASES = {
    checks.check_gradient_jump: (
        lambda w, f, y, x, s: w * (f - y) / s**2 * np.array([x, 1.0]),
        [
            (
                lambda w, f, y, x, s: w * (y - f) / s**2 * np.array([x, 1.0]),
                "sign error",
            ),
            (lambda w, f, y, x, s: w * (f - y) / s * np.array([x, 1.0]), "variance"),
            (
                lambda w, f, y, x, s: w * (f - y) / s**2 * np.array([1.0, x]),
                "the normal",
            ),
            (lambda w, f, y, x, s: w * (f - y) / s**2 * x, "shape"),
        ],
    ),
    checks.check_kink_error: (
        lambda q, v, n, e, J: e * J * np.abs(v @ n) * (0.5 + (q @ n) / (e * (v @ n))),
        [
            (
                lambda q, v, n, e, J: e
                * J
                * np.abs(v @ n)
                * (-0.5 - (q @ n) / (e * (v @ n))),
                "sign error",
            ),
            (
                lambda q, v, n, e, J: e
                * J
                * np.abs(v @ n)
                * (0.5 - (q @ n) / (e * (v @ n))),
                "sign of alpha",
            ),
            (
                lambda q, v, n, e, J: e * J * (v @ n) * (0.5 + (q @ n) / (e * (v @ n))),
                "the normal speed",
            ),
            (
                lambda q, v, n, e, J: e
                * J
                * np.abs(q @ n)
                * (0.5 + (v @ n) / (e * (q @ n))),
                "swapped arguments",
            ),
            (
                lambda q, v, n, e, J: (
                    e * J * np.abs(v @ n) * (0.5 + (q @ n) / (e * (v @ n)))
                )[:, None],
                "shape",
            ),
        ],
    ),
    checks.check_optimal_acceptance: (
        lambda k: __import__("hmc_lite").optimal_acceptance(k),
        [
            (lambda k: __import__("hmc_lite").optimal_acceptance(k) / 2, "a factor 2"),
            (
                lambda k: __import__("hmc_lite").optimal_acceptance(2 * k),
                "the equation",
            ),
            (lambda k: [__import__("hmc_lite").optimal_acceptance(k)], "shape"),
        ],
    ),
    checks.check_usable_step: (
        lambda e, a, t: np.where(
            (a >= t).any(1), np.where(a >= t, e, -np.inf).max(1), np.nan
        ),
        [
            (
                lambda e, a, t: np.where(
                    (a >= t).any(1), np.where(a >= t, e, np.inf).min(1), np.nan
                ),
                "the smallest",
            ),
            (
                lambda e, a, t: np.where(
                    (a > t).any(1), np.where(a > t, e, -np.inf).max(1), np.nan
                ),
                "strict",
            ),
            (
                lambda e, a, t: np.array(
                    [e[r >= t][-1] if (r >= t).any() else np.nan for r in a]
                ),
                "you take the last",
            ),
            (
                lambda e, a, t: np.where(
                    (a >= t).any(0), np.where(a >= t, e, -np.inf).max(0), np.nan
                ),
                "shape",
            ),
        ],
    ),
    checks.check_cost: (
        lambda e, a: 1 / (e * a),
        [
            (lambda e, a: 1 / e, "the acceptance is missing"),
            (lambda e, a: e * a, "you return the accepted"),
            (lambda e, a: np.sum(1 / (e * a)), "shape"),
        ],
    ),
    checks.check_rmse: (
        lambda m, s: s * np.sqrt(m),
        [
            (lambda m, s: s * m, "square root missing"),
            (lambda m, s: m * np.sqrt(s), "swapped arguments"),
            (lambda m, s: np.sqrt(m) / s, "the unit conversion"),
        ],
    ),
    checks.check_mean_acceptance: (
        lambda d: float(np.mean(np.minimum(1, np.exp(-d)))),
        [
            (lambda d: float(np.mean(np.minimum(1, np.exp(d)))), "sign error"),
            (lambda d: float(np.mean(np.exp(-d))), "min(1, .) missing"),
            (lambda d: np.minimum(1, np.exp(-d)).mean(axis=-1), "shape"),
        ],
    ),
    checks.check_accepted_distance: (
        lambda e, c, k: e * 2 * ndtr(-np.sqrt(c) * e**k / 2),
        [
            (lambda e, c, k: 2 * ndtr(-np.sqrt(c) * e**k / 2), "the step is missing"),
            (lambda e, c, k: e * 2 * ndtr(-c * e**k / 2), "kappa"),
            (lambda e, c, k: e * 2 * ndtr(-np.sqrt(c) * e ** (2 * k) / 2), "ell^k"),
        ],
    ),
    checks.check_softplus: (
        lambda z, b: np.logaddexp(0, b * z) / b,
        [
            (lambda z, b: np.log(1 + np.exp(b * z)) / b, "overflow"),
            (lambda z, b: np.logaddexp(0, b * z), "the division by beta"),
            (lambda z, b: np.logaddexp(0, -b * z) / b, "sign error"),
            (lambda z, b: np.logaddexp(0, b * np.ravel(z)) / b, "shape"),
        ],
    ),
}


@pytest.mark.parametrize("check", list(CASES), ids=lambda c: c.__name__)
def test_exercise_checks_pass_a_correct_answer_and_name_wrong_ones(check, capsys):
    correct, wrong = CASES[check]
    report = check(correct)
    assert isinstance(report, CheckReport) and report.passed and report.cases >= 3
    assert "passed all" in capsys.readouterr().out
    for fn, phrase in wrong:
        report = check(fn, raise_on_failure=False)
        assert not report.passed and report.failures[0].startswith(phrase), (
            phrase,
            report.failures,
        )
        assert len(report.failures) == 1  # the first failing case only
    assert "passed" not in capsys.readouterr().out  # no success line for a wrong answer
    with pytest.raises(AssertionError, match="found problems"):
        check(wrong[0][0])
    with pytest.raises(AssertionError, match="not implemented yet"):
        check(lambda *args: (_ for _ in ()).throw(NotImplementedError()))
    with pytest.raises(TypeError, match="fn must be callable"):
        check(42)


def test_an_answer_that_raises_is_reported_with_the_error():
    def broken(z, beta):
        return z.no_such_attribute

    report = checks.check_softplus(broken, raise_on_failure=False)
    assert "raised AttributeError" in report.failures[0]
