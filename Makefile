# aidbroker — make run: the broker with demo data; make test: the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-dev
RUNSTAMP := $(VENV)/.installed

.PHONY: run test lint bench install install-dev clean test-faults revision

$(RUNSTAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -e .
	touch $@

$(STAMP): $(RUNSTAMP) requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(RUNSTAMP)

install-dev: $(STAMP)

run: $(RUNSTAMP)
	$(PY) -m broker.run

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) -m bench

# Autogenerate a migration after changing models: make revision MSG="add x to y"
revision: $(STAMP)
	$(PY) -c "import sys; from broker import runtime, migrate; runtime.init({'INSTANCE_PATH': '$(CURDIR)/instance/revision'}); migrate.upgrade(); migrate.revision(sys.argv[1])" "$(MSG)"

clean:
	rm -rf $(VENV) instance .pytest_cache tests/artifacts
