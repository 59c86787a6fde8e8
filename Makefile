PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := web/static/vendor/.installed
CATALOGS := $(wildcard */locales/*/LC_MESSAGES/*.po)

.PHONY: demo test fuzz lint format bench assets clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The console's libraries (Leaflet and its cluster and heat plugins, the Tabler UI kit,
# ECharts) come from the npm registry and are served by the app itself (no CDN). axe-core is
# only read by the accessibility tests, from node_modules.
$(VENDOR): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --silent
	rm -rf web/static/vendor && mkdir -p web/static/vendor/tabler web/static/vendor/echarts
	cp -r node_modules/leaflet/dist web/static/vendor/leaflet
	cp -r node_modules/leaflet.markercluster/dist web/static/vendor/markercluster
	cp -r node_modules/leaflet.heat/dist web/static/vendor/heat
	cp node_modules/@tabler/core/dist/css/tabler.min.css web/static/vendor/tabler/
	cp node_modules/@tabler/core/dist/js/tabler.min.js web/static/vendor/tabler/
	cp node_modules/echarts/dist/echarts.min.js web/static/vendor/echarts/
	touch $@

# Compiled gettext catalogs (.mo) are built from the committed .po files.
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

assets: $(STAMP) $(VENDOR) $(CATALOGS:.po=.mo)

demo: assets
	$(BIN)/gridgov demo

test: assets
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# Generated requests against Open311, the console and the webhook: over 10,000, none may be
# answered 5xx (GRIDGOV_FUZZ_EXAMPLES per test; `make test` runs a short fixed-seed profile).
fuzz: assets
	scripts/ensure-postgres.sh
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/web/test_fuzz.py -q -s

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: assets
	scripts/ensure-postgres.sh
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules web/static/vendor gridgov.db* media .pytest_cache
	find . -name '*.mo' -path '*/locales/*' -delete
