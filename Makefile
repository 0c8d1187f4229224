# Daybook: `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
# The dashboard: its own venv (see frontend/requirements.txt), Bun from npm (Reflex's
# Node path wants Node >= 22; this machine has 20), production build on one port.
DASH_VENV   ?= .venv-dashboard
DASH_PORT   ?= 3000
BUN_DIR     := .tools/bun
BUN_VERSION := 1.4.4
BUN         := $(BUN_DIR)/node_modules/.bin/bun

.PHONY: install run test lint bench clean browser

install: $(VENV)/.installed $(DASH_VENV)/.installed $(BUN)

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Daybook needs Python 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(DASH_VENV)/.installed: frontend/requirements.txt
	$(PYTHON) -m venv $(DASH_VENV)
	$(DASH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DASH_VENV)/bin/python -m pip install --quiet -r frontend/requirements.txt
	@touch $@

$(BUN):
	@command -v npm >/dev/null || { echo "the dashboard needs npm (Node.js) to install Bun"; exit 1; }
	npm install --prefix $(BUN_DIR) --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)
	@test -x $(BUN) && $(BUN) --version >/dev/null

# What the tests need from Debian: Chromium for the browser tests (never a browser
# download of Playwright's own) and DejaVu Sans, the Unicode font of invoice PDFs.
DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
browser:
	@command -v chromium >/dev/null && test -f $(DEJAVU) || { \
		echo "installing Debian's chromium and fonts-dejavu-core for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }
	@command -v chromium >/dev/null || { echo "chromium is missing and could not be installed"; exit 1; }
	@test -f $(DEJAVU) || { echo "$(DEJAVU) is missing and could not be installed"; exit 1; }

# Stored secrets are encrypted (backend/secret_box.py): with DAYBOOK_SECRET_KEYS unset,
# `daybook migrate` creates the development key var/secret.key (mode 0600) the first time.
run: install
	$(BIN)/daybook migrate
	@# The demo keys are secrets too: readable by their owner only.
	@(umask 077 && rm -f var/demo-key.txt && $(BIN)/daybook seed-demo > var/demo-key.txt)
	@echo
	@echo "  Daybook API    http://$(HOST):$(PORT)/graphql   (GraphiQL in the browser)"
	@echo "  Health         http://$(HOST):$(PORT)/healthz"
	@echo "  Metrics        http://$(HOST):$(PORT)/metrics"
	@echo "  Dashboard      http://$(HOST):$(DASH_PORT)/   (sign in with the key below; first start builds it)"
	@echo "  Demo keys (send as 'Authorization: Bearer <key>'; the partner key is the one to start with):"
	@sed -e 's/^/    /' var/demo-key.txt
	@echo
	@# The API in the background, the dashboard in the foreground; Ctrl-C stops both.
	@$(BIN)/daybook serve --host $(HOST) --port $(PORT) & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	$(BIN)/daybook dashboard --host $(HOST) --port $(DASH_PORT) --api-url http://$(HOST):$(PORT); \
	kill $$api 2>/dev/null

test: install browser
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check backend tests bench frontend
	$(BIN)/ruff format --check backend tests bench frontend

# Benchmarks print figures (and the targets beside them); run one at a time on a quiet box.
bench: install
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install -y wrk"; exit 1; }
	@command -v pgbench >/dev/null || echo "pgbench missing (postgresql-client): bench/ledger.py skips its pgbench part"
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/channels.py
	$(BIN)/python bench/invoices.py

clean:
	rm -rf $(VENV) $(DASH_VENV) .tools .web var .pytest_cache
