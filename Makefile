# Awaaz: the two sacred commands are `make serve` and `make test`.
# Both create .venv, install the pinned dependencies and prepare the default model first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.awaaz-installed
EXTRAS ?= dev
AWAAZ_HOST ?= 127.0.0.1
AWAAZ_PORT ?= 8000

.PHONY: setup serve test lint typecheck bench model clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Awaaz needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	@touch $(STAMP)

setup: $(STAMP)

model: setup
	$(BIN)/awaaz models prepare

serve: model
	AWAAZ_HOST=$(AWAAZ_HOST) AWAAZ_PORT=$(AWAAZ_PORT) $(BIN)/awaaz serve

test: model
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

bench: model
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
