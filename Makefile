# lianfang — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR   ?= demo-data
DEMO_SCALE ?= small
DEMO_SEED  ?= 7

.PHONY: install demo data serve test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make demo: venv, install, master key, schema, demo province, ingest, serve on 127.0.0.1:8000
demo: data serve

data: install
	$(BIN)/lianfang keys init
	$(BIN)/lianfang db upgrade
	@if [ ! -f $(DEMO_DIR)/manifest.json ]; then \
		$(BIN)/lianfang demo generate --out $(DEMO_DIR) --scale $(DEMO_SCALE) --seed $(DEMO_SEED); \
	else echo "$(DEMO_DIR) already generated"; fi
	$(BIN)/lianfang ingest $(DEMO_DIR)
	$(BIN)/lianfang demo users

serve: install
	$(BIN)/lianfang serve

## make test: lint, then the whole suite (SQLite and, when reachable, PostgreSQL)
test: install lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf var $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
