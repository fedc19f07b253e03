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
	$(BIN)/certidocs init $(DEMO)
	cd $(DEMO) && for f in referentiels/*.yaml; do ../$(BIN)/certidocs referentiel verifier $$f || exit 1; done
	cd $(DEMO) && ../$(BIN)/certidocs referentiel afficher CPECOM
	@echo ""
	@echo "Démonstration terminée. Espace créé : $(DEMO)/ (réglages : $(DEMO)/certidocs.toml,"
	@echo "référentiels : $(DEMO)/referentiels/)."

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check certidocs tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info $(DEMO)
