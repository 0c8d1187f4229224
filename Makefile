# Daybook: `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: install run test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Daybook needs Python 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: install
	$(BIN)/daybook migrate
	@$(BIN)/daybook seed-demo > var/demo-key.txt
	@echo
	@echo "  Daybook API    http://$(HOST):$(PORT)/graphql   (GraphiQL in the browser)"
	@echo "  Health         http://$(HOST):$(PORT)/healthz"
	@echo "  Metrics        http://$(HOST):$(PORT)/metrics"
	@echo "  Dashboard      not built yet (issue 7); use GraphiQL with the key below"
	@echo "  Demo partner key (send as 'Authorization: Bearer <key>'):"
	@echo "    $$(tail -n 1 var/demo-key.txt)"
	@echo
	$(BIN)/daybook serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check backend tests bench
	$(BIN)/ruff format --check backend tests bench

bench: install
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/channels.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/fanout.py

clean:
	rm -rf $(VENV) var .pytest_cache
