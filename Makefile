# Two commands matter: `make run` (the whole system) and `make test` (the whole suite).
# Both create .venv when missing and install the project into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test test-unit mutation lint format bench install clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/brickyard run

test: $(INSTALLED)
	@sh tests/ensure_chromium.sh
	$(BIN)/python -m pytest

# The unit tier alone: pure code, no servers, a few seconds.
test-unit: $(INSTALLED)
	$(BIN)/python -m pytest tests/unit -q

# Mutation testing of the five core modules against the unit tier (outside CI: a few minutes).
# Fresh each time (mutants/ holds mutmut's copy and cache); the score per module comes last.
mutation: $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/python -m tests.mutation_score

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench ONLY=jobs` runs the scenarios whose name contains "jobs" (several words: any of them).
bench: $(INSTALLED)
	$(BIN)/python -m tests.bench $(ONLY)

clean:
	rm -rf $(VENV) .venv-bench-peers .pytest_cache .ruff_cache mutants
