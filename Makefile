# The single entry point: CI calls these targets too.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt shared/requirements.txt | sha1sum | cut -c1-12)

.PHONY: install test lint typecheck unit coverage run clean bench bench-smoke

$(STAMP): requirements-dev.txt shared/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit -q

test: lint typecheck
	$(BIN)/pytest -q

coverage: install
	$(BIN)/pytest -q --cov --cov-branch --cov-report=term-missing:skip-covered

# The benchmark (bench/README.md): not part of `make test`; timings vary with machine load.
bench: install
	$(BIN)/python -m bench

bench-smoke: install
	$(BIN)/python -m bench --smoke --out bench/results-smoke.json

run: install
	@echo "make run arrives with the local-run issue (#5); see README."; exit 1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
