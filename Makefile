# Spyglass: `make test` and `make demo` set up everything they need themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHROMIUM := /usr/bin/chromium
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache
export PIP_DISABLE_PIP_VERSION_CHECK := 1

DEMO_DIR := out/demo
DEMO_HOURS ?= 1.0
SEED ?= 7
DEMO_FEED ?= edge
DEMO_SESSION ?= auto

.PHONY: test demo evaluate bench setup clean

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt requirements-devstack.txt requirements-edge.txt \
		requirements-browser.txt infra/requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11+ required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# --no-compile: Pulumi's azure-native SDK is large; compiling it all up front costs a minute and 200 MB
	$(BIN)/pip install -q --no-compile -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $(STAMP)

# Node packages (Azurite, the real @microsoft/signalr client), exactly as locked
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser)
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(STAMP) $(NODE_STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# The whole main job locally on real components: Azurite, the SignalR service, the Functions host,
# a simulated market feeding the queue in real time. Ctrl-C stops everything.
demo: $(STAMP) $(NODE_STAMP) $(CHROMIUM)
	$(BIN)/python -m devstack.demo --seed $(SEED) --feed $(DEMO_FEED) --session $(DEMO_SESSION)

# Offline: simulate a session with labelled anomalies, score it, measure the detectors, summarise.
evaluate: $(STAMP)
	@mkdir -p $(DEMO_DIR)
	$(BIN)/spyglass simulate --seed $(SEED) --hours $(DEMO_HOURS) -o $(DEMO_DIR)/snapshots.jsonl.gz --labels $(DEMO_DIR)/labels.jsonl
	$(BIN)/spyglass score $(DEMO_DIR)/snapshots.jsonl.gz -o $(DEMO_DIR)/anomalies.jsonl --analytics $(DEMO_DIR)/analytics.jsonl.gz
	$(BIN)/spyglass evaluate $(DEMO_DIR)/labels.jsonl $(DEMO_DIR)/anomalies.jsonl
	$(BIN)/spyglass report $(DEMO_DIR)/anomalies.jsonl --analytics $(DEMO_DIR)/analytics.jsonl.gz --every 10

$(BENCH_STAMP): requirements-bench.txt pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --upgrade pip
	$(BENCH_VENV)/bin/pip install -q -r requirements-bench.txt
	$(BENCH_VENV)/bin/pip install -q --no-deps -e .
	@touch $(BENCH_STAMP)

bench: $(STAMP) $(NODE_STAMP) $(BENCH_STAMP) $(CHROMIUM)
	$(BENCH_VENV)/bin/python bench/bench_iv.py
	$(BIN)/python bench/bench_scoring.py
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_backlog.py
	$(BIN)/python bench/bench_spool.py
	$(BIN)/python bench/bench_collector.py
	$(BIN)/python bench/bench_browser.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) .numba_cache out
