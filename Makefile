# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo-sortie

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/certidocs demo $(DEMO)
	@echo ""
	@echo "Démonstration terminée : tout est dans $(DEMO)/ (espace de travail complet)."

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check certidocs tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info $(DEMO)
# make bench BENCH="--candidats 1000 10000" for a network's session (long: the PDF of 36,000 documents)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH)
	$(BIN)/python benchmarks/console_pages.py
	$(BIN)/python benchmarks/bench_bilan.py
