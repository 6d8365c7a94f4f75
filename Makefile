# Two commands on a fresh machine: `make site` builds the gallery, `make test` runs the tests.
# Both create the virtual environment first when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
CONFIG ?= configs/default.yaml
OUT    ?= site
DATA   ?=

.PHONY: setup site quick test test-fast lint bench serve clean check

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

site: $(STAMP)
	$(BIN)/python -m generator build --config $(CONFIG) --out $(OUT) $(if $(DATA),--data $(DATA))

quick: $(STAMP)
	$(BIN)/python -m generator build --config configs/quick.yaml --out $(OUT)

check: $(STAMP)
	$(BIN)/python -m generator check --config $(CONFIG) $(if $(DATA),--data $(DATA))

test: $(STAMP)
	$(BIN)/python -m pytest

# The quick tier: no whole-site build, no browser, nothing slow (markers in pyproject.toml, tests/conftest.py).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not site and not browser and not slow"

lint: $(STAMP)
	$(BIN)/ruff check generator tests scripts

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

serve:
	@echo "serving $(OUT)/ at http://127.0.0.1:8000/ (Ctrl-C stops)"
	$(PYTHON) -m http.server 8000 --bind 127.0.0.1 --directory $(OUT)

clean:
	rm -rf cache $(OUT) .$(OUT).new-* .$(OUT).old-*
	mkdir -p $(OUT) && touch $(OUT)/.gitkeep
