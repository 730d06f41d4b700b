# Idempotent targets: `make demo` runs the demo, `make test` runs the whole suite (what CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup browser demo test test-fast lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# A Chromium for the workers: Playwright's bundled one or the system's; installed if neither is found.
# With the system's, also its headless shell (Debian's chromium-headless-shell): headless runs use it,
# about half the memory per context of full Chromium; without it they use full Chromium.
browser: setup
	@$(BIN)/python -c "from handlers.browser import find_chromium; find_chromium()" 2>/dev/null \
	|| (command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq chromium) \
	|| $(BIN)/playwright install chromium
	@command -v chromium-headless-shell >/dev/null || ! command -v chromium >/dev/null \
	|| ! command -v apt-get >/dev/null || apt-get install -y -qq chromium-headless-shell \
	|| echo "no chromium-headless-shell: headless runs use full Chromium (more memory)"

demo: browser
	$(BIN)/sopwright demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/deptry .

# The whole suite: lint, types, import contracts, then every test tier on SQLite and PostgreSQL,
# in two processes (much of the browser and reliability tiers waits on subprocesses and portals);
# `worksteal`: a process that runs out takes tests queued on the other, so no tail runs alone.
test: lint browser
	$(BIN)/pytest -n 2 --dist worksteal

# The fast loop: unit tier on SQLite only (seconds).
test-fast: setup
	$(BIN)/pytest tests/unit -m "not postgres" -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
