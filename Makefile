# storydiff: two commands from a fresh clone. `make demo` then `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-fast docs setup lint typecheck bench eval browser-deps clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU build of torch first: anything else pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,multilingual,cluster,bench]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/storydiff compare corpora/kupyansk -o out --format html,pdf,json

test: $(STAMP)
	$(VENV)/bin/ruff check compare tests benchmarks
	$(PY) -m mypy compare
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $(abspath $(VENV))/site
	$(PY) -m pytest

# The quick loop: lint, types and every test that needs no embedding model, browser or long run.
test-fast: $(STAMP)
	$(VENV)/bin/ruff check compare tests benchmarks
	$(PY) -m mypy compare
	$(PY) -m pytest -m "not model and not browser and not slow"

docs: $(STAMP)
	$(VENV)/bin/mkdocs serve

lint: $(STAMP)
	$(VENV)/bin/ruff check compare tests benchmarks

typecheck: $(STAMP)
	$(PY) -m mypy compare

eval: $(STAMP)
	$(VENV)/bin/storydiff eval ../shared/eval/ecbplus_topics_dev.jsonl
	$(VENV)/bin/storydiff eval ../shared/eval/ecbplus_topics_full_dev.jsonl

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf out .pytest_cache .storydiff-cache
