# 婺城区“最多跑一次”平台: one Makefile for every way to run, test and measure the platform.
# Everything runs from .venv, made from the machine's Python 3.11 and requirements.lock.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SRC_DIRS := libs/contracts/src libs/messaging/src libs/servicekit/src libs/govcodes/src libs/workcalendar/src \
	services/catalog/src services/intake/src services/backoffice/src services/notify/src \
	services/datashare/src gateway/src infra/src
STAMP := $(VENV)/.installed
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test stack up down lint format bench soak contracts clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip install -q -r requirements.lock
	@printf '%s\n' $(addprefix $(CURDIR)/,$(SRC_DIRS)) > $(VENV)/lib/python3.11/site-packages/zuiduo.pth
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies (no build step)

run: install ## The whole platform in one process (SQLite + in-process bus) on 127.0.0.1:PORT (8000)
	PORT=$(PORT) $(PY) -m gateway.embedded

test: install ## The whole suite against real PostgreSQL and Kafka (started as local processes)
	$(PY) -m pytest

stack: install ## Each service (api + worker) its own process, on local PostgreSQL and Kafka
	$(PY) -m localinfra.stack

up: ## docker compose up (needs a Docker engine)
	docker compose up -d --wait

down: ## docker compose down
	docker compose down

lint: install ## ruff and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs services gateway infra tests bench

format: install ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

contracts: install ## Regenerate the event JSON Schemas and the AsyncAPI document
	$(PY) -m contracts.generate

BENCHES ?= bus gateway catalog_search datashare hall intake backoffice notify whole_platform

bench: install ## Every benchmark, then one table of figures and goals (bench/REPORT.md); BENCHES="bus" for one
	BENCHES="$(BENCHES)" $(PY) bench/report.py

SOAK_S ?= 300

soak: install ## The fault tests (tests/reliability) under a long load: SOAK_S seconds per phase (300)
	RELIABILITY_RATE=20 RELIABILITY_BEFORE_S=30 RELIABILITY_AFTER_S=$(SOAK_S) RELIABILITY_LAG_S=$(SOAK_S) \
	RELIABILITY_OUTAGE_S=30 RELIABILITY_SETTLE_S=600 $(PY) -m pytest tests/reliability -o timeout=0 -p no:cacheprovider

clean: ## Remove the embedded mode's data and caches (keeps .venv and the Kafka jars)
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache
