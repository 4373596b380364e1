# The two set-up commands of the README (`make demo`, `make test`) work on a fresh machine:
# each creates .venv and installs opensage into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

.PHONY: install demo test test-slow lint bench clean

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/opensage demo

test: $(STAMP)
	$(BIN)/pytest

# Suites marked slow stay out of `make test`; this runs everything.
test-slow: $(STAMP)
	$(BIN)/pytest -m "slow or not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/training_overhead.py
	$(BIN)/python benchmarks/s3_throughput.py
	$(BIN)/python benchmarks/endpoint_latency.py
	$(BIN)/python benchmarks/batch_transform.py --repeat 1 20 100 --concurrency 2
	$(BIN)/python benchmarks/script_mode.py
	$(BIN)/python benchmarks/load.py --seconds 60
	$(BIN)/python benchmarks/algorithms/pca.py
	$(BIN)/python benchmarks/algorithms/linear_learner.py --higgs-rows 200000
	$(BIN)/python benchmarks/algorithms/knn.py --rows 100000 --columns 64 --queries 1000 --k 10
	$(BIN)/python benchmarks/algorithms/factorization_machines.py --users 2000 --items 1000 --ratings 200000
	$(BIN)/python benchmarks/algorithms/kmeans.py --rows 500000 --columns 20 --k 10
	$(BIN)/python benchmarks/algorithms/rcf_nab.py --rrcf-points 400

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
