# CAR-T evidence workbook: one-command set-up, reports and tests.
# `make reports` and `make test` set up everything they need on a fresh machine.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SOURCE_DATE_EPOCH := 0
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: setup system-packages reports test test-fast refresh bench lab clean

setup: system-packages $(STAMP)

# Debian's chromium + driver for the browser tests (test tools never download a browser of their own).
system-packages:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null; \
	fi

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name cart-workbook --display-name "CAR-T workbook (helpers)" >/dev/null
	touch $(STAMP)

reports: setup
	$(PY) -m helpers build --out reports

test: setup
	$(PY) -m pytest --nbval tests notebooks -p no:cacheprovider

test-fast: setup
	$(PY) -m pytest tests -m "not pipeline and not browser" -p no:cacheprovider

refresh: setup
	$(PY) -m helpers refresh

bench: setup
	$(PY) benchmarks/bench_concepts.py
	$(PY) benchmarks/bench_build.py

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf build $(VENV)
