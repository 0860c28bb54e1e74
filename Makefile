# Two commands for a fresh Debian machine with Python 3.11+:
#   make run   - set up .venv and start the server on embedded SQLite under ./var/
#   make test  - set up .venv with the test extras and run ruff, mypy and pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck pytest pytest-sqlite pytest-postgresql bench clean system-deps browser-deps

# Debian packages the set-up needs when they are missing: venv support, and a C++ compiler
# with the Python headers (pdqhash, Meta's PDQ core, is built from source by pip).
system-deps:
	@missing=""; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v g++ >/dev/null 2>&1 || missing="$$missing g++"; \
	$(PYTHON) -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || missing="$$missing python3-dev"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing from Debian:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The page tests and the browser benchmark drive Debian's Chromium (Playwright never
# downloads a browser here) and run the page's fingerprinting scripts in Node.
browser-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing from Debian:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Chorus needs Python 3.11 or newer"'
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@mkdir -p var
	CHORUS_ENV=development CHORUS_DATA_DIR=$(CURDIR)/var $(BIN)/chorus serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# The whole suite runs on embedded SQLite, then every test that uses a database runs again
# on a throwaway PostgreSQL server (installed from Debian if missing, started on a free
# loopback port, removed afterwards); tests/conftest.py deselects the rest in that pass.
# scripts/pytest.sh turns pytest's "no tests collected" (exit 5) into a failure.
pytest: pytest-sqlite pytest-postgresql

pytest-sqlite: $(VENV)/.installed-test browser-deps
	CHORUS_TEST_DATABASE_URL= scripts/pytest.sh

pytest-postgresql: $(VENV)/.installed-test
	scripts/with-postgres.sh scripts/pytest.sh

test: lint typecheck pytest

bench: $(VENV)/.installed-test browser-deps
	$(BIN)/python benchmarks/bench_fingerprint.py
	$(BIN)/python benchmarks/bench_browser.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache  # never ./var: it holds the bank
