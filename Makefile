# The single entry point: CI calls these targets too.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt shared/requirements.txt | sha1sum | cut -c1-12)

.PHONY: install install-sam test lint typecheck unit template coverage run oidc contract docs clean bench bench-smoke browser test-browser

$(STAMP): requirements-dev.txt shared/requirements.txt
	@echo "installing the pinned Python dependencies into $(VENV) (first time: about a minute)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# SAM CLI lives in its own venv: it pins boto3/botocore/cfn-lint versions of its own.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell sha1sum requirements-sam.txt | cut -c1-12)
# Offline and quiet: no telemetry, and a region so that nothing asks for one.
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1

$(SAM_STAMP): requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	rm -f $(SAM_VENV)/.installed-* && touch $@

install-sam: $(SAM_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit -q

# Proof that the template deploys, without an AWS account: cfn-lint (pinned), SAM's own
# validation with its linter, and a real `sam build` of every function and the layer for
# python3.13/arm64 (makefile builds, see packaging/Makefile: no python3.13 needed).
# Every DPoP mode is linted; SAM's own validation runs with the AWS::LanguageExtensions step
# that resolves the mode's conditions in the API's Auth block.
DPOP_MODES := off optional required
template: install install-sam
	for mode in $(DPOP_MODES); do $(BIN)/cfn-lint template.yaml --parameters DpopMode=$$mode || exit 1; done
	$(SAM_ENV) $(SAM) validate --lint --template template.yaml
	$(SAM_ENV) $(SAM) validate --language-extensions --template template.yaml
	$(SAM_ENV) $(SAM) build --template template.yaml --build-dir .aws-sam/build
	$(BIN)/python packaging/smoke_test_build.py .aws-sam/build

test: lint typecheck template oidc contract
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

# Debian's Chromium and its driver, for the browser login test (tests/e2e/test_browser_login.py).
# A browser that downloads its own build (playwright install) cannot be fetched offline; the
# packaged one can. Needs root (or sudo); does nothing when both are installed.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then exit 0; fi; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver

# Only the real-browser login test (it starts its own local run).
test-browser: install oidc browser
	WFCTL_REQUIRE_BROWSER=1 $(BIN)/pytest -q -m browser

# newman, which runs docs/postman/ against the local run in the e2e tests (pinned by
# local/contract/package-lock.json); skipped without npm.
CONTRACT_STAMP := local/contract/node_modules/.package-lock.json
$(CONTRACT_STAMP): local/contract/package.json local/contract/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix local/contract --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the Postman collection test needs Node.js 20+"; \
	fi

contract: $(CONTRACT_STAMP)

# Regenerate docs/openapi.json, docs/postman/ and the reference part of docs/api.md.
docs: install
	$(BIN)/python -m tools.openapi

# The whole API on loopback: PORT (3000), MOTO_PORT (4566), OIDC_PORT (3001) are configurable.
PORT ?= 3000
MOTO_PORT ?= 4566
OIDC_PORT ?= 3001
# off, optional or required: the template's DpopMode for this run (docs/configuration.md).
DPOP_MODE ?= off
run: install oidc
	@echo "make run: dependencies installed; starting (Ctrl-C stops)"
	$(BIN)/python -m local.run --port $(PORT) --moto-port $(MOTO_PORT) --oidc-port $(OIDC_PORT) \
		--dpop-mode $(DPOP_MODE)

# The benchmark (bench/README.md): not part of `make test`; timings vary with machine load.
bench: install
	$(BIN)/python -m bench

bench-smoke: install
	$(BIN)/python -m bench --smoke --out bench/results-smoke.json

clean:
	rm -rf $(VENV) $(SAM_VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
