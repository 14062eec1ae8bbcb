# The two commands of the README: `make demo` and `make test`. Both set up .venv from requirements.txt
# (the pinned, tested set that stands in for Airflow's constraint file) on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: demo test benchmark install browser clean

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

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

benchmark: install
	$(PY) scripts/benchmark.py

clean:
	rm -rf var/demo .pytest_cache
