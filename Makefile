# The README's commands. Each creates the virtual environment on first use and
# installs the project with the exact versions pinned in constraints.txt.
#
#   make book      build the website into _build/html (from the committed outputs)
#   make test      everything CI runs: ruff, unit tests + doctests, strict nbval, the book,
#                  then the browser test of the built site (make site-test)
#   make site-test open every page of _build/html in headless Chromium (after make book)
#   make browser   install Debian's chromium + chromium-driver if missing (as root)
#   make lab       open the notebooks in JupyterLab, in the project's environment
#                  (make lab PORT=8890 BROWSER=no: another port, no browser window;
#                  LAB_ARGS="--ip=0.0.0.0" for anything else; --allow-root when root)
#   make execute   re-execute every notebook in place (after changing celib); an unchanged
#                  notebook comes out byte-identical (tools/nbexecute.py)
#   make nbclean   only normalise the notebooks (no execution timestamps, canonical JSON)
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

.PHONY: venv book test lint unit nbval html site-test browser execute nbclean lab bench lock \
    clean

venv: $(STAMP)

# The first install builds a 1.7 GB environment (torch, Jupyter, Sphinx): pip's lines show
# its progress. Measured times are in the README.
$(STAMP): pyproject.toml constraints.txt
	@echo "== creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	@echo "== installing celib and the book's tools at the versions of constraints.txt"
	@echo "   (the first time: 3 to 6 minutes for a 1.7 GB environment; pip lists each package)"
	$(BIN)/python -m pip install -c constraints.txt -e ".[dev]"
	@echo "== building matplotlib's font cache"
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@
	@echo "== $(VENV) is ready"

# Sphinx copies the static files only when it rewrites a page: after a change to
# _assets/ alone (book.css) the cp brings the site up to date.
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	cp -R _assets/. _build/html/_static/
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

# Re-executes in place without execution timestamps; outputs that differ from the committed
# ones only in timings, device names or addresses (tests/nbval_sanitize.cfg) keep their
# committed text, so that unchanged code leaves `git status` clean. TIMINGS=new writes the
# new timings too; NOTEBOOKS=chapters/02_discrete.ipynb runs one notebook.
execute: $(STAMP)
	$(BIN)/python tools/nbexecute.py $(if $(filter new,$(TIMINGS)),--new-timings) $(NOTEBOOKS)

nbclean: $(STAMP)
	$(BIN)/python tools/nbexecute.py --clean-only $(NOTEBOOKS)

# JupyterLab on chapters/. PORT picks the port (the next free one if taken), BROWSER=no
# starts no browser (copy the printed URL), and root (containers, CI, cloud machines) gets
# Jupyter's --allow-root.
PORT ?= 8888
LAB_ARGS ?=
lab: $(STAMP)
	$(BIN)/jupyter lab --port=$(PORT) $(if $(filter no,$(BROWSER)),--no-browser) \
	    $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) chapters/

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
