# One command per task; CI (.ci/run) calls `make check` and `make test`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= ./data
# `make run` listens where SUPPORTBOX_HOST/SUPPORTBOX_PORT say, unless
# HOST/PORT are given.
HOST ?= $(or $(SUPPORTBOX_HOST),127.0.0.1)
PORT ?= $(or $(SUPPORTBOX_PORT),8080)
STAMP := $(VENV)/.installed
ASSETS := node_modules/.installed

.PHONY: install assets browser system-deps run test test-sqlite test-postgres check format clean

install: $(STAMP) assets

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Browser assets (asciinema-player) come from the npm registry, pinned by
# package-lock.json; the server serves them from node_modules.
assets: $(ASSETS)

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(ASSETS)

run: install
	$(BIN)/supportbox init --demo --data-dir $(DATA_DIR)
	$(BIN)/python tools/welcome.py --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)
	exec $(BIN)/supportbox serve --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)

test: install system-deps browser test-sqlite test-postgres

# Debian's chromium for the browser tests, when it is missing.
browser:
	@test -x /usr/bin/chromium || tools/install-browser.sh

# Debian packages that tests drive for real (nginx); skipped tests say so
# when these cannot be installed.
system-deps:
	tools/install-system.sh

test-sqlite: install
	$(BIN)/pytest -n 2

# The same suite against the local PostgreSQL; skipped, saying so, when it
# does not answer.
test-postgres: install
	SUPPORTBOX_TEST_DB=postgresql $(BIN)/pytest -n 2

check: install
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench tools
	$(BIN)/ruff check --fix src tests bench tools

clean:
	rm -rf $(VENV) node_modules build *.egg-info .pytest_cache .mypy_cache .ruff_cache
