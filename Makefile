# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses). None by
# default: a client's own header must not move its login failures or chats to another address.
TRUSTED_PROXIES ?=
# uvicorn refuses WebSocket frames above this before reading them: the chat's own limit
# (helpline.webchat.options.MAX_FRAME_BYTES; a test keeps the two equal).
WS_MAX_SIZE := 16384
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt | sha1sum | cut -c1-12)

# The suite needs real PostgreSQL and Redis; these are the project machines' defaults.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/helpline
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test lint format install clean screenshots

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# The address the demo is served at; webhook signatures are checked against PUBLIC_BASE_URL, so by
# default it is that address too (make run PORT=8010 works, and so does the simulate_sms line it prints).
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo --served-at http://127.0.0.1:$(PORT)
	@echo "Serving on http://127.0.0.1:$(PORT)/ (health: http://127.0.0.1:$(PORT)/healthz). Stop with Ctrl+C."
	$(PY) -m uvicorn config.asgi:application --host 127.0.0.1 --port $(PORT) --no-access-log \
	  --proxy-headers --forwarded-allow-ips '$(TRUSTED_PROXIES)' --ws-max-size $(WS_MAX_SIZE)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	env -u DATABASE_URL -u REDIS_URL HELPLINE_VAR_DIR=$(CURDIR)/var/test-migrations HELPLINE_INPROCESS_WORKER=false \
	  $(PY) manage.py makemigrations --check --dry-run -v0
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  HELPLINE_VAR_DIR=$(CURDIR)/var/test HELPLINE_INPROCESS_WORKER=false \
	  $(PY) -m pytest $(PYTEST_ARGS)

# Every page of every role at phone and desktop width, into docs/screenshots/ (tests/browser/screenshots.py).
screenshots: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  HELPLINE_VAR_DIR=$(CURDIR)/var/test HELPLINE_INPROCESS_WORKER=false SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots \
	  $(PY) -m pytest tests/browser/screenshots.py -q

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var
