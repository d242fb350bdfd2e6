# Thrive — the two commands: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask
HOST ?= 127.0.0.1
PORT ?= 5000
PYTHON ?= python3
export FLASK_APP := wsgi:app

.PHONY: run test setup deps vendor db demo scheduler clean bench

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c requirements.lock -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

static/vendor/.copied: node_modules/.package-lock.json scripts/copy_vendor.py
	$(PY) scripts/copy_vendor.py
	touch $@

## Translations (issue 11): extract marked strings, merge them into each catalogue, compile the .mo files.
BABEL := $(VENV)/bin/pybabel
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_pgettext:1c,2
thrive/translations/es/LC_MESSAGES/messages.mo: thrive/translations/es/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BABEL) -q compile -d thrive/translations

.PHONY: translations
translations: deps
	$(BABEL) extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output --project Thrive \
	  --copyright-holder Thrive -o thrive/translations/messages.pot .
	$(BABEL) -q update -i thrive/translations/messages.pot -d thrive/translations --no-fuzzy-matching --width 120
	$(BABEL) -q compile -d thrive/translations

deps: $(VENV)/.installed
vendor: deps static/vendor/.copied
setup: deps vendor thrive/translations/es/LC_MESSAGES/messages.mo

## instance/secret_key: a random SECRET_KEY made once and reused by `make db` / `make run` (never committed)
instance/secret_key:
	@mkdir -p instance
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > $@
	@echo "  Generated a random SECRET_KEY in $@"
SECRET := SECRET_KEY="$$(cat instance/secret_key)"

db: setup instance/secret_key
	$(SECRET) $(FLASK) db upgrade heads
	$(SECRET) $(FLASK) thrive seed
	@echo "Building the demo community on first run (learners, follows, weeks of activity; a progress bar follows)…"
	$(SECRET) $(FLASK) thrive demo --if-empty

## make run: set everything up, then serve http://$(HOST):$(PORT) with the scheduler beside it
run: db
	@echo
	@echo "  Thrive is starting on http://$(HOST):$(PORT)"
	@echo "  Sign in as the demo admin:  username 'admin'  password 'thrive-admin'"
	@echo "  or as a demo learner:       username 'demo'   password 'thrive-demo'"
	@echo
	@export $(SECRET); $(PY) scheduler.py & SCHED=$$!; trap "kill $$SCHED 2>/dev/null" EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

## make test: set everything up, then run the whole suite (SQLite; plus PostgreSQL with THRIVE_TEST_DATABASE_URL)
## (pytest-xdist: one worker per core, each with its own SQLite files and PostgreSQL database)
PYTEST_WORKERS ?= auto
test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) node_modules static/vendor instance .pytest_cache thrive/translations/*/LC_MESSAGES/*.mo
