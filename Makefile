# The README's commands. Each creates the virtual environment on first use and
# installs the project with the exact versions pinned in constraints.txt.
#
#   make book      build the website into _build/html (from the committed outputs)
#   make test      everything CI runs: ruff, unit tests + doctests, strict nbval, the book,
#                  then the browser test of the built site (make site-test)
#   make site-test open every page of _build/html in headless Chromium (after make book)
#   make browser   install Debian's chromium + chromium-driver if missing (as root)
#   make lab       open the notebooks in JupyterLab, in the project's environment
#   make execute   re-execute every notebook in place (after changing celib)
#   make bench     run the benchmark scripts
#   make lock      re-resolve constraints.txt from pyproject.toml

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Matplotlib's cache lives in the venv, warmed at install time: a first-run
# "building the font cache" message on stderr would fail strict nbval.
export MPLCONFIGDIR := $(CURDIR)/$(VENV)/mplconfig
export PYDEVD_DISABLE_FILE_VALIDATION := 1
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: venv book test lint unit nbval html site-test browser execute lab bench lock clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "open _build/html/index.html"

html: book

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(STAMP)
	$(BIN)/pytest tests celib --doctest-modules --ignore=tests/site

nbval: $(STAMP)
	$(BIN)/pytest $(NBVAL) -W default $(NOTEBOOKS)

# The browser test reads _build/html: run it after the book is built. Without Chromium
# it is skipped with the reason; under CI=true it fails instead.
site-test: $(STAMP) browser
	$(BIN)/pytest tests/site

# Headless Chromium for site-test, from Debian's packages. Installed when missing and this
# is root on a machine with apt-get (CI); anyone else installs it once by hand.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	    exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and chromium-driver with apt-get (about a minute)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	        chromium chromium-driver >/dev/null; } \
	    || { echo "apt-get could not install chromium"; [ "$${CI:-}" != true ]; }; \
	else \
	    echo "no chromium/chromedriver: the browser test will be skipped" \
	        "(apt-get install chromium chromium-driver, as root)"; \
	fi

test: lint unit nbval book site-test

execute: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 $(NOTEBOOKS)

lab: $(STAMP)
	$(BIN)/jupyter lab chapters/

bench: $(STAMP)
	for f in benchmarks/bench_*.py benchmarks/accuracy_study.py; do $(BIN)/python $$f; done

lock:
	rm -rf /tmp/celib-lock && $(PYTHON) -m venv /tmp/celib-lock
	/tmp/celib-lock/bin/python -m pip install --quiet --upgrade "pip>=24"
	/tmp/celib-lock/bin/python -m pip install --quiet -e ".[dev]" "torch==2.13.0"
	/tmp/celib-lock/bin/python -m pip freeze --exclude-editable \
	    | sed 's/+cpu$$//' | grep -v '^-e ' > constraints.txt

clean:
	rm -rf _build
