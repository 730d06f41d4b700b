# Idempotent targets: `make demo` runs the demo, `make test` runs the whole suite (what CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test test-fast lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: setup
	$(BIN)/sopwright demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The whole suite: lint, types, import contracts, then every test tier on SQLite and PostgreSQL.
test: lint
	$(BIN)/pytest

# The fast loop: unit tier on SQLite only (seconds).
test-fast: setup
	$(BIN)/pytest tests/unit -m "not postgres" -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
