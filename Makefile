# Every target installs what it needs: a virtualenv built from the committed uv.lock.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# Much of the suite waits on served processes, sockets and worker threads: two pytest workers
# per core keep the cores busy meanwhile.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install run test coverage test-unit test-integration test-e2e lint typecheck fmt audit check bench seed worker clean clean-data

help:  ## this list
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

install: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

run: install  ## the service on http://$HOST:$PORT (127.0.0.1:8000) with embedded defaults
	$(BIN)/fundraising serve --reload --host $(HOST) --port $(PORT)

worker: install  ## the production worker (needs FUNDRAISING_BROKER_URL)
	$(BIN)/fundraising worker

seed: install  ## realistic test data in the configured database (migrated first)
	$(BIN)/fundraising db upgrade
	$(BIN)/fundraising generate-test-data

test: install lint typecheck  ## everything: lint, types, unit, integration and end-to-end tests
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=15

coverage: install  ## the whole suite, with a line and branch coverage report (slower)
	$(BIN)/pytest -n auto --cov=fundraising --cov-report=term:skip-covered

test-unit: install  ## the core through in-memory fakes (seconds)
	$(BIN)/pytest tests/unit

test-integration: install  ## each adapter against MariaDB, SQLite, Redis, SMTP, real files
	$(BIN)/pytest tests/integration

test-e2e: install  ## HTTP and the command line
	$(BIN)/pytest tests/e2e

lint: install  ## ruff, and the layers of the hexagon (import-linter, contracts in pyproject.toml)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: install  ## mypy, strict on src/
	$(BIN)/mypy

audit: install  ## known vulnerabilities in uv.lock (asks PyPI's JSON API: needs the internet)
	$(UV) export --frozen --no-hashes --no-emit-project --quiet > $(TOOLS)/requirements.txt
	$(BIN)/pip-audit --strict --no-deps --disable-pip --requirement $(TOOLS)/requirements.txt

fmt: install  ## fix what ruff can, and format
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: install  ## benchmarks of the production configuration (needs wrk, MariaDB, Redis)
	$(BIN)/python -m bench

clean:  ## the virtualenv, tools and caches (var/, the development database, stays)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .coverage

clean-data:  ## var/: the development database, e-mails, covers, secret key (asks first)
	@printf 'Delete var/ (the development database, e-mails, covers, the secret key)? [y/N] '; \
	read answer; [ "$$answer" = y ] && rm -rf var && echo "var/ deleted" || echo "kept"
