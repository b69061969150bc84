# trueup: `make demo` shows what it finds, `make test` proves it works. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= cedar-valley
DEMO_SIZE ?= small
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'

# trueup alone for `make demo`; the test tools and the benchmarks' peers only for what needs them.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

$(STAMP)-%: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[$*]'
	@touch $@

install: $(STAMP)-test ## Create the virtual environment and install trueup with its test tools

demo: $(STAMP) ## Build the demo company (DEMO_SIZE=small|medium|large), run trueup on it, show what it found
	$(BIN)/trueup demo $(DEMO_DIR) --size $(DEMO_SIZE)

lint: $(STAMP)-test ## ruff and mypy on src/
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src
	$(BIN)/mypy

test: $(STAMP)-test ## Lint, then run the whole test suite, one worker per core
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

bench: $(STAMP)-bench ## Run the benchmarks against their named peers (writes nothing; see benchmarks/RESULTS.md)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/xlsx.py
	$(BIN)/python benchmarks/json_documents.py
	$(BIN)/python benchmarks/generate.py
	$(BIN)/python benchmarks/linking.py
	$(BIN)/python benchmarks/checks.py
	$(BIN)/python benchmarks/findings_store.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/dashboard.py

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache examples/*/.trueup $(DEMO_DIR)

.PHONY: help install demo lint test bench clean
