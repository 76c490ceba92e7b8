# aidbroker — make run: the broker with demo data; make test: the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-dev
RUNSTAMP := $(VENV)/.installed

.PHONY: run test lint bench install install-dev clean test-faults revision translations

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

# Only the fault-injection and fuzzing tests (private PostgreSQL/Redis servers, worker
# processes, schemathesis), fuzzing deeper than `make test` does: FUZZ_EXAMPLES=… to change.
FAULT_TESTS := tests/test_faults_postgres.py tests/test_faults_webhook.py tests/test_faults_loop.py \
	tests/test_fuzz_api.py tests/test_security_basics.py tests/test_access_matrix.py
test-faults: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-25} $(PY) -m pytest $(wildcard $(FAULT_TESTS)) $(PYTEST_ARGS)

# Autogenerate a migration after changing models: make revision MSG="add x to y"
revision: $(STAMP)
	$(PY) -c "import sys; from broker import runtime, migrate; runtime.init({'INSTANCE_PATH': '$(CURDIR)/instance/revision'}); migrate.upgrade(); migrate.revision(sys.argv[1])" "$(MSG)"

# The portal's catalogues: extract every string, merge into each language, compile the
# .mo files (committed). Translate new strings in the zh_CN .po, then run it again.
PORTAL := broker/portal
translations: $(RUNSTAMP)
	$(VENV)/bin/pybabel extract -F $(PORTAL)/babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project aidbroker --version 0.1.0 --copyright-holder "the aidbroker authors" \
		--header-comment "# The portal's messages (make translations)." \
		-o $(PORTAL)/translations/messages.pot $(PORTAL)
	$(VENV)/bin/pybabel update -i $(PORTAL)/translations/messages.pot -d $(PORTAL)/translations \
		--no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d $(PORTAL)/translations --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache tests/artifacts
