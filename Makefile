# Gantry — `make run` to try it, `make test` to check it.
# Both install the locked set (requirements-lock.txt, with hashes) into .venv first;
# `make lock` refreshes the lock on purpose, within the ranges in pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements-lock.txt
STAMP := $(VENV)/.installed
PORT ?= 8080
PIP_TOOLS := pip-tools==7.7.0

.PHONY: run test bench lint install lock lock-upgrade clean

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/gantry validate catalog
	$(BIN)/gantry build --catalog catalog --out dist
	$(BIN)/python -m runner.demo --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks

lint: $(STAMP)
	$(BIN)/ruff check generator runner tests

# `make lock` brings the lock in line with pyproject.toml (runtime, test extra and build
# requirements), keeping every pin it can; `make lock-upgrade` moves every package to the
# newest version the ranges allow. Both write each file's hash.
LOCK_TOOL := $(VENV)-lock/bin/pip-compile
LOCK_ARGS := --quiet --generate-hashes --allow-unsafe --all-build-deps --extra test \
	--strip-extras --no-emit-index-url --no-emit-find-links --output-file $(LOCK)

$(LOCK_TOOL):
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet $(PIP_TOOLS)

lock: $(LOCK_TOOL)
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOL) $(LOCK_ARGS) pyproject.toml

lock-upgrade: $(LOCK_TOOL)
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOL) $(LOCK_ARGS) --upgrade pyproject.toml

clean:
	rm -rf dist .gantry .pytest_cache
