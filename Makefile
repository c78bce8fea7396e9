# Every target creates the virtual environments it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
# `sam build` needs an interpreter matching the template's runtime (python3.12) on PATH;
# pyenv's 3.12 is used when present, else whatever python3.12 is on PATH.
PY312_DIR := $(shell (pyenv prefix 3.12 2>/dev/null || pyenv prefix 3.12.1 2>/dev/null) | head -1)
SAM_PATH := $(if $(PY312_DIR),$(PY312_DIR)/bin:,)$(PATH)
STAGE ?= dev
export SAM_CLI_TELEMETRY := 0

.PHONY: demo test lint bench build deploy policy-check publish-policy constraints clean browser

# requirements/constraints.txt pins every transitive dependency to what was tested
# (refresh it with `make constraints` after changing pyproject.toml).
# requirements/install.py creates the environment and runs pip, printing progress (pip's own
# output goes to <venv>/pip-install.log).
$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	@$(PYTHON) requirements/install.py $(VENV) "the project's Python environment" \
		-c requirements/constraints.txt -e '.[local,dev]'
	@touch $@

# SAM CLI pins its own boto3, so it lives in a virtual environment of its own.
$(SAM_VENV)/.installed: requirements/sam.txt requirements/sam-constraints.txt
	@$(PYTHON) requirements/install.py $(SAM_VENV) "the SAM CLI" \
		-c requirements/sam-constraints.txt -r requirements/sam.txt
	@touch $@

# checkov pins dozens of libraries of its own (boto3, pydantic among them): a venv of its own too.
$(CHECKOV_VENV)/.installed: requirements/checkov.txt requirements/checkov-constraints.txt
	@$(PYTHON) requirements/install.py $(CHECKOV_VENV) "checkov" \
		-c requirements/checkov-constraints.txt -r requirements/checkov.txt
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/aiops local run --no-api scenarios/demo.yaml

# Every core: the suite's workers are separate processes, each with its own offline cloud.
test: $(VENV)/.installed browser
	$(BIN)/pytest -n auto --durations=15

# Headless Chromium and its driver for the browser tests (tests/e2e/browser), from Debian's
# packages: installed once, quick when already there. Where they cannot be installed (no apt-get,
# not root) one line says so and those tests skip; a failed install fails.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		:; \
	elif ! command -v apt-get >/dev/null; then \
		echo "make browser: no apt-get on this machine: install chromium and chromedriver yourself, or the browser tests (tests/e2e/browser) will be skipped"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "make browser: not root: run 'sudo make browser' to install chromium and chromium-driver, or the browser tests (tests/e2e/browser) will be skipped"; \
	else \
		echo "make browser: installing chromium and chromium-driver (apt-get)"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver >/dev/null && \
		chromium --version && chromedriver --version; \
	fi

lint: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	for app in functions/*/app.py; do $(BIN)/mypy "$$app" || exit 1; done
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --region us-east-1
	@# checkov reads the template as CloudFormation gets it (SAM-expanded: the generated roles,
	@# rules and permissions too; optional resources too, whatever their Condition); each skip is
	@# justified in the resource's Metadata.
	$(BIN)/python -m aiops_local.expand --every-resource template.yaml -o build/template.expanded.json
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		-f build/template.expanded.json
	$(BIN)/aiops policy check policies/*.yaml policies/examples/*.yaml

bench: $(VENV)/.installed
	$(BIN)/python -m bench

build: $(SAM_VENV)/.installed
	PATH="$(SAM_PATH)" $(SAM) build

deploy: build
	$(SAM) deploy --config-env $(STAGE)

policy-check: $(VENV)/.installed
	$(BIN)/aiops policy check $(or $(FILE),policies/default.yaml)

# Checks the policy, then publishes it where the stack reads it; an invalid policy is never
# published. STACK=<stack>: wherever its PolicyStore says (SSM, or an AppConfig deployment it
# waits for: NO_WAIT=1 does not). APPCONFIG=<app>/<env>/<profile> [STRATEGY=<id>]: that
# AppConfig profile. Else the SSM parameter (PolicyParameterName, default /aiops/<stage>/policy).
# make publish-policy [FILE=...] [STACK=... | APPCONFIG=... | PARAMETER=...] [REGION=...]
publish-policy: $(VENV)/.installed
	$(BIN)/aiops policy publish $(or $(FILE),policies/default.yaml) \
		$(if $(STACK),--stack $(STACK),$(if $(APPCONFIG),--appconfig $(APPCONFIG) \
		$(if $(STRATEGY),--strategy $(STRATEGY)),--parameter $(or $(PARAMETER),/aiops/$(STAGE)/policy))) \
		$(if $(NO_WAIT),--no-wait) $(if $(REGION),--region $(REGION))

constraints: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed
	$(BIN)/pip freeze --exclude-editable | grep -v '^aiops' > requirements/constraints.txt
	$(SAM_VENV)/bin/pip freeze > requirements/sam-constraints.txt
	$(CHECKOV_VENV)/bin/pip freeze > requirements/checkov-constraints.txt

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam
