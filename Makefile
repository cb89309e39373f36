# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run migrate demo test lint pytest bench sandbox check clean messages

# Re-install only when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

# Web on :8000, the Covage sandbox on :8001, one Celery worker and one beat; Ctrl-C stops all.
run: demo
	@echo "Portal: http://127.0.0.1:8000/   Sandbox API: http://127.0.0.1:8001/"
	PYTHONUNBUFFERED=1 $(VENV)/bin/honcho --no-colour -f Procfile start

sandbox: migrate
	$(PY) manage.py runsandbox 127.0.0.1:8001

# mypy checks the types of covage/, orders/, exports/, dashboard/ and notifications/ ([tool.mypy]).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy

pytest: install
	$(VENV)/bin/pytest

test: lint pytest

# Benchmarks (not part of `make test`): a 200 MB export download; 200 sessions confirmed by a real
# worker against the bare client's pooled loop (`confirm:`); the Locust load test of gunicorn
# (`load ...:`); a 1,000-row sheet imported (`bulk import:`); the dashboard over 10,000 lines
# (`dashboard:`). The worker and load benchmarks need PostgreSQL and Redis: set DATABASE_URL
# and REDIS_URL (README, "Tests and benchmarks").
bench: install
	LOG_LEVEL=WARNING $(VENV)/bin/pytest tests/perf -s -p no:logging -o addopts="-p no:cacheprovider"

# After changing marked strings: refresh locale/fr/LC_MESSAGES/django.po, translate, run again.
messages: install
	$(PY) manage.py translations update
	$(PY) manage.py translations compile

check: install
	$(PY) manage.py covage_check

clean:
	rm -rf $(VENV) var
