# Every target creates the virtual environments it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# `sam build` needs an interpreter matching the template's runtime (python3.12) on PATH;
# pyenv's 3.12 is used when present, else whatever python3.12 is on PATH.
PY312_DIR := $(shell (pyenv prefix 3.12 2>/dev/null || pyenv prefix 3.12.1 2>/dev/null) | head -1)
SAM_PATH := $(if $(PY312_DIR),$(PY312_DIR)/bin:,)$(PATH)
STAGE ?= dev
export SAM_CLI_TELEMETRY := 0

.PHONY: demo test lint bench build deploy policy-check publish-policy constraints clean browser

# requirements/constraints.txt pins every transitive dependency to what was tested
# (refresh it with `make constraints` after changing pyproject.toml).
$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt \
		-e '.[local,dev]'
	touch $@

# SAM CLI pins its own boto3, so it lives in a virtual environment of its own.
$(SAM_VENV)/.installed: requirements/sam.txt requirements/sam-constraints.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check \
		-c requirements/sam-constraints.txt -r requirements/sam.txt
	touch $@

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

lint: $(VENV)/.installed $(SAM_VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	for app in functions/*/app.py; do $(BIN)/mypy "$$app" || exit 1; done
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --region us-east-1
	$(BIN)/aiops policy check policies/*.yaml policies/examples/*.yaml

bench: $(VENV)/.installed
	$(BIN)/python -m bench

build: $(SAM_VENV)/.installed
	PATH="$(SAM_PATH)" $(SAM) build

deploy: build
	$(SAM) deploy --config-env $(STAGE)

policy-check: $(VENV)/.installed
	$(BIN)/aiops policy check $(or $(FILE),policies/default.yaml)

# Checks the policy, then writes it to the SSM parameter the stack reads (PolicyParameterName);
# an invalid policy is never written. make publish-policy [FILE=...] [PARAMETER=...] [REGION=...]
publish-policy: $(VENV)/.installed
	$(BIN)/aiops policy publish $(or $(FILE),policies/default.yaml) \
		--parameter $(or $(PARAMETER),/aiops/$(STAGE)/policy) $(if $(REGION),--region $(REGION))

constraints: $(VENV)/.installed $(SAM_VENV)/.installed
	$(BIN)/pip freeze --exclude-editable | grep -v '^aiops' > requirements/constraints.txt
	$(SAM_VENV)/bin/pip freeze > requirements/sam-constraints.txt

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam
