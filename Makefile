# Two commands matter: `make run` (the product on 127.0.0.1) and `make test` (every check CI runs).
# Both build their own environments from the project's files.

# The Lambda runtime is python3.13: prefer it (pyenv's, or one on PATH), fall back to python3 (3.11+).
PYTHON_RUNTIME ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13 2>/dev/null) $(shell command -v python3))
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test test-fast lint typecheck validate build pytest bench chaos cost clean

run: $(VENV)/.installed
	$(PY) -m localrun

test: lint typecheck validate build test-fast pytest

# The fast tier: domain rules against in-memory fakes of the ports (no moto, no sandboxes, no sockets), in seconds.
test-fast: $(VENV)/.installed
	$(PY) -m pytest tests/fast -q

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON_RUNTIME) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $@

# aws-sam-cli pins boto3 exactly, so it lives in its own environment.
$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PYTHON_RUNTIME) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy layers/shared/tiktok_channel functions sandboxes localrun reliability bench tests

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

# `sam build` looks for the runtime's python3.13 on PATH.
build: $(SAM_VENV)/.installed
	PATH="$(dir $(PYTHON_RUNTIME)):$$PATH" $(SAM) build
	@# The runtime provides boto3; a copy in the layer would shadow it.
	test ! -e .aws-sam/build/SharedLayer/python/botocore && test ! -e .aws-sam/build/SharedLayer/python/boto3
	test -f .aws-sam/build/SharedLayer/python/tiktok_channel/__init__.py
	test -f .aws-sam/build/SharedLayer/python/tiktok_channel/web/page.html  # the merchant page ships in the layer

# The browser tests (tests/browser) drive Debian's Chromium: Playwright's own browser download cannot work here.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The slow tier through the real adapters, moto and the sandboxes: two processes (it waits on sandboxes and
# moto more than it computes); the browser tests run on their own afterwards, since their timings suffer when
# they share the two cores.
pytest: $(VENV)/.installed $(CHROMIUM)
	$(PY) -m pytest -n 2 --ignore=tests/browser --ignore=tests/fast
	$(PY) -m pytest tests/browser

bench: $(VENV)/.installed
	$(PY) -m bench
	$(PY) -m bench.webhook
	$(PY) -m bench.imports

# What a fleet costs: a 100-product store measured through the local stack (~20 s), priced with
# bench/prices.json; writes bench/results/cost.md and cost.json.
cost: $(VENV)/.installed
	$(PY) -m bench.cost

# The reliability run: 10 stores, 700 changes and 90 orders, their webhooks shuffled and duplicated, faults on.
chaos: $(VENV)/.installed
	$(PY) -m reliability

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache
