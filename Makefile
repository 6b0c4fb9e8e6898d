# Two commands do everything on a fresh machine with Python >= 3.11 and make:
#   make book   build the HTML book (creates .venv and installs requirements.txt if needed);
#               fails, naming the chapter and cell, if any chapter fails to execute
#   make test   run every test: hmc_lite, every chapter under nbval, the strict book build
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# One BLAS thread for the book and the tests: batched gradients over chains gain nothing from
# more, and on a loaded 2-core machine threaded BLAS made single-chain L-BFGS 2.5-5x slower
# (issue 10). tests/conftest.py does the same for pytest run without make.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: book test install clean bench robustness help pdf

help:
	@echo "make book   - build the HTML book into _build/html"
	@echo "make test   - install, then run all tests (unit, notebooks, strict build)"
	@echo "make bench  - gradient evaluations per second of the BNN potential, against JAX if installed"
	@echo "make robustness - re-run every chapter with seeds 1-5; results in results/robustness.json"
	@echo "make pdf    - the whole book as one PDF, _build/book.pdf (needs Chromium or Chrome)"
	@echo "make clean  - remove the built book and the execution cache"
	@echo "make student - solution-free chapters (nbgrader convention) in _build/student"
	@echo "make colab  - chapters as plain Jupyter notebooks for Colab in _build/colab"

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(BIN)/python tools/build_book.py
	@echo "Open $(abspath _build/html/index.html) in a browser."

# Each chapter executes once. First, on every core (pytest-xdist; each test file, and each
# notebook with its one kernel, stays on one worker: --dist loadscope, as nbval requires),
# the unit tests and every chapter under nbval; the top-level conftest.py keeps each chapter
# that passed, with its outputs, in $(EXECUTED). Then the strict book build
# (tests/test_book.py) renders those and executes only chapters missing there. Both steps
# always run; the exit status is that of the last one that failed.
EXECUTED := $(abspath _build/.executed)
test: $(STAMP)
	rm -rf $(EXECUTED)
	status=0; \
	HMC_LITE_EXECUTED=$(EXECUTED) $(BIN)/python -m pytest -n auto --dist loadscope \
		--nbval-lax --nbval-cell-timeout=300 --doctest-modules tests hmc_lite book \
		--ignore=tests/test_book.py || status=$$?; \
	HMC_LITE_EXECUTED=$(EXECUTED) $(BIN)/python -m pytest tests/test_book.py || status=$$?; \
	exit $$status

# One HTML page printed by a headless Chromium (tools/print_book.py); the formulas need
# MathJax from its CDN, so the deploy workflow makes the published PDF.
pdf: $(STAMP)
	$(BIN)/python tools/print_book.py --out _build/book.pdf

# Side by side with JAX when it is installed (pip install '.[jax]'); NumPy's BLAS runs with one
# thread (batched gradients gain nothing from more). Saved, with the machine, for the book's appendix.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_potential.py --json results/bench_potential.json

robustness: $(STAMP)
	$(BIN)/python tools/robustness.py

clean:
	rm -rf _build

# The student edition (book/instructors.md): solutions removed, nbgrader stubs and checks.
student: $(STAMP)
	$(BIN)/python tools/student.py --out _build/student

# Notebooks for Colab: MyST directives and roles as plain Markdown, standard LaTeX only.
colab: $(STAMP)
	$(BIN)/python tools/colab.py --out _build/colab
