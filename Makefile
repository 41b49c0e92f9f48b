# CAR-T evidence workbook: one-command set-up, reports and tests.
# `make reports` and `make test` set up everything they need on a fresh machine.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SOURCE_DATE_EPOCH := 0
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: help setup system-packages reports lint test test-fast refresh bench lab clean
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: system-packages $(STAMP) ## venv with the pinned packages, Debian chromium, the Jupyter kernel

# Debian's chromium + driver for the browser tests (test tools never download a browser of their own),
# and R with metafor + lme4, the reference the meta-analysis tests compare with live.
DEBIAN_PACKAGES := chromium chromium-driver fonts-dejavu-core r-base-core r-cran-metafor r-cran-lme4
system-packages: ## Debian chromium + chromium-driver and R (metafor, lme4) when missing (apt-get)
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
		|| ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'library(metafor); library(lme4)' >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; \
	fi

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name cart-workbook --display-name "CAR-T workbook (helpers)" >/dev/null
	touch $(STAMP)

reports: setup ## build reports/ (the HTML site) from the shipped seeds
	$(PY) -m helpers build --out reports

lint: setup ## ruff: lint (incl. docstrings, complexity) and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup lint ## lint, then every test: unit, seeds, CLI, nbval, full build in headless Chromium
	$(PY) -m pytest --nbval tests notebooks -p no:cacheprovider

test-fast: setup ## unit tests only (no full build, no browser)
	$(PY) -m pytest tests -m "not pipeline and not browser" -p no:cacheprovider

refresh: setup ## re-execute the notebooks in place (their committed outputs)
	$(PY) -m helpers refresh

bench: setup ## annotation, build and GLMM-vs-metafor benchmarks (ratios against baselines in the same run)
	$(PY) benchmarks/bench_concepts.py
	$(PY) benchmarks/bench_build.py
	$(PY) benchmarks/bench_glmm.py

lab: setup ## JupyterLab on notebooks/
	$(VENV)/bin/jupyter lab notebooks/

clean: ## remove the build cache and the venv
	rm -rf build $(VENV)
