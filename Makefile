# Virtual Mentor. Quick start: `make demo` runs it, `make test` proves it.
# Everything installs into .venv from pyproject.toml, pinned by constraints.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help demo test lint audit bench soak browser lock translations clean

help:
	@echo "make demo    set up and run the tool on 127.0.0.1:$(PORT) (web + worker + beat)"
	@echo "make test    set up and run the test suite (PYTEST_ARGS=... to pass options)"
	@echo "make lint    ruff and mypy"
	@echo "make audit   known vulnerabilities in the pinned dependencies (pip-audit)"
	@echo "make bench   run the benchmarks (ONLY=<name> for one)"
	@echo "make soak    10 minutes of mixed load on PostgreSQL and Redis (SOAK_SECONDS=...)"
	@echo "make browser install Debian's Chromium for the browser tests (root)"
	@echo "make lock    re-pin constraints.txt to the newest allowed versions"
	@echo "make translations  re-extract the tool's words and update the catalogs"

TRANSLATIONS := lti_tool/translations
# The compiled catalogs (.mo) are generated, never committed: the install step compiles them,
# and a catalog changed since (a pull, `make translations`) is compiled again before use.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Virtual Mentor needs Python 3.11 or newer; run make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)
	@touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

demo: $(STAMP) $(CATALOGS)
	$(FLASK) db upgrade
	$(FLASK) demo seed --base-url http://127.0.0.1:$(PORT)
	$(FLASK) demo run --port $(PORT)

test: $(STAMP) $(CATALOGS) browser
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Known vulnerabilities in constraints.txt's pins (pip-audit asks PyPI's JSON API). A vulnerable
# pin fails; so do pins that could not be checked, unless AUDIT_UNREACHABLE=warn (what CI does:
# see the README's testing section).
AUDIT_UNREACHABLE ?= fail
audit: $(STAMP)
	$(BIN)/python tools/audit.py --unreachable $(AUDIT_UNREACHABLE)

bench: $(STAMP)
	$(BIN)/python -m bench $(if $(ONLY),--only $(ONLY))

# A long run under a steady mixed load (bench/soak.py): two web processes, two workers and
# beat on this machine's PostgreSQL and Redis; fails if memory or connections grow, or if
# anything acknowledged was lost or sent twice.
SOAK_SECONDS ?= 600
soak: $(STAMP) $(CATALOGS)
	SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m bench.soak

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used).
# As root we install it; otherwise the browser tests skip and say how to install it.
browser:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's Chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium not found: browser tests will be skipped (apt-get install chromium)"; fi

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^virtual-mentor' > constraints.txt
	rm -rf .lock-venv

# After changing the words of a page: extract them (babel.cfg), merge into each catalog,
# translate the new entries in the .po files (tests/test_i18n.py fails until you do).
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext --no-location --sort-output \
		--project="Virtual Mentor" --copyright-holder="Virtual Mentor developers" \
		--msgid-bugs-address=dev@virtual-mentor.invalid -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
