# lianfang — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR   ?= demo-data
DEMO_SCALE ?= small
DEMO_SEED  ?= 7

.PHONY: install demo data serve test lint bench clean browsers

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
	$(BIN)/lianfang geo import $(DEMO_DIR)/geo/cities.geojson
	$(BIN)/lianfang demo users

serve: install
	$(BIN)/lianfang serve

## make test: lint, then the whole suite (SQLite and, when reachable, PostgreSQL)
test: install lint browsers
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

## browsers: Debian's chromium and CJK fonts for tests/browser (installed when possible; otherwise they skip)
APT_BROWSERS := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk
browsers:
	@if [ -x /usr/bin/chromium ] && { ! command -v dpkg >/dev/null 2>&1 || dpkg -s fonts-noto-cjk >/dev/null 2>&1; }; then \
		echo "browser tests: /usr/bin/chromium"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "browser tests will skip: no /usr/bin/chromium (with fonts-noto-cjk) and no apt-get to install it"; \
	elif [ "$$(id -u)" = 0 ]; then \
		sh -c '$(APT_BROWSERS)' || echo "browser tests will skip: installing chromium fonts-noto-cjk failed"; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		sudo sh -c '$(APT_BROWSERS)' || echo "browser tests will skip: installing chromium fonts-noto-cjk failed"; \
	else \
		echo "browser tests will skip: installing chromium fonts-noto-cjk needs root or sudo (or install them yourself)"; \
	fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf var $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
