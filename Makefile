# The two commands of the README: `make run` starts the platform, `make test` tests it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test test-unit test-contract test-integration test-e2e run bench rabbitmq clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

rabbitmq:
	tools/ensure-rabbitmq

test: install rabbitmq
	$(BIN)/python -m pytest tests/unit tests/contract tests/integration tests/e2e

test-unit: install
	$(BIN)/python -m pytest tests/unit

test-contract: install
	$(BIN)/python -m pytest tests/contract

test-integration: install rabbitmq
	$(BIN)/python -m pytest tests/integration

test-e2e: install rabbitmq
	$(BIN)/python -m pytest tests/e2e

run: install
	tools/ensure-rabbitmq --without-management
	mkdir -p var
	$(BIN)/plpbk run

bench: install rabbitmq
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) var
