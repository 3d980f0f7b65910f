# Entry points, each doing its own set-up on a fresh machine (Python 3.11+; the last two also Node 20+):
#   make demo          - install the collector and run the no-AWS-account demo
#   make deploy-setup  - what `npx cdk synth`/`deploy` need: the venv with the CDK libraries and the pinned
#                        Node tools (Python and Node only: macOS, Amazon Linux, any Linux)
#   make test          - install everything (Python venv with the proxy's mitmproxy, the pinned CDK CLI, JS SDK v2
#                        models and v3 clients, Debian's Go SDK v1, Go and the Go SDK v2, Chromium and its driver)
#                        and run lint, type checks and all tests; apt-get (Debian/Ubuntu) only for Go and Chromium
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NPM_STAMP := node_modules/.npm-ci-done
# The Go SDK v1's generated code (mapping/generate.py reads its serviceIds and operations), from Debian.
GO_SDK    := /usr/share/gocode/src/github.com/aws/aws-sdk-go/aws/version.go
# The proxy tests' Go client: Go and the AWS SDK for Go v2 (Terraform's AWS provider's SDK), from Debian,
# built offline in GOPATH mode by the tests (tests/proxy_clients/go).
GO_SDK_V2 := /usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/aws/version.go
GO        := /usr/bin/go
# The HTML report's test: Debian's Chromium and its WebDriver (tests/commands/test_report_html.py).
CHROMEDRIVER := /usr/bin/chromedriver
SUDO      := $(if $(filter 0,$(shell id -u)),,sudo)

# jsii (the CDK's Python-to-Node bridge) warns about Node 20 on every start; the CDK CLI sends no telemetry.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

# What `make test` takes (measured on this project's 2-core machine, December 2026): said before it starts.
TEST_COST := make test installs: a Python venv with every extra (about 1.3 GB), the pinned Node tools by npm ci \
	(about 430 MB), and with apt-get (Debian/Ubuntu, sudo) Go, the AWS SDKs for Go and Chromium (about 1.1 GB); \
	then lint, mypy and every test (on two workers): about 7 minutes on an idle 2-core machine, more under load, \
	plus the installs the first time.
APT_NEEDED := make test needs apt-get (Debian/Ubuntu) for the Go clients and Chromium, missing here: \
	install Go, the AWS SDKs for Go v1/v2 and Chromium with chromedriver yourself (paths in the Makefile), \
	or run on Debian/Ubuntu; make demo and make deploy-setup need only Python (and Node)

.PHONY: demo test lint setup deploy-setup test-preflight clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[fast,demo]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.demo-installed $(VENV)/.infra-installed

$(VENV)/.infra-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[infra]'
	touch $@

# The CDK CLI, the IAM policy evaluator of tests/oracle and the AWS SDK for JavaScript v2's models, exactly as
# pinned in package-lock.json (the infra tests run `cdk synth` with the first, the oracle tests evaluate
# policies with the second, mapping/generate.py reads the third).
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Installed only when missing: an existing file is up to date (no prerequisites). Without apt-get: one line.
APT_CHECK = @command -v apt-get >/dev/null || { echo "$(APT_NEEDED)" >&2; exit 1; }

$(GO_SDK):
	$(APT_CHECK)
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends golang-github-aws-aws-sdk-go-dev

$(GO_SDK_V2) $(GO):
	$(APT_CHECK)
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
		golang-go golang-github-aws-aws-sdk-go-v2-dev

$(CHROMEDRIVER):
	$(APT_CHECK)
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium chromium-driver

# Before anything is installed: what it costs, and a missing apt-get said at once (not after the venv).
test-preflight:
	@echo "$(TEST_COST)"
	@if [ ! -e $(GO_SDK) ] || [ ! -e $(GO_SDK_V2) ] || [ ! -e $(GO) ] || [ ! -e $(CHROMEDRIVER) ]; then \
		command -v apt-get >/dev/null || { echo "$(APT_NEEDED)" >&2; exit 1; }; fi

deploy-setup: $(VENV)/.infra-installed $(NPM_STAMP)

setup: $(VENV)/.dev-installed $(NPM_STAMP) $(GO_SDK) $(GO_SDK_V2) $(GO) $(CHROMEDRIVER)

demo: $(VENV)/.demo-installed
	$(BIN)/csm-collector demo

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: test-preflight
	@$(MAKE) --no-print-directory $(NPM_STAMP) $(GO_SDK) $(GO_SDK_V2) $(GO) $(CHROMEDRIVER) lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) node_modules cdk.out csm-output csm-demo-output .pytest_cache .mypy_cache .ruff_cache .cache
