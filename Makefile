# Two commands matter: `make demo` and `make test`. Everything else is a step of those.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME ?= .demo

.PHONY: install demo chromium test screenshots bench bench-scale lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes, so `make test` stays quick on a warm tree.
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/paperstand --home $(DEMO_HOME) init
	$(BIN)/paperstand --home $(DEMO_HOME) ingest jsonl demo/arxiv-2026-04.jsonl.gz
	$(BIN)/paperstand --home $(DEMO_HOME) ingest hf-daily demo/hf-daily-2026-03-04.jsonl.gz
	$(BIN)/paperstand --home $(DEMO_HOME) stats
	$(BIN)/paperstand --home $(DEMO_HOME) serve --embed

# The browser tests drive Debian's chromium (never a downloaded browser build).
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# pytest exits 5 when it collected nothing: a failure here, named, never a silent pass.
test: install chromium
	@$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$status

# The README's pictures: the browser tests, saving their screenshots in docs/screenshots.
screenshots: install chromium
	$(BIN)/python -m pytest -q tests/web/test_browser.py tests/web/test_topics_browser.py --screenshots docs/screenshots

# The whole-arXiv scripts (scale*.py, fulltext_scale.py) write and load a 2.73M-paper corpus:
# hours on two cores, so they run on their own (`make bench-scale`), not with the rest.
bench: install
	@for script in benchmarks/[!_]*.py; do case $$script in *scale*) continue;; esac; \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

bench-scale: install
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/scale_vectors.py

lint: install
	$(BIN)/ruff format --check paperstand tests benchmarks
	$(BIN)/ruff check paperstand tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_HOME)
