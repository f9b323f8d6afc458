# One entry point for people and CI. `make run` sets everything up and serves;
# `make test` is the exact command CI runs (see .ci/run).

VENV   ?= .venv
PY     := $(VENV)/bin/python
CLI    := $(VENV)/bin/policyqa
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup tools browser translator ocr build run ask test test-fast lint format eval bench clean

setup: $(STAMP)

# torch is installed first, pinned to the CPU build on this machine's disk;
# left to the resolver, sentence-transformers would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Test tools from the npm registry, pinned: the MCP Inspector (the protocol's
# reference client) drives `policyqa mcp` in tests/test_mcp.py.
INSPECTOR := .tools/inspector/node_modules/.bin/mcp-inspector
tools: $(INSPECTOR) browser translator ocr

# The browser tests drive Debian's Chromium (Playwright's own browser download
# cannot work offline). Installed once, as root, as CI runs.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

# Apertium's Spanish -> English pair, from Debian: English words for a Spanish
# question's answer (qa/translate.py). Installed once, as root, as CI runs;
# without it the server still runs and Spanish answers use multilingual-e5 alone.
translator:
	@test -f /usr/share/apertium/modes/spa-eng.mode || (apt-get update -qq && apt-get install -y -qq apertium apertium-en-es)

# Tesseract OCR with English and Spanish, from Debian: reads scanned PDFs (no
# text layer) when a report is added (corpus/extract/ocr.py). Installed once,
# as root, as CI runs; without it a scanned PDF is refused with an error saying so.
ocr:
	@command -v tesseract >/dev/null 2>&1 && test -f /usr/share/tesseract-ocr/5/tessdata/spa.traineddata || (apt-get update -qq && apt-get install -y -qq tesseract-ocr tesseract-ocr-eng tesseract-ocr-spa)

$(INSPECTOR):
	npm install --silent --no-audit --no-fund --prefix .tools/inspector @modelcontextprotocol/inspector@2.12.0

build: setup
	$(CLI) build

# The server listens at once and builds the index itself, in a child process, if it is missing or
# stale (/readyz and the page show its progress): no blocking `build` first.
HOST ?= 127.0.0.1
PORT ?= 8000
run: setup
	$(CLI) serve --host $(HOST) --port $(PORT)

ask: build
	$(CLI) ask "$(Q)"

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint tools
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not e2e"

eval: build
	$(CLI) eval

bench: build
	$(CLI) bench

clean:
	rm -rf data eval/out test-output .cache .pytest_cache .ruff_cache
