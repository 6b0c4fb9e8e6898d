"""check_integrator accepts leapfrog and rejects first-order or asymmetric schemes."""

from __future__ import annotations

import pytest

from hmc_lite.checks import IntegratorReport, check_integrator


def leapfrog(grad_U, q, p, eps, L):
    for _ in range(L):
        p = p - 0.5 * eps * grad_U(q)
        q = q + eps * p
        p = p - 0.5 * eps * grad_U(q)
    return q, p


def leapfrog_merged(grad_U, q, p, eps, L):
    """Leapfrog with consecutive half kicks merged: the same map."""
    p = p - 0.5 * eps * grad_U(q)
    for i in range(L):
        q = q + eps * p
        p = p - (eps if i < L - 1 else 0.5 * eps) * grad_U(q)
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


@pytest.mark.parametrize("fn", [leapfrog, leapfrog_merged])
def test_correct_leapfrog_passes(fn):
    report = check_integrator(fn)
    assert isinstance(report, IntegratorReport) and report.passed
    assert report.reversibility_error < 1e-10
    assert report.volume_error < 1e-6
    assert abs(report.local_order - 3) < 0.3 and abs(report.global_order - 2) < 0.2


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
    assert [f.split(":")[0] for f in report.failures] == ["reversibility", "local order", "global order"]
    with pytest.raises(AssertionError, match="reversibility"):
        check_integrator(symplectic_euler)


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
    with pytest.raises(TypeError, match="step_fn"):
        check_integrator("leapfrog")


def test_an_integrator_that_blows_up_is_reported_not_blamed_on_in_place_edits():
    def explodes(grad_U, q, p, eps, L):
        return q * float("nan"), p - eps * L * grad_U(q)

    report = check_integrator(explodes, raise_on_failure=False)
    assert not report.passed
    assert any("NaN or infinite" in f for f in report.failures), report.failures
    assert not any("in place" in f for f in report.failures)
    with pytest.raises(AssertionError, match="sign of each kick"):
        check_integrator(explodes)
