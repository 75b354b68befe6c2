# Gantry — `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080

.PHONY: run test bench lint install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

clean:
	rm -rf dist .gantry .pytest_cache
