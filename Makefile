# Awaaz: the two sacred commands are `make serve` and `make test`.
# Both create .venv, install the pinned dependencies (constraints.txt) and prepare the default model first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
AWAAZ_HOST ?= 127.0.0.1
AWAAZ_PORT ?= 8000
export AWAAZ_HOST AWAAZ_PORT

.PHONY: setup setup-test serve worker test lint typecheck bench model clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Awaaz needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"

# Serving needs only the package itself; tests add the dev and train extras (pytest, openai, torch...).
$(VENV)/.serve-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.serve-installed
	$(PIP) -e ".[dev,train]"
	@touch $@

setup: $(VENV)/.serve-installed

setup-test: $(VENV)/.test-installed

model: setup
	$(BIN)/awaaz models prepare

serve: model
	$(BIN)/awaaz serve

# A job worker for AWAAZ_QUEUE=celery (README, "Jobs"): run it on as many machines as you like.
worker: model
	$(BIN)/awaaz worker

test: setup-test model
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup-test
	$(BIN)/mypy

bench: setup-test model
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
