# The single entry point: CI calls these targets too.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt shared/requirements.txt | sha1sum | cut -c1-12)

.PHONY: install test lint typecheck unit coverage run oidc clean

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

test: lint typecheck oidc
	$(BIN)/pytest -q

coverage: install
	$(BIN)/pytest -q --cov --cov-branch --cov-report=term-missing:skip-covered

# The local OAuth provider's packages (pinned by package-lock.json); skipped without npm.
OIDC_STAMP := local/oidc/node_modules/.package-lock.json
$(OIDC_STAMP): local/oidc/package.json local/oidc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix local/oidc --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the OAuth demo needs Node.js 20+ (everything else runs without it)"; \
	fi

oidc: $(OIDC_STAMP)

# The whole API on loopback: PORT (3000), MOTO_PORT (4566), OIDC_PORT (3001) are configurable.
PORT ?= 3000
run: install oidc
	$(BIN)/python -m local.run --port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
