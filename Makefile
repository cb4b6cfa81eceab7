# Stadtportal. `make help` lists the targets. The two that matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
export FLASK_APP := wsgi
TEST_DATABASE_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
export TEST_DATABASE_URL
PYTEST_WORKERS ?= auto
# --dist loadscope: a module's tests run on one worker, so a module-scoped fixture (the fuzz stage's form crawl
# takes minutes) is built once, not once per worker. (xdist_group marks would be finer, but xdist 3.8 cannot
# rename node ids under pytest 9, so --dist loadgroup groups nothing.)

.PHONY: help run test install install-dev assets translations messages migrate demo lint test-sqlite test-postgresql test-e2e test-fuzz benchmark clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: install assets translations migrate demo ## Run the portal with demo data on SQLite at http://127.0.0.1:5000
	STADTPORTAL_ENV=development $(BIN)/flask run --host 127.0.0.1 --port 5000

test: install-dev assets translations lint test-sqlite test-postgresql test-e2e ## Lint, then the whole suite on SQLite and PostgreSQL, then the browser tests

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed ## Create the virtualenv and install the pinned packages

install-dev: $(VENV)/.installed-dev ## Also install the test and lint tools

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

assets: node_modules/.package-lock.json ## Install the front-end packages (KERN UX)

translations: install ## Compile the German/English message catalogues
	$(BIN)/pybabel compile --statistics -d translations

messages: install ## Extract new UI texts into translations/ (then translate the empty msgstr in en/messages.po)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --ignore-dirs=".* _* .venv node_modules tests" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

migrate: install ## Apply the migrations to the development database
	STADTPORTAL_ENV=development $(BIN)/flask db upgrade

demo: install ## Load the demo data (idempotent)
	STADTPORTAL_ENV=development $(BIN)/flask demo load

lint: install-dev ## ruff, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: install-dev ## The suite on SQLite
	STADTPORTAL_TEST_DB=sqlite $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope -m "not e2e"

test-postgresql: install-dev ## The suite on PostgreSQL (TEST_DATABASE_URL); required when CI=true
	@if $(PY) -c "import sqlalchemy as sa, os; sa.create_engine(os.environ['TEST_DATABASE_URL']).connect().close()" 2>/dev/null; then \
	  STADTPORTAL_TEST_DB=postgresql $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope -m "not e2e"; \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL at $$TEST_DATABASE_URL is not reachable, and CI=true requires it" >&2; exit 1; \
	else echo "SKIPPED: PostgreSQL not reachable at $$TEST_DATABASE_URL"; fi

test-e2e: install-dev assets ## Browser tests and accessibility scans in headless Chromium (the booking journey on PostgreSQL too); required when CI=true
	@if [ -x "$${CHROMIUM:-/usr/bin/chromium}" ]; then \
	  STADTPORTAL_TEST_DB=sqlite $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope -m e2e && \
	  if $(PY) -c "import sqlalchemy as sa, os; sa.create_engine(os.environ['TEST_DATABASE_URL']).connect().close()" 2>/dev/null; then \
	    STADTPORTAL_TEST_DB=postgresql $(BIN)/pytest -q -n 0 -m e2e tests/e2e/test_appointments_booking.py; \
	  elif [ "$$CI" = "true" ]; then echo "PostgreSQL at $$TEST_DATABASE_URL is not reachable, and CI=true requires it" >&2; exit 1; \
	  else echo "SKIPPED: the booking journey on PostgreSQL (not reachable at $$TEST_DATABASE_URL)"; fi; \
	elif [ "$$CI" = "true" ]; then echo "Chromium not found, and CI=true requires it" >&2; exit 1; \
	else echo "SKIPPED: Chromium not found (apt-get install chromium)"; fi

test-fuzz: install-dev ## Only the fuzz stage (tests/fuzz, also part of test-sqlite/-postgresql); FUZZ_EXAMPLES=200 digs deeper
	STADTPORTAL_TEST_DB=sqlite $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope -m fuzz
	@if $(PY) -c "import sqlalchemy as sa, os; sa.create_engine(os.environ['TEST_DATABASE_URL']).connect().close()" 2>/dev/null; then \
	  STADTPORTAL_TEST_DB=postgresql $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope -m fuzz; \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL at $$TEST_DATABASE_URL is not reachable, and CI=true requires it" >&2; exit 1; \
	else echo "SKIPPED: PostgreSQL not reachable at $$TEST_DATABASE_URL"; fi

benchmark: install-dev ## The benchmarks in benchmarks/ (see its README; needs PostgreSQL and wrk)
	@command -v wrk >/dev/null || { echo "slot_search.py, webhooks.py and release_burst.py need wrk: apt-get install -y wrk" >&2; exit 1; }
	$(PY) benchmarks/request_path.py
	$(PY) benchmarks/audit_overhead.py
	$(PY) benchmarks/audit_verify.py
	$(PY) benchmarks/slot_search.py
	$(PY) benchmarks/booking_race.py
	$(PY) benchmarks/webhooks.py
	$(PY) benchmarks/data_access.py
	$(PY) benchmarks/participation_bench.py
	$(PY) benchmarks/release_burst.py
	$(PY) benchmarks/health_under_load.py
	@if [ "$$(id -u)" = 0 ]; then $(PY) benchmarks/two_hosts.py; \
	else echo "SKIPPED: two_hosts.py makes network namespaces and needs root (and nginx, socat)" >&2; fi

clean: ## Remove the virtualenv, front-end packages and the development database
	rm -rf $(VENV) node_modules instance/stadtportal.sqlite
