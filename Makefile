# One task runner: `make demo` and `make test` are the two commands of the README's quick start.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench clean

venv: $(STAMP)

# Re-installs only when the dependency list or the constraints change (idempotent).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/kasse demo --samples data_samples --out out

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
