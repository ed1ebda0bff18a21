# The README's commands. Each one installs what is missing first (scripts/bootstrap.sh).
.PHONY: demo test bench lint setup clean help

help:
	@echo "make demo   set up and run the whole system (Ctrl-C stops it)"
	@echo "make test   set up and run the test suite against real PostGIS/Redis/Celery"
	@echo "make bench  run the benchmarks (JSON under .o2o/bench/)"
	@echo "make lint   ruff + mypy + import-linter layering contracts"
	@echo "make clean  stop the private stack and delete .o2o/ and .venv/"

setup:
	@scripts/bootstrap.sh

demo: setup
	@.venv/bin/o2o demo

test: setup
	@scripts/test.sh

bench:
	@scripts/bootstrap.sh --bench
	@scripts/bench.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/lint-imports

clean:
	-@[ -x .venv/bin/o2o ] && .venv/bin/o2o stack down
	rm -rf .o2o .venv .mypy_cache .ruff_cache .pytest_cache *.egg-info
