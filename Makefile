# Two commands matter: `make run` (the whole system) and `make test` (the whole suite).
# Both create .venv when missing and install into it what they need: `make run` the project alone,
# `make test` (and lint) the project with its test extras (pytest, mypy, schemathesis, playwright:
# several hundred MB that a first `make run` has no use for).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test

.PHONY: run test test-unit mutation lint format bench schema install clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(INSTALLED)

# The test extras on top; installing them also (re)installs the project, so it counts as both.
$(TEST_INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(INSTALLED) $(TEST_INSTALLED)

install: $(TEST_INSTALLED)

run: $(INSTALLED)
	$(BIN)/brickyard run

test: $(TEST_INSTALLED)
	@sh tests/ensure_chromium.sh
	$(BIN)/python -m pytest

# The unit tier alone: pure code, no servers, a few seconds.
test-unit: $(TEST_INSTALLED)
	$(BIN)/python -m pytest tests/unit -q

# Mutation testing of the seven core modules against the unit tier (outside CI: a few minutes).
# Fresh each time (mutants/ holds mutmut's copy and cache); the score per module comes last.
mutation: $(TEST_INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/python -m tests.mutation_score

lint: $(TEST_INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(TEST_INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# shared/migrations/schema.sql: what every migration adds up to, rendered from a scratch schema
# migrated in BRICKYARD_DATABASE_URL's PostgreSQL. Run it after adding a migration.
schema: $(INSTALLED)
	$(BIN)/python -m shared.migrations.live > shared/migrations/schema.sql.new
	mv shared/migrations/schema.sql.new shared/migrations/schema.sql

# `make bench ONLY=jobs` runs the scenarios whose name contains "jobs" (several words: any of them).
bench: $(TEST_INSTALLED)
	$(BIN)/python -m tests.bench $(ONLY)

clean:
	rm -rf $(VENV) .venv-bench-peers .pytest_cache .ruff_cache mutants
