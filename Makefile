# The two commands of the README: `make demo` runs the path, `make test` runs the tests.
# Each runs `make setup` first when the virtual environment or the artifacts are missing.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup fetch test lint demo clean

# `rtpath stack fetch` reuses and re-verifies cached files, so running it every time is cheap.
setup: $(STAMP)
	$(BIN)/rtpath stack fetch

$(STAMP): pyproject.toml constraints/overrides.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "uv>=0.5,<1"
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet --python $(BIN)/python \
		--override constraints/overrides.txt --editable '.[dev]'
	touch $@

fetch: $(STAMP)
	$(BIN)/rtpath stack fetch

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core stack producers jobs sinks dashboards benchmarks rtpath

demo: setup
	$(BIN)/rtpath demo $(DEMO_ARGS)

clean:
	-$(BIN)/rtpath stack down
	rm -rf $(VENV) .rtpath
