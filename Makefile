# Two entry points, each doing its own set-up on a fresh machine (Python 3.11+; `make test` also Node 20+):
#   make demo   - install the collector and run the no-AWS-account demo
#   make test   - install everything (Python venv, pinned CDK CLI) and run lint, type checks and all tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NPM_STAMP := node_modules/.npm-ci-done

# jsii (the CDK's Python-to-Node bridge) warns about Node 20 on every start; the CDK CLI sends no telemetry.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: demo test lint setup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[fast,demo]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.demo-installed

# The CDK CLI and the IAM policy evaluator of tests/oracle, exactly as pinned in package-lock.json (the infra
# tests run `cdk synth` with the one, the oracle tests evaluate policies with the other).
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: $(VENV)/.dev-installed $(NPM_STAMP)

demo: $(VENV)/.demo-installed
	$(BIN)/csm-collector demo

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(NPM_STAMP) lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) node_modules cdk.out csm-output csm-demo-output .pytest_cache .mypy_cache .ruff_cache
