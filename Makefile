# aidbroker — make run: the broker with demo data; make test: the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-dev
RUNSTAMP := $(VENV)/.installed

.PHONY: run test lint bench install install-dev clean test-faults revision translations

# pip stays quiet (-q) but for errors; each step says what it does, since the first
# install takes a minute or two. Its notices about its own version and running as root
# are noise here.
PIP_QUIET := -q --disable-pip-version-check --root-user-action=ignore
say = @printf '  %s\n' "$(1)"

$(RUNSTAMP): requirements.txt pyproject.toml
	@test -x $(PY) || { printf '  creating the virtual environment in %s…\n' "$(VENV)"; python3 -m venv $(VENV); }
	$(call say,updating pip…)
	@$(PIP) install $(PIP_QUIET) --upgrade pip
	$(call say,installing runtime dependencies (first run: about a minute)…)
	@$(PIP) install $(PIP_QUIET) -r requirements.txt
	$(call say,installing aidbroker itself…)
	@PYTHONWARNINGS=ignore $(PIP) install $(PIP_QUIET) --no-deps -e .
	@touch $@
	$(call say,runtime dependencies installed.)

$(STAMP): $(RUNSTAMP) requirements-dev.txt
	$(call say,installing test and development tools (first run: about a minute)…)
	@$(PIP) install $(PIP_QUIET) -r requirements-dev.txt
	@touch $@
	$(call say,development tools installed.)

install: $(RUNSTAMP)

install-dev: $(STAMP)

run: $(RUNSTAMP)
	@$(PY) -m broker.run

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
	tests/api/test_fuzz_api.py tests/api/test_security_basics.py tests/api/test_access_matrix.py
test-faults: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-25} $(PY) -m pytest $(wildcard $(FAULT_TESTS)) $(PYTEST_ARGS)

# Autogenerate a migration after changing models: make revision MSG="add x to y"
revision: $(STAMP)
	$(PY) -c "import sys; from broker import boot; from broker.platform import migrate; boot.init({'INSTANCE_PATH': '$(CURDIR)/instance/revision'}); migrate.upgrade(); migrate.revision(sys.argv[1])" "$(MSG)"

# The project's catalogue (filed with the portal): extract every string — the portal's
# _()/_l() and the domains' text codes marked N_() — merge into each language, compile the
# .mo files (committed). Translate new strings in the zh_CN .po, then run it again.
PORTAL := broker/portal
translations: $(RUNSTAMP)
	$(VENV)/bin/pybabel extract -F $(PORTAL)/babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output \
		--project aidbroker --version 0.1.0 --copyright-holder "the aidbroker authors" \
		--header-comment "# The portal's messages (make translations)." \
		-o $(PORTAL)/translations/messages.pot broker
	$(VENV)/bin/pybabel update -i $(PORTAL)/translations/messages.pot -d $(PORTAL)/translations \
		--no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d $(PORTAL)/translations --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache tests/artifacts
