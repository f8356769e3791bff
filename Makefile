# Two commands for a fresh machine (see README):
#   make book   create .venv, install everything, build the HTML book
#   make test   the same set-up, then the whole test suite
# Everything else here is a step of those two.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# nbgrader runs `alembic` from PATH, and the book's kernels must be the venv's.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export NNCOURSE_DATA ?= $(abspath ../shared/data)
# One BLAS/OpenMP thread per process: on 2 cores, kernels and test workers run side by side,
# and oversubscribed BLAS threads slow numpy and torch down 10x or more.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

VENDOR := _vendor/vendor
PYTEST_ARGS ?=

.PHONY: setup book test lint browser exercises bench grading clean

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Copy the JavaScript the book needs out of node_modules, so the site needs no CDN.
$(VENDOR)/.copied: node_modules/.installed
	rm -rf _vendor && mkdir -p $(VENDOR)/html-manager $(VENDOR)/requirejs
	cp -r node_modules/mathjax/es5 $(VENDOR)/mathjax
	cp node_modules/@jupyter-widgets/html-manager/dist/*.js $(VENDOR)/html-manager/
	cp node_modules/@jupyter-widgets/html-manager/dist/*.woff* $(VENDOR)/html-manager/
	cp node_modules/requirejs/require.js $(VENDOR)/requirejs/
	touch $@

# Debian's Chromium, for the browser tests (Playwright drives it; it never downloads a browser).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

# Debian's bubblewrap: `nncourse grade` runs each submission's kernel in a bwrap sandbox.
/usr/bin/bwrap:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null

setup: $(VENV)/.installed $(VENDOR)/.copied

book: setup
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Book built: open $(CURDIR)/_build/html/index.html"
	@echo "or serve it: $(PY) -m http.server --directory _build/html 8000"

test: setup /usr/bin/chromium /usr/bin/bwrap /usr/lib/postgresql/15/bin/postgres
	$(BIN)/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# Debian's PostgreSQL server: the tests start a real one for the gradebook (tests/postgres_server.py).
/usr/lib/postgresql/15/bin/postgres:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null

# What an instructor's grading machine needs besides the set-up.
grading: setup /usr/bin/bwrap

exercises: setup
	$(BIN)/nncourse release

bench: setup
	$(PY) bench/mnist_two_layer.py

clean:
	rm -rf _build _vendor test-output
