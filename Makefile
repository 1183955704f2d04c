# The two commands: `make run` (set up and start with demo data) and `make test` (set up and run the suite).
# Everything lands in .venv; the embedded defaults need no services (see README for DATABASE_URL, REDIS_URL).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install install-dev migrate seed serve worker beat check clean

run: install migrate seed serve

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --no-input

seed: install
	$(BIN)/python manage.py seed_demo

serve: install
	@echo ""
	@echo "  evbackoffice is starting on http://$(HOST):$(PORT)/"
	@echo "    admin:        http://$(HOST):$(PORT)/admin/"
	@echo "    REST API:     http://$(HOST):$(PORT)/api/v1/   (docs: /api/docs/, schema: /api/schema/)"
	@echo "    OCPP:         ws://$(HOST):$(PORT)/ocpp/<identity>"
	@echo ""
	$(BIN)/uvicorn evbackoffice.asgi:application --host $(HOST) --port $(PORT) \
		--ws-ping-interval 30 --ws-ping-timeout 30 --proxy-headers --lifespan on

# Scaled-out helpers (need CELERY_BROKER_URL or REDIS_URL).
worker: install
	$(BIN)/celery -A evbackoffice worker --loglevel INFO

beat: install
	$(BIN)/celery -A evbackoffice beat --loglevel INFO

# Simulated OCPP 1.6 stations charging against the server of `make run` (start it in a second terminal).
STATIONS ?= 5
SPEED ?= 30
.PHONY: simulate
simulate: install
	$(BIN)/python manage.py simulate_fleet --stations $(STATIONS) --url ws://$(HOST):$(PORT)/ocpp/ --speed $(SPEED)

check: install-dev
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) .pytest_cache
