"""Test-session settings shared by every test file and by the notebook kernels nbval
starts."""

from __future__ import annotations

import os

# One BLAS thread, as `make test` sets (see the Makefile): set before numpy loads its
# BLAS in this process, and inherited by the kernels that execute the chapters.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from threadpoolctl import threadpool_limits  # noqa: E402 - after the variables above

# numpy may already be loaded (by a pytest plugin) with more threads: limit them too.
_BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")
