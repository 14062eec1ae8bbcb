# The commands of the README: `make demo`, `make test` and `make benchmark`. Each sets up .venv from requirements.txt
# (the pinned, tested set that stands in for Airflow's constraint file) on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
PYTEST_ARGS ?=
# Two workers: most tests wait on simulators, Airflow subprocesses and HTTP, not the CPU. Tests that start a whole
# Airflow cluster run one after the other on one worker (tests/support/scheduling.py).
TEST_WORKERS ?= 2
SIZE ?= S
BENCHMARK_ARGS ?=

.PHONY: demo test lint benchmark install browser clean

install: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

demo: install
	$(PY) scripts/demo.py

# The browser tests drive Debian's Chromium headless (Playwright with executable_path, never `playwright install`).
browser:
	@if [ -x /usr/bin/chromium ] && command -v chromedriver >/dev/null; then :; else \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; fi

# Lint and type checks first (settings in pyproject.toml): ruff on the whole tree, mypy strict on include/ and plugins/.
lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy

test: install browser lint
	$(PY) -m pytest -n $(TEST_WORKERS) --durations=25 $(PYTEST_ARGS)

# SIZE=S (default: 1k firms, 3k contacts, 2k projects), M (10x) or L (100x); figures in var/benchmark/.
benchmark: install
	PYTHONPATH=.:plugins $(PY) -m benchmark --size $(SIZE) $(BENCHMARK_ARGS)

clean:
	rm -rf var/demo .pytest_cache
